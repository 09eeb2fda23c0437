//! `agent-os paths`: where everything agent-os reads and writes for a project
//! is, so a person can see that nothing mutable lives in the repository.

use std::path::PathBuf;

use super::{INDEX_DIR, JOBS_DB, PROPOSALS_DB, Project};
use crate::dirs::{self, Kind};

/// One named location; `Err` says why it cannot be known (no `HOME`, …).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Location {
    /// A stable name, e.g. `jobs_db`.
    pub name: &'static str,
    /// What it is, in words.
    pub what: &'static str,
    pub path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

fn loc(name: &'static str, what: &'static str, p: Result<PathBuf, String>) -> Location {
    match p {
        Ok(path) => Location { name, what, path: Some(path), unavailable: None },
        Err(why) => Location { name, what, path: None, unavailable: Some(why) },
    }
}

/// Every location, in the order `agent-os paths` prints them. Nothing is created.
pub fn locations(project: &Project) -> Vec<Location> {
    let state = project.state_path().map_err(|e| e.to_string());
    let in_state = |f: &str| state.clone().map(|d| d.join(f));
    let cache = dirs::dir(Kind::Cache).map_err(|e| e.to_string());
    let models = crate::rag::ModelPaths::from_env().map_err(|e| e.to_string());
    vec![
        loc(
            "project_root",
            "the project (its .agent-os/ holds standards, personas, config)",
            Ok(project.root().into()),
        ),
        loc("state_dir", "this project's state, kept outside the repository", state.clone()),
        loc("jobs_db", "persona jobs", in_state(JOBS_DB)),
        loc("index_dir", "standards search index (rebuilt when deleted)", in_state(INDEX_DIR)),
        loc("proposals_db", "standard proposals and decisions", in_state(PROPOSALS_DB)),
        loc(
            "trust_record",
            "what you trusted in this project",
            crate::trust::Store::user().map(|s| s.record_path(project.root())).map_err(|e| e.to_string()),
        ),
        loc(
            "user_config",
            "your settings ([llm] and more)",
            crate::llm::config::user_config_path().map_err(|e| e.to_string()),
        ),
        loc(
            "user_personas",
            "personas installed for every project",
            crate::personas::install::user_dir().ok_or_else(|| "no config folder (set HOME)".to_string()),
        ),
        loc("cache_dir", "your cache", cache.clone()),
        loc("components_dir", "compiled persona components", cache.clone().map(|d| d.join("components"))),
        loc("embeddings_db", "cached embeddings", cache.map(|d| d.join("embeddings.db"))),
        loc("model_dir", "embedding model", models.clone().map(|m| m.model_dir)),
        loc("ort_lib", "ONNX Runtime library", models.map(|m| m.ort_lib)),
    ]
}
