//! SQLite persistence for persona jobs. Every method is blocking; the
//! [`super::Jobs`] service calls them from `spawn_blocking`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, named_params, params};

use super::model::{Job, ListFilter, NewJob, Outcome, Priority, Progress, Status, now_secs};
use super::owner::Owner;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("job database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("job database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("job database {path} is damaged ({detail}); move it aside or run `agent-os jobs reset` to start a new one")]
    Corrupt { path: PathBuf, detail: String },
}

const SCHEMA_VERSION: i64 = 2;

/// How long a statement waits for another process's write to end.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema changes after version 1, each applied once, in order, to a
/// database older than its version; existing rows keep working.
const MIGRATIONS: &[(i64, &str)] = &[(
    2,
    // Who runs a job (see `owner.rs`) and when it last said it is alive.
    "ALTER TABLE jobs ADD COLUMN owner_pid INTEGER;
     ALTER TABLE jobs ADD COLUMN owner_start TEXT;
     ALTER TABLE jobs ADD COLUMN owner_host TEXT;
     ALTER TABLE jobs ADD COLUMN heartbeat_at REAL;",
)];

/// Indexes that speed reads up without changing what any version stores:
/// made on every open when missing (no version bump, so an older agent-os
/// still opens the database). `invoke_*`'s estimate reads a persona's last
/// 20 completed jobs: with `jobs_persona_done` that is 20 rows, not a sort
/// of the persona's whole history.
const INDEXES: &str = "CREATE INDEX IF NOT EXISTS jobs_persona_done ON jobs (persona, status, completed_at);";

/// Matches rows owned by the owner in the named parameters :pid, :start, :host.
const OWNED_BY: &str = "owner_pid = :pid AND owner_start = :start AND owner_host = :host";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY NOT NULL,
    persona TEXT NOT NULL,
    task TEXT NOT NULL,
    context TEXT,
    feedback TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending','running','complete','failed','cancelled')),
    priority INTEGER NOT NULL,
    progress_phase TEXT,
    progress_percent INTEGER NOT NULL DEFAULT 0,
    progress_message TEXT,
    progress_eta_seconds INTEGER,
    result TEXT,
    error TEXT,
    partial_result TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    completed_at REAL,
    tool_calls_made INTEGER NOT NULL DEFAULT 0,
    tokens_input INTEGER,
    tokens_output INTEGER,
    duration_seconds REAL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, priority DESC);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE INDEX IF NOT EXISTS jobs_persona ON jobs (persona, status);
";

const COLUMNS: &str = "id, persona, task, context, feedback, status, priority, progress_phase, \
    progress_percent, progress_message, progress_eta_seconds, result, error, partial_result, \
    created_at, started_at, completed_at, tool_calls_made, tokens_input, tokens_output, \
    duration_seconds, attempts";

/// What restart recovery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    pub requeued: usize,
    pub failed: usize,
}

/// Counts for `persona_database_stats`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub size_bytes: u64,
    pub total: i64,
    pub by_status: Vec<(String, i64)>,
    pub oldest_created_at: Option<f64>,
}

pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// Copies the write-ahead log back into the database for a server, on a
/// connection of its own (see [`Store::take_over_checkpoints`]).
pub struct Checkpointer {
    conn: Connection,
}

impl Checkpointer {
    /// Copies the frames the log holds without waiting for readers or
    /// writers (a no-op, without a sync, when nothing new was written).
    /// Returns the frames in the log and how many of them are now copied.
    pub fn run(&self) -> Result<(i64, i64), StoreError> {
        Ok(self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(1)?, r.get(2)?)))?)
    }
}

