//! What a connected MCP client is told while the server runs: the persona
//! set changed (its tools and prompts), the standards, reviews or proposals
//! changed (its resources), a subscribed standard's text changed.
//!
//! Two protocol generations, one loop ([`run`]):
//! - 2025-06-18 / 2025-11-25: after `notifications/initialized`, one task per
//!   session sends to the session's peer ([`forward_to_peer`]);
//! - 2026-07-28: there is no session and no `initialized`; a client that wants
//!   to hear of changes holds a `subscriptions/listen` request open, and the
//!   notifications go out on it, tagged with its id, for the categories and
//!   resources the server accepted ([`Target::Listen`]).

use std::time::Duration;

use rmcp::model::ResourceUpdatedNotificationParam;
use rmcp::service::{SubscriptionSendError, SubscriptionSink};
use rmcp::{Peer, RoleServer};

use super::resources::Subscriptions;
use crate::app::{App, IndexCell};

/// How often the forwarding loop looks whether its client has gone.
const PEER_CHECK: Duration = Duration::from_secs(2);
/// At most one resources/list_changed per this for finished jobs and
/// proposals: a burst of them is one notification, not one each (every
/// notification wakes the client, and many re-list).
const RESOURCES_EVERY: Duration = Duration::from_millis(250);

/// Spaces notifications of one kind at least `every` apart.
struct Pace {
    every: Duration,
    last: Option<tokio::time::Instant>,
}

impl Pace {
    fn new(every: Duration) -> Self {
        Self { every, last: None }
    }

    /// Waits until `every` has passed since the previous notification.
    async fn wait(&mut self) {
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + self.every).await;
        }
        self.last = Some(tokio::time::Instant::now());
    }
}

/// Where change notifications go.
pub enum Target {
    /// A 2025 session's peer (the session's own stream).
    Peer(Peer<RoleServer>),
    /// One 2026-07-28 `subscriptions/listen` request: only the accepted
    /// categories and resource URIs are sent on it.
    Listen(SubscriptionSink),
}

/// Why a notification could not go out: the client is gone.
type Gone = String;

impl Target {
    async fn tools_and_prompts(&self) -> Result<(), Gone> {
        match self {
            Target::Peer(peer) => {
                peer.notify_tool_list_changed().await.map_err(|e| e.to_string())?;
                peer.notify_prompt_list_changed().await.map_err(|e| e.to_string())
            }
            Target::Listen(sink) => {
                if sink.accepted().tools_list_changed == Some(true) {
                    sent(sink.notify_tool_list_changed().await)?;
                }
                if sink.accepted().prompts_list_changed == Some(true) {
                    sent(sink.notify_prompt_list_changed().await)?;
                }
                Ok(())
            }
        }
    }

    async fn resources(&self) -> Result<(), Gone> {
        match self {
            Target::Peer(peer) => peer.notify_resource_list_changed().await.map_err(|e| e.to_string()),
            Target::Listen(sink) if sink.accepted().resources_list_changed == Some(true) => {
                sent(sink.notify_resource_list_changed().await)
            }
            Target::Listen(_) => Ok(()),
        }
    }

    async fn updated(&self, uri: String) -> Result<(), Gone> {
        match self {
            Target::Peer(peer) => peer
                .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                .await
                .map_err(|e| e.to_string()),
            Target::Listen(sink) => sent(sink.notify_resource_updated(uri).await),
        }
    }

    fn closed(&self) -> bool {
        match self {
            Target::Peer(peer) => peer.is_transport_closed(),
            // A listen request ends through its cancellation, which the caller
            // of `run` selects on; a send after it fails as SubscriptionClosed.
            Target::Listen(_) => false,
        }
    }
}

