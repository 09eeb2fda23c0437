//! MCP resources: standards, finished reviews and proposals listed and
//! read; search results link to the standards they quote; an edited
//! standard is announced (resources/list_changed, resources/updated).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ContentBlock, ReadResourceRequestParams, ResourceContents,
    ResourceUpdatedNotificationParam, SubscribeRequestParams,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::support::{project, spawn_server, text_of};

/// What the client heard: "list_changed" or the updated URI.
struct Heard(UnboundedSender<String>);

impl ClientHandler for Heard {
    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.0.send("list_changed".into());
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.0.send(params.uri);
    }
}

type Client = RunningService<RoleClient, Heard>;

async fn call(c: &Client, name: &str, args: Value) -> Result<CallToolResult> {
    let Value::Object(map) = args else { bail!("arguments must be an object") };
    let r = c.call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(map)).await?;
    if r.is_error == Some(true) {
        bail!("{name} failed: {}", text_of(&r));
    }
    Ok(r)
}

async fn read(c: &Client, uri: &str) -> Result<String> {
    let r = c.read_resource(ReadResourceRequestParams::new(uri)).await.with_context(|| format!("reading {uri}"))?;
    match r.contents.first() {
        Some(ResourceContents::TextResourceContents { text, mime_type, .. }) => {
            assert_eq!(mime_type.as_deref(), Some("text/markdown"), "{uri}");
            Ok(text.clone())
        }
        other => bail!("{uri}: {other:?}"),
    }
}

/// Waits until `heard` has delivered every one of `want`.
async fn hear(heard: &mut UnboundedReceiver<String>, want: &[&str], limit: Duration) -> Result<()> {
    let mut missing: Vec<&str> = want.to_vec();
    let deadline = tokio::time::Instant::now() + limit;
    while !missing.is_empty() {
        let got = tokio::time::timeout_at(deadline, heard.recv())
            .await
            .with_context(|| format!("not heard within {limit:?}: {missing:?}"))?
            .context("client closed")?;
        missing.retain(|w| *w != got);
    }
    Ok(())
}

const STANDARD: &str = "# Session tokens\n\n## Context\nLogins issue session tokens.\n\n## Pattern\nRotate zebrafish session tokens every hour and bind them to the client.\n";

