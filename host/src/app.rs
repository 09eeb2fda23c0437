//! Wires one project's services together: job store, persona registry,
//! sandbox and workers. Shared by the MCP server and the CLI.

use std::pin::Pin;
use std::sync::{Arc, RwLock};

use crate::jobs::{Job, JobControl, Jobs, JobsError, Outcome, Runner};
use crate::personas::{PersonaError, Registry};
use crate::plugins::{HostServices, PluginError, Runtime};
use crate::project::Project;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Jobs(#[from] JobsError),
    #[error(transparent)]
    Plugins(#[from] PluginError),
}

/// Settings the binary passes in.
#[derive(Debug, Clone)]
pub struct Settings {
    pub workers: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self { workers: 3 }
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
}

impl App {
    /// Opens the project's state without starting workers.
    pub fn open(project: Project) -> Result<(Self, Vec<PersonaError>), AppError> {
        let jobs = Jobs::open(&project.jobs_db())?;
        let (registry, errors) = Registry::load(&project.personas_dir());
        let runtime = Runtime::new(project.components_cache())?;
        let services = Arc::new(HostServices { project: project.clone(), search: None });
        Ok((
            Self { project, jobs, registry: Arc::new(RwLock::new(registry)), runtime, services },
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
        let rt = self.runtime.clone();
        let defs = self.registry().all();
        tokio::spawn(async move { rt.warm(defs).await });
        self.jobs.start_workers(settings.workers, Arc::new(self.clone()));
        Ok(())
    }
}

impl Runner for App {
    fn run(&self, job: Job, ctl: JobControl) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
        let app = self.clone();
        Box::pin(async move {
            let Some(def) = app.registry().get(&job.persona) else {
                return Outcome::Failed {
                    error: format!("persona '{}' is not installed on this server", job.persona),
                    partial: None,
                };
            };
            app.runtime.clone().run_job(def, job, ctl, app.services.clone()).await
        })
    }
}
