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

const SCHEMA_VERSION: i64 = 2;

/// The proposals table. Version 2 added the `approving` status (the decision
/// is recorded before the file is written) and the two columns that make
/// the write repeatable: the reviewer's edit and whether it may replace a file.
const PROPOSALS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS proposals (
    id TEXT PRIMARY KEY NOT NULL,
    persona TEXT,
    job_id TEXT,
    domain TEXT NOT NULL,
    topic TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL CHECK (status IN ('pending','approving','approved','revised','rejected')),
    feedback TEXT,
    created_at REAL NOT NULL,
    reviewed_at REAL,
    approved_by TEXT,
    written_path TEXT,
    revision_job_id TEXT,
    edited_content TEXT,
    overwrite INTEGER NOT NULL DEFAULT 0
);
";

const SCHEMA: &str = "
CREATE INDEX IF NOT EXISTS proposals_status ON proposals (status, created_at);
CREATE INDEX IF NOT EXISTS proposals_job ON proposals (job_id);
CREATE TABLE IF NOT EXISTS standard_usage (
    path TEXT PRIMARY KEY NOT NULL,
    query_count INTEGER NOT NULL DEFAULT 0,
    last_queried REAL
);
";

/// Version 1's columns, copied as they are when the table is rebuilt.
const V1_COLUMNS: &str = "id, persona, job_id, domain, topic, title, content, tags, status, feedback, \
    created_at, reviewed_at, approved_by, written_path, revision_job_id";

const COLUMNS: &str = "id, persona, job_id, domain, topic, title, content, tags, status, feedback, \
    created_at, reviewed_at, approved_by, written_path, revision_job_id, edited_content, overwrite";

/// Where a proposal is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposalStatus {
    Pending,
    /// A person approved it and the decision is recorded; the file is being
    /// written. A crash here is completed at the next start or approve.
    Approving,
    Approved,
    Revised,
    Rejected,
}

impl ProposalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approving => "approving",
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
            "approving" => Ok(Self::Approving),
            "approved" => Ok(Self::Approved),
            "revised" => Ok(Self::Revised),
            "rejected" => Ok(Self::Rejected),
            other => {
                Err(format!("unknown proposal status '{other}': use pending, approving, approved, revised or rejected"))
            }
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
    /// While approving: the reviewer's edit that will replace `content`.
    pub edited_content: Option<String>,
    /// While approving: whether the write may replace an existing file.
    pub overwrite: bool,
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

/// An approval as recorded before the file is written.
#[derive(Debug, Clone)]
pub struct Approval {
    pub approved_by: String,
    /// Project-relative path the file goes to.
    pub written_path: String,
    /// The reviewer's edit, replacing the proposed content.
    pub edited_content: Option<String>,
    pub overwrite: bool,
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
        edited_content: r.get(15)?,
        overwrite: r.get::<_, i64>(16)? != 0,
    })
}

