//! Standards search: markdown standards chunked by heading, embedded locally,
//! stored in an embedded LanceDB table and ranked by fusing vector and
//! full-text results.
//!
//! [`Index`] owns one table. [`Index::sync`] brings it in line with its
//! sources (re-embedding only files whose content changed), [`watch`] keeps
//! it in line while the server runs, and [`Index::search`] answers queries
//! through a short-lived cache that every change clears.

pub mod chunker;
pub mod embed;
pub mod eval;
pub mod fusion;
mod lru;
pub mod mirror;
pub mod sources;
pub mod store;
pub mod vectors;
pub mod watch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;

pub use embed::{EmbedError, Embedder, ModelPaths};
pub(crate) use sources::walk as walk_markdown;
pub use sources::{Source, UNIVERSAL};
use store::{ChunkStore, Row, StoreError};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 2_000;
/// Most hits one search returns.
pub const MAX_LIMIT: usize = 20;
/// Hits returned when the caller does not say.
pub const DEFAULT_LIMIT: usize = 5;
/// How long an identical query is answered from the cache.
pub const CACHE_TTL: Duration = Duration::from_secs(300);
/// Most answers the query cache holds; the oldest makes room (each holds
/// at most [`MAX_LIMIT`] hits, so the cache stays a few megabytes at most).
pub const CACHE_ENTRIES: usize = 256;
/// Query embeddings kept in memory (each 1.5 kB): a query asked again,
/// by a persona or an agent rephrasing around it, skips the model.
pub const QUERY_VECTORS: usize = 1024;
/// Candidates each ranker contributes before fusion.
const CANDIDATES: usize = 40;
/// Said (in [`Answer::note`]) while the first build of the index runs;
/// personas recognise it in the search error they get meanwhile.
pub const INDEX_BUILDING: &str = "the standards index is still being built";

/// Characters of a passage shown as its snippet.
const SNIPPET_CHARS: usize = 480;
/// Weight of the full-text ranking against the vector ranking in fusion
/// (chosen on the bench corpus: 0.6 gave the best nDCG@5 at equal MRR).
const FTS_WEIGHT: f64 = 0.6;
/// Texts embedded per model call while indexing.
const EMBED_BATCH: usize = 64;

/// Which rankers answer a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Hybrid,
    Vector,
    FullText,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "hybrid" => Ok(Self::Hybrid),
            "vector" => Ok(Self::Vector),
            "fts" | "full-text" | "text" => Ok(Self::FullText),
            other => Err(format!("unknown search mode '{other}'; use hybrid, vector or fts")),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Hybrid => "hybrid",
            Self::Vector => "vector",
            Self::FullText => "full-text",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the query is empty: say what to look for")]
    EmptyQuery,
    #[error("the query is {len} characters long; the limit is {MAX_QUERY_CHARS}")]
    QueryTooLong { len: usize },
    #[error("limit must be between 1 and {MAX_LIMIT}, got {0}")]
    BadLimit(i64),
    #[error("vector search needs the embedding model: {0}")]
    NoModel(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    State(#[from] crate::dirs::DirsError),
}

/// One query.
#[derive(Debug, Clone)]
pub struct Query {
    pub text: String,
    pub limit: usize,
    pub domain: Option<String>,
    pub mode: Mode,
    /// Return several passages of one document (default: its best only).
    pub all_passages: bool,
    /// Answer from / fill the query cache.
    pub use_cache: bool,
}

impl Query {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            limit: DEFAULT_LIMIT,
            domain: None,
            mode: Mode::Hybrid,
            all_passages: false,
            use_cache: true,
        }
    }

    /// Checks the query against the limits, with a reason when it fails.
    pub fn validate(&self) -> Result<(), SearchError> {
        if self.text.trim().is_empty() {
            return Err(SearchError::EmptyQuery);
        }
        let len = self.text.chars().count();
        if len > MAX_QUERY_CHARS {
            return Err(SearchError::QueryTooLong { len });
        }
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(SearchError::BadLimit(self.limit as i64));
        }
        Ok(())
    }
}

/// One search result: a passage of a standard with its citation.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Hit {
    pub path: String,
    pub section: String,
    pub domain: String,
    pub score: f32,
    pub snippet: String,
    /// The whole section the passage is (its markdown, heading line left
    /// out): what a persona quotes as one rule. Not part of the tool output.
    #[serde(skip)]
    #[schemars(skip)]
    pub text: String,
}

