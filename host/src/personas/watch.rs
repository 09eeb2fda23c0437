//! Keeps a running server's personas in line with what is installed and
//! trusted: the persona folders and the user's trust records are watched,
//! each burst of changes reloads the registry (re-checking trust, so a pulled
//! commit that changes a project persona drops its tool until it is trusted
//! again), and when the set of personas changed every connected MCP client
//! is told (`crate::mcp::notify`: tools and prompts list_changed).

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use notify::EventKind;
use notify_debouncer_full::{DebounceEventResult, new_debouncer};

use super::{Registry, Scope};
use crate::plugins::Runtime;
use crate::project::Project;
use crate::rag::watch::{FolderWatch, WatchRoot, create_root};

/// Quiet time after the last file event before the personas are reloaded.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// Counts changes to the persona set; MCP sessions subscribe to it.
#[derive(Clone)]
pub struct PersonaEvents(Arc<tokio::sync::watch::Sender<u64>>);

impl Default for PersonaEvents {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::watch::channel(0).0))
    }
}

impl PersonaEvents {
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.subscribe()
    }

    fn changed(&self) {
        self.0.send_modify(|n| *n += 1);
    }
}

/// What the watcher keeps current.
pub struct Watched {
    pub registry: Arc<RwLock<Registry>>,
    pub project: Project,
    pub runtime: Arc<Runtime>,
    pub events: PersonaEvents,
}

/// Reloads the personas from disk; returns whether the set changed.
pub async fn reload(w: &Watched) -> bool {
    let project = w.project.clone();
    let Ok((next, errors)) = tokio::task::spawn_blocking(move || Registry::load_project(&project)).await else {
        return false;
    };
    for e in &errors {
        tracing::warn!("skipped an installed persona: {e}");
    }
    let (added, removed, changed) = {
        let mut current = w.registry.write().unwrap_or_else(|p| p.into_inner());
        if current.fingerprint() == next.fingerprint() {
            // The same tools; what is untrusted (and the sentence about it) may differ.
            if current.untrusted() != next.untrusted() || current.trust_notice() != next.trust_notice() {
                *current = next;
            }
            return false;
        }
        let before = current.ids();
        let after = next.ids();
        let added: Vec<String> = after.iter().filter(|i| !before.contains(i)).cloned().collect();
        let removed: Vec<String> = before.iter().filter(|i| !after.contains(i)).cloned().collect();
        let changed: Vec<_> = next
            .all()
            .into_iter()
            .filter(|p| current.get(&p.manifest.id).is_none_or(|old| old.sha256 != p.sha256))
            .collect();
        *current = next;
        (added, removed, changed)
    };
    tracing::info!(added = ?added, removed = ?removed, "installed personas changed; telling clients the tool list changed");
    w.events.changed();
    let rt = w.runtime.clone();
    tokio::spawn(async move { rt.warm(changed).await });
    true
}

/// Watches the persona folders (creating the project's) until aborted.
pub fn spawn(w: Watched) -> Result<tokio::task::JoinHandle<()>, notify::Error> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let debouncer = new_debouncer(DEBOUNCE, None, move |res: DebounceEventResult| match res {
        Ok(events) => {
            if events.iter().any(|e| !matches!(e.kind, EventKind::Access(_))) {
                let _ = tx.send(());
            }
        }
        Err(errors) => {
            for e in errors {
                tracing::warn!("persona watcher: {e}");
            }
            let _ = tx.send(());
        }
    })?;
    // Each scope folder and the persona folders in it, one level deep, never
    // through a link; the project's is created (and confined to the project:
    // `<root>/.agent-os/personas`).
    let mut roots: Vec<WatchRoot> = crate::personas::install::scopes(&w.project)
        .iter()
        .map(|(scope, dir)| WatchRoot {
            root: dir.clone(),
            confine: (*scope == Scope::Project).then(|| dir.ancestors().nth(2).map(Path::to_path_buf)).flatten(),
            depth: 1,
        })
        .collect();
    roots.iter().filter(|r| r.confine.is_some()).for_each(create_root);
    // `agent-os trust` in a terminal takes effect at once: the records are watched too.
    if let Ok(store) = crate::trust::Store::user()
        && crate::dirs::ensure(crate::dirs::Kind::Data).is_ok()
        && crate::dirs::ensure_private(store.dir(), crate::dirs::Kind::Data).is_ok()
    {
        roots.push(WatchRoot { root: store.dir().to_path_buf(), confine: None, depth: 0 });
    }
    let mut folders = FolderWatch::new(debouncer, roots);
    tracing::debug!(folders = folders.count(), "watching installed personas and trust records");
    Ok(tokio::spawn(async move {
        while rx.recv().await.is_some() {
            while rx.try_recv().is_ok() {}
            folders.refresh();
            reload(&w).await;
        }
    }))
}
