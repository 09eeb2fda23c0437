//! Work nobody is waiting on (persona jobs, embedding standards in bulk)
//! runs on a runtime of its own whose threads have a lower scheduling
//! priority, so the answers an agent waits for (`invoke_*`'s job id, a
//! search, a job's status) get a core as soon as they are ready instead of
//! queueing behind a review on a two-core machine. A job is not slower when
//! the machine is otherwise idle: priority only matters under contention.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

/// How much nicer than the process the background threads are (0 is
/// normal, 19 the lowest). Most of the gain is the separate runtime (a
/// component running on a request thread delays every request queued
/// behind it); the niceness gives requests the larger share when the cores
/// stay busy, while background work still gets a quarter of a core against
/// a busy neighbour (a build, a test run) rather than starving.
const NICENESS: i32 = 5;

static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();
/// The niceness background threads take: the process's own (read when the
/// runtime is made) plus [`NICENESS`]. A thread that starts another
/// inherits its value, so each one sets it absolutely rather than adding.
static TARGET: OnceLock<i32> = OnceLock::new();

fn handle() -> Option<Handle> {
    RUNTIME
        .get_or_init(|| {
            TARGET.get_or_init(|| (current_niceness() + NICENESS).min(19));
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2);
            match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("agent-os-background")
                .on_thread_start(lower_priority)
                .enable_all()
                .build()
            {
                Ok(rt) => Some(rt),
                Err(e) => {
                    tracing::warn!("no background runtime ({e}); background work shares the request threads");
                    None
                }
            }
        })
        .as_ref()
        .map(|rt| rt.handle().clone())
}

/// Runs `f` on the background runtime (on the caller's runtime when there
/// is none). The runtime lives as long as the process.
pub fn spawn<F>(f: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match handle() {
        Some(h) => h.spawn(f),
        None => tokio::spawn(f),
    }
}

/// Runs blocking `f` on a background thread.
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match handle() {
        Some(h) => h.spawn_blocking(f),
        None => tokio::task::spawn_blocking(f),
    }
}

/// Lowers the calling thread's priority (Linux: nice is per thread).
/// Raising it back would need privileges, so only threads that live for
/// background work call this.
#[cfg(target_os = "linux")]
fn lower_priority() {
    let Some(&target) = TARGET.get() else { return };
    if current_niceness() >= target {
        return;
    }
    // SAFETY: gettid and setpriority only read their arguments.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, target) };
    if rc != 0 {
        tracing::debug!("could not lower a background thread's priority: {}", std::io::Error::last_os_error());
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(not(target_os = "linux"))]
fn current_niceness() -> i32 {
    0
}

/// The nice value of the calling thread (Linux), for tests.
#[cfg(target_os = "linux")]
pub fn current_niceness() -> i32 {
    // SAFETY: as above; getpriority may return -1 legitimately, which is fine here.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn background_work_runs_at_a_lower_priority_than_the_caller() {
        let here = current_niceness();
        let there = spawn(async { current_niceness() }).await.unwrap();
        let blocking = spawn_blocking(current_niceness).await.unwrap();
        // A blocking thread started from a background thread, which inherits its value.
        let nested = spawn(async { spawn_blocking(current_niceness).await.unwrap() }).await.unwrap();
        assert_eq!(there, (here + NICENESS).min(19), "async background task");
        assert_eq!(blocking, there, "blocking background task");
        assert_eq!(nested, there, "a thread started by a background thread");
        assert_eq!(current_niceness(), here, "the caller's own priority is unchanged");
    }
}
