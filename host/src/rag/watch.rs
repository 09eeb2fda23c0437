//! Keeps an [`Index`] in line with its folders while the server runs: file
//! events are debounced, and each burst triggers one incremental sync (only
//! files whose content changed are re-embedded).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};

use super::{Index, Source};

/// Quiet time after the last event before the index is updated.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Watches every folder source of `index` (creating missing folders) and
/// syncs the index after each burst of changes, until the task is aborted.
pub fn spawn(index: Arc<Index>) -> Result<tokio::task::JoinHandle<()>, notify::Error> {
    let dirs: Vec<PathBuf> = index
        .sources()
        .iter()
        .filter_map(|s| match s {
            Source::Dir { root, .. } => Some(root.clone()),
            Source::Bundled(_) => None,
        })
        .collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |res: DebounceEventResult| match res {
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
    for d in &dirs {
        let _ = std::fs::create_dir_all(d);
        debouncer.watch(d, RecursiveMode::Recursive)?;
        tracing::debug!(dir = %d.display(), "watching standards");
    }
    Ok(tokio::spawn(async move {
        let _keep = debouncer;
        while rx.recv().await.is_some() {
            while rx.try_recv().is_ok() {}
            if let Err(e) = index.sync().await {
                tracing::warn!("standards index update failed: {e}");
            }
        }
    }))
}
