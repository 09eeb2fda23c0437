//! The shape every persona returns: its own deterministic findings, the
//! standards it consulted, and either the language model's review or, with
//! no model configured, a delegated brief the calling agent completes.

use std::fmt::Write as _;

use crate::{Hit, Request, quote};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; fix when convenient.
    Low,
    /// A real problem that should be fixed before long.
    Medium,
    /// Fix before merging.
    High,
    /// Fix now: an exploitable hole, data loss or an outage waiting to happen.
    Critical,
}

impl Severity {
    /// Lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One problem found by a persona's own checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious it is; findings are reported most severe first.
    pub severity: Severity,
    /// The project file the finding is in, when it has one.
    pub file: Option<String>,
    /// 1-based line, in the file's own numbering when [`Finding::file`] is
    /// set (otherwise in the reviewed context), when the finding has one.
    pub line: Option<usize>,
    /// A few words naming the problem, e.g. "Hard-coded AWS key".
    pub title: String,
    /// Why it matters and how to fix it, in a sentence or two.
    pub detail: String,
}

impl Finding {
    /// A finding without a line.
    pub fn new(severity: Severity, title: impl Into<String>, detail: impl Into<String>) -> Self {
        Finding { severity, file: None, line: None, title: title.into(), detail: detail.into() }
    }

    /// The same finding, at `line`.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// The same finding, in `path` at `line` (1-based, the file's own numbering).
    pub fn in_file(mut self, path: impl Into<String>, line: usize) -> Self {
        self.file = Some(path.into());
        self.line = Some(line);
        self
    }

    /// The file the finding is in: [`Finding::file`], or else the path its
    /// title names as "… in `path`", the form the core personas use.
    pub fn file_name(&self) -> Option<&str> {
        if let Some(f) = &self.file {
            return Some(f);
        }
        let rest = &self.title[self.title.rfind(" in `")? + 5..];
        let path = &rest[..rest.find('`')?];
        (!path.is_empty() && !path.contains(char::is_whitespace)).then_some(path)
    }

    /// Where the finding is, as `file:line`, `file`, `line N` or nothing.
    pub fn location(&self) -> Option<String> {
        match (self.file_name(), self.line) {
            (Some(f), Some(l)) => Some(format!("{}:{l}", quote::label(f))),
            (Some(f), None) => Some(quote::label(f)),
            (None, Some(l)) => Some(format!("line {l}")),
            (None, None) => None,
        }
    }

    /// One line for a brief or a prompt: severity, `` `file:line` `` (or
    /// "(line N)" when no file is known), title and detail (why it matters
    /// and the fix).
    pub fn render(&self) -> String {
        self.render_with(self.detail.trim())
    }

    /// [`Finding::render`] with `detail` in place of the finding's own.
    fn render_with(&self, detail: &str) -> String {
        let at = match (self.file_name(), self.line) {
            (None, Some(l)) => format!(" (line {l})"),
            _ => self.location().map(|l| format!(" `{l}`")).unwrap_or_default(),
        };
        format!("**{}**{at}: {}. {detail}", self.severity.as_str(), self.short_title())
    }

    /// The title without a trailing "in `path`" that names the file the
    /// location already shows.
    fn short_title(&self) -> &str {
        let title = self.title.trim().trim_end_matches('.');
        if let Some(file) = self.file_name() {
            let suffix = format!(" in `{file}`");
            if let Some(t) = title.strip_suffix(suffix.as_str()).filter(|t| !t.trim().is_empty()) {
                return t.trim_end();
            }
        }
        title
    }

    /// The finding's topic: its title without the file and any count, the
    /// same for every place the same check fires.
    fn topic(&self) -> &str {
        let t = self.title.split(" in `").next().unwrap_or(&self.title);
        t.split(':').next().unwrap_or(t).trim()
    }
}

