//! OpenAI-compatible chat completions with SSE streaming and tool calls:
//! OpenAI, Groq, DeepSeek, OpenRouter, Together, Ollama, LM Studio and vLLM
//! all speak it. A tool's arguments arrive in fragments across chunks and
//! several calls stream side by side, told apart by `index`; usage comes in
//! a last chunk without choices, then `[DONE]`.

use std::{collections::BTreeMap, time::Duration};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{
    chat::{ChatMessage, ChatRequest, Completion, Finish, Role, ToolCall, ToolSpec, Usage},
    chat_provider::{stream_events, ChatProvider, Delta, ProviderError, SecretKey},
};

#[derive(Debug, Clone)]
pub struct OpenAiCompatible {
    http: reqwest::Client,
    /// Up to and including `/v1`, e.g. `https://api.openai.com/v1`.
    base_url: String,
    key: Option<SecretKey>,
    idle_timeout: Duration,
    /// A user's own URL: checked against private addresses before each
    /// request (see [`super::url_guard`]).
    guarded: bool,
}

impl OpenAiCompatible {
    pub fn new(http: reqwest::Client, base_url: impl Into<String>, key: Option<SecretKey>) -> Self {
        Self {
            http,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            key,
            idle_timeout: Duration::from_secs(120),
            guarded: false,
        }
    }

    /// Checks the URL's addresses before each request (a user's own URL;
    /// `http` should come from [`super::url_guard::client`]).
    pub fn guarded(mut self) -> Self {
        self.guarded = true;
        self
    }

    pub fn with_idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }
}

/// The request body in OpenAI's shape.
pub fn body(request: &ChatRequest) -> serde_json::Value {
    let messages: Vec<serde_json::Value> = request.messages.iter().map(message).collect();
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "stream": true,
        "stream_options": { "include_usage": true },
        "max_tokens": request.max_tokens,
    });
    if !request.tools.is_empty() {
        body["tools"] = function_tools(&request.tools);
    }
    body
}

/// Tools as `function` tools, the shape OpenAI's protocol and Ollama's
/// share.
pub(crate) fn function_tools(tools: &[ToolSpec]) -> serde_json::Value {
    tools
        .iter()
        .map(|tool| {
            json!({
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                }
            })
        })
        .collect()
}

