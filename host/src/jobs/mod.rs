//! Durable persona jobs: a SQLite store and a pool of tokio workers that
//! take jobs by priority and hand them to a [`Runner`].

mod model;
mod owner;
mod store;

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use model::{Job, ListFilter, NewJob, Outcome, Priority, Progress, Status, now_secs};
pub use owner::Owner;
use store::Store;
pub use store::{Recovery, Stats, StoreError};
use tokio::sync::Notify;

/// How often an idle worker looks for jobs queued by another process.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// How often a server copies the job log back into the database (see
/// [`store::Store::take_over_checkpoints`]).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// A job interrupted by this many restarts is failed instead of re-queued.
pub const MAX_ATTEMPTS: i64 = 2;
/// How often a server looks whether a job it runs was cancelled by another
/// process (the CLI, another server): a cancel stops the component within this.
const WATCH_EVERY: Duration = Duration::from_millis(250);
/// The heartbeat of running jobs is renewed every this many watches (1 s).
const BEAT_EVERY: u64 = 4;
/// Jobs of servers that are gone are taken back every this many watches (15 s).
const RECOVER_EVERY: u64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no job with id '{0}'; list_persona_jobs shows the recent ones")]
    NotFound(String),
    #[error("job worker stopped unexpectedly: {0}")]
    Join(String),
}

/// Executes one job. Implemented by the plugin runtime.
pub trait Runner: Send + Sync + 'static {
    fn run(&self, job: Job, ctl: JobControl) -> Pin<Box<dyn Future<Output = Outcome> + Send>>;
}

/// What a running job may do to its own record, and how it learns it was cancelled.
#[derive(Clone)]
pub struct JobControl {
    pub id: String,
    pub persona: String,
    cancelled: Arc<AtomicBool>,
    store: Arc<Store>,
    started: Instant,
    /// The runtime the workers were started on. A job runs on the
    /// lower-priority background runtime, but its writes to the store go
    /// through here: a thread that holds the store's one connection must
    /// not be one the scheduler puts behind the others, or the `invoke_*`
    /// waiting for that connection waits with it.
    writes: tokio::runtime::Handle,
}

impl JobControl {
    async fn write<T: Send + 'static>(&self, f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static) {
        let store = self.store.clone();
        match self.writes.spawn_blocking(move || f(&store)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(job = %self.id, "could not record progress: {e}"),
            Err(e) => tracing::warn!(job = %self.id, "could not record progress: {e}"),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancelled.clone()
    }

    pub async fn progress(&self, progress: Progress) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let eta = (progress.percent > 0 && progress.percent < 100)
            .then(|| (elapsed * f64::from(100 - progress.percent) / f64::from(progress.percent)).ceil() as i64);
        let id = self.id.clone();
        self.write(move |store| store.update_progress(&id, &progress, eta)).await;
    }

    pub async fn tool_call(&self) {
        let id = self.id.clone();
        self.write(move |store| store.add_tool_call(&id)).await;
    }

    pub async fn tokens(&self, input: i64, output: i64) {
        let id = self.id.clone();
        self.write(move |store| store.add_tokens(&id, input, output)).await;
    }
}

/// The job service shared by the MCP server, the CLI and the workers.
#[derive(Clone)]
pub struct Jobs {
    store: Arc<Store>,
    wake: Arc<Notify>,
    running: Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>,
    /// Unix seconds of the next scheduled cleanup (0 = none scheduled).
    next_cleanup: Arc<std::sync::atomic::AtomicU64>,
    /// Set by [`Jobs::drain`]: workers take no new job.
    stopping: Arc<AtomicBool>,
    /// Bumped each time a worker of this process stores a completed job
    /// (MCP sessions tell clients their resource list changed).
    completed: Arc<tokio::sync::watch::Sender<u64>>,
}

/// Automatic deletion of old finished jobs.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Finished jobs older than this many days are deleted.
    pub days: f64,
    /// Time between cleanups.
    pub every: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self { days: 30.0, every: Duration::from_secs(6 * 3600) }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, JobsError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| JobsError::Join(e.to_string()))?.map_err(JobsError::from)
}

impl Jobs {
    /// Opens the job database. Does not start workers or recover.
    pub fn open(path: &Path) -> Result<Self, JobsError> {
        Ok(Self {
            store: Arc::new(Store::open(path)?),
            wake: Arc::new(Notify::new()),
            running: Arc::default(),
            next_cleanup: Arc::default(),
            stopping: Arc::default(),
            completed: Arc::new(tokio::sync::watch::channel(0).0),
        })
    }