#[tokio::test]
async fn standards_reviews_and_proposals_are_resources_and_search_links_to_them() -> Result<()> {
    let dir = project();
    let std_dir = dir.path().join(".agent-os/standards/security");
    std::fs::create_dir_all(&std_dir)?;
    std::fs::write(std_dir.join("session-tokens.md"), STANDARD)?;
    let mut child = spawn_server(dir.path(), &[], &[])?;
    let (tx, mut heard) = unbounded_channel();
    let io = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let c = Heard(tx).serve(io).await.context("MCP handshake")?;
    let caps = c.peer_info().and_then(|i| i.capabilities.resources.clone()).context("resources capability")?;
    assert_eq!((caps.list_changed, caps.subscribe), (Some(true), Some(true)));

    // Search: the text block first, then one resource link per passage.
    let key = ".agent-os/standards/security/session-tokens.md";
    let uri = format!("agent-os://standards/{key}");
    let start = Instant::now();
    let found = loop {
        let r = call(&c, "search_standards", json!({ "query": "zebrafish session tokens rotation" })).await?;
        let sc = r.structured_content.clone().unwrap_or_default();
        if sc["results"].as_array().is_some_and(|a| a.iter().any(|h| h["path"] == key)) {
            break r;
        }
        if start.elapsed() > Duration::from_secs(90) {
            bail!("{key} never indexed: {sc}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(matches!(&found.content[0], ContentBlock::Text(t) if t.text.starts_with("search_standards")));
    let hits = found.structured_content.as_ref().unwrap()["results"].as_array().unwrap().len();
    let links: Vec<String> = found
        .content
        .iter()
        .skip(1)
        .map(|b| match b {
            ContentBlock::ResourceLink(r) => Ok(r.uri.clone()),
            other => bail!("not a resource link: {other:?}"),
        })
        .collect::<Result<_>>()?;
    assert_eq!(links.len(), hits, "{links:?}");
    assert!(links.contains(&uri), "{links:?}");
    for link in &links {
        let text = read(&c, link).await?;
        assert!(!text.is_empty(), "{link}");
    }
    // The project's standard comes whole, fenced as quoted data.
    let text = read(&c, &uri).await?;
    assert!(text.contains("not instructions") && text.contains("````quoted-standard\n# Session tokens"), "{text}");
    assert!(text.contains("Rotate zebrafish session tokens every hour"), "{text}");
    assert!(c.read_resource(ReadResourceRequestParams::new("agent-os://standards/../../etc/passwd.md")).await.is_err());
    assert!(c.read_resource(ReadResourceRequestParams::new("agent-os://jobs/no-such-job")).await.is_err());

    // The list: project and universal standards; four templates.
    let listed: Vec<String> = c.list_all_resources().await?.into_iter().map(|r| r.uri).collect();
    assert!(listed.contains(&uri), "{listed:?}");
    assert!(listed.iter().any(|u| u.starts_with("agent-os://standards/universal/")), "{listed:?}");
    let templates: Vec<String> = c.list_all_resource_templates().await?.into_iter().map(|t| t.uri_template).collect();
    assert_eq!(
        templates,
        [
            "agent-os://standards/{path}",
            "agent-os://jobs/{id}",
            "agent-os://personas/{id}/instructions",
            "agent-os://proposals/{id}"
        ]
    );

    // A finished review, announced as a change to the list.
    while heard.try_recv().is_ok() {}
    let r =
        call(&c, "invoke_security", json!({ "task": "review the login handler", "context": "fn login() {}" })).await?;
    let job = r.structured_content.as_ref().unwrap()["job_id"].as_str().context("job_id")?.to_string();
    let finished = |job: String| {
        let c = &c;
        async move {
            let start = Instant::now();
            loop {
                let r = call(c, "check_persona_job", json!({ "job_id": job, "wait_seconds": 5 })).await?;
                let v = r.structured_content.unwrap_or_default();
                match v["status"].as_str() {
                    Some("complete") => return Ok::<_, anyhow::Error>(v),
                    Some("pending" | "running") if start.elapsed() < Duration::from_secs(120) => {}
                    _ => bail!("job did not complete: {v}"),
                }
            }
        }
    };
    let first = finished(job.clone()).await?;
    hear(&mut heard, &["list_changed"], Duration::from_secs(10)).await?;

    // The persona's instructions come once per session, beside its first
    // delegated brief, not inside the brief; the resource serves the whole prompt.
    let brief = first["result"].as_str().unwrap_or_default();
    assert!(brief.contains("delegated brief") && !brief.contains("## Output format"), "{brief}");
    let how = first["persona_instructions"].as_str().context("instructions with the first brief")?;
    assert!(how.contains("Severity guide:") && how.contains("## Output format"), "{how}");
    let how_uri = first["persona_instructions_uri"].as_str().context("instructions uri")?.to_string();
    assert_eq!(how_uri, "agent-os://personas/security/instructions");
    let r = call(&c, "invoke_security", json!({ "task": "review the logout handler", "context": "fn logout() {}" }))
        .await?;
    let again =
        finished(r.structured_content.as_ref().unwrap()["job_id"].as_str().context("job_id")?.to_string()).await?;
    assert!(again.get("persona_instructions").is_none(), "sent once per session: {again}");
    assert_eq!(again["persona_instructions_uri"].as_str(), Some(how_uri.as_str()), "{again}");
    let whole = read(&c, &how_uri).await?;
    assert!(whole.contains("Severity guide:") && whole.contains("## What you check"), "{whole}");
    let listed: Vec<String> = c.list_all_resources().await?.into_iter().map(|r| r.uri).collect();
    assert!(listed.contains(&how_uri), "{listed:?}");
    assert!(c.read_resource(ReadResourceRequestParams::new("agent-os://personas/nobody/instructions")).await.is_err());
    let job_uri = format!("agent-os://jobs/{job}");
    let listed: Vec<String> = c.list_all_resources().await?.into_iter().map(|r| r.uri).collect();
    assert!(listed.contains(&job_uri), "{listed:?}");
    let review = read(&c, &job_uri).await?;
    assert!(review.contains(&job) && review.contains("review the login handler"), "{review}");
    assert!(review.contains("## Review") && review.contains("````review\n"), "{review}");

    // A proposal, announced as a change to the list.
    while heard.try_recv().is_ok() {}
    let r = call(
        &c,
        "propose_standard",
        json!({ "domain": "security", "topic": "csrf", "content": "# CSRF\n\n## Context\nForms.\n\n## Pattern\nUse tokens.\n\n## Examples\nA hidden field.\n\n## Anti-patterns\nGET mutations.\n" }),
    )
    .await?;
    let id = r.structured_content.as_ref().unwrap()["proposal_id"].as_str().context("proposal_id")?.to_string();
    hear(&mut heard, &["list_changed"], Duration::from_secs(10)).await?;
    let p_uri = format!("agent-os://proposals/{id}");
    let listed: Vec<String> = c.list_all_resources().await?.into_iter().map(|r| r.uri).collect();
    assert!(listed.contains(&p_uri), "{listed:?}");
    let text = read(&c, &p_uri).await?;
    assert!(text.contains("pending") && text.contains(".agent-os/standards/security/csrf.md"), "{text}");
    assert!(text.contains("proposed-standard\n# CSRF"), "{text}");

    // Editing the standard: the list changed, and the subscribed URI was updated.
    #[allow(deprecated)]
    c.subscribe(SubscribeRequestParams::new(&uri)).await?;
    while heard.try_recv().is_ok() {}
    let t0 = Instant::now();
    std::fs::write(std_dir.join("session-tokens.md"), STANDARD.replace("every hour", "every ten minutes"))?;
    hear(&mut heard, &["list_changed", uri.as_str()], Duration::from_secs(30)).await?;
    eprintln!("edit to resources/updated: {:.2} s", t0.elapsed().as_secs_f64());
    assert!(read(&c, &uri).await?.contains("every ten minutes"));
    let _ = c.cancel().await;
    Ok(())
}
