//! Where standards come from: folders on disk and the universal standards
//! compiled into the binary.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled_standards.rs"));
}

/// The universal standards shipped in the binary: (path, markdown).
pub static UNIVERSAL: &[(&str, &str)] = bundled::UNIVERSAL;

/// Largest standard read, in bytes.
pub const MAX_FILE_BYTES: u64 = 2 << 20;

/// One set of standards.
#[derive(Debug, Clone)]
pub enum Source {
    /// Every `*.md` under `root`; a document's key is `prefix` + its path
    /// relative to `root`.
    Dir { root: PathBuf, prefix: String },
    /// Documents compiled into the binary; their paths are their keys.
    Bundled(&'static [(&'static str, &'static str)]),
}

/// One readable standard.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// What results cite, e.g. `.agent-os/standards/security/secrets.md`.
    pub key: String,
    /// Path relative to its source root (gives the default domain).
    pub rel: String,
    pub text: String,
    pub hash: String,
}

fn hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Reads every source; unreadable files are returned as (path, reason).
pub fn collect(sources: &[Source]) -> (Vec<SourceFile>, Vec<(String, String)>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for s in sources {
        match s {
            Source::Bundled(docs) => {
                for (path, text) in docs.iter() {
                    files.push(SourceFile {
                        key: path.to_string(),
                        rel: path.to_string(),
                        text: text.to_string(),
                        hash: hash(text.as_bytes()),
                    });
                }
            }
            Source::Dir { root, prefix } => {
                let mut paths = Vec::new();
                walk(root, &mut paths);
                paths.sort();
                for p in paths {
                    let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
                    let key = format!("{prefix}{rel}");
                    match read_standard(&p) {
                        Ok((text, h)) => files.push(SourceFile { key, rel, text, hash: h }),
                        Err(why) => skipped.push((key, why)),
                    }
                }
            }
        }
    }
    (files, skipped)
}

/// Reads one markdown file, refusing what is not text.
pub fn read_standard(p: &Path) -> Result<(String, String), String> {
    let meta = std::fs::metadata(p).map_err(|e| e.to_string())?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("{} bytes is over the {MAX_FILE_BYTES}-byte limit for a standard", meta.len()));
    }
    let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
    if bytes.contains(&0) {
        return Err("binary content (NUL bytes), not markdown text".into());
    }
    let h = hash(&bytes);
    let text =
        String::from_utf8(bytes).map_err(|e| format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()))?;
    Ok((text, h))
}

/// `*.md` files under `dir`, skipping hidden entries.
pub(crate) fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&path, out);
        } else if is_markdown(&path) && (ft.is_file() || path.is_file()) {
            out.push(path);
        }
    }
}

pub fn is_markdown(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("md"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_non_utf8_files_are_skipped_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("security")).unwrap();
        std::fs::write(root.join("security/ok.md"), "# Ok\n\ntext").unwrap();
        std::fs::write(root.join("security/bin.md"), b"# B\0\x01").unwrap();
        std::fs::write(root.join("latin1.md"), b"# caf\xe9").unwrap();
        std::fs::write(root.join("notes.txt"), "ignored").unwrap();
        let (files, skipped) = collect(&[Source::Dir { root: root.into(), prefix: "std/".into() }]);
        assert_eq!(files.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), ["std/security/ok.md"]);
        assert_eq!(files[0].rel, "security/ok.md");
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(skipped.iter().any(|(p, why)| p == "std/latin1.md" && why.contains("UTF-8")));
        assert!(skipped.iter().any(|(p, why)| p == "std/security/bin.md" && why.contains("binary")));
    }

    #[test]
    fn universal_standards_are_bundled() {
        assert!(UNIVERSAL.len() >= 15, "only {} universal standards", UNIVERSAL.len());
        assert!(UNIVERSAL.iter().all(|(p, t)| p.starts_with("universal/") && t.contains("# ")));
    }
}
