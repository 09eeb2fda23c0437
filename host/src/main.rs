//! `agent-os`: the MCP server and its command line.

use std::path::PathBuf;

use agent_os::app::{App, Settings};
use agent_os::jobs::{ListFilter, Retention, Status};
use agent_os::mcp::PersonaServer;
use agent_os::project::Project;
use agent_os::rag::{Query, eval};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "agent-os", version, about = "Specialist reviewer personas and project standards for MCP clients")]
struct Cli {
    /// Project root (default: $AGENT_OS_PROJECT, else the current directory).
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
    },
    /// Inspect and manage persona jobs.
    Jobs {
        #[command(subcommand)]
        action: JobsCmd,
    },
    /// List the personas this project has.
    Personas,
    /// Show the configured language model ([llm] in .agent-os/config.toml).
    Llm {
        /// Send a one-word prompt and print the answer, tokens and time.
        #[arg(long)]
        ping: bool,
    },
    /// Index the standards now (incremental: only changed files are re-embedded).
    Index {
        /// Delete the index and build it from scratch.
        #[arg(long)]
        rebuild: bool,
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
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AGENT_OS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(
                    "info,lance=error,lancedb=error,lance_index=error,lance_core=error,lance_io=error,datafusion=warn",
                )),
        )
        .with_ansi(false)
        .init();
    let cli = Cli::parse();
    let root = match cli.project {
        Some(p) => p,
        None => std::env::current_dir().context("reading the current directory")?,
    };
    if !root.is_dir() {
        bail!("project root {} is not a directory; pass --project DIR", root.display());
    }
    let project = Project::new(root);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(run(project, cli.command.unwrap_or(Command::Serve { workers: 3, retention_days: 30.0 })))
}

async fn run(project: Project, command: Command) -> Result<()> {
    let (app, errors) = App::open(project.clone())?;
    for e in &errors {
        tracing::warn!("skipped an installed persona: {e}");
    }
    match command {
        Command::Serve { workers, retention_days } => {
            if !(retention_days > 0.0) {
                bail!("--retention-days must be more than 0, got {retention_days}");
            }
            tracing::info!(root = %project.root().display(), "agent-os serving MCP on stdio");
            let retention = Retention { days: retention_days, ..Retention::default() };
            app.start(&Settings { workers, retention, ..Settings::default() }).await?;
            PersonaServer::new(app).serve_stdio().await
        }
        Command::Personas => {
            for p in app.registry().all() {
                let m = &p.manifest;
                let source = if p.builtin { "built-in" } else { "installed" };
                println!("{:<12} {:<28} {:<13} {source}", m.id, m.name, m.domain);
            }
            for e in &errors {
                println!("error: {e}");
            }
            Ok(())
        }
        Command::Jobs { action } => jobs(&app, action).await,
        Command::Llm { ping } => llm(&app, ping).await,
        Command::Index { rebuild } => index(&app, rebuild).await,
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

async fn llm(app: &App, ping: bool) -> Result<()> {
    use agent_os::llm::{ChatMessage, Role};
    let client = match app.services.llm.client() {
        Ok(c) => c.clone(),
        Err(why) => bail!("no language model: {why}"),
    };
    let c = client.config();
    println!("provider: {}\nmodel:    {}\nendpoint: {}", c.provider, c.model, client.endpoint());
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

async fn index(app: &App, rebuild: bool) -> Result<()> {
    let index = app.index.get().await?;
    if let Some(why) = index.degraded() {
        println!("note: no embedding model, indexing for full-text search only ({why})");
    }
    let r = if rebuild { index.rebuild().await? } else { index.sync().await? };
    index.compact().await?;
    for (path, why) in &r.skipped {
        println!("skipped {path}: {why}");
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
        eprintln!("warning: skipped {path}: {why}");
    }
    let answer = index.search(&q).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    if let Some(note) = &answer.note {
        println!("note: {note}");
    }
    if answer.hits.is_empty() {
        println!("no standard matched");
    }
    for (i, h) in answer.hits.iter().enumerate() {
        println!("{}. {:.3}  {}  [{}]", i + 1, h.score, h.path, h.section);
        println!("   {}", h.snippet);
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

async fn jobs(app: &App, action: JobsCmd) -> Result<()> {
    match action {
        JobsCmd::List { status, persona, limit } => {
            let status = status.map(|s| s.parse::<Status>()).transpose().map_err(anyhow::Error::msg)?;
            let (jobs, total) = app.jobs.list(ListFilter { status, persona, limit }).await?;
            for j in &jobs {
                let task: String = j.task.chars().take(60).collect();
                println!("{}  {:<10} {:<9} {:>3}%  {task}", j.id, j.persona, j.status, j.progress_percent);
            }
            println!("{} shown of {total}", jobs.len());
        }
        JobsCmd::Show { id } => {
            let job = app.jobs.get(&id).await?;
            println!("{}", serde_json::to_string_pretty(&job)?);
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