/// Rebuilds a version 1 proposals table with the version 2 columns and
/// status check, keeping every row, in one transaction.
fn migrate_v1(conn: &Connection) -> rusqlite::Result<()> {
    let rebuilt = PROPOSALS_TABLE.replace("CREATE TABLE IF NOT EXISTS proposals (", "CREATE TABLE proposals_v2 (");
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         {rebuilt}
         INSERT INTO proposals_v2 ({V1_COLUMNS}) SELECT {V1_COLUMNS} FROM proposals;
         DROP TABLE proposals;
         ALTER TABLE proposals_v2 RENAME TO proposals;
         PRAGMA user_version = 2;
         COMMIT;"
    ))
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
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
        if version == 1 {
            migrate_v1(&conn).map_err(corrupt)?;
        }
        conn.execute_batch(PROPOSALS_TABLE).map_err(corrupt)?;
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
            .prepare_cached(&format!("INSERT INTO proposals ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"))?
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
                p.revision_job_id,
                p.edited_content,
                p.overwrite
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

    /// Records a person's approval of a pending proposal before anything is
    /// written: status `approving`, who, when, the path, the edit and
    /// whether it may replace a file. False when it was no longer pending.
    pub fn begin_approval(&self, id: &str, a: &Approval) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .prepare_cached(
                "UPDATE proposals SET status = 'approving', approved_by = ?2, written_path = ?3,
                     edited_content = ?4, overwrite = ?5, reviewed_at = ?6
                 WHERE id = ?1 AND status = 'pending'",
            )?
            .execute(params![id, a.approved_by, a.written_path, a.edited_content, a.overwrite, a.at])?;
        Ok(n == 1)
    }

    /// The file is written: `approving` becomes `approved`, and the edit
    /// (if any) becomes the proposal's content. False when it was not approving.
    pub fn finish_approval(&self, id: &str) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .prepare_cached(
                "UPDATE proposals SET status = 'approved', content = COALESCE(edited_content, content),
                     edited_content = NULL
                 WHERE id = ?1 AND status = 'approving'",
            )?
            .execute([id])?;
        Ok(n == 1)
    }

    /// The write was refused: back to `pending`, as if never approved.
    pub fn abandon_approval(&self, id: &str) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .prepare_cached(
                "UPDATE proposals SET status = 'pending', approved_by = NULL, written_path = NULL,
                     edited_content = NULL, overwrite = 0, reviewed_at = NULL
                 WHERE id = ?1 AND status = 'approving'",
            )?
            .execute([id])?;
        Ok(n == 1)
    }

    /// Ids of approvals recorded but not finished (a crash between the
    /// record and the write), oldest first.
    pub fn unfinished_approvals(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT id FROM proposals WHERE status = 'approving' ORDER BY reviewed_at, rowid")?;
        let rows = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
        Ok(rows)
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
            edited_content: None,
            overwrite: false,
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

    fn approval(by: &str) -> Approval {
        Approval {
            approved_by: by.into(),
            written_path: ".agent-os/standards/security/secrets.md".into(),
            edited_content: Some("# Edited\n".into()),
            overwrite: true,
            at: 5.0,
        }
    }

    #[test]
    fn an_approval_is_recorded_then_finished_or_abandoned() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.db")).unwrap();
        s.insert(&proposal("p1", 1.0)).unwrap();
        assert!(s.begin_approval("p1", &approval("alice")).unwrap());
        assert!(!s.begin_approval("p1", &approval("mallory")).unwrap(), "recorded once");
        let p = s.get("p1").unwrap().unwrap();
        assert_eq!(p.status, ProposalStatus::Approving);
        assert_eq!((p.approved_by.as_deref(), p.overwrite), (Some("alice"), true));
        assert_eq!(p.content, "# Secrets\n", "the edit replaces the content only when the file is written");
        assert_eq!(s.unfinished_approvals().unwrap(), vec!["p1".to_string()]);
        assert!(s.finish_approval("p1").unwrap());
        let p = s.get("p1").unwrap().unwrap();
        assert_eq!((p.status, p.content.as_str(), p.edited_content), (ProposalStatus::Approved, "# Edited\n", None));
        assert!(s.unfinished_approvals().unwrap().is_empty());
        assert!(!s.abandon_approval("p1").unwrap(), "an approved proposal stays approved");

        s.insert(&proposal("p2", 2.0)).unwrap();
        assert!(s.begin_approval("p2", &approval("bob")).unwrap());
        assert!(s.abandon_approval("p2").unwrap());
        let p = s.get("p2").unwrap().unwrap();
        assert_eq!((p.status, p.approved_by, p.written_path), (ProposalStatus::Pending, None, None));
    }

    #[test]
    fn a_version_1_database_is_migrated_keeping_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(&format!(
                "CREATE TABLE proposals (id TEXT PRIMARY KEY NOT NULL, persona TEXT, job_id TEXT, domain TEXT NOT NULL,
                    topic TEXT NOT NULL, title TEXT NOT NULL, content TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]',
                    status TEXT NOT NULL CHECK (status IN ('pending','approved','revised','rejected')), feedback TEXT,
                    created_at REAL NOT NULL, reviewed_at REAL, approved_by TEXT, written_path TEXT, revision_job_id TEXT);
                 CREATE TABLE standard_usage (path TEXT PRIMARY KEY NOT NULL, query_count INTEGER NOT NULL DEFAULT 0, last_queried REAL);
                 INSERT INTO proposals ({V1_COLUMNS}) VALUES ('old', NULL, NULL, 'ops', 'x', 'X', '# X', '[]', 'approved', NULL, 1.0, 2.0, 'carol', 'p', NULL);
                 INSERT INTO proposals ({V1_COLUMNS}) VALUES ('new', NULL, NULL, 'ops', 'y', 'Y', '# Y', '[]', 'pending', NULL, 3.0, NULL, NULL, NULL, NULL);
                 PRAGMA user_version = 1;"
            ))
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.get("old").unwrap().unwrap().approved_by.as_deref(), Some("carol"));
        assert!(s.begin_approval("new", &approval("dave")).unwrap(), "the new status is allowed");
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.get("new").unwrap().unwrap().status, ProposalStatus::Approving);
        assert_eq!(s.list(None, 10).unwrap().1, 2);
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