/// What the automated checks looked at, so an empty result says what was
/// and was not reviewed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Names of the checks that ran; empty means "the automated checks".
    pub checks: Vec<String>,
    /// The files analysed, as (name, language).
    pub files: Vec<(String, String)>,
    /// What was not analysed, as (what, why); a path in `what` is written
    /// in backticks (made safe with [`quote::label`]).
    pub skipped: Vec<(String, String)>,
}

/// Files named one by one in a coverage line; the rest are counted.
const COVERAGE_FILES_SHOWN: usize = 8;

impl Coverage {
    /// One paragraph: which checks ran on which files and languages, and
    /// what was skipped and why.
    pub fn render(&self) -> String {
        self.render_besides(&[])
    }

    /// [`Coverage::render`], counting rather than naming the files in
    /// `named` (those a finding above already names).
    pub fn render_besides(&self, named: &[&str]) -> String {
        let checks = if self.checks.is_empty() {
            "The automated checks".to_string()
        } else {
            format!("Checks run ({})", self.checks.join(", "))
        };
        let mut out = format!("**Coverage:** {checks} ");
        if self.files.is_empty() {
            out.push_str("had no file to look at: the context named no readable file and held no code.");
        } else {
            let mut langs: Vec<(&str, usize)> = Vec::new();
            for (_, lang) in &self.files {
                match langs.iter_mut().find(|(l, _)| l == lang) {
                    Some((_, n)) => *n += 1,
                    None => langs.push((lang, 1)),
                }
            }
            let langs: Vec<String> = langs.iter().map(|(l, n)| format!("{l} {n}")).collect();
            let unnamed: Vec<&str> =
                self.files.iter().map(|(f, _)| f.as_str()).filter(|f| !named.contains(f)).collect();
            let mut names: Vec<String> =
                unnamed.iter().take(COVERAGE_FILES_SHOWN).map(|f| format!("`{}`", quote::label(f))).collect();
            if unnamed.len() > COVERAGE_FILES_SHOWN {
                names.push(format!("{} more", unnamed.len() - COVERAGE_FILES_SHOWN));
            }
            let in_findings = self.files.len() - unnamed.len();
            match in_findings {
                0 => {}
                n if names.is_empty() => {
                    names.push(format!("{} named in the findings", if n == 1 { "the one" } else { "all" }))
                }
                n => names.push(format!("{n} named in the findings")),
            }
            let n = self.files.len();
            let _ = write!(
                out,
                "looked at {n} file{} ({}): {}.",
                if n == 1 { "" } else { "s" },
                langs.join(", "),
                names.join(", ")
            );
        }
        if self.skipped.is_empty() {
            out.push_str(" Nothing named was skipped.");
        } else {
            let skipped: Vec<String> = self.skipped.iter().map(|(what, why)| format!("{what} ({why})")).collect();
            let _ = write!(out, " Not analysed: {}.", skipped.join("; "));
        }
        out
    }
}

/// Said in place of an explanation and fix an earlier finding of the same
/// kind already gave.
const SEE_FIRST: &str = "Why and fix: as for the first finding of this kind above.";

/// Fewest characters of an explanation a finding shares with an earlier one
/// for it to point there rather than say it again.
const SHARED_TAIL_MIN: usize = 60;

/// Where the tail `detail` shares with `earlier` starts, at the start of
/// `detail` or just after a ". ", ": " or "; " in it, when that tail is at
/// least [`SHARED_TAIL_MIN`] characters long.
fn shared_tail(detail: &str, earlier: &str) -> Option<usize> {
    let common = detail.bytes().rev().zip(earlier.bytes().rev()).take_while(|(a, b)| a == b).count();
    let start = detail.len() - common;
    let at = (start..detail.len()).find(|&p| {
        detail.is_char_boundary(p) && (p == 0 || [". ", ": ", "; "].iter().any(|b| detail[..p].ends_with(b)))
    })?;
    (detail[at..].chars().count() >= SHARED_TAIL_MIN).then_some(at)
}

/// Said in place of quoted standards while the host's index is being built.
pub const INDEX_BUILDING_NOTE: &str = "Standards index still building; no standards were retrieved.";