    /// Follows the jobs this process's workers complete.
    pub fn completions(&self) -> tokio::sync::watch::Receiver<u64> {
        self.completed.subscribe()
    }

    /// Deletes old finished jobs now and then every `retention.every`.
    pub fn start_retention(&self, retention: Retention) {
        let schedule = move |jobs: &Jobs| {
            let next = now_secs() + retention.every.as_secs_f64();
            jobs.next_cleanup.store(next as u64, Ordering::Relaxed);
        };
        schedule(self);
        let jobs = self.clone();
        tokio::spawn(async move {
            loop {
                match jobs.prune_older_than(retention.days).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, days = retention.days, "retention: deleted old finished jobs"),
                    Err(e) => tracing::warn!("retention cleanup failed: {e}"),
                }
                tokio::time::sleep(retention.every).await;
                schedule(&jobs);
            }
        });
    }

    /// When the next automatic cleanup runs (unix seconds), if scheduled.
    pub fn next_cleanup(&self) -> Option<f64> {
        match self.next_cleanup.load(Ordering::Relaxed) {
            0 => None,
            t => Some(t as f64),
        }
    }

    pub fn db_path(&self) -> &Path {
        self.store.path()
    }

    /// Takes back jobs left running by servers that are gone (re-queued, or
    /// failed after [`MAX_ATTEMPTS`]); jobs a live server runs are left to it.
    /// Call before starting workers; the workers then repeat it now and then.
    pub async fn recover(&self) -> Result<Recovery, JobsError> {
        let store = self.store.clone();
        blocking(move || store.recover(MAX_ATTEMPTS, Owner::current())).await
    }

    pub async fn submit(&self, job: NewJob) -> Result<Job, JobsError> {
        let store = self.store.clone();
        let id = uuid::Uuid::new_v4().to_string();
        let job = blocking(move || store.insert(&id, &job)).await?;
        self.wake.notify_one();
        Ok(job)
    }

    /// Queues a job and says how long one of its persona is expected to
    /// take (see [`Jobs::estimate`]), in one trip to the database: what
    /// `invoke_*` answers with. Done on the calling thread when that cannot
    /// wait on anything (see [`Store::insert_estimated_now`]), on a
    /// blocking thread otherwise.
    pub async fn submit_estimated(&self, job: NewJob) -> Result<(Job, u64), JobsError> {
        let id = uuid::Uuid::new_v4().to_string();
        let (job, mean) = match self.store.insert_estimated_now(&id, &job) {
            Some(done) => done?,
            None => {
                let store = self.store.clone();
                blocking(move || store.insert_estimated(&id, &job)).await?
            }
        };
        self.wake.notify_one();
        Ok((job, seconds_expected(mean)))
    }

    pub async fn get(&self, id: &str) -> Result<Job, JobsError> {
        let store = self.store.clone();
        let key = id.to_string();
        blocking(move || store.get(&key)).await?.ok_or_else(|| JobsError::NotFound(id.to_string()))
    }

    pub async fn list(&self, filter: ListFilter) -> Result<(Vec<Job>, i64), JobsError> {
        let store = self.store.clone();
        blocking(move || store.list(&filter)).await
    }

    /// Seconds a job of this persona is expected to take.
    pub async fn estimate(&self, persona: &str) -> u64 {
        let store = self.store.clone();
        let p = persona.to_string();
        seconds_expected(blocking(move || store.mean_duration(&p)).await.ok().flatten())
    }

    /// Cancels a pending or running job; a running component is interrupted
    /// at its next epoch tick, or, when another process runs it, once that
    /// process's watch sees the record (within [`WATCH_EVERY`]). Returns the
    /// job and whether it changed.
    pub async fn cancel(&self, id: &str) -> Result<(Job, bool), JobsError> {
        if let Some(flag) = self.running.lock().unwrap_or_else(|p| p.into_inner()).get(id) {
            flag.store(true, Ordering::Relaxed);
        }
        let store = self.store.clone();
        let key = id.to_string();
        blocking(move || store.cancel(&key)).await?.ok_or_else(|| JobsError::NotFound(id.to_string()))
    }

    pub async fn stats(&self) -> Result<Stats, JobsError> {
        let store = self.store.clone();
        blocking(move || store.stats()).await
    }

    pub async fn prune_older_than(&self, days: f64) -> Result<usize, JobsError> {
        let store = self.store.clone();
        let before = now_secs() - days * 86_400.0;
        blocking(move || store.prune(before)).await
    }

    /// Cancels whatever runs here, then deletes every record.
    pub async fn reset(&self) -> Result<usize, JobsError> {
        for flag in self.running.lock().unwrap_or_else(|p| p.into_inner()).values() {
            flag.store(true, Ordering::Relaxed);
        }
        let store = self.store.clone();
        blocking(move || store.reset()).await
    }

    pub async fn integrity_check(&self) -> Result<String, JobsError> {
        let store = self.store.clone();
        blocking(move || store.integrity_check()).await
    }

    /// Starts `count` workers that run jobs until the process ends, the
    /// watch over the jobs they run, and the log's checkpoints (see
    /// [`store::Store::take_over_checkpoints`]).
    pub fn start_workers(&self, count: usize, runner: Arc<dyn Runner>) {
        self.start_checkpoints();
        for n in 0..count.max(1) {
            let jobs = self.clone();
            let runner = runner.clone();
            tokio::spawn(async move { jobs.worker(n, runner).await });
        }
        let jobs = self.clone();
        tokio::spawn(async move { jobs.watch().await });
    }

    /// A thread that copies the job log back every [`CHECKPOINT_EVERY`] for
    /// as long as this store is open; commits no longer do it themselves.
    fn start_checkpoints(&self) {
        let store = Arc::downgrade(&self.store);
        let spawned = std::thread::Builder::new().name("agent-os-jobs-log".into()).spawn(move || {
            let checkpointer = match store.upgrade().map(|s| s.take_over_checkpoints()) {
                Some(Ok(c)) => c,
                Some(Err(e)) => return tracing::warn!("job log checkpoints stay with SQLite: {e}"),
                None => return,
            };
            loop {
                std::thread::sleep(CHECKPOINT_EVERY);
                if let Err(e) = checkpointer.run() {
                    tracing::debug!("job log checkpoint skipped: {e}");
                }
                if store.strong_count() == 0 {
                    return;
                }
            }
        });
        if let Err(e) = spawned {
            tracing::warn!("no job log thread ({e}); checkpoints stay with SQLite");
        }
    }

    /// Every [`WATCH_EVERY`]: stops the jobs running here whose record says
    /// they should not be (cancelled by another process, deleted, taken
    /// over), renews their heartbeat, and now and then takes back the jobs of
    /// servers that are gone.
    async fn watch(self) {
        let mut every = tokio::time::interval(WATCH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for tick in 1u64.. {
            every.tick().await;
            let ids: Vec<String> = self.running.lock().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
            if !ids.is_empty() {
                let store = self.store.clone();
                let refresh = tick % BEAT_EVERY == 0;
                match blocking(move || store.beat(Owner::current(), &ids, refresh)).await {
                    Ok(lost) => {
                        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
                        for id in lost {
                            if let Some(flag) = running.get(&id)
                                && !flag.swap(true, Ordering::Relaxed)
                            {
                                tracing::info!(job = %id, "job cancelled from elsewhere; stopping it");
                            }
                        }
                    }
                    Err(e) => tracing::debug!("could not check the running jobs: {e}"),
                }
            }
            if tick % RECOVER_EVERY == 0 && !self.stopping.load(Ordering::SeqCst) {
                match self.recover().await {
                    Ok(r) if r.requeued + r.failed > 0 => {
                        tracing::info!(
                            requeued = r.requeued,
                            failed = r.failed,
                            "took back jobs of a server that is gone"
                        );
                        self.wake.notify_waiters();
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!("recovery skipped: {e}"),
                }
            }
        }
    }

    /// Stops the workers taking new jobs and waits, at most `within`, for
    /// the running ones to finish. Returns how many were still running;
    /// those (and the queued ones) run again at the next start.
    pub async fn drain(&self, within: Duration) -> usize {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
        let deadline = Instant::now() + within;
        loop {
            let left = self.running.lock().unwrap_or_else(|p| p.into_inner()).len();
            if left == 0 || Instant::now() >= deadline {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn worker(self, n: usize, runner: Arc<dyn Runner>) {
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            let store = self.store.clone();
            let claimed = blocking(move || store.claim_next(Owner::current())).await;
            let job = match claimed {
                Ok(Some(job)) => job,
                Ok(None) => {
                    let _ = tokio::time::timeout(IDLE_POLL, self.wake.notified()).await;
                    continue;
                }
                Err(e) => {
                    tracing::error!(worker = n, "could not take a job: {e}");
                    tokio::time::sleep(IDLE_POLL).await;
                    continue;
                }
            };
            self.run_one(job, &*runner).await;
        }
    }

    async fn run_one(&self, job: Job, runner: &dyn Runner) {
        let flag = Arc::new(AtomicBool::new(false));
        self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(job.id.clone(), flag.clone());
        let ctl = JobControl {
            id: job.id.clone(),
            persona: job.persona.clone(),
            cancelled: flag,
            store: self.store.clone(),
            started: Instant::now(),
            writes: tokio::runtime::Handle::current(),
        };
        let id = job.id.clone();
        tracing::info!(job = %id, persona = %job.persona, "job started");
        // The runner is spawned so a panic in it fails the job instead of the
        // worker, on the background runtime so requests are answered first.
        let outcome = match crate::background::spawn(runner.run(job, ctl)).await {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Failed { error: format!("the persona runtime crashed: {e}"), partial: None },
        };
        let store = self.store.clone();
        let key = id.clone();
        let finished = outcome.clone();
        match blocking(move || store.finish(&key, &finished, Some(Owner::current()))).await {
            Ok(true) => {
                tracing::info!(job = %id, "job finished: {}", outcome_name(&outcome));
                if matches!(outcome, Outcome::Complete { .. }) {
                    self.completed.send_modify(|n| *n += 1);
                }
            }
            Ok(false) => tracing::info!(job = %id, "job was already finished (cancelled)"),
            Err(e) => tracing::error!(job = %id, "could not record the outcome: {e}"),
        }
        // Only once the outcome is stored, so `drain` never ends before it.
        self.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }
}

/// Whole seconds from a mean duration; 30 when no job of the persona finished yet.
fn seconds_expected(mean: Option<f64>) -> u64 {
    match mean {
        Some(mean) => mean.ceil().max(1.0) as u64,
        None => 30,
    }
}

fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Complete { .. } => "complete",
        Outcome::Failed { .. } => "failed",
        Outcome::Cancelled { .. } => "cancelled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(persona: &str) -> NewJob {
        NewJob {
            persona: persona.into(),
            task: "review".into(),
            context: None,
            feedback: None,
            priority: Priority::Normal,
        }
    }

    /// `invoke_*`'s one trip: the job is stored and the estimate is the
    /// persona's history (30 s before it has any).
    #[tokio::test]
    async fn a_submitted_job_comes_with_its_personas_estimate() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = Jobs::open(&dir.path().join("jobs.db")).unwrap();
        let (first, estimate) = jobs.submit_estimated(job("qa")).await.unwrap();
        assert_eq!(estimate, 30);
        assert_eq!(jobs.get(&first.id).await.unwrap().status, Status::Pending);
        let claimed = jobs.store.claim_next(Owner::current()).unwrap().unwrap();
        assert_eq!(claimed.id, first.id);
        // Started 4.2 s ago: the mean rounds up to 5.
        let other = rusqlite::Connection::open(jobs.db_path()).unwrap();
        other.execute("UPDATE jobs SET started_at = ?1", [now_secs() - 4.2]).unwrap();
        let done = Outcome::Complete { result: "ok".into() };
        assert!(jobs.store.finish(&first.id, &done, Some(Owner::current())).unwrap());
        let (second, estimate) = jobs.submit_estimated(job("qa")).await.unwrap();
        assert_eq!(estimate, 5);
        assert_eq!(jobs.estimate("qa").await, 5);
        assert_ne!(second.id, first.id);
        assert_eq!(jobs.submit_estimated(job("sre")).await.unwrap().1, 30, "another persona has no history");
    }

    /// While another process writes, `invoke_*` waits for it on a blocking
    /// thread instead of failing or answering without a job.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_submitted_while_another_process_writes_waits_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = Jobs::open(&dir.path().join("jobs.db")).unwrap();
        let other = rusqlite::Connection::open(jobs.db_path()).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            other.execute_batch("COMMIT").unwrap();
        });
        let t = Instant::now();
        let (queued, estimate) = jobs.submit_estimated(job("qa")).await.unwrap();
        assert!(t.elapsed() >= Duration::from_millis(250), "did not wait for the other writer: {:?}", t.elapsed());
        writer.join().unwrap();
        assert_eq!(estimate, 30);
        assert_eq!(jobs.get(&queued.id).await.unwrap().status, Status::Pending);
    }
}
