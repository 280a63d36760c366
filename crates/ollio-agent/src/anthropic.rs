//! Anthropic's Messages API with streaming tool use. The stream is typed
//! SSE events: `message_start` (input tokens), `content_block_start` (a text
//! or `tool_use` block), `content_block_delta` (`text_delta` or
//! `input_json_delta` fragments), `message_delta` (stop reason, output
//! tokens), `message_stop`; `ping` and unknown events are skipped.

use std::{collections::BTreeMap, time::Duration};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{
    chat::{ChatRequest, Completion, Finish, Role, ToolCall, Usage},
    chat_provider::{stream_events, ChatProvider, Delta, ProviderError, SecretKey},
};

const API_VERSION: &str = "2023-06-01";

#[derive(Debug, Clone)]
pub struct Anthropic {
    http: reqwest::Client,
    /// Without `/v1`, e.g. `https://api.anthropic.com`.
    base_url: String,
    key: SecretKey,
    idle_timeout: Duration,
}

impl Anthropic {
    pub fn new(http: reqwest::Client, base_url: impl Into<String>, key: SecretKey) -> Self {
        Self {
            http,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            key,
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// The request body in Anthropic's shape: the system prompt apart, tool
/// calls as `tool_use` blocks, tool results as `tool_result` blocks in a
/// user turn (consecutive ones merged, as the API requires alternation).
pub fn body(request: &ChatRequest) -> serde_json::Value {
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    let mut messages: Vec<serde_json::Value> = Vec::new();
    for message in request.messages.iter().filter(|m| m.role != Role::System) {
        let (role, blocks) = match message.role {
            // Images go as base64 `image` blocks, after the text.
            Role::User => (
                "user",
                std::iter::once(json!({ "type": "text", "text": message.content }))
                    .chain(message.images.iter().map(|image| {
                        json!({
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": image.media_type,
                                "data": image.base64,
                            },
                        })
                    }))
                    .collect(),
            ),
            Role::Tool => (
                "user",
                vec![json!({
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id,
                    "content": message.content,
                })],
            ),
            _ => {
                let mut blocks = Vec::new();
                if !message.content.is_empty() {
                    blocks.push(json!({ "type": "text", "text": message.content }));
                }
                for call in &message.tool_calls {
                    let input: serde_json::Value =
                        serde_json::from_str(&call.arguments).unwrap_or_else(|_| json!({}));
                    blocks.push(json!({
                        "type": "tool_use", "id": call.id, "name": call.name, "input": input,
                    }));
                }
                ("assistant", blocks)
            }
        };
        match messages.last_mut() {
            Some(last) if last["role"] == role => {
                if let Some(content) = last["content"].as_array_mut() {
                    content.extend(blocks);
                }
            }
            _ => messages.push(json!({ "role": role, "content": blocks })),
        }
    }
    let mut body = json!({
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": messages,
        "stream": true,
    });
    if !system.is_empty() {
        body["system"] = system.join("\n\n").into();
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "name": tool.name,
                    "description": tool.description,
                    "input_schema": tool.parameters,
                })
            })
            .collect();
    }
    body
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: MessageStart,
    },
    ContentBlockStart {
        index: usize,
        content_block: Block,
    },
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        usage: Option<OutputUsage>,
    },
    MessageStop,
    Error {
        error: ErrorBody,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageStart {
    usage: Option<InputUsage>,
}

#[derive(Deserialize)]
struct InputUsage {
    #[serde(default)]
    input_tokens: u64,
}

#[derive(Deserialize)]
struct OutputUsage {
    #[serde(default)]
    output_tokens: u64,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize, Default)]
struct MessageDeltaBody {
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    message: String,
}

#[derive(Default)]
pub struct Assembler {
    text: String,
    calls: BTreeMap<usize, ToolCall>,
    usage: Usage,
    stop: Option<String>,
}

