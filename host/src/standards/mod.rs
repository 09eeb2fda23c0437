//! The standards population workflow (spec Workflow 1, Models 2 and 5).
//!
//! A persona (through the `propose-standard` host function) or the calling
//! agent (through the `propose_standard` tool) proposes a standard; it waits
//! as a *pending* proposal until a person approves, sends back or rejects
//! it. Only an approved proposal is written, atomically, to
//! `.agent-os/standards/{domain}/{topic}.md`, where the index watcher picks
//! it up. Search usage of every standard is counted beside the proposals.
//!
//! State lives in its own SQLite file, `standards.db` in the project's state
//! folder (see [`crate::project::Project::state_dir`]), not
//! in the jobs database: jobs are pruned, reset and retried on their own
//! schedule, and a proposal must outlive the job that made it. Approved
//! standards never depend on it; their metadata is in their front matter.

pub mod slug;
pub mod store;
pub mod template;
pub mod write;

use std::path::Path;
use std::sync::Arc;

pub use store::{Proposal, ProposalStatus, StoreError, Usage};
use store::{Review, Store};

use crate::jobs::{Jobs, JobsError, NewJob, Priority, now_secs};
use crate::project::Project;
use crate::secrets::{self, SecretFinding};

/// Largest proposal accepted, in bytes.
pub const MAX_CONTENT_BYTES: usize = 200 * 1024;
/// Most proposals one persona job may make.
pub const MAX_PROPOSALS_PER_JOB: i64 = 5;
/// Longest title accepted.
pub const MAX_TITLE_CHARS: usize = 200;
/// Most tags on one standard.
pub const MAX_TAGS: usize = 20;
/// How search hits name project standards.
pub const PATH_PREFIX: &str = ".agent-os/standards/";

#[derive(Debug, thiserror::Error)]
pub enum StandardsError {
    #[error(transparent)]
    Slug(#[from] slug::SlugError),
    #[error("{}", secret_message(.0))]
    Secret(Vec<SecretFinding>),
    #[error("the content does not follow the standard template: missing {} section(s) ({}). Use this shape:\n{}", .0.len(), .0.join(", "), template::SKELETON)]
    Template(Vec<&'static str>),
    #[error("content is empty: write the standard in markdown")]
    Empty,
    #[error("content is {0} bytes; a standard may be at most {MAX_CONTENT_BYTES} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    Invalid(String),
    #[error("this job already made {MAX_PROPOSALS_PER_JOB} proposals; review those first")]
    TooMany,
    #[error("no proposal with id '{0}'; list_standard_proposals (or `agent-os standards proposals`) shows them")]
    NotFound(String),
    #[error("proposal '{id}' was already {status}; only a pending proposal can be reviewed")]
    NotPending { id: String, status: ProposalStatus },
    #[error("nothing written: {0}")]
    Write(#[from] write::WriteError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Jobs(#[from] JobsError),
    #[error("standards worker stopped unexpectedly: {0}")]
    Join(String),
    #[error(transparent)]
    State(#[from] crate::dirs::DirsError),
}

fn secret_message(findings: &[SecretFinding]) -> String {
    let list: Vec<String> = findings.iter().map(|f| f.to_string()).collect();
    format!(
        "refused: the content seems to contain a secret — {}. Standards are committed to the repository; replace the value with a placeholder such as $API_KEY or <password> and a note on where the real one lives",
        list.join("; ")
    )
}

/// A proposal as submitted.
#[derive(Debug, Clone, Default)]
pub struct NewProposal {
    pub persona: Option<String>,
    pub job_id: Option<String>,
    pub domain: String,
    pub topic: String,
    pub title: Option<String>,
    pub content: String,
    pub tags: Vec<String>,
}

/// One standard file of the project, with its metadata and usage (spec Model 5).
#[derive(Debug, Clone, serde::Serialize)]
pub struct StandardInfo {
    /// As search hits name it: `.agent-os/standards/{domain}/{topic}.md`.
    pub path: String,
    pub domain: String,
    pub topic: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub created_by: Option<String>,
    pub approved_by: Option<String>,
    pub created_at: Option<String>,
    pub last_updated: Option<f64>,
    pub query_count: i64,
    pub last_queried: Option<f64>,
}

/// Checks a text that is about to be stored or written.
fn check_content(content: &str) -> Result<(), StandardsError> {
    if content.trim().is_empty() {
        return Err(StandardsError::Empty);
    }
    if content.len() > MAX_CONTENT_BYTES {
        return Err(StandardsError::TooLarge(content.len()));
    }
    let found = secrets::scan(content);
    if !found.is_empty() {
        return Err(StandardsError::Secret(found));
    }
    Ok(())
}

/// Checks a reviewer's edit as a proposal is checked: size, secrets, the template.
pub fn check_edit(text: &str) -> Result<(), StandardsError> {
    check_content(text)?;
    let missing = template::missing_sections(text);
    if !missing.is_empty() {
        return Err(StandardsError::Template(missing));
    }
    Ok(())
}

/// Longest reviewer name written to front matter.
pub const MAX_REVIEWER_CHARS: usize = 100;

/// A reviewer's name as written to front matter: one trimmed line with no
/// control or invisible characters.
fn clean_reviewer(name: &str) -> Result<String, StandardsError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StandardsError::Invalid("the reviewer's name is empty".into()));
    }
    if name.chars().count() > MAX_REVIEWER_CHARS {
        return Err(StandardsError::Invalid(format!(
            "the reviewer's name may be at most {MAX_REVIEWER_CHARS} characters"
        )));
    }
    if name.chars().any(crate::text::is_deceptive) {
        return Err(StandardsError::Invalid(format!(
            "the reviewer's name '{}' holds control or invisible characters",
            crate::text::escape(name)
        )));
    }
    Ok(name.to_string())
}

/// The person running this process: the login name of the effective user
/// (from the password database), else `$USER` / `$USERNAME`, else "human".
pub fn os_user() -> String {
    #[cfg(unix)]
    if let Some(name) = passwd_name() {
        return name;
    }
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty() && !u.chars().any(crate::text::is_deceptive))
        .unwrap_or_else(|| "human".into())
}

