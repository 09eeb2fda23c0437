//! SQLite persistence for standard proposals and standard usage. Every
//! method is blocking; [`super::Standards`] calls them from `spawn_blocking`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("standards database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("standards database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(
        "standards database {path} is damaged ({detail}); move it aside to start a new one (approved standards are safe in .agent-os/standards)"
    )]
    Corrupt { path: PathBuf, detail: String },
}

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS proposals (
    id TEXT PRIMARY KEY NOT NULL,
    persona TEXT,
    job_id TEXT,
    domain TEXT NOT NULL,
    topic TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL CHECK (status IN ('pending','approved','revised','rejected')),
    feedback TEXT,
    created_at REAL NOT NULL,
    reviewed_at REAL,
    approved_by TEXT,
    written_path TEXT,
    revision_job_id TEXT
);
CREATE INDEX IF NOT EXISTS proposals_status ON proposals (status, created_at);
CREATE INDEX IF NOT EXISTS proposals_job ON proposals (job_id);
CREATE TABLE IF NOT EXISTS standard_usage (
    path TEXT PRIMARY KEY NOT NULL,
    query_count INTEGER NOT NULL DEFAULT 0,
    last_queried REAL
);
";

const COLUMNS: &str = "id, persona, job_id, domain, topic, title, content, tags, status, feedback, \
    created_at, reviewed_at, approved_by, written_path, revision_job_id";

/// Where a proposal is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposalStatus {
    Pending,
    Approved,
    Revised,
    Rejected,
}

impl ProposalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Revised => "revised",
            Self::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for ProposalStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProposalStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(Self::Pending),
            "approved" => Ok(Self::Approved),
            "revised" => Ok(Self::Revised),
            "rejected" => Ok(Self::Rejected),
            other => Err(format!("unknown proposal status '{other}': use pending, approved, revised or rejected")),
        }
    }
}

/// A proposed standard (spec Model 2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub id: String,
    /// The persona that proposed it; `None` when the calling agent did.
    pub persona: Option<String>,
    /// The job the persona was running when it proposed.
    pub job_id: Option<String>,
    pub domain: String,
    pub topic: String,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub status: ProposalStatus,
    pub feedback: Option<String>,
    pub created_at: f64,
    pub reviewed_at: Option<f64>,
    pub approved_by: Option<String>,
    /// Project-relative path of the written standard, once approved.
    pub written_path: Option<String>,
    /// The job started to revise it, when sent back to its persona.
    pub revision_job_id: Option<String>,
}

/// How a standard has been used by search_standards.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    pub query_count: i64,
    pub last_queried: Option<f64>,
}

/// A review decision as stored.
#[derive(Debug, Clone)]
pub struct Review {
    pub status: ProposalStatus,
    pub feedback: Option<String>,
    pub approved_by: Option<String>,
    pub written_path: Option<String>,
    /// The reviewer's edit, replacing the proposed content.
    pub content: Option<String>,
    pub revision_job_id: Option<String>,
    pub at: f64,
}

pub struct Store {
    conn: Mutex<Connection>,
}

