//! Ollama's own chat API (`POST /api/chat`), streamed as one JSON object
//! per line. Ollio speaks it rather than Ollama's OpenAI-compatible one
//! because only here does a request set the context window (`num_ctx`):
//! without it Ollama keeps its small default and silently drops the start
//! of a long conversation, the system prompt with the tool rules first.
//! Tool calls arrive whole, their arguments as JSON objects; tool results
//! go back as `tool` messages naming the tool.

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    chat::{ChatMessage, ChatRequest, Completion, Finish, Role, ToolCall, Usage},
    chat_provider::{next_chunk, open_stream, ChatProvider, Delta, ProviderError},
    openai::function_tools,
};

#[derive(Debug, Clone)]
pub struct Ollama {
    http: reqwest::Client,
    /// `OLLAMA_HOST`, without `/api`.
    host: String,
    /// The context window asked for (`options.num_ctx`).
    context_tokens: u64,
    idle_timeout: Duration,
}

impl Ollama {
    pub fn new(http: reqwest::Client, host: impl Into<String>, context_tokens: u64) -> Self {
        Self {
            http,
            host: host.into().trim_end_matches('/').to_owned(),
            context_tokens,
            // A local model may take long to load before its first token.
            idle_timeout: Duration::from_secs(300),
        }
    }

    pub fn with_idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }
}

/// The request body in Ollama's shape.
pub fn body(request: &ChatRequest, context_tokens: u64) -> Value {
    // Tool results name their tool, found from the call they answer: the
    // latest assistant message's (Ollama's call ids repeat across answers).
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut messages: Vec<Value> = Vec::with_capacity(request.messages.len());
    for message in &request.messages {
        for call in &message.tool_calls {
            names.insert(call.id.as_str(), call.name.as_str());
        }
        messages.push(self::message(message, &names));
    }
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "stream": true,
        "options": { "num_ctx": context_tokens, "num_predict": request.max_tokens },
    });
    if !request.tools.is_empty() {
        body["tools"] = function_tools(&request.tools);
    }
    body
}

fn message(message: &ChatMessage, names: &HashMap<&str, &str>) -> Value {
    match message.role {
        Role::System => json!({ "role": "system", "content": message.content }),
        Role::User if message.images.is_empty() => {
            json!({ "role": "user", "content": message.content })
        }
        Role::User => json!({
            "role": "user",
            "content": message.content,
            "images": message.images.iter().map(|image| image.base64.clone()).collect::<Vec<_>>(),
        }),
        Role::Tool => {
            let name = message
                .tool_call_id
                .as_deref()
                .and_then(|id| names.get(id))
                .copied()
                .unwrap_or_default();
            json!({ "role": "tool", "tool_name": name, "content": message.content })
        }
        Role::Assistant if message.tool_calls.is_empty() => {
            json!({ "role": "assistant", "content": message.content })
        }
        // Ollama takes arguments as objects: malformed ones (which the
        // model was told about) go back empty.
        Role::Assistant => json!({
            "role": "assistant",
            "content": message.content,
            "tool_calls": message.tool_calls.iter().map(|call| json!({
                "function": {
                    "name": call.name,
                    "arguments": serde_json::from_str::<Value>(&call.arguments)
                        .ok()
                        .filter(Value::is_object)
                        .unwrap_or_else(|| json!({})),
                },
            })).collect::<Vec<_>>(),
        }),
    }
}

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    message: Option<LineMessage>,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    done_reason: Option<String>,
    #[serde(default)]
    prompt_eval_count: u64,
    #[serde(default)]
    eval_count: u64,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct LineMessage {
    #[serde(default)]
    content: String,
    #[serde(default)]
    tool_calls: Vec<LineCall>,
}

#[derive(Deserialize)]
struct LineCall {
    #[serde(default)]
    id: Option<String>,
    function: LineFunction,
}

#[derive(Deserialize)]
struct LineFunction {
    name: String,
    #[serde(default)]
    arguments: Value,
}

/// Assembles a completion from the stream's lines.
#[derive(Default)]
pub struct Assembler {
    text: String,
    calls: Vec<ToolCall>,
    usage: Usage,
    finish: Option<String>,
}

impl Assembler {
    /// Takes one line; `Ok(true)` at the line with `"done": true`.
    pub fn take(
        &mut self,
        line: &str,
        on_delta: &mut (dyn for<'a> FnMut(Delta<'a>) + Send),
    ) -> Result<bool, ProviderError> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(false);
        }
        let line: Line = serde_json::from_str(line)
            .map_err(|error| ProviderError::Protocol(format!("a stream line: {error}")))?;
        if let Some(error) = line.error {
            return Err(ProviderError::Unavailable(error));
        }
        if let Some(message) = line.message {
            if !message.content.is_empty() {
                on_delta(Delta::Text(&message.content));
                self.text.push_str(&message.content);
            }
            for call in message.tool_calls {
                on_delta(Delta::ToolCall {
                    name: &call.function.name,
                });
                let arguments = match call.function.arguments {
                    Value::Null => "{}".to_owned(),
                    // Some models send the arguments as a JSON string.
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                let id = call
                    .id
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| format!("call_{}", self.calls.len()));
                self.calls.push(ToolCall {
                    id,
                    name: call.function.name,
                    arguments,
                });
            }
        }
        if line.done {
            self.usage = Usage {
                input_tokens: line.prompt_eval_count,
                output_tokens: line.eval_count,
            };
            self.finish = line.done_reason;
        }
        Ok(line.done)
    }

    pub fn finish(self) -> Completion {
        // Ollama ends a turn with tool calls as "stop": the calls decide.
        let finish = match self.finish.as_deref() {
            _ if !self.calls.is_empty() => Finish::ToolCalls,
            Some("length") => Finish::Length,
            Some("stop") | None => Finish::Stop,
            Some(other) => Finish::Other(other.to_owned()),
        };
        Completion {
            text: self.text,
            tool_calls: self.calls,
            usage: self.usage,
            finish,
        }
    }
}