#[cfg(unix)]
fn passwd_name() -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to a live local of the right size; the name
    // is copied out of `buf` before it goes out of scope.
    let rc = unsafe { libc::getpwuid_r(libc::geteuid(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) }.to_str().ok()?.trim().to_string();
    (!name.is_empty() && !name.chars().any(crate::text::is_deceptive)).then_some(name)
}

/// The whole file an approved (or approving) proposal writes, from what is
/// recorded: the same text on every attempt.
fn render_approved(p: &Proposal) -> String {
    let created_by = p.persona.clone().unwrap_or_else(|| "agent".into());
    let created_at = crate::time::iso8601(p.created_at);
    let approved_at = crate::time::iso8601(p.reviewed_at.unwrap_or_else(now_secs));
    let fm = write::FrontMatter {
        title: &p.title,
        domain: &p.domain,
        topic: &p.topic,
        tags: &p.tags,
        created_by: &created_by,
        approved_by: p.approved_by.as_deref().unwrap_or("human"),
        created_at: &created_at,
        approved_at: &approved_at,
        proposal_id: &p.id,
    };
    write::render(&fm, p.edited_content.as_deref().unwrap_or(&p.content))
}

/// Whether `path` is a regular file whose front matter names proposal `id`.
fn written_by(path: &Path, id: &str) -> bool {
    match crate::fsx::read_text_bounded(path, (MAX_CONTENT_BYTES * 2) as u64) {
        Ok(text) => front_matter(&text).iter().any(|(k, v)| k == "proposal_id" && v == id),
        Err(_) => false,
    }
}

fn clean_tags(tags: &[String]) -> Result<Vec<String>, StandardsError> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().to_lowercase();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 40 || !t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
        {
            return Err(StandardsError::Invalid(format!(
                "tag '{t}' may use only letters, digits, spaces, '-', '_' and '.', at most 40 characters"
            )));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(StandardsError::Invalid(format!("{} tags given; at most {MAX_TAGS}", out.len())));
    }
    Ok(out)
}

