//! Reads of files a repository controls: opened once without following a
//! final symlink, checked on the opened handle to be a regular file, and
//! bounded in size, so a planted `/dev/zero`, FIFO, `/proc/self/fd/0` or
//! 1 GiB file cannot hang or exhaust a command.

use std::io::Read;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path} was not found")]
    NotFound { path: String },
    #[error("{path} is a symbolic link; agent-os does not follow links in files a repository controls")]
    Symlink { path: String },
    #[error("{path} is not a regular file")]
    NotRegular { path: String },
    #[error("{path} is larger than the {limit}-byte limit for this file")]
    TooLarge { path: String, limit: u64 },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::NotFound { .. })
    }
}

/// Opens `path` for reading without following a symlink in its last
/// component and without blocking on a FIFO, and checks the opened handle.
pub fn open_regular(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), ReadError> {
    let shown = || path.display().to_string();
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY);
    }
    let file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::NotFound { path: shown() }),
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(ReadError::Symlink { path: shown() }),
        Err(source) => return Err(ReadError::Io { path: shown(), source }),
    };
    let meta = file.metadata().map_err(|source| ReadError::Io { path: shown(), source })?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular { path: shown() });
    }
    Ok((file, meta))
}

/// The bytes of a regular file of at most `limit` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, meta) = open_regular(path)?;
    if meta.len() > limit {
        return Err(ReadError::TooLarge { path: path.display().to_string(), limit });
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    // The file may grow after the check: read one byte past the limit to tell.
    file.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|source| ReadError::Io { path: path.display().to_string(), source })?;
    if out.len() as u64 > limit {
        return Err(ReadError::TooLarge { path: path.display().to_string(), limit });
    }
    Ok(out)
}

/// [`read_bounded`] as text (invalid UTF-8 replaced).
pub fn read_text_bounded(path: &Path, limit: u64) -> Result<String, ReadError> {
    read_bounded(path, limit).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Replaces `path` with `bytes` atomically: a new file with an unpredictable
/// name beside it (created exclusively, so nothing planted there is written
/// through), flushed to disk, then renamed over `path`. A failure leaves
/// `path` as it was and no temporary file behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Whether `path` itself (not what it points to) is a symbolic link.
pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).map(|m| m.file_type().is_symlink()).unwrap_or(false)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn refuses_links_devices_fifos_and_big_files() {
        let t = tempfile::tempdir().unwrap();
        let ok = t.path().join("ok.toml");
        std::fs::write(&ok, "a = 1").unwrap();
        assert_eq!(read_bounded(&ok, 10).unwrap(), b"a = 1");
        assert!(matches!(read_bounded(&ok, 3), Err(ReadError::TooLarge { .. })));
        let link = t.path().join("link");
        std::os::unix::fs::symlink("/etc/hostname", &link).unwrap();
        assert!(matches!(read_bounded(&link, 1000), Err(ReadError::Symlink { .. })));
        assert!(matches!(read_bounded(Path::new("/dev/zero"), 1000), Err(ReadError::NotRegular { .. })));
        let fifo = t.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(read_bounded(&fifo, 1000), Err(ReadError::NotRegular { .. })));
        assert!(read_bounded(&t.path().join("missing"), 10).unwrap_err().is_not_found());
    }
}
