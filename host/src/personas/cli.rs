//! `agent-os persona new | install | list | info | remove`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use super::install::{self, InstallError};
use super::{Registry, Scope};
use crate::plugins::{PluginError, Runtime};
use crate::project::Project;
use crate::scaffold::{self, ScaffoldError, SdkDep};
use crate::text::escape;

#[derive(Debug, clap::Subcommand)]
pub enum PersonaCmd {
    /// Start a new persona crate over the SDK (Cargo.toml, src/lib.rs, persona.toml, prompt.md).
    New {
        /// The persona id; its tool becomes invoke_<id>.
        id: String,
        /// Where to create it (default: ./<id>).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Depend on the SDK at this path (default: $AGENT_OS_SDK_PATH, else the SDK this binary was built from).
        #[arg(long, conflicts_with = "sdk_version")]
        sdk_path: Option<PathBuf>,
        /// Depend on this registry version of agent-os-persona-sdk instead of a path.
        #[arg(long)]
        sdk_version: Option<String>,
    },
    /// Verify a persona and install it: a folder with persona.toml, or a .wasm file.
    Install {
        /// The persona's folder, or its component (.wasm) with persona.toml beside it.
        path: PathBuf,
        /// The manifest, when it is not persona.toml in the folder or beside the .wasm.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Install for every project of this user instead of this project.
        #[arg(long)]
        user: bool,
        /// Install without asking to confirm the capabilities.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// The personas this project has: built-in, user and project installs, and any that fail to load.
    List,
    /// One persona's manifest, capabilities and files.
    Info { id: String },
    /// Uninstall a persona.
    Remove {
        id: String,
        /// Remove it from the user scope instead of the project.
        #[arg(long)]
        user: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error(transparent)]
    Scaffold(#[from] ScaffoldError),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error("not installed: confirmation is needed; run again with --yes to install without a prompt")]
    NeedsConfirmation,
    #[error("not installed: you declined")]
    Declined,
    #[error("no persona '{id}'; this project has {}", .known.join(", "))]
    Unknown { id: String, known: Vec<String> },
    #[error(
        "persona '{id}' ships with this project but you have not trusted its current content; review and trust it with `{command}`"
    )]
    Untrusted { id: String, command: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs one `persona` command, printing to stdout.
pub async fn run(project: &Project, cmd: PersonaCmd) -> Result<(), CliError> {
    match cmd {
        PersonaCmd::New { id, dir, sdk_path, sdk_version } => {
            let sdk = match (sdk_path, sdk_version) {
                (Some(p), _) => SdkDep::Path(std::path::absolute(&p).unwrap_or(p)),
                (None, Some(v)) => SdkDep::Version(v),
                (None, None) => SdkDep::detect(),
            };
            let dir = dir.unwrap_or_else(|| PathBuf::from(&id));
            let s = scaffold::scaffold(&id, &dir, &sdk)?;
            println!("created persona '{id}' in {}:", s.dir.display());
            for f in &s.files {
                println!("  {}", f.display());
            }
            println!("next:");
            println!("  cd {} && cargo build --release --target wasm32-wasip2", s.dir.display());
            println!("  agent-os --project /path/to/project persona install {}", s.dir.display());
            Ok(())
        }
        PersonaCmd::Install { path, manifest, user, yes } => {
            let scope = if user { Scope::User } else { Scope::Project };
            let root = install::scope_dir(project, scope)?;
            let candidate = install::prepare(&path, manifest.as_deref())?;
            let target = root.join(&candidate.manifest.id);
            println!("{candidate}");
            println!(
                "Installs to {} ({} scope){}",
                target.display(),
                scope.as_str(),
                if target.exists() { ", replacing the installed copy" } else { "" }
            );
            let runtime = Runtime::new(crate::plugins::components_dir())?;
            install::trial(&candidate, &runtime, project).await?;
            println!("Trial run: describe() answered '{}' in the sandbox", candidate.manifest.id);
            if !yes {
                confirm(&candidate.manifest.id)?;
            }
            let dir = install::commit(&candidate, &root)?;
            println!("installed {} as {} in {}", candidate.manifest.id, candidate.manifest.tool_name(), dir.display());
            if scope == Scope::Project {
                // The person installing consented to these grants: trust this content.
                match crate::trust::record_persona(project, &dir) {
                    Ok(_) => println!("trusted {} for this project (its grants as shown above)", candidate.manifest.id),
                    Err(e) => println!(
                        "note: could not record your trust ({e}); it does not run until you run `agent-os trust`"
                    ),
                }
            }
            Ok(())
        }
        PersonaCmd::List => {
            let (reg, errors) = Registry::load_project(project);
            println!("{:<16} {:<8} {:<30} {:<14} source", "id", "version", "name", "domain");
            for p in reg.all() {
                let m = &p.manifest;
                let source = match &p.installed {
                    None => "built-in".to_string(),
                    Some((scope, dir)) => format!("{} ({})", scope.as_str(), escape(&dir.display().to_string())),
                };
                println!(
                    "{:<16} {:<8} {:<30} {:<14} {source}",
                    escape(&m.id),
                    escape(&m.version),
                    escape(&m.name),
                    escape(&m.domain)
                );
            }
            print_untrusted(project, &reg);
            for e in &errors {
                println!("not loaded: {}", escape(&e.to_string()));
            }
            Ok(())
        }
        PersonaCmd::Info { id } => {
            let (reg, _) = Registry::load_project(project);
            let Some(p) = reg.get(&id) else {
                if reg.untrusted().iter().any(|u| u.id == id) {
                    return Err(CliError::Untrusted { id: escape(&id).into_owned(), command: trust_command(project) });
                }
                return Err(CliError::Unknown { id: escape(&id).into_owned(), known: reg.ids() });
            };
            let m = &p.manifest;
            let source = match &p.installed {
                None => "built into agent-os".to_string(),
                Some((scope, dir)) => format!("{} scope, {}", scope.as_str(), dir.display()),
            };
            let source = escape(&source);
            println!("{} {} — {} ({})", m.id, escape(&m.version), escape(&m.name), m.kind.as_str());
            println!("  {}", escape(&m.description));
            println!("  tool        {}", m.tool_name());
            println!("  domain      {}", m.domain);
            println!("  source      {source}");
            println!(
                "  component   {} ({} KiB, sha256 {})",
                escape(&m.component),
                p.component.len().div_ceil(1024),
                p.sha256
            );
            println!("  api         {}", escape(&m.api));
            let c = &m.capabilities;
            let files = if c.read_files.is_empty() {
                "none".to_string()
            } else {
                escape(&c.read_files.join(", ")).into_owned()
            };
            println!("  grants      search={} propose={} llm={} read-files={files}", c.search, c.propose, c.llm);
            println!("  limits      {} MB, {} s", m.limits.memory_mb, m.limits.timeout_s);
            Ok(())
        }
        PersonaCmd::Remove { id, user } => {
            let scope = if user { Scope::User } else { Scope::Project };
            let dir = install::remove(project, scope, &id)?;
            if scope == Scope::Project
                && let Err(e) = crate::trust::forget(project, &crate::trust::persona_item(&id))
            {
                tracing::debug!("could not update the trust record: {e}");
            }
            println!("removed {id} from {}", dir.display());
            Ok(())
        }
    }
}

/// The command that reviews and trusts this project.
fn trust_command(project: &Project) -> String {
    format!("agent-os --project {} trust", crate::trust::shell_word(&project.root().to_string_lossy()))
}

/// Lists the project personas left out because they are not trusted.
pub fn print_untrusted(project: &Project, reg: &Registry) {
    for u in reg.untrusted() {
        println!(
            "{:<16} untrusted: {} in {}; not loaded until you review and trust it with `{}`",
            escape(&u.id),
            if u.changed { "changed since you trusted it" } else { "never trusted" },
            escape(&u.folder.display().to_string()),
            trust_command(project)
        );
    }
}

/// Asks on the terminal; refuses when there is none to ask on.
fn confirm(id: &str) -> Result<(), CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::NeedsConfirmation);
    }
    print!("Install {id} with these capabilities? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(CliError::Declined),
    }
}
