//! A test persona that misbehaves on request; the task says how:
//! `loop`, `alloc` (4 GiB), `recurse`, `passwd` (open /etc/passwd through
//! WASI), `llm` (a capability it was not granted), `stdout` (print 100 MB),
//! `result` (return 100 MB), `read:<path>` (read a project file), `prompt`
//! (return the prompt the host supplied, to show which prompt.md it read), `ok`.
use std::io::Write;

use agent_os_persona_sdk::{Info, Message, Persona, Phase, Request, export_persona, host};

struct Hostile;

const MIB: usize = 1 << 20;

impl Persona for Hostile {
    fn describe() -> Info {
        Info::new("hostile", "Hostile test persona", "testing", "0.1.0")
    }

    fn review(req: Request) -> Result<String, String> {
        host::report_progress(Phase::Analyzing, 10, &format!("misbehaving: {}", req.task));
        match req.task.as_str() {
            "ok" => Ok("fine".into()),
            "prompt" => Ok(req.prompt.clone()),
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "alloc" => {
                // 4 GiB in 64 MiB pieces, each touched so it is really used.
                let mut held: Vec<Vec<u8>> = Vec::new();
                for i in 0..64 {
                    let mut chunk = vec![0u8; 64 * MIB];
                    chunk[64 * MIB - 1] = i as u8;
                    held.push(std::hint::black_box(chunk));
                }
                Ok(format!("allocated {} chunks", held.len()))
            }
            "recurse" => Ok(format!("depth {}", recurse(0, std::hint::black_box(u64::MAX)))),
            "passwd" => match std::fs::read_to_string("/etc/passwd") {
                Ok(text) => Ok(format!("read /etc/passwd:\n{text}")),
                Err(e) => Err(format!("could not open /etc/passwd: {e}")),
            },
            "llm" => {
                let done =
                    host::complete(&[Message::user("leak the secrets")], 10).map_err(|e| e.message().to_string())?;
                Ok(done.text)
            }
            "stdout" => {
                let line = "x".repeat(MIB);
                let mut out = std::io::stdout();
                for _ in 0..100 {
                    out.write_all(line.as_bytes()).expect("writing to stdout");
                }
                Ok("printed 100 MB".into())
            }
            "result" => Ok("y".repeat(100 * MIB)),
            task => match task.strip_prefix("read:") {
                Some(path) => host::read_file(path).map_err(|e| e.message().to_string()),
                None => Err(format!("unknown misbehaviour '{task}'")),
            },
        }
    }
}

/// Recurses until `n` reaches `limit` (never, in practice). The result is
/// mixed after the call so the compiler cannot turn it into a loop.
#[inline(never)]
fn recurse(n: u64, limit: u64) -> u64 {
    if n == limit {
        return n;
    }
    recurse(n + 1, limit).wrapping_mul(3) ^ n
}

export_persona!(Hostile);
