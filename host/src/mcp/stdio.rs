//! The streams MCP is served over on stdin/stdout.
//!
//! Every client starts the server with pipes for stdin and stdout. Tokio's
//! own stdin/stdout hand each read and each write to a blocking thread, so
//! a request costs two extra thread wake-ups (reader thread, then the
//! writer thread after the answer), each of which waits for a core when
//! the persona jobs keep both busy. Pipes are read and written through the
//! reactor instead. Anything else (a file, a terminal) or a stdout that
//! shares its open file with stderr (`2>&1`: making it non-blocking would
//! make log writes fail) keeps Tokio's stdio.

use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

pub type Reader = Pin<Box<dyn AsyncRead + Send + Sync>>;
pub type Writer = Pin<Box<dyn AsyncWrite + Send + Sync>>;

/// How stdin and stdout are served, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pipes,
    TokioStdio,
}

pub fn streams() -> (Reader, Writer, Mode) {
    #[cfg(unix)]
    if let Some((r, w)) = pipes() {
        return (Box::pin(r), Box::pin(w), Mode::Pipes);
    }
    (Box::pin(tokio::io::stdin()), Box::pin(tokio::io::stdout()), Mode::TokioStdio)
}

#[cfg(unix)]
fn pipes() -> Option<(tokio::net::unix::pipe::Receiver, tokio::net::unix::pipe::Sender)> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    let dup = |fd: std::os::fd::BorrowedFd<'_>| fd.try_clone_to_owned().ok().map(std::fs::File::from);
    let stdin = dup(std::io::stdin().as_fd())?;
    let stdout = dup(std::io::stdout().as_fd())?;
    let (inm, outm) = (stdin.metadata().ok()?, stdout.metadata().ok()?);
    if !inm.file_type().is_fifo() || !outm.file_type().is_fifo() {
        return None;
    }
    let shares_stderr = dup(std::io::stderr().as_fd())
        .and_then(|f| f.metadata().ok())
        .is_some_and(|err| err.dev() == outm.dev() && err.ino() == outm.ino());
    if shares_stderr {
        return None;
    }
    // Both set the shared open file non-blocking; nothing else in a serving
    // process reads stdin or writes stdout.
    let reader = tokio::net::unix::pipe::Receiver::from_file(stdin).ok()?;
    let writer = tokio::net::unix::pipe::Sender::from_file(stdout).ok()?;
    Some((reader, writer))
}