#[async_trait]
impl ChatProvider for Ollama {
    async fn complete(
        &self,
        request: &ChatRequest,
        on_delta: &mut (dyn for<'a> FnMut(Delta<'a>) + Send),
    ) -> Result<Completion, ProviderError> {
        let builder = self
            .http
            .post(format!("{}/api/chat", self.host))
            .json(&body(request, self.context_tokens));
        let mut response = open_stream(builder, self.idle_timeout).await?;
        let mut assembler = Assembler::default();
        let mut pending: Vec<u8> = Vec::new();
        loop {
            let Some(chunk) = next_chunk(&mut response, self.idle_timeout).await? else {
                // The last line may come without its newline.
                let rest = String::from_utf8_lossy(&pending).into_owned();
                if assembler.take(&rest, on_delta)? {
                    return Ok(assembler.finish());
                }
                return Err(ProviderError::CutStream);
            };
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|byte| *byte == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let line = std::str::from_utf8(&line)
                    .map_err(|_| ProviderError::Protocol("a stream line is not UTF-8".into()))?;
                if assembler.take(line, on_delta)? {
                    return Ok(assembler.finish());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::ToolSpec;

    #[test]
    fn whole_tool_calls_ending_in_stop_are_tool_calls() {
        let mut assembler = Assembler::default();
        let mut deltas = Vec::new();
        for line in [
            r#"{"model":"qwen","message":{"role":"assistant","content":"Writing "},"done":false}"#,
            r#"{"model":"qwen","message":{"role":"assistant","content":"it.","tool_calls":[{"function":{"name":"write_files","arguments":{"files":[{"path":"a.html","content":"<p>"}]}}}]},"done":false}"#,
            r#"{"model":"qwen","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":120,"eval_count":40}"#,
        ] {
            if assembler
                .take(line, &mut |delta| deltas.push(format!("{delta:?}")))
                .unwrap()
            {
                break;
            }
        }
        let completion = assembler.finish();
        assert_eq!(completion.text, "Writing it.");
        assert_eq!(completion.finish, Finish::ToolCalls);
        assert_eq!(completion.tool_calls[0].id, "call_0");
        assert_eq!(
            completion.tool_calls[0].arguments,
            r#"{"files":[{"content":"<p>","path":"a.html"}]}"#
        );
        assert_eq!(completion.usage.input_tokens, 120);
        assert!(deltas.iter().any(|delta| delta.contains("write_files")));
    }

    #[test]
    fn the_context_window_and_tool_names_go_out_in_ollamas_shape() {
        let request = ChatRequest {
            model: "qwen2.5-coder".into(),
            messages: vec![
                ChatMessage::system("rules"),
                ChatMessage::user("hi"),
                ChatMessage::assistant(
                    "",
                    vec![ToolCall {
                        id: "c1".into(),
                        name: "list_files".into(),
                        arguments: "not json".into(),
                    }],
                ),
                ChatMessage::tool("c1", "index.html"),
                ChatMessage::assistant(
                    "",
                    vec![ToolCall {
                        id: "c1".into(),
                        name: "terminal".into(),
                        arguments: "{}".into(),
                    }],
                ),
                ChatMessage::tool("c1", "ok"),
            ],
            tools: vec![ToolSpec {
                name: "list_files".into(),
                description: "lists".into(),
                parameters: json!({ "type": "object" }),
            }],
            max_tokens: 1000,
        };
        let body = body(&request, 32_768);
        assert_eq!(body["options"]["num_ctx"], 32_768);
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["arguments"],
            json!({})
        );
        assert_eq!(body["messages"][3]["role"], "tool");
        assert_eq!(body["messages"][3]["tool_name"], "list_files");
        // Ids repeat across answers: each result names its own answer's tool.
        assert_eq!(body["messages"][5]["tool_name"], "terminal");
        assert_eq!(body["tools"][0]["function"]["name"], "list_files");
    }

    #[test]
    fn an_error_line_is_an_error() {
        let mut assembler = Assembler::default();
        let error = assembler
            .take(r#"{"error":"model 'x' not found"}"#, &mut |_| {})
            .unwrap_err();
        assert_eq!(
            error,
            ProviderError::Unavailable("model 'x' not found".into())
        );
    }
}
