//! The wasmtime sandbox that runs persona components.
//!
//! One [`Engine`] per process with epoch interruption driven by a ticker
//! thread; one [`Store`] per job with one memory budget for all its memories
//! and tables, a deadline and a cancel flag checked at every tick; a WASI
//! context with nothing in it (no directories, no environment, no network,
//! stdout/stderr captured into small buffers). Compiled components are cached on disk, keyed by the
//! component's sha256 and the engine's compatibility hash.

mod cache;
mod host_impl;
#[cfg(test)]
mod limiter_tests;
#[cfg(test)]
mod read_file_tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub use cache::{CompileCache, default_dir as components_dir};
pub use host_impl::{HostServices, INDEX_INCOMPLETE_NOTE, PersonaSearch, SearchHit, StandardsSearch, with_index_note};

use crate::jobs::{Job, JobControl, Outcome};
use crate::personas::PersonaDef;

mod bindings {
    wasmtime::component::bindgen!({
        world: "persona",
        path: "../wit/v0.1.0",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

use bindings::Persona as PersonaWorld;
use bindings::agent_os::persona::types as wit;

/// How often the epoch advances; the granularity of cancel and timeout.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Largest review a persona may return.
pub const MAX_RESULT_BYTES: usize = 1 << 20;
/// What a persona may print to stdout/stderr before writes fail.
const OUTPUT_CAPTURE_BYTES: usize = 64 << 10;
/// Wasm stack for a persona; unbounded recursion traps here.
const MAX_WASM_STACK: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("could not start the WebAssembly engine: {0}")]
    Engine(String),
    #[error("persona '{id}' is not a valid component: {reason}")]
    Compile { id: String, reason: String },
}

/// Why the host stopped a component.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Interrupt {
    #[error("cancelled")]
    Cancelled,
    #[error("timed out after {0} s")]
    TimedOut(u64),
}

/// Bytes a table element counts for against the budget: wasmtime keeps a
/// pointer per element.
const TABLE_ELEMENT_BYTES: usize = std::mem::size_of::<usize>();
/// Core instances, tables and linear memories one component may create.
const MAX_INSTANCES: usize = 32;
const MAX_TABLES: usize = 64;
const MAX_MEMORIES: usize = 16;

/// One budget for a whole component instance (one store): the sum of the
/// current sizes of all its linear memories and tables, however many it
/// declares, may not pass `limits.memory-mb`. Remembers whether the guest
/// ran into it.
struct Limiter {
    budget: usize,
    used: usize,
    memory_denied: bool,
}

impl Limiter {
    fn new(budget: usize) -> Self {
        Self { budget, used: 0, memory_denied: false }
    }

