//! `agent-os persona new | install | publish | update | sync | list | info | remove`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use super::install::{self, InstallError};
use super::lock::LockError;
use super::oci::{self, Access, RegistryError};
use super::remote;
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
    /// Verify a persona and install it: a folder with persona.toml, a .wasm file, or a registry reference.
    Install {
        /// The persona's folder, its component (.wasm) with persona.toml beside it, or a registry
        /// reference like registry.example.com/acme/a11y:0.2.0 or …/a11y@sha256:<digest>.
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
        #[command(flatten)]
        registry: RegistryArgs,
        #[command(flatten)]
        login: LoginArgs,
    },
    /// Push a persona (manifest, component, prompt) to an OCI registry as one artifact.
    Publish {
        /// The persona's folder (as for install).
        dir: PathBuf,
        /// Where to: registry/repository[:tag]; the tag defaults to the manifest's version.
        reference: String,
        /// The manifest, when it is not persona.toml in the folder.
        #[arg(long)]
        manifest: Option<PathBuf>,
        #[command(flatten)]
        registry: RegistryArgs,
        #[command(flatten)]
        login: LoginArgs,
    },
    /// Move registry personas to their newest compatible version; asks when a grant widens.
    Update {
        /// One persona (default: every persona in .agent-os/personas.lock).
        id: Option<String>,
        /// Update without asking, even when a grant widens.
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Install every persona of .agent-os/personas.lock at its locked digest.
    Sync {
        /// Install without asking to confirm the capabilities.
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// The personas this project has: built-in, user and project installs, registry sources, and any that fail to load.
    List {
        /// Do not ask registries whether updates exist.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
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

/// How registries are reached.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistryArgs {
    /// Use plain http for a registry that is not on a loopback address (loopback ones always use http).
    #[arg(long)]
    pub insecure: bool,
}

/// Registry credentials on the command line (else ~/.docker/config.json).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LoginArgs {
    /// The registry user name; the password is read from stdin (--password-stdin).
    #[arg(long, requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password from stdin (one line).
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
}

impl RegistryArgs {
    fn access(&self, login: Option<&LoginArgs>) -> Result<Access, CliError> {
        let credentials = match login {
            Some(LoginArgs { username: Some(user), password_stdin: true }) => {
                let mut password = String::new();
                std::io::stdin().lock().read_line(&mut password)?;
                let password = password.trim_end_matches(['\r', '\n']).to_string();
                if password.is_empty() {
                    return Err(CliError::EmptyPassword);
                }
                Some((user.clone(), password))
            }
            _ => None,
        };
        Ok(Access { insecure: self.insecure, credentials })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{0}: publish to a tag (registry/repository:0.2.0), not a digest; the registry gives the digest")]
    PublishToDigest(String),
    #[error(
        "the tag {tag} is a version but the manifest's version is {version}; publish it as :{version} (or set version = \"{tag}\" in persona.toml)"
    )]
    TagVersion { tag: String, version: String },
    #[error(
        "{0} does not pin its component's sha256 in persona.toml; only artifacts made by `agent-os persona publish` install"
    )]
    Unpinned(String),
    #[error("'{id}' was not installed from a registry (.agent-os/personas.lock has {})", if .known.is_empty() { "none".to_string() } else { .known.join(", ") })]
    NotFromRegistry { id: String, known: Vec<String> },
    #[error("{id}: the locked version '{version}' is not a semantic version, so no update is compatible with it")]
    NotSemver { id: String, version: String },
    #[error("the artifact locked as '{id}' now says its id is '{new}'; not installed")]
    IdChanged { id: String, new: String },
    #[error(
        "a registry install goes into the project (recorded in .agent-os/personas.lock); --user and --manifest are for local folders"
    )]
    RegistryScope,
    #[error("--password-stdin read an empty password")]
    EmptyPassword,
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error(transparent)]
    Scaffold(#[from] ScaffoldError),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(
        "nothing changed: confirmation is needed and there is no terminal to ask on; run again with --yes to go ahead without a prompt"
    )]
    NeedsConfirmation,
    #[error("nothing changed: you declined")]
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
        PersonaCmd::Install { path, manifest, user, yes, registry, login } => {
            let text = path.to_string_lossy();
            if !path.exists() && oci::looks_like_reference(&text) {
                if user || manifest.is_some() {
                    return Err(CliError::RegistryScope);
                }
                let access = registry.access(Some(&login))?;
                return remote::install(project, &text, &access, yes).await;
            }
            let scope = if user { Scope::User } else { Scope::Project };
            let root = install::scope_dir(project, scope)?;
            let candidate = install::prepare(&path, manifest.as_deref())?;
            install_verified(project, &candidate, scope, &root, &[], yes).await?;
            Ok(())
        }
        PersonaCmd::Publish { dir, reference, manifest, registry, login } => {
            let access = registry.access(Some(&login))?;
            remote::publish(&dir, manifest.as_deref(), &reference, &access).await
        }
        PersonaCmd::Update { id, yes, registry } => {
            remote::update(project, id.as_deref(), &registry.access(None)?, yes).await
        }
        PersonaCmd::Sync { yes, registry } => remote::sync(project, &registry.access(None)?, yes).await,
        PersonaCmd::List { offline, registry } => {
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
            remote::print_locked(project, offline, &registry.access(None)?).await;
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
            if scope == Scope::Project && remote::forget(project, &id)? {
                println!("removed {id} from {}", super::lock::FILE);
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

/// The second half of every install, local or from a registry: shows the
/// verified candidate (and `extra` lines), runs it once in the sandbox, asks
/// (unless `yes`), moves it into `root` whole, and trusts it in the project
/// scope. Returns the installed folder.
pub(crate) async fn install_verified(
    project: &Project,
    candidate: &install::Candidate,
    scope: Scope,
    root: &std::path::Path,
    extra: &[String],
    yes: bool,
) -> Result<PathBuf, CliError> {
    let id = &candidate.manifest.id;
    let target = root.join(id);
    println!("{candidate}");
    for line in extra {
        println!("{line}");
    }
    println!(
        "Installs to {} ({} scope){}",
        target.display(),
        scope.as_str(),
        if target.exists() { ", replacing the installed copy" } else { "" }
    );
    let runtime = Runtime::new(crate::plugins::components_dir())?;
    install::trial(candidate, &runtime, project).await?;
    println!("Trial run: describe() answered '{id}' in the sandbox");
    if !yes {
        ask(&format!("Install {id} with these capabilities?"))?;
    }
    let dir = install::commit(candidate, root)?;
    println!(
        "installed {id} {} as {} in {}",
        escape(&candidate.manifest.version),
        candidate.manifest.tool_name(),
        dir.display()
    );
    if scope == Scope::Project {
        trust_installed(project, &dir, id);
    }
    Ok(dir)
}

/// Records the trust of a persona the person at the terminal just consented to.
pub(crate) fn trust_installed(project: &Project, dir: &std::path::Path, id: &str) {
    match crate::trust::record_persona(project, dir) {
        Ok(_) => println!("trusted {id} for this project (its grants as shown above)"),
        Err(e) => println!("note: could not record your trust ({e}); it does not run until you run `agent-os trust`"),
    }
}

/// Asks a yes/no question on the terminal; refuses when there is none to ask on.
pub(crate) fn ask(question: &str) -> Result<(), CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::NeedsConfirmation);
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(CliError::Declined),
    }
}