/// A notification outside the accepted filter is not sent (and not an
/// error); anything else that fails means the subscription is over.
fn sent(r: Result<(), SubscriptionSendError>) -> Result<(), Gone> {
    match r {
        Ok(()) | Err(SubscriptionSendError::NotificationNotAccepted(_)) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// One task per 2025 MCP session that tells the client what changed, until
/// the session ends: when `session` reports its handler gone (an HTTP
/// session closed), or, failing that, when a look every [`PEER_CHECK`] finds
/// the peer closed. Otherwise each closed HTTP session would leave this task,
/// and the peer it holds, behind.
pub fn forward_to_peer(
    app: &App,
    subs: Subscriptions,
    peer: Peer<RoleServer>,
    session: tokio::sync::watch::Receiver<()>,
) {
    let watch = Watch::new(app);
    let app = app.clone();
    tokio::spawn(async move { run(&app, watch, subs, Target::Peer(peer), Some(session)).await });
}

/// Resolves when the sender of `session` is dropped; never without one.
async fn ended(session: &mut Option<tokio::sync::watch::Receiver<()>>) {
    match session {
        Some(rx) => while rx.changed().await.is_ok() {},
        None => std::future::pending().await,
    }
}

/// The change feeds, subscribed to before the client is told it is listening.
pub struct Watch {
    personas: tokio::sync::watch::Receiver<u64>,
    standards: tokio::sync::watch::Receiver<u64>,
    completed: tokio::sync::watch::Receiver<u64>,
    proposals: tokio::sync::watch::Receiver<u64>,
}

impl Watch {
    pub fn new(app: &App) -> Self {
        let mut w = Self {
            personas: app.persona_events.subscribe(),
            standards: app.index.changes(),
            completed: app.jobs.completions(),
            proposals: app.standards.changes(),
        };
        w.personas.mark_unchanged();
        w.standards.mark_unchanged();
        w.completed.mark_unchanged();
        w.proposals.mark_unchanged();
        w
    }
}

/// Sends `target` what changes until the client is gone: the persona set
/// (tools/list_changed and prompts/list_changed), the standards the watcher
/// brought into the index (resources/list_changed, and resources/updated for
/// each subscribed standard whose text changed), and each review this process
/// completes or proposal it stores or reviews (resources/list_changed).
///
/// `session`, when given, ends the loop as soon as its sender is dropped.
pub async fn run(
    app: &App,
    watch: Watch,
    subs: Subscriptions,
    target: Target,
    mut session: Option<tokio::sync::watch::Receiver<()>>,
) {
    let Watch { mut personas, mut standards, mut completed, mut proposals } = watch;
    let project = app.project.clone();
    let mut pace = Pace::new(RESOURCES_EVERY);
    let mut check = tokio::time::interval(PEER_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let sent = tokio::select! {
            changed = personas.changed() => match changed {
                Ok(()) => target.tools_and_prompts().await,
                Err(_) => break,
            },
            changed = standards.changed() => {
                if changed.is_err() {
                    break;
                }
                let mut sent = target.resources().await;
                let sources = IndexCell::sources(&project);
                let s = subs.clone();
                let updated = tokio::task::spawn_blocking(move || s.changed(&sources)).await.unwrap_or_default();
                for uri in updated {
                    if sent.is_err() {
                        break;
                    }
                    sent = target.updated(uri).await;
                }
                sent
            }
            // A finished review or a proposal stored or reviewed: one paced notification.
            changed = async {
                tokio::select! {
                    c = completed.changed() => c,
                    c = proposals.changed() => c,
                }
            } => match changed {
                Ok(()) => {
                    pace.wait().await;
                    // What changed while waiting is in this one notification.
                    completed.mark_unchanged();
                    proposals.mark_unchanged();
                    target.resources().await
                }
                Err(_) => break,
            },
            () = ended(&mut session) => {
                tracing::debug!("session closed: its change notifications stop");
                break;
            }
            _ = check.tick() => {
                if target.closed() {
                    break;
                }
                Ok(())
            }
        };
        if let Err(e) = sent {
            tracing::debug!("client gone, no more list-changed notifications: {e}");
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_session_ends_when_its_sender_is_dropped() {
        let (tx, rx) = tokio::sync::watch::channel(());
        let mut session = Some(rx);
        let wait = Duration::from_millis(50);
        assert!(tokio::time::timeout(wait, ended(&mut session)).await.is_err(), "ended while the session lives");
        tx.send_replace(());
        assert!(tokio::time::timeout(wait, ended(&mut session)).await.is_err(), "a value sent is not the end");
        drop(tx);
        assert!(tokio::time::timeout(wait, ended(&mut session)).await.is_ok());
        assert!(tokio::time::timeout(wait, ended(&mut None)).await.is_err(), "without a session it never ends");
    }

    #[tokio::test]
    async fn notifications_of_a_kind_are_spaced_out() {
        let every = Duration::from_millis(300);
        let mut pace = Pace::new(every);
        let start = tokio::time::Instant::now();
        pace.wait().await;
        assert!(start.elapsed() < every, "the first goes at once");
        pace.wait().await;
        assert!(start.elapsed() >= every, "the next waits out the pace");
        tokio::time::sleep(every).await;
        let later = tokio::time::Instant::now();
        pace.wait().await;
        assert!(later.elapsed() < every, "after a quiet spell it goes at once");
    }
}
