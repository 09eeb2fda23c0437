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
    let nice = current_niceness();
    // One call sets the niceness and the default time slice (a thread
    // started by a request thread may have inherited its short one).
    if sched::set_slice(nice.max(target), 0).is_ok() || nice >= target {
        return;
    }
    // Without sched_setattr, the niceness alone.
    // SAFETY: gettid and setpriority only read their arguments.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, target) };
    if rc != 0 {
        tracing::debug!("could not lower a background thread's priority: {}", std::io::Error::last_os_error());
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// The time slice request threads ask the scheduler for (its minimum).
#[cfg(target_os = "linux")]
const REQUEST_SLICE_NS: u64 = 100_000;

/// Called by each thread of the runtime that answers requests. Linux 6.12+
/// (EEVDF) lets a thread with a shorter time slice than the one running
/// take the core when it wakes, instead of waiting for the running one's
/// slice (about 1.5 ms on two cores) to end: a request thread asks for the
/// shortest, so a job worker keeps its share but yields the core at once
/// when an answer is ready. Weight (niceness) is unchanged, no privilege is
/// needed, and older kernels ignore the request.
#[cfg(target_os = "linux")]
pub fn request_thread_start() {
    let nice = current_niceness();
    if let Err(e) = sched::set_slice(nice, REQUEST_SLICE_NS) {
        tracing::debug!("could not shorten a request thread's time slice: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
pub fn request_thread_start() {}

/// `sched_setattr`/`sched_getattr` for the calling thread (Linux; the libc
/// crate declares the struct but not the calls).
#[cfg(target_os = "linux")]
mod sched {
    /// `struct sched_attr`, its first version (48 bytes).
    #[repr(C)]
    #[derive(Default)]
    struct SchedAttr {
        size: u32,
        policy: u32,
        flags: u64,
        nice: i32,
        priority: u32,
        runtime: u64,
        deadline: u64,
        period: u64,
    }

    /// Keeps the normal policy and `nice`, asks for a time slice of
    /// `slice_ns` (the kernel clamps it to 0.1-100 ms).
    pub fn set_slice(nice: i32, slice_ns: u64) -> std::io::Result<()> {
        let attr = SchedAttr {
            size: std::mem::size_of::<SchedAttr>() as u32,
            policy: libc::SCHED_OTHER as u32,
            nice,
            runtime: slice_ns,
            ..SchedAttr::default()
        };
        // SAFETY: the kernel reads `size` bytes of a live, properly laid out struct.
        let rc = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0u32) };
        if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
    }

    /// The calling thread's time slice in ns (the kernel's default unless asked).
    #[cfg(test)]
    pub fn slice() -> std::io::Result<u64> {
        let mut attr = SchedAttr::default();
        let size = std::mem::size_of::<SchedAttr>() as u32;
        // SAFETY: the kernel writes at most `size` bytes into the struct.
        let rc = unsafe { libc::syscall(libc::SYS_sched_getattr, 0, &mut attr as *mut SchedAttr, size, 0u32) };
        if rc == 0 { Ok(attr.runtime) } else { Err(std::io::Error::last_os_error()) }
    }
}

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
        // Started from a request thread, background threads still take the default slice.
        let default = sched::slice().unwrap();
        let from_request = std::thread::spawn(|| {
            request_thread_start();
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(spawn_blocking(|| sched::slice().unwrap())).unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(from_request, default, "a background thread keeps the default time slice");
        assert_eq!(current_niceness(), here, "the caller's own priority is unchanged");
    }

    /// A request thread asks for the shortest slice and keeps its priority.
    /// Kernels before 6.12 accept the call and ignore the slice.
    #[test]
    fn a_request_thread_asks_for_a_short_time_slice() {
        let default = sched::slice().unwrap();
        let (slice, nice_before, nice_after) = std::thread::spawn(|| {
            let before = current_niceness();
            request_thread_start();
            (sched::slice().unwrap(), before, current_niceness())
        })
        .join()
        .unwrap();
        assert_eq!(nice_after, nice_before);
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let mut v = release.trim().split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (v.next().unwrap_or(0), v.next().unwrap_or(0));
        if (major, minor) >= (6, 12) {
            assert_eq!(slice, REQUEST_SLICE_NS, "kernel {release}");
        }
        assert_eq!(sched::slice().unwrap(), default, "other threads keep the default");
    }
}
