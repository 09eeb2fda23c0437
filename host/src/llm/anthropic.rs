//! Anthropic's Messages API: `POST {base_url}/v1/messages`, the system
//! prompt as the top-level `system` field.

use serde_json::{Value, json};

use super::{ChatMessage, Completion, Role};

/// The API version sent in the `anthropic-version` header.
pub const API_VERSION: &str = "2023-06-01";

/// `{base_url}/v1/messages`, tolerating a base URL that already ends in `/v1`.
pub fn endpoint(base_url: &str) -> String {
    let base = base_url.strip_suffix("/v1").unwrap_or(base_url);
    format!("{base}/v1/messages")
}

/// The request body; system messages are joined into the top-level `system`.
pub fn request_body(model: &str, messages: &[ChatMessage], max_tokens: u32) -> Result<Value, String> {
    let system: Vec<&str> = messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
    let turns: Vec<Value> = messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| {
            let role = if m.role == Role::Assistant { "assistant" } else { "user" };
            json!({ "role": role, "content": m.content })
        })
        .collect();
    if turns.is_empty() {
        return Err("Anthropic's Messages API needs at least one user message besides the system prompt".into());
    }
    let mut body = json!({ "model": model, "max_tokens": max_tokens, "messages": turns });
    if !system.is_empty() {
        body["system"] = json!(system.join("\n\n"));
    }
    Ok(body)
}

/// The answer's text blocks and token counts (`usage.input_tokens`, `usage.output_tokens`).
pub fn parse_response(body: &Value) -> Result<Completion, String> {
    let blocks = body.get("content").and_then(Value::as_array).ok_or("the answer has no `content` list")?;
    let text: String = blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("");
    let stop = body.get("stop_reason").and_then(Value::as_str);
    if text.trim().is_empty() {
        return Err(format!("the model returned no text (stop_reason: {})", stop.unwrap_or("unknown")));
    }
    let (tokens_input, tokens_output) = super::usage_tokens(body, "input_tokens", "output_tokens");
    Ok(Completion { text, tokens_input, tokens_output, truncated: stop == Some("max_tokens") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_prompt_goes_top_level() {
        let msgs = [
            ChatMessage::new(Role::System, "rules"),
            ChatMessage::new(Role::System, "standards"),
            ChatMessage::new(Role::User, "review this"),
        ];
        let b = request_body("claude", &msgs, 512).unwrap();
        assert_eq!(b["system"], "rules\n\nstandards");
        assert_eq!(b["messages"], json!([{ "role": "user", "content": "review this" }]));
        assert_eq!(b["max_tokens"], 512);
        assert!(request_body("claude", &msgs[..1], 10).is_err());
    }

    #[test]
    fn endpoint_does_not_double_the_version() {
        assert_eq!(endpoint("https://api.anthropic.com"), "https://api.anthropic.com/v1/messages");
        assert_eq!(endpoint("http://127.0.0.1:8080/v1"), "http://127.0.0.1:8080/v1/messages");
    }

    #[test]
    fn reads_text_blocks_and_usage() {
        let body = json!({
            "type": "message", "role": "assistant",
            "content": [{ "type": "thinking", "thinking": "..." }, { "type": "text", "text": "Verdict: approve." }],
            "stop_reason": "end_turn",
            "usage": { "input_tokens": 1200, "output_tokens": 80 }
        });
        let c = parse_response(&body).unwrap();
        assert_eq!(
            (c.text.as_str(), c.tokens_input, c.tokens_output, c.truncated),
            ("Verdict: approve.", 1200, 80, false)
        );
        assert!(parse_response(&json!({ "content": [], "stop_reason": "refusal" })).unwrap_err().contains("refusal"));
    }
}
