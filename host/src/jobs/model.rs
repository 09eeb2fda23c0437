//! The job record and the small enums around it (spec Model 3 and 4).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Lifecycle of a persona job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Running,
    Complete,
    Failed,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::Pending, Status::Running, Status::Complete, Status::Failed, Status::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Complete => "complete",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Status::Complete | Status::Failed | Status::Cancelled)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status '{s}': use one of pending, running, complete, failed, cancelled"))
    }
}

/// Queue priority: high runs before normal before low; FIFO within one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Normal,
    High,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
        }
    }

    /// The number stored in SQLite; larger runs first.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
        }
    }

    pub fn from_rank(rank: i64) -> Self {
        match rank {
            i64::MIN..=0 => Priority::Low,
            1 => Priority::Normal,
            _ => Priority::High,
        }
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Priority::Low),
            "normal" => Ok(Priority::Normal),
            "high" => Ok(Priority::High),
            other => Err(format!("unknown priority '{other}': use one of low, normal, high")),
        }
    }
}

/// What a caller submits.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub persona: String,
    pub task: String,
    pub context: Option<String>,
    pub feedback: Option<String>,
    pub priority: Priority,
}

/// A job as stored (spec Model 3).
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: String,
    pub persona: String,
    pub task: String,
    pub context: Option<String>,
    pub feedback: Option<String>,
    pub status: Status,
    pub priority: Priority,
    pub progress_phase: Option<String>,
    pub progress_percent: u8,
    pub progress_message: Option<String>,
    pub progress_eta_seconds: Option<i64>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub partial_result: Option<String>,
    pub created_at: f64,
    pub started_at: Option<f64>,
    pub completed_at: Option<f64>,
    pub tool_calls_made: i64,
    pub tokens_input: Option<i64>,
    pub tokens_output: Option<i64>,
    pub duration_seconds: Option<f64>,
    pub attempts: i64,
}

/// A progress report from a running persona (spec Model 4, minus the derived fields).
#[derive(Debug, Clone)]
pub struct Progress {
    pub phase: String,
    pub percent: u8,
    pub message: String,
}

/// How a run ended, as the worker records it.
#[derive(Debug, Clone)]
pub enum Outcome {
    Complete { result: String },
    Failed { error: String, partial: Option<String> },
    Cancelled { partial: Option<String> },
}

/// Filters for listing jobs.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub persona: Option<String>,
    pub limit: u32,
}

pub fn now_secs() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}
