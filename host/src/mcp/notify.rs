//! What a connected MCP client is told while the server runs: the persona
//! set changed (its tools and prompts), the standards, reviews or proposals
//! changed (its resources), a subscribed standard's text changed. One task
//! per session does all of it.

use std::time::Duration;

use rmcp::model::ResourceUpdatedNotificationParam;
use rmcp::{Peer, RoleServer};

use super::resources::Subscriptions;
use crate::app::{App, IndexCell};

/// How often the forwarding task looks whether its session has ended.
const PEER_CHECK: Duration = Duration::from_secs(2);

/// One task per MCP session that tells the client what changed, until the
/// session ends: the persona set (notifications/tools/list_changed and
/// prompts/list_changed), the standards the watcher brought into the index
/// (resources/list_changed, and resources/updated for each subscribed
/// standard whose text changed), and each review this process completes or
/// proposal it stores or reviews (resources/list_changed). Changes are rare,
/// so the session's end is noticed by looking every [`PEER_CHECK`]: otherwise
/// each closed HTTP session would leave this task, and the peer it holds, behind.
pub fn forward_to_peer(app: &App, subs: Subscriptions, peer: Peer<RoleServer>) {
    let mut personas = app.persona_events.subscribe();
    let mut standards = app.index.changes();
    let mut completed = app.jobs.completions();
    let mut proposals = app.standards.changes();
    proposals.mark_unchanged();
    personas.mark_unchanged();
    standards.mark_unchanged();
    completed.mark_unchanged();
    let project = app.project.clone();
    tokio::spawn(async move {
        let mut check = tokio::time::interval(PEER_CHECK);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let sent = tokio::select! {
                changed = personas.changed() => match changed {
                    Ok(()) => match peer.notify_tool_list_changed().await {
                        Ok(()) => peer.notify_prompt_list_changed().await,
                        Err(e) => Err(e),
                    },
                    Err(_) => break,
                },
                changed = standards.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let mut sent = peer.notify_resource_list_changed().await;
                    let sources = IndexCell::sources(&project);
                    let s = subs.clone();
                    let updated = tokio::task::spawn_blocking(move || s.changed(&sources)).await.unwrap_or_default();
                    for uri in updated {
                        if sent.is_err() {
                            break;
                        }
                        sent = peer.notify_resource_updated(ResourceUpdatedNotificationParam::new(uri)).await;
                    }
                    sent
                }
                changed = completed.changed() => match changed {
                    Ok(()) => peer.notify_resource_list_changed().await,
                    Err(_) => break,
                },
                changed = proposals.changed() => match changed {
                    Ok(()) => peer.notify_resource_list_changed().await,
                    Err(_) => break,
                },
                _ = check.tick() => {
                    if peer.is_transport_closed() {
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
    });
}
