//! The approval form on the 2026-07-28 generation, as a multi round-trip
//! request (SEP-2322): that generation forbids server-to-client requests, so
//! instead of `elicitation/create` the tool call answers `input_required`
//! with the form as an input request, and the client calls the tool again
//! with the person's answer (`inputResponses`) and the `requestState` it was
//! given.
//!
//! rmcp 3.11 carries the types and refuses an `input_required` result to an
//! older client; what the state means is ours. The echoed `requestState` is
//! untrusted, so it is only an opaque, single-use handle to what the server
//! showed (kept here, in the process): a retry is honoured only for the
//! proposal and the text the form showed, within [`ELICIT_TIMEOUT`]. A
//! process-wide table, because on streamable HTTP each 2026-07-28 request is
//! served by a handler of its own, and the retry by another.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use rmcp::model::{
    ClientCapabilities, ElicitRequest, ElicitResult, InputRequest, InputRequests, InputRequiredResult, InputResponses,
};

use super::{Answer, ELICIT_TIMEOUT, Form, ToolError, answer_of, form_params};

/// The key of the approval form in `inputRequests` / `inputResponses`.
pub const APPROVAL: &str = "approval";

/// What a 2026-07-28 call brought: whether its client shows forms, and on a
/// retry, the person's answers and the state echoed back.
pub struct Rounds {
    pub forms: bool,
    pub responses: Option<InputResponses>,
    pub state: Option<String>,
}

impl Rounds {
    /// The request's own `_meta` capabilities say whether the client can show
    /// a form (an elicitation capability naming neither mode means form).
    pub fn new(caps: Option<ClientCapabilities>, responses: Option<InputResponses>, state: Option<String>) -> Self {
        let forms = caps.and_then(|c| c.elicitation).is_some_and(|e| e.form.is_some() || e.url.is_none());
        Self { forms, responses, state }
    }

    /// The person's answer to the approval form, from the retry.
    pub(super) fn answer(&self, id: &str) -> Answer {
        let reply = self.responses.as_ref().and_then(|r| r.get(APPROVAL)).cloned();
        match reply.map(serde_json::from_value::<ElicitResult>) {
            Some(Ok(reply)) => answer_of(id, reply),
            Some(Err(e)) => {
                tracing::info!(proposal = %id, "the approval form's answer is not an elicitation result ({e}); nothing is done");
                Answer::Not("unanswered")
            }
            None => Answer::Not("unanswered"),
        }
    }
}

/// What a form showed, kept until its answer comes back.
pub struct Shown {
    tool: &'static str,
    pub proposal_id: String,
    edited: Option<String>,
    /// Whether the form said the file is replaced.
    pub overwrite: bool,
    at: Instant,
}

/// Forms awaiting their answer, by `requestState`.
#[derive(Default)]
pub struct Waiting(Mutex<HashMap<String, Shown>>);

/// The process's forms awaiting an answer.
static SHOWN: LazyLock<Waiting> = LazyLock::new(Default::default);

/// Most forms awaiting an answer at once; past it the oldest is forgotten
/// (its answer is then refused like an expired one).
const MAX_SHOWN: usize = 256;

/// Keeps what the form for `proposal_id` shows; returns the `requestState`.
pub fn remember(tool: &'static str, proposal_id: &str, edited: Option<&str>, overwrite: bool) -> String {
    SHOWN.remember(tool, proposal_id, edited, overwrite)
}

/// Takes back what the form behind `state` showed (once), if it was shown
/// by `tool`, for proposal `id` (when the retry names one) with the same
/// edited text, and not longer than [`ELICIT_TIMEOUT`] ago.
pub fn recall(state: Option<&str>, tool: &str, id: Option<&str>, edited: Option<&str>) -> Option<Shown> {
    SHOWN.recall(state, tool, id, edited)
}

impl Waiting {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<String, Shown>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(&self, tool: &'static str, proposal_id: &str, edited: Option<&str>, overwrite: bool) -> String {
        let state = uuid::Uuid::new_v4().simple().to_string();
        let mut t = self.table();
        t.retain(|_, s| s.at.elapsed() < ELICIT_TIMEOUT);
        while t.len() >= MAX_SHOWN {
            let Some(oldest) = t.iter().min_by_key(|(_, s)| s.at).map(|(k, _)| k.clone()) else { break };
            t.remove(&oldest);
        }
        t.insert(
            state.clone(),
            Shown {
                tool,
                proposal_id: proposal_id.to_string(),
                edited: edited.map(String::from),
                overwrite,
                at: Instant::now(),
            },
        );
        state
    }

    fn recall(&self, state: Option<&str>, tool: &str, id: Option<&str>, edited: Option<&str>) -> Option<Shown> {
        let shown = self.table().remove(state?)?;
        let same = shown.tool == tool
            && id.is_none_or(|id| id == shown.proposal_id)
            && shown.edited.as_deref() == edited
            && shown.at.elapsed() < ELICIT_TIMEOUT;
        same.then_some(shown)
    }
}