/// The proposal and standards-usage service of one project.
pub struct Standards {
    store: Arc<Store>,
    project: Project,
    /// One review at a time, so two approvals cannot race on a file.
    review_lock: tokio::sync::Mutex<()>,
    /// Bumped when a proposal is stored or reviewed (MCP sessions tell
    /// clients their resource list changed).
    changes: tokio::sync::watch::Sender<u64>,
}

impl Standards {
    pub fn open(project: &Project) -> Result<Self, StandardsError> {
        let store = Store::open(&project.proposals_db()?)?;
        Ok(Self {
            store: Arc::new(store),
            project: project.clone(),
            review_lock: tokio::sync::Mutex::new(()),
            changes: tokio::sync::watch::channel(0).0,
        })
    }

    /// Follows the proposals this process stores or reviews.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StandardsError> + Send + 'static,
    ) -> Result<T, StandardsError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store)).await.map_err(|e| StandardsError::Join(e.to_string()))?
    }

    /// Project-relative path of `{domain}/{topic}.md`.
    pub fn target_path(domain: &str, topic: &str) -> String {
        format!("{PATH_PREFIX}{domain}/{topic}.md")
    }

    /// Whether the standard a proposal would write already exists.
    pub fn target_exists(&self, domain: &str, topic: &str) -> bool {
        self.project.standards_dir().join(domain).join(format!("{topic}.md")).exists()
    }

    /// Validates and stores a pending proposal. A refused proposal stores nothing.
    pub async fn propose(&self, p: NewProposal) -> Result<Proposal, StandardsError> {
        slug::validate("domain", &p.domain)?;
        slug::validate("topic", &p.topic)?;
        check_content(&p.content)?;
        let missing = template::missing_sections(&p.content);
        if !missing.is_empty() {
            return Err(StandardsError::Template(missing));
        }
        let tags = clean_tags(&p.tags)?;
        let title = p
            .title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .or_else(|| template::title(&p.content))
            .unwrap_or_else(|| p.topic.replace(['-', '_'], " "));
        if title.chars().count() > MAX_TITLE_CHARS || title.chars().any(crate::text::is_deceptive) {
            return Err(StandardsError::Invalid(format!(
                "title must be one line of at most {MAX_TITLE_CHARS} characters, without control or invisible characters"
            )));
        }
        if let Some(f) = secrets::scan(&title).into_iter().next() {
            return Err(StandardsError::Invalid(format!(
                "refused: the title seems to contain {}; use a plain title",
                f.kind.describe()
            )));
        }
        let proposal = Proposal {
            id: uuid::Uuid::new_v4().to_string(),
            persona: p.persona,
            job_id: p.job_id,
            domain: p.domain,
            topic: p.topic,
            title,
            content: p.content,
            tags,
            status: ProposalStatus::Pending,
            feedback: None,
            created_at: now_secs(),
            reviewed_at: None,
            approved_by: None,
            written_path: None,
            revision_job_id: None,
            edited_content: None,
            overwrite: false,
        };
        let row = proposal.clone();
        self.blocking(move |s| {
            if let Some(job) = &row.job_id
                && s.count_for_job(job)? >= MAX_PROPOSALS_PER_JOB
            {
                return Err(StandardsError::TooMany);
            }
            Ok(s.insert(&row)?)
        })
        .await?;
        tracing::info!(id = %proposal.id, domain = %proposal.domain, topic = %proposal.topic, by = proposal.persona.as_deref().unwrap_or("agent"), "standard proposed");
        self.changes.send_modify(|n| *n += 1);
        Ok(proposal)
    }

    pub async fn get(&self, id: &str) -> Result<Proposal, StandardsError> {
        let key = id.to_string();
        self.blocking(move |s| s.get(&key)?.ok_or(StandardsError::NotFound(key))).await
    }

    pub async fn list(
        &self,
        status: Option<ProposalStatus>,
        limit: u32,
    ) -> Result<(Vec<Proposal>, i64), StandardsError> {
        self.blocking(move |s| Ok(s.list(status, limit)?)).await
    }

    async fn pending(&self, id: &str) -> Result<Proposal, StandardsError> {
        let p = self.get(id).await?;
        if p.status != ProposalStatus::Pending {
            return Err(StandardsError::NotPending { id: p.id, status: p.status });
        }
        Ok(p)
    }

    async fn record(&self, id: &str, review: Review) -> Result<Proposal, StandardsError> {
        let key = id.to_string();
        self.blocking(move |s| {
            if !s.review(&key, &review)? {
                let p = s.get(&key)?.ok_or_else(|| StandardsError::NotFound(key.clone()))?;
                return Err(StandardsError::NotPending { id: key, status: p.status });
            }
            s.get(&key)?.ok_or(StandardsError::NotFound(key))
        })
        .await
        .inspect(|_| self.changes.send_modify(|n| *n += 1))
    }

    /// Approves a pending proposal in the name of `reviewer`, a person (the
    /// answer to an approval form, or the CLI's user): writes the standard
    /// (the reviewer's edit when given) and marks the proposal approved.
    ///
    /// The decision is recorded first (status `approving`, with the path),
    /// then the file is written atomically, then the proposal is marked
    /// approved; so a written file always has its record, and after a crash
    /// the next start (or approving it again) completes the write. A refusal
    /// (a secret, an edit off the template, an existing file without
    /// `overwrite`) changes nothing.
    pub async fn approve(
        &self,
        id: &str,
        reviewer: &str,
        edited: Option<String>,
        overwrite: bool,
    ) -> Result<Proposal, StandardsError> {
        let _guard = self.review_lock.lock().await;
        let p = self.get(id).await?;
        match p.status {
            ProposalStatus::Pending => {}
            // A person's decision is already recorded: finish writing it.
            ProposalStatus::Approving => return self.finish_approval(p).await,
            status => return Err(StandardsError::NotPending { id: p.id, status }),
        }
        let reviewer = clean_reviewer(reviewer)?;
        match &edited {
            Some(text) => check_edit(text)?,
            None => check_content(&p.content)?,
        }
        // Re-checked: a proposal stored by an older version was not validated the same way.
        slug::validate("domain", &p.domain)?;
        slug::validate("topic", &p.topic)?;
        if !overwrite && self.target_exists(&p.domain, &p.topic) {
            let path = self.project.standards_dir().join(&p.domain).join(format!("{}.md", p.topic));
            return Err(write::WriteError::Exists { path: path.display().to_string() }.into());
        }
        let approval = store::Approval {
            approved_by: reviewer,
            written_path: Self::target_path(&p.domain, &p.topic),
            edited_content: edited,
            overwrite,
            at: now_secs(),
        };
        let key = p.id.clone();
        let recorded = self
            .blocking(move |s| {
                if !s.begin_approval(&key, &approval)? {
                    let p = s.get(&key)?.ok_or_else(|| StandardsError::NotFound(key.clone()))?;
                    return Err(StandardsError::NotPending { id: key, status: p.status });
                }
                s.get(&key)?.ok_or(StandardsError::NotFound(key))
            })
            .await?;
        tracing::info!(id = %recorded.id, path = ?recorded.written_path, by = ?recorded.approved_by, "approval recorded; writing the standard");
        self.finish_approval(recorded).await
    }

    /// Writes the file of a proposal whose approval is recorded, then marks
    /// it approved. A file that already carries this proposal's id was
    /// written by an earlier attempt and is kept. When the write is refused
    /// the approval is taken back (the proposal is pending again).
    async fn finish_approval(&self, p: Proposal) -> Result<Proposal, StandardsError> {
        let text = render_approved(&p);
        let root = self.project.standards_dir();
        let (id, domain, topic, overwrite) = (p.id.clone(), p.domain.clone(), p.topic.clone(), p.overwrite);
        let written = tokio::task::spawn_blocking(move || {
            let target = root.join(&domain).join(format!("{topic}.md"));
            if written_by(&target, &id) {
                return Ok(target);
            }
            match write::write_atomic(&root, &domain, &topic, &text, overwrite) {
                // Another process finished the same approval first.
                Err(write::WriteError::Exists { .. }) if written_by(&target, &id) => Ok(target),
                other => other,
            }
        })
        .await
        .map_err(|e| StandardsError::Join(e.to_string()))?;
        let key = p.id.clone();
        match written {
            Ok(path) => {
                tracing::info!(id = %p.id, path = %path.display(), by = ?p.approved_by, "standard approved and written");
                self.blocking(move |s| {
                    s.finish_approval(&key)?;
                    s.get(&key)?.ok_or(StandardsError::NotFound(key))
                })
                .await
            }
            Err(e) => {
                tracing::warn!(id = %p.id, "approval not written, the proposal is pending again: {e}");
                self.blocking(move |s| Ok(s.abandon_approval(&key)?)).await?;
                Err(e.into())
            }
        }
    }

    /// Completes approvals a crash interrupted between recording the
    /// decision and writing the file; returns how many were completed.
    pub async fn finish_interrupted(&self) -> usize {
        let _guard = self.review_lock.lock().await;
        let ids = match self.blocking(|s| Ok(s.unfinished_approvals()?)).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!("could not look for interrupted approvals: {e}");
                return 0;
            }
        };
        let mut done = 0;
        for id in ids {
            let finished = match self.get(&id).await {
                Ok(p) if p.status == ProposalStatus::Approving => self.finish_approval(p).await.map(|_| ()),
                Ok(_) => continue,
                Err(e) => Err(e),
            };
            match finished {
                Ok(()) => done += 1,
                Err(e) => tracing::warn!(id = %id, "an interrupted approval could not be completed: {e}"),
            }
        }
        done
    }

    /// Stores the reviewer's reasons; writes nothing.
    pub async fn reject(&self, id: &str, feedback: Option<String>) -> Result<Proposal, StandardsError> {
        let _guard = self.review_lock.lock().await;
        self.pending(id).await?;
        let now = now_secs();
        let feedback = feedback.map(|f| f.trim().to_string()).filter(|f| !f.is_empty());
        self.record(
            id,
            Review {
                status: ProposalStatus::Rejected,
                feedback,
                approved_by: None,
                written_path: None,
                content: None,
                revision_job_id: None,
                at: now,
            },
        )
        .await
    }

    /// Sends a proposal back with `feedback`. A persona's proposal is
    /// re-run as a new job of that persona with the feedback; the calling
    /// agent's own proposal is only marked (it proposes again itself).
    pub async fn revise(&self, id: &str, feedback: &str, jobs: &Jobs) -> Result<Proposal, StandardsError> {
        let feedback = feedback.trim().to_string();
        if feedback.is_empty() {
            return Err(StandardsError::Invalid(
                "revise needs feedback: say what should change in the proposal".into(),
            ));
        }
        let _guard = self.review_lock.lock().await;
        let p = self.pending(id).await?;
        let mut revision_job = None;
        if let Some(persona) = &p.persona {
            let original = match &p.job_id {
                Some(j) => jobs.get(j).await.ok(),
                None => None,
            };
            let original_task = original.as_ref().map(|j| j.task.clone()).unwrap_or_default();
            let mut context = format!("Your previous proposal ({}/{}):\n\n{}", p.domain, p.topic, p.content);
            if let Some(c) = original.as_ref().and_then(|j| j.context.clone()) {
                context.push_str("\n\nOriginal context:\n\n");
                context.push_str(&c);
            }
            let mut task = format!(
                "Revise the standard you proposed for {}/{} (proposal {}) following the reviewer's feedback, then propose it again with propose-standard.\n\nFeedback: {feedback}",
                p.domain, p.topic, p.id
            );
            if !original_task.is_empty() {
                task.push_str("\n\nOriginal task: ");
                task.push_str(&original_task);
            }
            let job = jobs
                .submit(NewJob {
                    persona: persona.clone(),
                    task,
                    context: Some(context),
                    feedback: Some(feedback.clone()),
                    priority: Priority::Normal,
                })
                .await?;
            revision_job = Some(job.id);
        }
        let now = now_secs();
        let result = self
            .record(
                id,
                Review {
                    status: ProposalStatus::Revised,
                    feedback: Some(feedback),
                    approved_by: None,
                    written_path: None,
                    content: None,
                    revision_job_id: revision_job.clone(),
                    at: now,
                },
            )
            .await;
        if result.is_err()
            && let Some(job) = &revision_job
        {
            let _ = jobs.cancel(job).await;
        }
        result
    }

    /// Counts one query for each path, off the caller's path: the update
    /// runs on the blocking pool and is not awaited.
    pub fn record_queries(&self, paths: Vec<String>) {
        if paths.is_empty() {
            return;
        }
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.record_queries(&paths, now_secs()) {
                tracing::warn!("could not count standard queries: {e}");
            }
        });
    }

    /// Every markdown standard in the project, with front matter and usage.
    pub async fn catalogue(&self) -> Result<Vec<StandardInfo>, StandardsError> {
        let root = self.project.standards_dir();
        // A linked standards folder (or .agent-os) is not read: see rag::sources.
        let readable = crate::rag::sources::check_root(&root, Some(self.project.root())).is_ok();
        self.blocking(move |s| {
            let usage: std::collections::HashMap<String, Usage> = s.usage()?.into_iter().collect();
            let mut files = Vec::new();
            if readable {
                collect_md(&root, &root, &mut files);
            }
            files.sort();
            Ok(files
                .into_iter()
                .map(|rel| {
                    let full = root.join(&rel);
                    let text =
                        crate::fsx::read_text_bounded(&full, crate::rag::sources::MAX_FILE_BYTES).unwrap_or_default();
                    let fm = front_matter(&text);
                    let get =
                        |k: &str| fm.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
                    let path = format!("{PATH_PREFIX}{rel}");
                    let u = usage.get(&path).cloned().unwrap_or_default();
                    let domain = get("domain").unwrap_or_else(|| crate::rag::chunker::domain_from_path(&rel));
                    let topic =
                        Path::new(&rel).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    let tags = get("tags")
                        .map(|t| {
                            t.trim_matches(['[', ']'])
                                .split(',')
                                .map(|x| x.trim().trim_matches(['"', '\'']).to_string())
                                .filter(|x| !x.is_empty())
                                .collect()
                        })
                        .unwrap_or_default();
                    let last_updated = std::fs::metadata(&full)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_secs_f64());
                    StandardInfo {
                        path,
                        domain,
                        topic,
                        title: get("title").or_else(|| template::title(&text)),
                        tags,
                        created_by: get("created_by"),
                        approved_by: get("approved_by"),
                        created_at: get("created_at"),
                        last_updated,
                        query_count: u.query_count,
                        last_queried: u.last_queried,
                    }
                })
                .collect())
        })
        .await
    }
}