impl Store {
    /// Opens (creating if needed) the job database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let corrupt = |e: rusqlite::Error| StoreError::Corrupt { path: path.to_path_buf(), detail: e.to_string() };
        conn.pragma_update(None, "journal_mode", "WAL").map_err(corrupt)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(corrupt)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(corrupt)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                detail: format!("schema version {version} is newer than this agent-os understands ({SCHEMA_VERSION})"),
            });
        }
        if version < SCHEMA_VERSION {
            migrate(&conn).map_err(corrupt)?;
        }
        // Best effort: without it reads are slower, not wrong (a read-only
        // database still opens).
        if let Err(e) = conn.execute_batch(INDEXES) {
            tracing::debug!("job database {}: index not made: {e}", path.display());
        }
        Ok(Self { conn: Mutex::new(conn), path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops commits on this store's connection from checkpointing the log
    /// themselves and returns the connection that should do it instead.
    /// SQLite's default has the commit that crosses 1,000 log pages copy
    /// them back and sync both files (4-6 ms measured here) while it holds
    /// the store: under a burst of jobs that was the `invoke_*` that waited.
    /// A server runs the returned [`Checkpointer`] off the request path; a
    /// short-lived CLI process keeps SQLite's default.
    pub fn take_over_checkpoints(&self) -> Result<Checkpointer, StoreError> {
        let open_err = |source| StoreError::Open { path: self.path.clone(), source };
        let conn = Connection::open(&self.path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Per connection: the checkpoint's syncs follow this connection's setting.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn().pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(Checkpointer { conn })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable: SQLite
        // rolls back any open statement, so recover from poisoning.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn insert(&self, id: &str, job: &NewJob) -> Result<Job, StoreError> {
        insert_on(&self.conn(), id, job)
    }

    /// Queues a job and reads how long its persona's recent jobs took
    /// ([`Store::mean_duration`]; `None` without history or when it cannot
    /// be read), waiting for the connection and for another process's write.
    pub fn insert_estimated(&self, id: &str, job: &NewJob) -> Result<(Job, Option<f64>), StoreError> {
        insert_estimated_on(&self.conn(), id, job)
    }

    /// [`Store::insert_estimated`] on the calling thread, or says it cannot
    /// without waiting: `None` when another thread of this process holds
    /// the connection or another process holds the database's write lock
    /// (nothing was written then). `invoke_*` answers this way: handing the
    /// insert (0.05-0.15 ms) to a blocking thread and back costs two
    /// wake-ups of threads on other cores, which on a two-core machine were
    /// most of its slowest answers (release bench p99 2.3 ms with the hand-off,
    /// 1.2 ms without). The write is one append to the log, no sync.
    pub fn insert_estimated_now(&self, id: &str, job: &NewJob) -> Option<Result<(Job, Option<f64>), StoreError>> {
        let conn = match self.conn.try_lock() {
            Ok(conn) => conn,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        conn.busy_timeout(Duration::ZERO).ok()?;
        let out = insert_estimated_on(&conn, id, job);
        if let Err(e) = conn.busy_timeout(BUSY_TIMEOUT) {
            tracing::warn!("job database: could not restore the busy timeout: {e}");
        }
        match out {
            Err(StoreError::Sql(rusqlite::Error::SqliteFailure(e, _)))
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
            {
                None
            }
            out => Some(out),
        }
    }

    pub fn get(&self, id: &str) -> Result<Option<Job>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"))?;
        Ok(stmt.query_row([id], row_to_job).optional()?)
    }

    /// Atomically takes the next pending job (highest priority, oldest first)
    /// and marks it running, owned by `owner`.
    pub fn claim_next(&self, owner: &Owner) -> Result<Option<Job>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "UPDATE jobs SET status = 'running', started_at = :now, heartbeat_at = :now, attempts = attempts + 1,
                 progress_message = 'Starting', owner_pid = :pid, owner_start = :start, owner_host = :host
             WHERE id = (SELECT id FROM jobs WHERE status = 'pending'
                         ORDER BY priority DESC, rowid ASC LIMIT 1)
             RETURNING {COLUMNS}"
        ))?;
        let now = now_secs();
        Ok(stmt
            .query_row(
                named_params! {":now": now, ":pid": owner.pid, ":start": owner.start, ":host": owner.host},
                row_to_job,
            )
            .optional()?)
    }

    /// Of `ids`, the jobs that are no longer running as `owner`'s (cancelled
    /// by another process, deleted, or taken over). With `refresh`, also
    /// renews the heartbeat of every job `owner` runs.
    pub fn beat(&self, owner: &Owner, ids: &[String], refresh: bool) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        if refresh {
            conn.prepare_cached(&format!(
                "UPDATE jobs SET heartbeat_at = :now WHERE status = 'running' AND {OWNED_BY}"
            ))?
            .execute(named_params! {
                ":now": now_secs(), ":pid": owner.pid, ":start": owner.start, ":host": owner.host
            })?;
        }
        let mut stmt =
            conn.prepare_cached(&format!("SELECT 1 FROM jobs WHERE id = :id AND status = 'running' AND {OWNED_BY}"))?;
        let mut lost = Vec::new();
        for id in ids {
            let mine = stmt
                .query_row(
                    named_params! {":id": id, ":pid": owner.pid, ":start": owner.start, ":host": owner.host},
                    |_| Ok(()),
                )
                .optional()?;
            if mine.is_none() {
                lost.push(id.clone());
            }
        }
        Ok(lost)
    }

    pub fn update_progress(&self, id: &str, progress: &Progress, eta_seconds: Option<i64>) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.prepare_cached(
            "UPDATE jobs SET progress_phase = ?2, progress_percent = ?3, progress_message = ?4,
                 progress_eta_seconds = ?5
             WHERE id = ?1 AND status = 'running'",
        )?
        .execute(params![id, progress.phase, progress.percent, progress.message, eta_seconds])?;
        Ok(())
    }

    pub fn add_tool_call(&self, id: &str) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.prepare_cached("UPDATE jobs SET tool_calls_made = tool_calls_made + 1 WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    pub fn add_tokens(&self, id: &str, input: i64, output: i64) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.prepare_cached(
            "UPDATE jobs SET tokens_input = COALESCE(tokens_input, 0) + ?2,
                 tokens_output = COALESCE(tokens_output, 0) + ?3 WHERE id = ?1",
        )?
        .execute(params![id, input, output])?;
        Ok(())
    }

    /// Records how a running job ended. A job that is no longer running
    /// (cancelled meanwhile), or with `owner` no longer run by that owner,
    /// keeps its state; returns whether it changed.
    pub fn finish(&self, id: &str, outcome: &Outcome, owner: Option<&Owner>) -> Result<bool, StoreError> {
        let now = now_secs();
        let (status, result, error, partial) = match outcome {
            Outcome::Complete { result } => (Status::Complete, Some(result.as_str()), None, None),
            Outcome::Failed { error, partial } => (Status::Failed, None, Some(error.as_str()), partial.as_deref()),
            Outcome::Cancelled { partial } => (Status::Cancelled, None, None, partial.as_deref()),
        };
        let conn = self.conn();
        let changed = conn
            .prepare_cached(
                "UPDATE jobs SET status = ?2, result = ?3, error = ?4, partial_result = ?5,
                     completed_at = ?6, duration_seconds = ?6 - COALESCE(started_at, created_at),
                     progress_percent = CASE WHEN ?2 = 'complete' THEN 100 ELSE progress_percent END,
                     progress_eta_seconds = NULL,
                     progress_message = CASE ?2 WHEN 'complete' THEN 'Done' WHEN 'failed' THEN 'Failed' ELSE 'Cancelled' END
                 WHERE id = ?1 AND status IN ('pending', 'running')
                   AND (?7 IS NULL OR (owner_pid = ?7 AND owner_start = ?8 AND owner_host = ?9))",
            )?
            .execute(params![
                id,
                status.as_str(),
                result,
                error,
                partial,
                now,
                owner.map(|o| o.pid),
                owner.map(|o| o.start.as_str()),
                owner.map(|o| o.host.as_str())
            ])?;
        Ok(changed == 1)
    }

    /// Marks a pending or running job cancelled, whoever runs it. Returns the
    /// job after the change, or `None` when no such job exists.
    pub fn cancel(&self, id: &str) -> Result<Option<(Job, bool)>, StoreError> {
        let changed = self.finish(id, &Outcome::Cancelled { partial: None }, None)?;
        Ok(self.get(id)?.map(|j| (j, changed)))
    }

    pub fn list(&self, filter: &ListFilter) -> Result<(Vec<Job>, i64), StoreError> {
        let conn = self.conn();
        let status = filter.status.map(|s| s.as_str());
        let persona = filter.persona.as_deref();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM jobs
             WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR persona = ?2)
             ORDER BY created_at DESC, rowid DESC LIMIT ?3"
        ))?;
        let jobs =
            stmt.query_map(params![status, persona, filter.limit], row_to_job)?.collect::<Result<Vec<_>, _>>()?;
        let total: i64 = conn.prepare_cached("SELECT COUNT(*) FROM jobs")?.query_row([], |r| r.get(0))?;
        Ok((jobs, total))
    }

    /// Mean duration of this persona's last completed jobs, for estimates.
    pub fn mean_duration(&self, persona: &str) -> Result<Option<f64>, StoreError> {
        mean_duration_on(&self.conn(), persona)
    }

    /// Recovery: jobs left running by a server that is gone (see
    /// [`Owner::is_gone`]; rows from before owners were recorded count as
    /// gone) are re-queued once, then failed with a reason. Jobs another live
    /// server runs are left alone.
    pub fn recover(&self, max_attempts: i64, me: &Owner) -> Result<Recovery, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now = now_secs();
        let orphans: Vec<(String, i64, Option<Owner>, Option<f64>)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, attempts, owner_pid, owner_start, owner_host, heartbeat_at FROM jobs WHERE status = 'running'",
            )?;
            let rows = stmt.query_map([], |r| {
                let owner = match (r.get::<_, Option<u32>>(2)?, r.get::<_, Option<String>>(3)?, r.get(4)?) {
                    (Some(pid), Some(start), Some(host)) => Some(Owner { pid, start, host }),
                    _ => None,
                };
                Ok((r.get(0)?, r.get(1)?, owner, r.get(5)?))
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let mut done = Recovery::default();
        for (id, attempts, owner, heartbeat) in orphans {
            if owner.as_ref().is_some_and(|o| !o.is_gone(heartbeat, now, me)) {
                continue;
            }
            if attempts < max_attempts {
                done.requeued += tx.execute(
                    "UPDATE jobs SET status = 'pending', progress_message = 'Re-queued after a server restart',
                         progress_percent = 0, progress_phase = 'initializing',
                         owner_pid = NULL, owner_start = NULL, owner_host = NULL, heartbeat_at = NULL
                     WHERE id = ?1 AND status = 'running'",
                    [&id],
                )?;
            } else {
                done.failed += tx.execute(
                    "UPDATE jobs SET status = 'failed', completed_at = ?2,
                         duration_seconds = ?2 - COALESCE(started_at, created_at),
                         error = 'interrupted by a server restart ' || attempts || ' time(s); not retried again',
                         progress_message = 'Failed'
                     WHERE id = ?1 AND status = 'running'",
                    params![id, now],
                )?;
            }
        }
        tx.commit()?;
        Ok(done)
    }

    pub fn stats(&self) -> Result<Stats, StoreError> {
        let conn = self.conn();
        let mut by_status = Vec::new();
        let mut stmt = conn.prepare_cached("SELECT status, COUNT(*) FROM jobs GROUP BY status")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            by_status.push(row?);
        }
        let total = by_status.iter().map(|(_, n)| n).sum();
        let oldest: Option<f64> =
            conn.prepare_cached("SELECT MIN(created_at) FROM jobs")?.query_row([], |r| r.get(0))?;
        let page_count: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
        let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
        let wal = std::fs::metadata(self.path.with_extension("db-wal")).map(|m| m.len()).unwrap_or(0);
        Ok(Stats { size_bytes: (page_count * page_size) as u64 + wal, total, by_status, oldest_created_at: oldest })
    }

    /// Deletes finished jobs created before `before` (unix seconds).
    pub fn prune(&self, before: f64) -> Result<usize, StoreError> {
        let conn = self.conn();
        Ok(conn.execute(
            "DELETE FROM jobs WHERE status IN ('complete','failed','cancelled') AND created_at < ?1",
            [before],
        )?)
    }

    /// Deletes every job record.
    pub fn reset(&self) -> Result<usize, StoreError> {
        let conn = self.conn();
        let n = conn.execute("DELETE FROM jobs", [])?;
        conn.execute_batch("VACUUM")?;
        Ok(n)
    }

    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let conn = self.conn();
        Ok(conn.pragma_query_value(None, "integrity_check", |r| r.get(0))?)
    }
}

