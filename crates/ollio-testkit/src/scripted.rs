//! The scripted model server: a test tool that speaks the OpenAI-compatible
//! (`POST /v1/chat/completions`), Anthropic (`POST /v1/messages`) and
//! Ollama (`POST /api/chat`, one JSON object per line) streaming protocols
//! over real HTTP, replaying scripts stored as JSON files, and lists the
//! scripts as its models (`GET /v1/models`, Ollama's `GET /api/tags`). The request's `model` names the script (`three-files` reads
//! `three-files.json`). It is never offered to users as a model.
//!
//! A script's `steps` are the answers of one turn: a request with *n*
//! assistant messages since the user's last message gets step *n*. The title
//! request (its system prompt is [`TITLE_PROMPT`]) gets the script's `title`. A step may first fail a few times (an HTTP status
//! with `Retry-After`, or a stream cut off half-way), once per failure, so
//! that retries are exercised; the server remembers which failures it served.

use std::{
    collections::HashMap,
    convert::Infallible,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use axum::{
    body::Body,
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use ollio_agent::{text_protocol::RESULTS_HEADER, turn::TITLE_PROMPT};

/// The scripts the tests play, kept beside this crate (`model_scripts/`).
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("model_scripts")
}

/// One script file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Other scripts to play instead, picked by the user's last message:
    /// the first route whose `contains` is in it (ignoring case) wins. One
    /// model name can then drive a whole browser journey.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// The answer to requests without tools (the version title).
    #[serde(default = "default_title")]
    pub title: String,
}

fn default_title() -> String {
    "Scripted app".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub contains: String,
    pub script: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub tool_calls: Vec<ScriptedCall>,
    /// Bytes per streamed piece of text and of each call's arguments.
    #[serde(default = "default_fragment")]
    pub fragment: usize,
    /// Served, once each and in order, before the step succeeds.
    #[serde(default)]
    pub failures: Vec<Failure>,
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
}