/// Hits and how they were found.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub hits: Vec<Hit>,
    /// The rankers that actually ran.
    pub mode: Mode,
    /// Said when the answer is degraded (no model, index still building).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub cached: bool,
    pub took_ms: f64,
}

/// What one [`Index::sync`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub files: usize,
    pub changed: usize,
    pub removed: usize,
    pub chunks_written: usize,
    pub chunks_total: usize,
    /// (path, reason) of files left out.
    pub skipped: Vec<(String, String)>,
    pub took_ms: f64,
    pub rebuilt: bool,
}

/// What [`Index::staleness`] found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Staleness {
    /// Whether the table exists at all.
    pub built: bool,
    pub files: usize,
    /// Files new or edited since they were indexed.
    pub changed: usize,
    /// Indexed files that no longer exist.
    pub removed: usize,
    /// Files that cannot be indexed (binary, not UTF-8, too large).
    pub skipped: usize,
}

type CacheKey = (Mode, String, usize, Option<String>, bool);
/// A cached answer: when it was stored, the generation it was ranked at, its hits.
type Cached = (Instant, u64, Vec<Hit>);

/// A standards index over a set of sources.
pub struct Index {
    dir: PathBuf,
    sources: Vec<Source>,
    store: RwLock<Arc<ChunkStore>>,
    writer: tokio::sync::Mutex<()>,
    embedder: Option<Arc<Embedder>>,
    vectors: Option<Arc<vectors::VectorCache>>,
    /// Why there is no embedder, when there is none.
    no_model: Option<String>,
    /// Answers by query, with when and at which [`Index::generation`] they
    /// were ranked: one ranked before a change is never given after it,
    /// even when it was stored after the change cleared the cache.
    cache: Mutex<HashMap<CacheKey, Cached>>,
    /// Embeddings of recent queries. A vector depends only on the text and
    /// the model, which is fixed for the life of the index, so a change to
    /// the table leaves them valid.
    query_vectors: Mutex<lru::Lru<String, Arc<[f32]>>>,
    /// Query embeddings the model computed (the others came from `query_vectors`).
    queries_embedded: AtomicU64,
    generation: AtomicU64,
    /// Bumped when the rows change (not when only the full-text index does).
    rows_version: AtomicU64,
    /// The embedded passages in memory, with the `rows_version` they show.
    mirror: Mutex<Option<(u64, Arc<mirror::Mirror>)>>,
    chunks: AtomicUsize,
    synced_once: AtomicBool,
    /// Whether a sync or rebuild has ended yet, well or not (see
    /// [`Index::first_sync`]).
    first_sync: tokio::sync::watch::Sender<bool>,
    progress: Mutex<Option<ProgressFn>>,
    /// Called after every change to the table (see [`Index::on_change`]).
    change_hook: std::sync::OnceLock<ChangeFn>,
}

/// Called after the table changed.
pub type ChangeFn = Arc<dyn Fn() + Send + Sync>;

/// Called with (chunks embedded, chunks to embed) while indexing.
pub type ProgressFn = Arc<dyn Fn(usize, usize) + Send + Sync>;

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

/// The first `max` characters of `text` on one line, cut at a word.
fn snippet(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let end = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", &cut[..end])
}

