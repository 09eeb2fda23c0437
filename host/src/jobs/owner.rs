//! Who runs a job: the server process that claimed it. Several servers can
//! share one job database (two editor windows on one project); each keeps
//! its running jobs' heartbeat fresh, and at start a server takes back only
//! jobs whose owner is gone.

use std::sync::OnceLock;

/// A heartbeat older than this, from a server on another machine (or one
/// whose process this machine cannot see), means that server is gone.
pub const STALE_AFTER_SECS: f64 = 30.0;

/// A server process, as recorded on the jobs it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    /// `<boot id>:<pid namespace>:<start time in clock ticks>` on Linux, so a
    /// reused pid (or a reboot, or another container) is not taken for the
    /// owner; empty where the platform cannot tell.
    pub start: String,
    pub host: String,
}

impl Owner {
    /// This process.
    pub fn current() -> &'static Owner {
        static ME: OnceLock<Owner> = OnceLock::new();
        ME.get_or_init(|| {
            let pid = std::process::id();
            Owner { pid, start: process_start(pid).unwrap_or_default(), host: host_name() }
        })
    }

    /// Whether the server that recorded `self` is gone, judged from `me`.
    /// On the same machine (same boot, same pid namespace) the process is
    /// looked up; otherwise only a heartbeat older than [`STALE_AFTER_SECS`]
    /// says so.
    pub fn is_gone(&self, heartbeat_at: Option<f64>, now: f64, me: &Owner) -> bool {
        if self.host == me.host
            && let (Some(theirs), Some(ours)) = (machine_of(&self.start), machine_of(&me.start))
            && theirs == ours
        {
            return process_start(self.pid).as_deref() != Some(self.start.as_str());
        }
        heartbeat_at.is_none_or(|beat| now - beat > STALE_AFTER_SECS)
    }
}

/// The `<boot id>:<pid namespace>` part of a start stamp.
fn machine_of(start: &str) -> Option<&str> {
    start.rsplit_once(':').map(|(machine, _)| machine).filter(|m| !m.is_empty())
}

/// `<boot id>:<pid namespace>:<start ticks>` of a live process, or `None`
/// when there is no such process (or the platform cannot say).
#[cfg(target_os = "linux")]
pub fn process_start(pid: u32) -> Option<String> {
    static MACHINE: OnceLock<Option<String>> = OnceLock::new();
    let machine = MACHINE
        .get_or_init(|| {
            let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
            let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
            Some(format!("{}:{}", boot.trim(), ns.to_string_lossy().replace(':', "")))
        })
        .as_ref()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or ')'.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    // Fields from 3 on: the state is field 3, the start time field 22. A
    // zombie has exited; only its exit status is left.
    if matches!(fields.first(), Some(&("Z" | "X" | "x"))) {
        return None;
    }
    let ticks = fields.get(19)?;
    ticks.parse::<u64>().ok()?;
    Some(format!("{machine}:{ticks}"))
}

#[cfg(not(target_os = "linux"))]
pub fn process_start(_pid: u32) -> Option<String> {
    None
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_one_is_gone() {
        let me = Owner::current().clone();
        assert!(!me.host.is_empty());
        assert!(!me.is_gone(None, 0.0, &me), "a live process with no heartbeat yet is not gone");
        if cfg!(target_os = "linux") {
            // A process that has exited: same machine, so its heartbeat does not matter.
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id();
            let start = process_start(pid);
            child.wait().unwrap();
            let dead = Owner { pid, start: start.unwrap_or_else(|| me.start.clone()), host: me.host.clone() };
            assert!(dead.is_gone(Some(1e12), 1e12, &me));
            // The same pid with another start time is another process.
            let reused = Owner { start: format!("{}:1", machine_of(&me.start).unwrap()), ..me.clone() };
            assert!(reused.is_gone(Some(1e12), 1e12, &me));
        }
    }

    #[test]
    fn another_machine_is_judged_by_its_heartbeat() {
        let me = Owner::current().clone();
        let other = Owner { pid: me.pid, start: "other-boot:pid[1]:42".into(), host: "elsewhere".into() };
        assert!(!other.is_gone(Some(100.0), 110.0, &me));
        assert!(other.is_gone(Some(100.0), 100.0 + STALE_AFTER_SECS + 1.0, &me));
        assert!(other.is_gone(None, 0.0, &me));
    }
}
