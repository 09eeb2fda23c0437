//! Wires one project's services together: job store, persona registry,
//! sandbox and workers. Shared by the MCP server and the CLI.

use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::jobs::{Job, JobControl, Jobs, JobsError, Outcome, Retention, Runner};
use crate::personas::{PersonaError, Registry};
use crate::plugins::{HostServices, PersonaSearch, PluginError, Runtime, SearchHit, StandardsSearch};
use crate::project::Project;
use crate::rag::{self, Index, Query, SearchError, Source};
use crate::standards::{Standards, StandardsError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Jobs(#[from] JobsError),
    #[error(transparent)]
    Plugins(#[from] PluginError),
    #[error(transparent)]
    Standards(#[from] StandardsError),
    #[error(transparent)]
    State(#[from] crate::dirs::DirsError),
}

/// Settings the binary passes in.
#[derive(Debug, Clone)]
pub struct Settings {
    pub workers: usize,
    /// Index the standards at start and watch them for changes.
    pub index_standards: bool,
    /// Automatic cleanup of old finished jobs.
    pub retention: Retention,
}

impl Default for Settings {
    fn default() -> Self {
        Self { workers: 3, index_standards: true, retention: Retention::default() }
    }
}

/// Opens and syncs the index, then follows file changes.
async fn keep_index_current(cell: IndexCell) {
    let index = match cell.get().await {
        Ok(i) => i,
        Err(e) => {
            tracing::error!("standards index unavailable: {e}");
            return;
        }
    };
    match index.sync().await {
        Ok(r) => {
            tracing::info!(
                files = r.files,
                chunks = r.chunks_total,
                changed = r.changed,
                took_ms = r.took_ms,
                "standards indexed"
            );
            if let Err(e) = index.compact().await {
                tracing::debug!("index compaction skipped: {e}");
            }
        }
        Err(e) => tracing::error!("indexing the standards failed: {e}"),
    }
    match rag::watch::spawn(index) {
        Ok(task) => {
            let _ = task.await;
        }
        Err(e) => tracing::warn!("standards are not watched for changes: {e}"),
    }
}

/// One project's running services.
#[derive(Clone)]
pub struct App {
    pub project: Project,
    pub jobs: Jobs,
    pub registry: Arc<RwLock<Registry>>,
    pub runtime: Arc<Runtime>,
    pub services: Arc<HostServices>,
    /// The standards index, opened on first use.
    pub index: IndexCell,
    /// Standard proposals and search usage.
    pub standards: Arc<Standards>,
    /// Bumped when installed personas change; MCP sessions subscribe.
    pub persona_events: crate::personas::watch::PersonaEvents,
}

/// Opens the project's standards index once, on first use, and shares it.
#[derive(Clone)]
pub struct IndexCell {
    project: Project,
    cell: Arc<tokio::sync::OnceCell<Arc<Index>>>,
    /// Bumped whenever the opened index changes (the standards watcher's
    /// syncs); MCP sessions subscribe to tell clients the resources changed.
    changes: Arc<tokio::sync::watch::Sender<u64>>,
    /// Set when this process starts keeping the index current (a server):
    /// a sync is coming, so a search can wait for the first.
    kept_current: Arc<std::sync::atomic::AtomicBool>,
}

/// How long a search made while a server's first sync runs waits for it
/// (a new project, or the bundled standards embedded on a first run)
/// before it answers from what is indexed so far, saying so.
const FIRST_SYNC_WAIT: Duration = Duration::from_secs(10);

impl IndexCell {
    pub fn new(project: Project) -> Self {
        Self {
            project,
            cell: Arc::new(tokio::sync::OnceCell::new()),
            changes: Arc::new(tokio::sync::watch::channel(0).0),
            kept_current: Default::default(),
        }
    }

    /// The index for a search: when this process keeps it current and its
    /// first sync is still running, after that sync (at most
    /// [`FIRST_SYNC_WAIT`]), so a search made as the server starts is not
    /// answered from an index that holds only part of the standards, or none.
    pub async fn for_search(&self) -> Result<Arc<Index>, SearchError> {
        let index = self.get().await?;
        if self.kept_current.load(std::sync::atomic::Ordering::SeqCst) {
            index.first_sync(FIRST_SYNC_WAIT).await;
        }
        Ok(index)
    }

    /// Follows changes to the indexed standards (before and after the index opens).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The project's standards and the bundled universal ones.
    pub fn sources(project: &Project) -> Vec<Source> {
        vec![
            Source::Dir {
                root: project.standards_dir(),
                prefix: ".agent-os/standards/".into(),
                confine: Some(project.root().to_path_buf()),
            },
            Source::Bundled(rag::UNIVERSAL),
        ]
    }

    /// The index, opened (model loaded, table opened) the first time.
    pub async fn get(&self) -> Result<Arc<Index>, SearchError> {
        self.cell
            .get_or_try_init(|| async {
                let model = Index::load_model().await;
                if let Err(e) = &model {
                    tracing::warn!("standards search runs on full text only: {e}");
                }
                let index = Index::open(&self.project.index_dir()?, Self::sources(&self.project), model).await?;
                let changes = self.changes.clone();
                index.on_change(Arc::new(move || changes.send_modify(|n| *n += 1)));
                Ok::<_, SearchError>(Arc::new(index))
            })
            .await
            .cloned()
    }
}

impl StandardsSearch for IndexCell {
    fn search<'a>(
        &'a self,
        query: &'a str,
        limit: u32,
    ) -> Pin<Box<dyn Future<Output = Result<PersonaSearch, String>> + Send + 'a>> {
        Box::pin(async move {
            let index = self.for_search().await.map_err(|e| e.to_string())?;
            let mut q = Query::new(query);
            q.limit = (limit as usize).clamp(1, rag::MAX_LIMIT);
            let answer = index.search(&q).await.map_err(|e| e.to_string())?;
            persona_hits(answer)
        })
    }
}

/// An answer as the sandbox sees it: each hit with its whole section (a
/// persona quotes one whole rule, not a 480-character snippet). Nothing found while the first build
/// runs is an error saying so ([`rag::INDEX_BUILDING`]) rather than "no
/// standard matched", so the persona can tell the user why.
/// Passages found while it runs are returned, marked incomplete.
fn persona_hits(answer: rag::Answer) -> Result<PersonaSearch, String> {
    let building = answer.note.as_deref().filter(|n| n.contains(rag::INDEX_BUILDING));
    if answer.hits.is_empty()
        && let Some(note) = building
    {
        return Err(note.to_string());
    }
    Ok(PersonaSearch {
        incomplete: building.is_some(),
        hits: answer
            .hits
            .into_iter()
            .map(|h| SearchHit { path: h.path, heading: h.section, text: h.text, score: h.score })
            .collect(),
    })
}

impl App {
    /// Opens the project's state without starting workers.
    pub fn open(project: Project) -> Result<(Self, Vec<PersonaError>), AppError> {
        let jobs = Jobs::open(&project.jobs_db()?)?;
        // One look at what the project ships: its [llm] and its personas
        // are used only where the user trusted their current content.
        let trust = crate::trust::check(&project);
        let llm = crate::llm::LlmAccess::for_project(&trust);
        let (registry, errors) = Registry::from_trust(crate::personas::install::user_dir().as_deref(), trust);
        let runtime = Runtime::new(crate::plugins::components_dir())?;
        let index = IndexCell::new(project.clone());
        let standards = Arc::new(Standards::open(&project)?);
        let services = Arc::new(HostServices {
            project: project.clone(),
            search: Some(Arc::new(index.clone())),
            standards: Some(standards.clone()),
            llm,
        });
        Ok((
            Self {
                project,
                jobs,
                registry: Arc::new(RwLock::new(registry)),
                runtime,
                services,
                index,
                standards,
                persona_events: Default::default(),
            },
            errors,
        ))
    }

    pub fn registry(&self) -> Registry {
        self.registry.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Recovers interrupted jobs, compiles the personas in the background
    /// and starts the workers.
    pub async fn start(&self, settings: &Settings) -> Result<(), AppError> {
        let rec = self.jobs.recover().await?;
        if rec.requeued + rec.failed > 0 {
            tracing::info!(requeued = rec.requeued, failed = rec.failed, "recovered jobs interrupted by a restart");
        }
        let finished = self.standards.finish_interrupted().await;
        if finished > 0 {
            tracing::info!(finished, "completed standard approvals interrupted by a restart");
        }
        let rt = self.runtime.clone();
        let defs = self.registry().all();
        // Compiling the components and indexing the standards are background
        // work: the client's first requests are answered before them.
        crate::background::spawn(async move { rt.warm(defs).await });
        self.jobs.start_workers(settings.workers, Arc::new(self.clone()));
        self.jobs.start_retention(settings.retention);
        let watched = crate::personas::watch::Watched {
            registry: self.registry.clone(),
            project: self.project.clone(),
            runtime: self.runtime.clone(),
            events: self.persona_events.clone(),
        };
        if let Err(e) = crate::personas::watch::spawn(watched) {
            tracing::warn!("installed personas are not watched; restart the server after installing one: {e}");
        }
        if settings.index_standards {
            self.index.kept_current.store(true, std::sync::atomic::Ordering::SeqCst);
            let cell = self.index.clone();
            crate::background::spawn(async move { keep_index_current(cell).await });
        }
        Ok(())
    }
}

impl Runner for App {
    fn run(&self, job: Job, ctl: JobControl) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
        let app = self.clone();
        Box::pin(async move {
            let registry = app.registry();
            let Some(def) = registry.get(&job.persona) else {
                if registry.untrusted().iter().any(|u| u.id == job.persona) {
                    return Outcome::Failed {
                        error: format!(
                            "persona '{}' ships with this project but its current content is not trusted, so it does not run; \
                             the user can review and trust it with `agent-os trust`",
                            crate::text::escape_short(&job.persona, 40)
                        ),
                        partial: None,
                    };
                }
                return Outcome::Failed {
                    error: format!("persona '{}' is not installed on this server", job.persona),
                    partial: None,
                };
            };
            app.runtime.clone().run_job(def, job, ctl, app.services.clone()).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_search_before_the_first_build_says_the_index_is_building() {
        let dir = tempfile::tempdir().unwrap();
        let docs = dir.path().join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("errors.md"), "# Errors\n\nAlways wrap errors with context.\n").unwrap();
        let sources = vec![Source::Dir { root: docs, prefix: String::new(), confine: None }];
        let no_model = Err(rag::EmbedError::MissingRuntime("none".into()));
        let index = Index::open(&dir.path().join("index"), sources, no_model).await.unwrap();
        let mut q = Query::new("errors context");
        q.mode = rag::Mode::FullText;
        q.use_cache = false;
        let err = persona_hits(index.search(&q).await.unwrap()).unwrap_err();
        assert!(err.contains(rag::INDEX_BUILDING), "{err}");
        index.sync().await.unwrap();
        let found = persona_hits(index.search(&q).await.unwrap()).unwrap();
        assert_eq!(found.hits.len(), 1, "{found:?}");
        assert!(!found.incomplete, "{found:?}");
        // Passages found while a build runs (an index kept from the last
        // run, a build half done) come marked incomplete.
        let hit = rag::Hit {
            path: "a.md".into(),
            section: "A".into(),
            domain: String::new(),
            score: 1.0,
            snippet: "Rule.".into(),
            text: "Rule.".into(),
        };
        let partial = rag::Answer {
            hits: vec![hit],
            mode: rag::Mode::FullText,
            note: Some(format!("{}; results may be incomplete", rag::INDEX_BUILDING)),
            cached: false,
            took_ms: 0.0,
        };
        let found = persona_hits(partial).unwrap();
        assert!(found.incomplete && found.hits.len() == 1, "{found:?}");
        let note = crate::plugins::with_index_note("# Review\n".into(), true);
        assert!(note.starts_with("# Review\n\n**Note:** the standards index was still being built"), "{note}");
        assert_eq!(crate::plugins::with_index_note("# Review\n".into(), false), "# Review\n");
    }
}
