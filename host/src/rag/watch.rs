//! Keeps an [`Index`] in line with its folders while the server runs: file
//! events are debounced, and each burst triggers one incremental sync (only
//! files whose content changed are re-embedded).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use super::{Index, Source};

/// Quiet time after the last event before the index is updated.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Most folders one watcher follows; a standards tree or a persona folder
/// is far smaller, and a repository cannot make the server exhaust the
/// user's inotify watches.
pub const MAX_WATCHED: usize = 4096;

/// One tree a [`FolderWatch`] follows.
#[derive(Debug, Clone)]
pub struct WatchRoot {
    pub root: PathBuf,
    /// No part of `root` below this folder may be a symbolic link (the project root).
    pub confine: Option<PathBuf>,
    /// How many levels of subfolders below `root` are watched.
    pub depth: usize,
}

/// Watches real folders only, one non-recursive watch each, so a symbolic
/// link to a folder (the home folder, `/`) is never followed and a
/// repository decides nothing about what outside it is watched. Folders
/// that appear later are picked up by [`FolderWatch::refresh`] after the
/// event that announced them (their parent is watched).
pub struct FolderWatch {
    debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    roots: Vec<WatchRoot>,
    /// Each watched folder and its identity (a folder deleted and made
    /// again under the same name is a new folder and needs a new watch).
    watched: BTreeMap<PathBuf, FolderId>,
}

/// Device and inode of a folder.
type FolderId = (u64, u64);

#[cfg(unix)]
fn folder_id(m: &std::fs::Metadata) -> FolderId {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn folder_id(_m: &std::fs::Metadata) -> FolderId {
    (0, 0)
}

impl FolderWatch {
    pub fn new(debouncer: Debouncer<RecommendedWatcher, RecommendedCache>, roots: Vec<WatchRoot>) -> Self {
        let mut w = Self { debouncer, roots, watched: BTreeMap::new() };
        w.refresh();
        w
    }

    /// Brings the watches in line with the real folders under the roots now.
    pub fn refresh(&mut self) {
        let mut want = BTreeMap::new();
        for r in &self.roots {
            real_folders(&r.root, r.confine.as_deref(), r.depth, &mut want);
        }
        if want.len() > MAX_WATCHED {
            tracing::warn!("{} folders to watch; following only the first {MAX_WATCHED}", want.len());
            want = want.into_iter().take(MAX_WATCHED).collect();
        }
        let stale: Vec<PathBuf> =
            self.watched.iter().filter(|(d, id)| want.get(*d) != Some(id)).map(|(d, _)| d.clone()).collect();
        for d in stale {
            // A deleted folder's watch is already gone; that error is expected.
            let _ = self.debouncer.unwatch(&d);
            self.watched.remove(&d);
        }
        for (d, id) in want {
            if self.watched.contains_key(&d) {
                continue;
            }
            match self.debouncer.watch(&d, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    tracing::debug!(dir = %d.display(), "watching");
                    self.watched.insert(d, id);
                }
                Err(e) => tracing::warn!(dir = %d.display(), "cannot watch: {e}"),
            }
        }
    }

    /// How many folders are watched.
    pub fn count(&self) -> usize {
        self.watched.len()
    }
}

/// `root` and its real subfolders up to `depth` levels down, skipping
/// hidden ones and never going through a symbolic link.
fn real_folders(root: &Path, confine: Option<&Path>, depth: usize, out: &mut BTreeMap<PathBuf, FolderId>) {
    if let Some(base) = confine
        && crate::project::check_no_links(base, root).is_err()
    {
        return;
    }
    match std::fs::symlink_metadata(root) {
        Ok(m) if m.is_dir() => out.insert(root.to_path_buf(), folder_id(&m)),
        _ => return,
    };
    if depth == 0 || out.len() > MAX_WATCHED {
        return;
    }
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            real_folders(&e.path(), None, depth - 1, out);
        }
    }
}

/// Creates a watched root that is missing (without going through links).
pub fn create_root(r: &WatchRoot) {
    let made = match &r.confine {
        Some(base) => crate::project::create_dir_confined(base, &r.root).map_err(|e| e.to_string()),
        None => std::fs::create_dir_all(&r.root).map_err(|e| e.to_string()),
    };
    if let Err(e) = made {
        tracing::warn!("not watching {}: {e}", r.root.display());
    }
}

/// Levels of folders watched under a standards root.
const STANDARDS_DEPTH: usize = 16;

/// Watches every folder source of `index` (creating missing folders) and
/// syncs the index after each burst of changes, until the task is aborted.
pub fn spawn(index: Arc<Index>) -> Result<tokio::task::JoinHandle<()>, notify::Error> {
    let roots: Vec<WatchRoot> = index
        .sources()
        .iter()
        .filter_map(|s| match s {
            Source::Dir { root, confine, .. } => {
                Some(WatchRoot { root: root.clone(), confine: confine.clone(), depth: STANDARDS_DEPTH })
            }
            Source::Bundled(_) => None,
        })
        .collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let debouncer = new_debouncer(DEBOUNCE, None, move |res: DebounceEventResult| match res {
        Ok(events) => {
            let relevant = events.iter().any(|e| !matches!(e.kind, EventKind::Access(_)));
            if relevant {
                let _ = tx.send(());
            }
        }
        Err(errors) => {
            for e in errors {
                tracing::warn!("standards watcher: {e}");
            }
            let _ = tx.send(());
        }
    })?;
    roots.iter().for_each(create_root);
    let mut folders = FolderWatch::new(debouncer, roots);
    tracing::debug!(folders = folders.count(), "watching standards");
    Ok(tokio::spawn(async move {
        while rx.recv().await.is_some() {
            while rx.try_recv().is_ok() {}
            folders.refresh();
            if let Err(e) = index.sync().await {
                tracing::warn!("standards index update failed: {e}");
            }
        }
    }))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_real_folders_are_listed() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("std");
        for d in ["a/b/c", "d", ".hidden/x"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::os::unix::fs::symlink("/usr", root.join("a/usr")).unwrap();
        std::os::unix::fs::symlink("/", root.join("root")).unwrap();
        let mut out = BTreeMap::new();
        real_folders(&root, Some(t.path()), 16, &mut out);
        let rel: Vec<String> = out.keys().map(|p| p.strip_prefix(&root).unwrap().display().to_string()).collect();
        assert_eq!(rel, ["", "a", "a/b", "a/b/c", "d"]);
        let mut shallow = BTreeMap::new();
        real_folders(&root, None, 1, &mut shallow);
        assert_eq!(shallow.len(), 3, "{shallow:?}");
        // A root that is itself a link is not watched at all.
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&root, &link).unwrap();
        let mut none = BTreeMap::new();
        real_folders(&link, Some(t.path()), 16, &mut none);
        assert!(none.is_empty());
    }
}