impl Index {
    /// Opens (or creates) the index in `dir` over `sources`. A table that
    /// cannot be opened is deleted and created afresh; it is only a cache.
    pub async fn open(
        dir: &Path,
        sources: Vec<Source>,
        model: Result<Embedder, EmbedError>,
    ) -> Result<Self, SearchError> {
        let store = match ChunkStore::open(dir).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("standards index unreadable ({e}); rebuilding it");
                remove_dir(dir)?;
                ChunkStore::open(dir).await?
            }
        };
        let (embedder, no_model) = match model {
            Ok(m) => (Some(Arc::new(m)), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let chunks = store.count().await.unwrap_or(0);
        let vectors = embedder.as_ref().and_then(|_| {
            let path = vectors::default_path()?;
            vectors::VectorCache::open(&path)
                .map_err(|e| tracing::warn!("embedding cache {} unusable ({e}); embedding without it", path.display()))
                .ok()
                .map(Arc::new)
        });
        Ok(Self {
            dir: dir.to_path_buf(),
            sources,
            store: RwLock::new(Arc::new(store)),
            writer: tokio::sync::Mutex::new(()),
            embedder,
            vectors,
            no_model,
            cache: Mutex::new(HashMap::new()),
            query_vectors: Mutex::new(lru::Lru::new(QUERY_VECTORS)),
            queries_embedded: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            rows_version: AtomicU64::new(0),
            mirror: Mutex::new(None),
            chunks: AtomicUsize::new(chunks),
            synced_once: AtomicBool::new(false),
            first_sync: tokio::sync::watch::channel(false).0,
            progress: Mutex::new(None),
            change_hook: std::sync::OnceLock::new(),
        })
    }

    /// Loads the model in the usual places, saying why when it cannot.
    pub async fn load_model() -> Result<Embedder, EmbedError> {
        let paths = ModelPaths::from_env()?;
        tokio::task::spawn_blocking(move || Embedder::load(&paths))
            .await
            .unwrap_or_else(|e| Err(EmbedError::Load(format!("model loader crashed: {e}"))))
    }

    /// Reports embedding progress of later syncs to `f` (e.g. a progress bar).
    pub fn on_progress(&self, f: Option<ProgressFn>) {
        *self.progress.lock().unwrap_or_else(|p| p.into_inner()) = f;
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// Why only full-text search is available, if it is.
    pub fn degraded(&self) -> Option<&str> {
        self.no_model.as_deref()
    }

    pub fn model_name(&self) -> Option<&str> {
        self.embedder.as_ref().map(|e| e.name.as_str())
    }

    /// Bumped on every change to the table.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn chunk_count(&self) -> usize {
        self.chunks.load(Ordering::SeqCst)
    }

    /// How many query embeddings the model has computed (repeated queries
    /// are answered from memory and not counted).
    pub fn queries_embedded(&self) -> u64 {
        self.queries_embedded.load(Ordering::Relaxed)
    }

    /// The embedding of a query: from memory when it was asked before,
    /// else from the model (off the async runtime).
    async fn query_vector(&self, text: &str) -> Result<Arc<[f32]>, SearchError> {
        if let Some(v) = self.query_vectors.lock().unwrap_or_else(|p| p.into_inner()).get(text) {
            return Ok(v);
        }
        let Some(embedder) = self.embedder.clone() else {
            return Err(SearchError::NoModel(self.no_model.clone().unwrap_or_default()));
        };
        let query = text.to_string();
        let vector: Arc<[f32]> = tokio::task::spawn_blocking(move || embedder.embed(&[query.as_str()]))
            .await
            .map_err(|e| SearchError::Io(format!("embedding the query failed: {e}")))??
            .pop()
            .unwrap_or_default()
            .into();
        self.queries_embedded.fetch_add(1, Ordering::Relaxed);
        self.query_vectors.lock().unwrap_or_else(|p| p.into_inner()).put(text.to_string(), vector.clone());
        Ok(vector)
    }

    fn current(&self) -> Arc<ChunkStore> {
        self.store.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The stamp stored with each document: content hash plus the model
    /// that embedded it, so a change of model re-embeds everything.
    fn stamp(&self, content_hash: &str) -> String {
        format!("{content_hash}:{}", self.model_name().unwrap_or("none"))
    }

    fn table_present(&self) -> bool {
        self.dir.join(format!("{}.lance", store::TABLE)).is_dir()
    }

    /// The rows changed: answers and the mirror are stale.
    fn changed(&self) {
        self.rows_version.fetch_add(1, Ordering::SeqCst);
        *self.mirror.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.answers_changed();
        if let Some(f) = self.change_hook.get() {
            f();
        }
    }

    /// The ranking may have changed (the full-text index was rebuilt): cached answers are stale.
    fn answers_changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The embedded passages in memory, read from `store` when the rows
    /// changed since; `None` when the table is too large to hold.
    async fn mirror(&self, store: &ChunkStore) -> Result<Option<Arc<mirror::Mirror>>, SearchError> {
        let version = self.rows_version.load(Ordering::SeqCst);
        if let Some((v, m)) = &*self.mirror.lock().unwrap_or_else(|p| p.into_inner())
            && *v == version
        {
            return Ok(Some(m.clone()));
        }
        if self.embedder.is_none() || self.chunk_count() > mirror::MAX_CHUNKS {
            return Ok(None);
        }
        let m = Arc::new(mirror::Mirror::from_batches(&store.vectors().await?));
        // Kept only if no change landed while it was read.
        if self.rows_version.load(Ordering::SeqCst) == version {
            *self.mirror.lock().unwrap_or_else(|p| p.into_inner()) = Some((version, m.clone()));
        }
        Ok(Some(m))
    }

    /// Calls `f` after every later change to the table (a file added,
    /// edited or removed, a rebuild). Set once; later calls are ignored.
    pub fn on_change(&self, f: ChangeFn) {
        let _ = self.change_hook.set(f);
    }

    /// Brings the table in line with the sources. A damaged table is
    /// rebuilt from scratch.
    pub async fn sync(&self) -> Result<SyncReport, SearchError> {
        let _w = self.writer.lock().await;
        let out = if !self.table_present() {
            self.rebuild_locked("the index directory is missing").await
        } else {
            match self.sync_locked().await {
                Ok(r) => Ok(r),
                Err(SearchError::Store(e)) => self.rebuild_locked(&e.to_string()).await,
                Err(e) => Err(e),
            }
        };
        self.first_sync.send_replace(true);
        out
    }

    /// Deletes the table and indexes every source again.
    pub async fn rebuild(&self) -> Result<SyncReport, SearchError> {
        let _w = self.writer.lock().await;
        let out = self.rebuild_locked("a rebuild was asked for").await;
        self.first_sync.send_replace(true);
        out
    }

    /// Waits, at most `within`, until the first sync or rebuild of this
    /// index has ended (well or not); says whether one has. For whoever
    /// knows a sync is coming: a search made while the first one runs
    /// would see only part of the standards, or none.
    pub async fn first_sync(&self, within: Duration) -> bool {
        let mut ended = self.first_sync.subscribe();
        tokio::time::timeout(within, ended.wait_for(|done| *done)).await.is_ok_and(|r| r.is_ok())
    }

    async fn rebuild_locked(&self, why: &str) -> Result<SyncReport, SearchError> {
        tracing::warn!(dir = %self.dir.display(), "rebuilding the standards index: {why}");
        remove_dir(&self.dir)?;
        let fresh = Arc::new(ChunkStore::open(&self.dir).await?);
        *self.store.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        self.chunks.store(0, Ordering::SeqCst);
        self.changed();
        let mut report = self.sync_locked().await?;
        report.rebuilt = true;
        Ok(report)
    }

    /// Reads every source file (off the async runtime).
    async fn read_sources(&self) -> Result<(Vec<sources::SourceFile>, Vec<(String, String)>), SearchError> {
        let sources = self.sources.clone();
        tokio::task::spawn_blocking(move || sources::collect(&sources))
            .await
            .map_err(|e| SearchError::Io(format!("reading the standards failed: {e}")))
    }

    /// The files new or edited since they were indexed, and the indexed
    /// documents whose file is gone.
    fn diff<'f>(
        &self,
        files: &'f [sources::SourceFile],
        indexed: &HashMap<String, String>,
    ) -> (Vec<&'f sources::SourceFile>, Vec<String>) {
        let present: std::collections::HashSet<&str> = files.iter().map(|f| f.key.as_str()).collect();
        let gone = indexed.keys().filter(|k| !present.contains(k.as_str())).cloned().collect();
        let todo = files.iter().filter(|f| indexed.get(&f.key) != Some(&self.stamp(&f.hash))).collect();
        (todo, gone)
    }

    async fn sync_locked(&self) -> Result<SyncReport, SearchError> {
        let started = Instant::now();
        let store = self.current();
        let (files, skipped) = self.read_sources().await?;
        for (path, why) in &skipped {
            tracing::warn!("skipped standard {path}: {why}");
        }
        let indexed = store.documents().await?;
        let mut report = SyncReport { files: files.len(), skipped, ..Default::default() };

        let (todo, mut stale) = self.diff(&files, &indexed);
        report.removed = stale.len();
        report.changed = todo.len();
        stale.extend(todo.iter().filter(|f| indexed.contains_key(&f.key)).map(|f| f.key.clone()));

        let mut rows = Vec::new();
        for f in &todo {
            let mut doc = chunker::parse(&f.rel, &f.text);
            doc.path = f.key.clone();
            for (i, c) in doc.chunks.iter().enumerate() {
                rows.push(Row {
                    id: format!("{}#{i}", f.key),
                    path: f.key.clone(),
                    domain: doc.domain.clone(),
                    section: c.section.clone(),
                    text: c.indexed_text(),
                    hash: self.stamp(&f.hash),
                    vector: None,
                });
            }
        }
        if let Some(embedder) = &self.embedder {
            let progress = self.progress.lock().unwrap_or_else(|p| p.into_inner()).clone();
            rows = embed_rows(embedder.clone(), self.vectors.clone(), rows, progress).await?;
        }
        report.chunks_written = rows.len();

        let needs_fts = !store.has_fts().await?;
        if !stale.is_empty() {
            store.delete_paths(&stale).await?;
        }
        let wrote = !rows.is_empty();
        store.add(rows).await?;
        let rows_changed = wrote || !stale.is_empty();
        // Published before any change is announced: a search that sees the
        // new generation must also see the rows (with a count of 0 it answers
        // empty, and that answer would be cached at the new generation).
        let total = store.count().await?;
        // With a full-text index in place the new rows are searchable now:
        // full-text search also scans the rows its index does not cover yet,
        // so the rebuild below only makes it faster. (Without one, full-text
        // search fails until it is built.)
        let early = rows_changed && !needs_fts;
        if early {
            self.chunks.store(total, Ordering::SeqCst);
            self.changed();
            // Read the new rows into memory now rather than in the next search.
            if let Err(e) = self.mirror(&store).await {
                tracing::debug!("standards vectors not held in memory: {e}");
            }
        }
        if rows_changed || needs_fts {
            store.rebuild_fts().await?;
            self.chunks.store(total, Ordering::SeqCst);
            if early {
                self.answers_changed();
            } else {
                self.changed();
            }
        }
        self.chunks.store(total, Ordering::SeqCst);
        self.synced_once.store(true, Ordering::SeqCst);
        report.chunks_total = total;
        report.took_ms = ms(started.elapsed());
        if report.changed + report.removed > 0 {
            tracing::info!(
                changed = report.changed,
                removed = report.removed,
                chunks = report.chunks_written,
                took_ms = report.took_ms,
                "standards index updated"
            );
        }
        Ok(report)
    }

    /// How far the table is behind the sources, changing nothing.
    pub async fn staleness(&self) -> Result<Staleness, SearchError> {
        let (files, skipped) = self.read_sources().await?;
        let mut s =
            Staleness { files: files.len(), skipped: skipped.len(), built: self.table_present(), ..Default::default() };
        if !s.built {
            s.changed = files.len();
            return Ok(s);
        }
        let indexed = self.current().documents().await?;
        let (todo, gone) = self.diff(&files, &indexed);
        s.changed = todo.len();
        s.removed = gone.len();
        Ok(s)
    }

    /// Compacts the table and drops old versions (run after a large sync).
    pub async fn compact(&self) -> Result<(), SearchError> {
        let _w = self.writer.lock().await;
        Ok(self.current().compact().await?)
    }

    /// Answers one query.
    pub async fn search(&self, q: &Query) -> Result<Answer, SearchError> {
        let started = Instant::now();
        q.validate()?;
        let text = q.text.trim().to_string();
        let mut note = None;
        let mode = match (q.mode, &self.embedder) {
            (Mode::Vector, None) => {
                return Err(SearchError::NoModel(self.no_model.clone().unwrap_or_default()));
            }
            (Mode::Hybrid, None) => {
                note = Some(format!(
                    "full-text search only (no embedding model: {})",
                    self.no_model.as_deref().unwrap_or("not loaded")
                ));
                Mode::FullText
            }
            (m, _) => m,
        };
        if !self.synced_once.load(Ordering::SeqCst) {
            let n = format!("{INDEX_BUILDING}; results may be incomplete");
            note = Some(match note {
                Some(prev) => format!("{prev}; {n}"),
                None => n,
            });
        }
        let key: CacheKey = (mode, text.clone(), q.limit, q.domain.clone(), q.all_passages);
        if q.use_cache {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, ranked_at, hits)) = cache.get(&key)
                && at.elapsed() < CACHE_TTL
                && *ranked_at == self.generation()
            {
                return Ok(Answer { hits: hits.clone(), mode, note, cached: true, took_ms: ms(started.elapsed()) });
            }
        }
        let generation = self.generation();
        let hits = match self.rank(&text, q, mode).await {
            Ok(h) => h,
            Err(SearchError::Store(e)) => {
                // A damaged or deleted table: rebuild it and answer again.
                tracing::warn!("standards search failed ({e}); rebuilding the index");
                {
                    let _w = self.writer.lock().await;
                    self.rebuild_locked(&e.to_string()).await?;
                }
                self.rank(&text, q, mode).await?
            }
            Err(e) => return Err(e),
        };
        if q.use_cache && generation == self.generation() {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            let now = self.generation();
            cache.retain(|_, (at, ranked_at, _)| at.elapsed() < CACHE_TTL && *ranked_at == now);
            while cache.len() >= CACHE_ENTRIES {
                let Some(oldest) = cache.iter().min_by_key(|(_, (at, _, _))| *at).map(|(k, _)| k.clone()) else {
                    break;
                };
                cache.remove(&oldest);
            }
            cache.insert(key, (Instant::now(), generation, hits.clone()));
        }
        Ok(Answer { hits, mode, note, cached: false, took_ms: ms(started.elapsed()) })
    }

    async fn rank(&self, text: &str, q: &Query, mode: Mode) -> Result<Vec<Hit>, SearchError> {
        if !self.table_present() {
            return Err(SearchError::Store(StoreError::Missing(self.dir.clone())));
        }
        let store = self.current();
        if self.chunk_count() == 0 {
            return Ok(Vec::new());
        }
        let filter = q.domain.as_deref().map(|d| format!("domain = {}", store::quote(d)));
        let want = if q.all_passages { q.limit } else { CANDIDATES.max(q.limit * 4) };
        // The two rankers run at once: full text on a task of its own while
        // this one embeds the query (or finds its vector) and ranks by it.
        let full_text = matches!(mode, Mode::Hybrid | Mode::FullText).then(|| {
            let (store, text, filter) = (store.clone(), text.to_string(), filter.clone());
            tokio::spawn(async move { store.text_search(&text, want, filter.as_deref()).await })
        });
        let mut lists = Vec::new();
        if matches!(mode, Mode::Hybrid | Mode::Vector) {
            let vector = self.query_vector(text).await?;
            let found = match self.mirror(&store).await? {
                Some(m) => m.nearest(&vector, want, q.domain.as_deref()),
                None => store.vector_search(&vector, want, filter.as_deref()).await?,
            };
            lists.push((1.0, found));
        }
        if let Some(task) = full_text {
            let found = task.await.map_err(|e| SearchError::Io(format!("full-text search crashed: {e}")))??;
            lists.push((FTS_WEIGHT, found));
        }
        let fused = fusion::rrf(&lists);
        let top = if q.all_passages {
            fused.into_iter().take(q.limit).collect()
        } else {
            fusion::best_per_document(fused, q.limit)
        };
        Ok(top
            .into_iter()
            .map(|s| {
                let body = s.passage.text.split_once('\n').map(|(_, b)| b).unwrap_or(&s.passage.text);
                Hit {
                    path: s.passage.path,
                    section: s.passage.section,
                    domain: s.passage.domain,
                    score: (s.score * 1000.0).round() / 1000.0,
                    snippet: snippet(body, SNIPPET_CHARS),
                    text: body.trim().to_string(),
                }
            })
            .collect())
    }
}