/// The refusal when a retry's state is unknown, used or expired.
pub fn form_gone(then: &str) -> ToolError {
    ToolError::Invalid(format!(
        "This answer is not for an approval form this server is waiting on (unknown, already answered, for other arguments, or older than {} minutes); {then}.",
        ELICIT_TIMEOUT.as_secs() / 60
    ))
}

/// The `input_required` result carrying the approval form.
pub(super) fn input_required(form: &Form<'_>, state: String) -> Result<InputRequiredResult, ToolError> {
    let params = form_params(form).map_err(|e| ToolError::Unavailable(format!("the approval form: {e}")))?;
    let mut requests = InputRequests::new();
    requests.insert(APPROVAL.to_string(), InputRequest::Elicitation(ElicitRequest::new(params)));
    Ok(InputRequiredResult::new(Some(requests), Some(state)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_honoured_once_for_what_the_form_showed() {
        let s = remember("review_standard_proposal", "p1", Some("edited"), true);
        // Another proposal, other text or another tool: refused, and the state is used up.
        assert!(recall(Some(&s), "review_standard_proposal", Some("p2"), Some("edited")).is_none());
        assert!(recall(Some(&s), "review_standard_proposal", Some("p1"), Some("edited")).is_none());

        let s = remember("review_standard_proposal", "p1", Some("edited"), true);
        assert!(recall(Some(&s), "review_standard_proposal", Some("p1"), None).is_none());
        let s = remember("review_standard_proposal", "p1", None, false);
        assert!(recall(Some(&s), "propose_standard", None, None).is_none());

        let s = remember("review_standard_proposal", "p1", Some("edited"), true);
        let shown =
            recall(Some(&s), "review_standard_proposal", Some("p1"), Some("edited")).expect("the form's answer");
        assert_eq!((shown.proposal_id.as_str(), shown.overwrite), ("p1", true));
        assert!(recall(Some(&s), "review_standard_proposal", Some("p1"), Some("edited")).is_none(), "single use");
        assert!(recall(None, "review_standard_proposal", Some("p1"), None).is_none());
        assert!(recall(Some("made-up"), "review_standard_proposal", Some("p1"), None).is_none());
    }

    #[test]
    fn the_table_of_waiting_forms_is_bounded() {
        let w = Waiting::default();
        let first = w.remember("review_standard_proposal", "bounded-0", None, false);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = w.remember("review_standard_proposal", "bounded-1", None, false);
        std::thread::sleep(std::time::Duration::from_millis(2));
        for i in 2..=MAX_SHOWN {
            w.remember("review_standard_proposal", &format!("bounded-{i}"), None, false);
        }
        assert_eq!(w.table().len(), MAX_SHOWN);
        assert!(
            w.recall(Some(&first), "review_standard_proposal", Some("bounded-0"), None).is_none(),
            "the oldest went"
        );
        assert!(w.recall(Some(&second), "review_standard_proposal", Some("bounded-1"), None).is_some());
    }

    #[test]
    fn a_propose_retry_needs_no_id_and_the_answer_comes_from_the_responses() {
        let s = remember("propose_standard", "p9", None, false);
        assert_eq!(recall(Some(&s), "propose_standard", None, None).map(|x| x.proposal_id), Some("p9".into()));

        let accept = serde_json::json!({ "action": "accept", "content": { "decision": "reject", "reviewer": "Ada", "feedback": "too vague" } });
        let r = Rounds::new(None, Some([(APPROVAL.to_string(), accept)].into()), Some("x".into()));
        assert!(!r.forms);
        match r.answer("p9") {
            Answer::Accepted { decision, reviewer, feedback } => {
                assert_eq!(
                    (decision.as_str(), reviewer.as_str(), feedback.as_deref()),
                    ("reject", "Ada", Some("too vague"))
                );
            }
            Answer::Not(how) => panic!("not answered: {how}"),
        }
        let r =
            Rounds::new(None, Some([(APPROVAL.to_string(), serde_json::json!({ "action": "decline" }))].into()), None);
        assert!(matches!(r.answer("p9"), Answer::Not("declined")));
        let r = Rounds::new(None, Some([(APPROVAL.to_string(), serde_json::json!("garbage"))].into()), None);
        assert!(matches!(r.answer("p9"), Answer::Not("unanswered")));
        assert!(matches!(Rounds::new(None, None, None).answer("p9"), Answer::Not("unanswered")));
    }

    #[test]
    fn forms_come_from_the_request_capabilities() {
        use rmcp::model::{ElicitationCapability, FormElicitationCapability, UrlElicitationCapability};
        let caps = |e: Option<ElicitationCapability>| {
            let mut c = ClientCapabilities::default();
            c.elicitation = e;
            Some(c)
        };
        assert!(!Rounds::new(None, None, None).forms);
        assert!(!Rounds::new(caps(None), None, None).forms);
        assert!(Rounds::new(caps(Some(ElicitationCapability::default())), None, None).forms, "neither mode means form");
        let mut url_only = ElicitationCapability::default();
        url_only.url = Some(UrlElicitationCapability::default());
        assert!(!Rounds::new(caps(Some(url_only)), None, None).forms);
        let mut form = ElicitationCapability::default();
        form.form = Some(FormElicitationCapability::default());
        assert!(Rounds::new(caps(Some(form)), None, None).forms);
    }
}
