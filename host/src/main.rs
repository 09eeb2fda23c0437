//! `agent-os`: the MCP server and its command line.

use std::path::PathBuf;

use agent_os::app::{App, Settings};
use agent_os::jobs::{ListFilter, Status};
use agent_os::mcp::PersonaServer;
use agent_os::project::Project;
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
    },
    /// Inspect and manage persona jobs.
    Jobs {
        #[command(subcommand)]
        action: JobsCmd,
    },
    /// List the personas this project has.
    Personas,
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
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
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
    rt.block_on(run(project, cli.command.unwrap_or(Command::Serve { workers: 3 })))
}

async fn run(project: Project, command: Command) -> Result<()> {
    let (app, errors) = App::open(project.clone())?;
    for e in &errors {
        tracing::warn!("skipped an installed persona: {e}");
    }
    match command {
        Command::Serve { workers } => {
            tracing::info!(root = %project.root().display(), "agent-os serving MCP on stdio");
            app.start(&Settings { workers }).await?;
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
    }
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