async fn embed_rows(
    embedder: Arc<Embedder>,
    cache: Option<Arc<vectors::VectorCache>>,
    mut rows: Vec<Row>,
    progress: Option<ProgressFn>,
) -> Result<Vec<Row>, SearchError> {
    // Embedding in bulk is background work: the agent's own queries come first.
    crate::background::spawn_blocking(move || {
        let keys: Vec<[u8; 32]> = rows.iter().map(|r| vectors::key(&embedder.name, &r.text)).collect();
        if let Some(cache) = &cache {
            for (r, v) in rows.iter_mut().zip(cache.get_many(&keys, embed::DIM)) {
                r.vector = v;
            }
        }
        let mut missing: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].vector.is_none()).collect();
        // A batch is padded to its longest text: embedding passages of like
        // length together spends the model's time on words, not padding.
        missing.sort_by_key(|&i| rows[i].text.len());
        let total = rows.len();
        let mut done = total - missing.len();
        if let Some(p) = &progress {
            p(done, total);
        }
        for batch in missing.chunks(EMBED_BATCH) {
            let texts: Vec<&str> = batch.iter().map(|&i| rows[i].text.as_str()).collect();
            let computed = embedder.embed(&texts)?;
            if let Some(cache) = &cache {
                let items: Vec<([u8; 32], &[f32])> =
                    batch.iter().zip(&computed).map(|(&i, v)| (keys[i], v.as_slice())).collect();
                cache.put_many(&items);
            }
            for (&i, v) in batch.iter().zip(computed) {
                rows[i].vector = Some(v);
            }
            done += batch.len();
            if let Some(p) = &progress {
                p(done, total);
            }
        }
        Ok(rows)
    })
    .await
    .map_err(|e| SearchError::Io(format!("embedding crashed: {e}")))?
}

