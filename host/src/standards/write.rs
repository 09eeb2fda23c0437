//! Writing an approved standard: front matter plus body, to a temporary file
//! in the target folder, flushed to disk, then renamed into place, so a
//! reader (the index watcher, an editor, git) never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path} already exists; pass overwrite=true to replace it, or propose a different topic")]
    Exists { path: String },
    #[error(
        "{path} is a symbolic link; approving writes only into real folders of the project (replace the link with a folder, then approve again)"
    )]
    Escapes { path: String },
    #[error("{path} is not a folder; move it aside, then approve again")]
    NotDir { path: String },
    #[error("writing {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// The metadata written as YAML front matter (spec Model 5).
#[derive(Debug, Clone)]
pub struct FrontMatter<'a> {
    pub title: &'a str,
    pub domain: &'a str,
    pub topic: &'a str,
    pub tags: &'a [String],
    pub created_by: &'a str,
    pub approved_by: &'a str,
    pub created_at: &'a str,
    pub approved_at: &'a str,
    pub proposal_id: &'a str,
}

/// A YAML double-quoted scalar.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Drops a leading front matter block from `content` (the host writes its own).
pub fn strip_front_matter(content: &str) -> &str {
    let rest = content.strip_prefix('\u{feff}').unwrap_or(content);
    let Some(after) = rest.strip_prefix("---\n").or_else(|| rest.strip_prefix("---\r\n")) else {
        return rest;
    };
    match after.find("\n---") {
        Some(end) => {
            let tail = &after[end + 4..];
            let tail = tail.strip_prefix('-').unwrap_or(tail);
            tail.trim_start_matches(['\r', '\n'])
        }
        None => rest,
    }
}

/// The whole file: front matter, then the body with a title heading.
pub fn render(fm: &FrontMatter<'_>, body: &str) -> String {
    let tags = fm.tags.join(", ");
    let mut out = format!(
        "---\ntitle: {}\ndomain: {}\ntopic: {}\ntags: [{tags}]\ncreated_by: {}\napproved_by: {}\ncreated_at: {}\napproved_at: {}\nproposal_id: {}\n---\n\n",
        quoted(fm.title),
        fm.domain,
        fm.topic,
        quoted(fm.created_by),
        quoted(fm.approved_by),
        fm.created_at,
        fm.approved_at,
        fm.proposal_id,
    );
    let body = strip_front_matter(body).trim();
    if super::template::title(body).is_none() {
        out.push_str(&format!("# {}\n\n", fm.title));
    }
    out.push_str(body);
    out.push('\n');
    out
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io { path: path.display().to_string(), source }
}

/// A real folder at `p`, created when missing: never a symbolic link (it
/// could point anywhere) and never followed.
fn real_dir(p: &Path) -> Result<bool, WriteError> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.file_type().is_symlink() => Err(WriteError::Escapes { path: p.display().to_string() }),
        Ok(m) if !m.is_dir() => Err(WriteError::NotDir { path: p.display().to_string() }),
        Ok(_) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::create_dir(p) {
            Ok(()) => Ok(true),
            Err(e) => Err(io(p)(e)),
        },
        Err(e) => Err(io(p)(e)),
    }
}