/// Brings a database of an older schema version to [`SCHEMA_VERSION`]. In
/// one write transaction, so two servers starting at once migrate once.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let run = || -> rusqlite::Result<()> {
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version >= SCHEMA_VERSION {
            return Ok(());
        }
        conn.execute_batch(SCHEMA)?;
        // A new database gets the version 1 table and then every change.
        for (to, sql) in MIGRATIONS {
            if version < *to {
                conn.execute_batch(sql)?;
            }
        }
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
    };
    match run() {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn row_to_job(r: &Row<'_>) -> rusqlite::Result<Job> {
    let status: String = r.get(5)?;
    Ok(Job {
        id: r.get(0)?,
        persona: r.get(1)?,
        task: r.get(2)?,
        context: r.get(3)?,
        feedback: r.get(4)?,
        status: status.parse().unwrap_or(Status::Failed),
        priority: Priority::from_rank(r.get(6)?),
        progress_phase: r.get(7)?,
        progress_percent: r.get::<_, i64>(8)?.clamp(0, 100) as u8,
        progress_message: r.get(9)?,
        progress_eta_seconds: r.get(10)?,
        result: r.get(11)?,
        error: r.get(12)?,
        partial_result: r.get(13)?,
        created_at: r.get(14)?,
        started_at: r.get(15)?,
        completed_at: r.get(16)?,
        tool_calls_made: r.get(17)?,
        tokens_input: r.get(18)?,
        tokens_output: r.get(19)?,
        duration_seconds: r.get(20)?,
        attempts: r.get(21)?,
    })
}

fn insert_on(conn: &Connection, id: &str, job: &NewJob) -> Result<Job, StoreError> {
    let now = now_secs();
    conn.prepare_cached(
        "INSERT INTO jobs (id, persona, task, context, feedback, status, priority, created_at, progress_phase, progress_message)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, 'initializing', 'Queued')",
    )?
    .execute(params![
        id,
        job.persona,
        job.task,
        job.context,
        job.feedback,
        job.priority.rank(),
        now
    ])?;
    Ok(Job {
        id: id.to_string(),
        persona: job.persona.clone(),
        task: job.task.clone(),
        context: job.context.clone(),
        feedback: job.feedback.clone(),
        status: Status::Pending,
        priority: job.priority,
        progress_phase: Some("initializing".into()),
        progress_percent: 0,
        progress_message: Some("Queued".into()),
        progress_eta_seconds: None,
        result: None,
        error: None,
        partial_result: None,
        created_at: now,
        started_at: None,
        completed_at: None,
        tool_calls_made: 0,
        tokens_input: None,
        tokens_output: None,
        duration_seconds: None,
        attempts: 0,
    })
}

fn insert_estimated_on(conn: &Connection, id: &str, job: &NewJob) -> Result<(Job, Option<f64>), StoreError> {
    let job = insert_on(conn, id, job)?;
    let mean = mean_duration_on(conn, &job.persona).ok().flatten();
    Ok((job, mean))
}

fn mean_duration_on(conn: &Connection, persona: &str) -> Result<Option<f64>, StoreError> {
    let mean: Option<f64> = conn
        .prepare_cached(
            "SELECT AVG(duration_seconds) FROM (SELECT duration_seconds FROM jobs
             WHERE persona = ?1 AND status = 'complete' AND duration_seconds IS NOT NULL
             ORDER BY completed_at DESC LIMIT 20)",
        )?
        .query_row([persona], |r| r.get(0))?;
    Ok(mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_job(persona: &str, priority: Priority) -> NewJob {
        NewJob { persona: persona.into(), task: "review".into(), context: None, feedback: None, priority }
    }

    fn me() -> Owner {
        Owner::current().clone()
    }

    #[test]
    fn claims_by_priority_then_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.db")).unwrap();
        store.insert("a", &new_job("qa", Priority::Low)).unwrap();
        store.insert("b", &new_job("qa", Priority::Normal)).unwrap();
        store.insert("c", &new_job("qa", Priority::High)).unwrap();
        store.insert("d", &new_job("qa", Priority::Normal)).unwrap();
        let order: Vec<String> = std::iter::from_fn(|| store.claim_next(&me()).unwrap().map(|j| j.id)).collect();
        assert_eq!(order, ["c", "b", "d", "a"]);
    }

    /// An owner on this machine whose process has exited.
    fn dead_owner() -> Owner {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        Owner { pid, ..me() }
    }

    #[test]
    fn recovery_requeues_once_then_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.db");
        let store = Store::open(&path).unwrap();
        store.insert("a", &new_job("qa", Priority::Normal)).unwrap();
        let dead = dead_owner();
        assert_eq!(store.claim_next(&dead).unwrap().unwrap().attempts, 1);
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.recover(2, &me()).unwrap(), Recovery { requeued: 1, failed: 0 });
        assert_eq!(store.claim_next(&dead).unwrap().unwrap().attempts, 2);
        assert_eq!(store.recover(2, &me()).unwrap(), Recovery { requeued: 0, failed: 1 });
        let job = store.get("a").unwrap().unwrap();
        assert_eq!(job.status, Status::Failed);
        assert!(job.error.unwrap().contains("server restart"));
    }

    #[test]
    fn recovery_leaves_jobs_of_a_live_server_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.db")).unwrap();
        // Running here (a live process on this machine), on a live other
        // machine, and on another machine that stopped beating.
        let elsewhere = Owner { pid: 1, start: "boot:pid[9]:7".into(), host: "other-machine".into() };
        for id in ["here", "there", "silent"] {
            store.insert(id, &new_job("qa", Priority::Normal)).unwrap();
        }
        store.claim_next(&me()).unwrap();
        store.claim_next(&elsewhere).unwrap();
        store.claim_next(&elsewhere).unwrap();
        store.conn().execute("UPDATE jobs SET heartbeat_at = heartbeat_at - 3600 WHERE id = 'silent'", []).unwrap();
        let rec = store.recover(2, &me()).unwrap();
        assert_eq!(rec, Recovery { requeued: 1, failed: 0 });
        assert_eq!(store.get("here").unwrap().unwrap().status, Status::Running);
        assert_eq!(store.get("there").unwrap().unwrap().status, Status::Running);
        assert_eq!(store.get("silent").unwrap().unwrap().status, Status::Pending);
    }

    #[test]
    fn beat_reports_jobs_cancelled_elsewhere_and_refreshes_the_heartbeat() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.db")).unwrap();
        store.insert("a", &new_job("qa", Priority::Normal)).unwrap();
        store.insert("b", &new_job("qa", Priority::Normal)).unwrap();
        store.claim_next(&me()).unwrap();
        store.claim_next(&me()).unwrap();
        store.conn().execute("UPDATE jobs SET heartbeat_at = 5", []).unwrap();
        let ids = vec!["a".to_string(), "b".to_string(), "gone".to_string()];
        assert_eq!(store.beat(&me(), &ids, true).unwrap(), ["gone"]);
        let beat: f64 = store.conn().query_row("SELECT MIN(heartbeat_at) FROM jobs", [], |r| r.get(0)).unwrap();
        assert!(beat > 5.0);
        store.cancel("b").unwrap();
        assert_eq!(store.beat(&me(), &ids, false).unwrap(), ["b", "gone"]);
    }

    #[test]
    fn finish_does_not_overwrite_a_cancelled_job_or_another_owners() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.db")).unwrap();
        store.insert("a", &new_job("qa", Priority::Normal)).unwrap();
        store.claim_next(&me()).unwrap();
        let (job, changed) = store.cancel("a").unwrap().unwrap();
        assert!(changed);
        assert_eq!(job.status, Status::Cancelled);
        let changed = store.finish("a", &Outcome::Complete { result: "late".into() }, Some(&me())).unwrap();
        assert!(!changed);
        assert_eq!(store.get("a").unwrap().unwrap().status, Status::Cancelled);
        // Taken over by another server: the first owner's late result is dropped.
        store.insert("b", &new_job("qa", Priority::Normal)).unwrap();
        let other = Owner { pid: 1, start: "x:y:1".into(), host: "other".into() };
        store.claim_next(&other).unwrap();
        assert!(!store.finish("b", &Outcome::Complete { result: "late".into() }, Some(&me())).unwrap());
        assert!(store.finish("b", &Outcome::Complete { result: "ok".into() }, Some(&other)).unwrap());
    }

    #[test]
    fn a_version_1_database_is_migrated_and_keeps_its_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute(
                "INSERT INTO jobs (id, persona, task, status, priority, created_at, attempts)
                 VALUES ('old', 'qa', 'review', 'running', 1, 1.0, 1)",
                [],
            )
            .unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let version: i64 = store.conn().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        // A row from before owners were recorded was left by an old server: recovered.
        assert_eq!(store.recover(2, &me()).unwrap(), Recovery { requeued: 1, failed: 0 });
        assert_eq!(store.claim_next(&me()).unwrap().unwrap().id, "old");
        drop(store);
        // Opening again does not migrate twice.
        Store::open(&path).unwrap();
    }

    /// The estimate reads 20 rows through `jobs_persona_done`, also on a
    /// database made by an older version without that index.
    #[test]
    fn the_estimate_reads_the_newest_jobs_through_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.db");
        Store::open(&path).unwrap().conn().execute_batch("DROP INDEX jobs_persona_done").unwrap();
        let store = Store::open(&path).unwrap();
        let conn = store.conn();
        let plan: Vec<String> = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT duration_seconds FROM jobs
                 WHERE persona = 'qa' AND status = 'complete' AND duration_seconds IS NOT NULL
                 ORDER BY completed_at DESC LIMIT 20",
            )
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("; ");
        assert!(plan.contains("jobs_persona_done") && !plan.contains("TEMP B-TREE"), "{plan}");
    }

    /// Once a server takes over, no commit copies the log back (it grows
    /// past SQLite's 1,000-page default untouched) until the checkpointer
    /// runs, which copies all of it; without the take-over a commit does.
    #[test]
    fn a_taken_over_store_leaves_checkpoints_to_its_checkpointer() {
        let fill = |store: &Store| {
            let mut job = new_job("qa", Priority::Normal);
            job.context = Some("x".repeat(3000));
            for i in 0..1500 {
                store.insert(&format!("job-{i}"), &job).unwrap();
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.db")).unwrap();
        let checkpointer = store.take_over_checkpoints().unwrap();
        fill(&store);
        let (frames, copied) = checkpointer.run().unwrap();
        assert!(frames > 1000, "the log was checkpointed by a commit: {frames} frames");
        assert_eq!(copied, frames);
        assert_eq!(checkpointer.run().unwrap(), (frames, frames), "nothing new: nothing to copy");

        let other = tempfile::tempdir().unwrap();
        let store = Store::open(&other.path().join("jobs.db")).unwrap();
        fill(&store);
        let (frames, _) =
            Store::open(&other.path().join("jobs.db")).unwrap().take_over_checkpoints().unwrap().run().unwrap();
        assert!(frames < 1000, "SQLite's own checkpoints keep the log short: {frames} frames");
    }

    fn busy_timeout_ms(store: &Store) -> i64 {
        store.conn().pragma_query_value(None, "busy_timeout", |r| r.get(0)).unwrap()
    }

    #[test]
    fn insert_now_writes_when_nothing_waits_and_declines_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.db");
        let store = Store::open(&path).unwrap();
        let (job, mean) = store.insert_estimated_now("a", &new_job("qa", Priority::Normal)).unwrap().unwrap();
        assert_eq!((job.id.as_str(), job.status, mean), ("a", Status::Pending, None));
        assert_eq!(store.get("a").unwrap().unwrap().persona, "qa");

        // Another thread of this process holds the connection.
        let held = store.conn();
        let declined = std::thread::scope(|s| {
            s.spawn(|| store.insert_estimated_now("b", &new_job("qa", Priority::Normal)).is_none()).join().unwrap()
        });
        drop(held);
        assert!(declined, "answered while the connection was held");

        // Another process holds the write lock: declines at once rather
        // than waiting out the busy timeout, writes nothing, and leaves the
        // timeout as it was for the blocking path.
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let t = std::time::Instant::now();
        assert!(store.insert_estimated_now("c", &new_job("qa", Priority::Normal)).is_none());
        assert!(t.elapsed() < Duration::from_secs(1), "waited {:?}", t.elapsed());
        assert_eq!(busy_timeout_ms(&store), 5_000);
        other.execute_batch("COMMIT").unwrap();
        assert!(store.get("c").unwrap().is_none());
        assert!(store.get("b").unwrap().is_none());

        // The estimate is the one the blocking path gives.
        store.insert("d", &new_job("qa", Priority::Normal)).unwrap();
        store.claim_next(&me()).unwrap();
        store.claim_next(&me()).unwrap();
        store.conn().execute("UPDATE jobs SET started_at = created_at - 6", []).unwrap();
        store.finish("a", &Outcome::Complete { result: "ok".into() }, None).unwrap();
        store.finish("d", &Outcome::Complete { result: "ok".into() }, None).unwrap();
        let (_, mean) = store.insert_estimated_now("e", &new_job("qa", Priority::Normal)).unwrap().unwrap();
        assert_eq!(mean, store.mean_duration("qa").unwrap());
        assert!(mean.unwrap() >= 6.0, "{mean:?}");
    }

    #[test]
    fn unparsable_file_is_reported_as_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.db");
        std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
        let err = Store::open(&path).err().expect("garbage must not open");
        assert!(err.to_string().contains("jobs.db"), "{err}");
    }
}