fn message(message: &ChatMessage) -> serde_json::Value {
    match message.role {
        Role::System => json!({ "role": "system", "content": message.content }),
        Role::User if message.images.is_empty() => {
            json!({ "role": "user", "content": message.content })
        }
        // Images go as `image_url` parts holding data URLs, after the text.
        Role::User => {
            let mut parts = vec![json!({ "type": "text", "text": message.content })];
            parts.extend(message.images.iter().map(|image| {
                json!({
                    "type": "image_url",
                    "image_url": { "url": format!("data:{};base64,{}", image.media_type, image.base64) },
                })
            }));
            json!({ "role": "user", "content": parts })
        }
        Role::Tool => json!({
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": message.content,
        }),
        Role::Assistant if message.tool_calls.is_empty() => {
            json!({ "role": "assistant", "content": message.content })
        }
        Role::Assistant => json!({
            "role": "assistant",
            "content": if message.content.is_empty() { serde_json::Value::Null } else { message.content.clone().into() },
            "tool_calls": message.tool_calls.iter().map(|call| json!({
                "id": call.id,
                "type": "function",
                "function": { "name": call.name, "arguments": call.arguments },
            })).collect::<Vec<_>>(),
        }),
    }
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<ChunkUsage>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: ChoiceDelta,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct ChoiceDelta {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallDelta>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: usize,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct ChunkUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// Assembles a completion from stream chunks.
#[derive(Default)]
pub struct Assembler {
    text: String,
    calls: BTreeMap<usize, ToolCall>,
    usage: Usage,
    finish: Option<String>,
}

impl Assembler {
    /// Takes one `data:` payload; `Ok(true)` at `[DONE]`.
    pub fn take(
        &mut self,
        data: &str,
        on_delta: &mut (dyn for<'a> FnMut(Delta<'a>) + Send),
    ) -> Result<bool, ProviderError> {
        let data = data.trim();
        if data == "[DONE]" {
            return Ok(true);
        }
        let chunk: Chunk = serde_json::from_str(data)
            .map_err(|error| ProviderError::Protocol(format!("a stream chunk: {error}")))?;
        if let Some(error) = chunk.error {
            let message = error
                .get("message")
                .and_then(|message| message.as_str())
                .unwrap_or("the stream reported an error")
                .to_owned();
            return Err(ProviderError::Unavailable(message));
        }
        if let Some(usage) = chunk.usage {
            self.usage = Usage {
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
            };
        }
        for choice in chunk.choices {
            if let Some(text) = choice.delta.content.filter(|text| !text.is_empty()) {
                on_delta(Delta::Text(&text));
                self.text.push_str(&text);
            }
            for part in choice.delta.tool_calls {
                let call = self.calls.entry(part.index).or_insert_with(|| ToolCall {
                    id: String::new(),
                    name: String::new(),
                    arguments: String::new(),
                });
                if let Some(id) = part.id.filter(|id| !id.is_empty()) {
                    call.id = id;
                }
                if let Some(function) = part.function {
                    if let Some(name) = function.name.filter(|name| !name.is_empty()) {
                        on_delta(Delta::ToolCall { name: &name });
                        call.name.push_str(&name);
                    }
                    if let Some(arguments) = function.arguments {
                        call.arguments.push_str(&arguments);
                    }
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.finish = Some(reason);
            }
        }
        Ok(false)
    }

    pub fn finish(self) -> Completion {
        let tool_calls: Vec<ToolCall> = self
            .calls
            .into_iter()
            .map(|(index, mut call)| {
                if call.id.is_empty() {
                    call.id = format!("call_{index}");
                }
                call
            })
            .collect();
        let finish = match self.finish.as_deref() {
            Some("tool_calls" | "function_call") => Finish::ToolCalls,
            _ if !tool_calls.is_empty() => Finish::ToolCalls,
            Some("length") => Finish::Length,
            Some("stop") | None => Finish::Stop,
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
impl ChatProvider for OpenAiCompatible {
    async fn complete(
        &self,
        request: &ChatRequest,
        on_delta: &mut (dyn for<'a> FnMut(Delta<'a>) + Send),
    ) -> Result<Completion, ProviderError> {
        let url = format!("{}/chat/completions", self.base_url);
        if self.guarded {
            super::url_guard::check(&url, false)
                .await
                .map_err(ProviderError::Blocked)?;
        }
        let mut builder = self.http.post(url).json(&body(request));
        if let Some(key) = &self.key {
            builder = builder.bearer_auth(key.expose());
        }
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

    fn assemble(lines: &[&str]) -> Completion {
        let mut assembler = Assembler::default();
        let mut deltas = Vec::new();
        for line in lines {
            let done = assembler
                .take(line, &mut |delta| deltas.push(format!("{delta:?}")))
                .unwrap();
            if done {
                break;
            }
        }
        assembler.finish()
    }

    #[test]
    fn fragmented_arguments_and_parallel_calls_are_assembled_by_index() {
        let completion = assemble(&[
            r#"{"choices":[{"delta":{"role":"assistant","content":"Writing "}}]}"#,
            r#"{"choices":[{"delta":{"content":"files."}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"write_files","arguments":""}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"terminal","arguments":"{\"comm"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"files\":[{\"path\":"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"and\":\"ls\"}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"a.html\",\"content\":\"<p>\"}]}"}}]}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":120,"completion_tokens":40,"total_tokens":160}}"#,
            "[DONE]",
        ]);
        assert_eq!(completion.text, "Writing files.");
        assert_eq!(completion.finish, Finish::ToolCalls);
        assert_eq!(
            completion.usage,
            Usage {
                input_tokens: 120,
                output_tokens: 40
            }
        );
        assert_eq!(completion.tool_calls.len(), 2);
        assert_eq!(completion.tool_calls[0].id, "call_a");
        assert_eq!(
            completion.tool_calls[0].arguments,
            r#"{"files":[{"path":"a.html","content":"<p>"}]}"#
        );
        assert_eq!(completion.tool_calls[1].name, "terminal");
        assert_eq!(completion.tool_calls[1].arguments, r#"{"command":"ls"}"#);
    }

    #[test]
    fn tool_results_and_calls_go_out_in_openai_shape() {
        let request = ChatRequest {
            model: "gpt-4.1".into(),
            messages: vec![
                ChatMessage::system("be brief"),
                ChatMessage::user("hi"),
                ChatMessage::assistant(
                    "",
                    vec![ToolCall {
                        id: "c1".into(),
                        name: "list_files".into(),
                        arguments: "{}".into(),
                    }],
                ),
                ChatMessage::tool("c1", "index.html"),
            ],
            tools: vec![],
            max_tokens: 1000,
        };
        let body = body(&request);
        assert_eq!(body["stream"], true);
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["name"],
            "list_files"
        );
        assert!(body["messages"][2]["content"].is_null());
        assert_eq!(body["messages"][3]["tool_call_id"], "c1");
        assert!(body.get("tools").is_none());
    }

    #[test]
    fn an_error_chunk_is_an_error() {
        let mut assembler = Assembler::default();
        let error = assembler
            .take(r#"{"error":{"message":"overloaded"}}"#, &mut |_| {})
            .unwrap_err();
        assert_eq!(error, ProviderError::Unavailable("overloaded".into()));
    }
}