fn remove_dir(dir: &Path) -> Result<(), SearchError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SearchError::Io(format!("could not remove the index at {}: {e}", dir.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_checked() {
        assert!(matches!(Query::new("  ").validate(), Err(SearchError::EmptyQuery)));
        let long = Query::new("x".repeat(MAX_QUERY_CHARS + 1));
        let err = long.validate().unwrap_err().to_string();
        assert!(err.contains(&MAX_QUERY_CHARS.to_string()), "{err}");
        let mut q = Query::new("ok");
        q.limit = 0;
        assert!(q.validate().is_err());
        q.limit = 5;
        assert!(q.validate().is_ok());
    }

    /// A full-text index (no model) of one file about errors, not synced yet.
    async fn unsynced_errors_index() -> (tempfile::TempDir, Index) {
        let dir = tempfile::tempdir().unwrap();
        let docs = dir.path().join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("errors.md"), "# Errors\n\nAlways wrap errors with context.\n").unwrap();
        let sources = vec![Source::Dir { root: docs, prefix: String::new(), confine: None }];
        let no_model = Err(EmbedError::MissingRuntime("none".into()));
        let index = Index::open(&dir.path().join("index"), sources, no_model).await.unwrap();
        (dir, index)
    }

    /// The same, synced.
    async fn errors_index() -> (tempfile::TempDir, Index) {
        let (dir, index) = unsynced_errors_index().await;
        index.sync().await.unwrap();
        (dir, index)
    }

    /// An answer stored after a change cleared the cache (it was ranked
    /// before the change and finished after the clear) is not given again.
    #[tokio::test]
    async fn an_answer_from_before_a_change_is_never_given_after_it() {
        let (_dir, index) = errors_index().await;
        let mut q = Query::new("errors context");
        q.mode = Mode::FullText;
        assert!(!index.search(&q).await.unwrap().cached);
        assert!(index.search(&q).await.unwrap().cached);
        // The change lands (its clear ran before this answer was stored).
        index.generation.fetch_add(1, Ordering::SeqCst);
        assert!(!index.search(&q).await.unwrap().cached, "an answer from before the change was given");
        assert!(index.search(&q).await.unwrap().cached, "the new answer is cached");
    }

    /// A search can wait for the first sync to end instead of ranking an
    /// index that holds none of the standards yet.
    #[tokio::test]
    async fn a_search_can_wait_for_the_first_sync() {
        let (_dir, index) = unsynced_errors_index().await;
        let index = Arc::new(index);
        assert!(!index.first_sync(Duration::from_millis(50)).await, "no sync has run");
        let mut q = Query::new("errors context");
        q.use_cache = false;
        assert!(index.search(&q).await.unwrap().hits.is_empty());
        let syncing = index.clone();
        let sync = tokio::spawn(async move { syncing.sync().await.unwrap() });
        assert!(index.first_sync(Duration::from_secs(60)).await);
        let answer = index.search(&q).await.unwrap();
        assert_eq!(answer.hits.len(), 1, "{answer:?}");
        assert!(!answer.note.unwrap_or_default().contains(INDEX_BUILDING));
        sync.await.unwrap();
        // Ended is ended: later waits return at once.
        assert!(index.first_sync(Duration::ZERO).await);
    }

    #[tokio::test]
    async fn the_query_cache_is_bounded() {
        let (_dir, index) = errors_index().await;
        for i in 0..CACHE_ENTRIES + 40 {
            let mut q = Query::new(format!("errors context {i}"));
            q.mode = Mode::FullText;
            index.search(&q).await.unwrap();
        }
        let held = index.cache.lock().unwrap().len();
        assert_eq!(held, CACHE_ENTRIES);
        // The newest answers are the ones kept.
        let mut q = Query::new(format!("errors context {}", CACHE_ENTRIES + 39));
        q.mode = Mode::FullText;
        assert!(index.search(&q).await.unwrap().cached);
    }

    /// Passages are embedded in batches ordered by length; each must still
    /// get its own vector (the one it has embedded alone).
    #[tokio::test]
    async fn passages_embedded_in_length_order_keep_their_own_vectors() {
        let Ok(model) = Index::load_model().await else {
            eprintln!("skipped: no embedding model installed");
            return;
        };
        let texts: Vec<String> = (0..70)
            .map(|i| match i % 3 {
                0 => format!("Rule {i}: retry idempotent calls."),
                1 => format!(
                    "Rule {i}: {}",
                    "Every migration takes a lock timeout and runs in small steps. ".repeat(i % 7 + 1)
                ),
                _ => format!("Rule {i}: secrets come from the vault, never from the repository or the logs."),
            })
            .collect();
        let rows: Vec<Row> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Row {
                id: i.to_string(),
                path: format!("{i}.md"),
                domain: String::new(),
                section: String::new(),
                text: t.clone(),
                hash: String::new(),
                vector: None,
            })
            .collect();
        let model = Arc::new(model);
        let out = embed_rows(model.clone(), None, rows, None).await.unwrap();
        for (row, text) in out.iter().zip(&texts) {
            assert_eq!(&row.text, text, "rows keep their order");
            let alone = model.embed(&[text.as_str()]).unwrap().remove(0);
            let got = row.vector.as_ref().unwrap();
            let cos: f32 = got.iter().zip(&alone).map(|(a, b)| a * b).sum();
            assert!(cos > 0.999, "{text}: cosine {cos} with its own embedding");
        }
    }

    /// Repeated queries take their embedding from memory and rank as the
    /// first time; an edit is found by vector search at once (the passages
    /// in memory follow the table) and a deleted file is gone. Needs the
    /// embedding model (scripts/setup-models.sh); says so and passes without.
    #[tokio::test]
    async fn repeated_queries_reuse_their_embedding_and_follow_edits() {
        let Ok(model) = Index::load_model().await else {
            eprintln!("skipped: no embedding model installed");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let docs = dir.path().join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("errors.md"), "# Errors\n\nAlways wrap errors with context.\n").unwrap();
        std::fs::write(docs.join("secrets.md"), "# Secrets\n\nLoad credentials from the vault.\n").unwrap();
        let sources = vec![Source::Dir { root: docs.clone(), prefix: String::new(), confine: None }];
        let index = Index::open(&dir.path().join("index"), sources, Ok(model)).await.unwrap();
        index.sync().await.unwrap();
        let paths = |a: &Answer| a.hits.iter().map(|h| h.path.clone()).collect::<Vec<_>>();
        let mut q = Query::new("where do credentials come from");
        q.use_cache = false;
        let first = index.search(&q).await.unwrap();
        assert_eq!(index.queries_embedded(), 1);
        let again = index.search(&q).await.unwrap();
        assert!(!again.cached);
        assert_eq!(index.queries_embedded(), 1, "the second search reuses the embedding");
        assert_eq!(again.hits, first.hits);
        assert_eq!(paths(&first)[0], "secrets.md");
        q.mode = Mode::Vector;
        let vector = index.search(&q).await.unwrap();
        assert_eq!(index.queries_embedded(), 1, "one embedding per text, whatever the mode");
        assert_eq!(paths(&vector)[0], "secrets.md");

        std::fs::write(docs.join("vault.md"), "# Vault\n\nCredentials come from the vault agent at start-up.\n")
            .unwrap();
        std::fs::remove_file(docs.join("secrets.md")).unwrap();
        index.sync().await.unwrap();
        let after = index.search(&q).await.unwrap();
        assert_eq!(paths(&after)[0], "vault.md", "{after:?}");
        assert!(!paths(&after).contains(&"secrets.md".to_string()), "{after:?}");
        assert_eq!(index.queries_embedded(), 1);
        let mut other = Query::new("error context");
        other.use_cache = false;
        index.search(&other).await.unwrap();
        assert_eq!(index.queries_embedded(), 2, "a new text is embedded");
    }

    #[test]
    fn snippets_cut_at_a_word() {
        let s = snippet("alpha beta\n\ngamma delta", 12);
        assert_eq!(s, "alpha beta…");
        assert_eq!(snippet("short", 12), "short");
    }
}
