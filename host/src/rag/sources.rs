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
    /// relative to `root`. Symbolic links under `root` are skipped; with
    /// `confine` (the project root), `root` is refused when any part of it
    /// below `confine` is a link (a planted `.agent-os` or `standards` link).
    Dir { root: PathBuf, prefix: String, confine: Option<PathBuf> },
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
            Source::Dir { root, prefix, confine } => {
                if let Err(why) = check_root(root, confine.as_deref()) {
                    skipped.push((prefix.clone(), why));
                    continue;
                }
                let mut paths = Vec::new();
                let mut links = Vec::new();
                walk_noting_links(root, &mut paths, &mut links);
                for l in links {
                    let rel = l.strip_prefix(root).unwrap_or(&l).to_string_lossy().replace('\\', "/");
                    skipped.push((
                        format!("{prefix}{rel}"),
                        "a symbolic link; standards are read only from real files in the folder".into(),
                    ));
                }
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

/// Whether a folder source may be read: an existing `root` must be a real
/// folder, and no part of it below `confine` a symbolic link.
pub fn check_root(root: &Path, confine: Option<&Path>) -> Result<(), String> {
    let checked = match confine {
        Some(base) => crate::project::check_no_links(base, root),
        None if crate::fsx::is_symlink(root) => Err(crate::project::PathError::Symlink(root.display().to_string())),
        None => Ok(()),
    };
    checked.map_err(|e| format!("not read: {e}"))
}

/// Reads one markdown file (a regular file, not a link, at most
/// [`MAX_FILE_BYTES`]), refusing what is not text.
pub fn read_standard(p: &Path) -> Result<(String, String), String> {
    let bytes = crate::fsx::read_bounded(p, MAX_FILE_BYTES).map_err(|e| match e {
        crate::fsx::ReadError::TooLarge { .. } => format!("over the {MAX_FILE_BYTES}-byte limit for a standard"),
        crate::fsx::ReadError::Symlink { .. } => "a symbolic link; standards are read only from real files".into(),
        crate::fsx::ReadError::NotRegular { .. } => "not a regular file".into(),
        other => other.to_string(),
    })?;
    if bytes.contains(&0) {
        return Err("binary content (NUL bytes), not markdown text".into());
    }
    let h = hash(&bytes);
    let text =
        String::from_utf8(bytes).map_err(|e| format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()))?;
    Ok((text, h))
}

/// `*.md` files under `dir`, skipping hidden entries and symbolic links
/// (to files or folders: nothing outside the folder is read through one).
pub(crate) fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    walk_noting_links(dir, out, &mut Vec::new());
}

/// [`walk`], also listing the links it skipped (markdown files and folders).
fn walk_noting_links(dir: &Path, out: &mut Vec<PathBuf>, links: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        // The entry's own type (lstat): a link is never followed.
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_symlink() {
            if is_markdown(&path) || path.is_dir() {
                links.push(path);
            }
        } else if ft.is_dir() {
            walk_noting_links(&path, out, links);
        } else if ft.is_file() && is_markdown(&path) {
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
        let (files, skipped) = collect(&[Source::Dir { root: root.into(), prefix: "std/".into(), confine: None }]);
        assert_eq!(files.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), ["std/security/ok.md"]);
        assert_eq!(files[0].rel, "security/ok.md");
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(skipped.iter().any(|(p, why)| p == "std/latin1.md" && why.contains("UTF-8")));
        assert!(skipped.iter().any(|(p, why)| p == "std/security/bin.md" && why.contains("binary")));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_skipped_and_a_linked_root_is_refused() {
        use std::os::unix::fs::symlink;
        let project = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.md"), "# Secret\n\nhunter2").unwrap();
        std::fs::create_dir_all(outside.path().join("tree")).unwrap();
        std::fs::write(outside.path().join("tree/more.md"), "# More").unwrap();
        let root = project.path().join(".agent-os/standards");
        std::fs::create_dir_all(root.join("security")).unwrap();
        std::fs::write(root.join("security/ok.md"), "# Ok").unwrap();
        symlink(outside.path().join("secret.md"), root.join("security/leak.md")).unwrap();
        symlink(outside.path().join("tree"), root.join("tree")).unwrap();
        symlink("/dev/zero", root.join("zero.md")).unwrap();
        let src = |root: PathBuf| Source::Dir { root, prefix: "s/".into(), confine: Some(project.path().into()) };
        let (files, skipped) = collect(&[src(root.clone())]);
        assert_eq!(files.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), ["s/security/ok.md"]);
        assert!(files.iter().all(|f| !f.text.contains("hunter2")));
        let mut keys: Vec<_> = skipped.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort();
        assert_eq!(keys, ["s/security/leak.md", "s/tree", "s/zero.md"], "{skipped:?}");

        // The whole standards folder (or .agent-os) as a link: refused with a note.
        let other = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(other.path().join(".agent-os")).unwrap();
        symlink(&root, other.path().join(".agent-os/standards")).unwrap();
        let (files, skipped) = collect(&[Source::Dir {
            root: other.path().join(".agent-os/standards"),
            prefix: "s/".into(),
            confine: Some(other.path().into()),
        }]);
        assert!(files.is_empty());
        assert!(skipped[0].1.contains("symbolic link"), "{skipped:?}");
    }

    #[test]
    fn a_standard_over_the_limit_is_skipped_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let f = std::fs::File::create(dir.path().join("big.md")).unwrap();
        f.set_len(MAX_FILE_BYTES + 1).unwrap();
        let (files, skipped) =
            collect(&[Source::Dir { root: dir.path().into(), prefix: String::new(), confine: None }]);
        assert!(files.is_empty());
        assert!(skipped[0].1.contains("limit"), "{skipped:?}");
    }

    #[test]
    fn universal_standards_are_bundled() {
        assert!(UNIVERSAL.len() >= 15, "only {} universal standards", UNIVERSAL.len());
        assert!(UNIVERSAL.iter().all(|(p, t)| p.starts_with("universal/") && t.contains("# ")));
    }
}
