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
    /// 1-based line in the reviewed context, when the finding has one.
    pub line: Option<usize>,
    /// A few words naming the problem, e.g. "Hard-coded AWS key".
    pub title: String,
    /// Why it matters and how to fix it, in a sentence or two.
    pub detail: String,
}

impl Finding {
    /// A finding without a line.
    pub fn new(severity: Severity, title: impl Into<String>, detail: impl Into<String>) -> Self {
        Finding { severity, line: None, title: title.into(), detail: detail.into() }
    }

    /// The same finding, at `line`.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

/// Builds a persona's markdown result: its findings, the standards it
/// consulted and notes, around either the language model's review
/// ([`DelegatedBrief::with_review`]) or, with no model, a brief for the
/// calling agent to finish ([`DelegatedBrief::delegated`]).
#[derive(Debug, Clone)]
pub struct DelegatedBrief {
    persona: String,
    findings: Vec<Finding>,
    standards: Vec<Hit>,
    sections: Vec<(String, String)>,
    notes: Vec<String>,
}

impl DelegatedBrief {
    /// Starts a result for the persona named `persona` (e.g. "Security Engineer").
    pub fn new(persona: impl Into<String>) -> Self {
        DelegatedBrief {
            persona: persona.into(),
            findings: Vec::new(),
            standards: Vec::new(),
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
        f.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.line.cmp(&b.line)));
        f
    }

    fn write_findings(&self, out: &mut String) {
        let _ = writeln!(out, "## Findings from automated checks\n");
        if self.findings.is_empty() {
            let _ = writeln!(out, "No issues found by the automated checks.\n");
            return;
        }
        for f in self.sorted_findings() {
            let at = f.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            let _ = writeln!(out, "- **{}**{at}: {}. {}", f.severity.as_str(), f.title, f.detail);
        }
        out.push('\n');
    }

    fn write_sections(&self, out: &mut String) {
        for (title, body) in &self.sections {
            let _ = writeln!(out, "## {}\n\n{}\n", title.trim(), body.trim());
        }
    }

    fn write_standards(&self, out: &mut String) {
        let _ = writeln!(out, "## Standards consulted\n");
        if self.standards.is_empty() {
            let _ = writeln!(out, "None found.\n");
            return;
        }
        let _ = writeln!(out, "{}\n", crate::quote::STANDARDS_NOTE);
        self.write_quoted_standards(out);
    }

    /// Each standard as a line naming it (path, section, score) and the
    /// passage in a fenced block that nothing inside can close.
    fn write_quoted_standards(&self, out: &mut String) {
        for h in &self.standards {
            let _ = writeln!(
                out,
                "`{}` § {} (score {:.2})\n\n{}",
                quote::label(&h.path),
                quote::label(&h.heading),
                h.score,
                quote::fenced("quoted-standard", h.text.trim())
            );
        }
    }

    /// The consulted standards in full, for the language model's prompt:
    /// a sentence saying they are quoted reference material, then path and
    /// section to cite and the passage fenced.
    pub fn standards_for_prompt(&self) -> String {
        if self.standards.is_empty() {
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
    pub fn delegated(&self, req: &Request, reason: &str) -> String {
        let mut out = format!("# {} review — delegated brief\n\n", self.persona);
        let _ = writeln!(
            out,
            "**Delegated brief:** {reason} The automated checks below ran in the persona's sandbox; \
             complete the review yourself by following the persona instructions, using the task, \
             the findings and the standards listed here, and cite the standards you apply.\n"
        );
        let _ = writeln!(out, "## Task\n\n{}\n", req.task.trim());
        self.write_findings(&mut out);
        self.write_sections(&mut out);
        self.write_standards(&mut out);
        self.write_notes(&mut out);
        let _ = writeln!(out, "## Persona instructions\n\n{}", req.prompt.trim());
        out
    }
}