fn row_to_proposal(r: &Row<'_>) -> rusqlite::Result<Proposal> {
    let tags: String = r.get(7)?;
    let status: String = r.get(8)?;
    Ok(Proposal {
        id: r.get(0)?,
        persona: r.get(1)?,
        job_id: r.get(2)?,
        domain: r.get(3)?,
        topic: r.get(4)?,
        title: r.get(5)?,
        content: r.get(6)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        status: status
            .parse()
            .map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Text, e.into()))?,
        feedback: r.get(9)?,
        created_at: r.get(10)?,
        reviewed_at: r.get(11)?,
        approved_by: r.get(12)?,
        written_path: r.get(13)?,
        revision_job_id: r.get(14)?,
    })
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
        let corrupt = |e: rusqlite::Error| StoreError::Corrupt { path: path.to_path_buf(), detail: e.to_string() };
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(corrupt)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(corrupt)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(corrupt)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(corrupt)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                detail: format!("schema version {version} is newer than this agent-os understands ({SCHEMA_VERSION})"),
            });
        }
        conn.execute_batch(SCHEMA).map_err(corrupt)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(corrupt)?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn insert(&self, p: &Proposal) -> Result<(), StoreError> {
        let tags = serde_json::to_string(&p.tags).unwrap_or_else(|_| "[]".into());
        self.conn()
            .prepare_cached(&format!("INSERT INTO proposals ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"))?
            .execute(params![
                p.id,
                p.persona,
                p.job_id,
                p.domain,
                p.topic,
                p.title,
                p.content,
                tags,
                p.status.as_str(),
                p.feedback,
                p.created_at,
                p.reviewed_at,
                p.approved_by,
                p.written_path,
                p.revision_job_id
            ])?;
        Ok(())
    }

    pub fn get(&self, id: &str) -> Result<Option<Proposal>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM proposals WHERE id = ?1"))?;
        Ok(stmt.query_row([id], row_to_proposal).optional()?)
    }

    /// Newest first; with the number matching the filter.
    pub fn list(&self, status: Option<ProposalStatus>, limit: u32) -> Result<(Vec<Proposal>, i64), StoreError> {
        let conn = self.conn();
        let st = status.map(|s| s.as_str());
        let total: i64 = conn
            .prepare_cached("SELECT COUNT(*) FROM proposals WHERE ?1 IS NULL OR status = ?1")?
            .query_row([st], |r| r.get(0))?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM proposals WHERE ?1 IS NULL OR status = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![st, limit], row_to_proposal)?.collect::<Result<Vec<_>, _>>()?;
        Ok((rows, total))
    }

    /// Proposals made during one job.
    pub fn count_for_job(&self, job_id: &str) -> Result<i64, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT COUNT(*) FROM proposals WHERE job_id = ?1")?
            .query_row([job_id], |r| r.get(0))?)
    }

    /// Records a decision on a pending proposal; false when it was no longer pending.
    pub fn review(&self, id: &str, r: &Review) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .prepare_cached(
                "UPDATE proposals SET status = ?2, feedback = COALESCE(?3, feedback), approved_by = ?4,
                     written_path = ?5, content = COALESCE(?6, content), revision_job_id = ?7, reviewed_at = ?8
                 WHERE id = ?1 AND status = 'pending'",
            )?
            .execute(params![
                id,
                r.status.as_str(),
                r.feedback,
                r.approved_by,
                r.written_path,
                r.content,
                r.revision_job_id,
                r.at
            ])?;
        Ok(n == 1)
    }

    /// Adds one query to each path, in one transaction.
    pub fn record_queries(&self, paths: &[String], at: f64) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO standard_usage (path, query_count, last_queried) VALUES (?1, 1, ?2)
                 ON CONFLICT(path) DO UPDATE SET query_count = query_count + 1, last_queried = excluded.last_queried",
            )?;
            for p in paths {
                stmt.execute(params![p, at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Usage of every standard queried at least once, by path.
    pub fn usage(&self) -> Result<Vec<(String, Usage)>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT path, query_count, last_queried FROM standard_usage ORDER BY path")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, Usage { query_count: r.get(1)?, last_queried: r.get(2)? })))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal(id: &str, at: f64) -> Proposal {
        Proposal {
            id: id.into(),
            persona: Some("security".into()),
            job_id: Some("job-1".into()),
            domain: "security".into(),
            topic: "secrets".into(),
            title: "Secrets".into(),
            content: "# Secrets\n".into(),
            tags: vec!["a".into(), "b".into()],
            status: ProposalStatus::Pending,
            feedback: None,
            created_at: at,
            reviewed_at: None,
            approved_by: None,
            written_path: None,
            revision_job_id: None,
        }
    }

    #[test]
    fn a_proposal_is_reviewed_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.db")).unwrap();
        s.insert(&proposal("p1", 1.0)).unwrap();
        s.insert(&proposal("p2", 2.0)).unwrap();
        let (rows, total) = s.list(None, 10).unwrap();
        assert_eq!((rows[0].id.as_str(), total), ("p2", 2));
        assert_eq!(rows[0].tags, vec!["a", "b"]);
        let r = Review {
            status: ProposalStatus::Rejected,
            feedback: Some("no".into()),
            approved_by: None,
            written_path: None,
            content: None,
            revision_job_id: None,
            at: 3.0,
        };
        assert!(s.review("p1", &r).unwrap());
        assert!(!s.review("p1", &r).unwrap(), "a second decision is refused");
        let (rows, total) = s.list(Some(ProposalStatus::Pending), 10).unwrap();
        assert_eq!((rows.len(), total), (1, 1));
        assert_eq!(s.get("p1").unwrap().unwrap().feedback.as_deref(), Some("no"));
        assert_eq!(s.count_for_job("job-1").unwrap(), 2);
    }

    #[test]
    fn usage_counts_add_up() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.db")).unwrap();
        s.record_queries(&["a.md".into(), "b.md".into()], 1.0).unwrap();
        s.record_queries(&["a.md".into()], 2.0).unwrap();
        let u = s.usage().unwrap();
        assert_eq!(u[0], ("a.md".to_string(), Usage { query_count: 2, last_queried: Some(2.0) }));
        assert_eq!(u[1].1.query_count, 1);
    }
}