/// Writes `text` to `{root}/{domain}/{topic}.md` atomically. `root` is the
/// project's `.agent-os/standards`: it, its parent (`.agent-os`) and the
/// domain folder are checked one by one (lstat) to be real folders, created
/// when missing, never followed when they are links; the file is created
/// new beside the target and renamed over it, so no link is written
/// through. Refuses an existing file unless `overwrite`; on any failure
/// nothing new is left behind (a folder it created is removed again).
pub fn write_atomic(
    root: &Path,
    domain: &str,
    topic: &str,
    text: &str,
    overwrite: bool,
) -> Result<PathBuf, WriteError> {
    if let Some(agent_dir) = root.parent() {
        real_dir(agent_dir)?;
    }
    real_dir(root)?;
    let dir = root.join(domain);
    let target = dir.join(format!("{topic}.md"));
    let created_dir = real_dir(&dir)?;
    let result = (|| {
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(WriteError::Escapes { path: target.display().to_string() });
            }
            Ok(_) if !overwrite => return Err(WriteError::Exists { path: target.display().to_string() }),
            _ => {}
        }
        let mut tmp =
            tempfile::Builder::new().prefix(".proposal-").suffix(".tmp").tempfile_in(&dir).map_err(io(&dir))?;
        tmp.write_all(text.as_bytes()).map_err(io(tmp.path()))?;
        tmp.as_file().sync_all().map_err(io(tmp.path()))?;
        if overwrite {
            tmp.persist(&target).map_err(|e| WriteError::Io { path: target.display().to_string(), source: e.error })?;
        } else {
            tmp.persist_noclobber(&target).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    WriteError::Exists { path: target.display().to_string() }
                } else {
                    WriteError::Io { path: target.display().to_string(), source: e.error }
                }
            })?;
        }
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(target.clone())
    })();
    if result.is_err() && created_dir {
        let _ = std::fs::remove_dir(&dir);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fm<'a>(tags: &'a [String]) -> FrontMatter<'a> {
        FrontMatter {
            title: "Retry \"budgets\"",
            domain: "operations",
            topic: "retries",
            tags,
            created_by: "sre",
            approved_by: "alice",
            created_at: "2026-01-01T00:00:00Z",
            approved_at: "2026-01-02T00:00:00Z",
            proposal_id: "p1",
        }
    }

    #[test]
    fn renders_front_matter_the_chunker_reads() {
        let tags = vec!["retries".to_string(), "http".to_string()];
        let text = render(&fm(&tags), "---\ndomain: wrong\n---\n## Context\nWhy.\n");
        assert!(text.starts_with("---\ntitle: \"Retry \\\"budgets\\\"\"\ndomain: operations\n"), "{text}");
        assert!(text.contains("\n---\n\n# Retry \"budgets\"\n\n## Context\nWhy.\n"), "{text}");
        let doc = crate::rag::chunker::parse("operations/retries.md", &text);
        assert_eq!(doc.domain, "operations");
        assert_eq!(doc.tags, tags);
    }

    #[test]
    fn writes_atomically_and_refuses_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("standards");
        let p = write_atomic(&root, "ops", "retries", "one\n", false).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "one\n");
        let e = write_atomic(&root, "ops", "retries", "two\n", false).unwrap_err();
        assert!(matches!(e, WriteError::Exists { .. }), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "one\n");
        write_atomic(&root, "ops", "retries", "two\n", true).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two\n");
        let names: Vec<_> = std::fs::read_dir(root.join("ops")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("retries.md")], "no temporary file is left");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_linked_agent_os_or_standards_folder_and_a_linked_file() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        // .agent-os as a link.
        let p1 = tempfile::tempdir().unwrap();
        symlink(outside.path(), p1.path().join(".agent-os")).unwrap();
        let e = write_atomic(&p1.path().join(".agent-os/standards"), "ops", "x", "t", false).unwrap_err();
        assert!(matches!(e, WriteError::Escapes { .. }), "{e}");
        // .agent-os/standards as a link.
        let p2 = tempfile::tempdir().unwrap();
        std::fs::create_dir(p2.path().join(".agent-os")).unwrap();
        symlink(outside.path(), p2.path().join(".agent-os/standards")).unwrap();
        let e = write_atomic(&p2.path().join(".agent-os/standards"), "ops", "x", "t", true).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        // The target file as a link, even with overwrite.
        let p3 = tempfile::tempdir().unwrap();
        let root = p3.path().join(".agent-os/standards");
        std::fs::create_dir_all(root.join("ops")).unwrap();
        std::fs::write(outside.path().join("victim.md"), "mine").unwrap();
        symlink(outside.path().join("victim.md"), root.join("ops/x.md")).unwrap();
        assert!(matches!(write_atomic(&root, "ops", "x", "t", true), Err(WriteError::Escapes { .. })));
        assert_eq!(std::fs::read_to_string(outside.path().join("victim.md")).unwrap(), "mine");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1, "nothing written outside");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_domain_folder_that_is_a_symlink_out() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path().join("standards");
        std::fs::create_dir_all(&root).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("ops")).unwrap();
        let e = write_atomic(&root, "ops", "x", "t", false).unwrap_err();
        assert!(matches!(e, WriteError::Escapes { .. }), "{e}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }
}