/// `key: value` pairs of a leading front matter block, values unquoted.
fn front_matter(text: &str) -> Vec<(String, String)> {
    let rest = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(after) = rest.strip_prefix("---\n").or_else(|| rest.strip_prefix("---\r\n")) else {
        return Vec::new();
    };
    let Some(end) = after.find("\n---") else {
        return Vec::new();
    };
    after[..end]
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .map(|x| x.replace("\\\"", "\"").replace("\\\\", "\\"))
                .unwrap_or_else(|| v.to_string());
            (k.trim().to_ascii_lowercase(), v)
        })
        .collect()
}

/// Relative paths (with `/`) of the `.md` files under `dir`, skipping hidden entries.
fn collect_md(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut files = Vec::new();
    crate::rag::walk_markdown(dir, &mut files);
    out.extend(
        files.iter().filter_map(|p| p.strip_prefix(root).ok()).map(|rel| rel.to_string_lossy().replace('\\', "/")),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "# Retries\n\n## Context\nCalls fail.\n\n## Pattern\nRetry with backoff.\n\n## Examples\nThree tries.\n\n## Anti-patterns\nRetry forever.\n";

    async fn proposed(dir: &Path) -> (Standards, Proposal) {
        let s = Standards::open(&Project::new(dir)).unwrap();
        let p = s
            .propose(NewProposal {
                domain: "ops".into(),
                topic: "retries".into(),
                content: BODY.into(),
                ..NewProposal::default()
            })
            .await
            .unwrap();
        (s, p)
    }

    fn target(dir: &Path) -> std::path::PathBuf {
        dir.join(".agent-os/standards/ops/retries.md")
    }

    fn record(s: &Standards, id: &str, by: &str) {
        let a = store::Approval {
            approved_by: by.into(),
            written_path: Standards::target_path("ops", "retries"),
            edited_content: None,
            overwrite: false,
            at: now_secs(),
        };
        assert!(s.store.begin_approval(id, &a).unwrap());
    }

    #[tokio::test]
    async fn a_crash_before_the_write_is_completed_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let (s, p) = proposed(dir.path()).await;
        // The decision was recorded, then the process died before writing.
        record(&s, &p.id, "alice");
        assert!(!target(dir.path()).exists());
        assert_eq!(s.get(&p.id).await.unwrap().status, ProposalStatus::Approving);
        drop(s);
        let s = Standards::open(&Project::new(dir.path())).unwrap();
        assert_eq!(s.finish_interrupted().await, 1);
        let text = std::fs::read_to_string(target(dir.path())).unwrap();
        assert!(text.contains("approved_by: \"alice\"") && text.contains(&format!("proposal_id: {}", p.id)), "{text}");
        let done = s.get(&p.id).await.unwrap();
        assert_eq!(done.status, ProposalStatus::Approved);
        assert_eq!(s.finish_interrupted().await, 0, "nothing left to do");
    }

    #[tokio::test]
    async fn a_crash_after_the_write_keeps_the_file_and_approving_again_completes() {
        let dir = tempfile::tempdir().unwrap();
        let (s, p) = proposed(dir.path()).await;
        record(&s, &p.id, "alice");
        // The file was written (by the recorded decision), then the process died.
        let recorded = s.get(&p.id).await.unwrap();
        let text = render_approved(&recorded);
        write::write_atomic(&dir.path().join(".agent-os/standards"), "ops", "retries", &text, false).unwrap();
        // A retry, even naming someone else, completes the recorded decision.
        let done = s.approve(&p.id, "mallory", None, false).await.unwrap();
        assert_eq!((done.status, done.approved_by.as_deref()), (ProposalStatus::Approved, Some("alice")));
        assert_eq!(std::fs::read_to_string(target(dir.path())).unwrap(), text, "the file is not rewritten");
    }

    #[tokio::test]
    async fn a_refused_write_takes_the_approval_back() {
        let dir = tempfile::tempdir().unwrap();
        let (s, p) = proposed(dir.path()).await;
        record(&s, &p.id, "alice");
        // Someone else's file appeared at the path meanwhile; no overwrite was approved.
        std::fs::create_dir_all(target(dir.path()).parent().unwrap()).unwrap();
        std::fs::write(target(dir.path()), "# Theirs\n").unwrap();
        assert_eq!(s.finish_interrupted().await, 0);
        assert_eq!(std::fs::read_to_string(target(dir.path())).unwrap(), "# Theirs\n");
        let back = s.get(&p.id).await.unwrap();
        assert_eq!((back.status, back.approved_by), (ProposalStatus::Pending, None));
    }

    #[tokio::test]
    async fn an_edit_is_checked_like_a_proposal_and_the_reviewer_is_one_clean_line() {
        let dir = tempfile::tempdir().unwrap();
        let (s, p) = proposed(dir.path()).await;
        let e = s.approve(&p.id, "alice", Some("# Short\n\nNo sections.\n".into()), false).await.unwrap_err();
        assert!(matches!(e, StandardsError::Template(_)), "{e}");
        let e = s.approve(&p.id, "alice\u{202E}", None, false).await.unwrap_err();
        assert!(e.to_string().contains("\\u{202e}"), "{e}");
        let e = s.approve(&p.id, "  ", None, false).await.unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        assert!(!target(dir.path()).exists());
        assert_eq!(s.get(&p.id).await.unwrap().status, ProposalStatus::Pending);
        let done = s.approve(&p.id, " alice ", Some(BODY.replace("Three tries", "Five tries")), false).await.unwrap();
        assert_eq!(done.approved_by.as_deref(), Some("alice"));
        assert!(done.content.contains("Five tries"), "the edit is kept as the content");
        assert!(std::fs::read_to_string(target(dir.path())).unwrap().contains("Five tries"));
    }

    #[test]
    fn the_os_user_is_a_clean_name() {
        let u = os_user();
        assert!(!u.is_empty() && !u.chars().any(crate::text::is_deceptive), "{u:?}");
    }
}
