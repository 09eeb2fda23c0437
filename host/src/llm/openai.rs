//! OpenAI-compatible chat completions: `POST {base_url}/chat/completions`.
//! Spoken by OpenAI, Ollama, vLLM, llama.cpp's server and LM Studio.

use serde_json::{Value, json};

use super::{ChatMessage, Completion, Role};

/// The field that caps the answer's length. Newer OpenAI models accept only
/// `max_completion_tokens`; most compatible servers know only `max_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenField {
    MaxTokens,
    MaxCompletionTokens,
}

pub fn endpoint(base_url: &str) -> String {
    format!("{base_url}/chat/completions")
}

pub fn request_body(model: &str, messages: &[ChatMessage], max_tokens: u32, field: TokenField) -> Value {
    let messages: Vec<Value> = messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::System => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            json!({ "role": role, "content": m.content })
        })
        .collect();
    let mut body = json!({ "model": model, "messages": messages, "stream": false });
    let key = match field {
        TokenField::MaxTokens => "max_tokens",
        TokenField::MaxCompletionTokens => "max_completion_tokens",
    };
    body[key] = json!(max_tokens);
    body
}

/// Whether a 400 answer says the model wants `max_completion_tokens` instead.
pub fn wants_completion_tokens_field(detail: &str) -> bool {
    detail.contains("max_completion_tokens")
}

/// The answer's text and token counts (`usage.prompt_tokens`, `usage.completion_tokens`).
pub fn parse_response(body: &Value) -> Result<Completion, String> {
    let choice = body.get("choices").and_then(|c| c.get(0)).ok_or("the answer has no `choices`")?;
    let message = choice.get("message").ok_or("the first choice has no `message`")?;
    let text = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        // Some servers send content as a list of parts.
        Some(Value::Array(parts)) => {
            parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("")
        }
        _ => String::new(),
    };
    if text.trim().is_empty() {
        let why = choice.get("finish_reason").and_then(Value::as_str).unwrap_or("unknown");
        return Err(format!("the model returned no text (finish_reason: {why})"));
    }
    let (tokens_input, tokens_output) = super::usage_tokens(body, "prompt_tokens", "completion_tokens");
    Ok(Completion {
        text,
        tokens_input,
        tokens_output,
        truncated: choice.get("finish_reason").and_then(Value::as_str) == Some("length"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_request_with_either_length_field() {
        let msgs = [ChatMessage::new(Role::System, "be brief"), ChatMessage::new(Role::User, "hi")];
        let b = request_body("m", &msgs, 100, TokenField::MaxTokens);
        assert_eq!(b["model"], "m");
        assert_eq!(b["messages"][0], json!({ "role": "system", "content": "be brief" }));
        assert_eq!(b["messages"][1]["role"], "user");
        assert_eq!(b["max_tokens"], 100);
        let b = request_body("m", &msgs, 100, TokenField::MaxCompletionTokens);
        assert_eq!(b["max_completion_tokens"], 100);
        assert!(b.get("max_tokens").is_none());
    }

    #[test]
    fn reads_text_and_usage() {
        let body = json!({
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": "Looks fine." }, "finish_reason": "stop" }],
            "usage": { "prompt_tokens": 812, "completion_tokens": 34, "total_tokens": 846 }
        });
        let c = parse_response(&body).unwrap();
        assert_eq!((c.text.as_str(), c.tokens_input, c.tokens_output, c.truncated), ("Looks fine.", 812, 34, false));
        let no_usage = json!({ "choices": [{ "message": { "content": [{ "type": "text", "text": "a" }, { "type": "text", "text": "b" }] }, "finish_reason": "length" }] });
        let c = parse_response(&no_usage).unwrap();
        assert_eq!((c.text.as_str(), c.tokens_input, c.truncated), ("ab", 0, true));
        assert!(parse_response(&json!({ "error": "x" })).unwrap_err().contains("choices"));
        let empty = json!({ "choices": [{ "message": { "content": null }, "finish_reason": "content_filter" }] });
        assert!(parse_response(&empty).unwrap_err().contains("content_filter"));
    }
}