/// Builds a persona's markdown result: its findings, the standards it
/// consulted and notes, around either the language model's review
/// ([`DelegatedBrief::with_review`]) or, with no model, a brief for the
/// calling agent to finish ([`DelegatedBrief::delegated`]).
#[derive(Debug, Clone)]
pub struct DelegatedBrief {
    persona: String,
    findings: Vec<Finding>,
    standards: Vec<Hit>,
    no_standards: Option<String>,
    coverage: Option<Coverage>,
    sections: Vec<(String, String)>,
    notes: Vec<String>,
}

/// Most characters quoted from one standard in a brief.
pub const MAX_QUOTE_CHARS: usize = 600;

impl DelegatedBrief {
    /// Starts a result for the persona named `persona` (e.g. "Security Engineer").
    pub fn new(persona: impl Into<String>) -> Self {
        DelegatedBrief {
            persona: persona.into(),
            findings: Vec::new(),
            standards: Vec::new(),
            no_standards: None,
            coverage: None,
            sections: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds findings from the persona's own checks.
    pub fn findings(mut self, findings: impl IntoIterator<Item = Finding>) -> Self {
        self.findings.extend(findings);
        self
    }

    /// Adds the standards the persona consulted.
    pub fn standards(mut self, hits: impl IntoIterator<Item = Hit>) -> Self {
        self.standards.extend(hits);
        self
    }

    /// Says why no standards are quoted (e.g. [`INDEX_BUILDING_NOTE`]),
    /// shown in place of "None found."
    pub fn standards_unavailable(mut self, why: impl Into<String>) -> Self {
        self.no_standards = Some(why.into());
        self
    }

    /// Says what the automated checks looked at.
    pub fn coverage(mut self, coverage: Coverage) -> Self {
        self.coverage = Some(coverage);
        self
    }

    /// Adds a section of the persona's own, shown after the findings under
    /// `## {title}` (e.g. a dependency table).
    pub fn section(mut self, title: impl Into<String>, markdown: impl Into<String>) -> Self {
        self.sections.push((title.into(), markdown.into()));
        self
    }

    /// The sections added so far, as (title, markdown).
    pub fn sections(&self) -> &[(String, String)] {
        &self.sections
    }

    /// Adds a sentence shown under "Notes" (e.g. why search was skipped).
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// The findings added so far, most severe first.
    pub fn sorted_findings(&self) -> Vec<&Finding> {
        let mut f: Vec<&Finding> = self.findings.iter().collect();
        f.sort_by(|a, b| {
            b.severity.cmp(&a.severity).then_with(|| a.file_name().cmp(&b.file_name())).then(a.line.cmp(&b.line))
        });
        f
    }

    /// The findings as a markdown list, most severe first, each said once:
    /// the same finding (same check, file and words) at several lines is
    /// one item ending "Also lines …", and an explanation and fix a finding
    /// shares with an earlier one of the same check points to that one
    /// instead of being repeated.
    pub fn findings_list(&self) -> String {
        let mut entries: Vec<(&Finding, Vec<usize>)> = Vec::new();
        for f in self.sorted_findings() {
            let same = entries.iter_mut().find(|(e, _)| {
                e.line.is_some()
                    && f.line.is_some()
                    && e.severity == f.severity
                    && e.file_name() == f.file_name()
                    && e.title == f.title
                    && e.detail == f.detail
            });
            match same {
                Some((_, more)) => more.extend(f.line),
                None => entries.push((f, Vec::new())),
            }
        }
        let mut out = String::new();
        // Explanations shown in full so far: (topic, detail).
        let mut shown: Vec<(&str, &str)> = Vec::new();
        for (f, more) in entries {
            let own = f.detail.trim();
            let earlier = shown.iter().filter(|(topic, _)| *topic == f.topic()).find_map(|(_, d)| shared_tail(own, d));
            let mut detail = match earlier {
                Some(p) => format!("{}{SEE_FIRST}", &own[..p]),
                None => own.to_string(),
            };
            if earlier.is_none() {
                shown.push((f.topic(), own));
            }
            if !more.is_empty() {
                if !(detail.ends_with(['.', '!', '?']) || detail.ends_with(".)")) {
                    detail.push('.');
                }
                let lines: Vec<String> = more.iter().map(usize::to_string).collect();
                let word = if lines.len() == 1 { "line" } else { "lines" };
                let _ = write!(detail, " Also {word} {}.", lines.join(", "));
            }
            let _ = writeln!(out, "- {}", f.render_with(detail.trim()));
        }
        out
    }

    fn write_findings(&self, out: &mut String) {
        let _ = writeln!(out, "## Findings from automated checks\n");
        if self.findings.is_empty() {
            let _ = writeln!(out, "No issues found by the automated checks in what they looked at.\n");
        } else {
            let _ = writeln!(out, "{}", self.findings_list());
        }
        if let Some(c) = &self.coverage {
            let named: Vec<&str> = self.findings.iter().filter_map(Finding::file_name).collect();
            let _ = writeln!(out, "{}\n", c.render_besides(&named));
        }
    }

    fn write_sections(&self, out: &mut String) {
        for (title, body) in &self.sections {
            let _ = writeln!(out, "## {}\n\n{}\n", title.trim(), body.trim());
        }
    }

    fn write_standards(&self, out: &mut String) {
        let _ = writeln!(out, "## Standards consulted\n");
        if self.standards.is_empty() {
            let _ = writeln!(out, "{}\n", self.no_standards.as_deref().unwrap_or("None found."));
            return;
        }
        let _ = writeln!(out, "{}\n", crate::quote::STANDARDS_NOTE);
        self.write_quoted_standards(out);
    }

    /// Each standard as a line naming it (path and section) and the
    /// passage in a fenced block that nothing inside can close.
    fn write_quoted_standards(&self, out: &mut String) {
        for h in &self.standards {
            let text = quote::quotable(&h.text, MAX_QUOTE_CHARS);
            let _ = writeln!(
                out,
                "`{}` § {}\n\n{}",
                quote::label(&h.path),
                quote::label(&h.heading),
                quote::fenced("quoted-standard", &text)
            );
        }
    }

    /// The consulted standards in full, for the language model's prompt:
    /// a sentence saying they are quoted reference material, then path and
    /// section to cite and the passage fenced.
    pub fn standards_for_prompt(&self) -> String {
        if self.standards.is_empty() {
            if let Some(why) = &self.no_standards {
                return format!("{why} Say so where a rule would apply.\n");
            }
            return "No project or universal standard matched this task; say so where a rule would apply.\n".into();
        }
        let mut out = format!("{}\n\n", quote::STANDARDS_NOTE);
        self.write_quoted_standards(&mut out);
        out
    }

    fn write_notes(&self, out: &mut String) {
        if self.notes.is_empty() {
            return;
        }
        let _ = writeln!(out, "## Notes\n");
        for n in &self.notes {
            let _ = writeln!(out, "- {n}");
        }
        out.push('\n');
    }

    /// The result when a language model wrote the review.
    pub fn with_review(&self, review: &str) -> String {
        let mut out = format!("# {} review\n\n", self.persona);
        out.push_str(review.trim());
        out.push_str("\n\n");
        self.write_findings(&mut out);
        self.write_sections(&mut out);
        self.write_standards(&mut out);
        self.write_notes(&mut out);
        out
    }

    /// The result when no language model is configured: everything the
    /// calling agent needs to finish the review itself, labelled as such.
    /// The persona's instructions are not repeated in every brief: the host
    /// sends them once per session beside the first one (see
    /// [`INSTRUCTIONS_ELSEWHERE`]).
    pub fn delegated(&self, req: &Request, reason: &str) -> String {
        let mut out = format!("# {} review — delegated brief\n\n", self.persona);
        let reason = reason.trim().trim_end_matches('.');
        let _ = writeln!(out, "**Delegated brief:** {reason}. {INSTRUCTIONS_ELSEWHERE}\n");
        let _ = writeln!(out, "## Task\n\n{}\n", req.task.trim());
        self.write_findings(&mut out);
        self.write_sections(&mut out);
        self.write_standards(&mut out);
        self.write_notes(&mut out);
        out
    }
}

/// What a delegated brief asks of the agent, and where the persona's
/// instructions are: the host adds them (role, severity guide, output
/// format) to the session's first result of each persona as
/// `persona_instructions`, and serves them as a resource to re-read.
pub const INSTRUCTIONS_ELSEWHERE: &str = "The checks below ran in the persona's sandbox; finish the review \
yourself in the persona's role, following its instructions (sent once per session as `persona_instructions`, \
to re-read at `persona_instructions_uri`), and cite the standards you apply.";

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(path: &str, text: &str, score: f32) -> Hit {
        Hit { path: path.into(), heading: "H".into(), text: text.into(), score }
    }

    #[test]
    fn findings_show_file_and_line_and_the_fix() {
        let f =
            Finding::new(Severity::High, "SQL built from strings", "Use a bound parameter.").in_file("app/db.py", 12);
        assert_eq!(f.location().as_deref(), Some("app/db.py:12"));
        assert_eq!(f.render(), "**high** `app/db.py:12`: SQL built from strings. Use a bound parameter.");
        // The older form, a path in the title and a line, still gets file:line.
        let old =
            Finding::new(Severity::Medium, "HTTP client without a timeout in `src/client.rs`", "Set one.").at_line(2);
        assert_eq!(old.location().as_deref(), Some("src/client.rs:2"));
        assert_eq!(Finding::new(Severity::Low, "x", "y").at_line(3).location().as_deref(), Some("line 3"));
        assert_eq!(Finding::new(Severity::Low, "x", "y").at_line(3).render(), "**low** (line 3): x. y");
        assert_eq!(Finding::new(Severity::Low, "x", "y").location(), None);
        let b = DelegatedBrief::new("QA").findings([old, f]);
        let sorted: Vec<_> = b.sorted_findings().iter().map(|f| f.severity).collect();
        assert_eq!(sorted, [Severity::High, Severity::Medium]);
    }

    #[test]
    fn each_finding_is_said_once() {
        let why = "A plain CREATE INDEX blocks writes to the table while it builds. Safer: CREATE INDEX CONCURRENTLY.";
        let index = |file: &str, line: usize, table: &str| {
            Finding::new(
                Severity::Medium,
                format!("Index built without CONCURRENTLY in `{file}`"),
                format!("`{table}`: {why}"),
            )
            .in_file(file, line)
        };
        let b = DelegatedBrief::new("Data").findings([
            index("db/2.rb", 5, "events"),
            index("db/2.rb", 3, "events"),
            index("db/1.rb", 4, "notes"),
            index("db/2.rb", 4, "events"),
            Finding::new(Severity::High, "Drop in `db/3.rb`", "Loses data.").in_file("db/3.rb", 2),
        ]);
        let list = b.findings_list();
        let lines: Vec<&str> = list.lines().collect();
        assert_eq!(
            lines,
            [
                "- **high** `db/3.rb:2`: Drop. Loses data.",
                &format!("- **medium** `db/1.rb:4`: Index built without CONCURRENTLY. `notes`: {why}"),
                "- **medium** `db/2.rb:3`: Index built without CONCURRENTLY. `events`: Why and fix: as for the first finding of this kind above. Also lines 4, 5.",
            ],
            "{list}"
        );
        // "Also lines" starts a sentence of its own.
        let eval =
            |line| Finding::new(Severity::High, "Code evaluated", "Parse the data instead").in_file("a.js", line);
        assert_eq!(
            DelegatedBrief::new("S").findings([eval(3), eval(2)]).findings_list(),
            "- **high** `a.js:2`: Code evaluated. Parse the data instead. Also line 3.\n"
        );
        // A finding that shares only a few words keeps its own.
        assert_eq!(shared_tail("`a`: Short fix.", "`b`: Short fix."), None);
        // The pointer starts at a sentence or clause, never mid-word.
        let a = "These modules import each other (`a`), so none can change alone; move the shared part into a module both depend on, or invert one.";
        let b2 = "These modules import each other (`b`), so none can change alone; move the shared part into a module both depend on, or invert one.";
        assert_eq!(
            &b2[shared_tail(b2, a).unwrap()..],
            "move the shared part into a module both depend on, or invert one."
        );
    }

    #[test]
    fn the_coverage_line_counts_files_the_findings_already_name() {
        let coverage = Coverage {
            checks: vec![],
            files: vec![("src/a.rs".into(), "rust".into()), ("src/b.rs".into(), "rust".into())],
            skipped: vec![],
        };
        let f = Finding::new(Severity::Low, "x", "y").in_file("src/a.rs", 1);
        let req = Request { task: "t".into(), context: None, feedback: None, prompt: "P.".into() };
        let out = DelegatedBrief::new("E").findings([f.clone()]).coverage(coverage.clone()).delegated(&req, "m");
        assert!(out.contains("looked at 2 files (rust 2): `src/b.rs`, 1 named in the findings."), "{out}");
        let g = Finding::new(Severity::Low, "x", "y").in_file("src/b.rs", 1);
        let out = DelegatedBrief::new("E").findings([f, g]).coverage(coverage).delegated(&req, "m");
        assert!(out.contains("looked at 2 files (rust 2): all named in the findings."), "{out}");
    }

    #[test]
    fn an_empty_result_says_what_was_and_was_not_looked_at() {
        let req = Request { task: "t".into(), context: None, feedback: None, prompt: "P.".into() };
        let coverage = Coverage {
            checks: vec!["secret scan".into(), "shell injection".into()],
            files: vec![
                ("src/a.rs".into(), "rust".into()),
                ("db/1.sql".into(), "sql".into()),
                ("src/b.rs".into(), "rust".into()),
            ],
            skipped: vec![("`src/gone.rs`".into(), "could not be read".into())],
        };
        let out = DelegatedBrief::new("Security Engineer").coverage(coverage).delegated(&req, "no model.");
        assert!(out.contains("No issues found by the automated checks in what they looked at."), "{out}");
        assert!(
            out.contains("**Coverage:** Checks run (secret scan, shell injection) looked at 3 files (rust 2, sql 1): `src/a.rs`, `db/1.sql`, `src/b.rs`. Not analysed: `src/gone.rs` (could not be read)."),
            "{out}"
        );
        let none = Coverage::default().render();
        assert_eq!(
            none,
            "**Coverage:** The automated checks had no file to look at: the context named no readable file and held no code. Nothing named was skipped."
        );
    }

    #[test]
    fn a_building_index_is_said_instead_of_no_standards() {
        let req = Request { task: "t".into(), context: None, feedback: None, prompt: "P.".into() };
        let out = DelegatedBrief::new("QA").standards_unavailable(INDEX_BUILDING_NOTE).delegated(&req, "no model.");
        assert!(
            out.contains("## Standards consulted\n\nStandards index still building; no standards were retrieved.\n"),
            "{out}"
        );
        assert!(!out.contains("None found."), "{out}");
    }

    #[test]
    fn quoted_standards_are_whole_sentences() {
        let req = Request { task: "t".into(), context: None, feedback: None, prompt: "P.".into() };
        let snippet = "Every call sets a timeout. Retries use backoff with jitter and stop after a budget, and never…";
        let out =
            DelegatedBrief::new("SRE").standards([hit("universal/retries.md", snippet, 0.4)]).delegated(&req, "m.");
        assert!(
            out.contains("`universal/retries.md` § H\n\n````quoted-standard\nEvery call sets a timeout.\n````"),
            "{out}"
        );
        assert!(!out.contains("never…"), "{out}");
    }
}