fn default_fragment() -> usize {
    16
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedCall {
    pub name: String,
    /// The arguments as JSON; or `raw_arguments`, sent as they are (to
    /// script malformed JSON).
    #[serde(default)]
    pub arguments: Option<Value>,
    #[serde(default)]
    pub raw_arguments: Option<String>,
}

impl ScriptedCall {
    fn arguments_text(&self) -> String {
        match (&self.raw_arguments, &self.arguments) {
            (Some(raw), _) => raw.clone(),
            (None, Some(value)) => value.to_string(),
            (None, None) => "{}".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Failure {
    /// An error answer, e.g. 429 with `Retry-After: 0`, or 503.
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<String>,
    },
    /// The stream starts, then stops half-way without its end marker.
    Cut,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    OpenAi,
    Anthropic,
    Ollama,
}

struct Scripts {
    dir: PathBuf,
    /// Failures already served, per (script, step).
    served: Mutex<HashMap<(String, usize), usize>>,
    /// Every request body received, in order, for tests to inspect.
    requests: Mutex<Vec<Value>>,
}

/// A running scripted model server.
pub struct ScriptedServer {
    pub addr: std::net::SocketAddr,
    scripts: Arc<Scripts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedServer {
    /// Serves the scripts in `dir` on `addr` (port 0 for any free port).
    /// The tests' own scripts ([`scripts_dir`]) on a free port.
    pub async fn for_tests() -> Self {
        Self::start(&scripts_dir(), "127.0.0.1:0".parse().expect("an address"))
            .await
            .expect("the scripted model server starts")
    }

    pub async fn start(dir: &Path, addr: std::net::SocketAddr) -> std::io::Result<Self> {
        let scripts = Arc::new(Scripts {
            dir: dir.to_path_buf(),
            served: Mutex::default(),
            requests: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = router(scripts.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            scripts,
            task,
        })
    }

    /// `OPENAI_BASE_URL` for this server.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `OLLAMA_HOST` for this server.
    pub fn ollama_host(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ANTHROPIC_BASE_URL` for this server.
    pub fn anthropic_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request bodies received so far, each with the key it was sent
    /// with under `_key` (`Bearer …`, or Anthropic's `x-api-key`).
    pub fn requests(&self) -> Vec<Value> {
        self.scripts
            .requests
            .lock()
            .map(|requests| requests.clone())
            .unwrap_or_default()
    }
}

fn router(scripts: Arc<Scripts>) -> Router {
    Router::new()
        .route(
            "/v1/chat/completions",
            post(|state, headers, body| answer(state, headers, body, Dialect::OpenAi)),
        )
        .route(
            "/v1/messages",
            post(|state, headers, body| answer(state, headers, body, Dialect::Anthropic)),
        )
        .route(
            "/api/chat",
            post(|state, headers, body| answer(state, headers, body, Dialect::Ollama)),
        )
        // The scripts as models: OpenAI's (and Anthropic's) listing, and
        // Ollama's. A listing asked with a key records it, as requests do.
        .route(
            "/v1/models",
            axum::routing::get(|State(scripts): State<Arc<Scripts>>, headers: axum::http::HeaderMap| async move {
                record(&scripts, &headers, json!({ "_listing": "models" }));
                let data: Vec<Value> = script_names(&scripts.dir)
                    .into_iter()
                    .map(|name| json!({ "id": name, "object": "model", "type": "model", "display_name": name, "owned_by": "scripted" }))
                    .collect();
                Json(json!({ "object": "list", "data": data, "has_more": false }))
            }),
        )
        .route(
            "/api/tags",
            axum::routing::get(|State(scripts): State<Arc<Scripts>>| async move {
                let models: Vec<Value> = script_names(&scripts.dir)
                    .into_iter()
                    .map(|name| json!({ "name": name, "model": name, "size": 0 }))
                    .collect();
                Json(json!({ "models": models }))
            }),
        )
        // Embeddings, OpenAI's and Ollama's: see `meaning`.
        .route(
            "/v1/embeddings",
            post(|State(scripts): State<Arc<Scripts>>, headers: axum::http::HeaderMap, Json(body): Json<Value>| async move {
                let data: Vec<Value> = embedding_inputs(&body)
                    .iter()
                    .enumerate()
                    .map(|(index, text)| json!({ "object": "embedding", "index": index, "embedding": meaning(text) }))
                    .collect();
                record(&scripts, &headers, body);
                Json(json!({ "object": "list", "data": data }))
            }),
        )
        .route(
            "/api/embed",
            post(|State(scripts): State<Arc<Scripts>>, headers: axum::http::HeaderMap, Json(body): Json<Value>| async move {
                let embeddings: Vec<Vec<f32>> = embedding_inputs(&body).iter().map(|text| meaning(text)).collect();
                record(&scripts, &headers, body);
                Json(json!({ "model": "scripted", "embeddings": embeddings }))
            }),
        )
        // What was asked so far, for a browser test to look at (the
        // scripted server is a test tool, never a user's model).
        .route(
            "/requests",
            axum::routing::get(|State(scripts): State<Arc<Scripts>>| async move {
                let requests = scripts
                    .requests
                    .lock()
                    .map(|requests| requests.clone())
                    .unwrap_or_default();
                Json(requests)
            }),
        )
        .with_state(scripts)
}

fn embedding_inputs(body: &Value) -> Vec<String> {
    match &body["input"] {
        Value::String(text) => vec![text.clone()],
        Value::Array(list) => list
            .iter()
            .map(|item| item.as_str().unwrap_or_default().to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Words that mean one thing, for the scripted embeddings model.
const CONCEPTS: &[(&str, &[&str])] = &[
    (
        "account",
        &[
            "login",
            "signin",
            "sign",
            "log",
            "auth",
            "authenticate",
            "password",
            "session",
            "user",
            "credentials",
        ],
    ),
    (
        "money",
        &[
            "price", "cart", "checkout", "pay", "payment", "total", "order", "buy",
        ],
    ),
    (
        "look",
        &[
            "style", "color", "colour", "margin", "padding", "font", "css", "theme",
        ],
    ),
];
const DIMENSIONS: usize = 32;

/// A scripted embedding: words counted into a few dimensions, those with
/// one meaning (`login`, `sign`, `password`) into the same one, so texts
/// about one thing point the same way even with no word in common.
fn meaning(text: &str) -> Vec<f32> {
    let mut vector = vec![0.0f32; DIMENSIONS];
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .flat_map(|part| {
            // camelCase into its words.
            let mut words = vec![String::new()];
            for c in part.chars() {
                if c.is_ascii_uppercase() && !words.last().is_some_and(String::is_empty) {
                    words.push(String::new());
                }
                if let Some(last) = words.last_mut() {
                    last.push(c.to_ascii_lowercase());
                }
            }
            words
        })
        .filter(|word| word.len() > 2)
    {
        let concept = CONCEPTS
            .iter()
            .position(|(_, words)| words.iter().any(|known| word.starts_with(known)));
        let at = match concept {
            Some(concept) => concept,
            None => {
                let hash = word.bytes().fold(7u32, |hash, byte| {
                    hash.wrapping_mul(31).wrapping_add(u32::from(byte))
                });
                CONCEPTS.len() + hash as usize % (DIMENSIONS - CONCEPTS.len())
            }
        };
        // Meanings weigh more than any one other word.
        vector[at] += if concept.is_some() { 3.0 } else { 1.0 };
    }
    vector
}

/// Keeps a request's body, with the key it came with under `_key`, for
/// tests of whose key is used.
fn record(scripts: &Scripts, headers: &axum::http::HeaderMap, mut body: Value) {
    let key = headers
        .get(header::AUTHORIZATION)
        .or_else(|| headers.get("x-api-key"))
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    body["_key"] = key.into();
    if let Ok(mut requests) = scripts.requests.lock() {
        requests.push(body);
    }
}

/// The scripts in `dir`, by name, sorted.
fn script_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let path = entry.path();
                    (path.extension()? == "json")
                        .then(|| path.file_stem()?.to_str().map(str::to_owned))
                        .flatten()
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn failure(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "type": "scripted", "message": message } })),
    )
        .into_response()
}

async fn answer(
    State(scripts): State<Arc<Scripts>>,
    headers: axum::http::HeaderMap,
    Json(request): Json<Value>,
    dialect: Dialect,
) -> Response {
    record(&scripts, &headers, request.clone());
    let name = request["model"].as_str().unwrap_or_default().to_owned();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return failure(StatusCode::BAD_REQUEST, "the model must name a script");
    }
    let mut script = match load(&scripts.dir, &name) {
        Ok(script) => script,
        Err(error) => return failure(StatusCode::NOT_FOUND, &error),
    };
    // Routes may lead to scripts with routes of their own, a few deep.
    let said = last_user_text(&request).to_lowercase();
    let mut name = name;
    for _ in 0..4 {
        let Some(routed) = script
            .routes
            .iter()
            .find(|route| said.contains(&route.contains.to_lowercase()))
            .map(|route| route.script.clone())
        else {
            break;
        };
        script = match load(&scripts.dir, &routed) {
            Ok(script) => script,
            Err(error) => return failure(StatusCode::NOT_FOUND, &error),
        };
        name = routed;
    }
    let (index, step) = if !is_title_request(&request, dialect) {
        let index = step_index(&request);
        match script.steps.get(index) {
            Some(step) => (index, step.clone()),
            None => {
                return failure(
                    StatusCode::BAD_REQUEST,
                    &format!("script {name} has no step {index}"),
                )
            }
        }
    } else {
        (
            usize::MAX,
            Step {
                text: script.title.clone(),
                fragment: default_fragment(),
                ..Step::default()
            },
        )
    };
    let pending = {
        let Ok(mut served) = scripts.served.lock() else {
            return failure(StatusCode::INTERNAL_SERVER_ERROR, "poisoned");
        };
        let count = served.entry((name.clone(), index)).or_insert(0);
        let pending = step.failures.get(*count).cloned();
        if pending.is_some() {
            *count += 1;
        }
        pending
    };
    let events = match dialect {
        Dialect::OpenAi => openai_events(&name, &step),
        Dialect::Anthropic => anthropic_events(&name, &step),
        Dialect::Ollama => ollama_lines(&name, &step),
    };
    match pending {
        Some(Failure::Status {
            status,
            retry_after,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = failure(status, "scripted failure");
            if let Some(value) = retry_after.and_then(|value| value.parse().ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Some(Failure::Cut) => {
            let half = events.len() / 2;
            stream(events.into_iter().take(half.max(1)).collect(), dialect)
        }
        None => stream(events, dialect),
    }
}

fn load(dir: &Path, name: &str) -> Result<Script, String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!("`{name}` does not name a script"));
    }
    std::fs::read_to_string(dir.join(format!("{name}.json")))
        .map_err(|error| error.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|error| error.to_string()))
        .map_err(|error| format!("script {name}: {error}"))
}

/// The text of the request's last message from the user (for a title
/// request, which quotes the user's request, that text too).
fn last_user_text(request: &Value) -> String {
    let Some(messages) = request["messages"].as_array() else {
        return String::new();
    };
    messages
        .iter()
        .rev()
        .filter(|message| message["role"] == "user")
        .find_map(|message| {
            let text = message["content"].as_str().map(str::to_owned).or_else(|| {
                message["content"].as_array().map(|blocks| {
                    blocks
                        .iter()
                        .filter_map(|block| block["text"].as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                })
            })?;
            (!text.starts_with(RESULTS_HEADER) && !text.is_empty()).then_some(text)
        })
        .unwrap_or_default()
}

/// Whether `request` asks for a version title: its system prompt is
/// [`TITLE_PROMPT`].
fn is_title_request(request: &Value, dialect: Dialect) -> bool {
    let system = match dialect {
        Dialect::Anthropic => request["system"].as_str().map(str::to_owned).or_else(|| {
            request["system"]
                .as_array()
                .and_then(|blocks| blocks.first())
                .and_then(|block| block["text"].as_str())
                .map(str::to_owned)
        }),
        Dialect::OpenAi | Dialect::Ollama => request["messages"]
            .as_array()
            .and_then(|messages| messages.first())
            .filter(|message| message["role"] == "system")
            .and_then(|message| message["content"].as_str())
            .map(str::to_owned),
    };
    system.is_some_and(|text| text.starts_with(TITLE_PROMPT))
}

/// Which step a request is at: the assistant messages since the user's
/// last own message (tool results, sent as user messages by Anthropic's
/// protocol, do not count as the user's).
fn step_index(request: &Value) -> usize {
    let Some(messages) = request["messages"].as_array() else {
        return 0;
    };
    // Tool results (Anthropic's `tool_result` blocks, or the text
    // protocol's results) come as user messages but are not the user's.
    let is_tool_result = |message: &Value| {
        let text = message["content"].as_str().map(str::to_owned).or_else(|| {
            message["content"]
                .as_array()
                .and_then(|blocks| blocks.first())
                .and_then(|block| block["text"].as_str())
                .map(str::to_owned)
        });
        text.is_some_and(|text| text.starts_with(RESULTS_HEADER))
            || message["content"]
                .as_array()
                .is_some_and(|blocks| blocks.iter().any(|block| block["type"] == "tool_result"))
    };
    let start = messages
        .iter()
        .rposition(|message| message["role"] == "user" && !is_tool_result(message))
        .map_or(0, |index| index + 1);
    messages[start..]
        .iter()
        .filter(|message| message["role"] == "assistant")
        .count()
}

/// The events as one streamed body (SSE, or Ollama's lines), each its own
/// chunk on the wire.
fn stream(events: Vec<String>, dialect: Dialect) -> Response {
    let chunks = events
        .into_iter()
        .map(|event| Ok::<_, Infallible>(axum::body::Bytes::from(event)));
    let kind = match dialect {
        Dialect::Ollama => "application/x-ndjson",
        Dialect::OpenAi | Dialect::Anthropic => "text/event-stream",
    };
    Response::builder()
        .header(header::CONTENT_TYPE, kind)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap_or_else(|_| failure(StatusCode::INTERNAL_SERVER_ERROR, "building the stream"))
}

/// `text` in pieces of at most `size` bytes, never splitting a character.
fn pieces(text: &str, size: usize) -> Vec<&str> {
    let size = size.max(1);
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = size.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(&rest[..end]);
        rest = &rest[end..];
    }
    pieces
}

fn data(value: &Value) -> String {
    format!("data: {value}\n\n")
}

fn openai_events(name: &str, step: &Step) -> Vec<String> {
    let chunk = |delta: Value, finish: Value| {
        data(&json!({
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "model": name,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
        }))
    };
    let mut events = vec![chunk(
        json!({ "role": "assistant", "content": "" }),
        Value::Null,
    )];
    for piece in pieces(&step.text, step.fragment) {
        events.push(chunk(json!({ "content": piece }), Value::Null));
    }
    let arguments: Vec<String> = step
        .tool_calls
        .iter()
        .map(ScriptedCall::arguments_text)
        .collect();
    for (index, call) in step.tool_calls.iter().enumerate() {
        events.push(chunk(
            json!({ "tool_calls": [{
                "index": index,
                "id": format!("call_{index}"),
                "type": "function",
                "function": { "name": call.name, "arguments": "" },
            }] }),
            Value::Null,
        ));
    }
    // Parallel calls' arguments interleave, told apart only by `index`.
    let split: Vec<Vec<&str>> = arguments
        .iter()
        .map(|text| pieces(text, step.fragment))
        .collect();
    let longest = split.iter().map(Vec::len).max().unwrap_or(0);
    for round in 0..longest {
        for (index, parts) in split.iter().enumerate() {
            if let Some(part) = parts.get(round) {
                events.push(chunk(
                    json!({ "tool_calls": [{ "index": index, "function": { "arguments": part } }] }),
                    Value::Null,
                ));
            }
        }
    }
    let finish = if step.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    events.push(chunk(json!({}), finish.into()));
    events.push(data(&json!({
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "choices": [],
        "usage": {
            "prompt_tokens": step.input_tokens,
            "completion_tokens": step.output_tokens,
            "total_tokens": step.input_tokens + step.output_tokens,
        },
    })));
    events.push("data: [DONE]\n\n".into());
    events
}

/// Ollama's stream: one JSON object per line; the text in pieces, each
/// tool call whole with its arguments as an object, and a last line with
/// `done` and the counts. Like Ollama, it says "stop" after tool calls.
fn ollama_lines(name: &str, step: &Step) -> Vec<String> {
    let line = |message: Value, done: bool| {
        let mut value = json!({
            "model": name,
            "created_at": "2026-12-03T00:00:00Z",
            "message": message,
            "done": done,
        });
        if done {
            value["done_reason"] = "stop".into();
            value["prompt_eval_count"] = step.input_tokens.into();
            value["eval_count"] = step.output_tokens.into();
        }
        format!("{value}\n")
    };
    let mut lines: Vec<String> = pieces(&step.text, step.fragment)
        .into_iter()
        .map(|piece| line(json!({ "role": "assistant", "content": piece }), false))
        .collect();
    if !step.tool_calls.is_empty() {
        let calls: Vec<Value> = step
            .tool_calls
            .iter()
            .map(|call| {
                // Malformed arguments go as the string they are.
                let arguments = serde_json::from_str::<Value>(&call.arguments_text())
                    .unwrap_or_else(|_| call.arguments_text().into());
                json!({ "function": { "name": call.name, "arguments": arguments } })
            })
            .collect();
        lines.push(line(
            json!({ "role": "assistant", "content": "", "tool_calls": calls }),
            false,
        ));
    }
    lines.push(line(json!({ "role": "assistant", "content": "" }), true));
    lines
}

fn anthropic_events(name: &str, step: &Step) -> Vec<String> {
    let event = |kind: &str, value: Value| format!("event: {kind}\ndata: {value}\n\n");
    let mut events = vec![event(
        "message_start",
        json!({ "type": "message_start", "message": {
            "id": "msg_scripted", "type": "message", "role": "assistant", "model": name,
            "content": [], "stop_reason": null,
            "usage": { "input_tokens": step.input_tokens, "output_tokens": 1 },
        } }),
    )];
    events.push(event("ping", json!({ "type": "ping" })));
    let mut block = 0;
    if !step.text.is_empty() {
        events.push(event(
            "content_block_start",
            json!({ "type": "content_block_start", "index": block,
                    "content_block": { "type": "text", "text": "" } }),
        ));
        for piece in pieces(&step.text, step.fragment) {
            events.push(event(
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": block,
                        "delta": { "type": "text_delta", "text": piece } }),
            ));
        }
        events.push(event(
            "content_block_stop",
            json!({ "type": "content_block_stop", "index": block }),
        ));
        block += 1;
    }
    for (number, call) in step.tool_calls.iter().enumerate() {
        events.push(event(
            "content_block_start",
            json!({ "type": "content_block_start", "index": block, "content_block": {
                "type": "tool_use", "id": format!("toolu_{number}"), "name": call.name, "input": {},
            } }),
        ));
        for piece in pieces(&call.arguments_text(), step.fragment) {
            events.push(event(
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": block,
                        "delta": { "type": "input_json_delta", "partial_json": piece } }),
            ));
        }
        events.push(event(
            "content_block_stop",
            json!({ "type": "content_block_stop", "index": block }),
        ));
        block += 1;
    }
    let stop = if step.tool_calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    events.push(event(
        "message_delta",
        json!({ "type": "message_delta", "delta": { "stop_reason": stop, "stop_sequence": null },
                "usage": { "output_tokens": step.output_tokens } }),
    ));
    events.push(event("message_stop", json!({ "type": "message_stop" })));
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_count_from_the_users_last_message() {
        let request = json!({ "messages": [
            { "role": "user", "content": "first" },
            { "role": "assistant", "content": "done" },
            { "role": "user", "content": "again" },
            { "role": "assistant", "content": [{ "type": "tool_use" }] },
            { "role": "user", "content": [{ "type": "tool_result" }] },
        ] });
        assert_eq!(step_index(&request), 1);
        assert_eq!(
            step_index(&json!({ "messages": [{ "role": "user", "content": "x" }] })),
            0
        );
    }

    #[test]
    fn pieces_never_split_a_character() {
        assert_eq!(pieces("héllo", 2), vec!["hé", "ll", "o"]);
        assert_eq!(pieces("", 4), Vec::<&str>::new());
    }

    #[test]
    fn parallel_arguments_interleave_by_index() {
        let step = Step {
            tool_calls: vec![
                ScriptedCall {
                    name: "a".into(),
                    arguments: Some(json!({ "x": "1234" })),
                    raw_arguments: None,
                },
                ScriptedCall {
                    name: "b".into(),
                    arguments: None,
                    raw_arguments: Some("{\"y\":".into()),
                },
            ],
            fragment: 3,
            ..Step::default()
        };
        let events = openai_events("s", &step);
        let order: Vec<u64> = events
            .iter()
            .filter_map(|event| serde_json::from_str::<Value>(event.strip_prefix("data: ")?).ok())
            .filter_map(|chunk| {
                let call = &chunk["choices"][0]["delta"]["tool_calls"][0];
                call["id"]
                    .is_null()
                    .then(|| call["index"].as_u64())
                    .flatten()
            })
            .collect();
        let first_b = order.iter().position(|index| *index == 1).unwrap();
        let last_a = order.iter().rposition(|index| *index == 0).unwrap();
        assert!(
            first_b < last_a,
            "the calls' fragments interleave: {order:?}"
        );
        let events = events.join("");
        assert!(events.ends_with("data: [DONE]\n\n"));
    }

    #[test]
    fn every_stored_script_loads_and_its_routes_lead_somewhere() {
        let dir = scripts_dir();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let script = load(&dir, &name).unwrap();
            assert!(
                !script.steps.is_empty() || !script.routes.is_empty(),
                "{name} has neither steps nor routes"
            );
            for route in &script.routes {
                load(&dir, &route.script).unwrap();
            }
        }
    }

    #[test]
    fn the_last_user_message_picks_the_route() {
        let request = json!({ "messages": [
            { "role": "system", "content": "rules" },
            { "role": "user", "content": "A bakery page" },
            { "role": "assistant", "content": "done" },
            { "role": "user", "content": "Make a BIGGER heading please" },
            { "role": "user", "content": [{ "type": "tool_result", "content": "x" }] }
        ] });
        assert_eq!(last_user_text(&request), "Make a BIGGER heading please");
    }
}