impl Assembler {
    /// Takes one event's data; `Ok(true)` at `message_stop`.
    pub fn take(
        &mut self,
        data: &str,
        on_delta: &mut (dyn for<'a> FnMut(Delta<'a>) + Send),
    ) -> Result<bool, ProviderError> {
        let event: Event = serde_json::from_str(data)
            .map_err(|error| ProviderError::Protocol(format!("a stream event: {error}")))?;
        match event {
            Event::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.usage.input_tokens = usage.input_tokens;
                }
            }
            Event::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                Block::ToolUse { id, name } => {
                    on_delta(Delta::ToolCall { name: &name });
                    self.calls.insert(
                        index,
                        ToolCall {
                            id,
                            name,
                            arguments: String::new(),
                        },
                    );
                }
                Block::Text { text } if !text.is_empty() => {
                    on_delta(Delta::Text(&text));
                    self.text.push_str(&text);
                }
                _ => {}
            },
            Event::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } => {
                    on_delta(Delta::Text(&text));
                    self.text.push_str(&text);
                }
                BlockDelta::InputJsonDelta { partial_json } => {
                    if let Some(call) = self.calls.get_mut(&index) {
                        call.arguments.push_str(&partial_json);
                    }
                }
                BlockDelta::Other => {}
            },
            Event::MessageDelta { delta, usage } => {
                if let Some(stop) = delta.stop_reason {
                    self.stop = Some(stop);
                }
                if let Some(usage) = usage {
                    self.usage.output_tokens = usage.output_tokens;
                }
            }
            Event::MessageStop => return Ok(true),
            Event::Error { error } => {
                let message = format!("{}: {}", error.kind, error.message);
                return Err(
                    if error.kind == "overloaded_error" || error.kind == "api_error" {
                        ProviderError::Unavailable(message)
                    } else if error.kind == "rate_limit_error" {
                        ProviderError::RateLimited { retry_after: None }
                    } else {
                        ProviderError::Rejected(message)
                    },
                );
            }
            Event::Other => {}
        }
        Ok(false)
    }

    pub fn finish(self) -> Completion {
        let tool_calls: Vec<ToolCall> = self
            .calls
            .into_values()
            .map(|mut call| {
                // A tool without arguments streams no JSON at all.
                if call.arguments.trim().is_empty() {
                    call.arguments = "{}".into();
                }
                call
            })
            .collect();
        let finish = match self.stop.as_deref() {
            Some("tool_use") => Finish::ToolCalls,
            _ if !tool_calls.is_empty() => Finish::ToolCalls,
            Some("max_tokens") => Finish::Length,
            Some("end_turn" | "stop_sequence") | None => Finish::Stop,
            Some(other) => Finish::Other(other.to_owned()),
        };
        Completion {
            text: self.text,
            tool_calls,
            usage: self.usage,
            finish,
        }
    }
}

#[async_trait]
impl ChatProvider for Anthropic {
    async fn complete(
        &self,
        request: &ChatRequest,
        on_delta: &mut (dyn for<'a> FnMut(Delta<'a>) + Send),
    ) -> Result<Completion, ProviderError> {
        let builder = self
            .http
            .post(format!("{}/v1/messages", self.base_url))
            .header("x-api-key", self.key.expose())
            .header("anthropic-version", API_VERSION)
            .json(&body(request));
        let mut assembler = Assembler::default();
        stream_events(builder, self.idle_timeout, |event| {
            assembler.take(&event.data, on_delta)
        })
        .await?;
        Ok(assembler.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::ChatMessage;

    #[test]
    fn streamed_tool_use_is_assembled() {
        let mut assembler = Assembler::default();
        let events = [
            r#"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":50,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"ping"}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me write it."}}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"write_files","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"files\": [{\"pa"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"th\": \"a.txt\", \"content\": \"x\"}]}"}}"#,
            r#"{"type":"content_block_stop","index":1}"#,
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_2","name":"list_files","input":{}}}"#,
            r#"{"type":"content_block_stop","index":2}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":33}}"#,
            r#"{"type":"message_stop"}"#,
        ];
        let mut done = false;
        for event in events {
            done = assembler.take(event, &mut |_| {}).unwrap();
        }
        assert!(done);
        let completion = assembler.finish();
        assert_eq!(completion.text, "Let me write it.");
        assert_eq!(completion.finish, Finish::ToolCalls);
        assert_eq!(
            completion.usage,
            Usage {
                input_tokens: 50,
                output_tokens: 33
            }
        );
        assert_eq!(
            completion.tool_calls[0].arguments,
            r#"{"files": [{"path": "a.txt", "content": "x"}]}"#
        );
        assert_eq!(completion.tool_calls[1].arguments, "{}");
    }

    #[test]
    fn tool_results_become_user_turns_and_the_system_prompt_stands_apart() {
        let request = ChatRequest {
            model: "claude-sonnet-4-5".into(),
            messages: vec![
                ChatMessage::system("rules"),
                ChatMessage::user("build"),
                ChatMessage::assistant(
                    "ok",
                    vec![
                        ToolCall {
                            id: "t1".into(),
                            name: "list_files".into(),
                            arguments: "{}".into(),
                        },
                        ToolCall {
                            id: "t2".into(),
                            name: "read_files".into(),
                            arguments: r#"{"paths":["a"]}"#.into(),
                        },
                    ],
                ),
                ChatMessage::tool("t1", "a"),
                ChatMessage::tool("t2", "contents"),
            ],
            tools: vec![],
            max_tokens: 4096,
        };
        let body = body(&request);
        assert_eq!(body["system"], "rules");
        let messages = body["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert_eq!(messages[1]["content"][2]["input"]["paths"][0], "a");
        assert_eq!(messages[2]["role"], "user");
        assert_eq!(messages[2]["content"].as_array().unwrap().len(), 2);
        assert_eq!(messages[2]["content"][1]["tool_use_id"], "t2");
    }

    #[test]
    fn stream_errors_say_whether_to_retry() {
        let mut assembler = Assembler::default();
        let error = assembler
            .take(
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                &mut |_| {},
            )
            .unwrap_err();
        assert!(error.is_transient());
    }
}