    /// Charges `extra` bytes if they fit. A growth that wasmtime then fails
    /// to make stays charged: counting too much only ever denies more.
    fn charge(&mut self, extra: usize) -> bool {
        match self.used.checked_add(extra) {
            Some(total) if total <= self.budget => {
                self.used = total;
                true
            }
            _ => {
                self.memory_denied = true;
                false
            }
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        // Past the memory's own maximum wasmtime refuses anyway; charge nothing.
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        Ok(self.charge(desired.saturating_sub(current)))
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        Ok(self.charge(desired.saturating_sub(current).saturating_mul(TABLE_ELEMENT_BYTES)))
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

/// Per-job state inside the store.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Limiter,
    /// What the guest printed to stdout; only its size matters.
    stdout: MemoryOutputPipe,
    /// What the guest printed to stderr (a panic message, usually).
    stderr: MemoryOutputPipe,
    pub(crate) job: JobCtl,
}

/// What the host functions know about the job they serve.
pub(crate) struct JobCtl {
    pub persona: Arc<PersonaDef>,
    pub control: Option<JobControl>,
    pub services: Arc<HostServices>,
    /// Progress messages so far, kept as the partial result of a stopped job.
    pub trail: Vec<String>,
    /// A standards search found passages while the index was still being built.
    pub index_incomplete: bool,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// The sandbox: an engine, a linker with the host functions, and a cache.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    cache: CompileCache,
}

impl Runtime {
    /// `cache_dir`: where compiled components are kept; `None` keeps them in memory only.
    pub fn new(cache_dir: impl Into<Option<std::path::PathBuf>>) -> Result<Arc<Self>, PluginError> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.max_wasm_stack(MAX_WASM_STACK);
        let engine = Engine::new(&config).map_err(|e| PluginError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| PluginError::Engine(e.to_string()))?;
        PersonaWorld::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| PluginError::Engine(e.to_string()))?;
        let cache = CompileCache::new(cache_dir.into(), &engine);
        start_ticker(&engine);
        Ok(Arc::new(Self { engine, linker, cache }))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The compiled component, from memory, the disk cache, or compiled now.
    /// Blocking: call from `spawn_blocking`.
    pub fn compile(&self, def: &PersonaDef) -> Result<Component, PluginError> {
        self.cache.get_or_compile(&self.engine, def)
    }

    /// Compiles every persona ahead of its first job.
    pub async fn warm(self: &Arc<Self>, defs: Vec<Arc<PersonaDef>>) {
        for def in defs {
            let rt = self.clone();
            let id = def.manifest.id.clone();
            match tokio::task::spawn_blocking(move || rt.compile(&def)).await {
                Ok(Ok(_)) => tracing::debug!(persona = %id, "component ready"),
                Ok(Err(e)) => tracing::warn!("{e}"),
                Err(e) => tracing::warn!(persona = %id, "compile task failed: {e}"),
            }
        }
    }

    /// Instantiates a persona and calls `describe`; used by checks and benchmarks.
    pub async fn describe(
        self: &Arc<Self>,
        def: Arc<PersonaDef>,
        services: Arc<HostServices>,
    ) -> Result<(String, String), String> {
        let (mut store, world) = self.instantiate(def, None, services).await?;
        let info = world.call_describe(&mut store).await.map_err(|e| e.to_string())?;
        Ok((info.id, info.domain))
    }

    /// Instantiates a persona and runs one review outside the job queue; used by benchmarks.
    pub async fn review_once(
        self: &Arc<Self>,
        def: Arc<PersonaDef>,
        services: Arc<HostServices>,
        task: &str,
        context: &str,
    ) -> Result<String, String> {
        let req = wit::Request {
            task: task.to_string(),
            context: Some(context.to_string()),
            feedback: None,
            prompt: def.prompt.clone(),
        };
        let (mut store, world) = self.instantiate(def, None, services).await?;
        world.call_review(&mut store, &req).await.map_err(|e| e.to_string())?
    }

    async fn instantiate(
        self: &Arc<Self>,
        def: Arc<PersonaDef>,
        control: Option<JobControl>,
        services: Arc<HostServices>,
    ) -> Result<(Store<HostState>, PersonaWorld), String> {
        let rt = self.clone();
        let d = def.clone();
        let component = tokio::task::spawn_blocking(move || rt.compile(&d))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let limits = &def.manifest.limits;
        let stdout = MemoryOutputPipe::new(OUTPUT_CAPTURE_BYTES);
        let stderr = MemoryOutputPipe::new(OUTPUT_CAPTURE_BYTES);
        let wasi = WasiCtx::builder().stdout(stdout.clone()).stderr(stderr.clone()).build();
        let state = HostState {
            wasi,
            table: ResourceTable::new(),
            limits: Limiter::new((limits.memory_mb as usize).saturating_mul(1 << 20)),
            stdout,
            stderr: stderr.clone(),
            job: JobCtl {
                persona: def.clone(),
                control: control.clone(),
                services,
                trail: Vec::new(),
                index_incomplete: false,
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let cancel = control.as_ref().map(|c| c.cancel_flag()).unwrap_or_else(|| Arc::new(AtomicBool::new(false)));
        let timeout = limits.timeout_s;
        let deadline = Instant::now() + Duration::from_secs(timeout);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if cancel.load(Ordering::Relaxed) {
                return Err(Interrupt::Cancelled.into());
            }
            if Instant::now() >= deadline {
                return Err(Interrupt::TimedOut(timeout).into());
            }
            Ok(UpdateDeadline::Yield(1))
        });
        let world = PersonaWorld::instantiate_async(&mut store, &component, &self.linker)
            .await
            .map_err(|e| describe_trap(&e, &stderr))?;
        store.data_mut().job.control = control;
        Ok((store, world))
    }

    /// Runs one job to its outcome. Never panics; every failure becomes a reason.
    pub async fn run_job(
        self: &Arc<Self>,
        def: Arc<PersonaDef>,
        job: Job,
        ctl: JobControl,
        services: Arc<HostServices>,
    ) -> Outcome {
        let timeout_s = def.manifest.limits.timeout_s;
        let req = wit::Request {
            task: job.task.clone(),
            context: job.context.clone(),
            feedback: job.feedback.clone(),
            prompt: def.prompt.clone(),
        };
        let run = async {
            let (mut store, world) = match self.instantiate(def.clone(), Some(ctl.clone()), services).await {
                Ok(v) => v,
                Err(reason) => return (Err(format!("the persona could not start: {reason}")), Vec::new()),
            };
            let res = world.call_review(&mut store, &req).await;
            let trail = std::mem::take(&mut store.data_mut().job.trail);
            let incomplete = store.data().job.index_incomplete;
            let stderr = capture_of(&mut store);
            let memory_mb = def.manifest.limits.memory_mb;
            let out_of_memory = store.data().limits.memory_denied;
            let flooded = store.data().stdout.contents().len() + 4096 >= OUTPUT_CAPTURE_BYTES
                || stderr.len() + 4096 >= OUTPUT_CAPTURE_BYTES;
            let out = match res {
                Ok(Ok(text)) if text.len() > MAX_RESULT_BYTES => {
                    Err(format!("the persona returned {} bytes; the limit is {} bytes", text.len(), MAX_RESULT_BYTES))
                }
                Ok(Ok(text)) => Ok(host_impl::with_index_note(text, incomplete)),
                Ok(Err(reason)) if out_of_memory => {
                    Err(format!("the persona ran out of memory (limit {memory_mb} MB) and gave up: {reason}"))
                }
                Ok(Err(reason)) => Err(format!("the persona refused: {reason}")),
                Err(e) => Err(match e.downcast_ref::<Interrupt>() {
                    Some(Interrupt::Cancelled) => "cancelled".to_string(),
                    Some(i @ Interrupt::TimedOut(_)) => i.to_string(),
                    None if out_of_memory => format!(
                        "the persona ran out of memory: it tried to grow past its limit of {memory_mb} MB (limits.memory-mb in persona.toml); {}",
                        describe_trap_text(&e, &stderr)
                    ),
                    None if flooded => format!(
                        "the persona printed more than {} KiB to stdout/stderr, the most a persona may print; {}",
                        OUTPUT_CAPTURE_BYTES >> 10,
                        describe_trap_text(&e, &stderr)
                    ),
                    None => match e.downcast_ref::<crate::llm::LlmError>() {
                        Some(llm) => format!("the language model call failed: {llm}"),
                        None => describe_trap_text(&e, &stderr),
                    },
                }),
            };
            (out, trail)
        };
        // A host function that never returns cannot be interrupted by epochs;
        // the outer timeout (a little past the persona's) covers that case.
        let outer = Duration::from_secs(timeout_s) + Duration::from_secs(5);
        let (res, trail) = match tokio::time::timeout(outer, run).await {
            Ok(v) => v,
            Err(_) => (Err(format!("timed out after {timeout_s} s")), Vec::new()),
        };
        let partial = (!trail.is_empty()).then(|| format!("Progress before it stopped:\n- {}", trail.join("\n- ")));
        match res {
            Ok(result) => Outcome::Complete { result },
            Err(_) if ctl.is_cancelled() => Outcome::Cancelled { partial },
            Err(error) => Outcome::Failed { error, partial },
        }
    }
}

fn capture_of(store: &mut Store<HostState>) -> String {
    String::from_utf8_lossy(&store.data().stderr.contents()).into_owned()
}

fn describe_trap(e: &wasmtime::Error, stderr: &MemoryOutputPipe) -> String {
    let printed = String::from_utf8_lossy(&stderr.contents()).into_owned();
    describe_trap_text(e, &printed)
}

fn describe_trap_text(e: &wasmtime::Error, printed: &str) -> String {
    let mut reason = match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::StackOverflow) => "the persona overflowed its stack (unbounded recursion?)".to_string(),
        Some(wasmtime::Trap::UnreachableCodeReached) => {
            "the persona crashed (it panicked or hit unreachable code)".to_string()
        }
        Some(wasmtime::Trap::MemoryOutOfBounds) => "the persona crashed: out-of-bounds memory access".to_string(),
        Some(t) => format!("the persona crashed: {t}"),
        None => format!("the persona failed: {}", root_cause(e)),
    };
    let printed = printed.trim();
    if !printed.is_empty() {
        let tail: String = printed.chars().rev().take(600).collect::<Vec<_>>().into_iter().rev().collect();
        reason.push_str(&format!("; it printed: {tail}"));
    }
    reason
}

fn root_cause(e: &wasmtime::Error) -> String {
    e.chain().last().map(|c| c.to_string()).unwrap_or_else(|| e.to_string())
}

/// Advances the epoch every tick for as long as the engine lives.
fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}
