//! envd's API as `sandboxd` serves it: `/health`, `/files`, and the Connect
//! services `filesystem.Filesystem` and `process.Process`. The sandbox is
//! named by the `E2b-Sandbox-Id` header (or the `49983-{id}.` host), and the
//! caller must present its `X-Access-Token`.

use std::{collections::BTreeMap, convert::Infallible, sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Multipart, Query, State},
    http::{header, request::Parts, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;

use super::{
    control_routes::error,
    guest_link::LinkError,
    guest_protocol::{ErrorKind, PtySize, Request, Spawn, SpawnEvent},
    preview::HostSandbox,
    registry::{Registry, SandboxRecord},
};
use ollio_sandbox::{
    connect::{self, Decoder, Frame, FLAG_END_STREAM},
    wire::{
        CloseStdinRequest, DataEvent, EndEvent, EntryResponse, ListDirRequest, ListDirResponse,
        MoveRequest, PathRequest, ProcessEvent, ProcessInput, ProcessSelector, RpcError,
        SendInputRequest, SendSignalRequest, StartRequest, StartResponse, UpdateRequest, WriteInfo,
    },
};

/// The largest upload one `POST /files` takes: uploads are held in memory
/// on their way to the sandbox.
pub const MAX_UPLOAD: u64 = 512 << 20;

pub fn routes(upload_limit: u64) -> Router<Arc<Registry>> {
    Router::new()
        .route("/health", get(health))
        .route("/files", get(read_file).post(write_files))
        .route("/filesystem.Filesystem/ListDir", post(list_dir))
        .route("/filesystem.Filesystem/Stat", post(stat))
        .route("/filesystem.Filesystem/MakeDir", post(make_dir))
        .route("/filesystem.Filesystem/Remove", post(remove))
        .route("/filesystem.Filesystem/Move", post(move_entry))
        .route("/process.Process/Start", post(start))
        .route("/process.Process/SendSignal", post(send_signal))
        .route("/process.Process/SendInput", post(send_input))
        .route("/process.Process/CloseStdin", post(close_stdin))
        .route("/process.Process/Update", post(update))
        .route("/process.Process/{method}", post(unimplemented))
        .route("/filesystem.Filesystem/{method}", post(unimplemented))
        // A little over the disk limit, so that an upload over it reaches
        // the guest and gets its clear answer.
        .layer(DefaultBodyLimit::max(
            usize::try_from(upload_limit.saturating_add(1 << 20)).unwrap_or(usize::MAX),
        ))
}

/// The sandbox an envd request is for, after checking its access token.
pub struct Target(Arc<SandboxRecord>);

impl FromRequestParts<Arc<Registry>> for Target {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        registry: &Arc<Registry>,
    ) -> Result<Self, Self::Rejection> {
        let id = match parts.extensions.get::<HostSandbox>() {
            Some(HostSandbox(id)) => id.clone(),
            None => header_text(&parts.headers, "e2b-sandbox-id").to_owned(),
        };
        let Some(sandbox) = registry.get(&id) else {
            // What E2B's proxy answers for a sandbox that is gone.
            let body = serde_json::json!({
                "code": 502,
                "message": "The sandbox was not found",
                "sandboxId": id,
            });
            return Err((StatusCode::BAD_GATEWAY, Json(body)).into_response());
        };
        let token = header_text(&parts.headers, "x-access-token");
        if !ollio_sandbox::ApiKey::new(sandbox.token.clone()).matches(token) {
            return Err(error(StatusCode::UNAUTHORIZED, "Invalid access token"));
        }
        Ok(Self(sandbox))
    }
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// envd calls sandboxd does not offer (`List`, `Connect`, `WatchDir`, …)
/// answer as a Connect server does for an unknown method.
async fn unimplemented(
    _: Target,
    axum::extract::Path(method): axum::extract::Path<String>,
) -> Response {
    rpc_failure(
        StatusCode::NOT_IMPLEMENTED,
        "unimplemented",
        format!("{method} is not offered by Ollio's sandboxd"),
    )
}

async fn health(_: Target) -> StatusCode {
    StatusCode::NO_CONTENT
}

/// The Connect error code and HTTP status for a guest failure.
fn code_of(failure: &LinkError) -> (&'static str, StatusCode) {
    match failure.kind() {
        Some(ErrorKind::NotFound) => ("not_found", StatusCode::NOT_FOUND),
        Some(ErrorKind::AlreadyExists) => ("already_exists", StatusCode::CONFLICT),
        Some(ErrorKind::Invalid) => ("invalid_argument", StatusCode::BAD_REQUEST),
        Some(ErrorKind::PermissionDenied) => ("permission_denied", StatusCode::FORBIDDEN),
        Some(ErrorKind::TooLarge) => ("resource_exhausted", StatusCode::PAYLOAD_TOO_LARGE),
        Some(ErrorKind::Refused) | None => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
        Some(ErrorKind::Io) => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// A failed Connect unary call.
fn rpc_error(failure: &LinkError) -> Response {
    let (code, status) = code_of(failure);
    rpc_failure(status, code, failure.to_string())
}

fn rpc_failure(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = RpcError {
        code: code.into(),
        message: message.into(),
    };
    (status, Json(body)).into_response()
}

/// A failed plain-HTTP (`/files`) call.
fn files_error(failure: &LinkError) -> Response {
    let (_, status) = code_of(failure);
    error(status, failure.to_string())
}

#[derive(Deserialize)]
struct FileQuery {
    path: Option<String>,
}

async fn read_file(Target(sandbox): Target, Query(query): Query<FileQuery>) -> Response {
    let Some(path) = query.path.filter(|path| !path.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the path query parameter is missing",
        );
    };
    match sandbox.link.read(&path).await {
        Ok((size, reader)) => {
            let stream =
                tokio_util::io::ReaderStream::new(tokio::io::AsyncReadExt::take(reader, size));
            Response::builder()
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .header(header::CONTENT_LENGTH, size)
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Err(failure) => files_error(&failure),
    }
}

async fn write_files(
    Target(sandbox): Target,
    Query(query): Query<FileQuery>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let content_type = header_text(&headers, "content-type").to_owned();
    let mut written = Vec::new();
    if content_type.starts_with("multipart/form-data") {
        let mut form = match Multipart::from_request(request, &()).await {
            Ok(form) => form,
            Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
        };
        loop {
            let field = match form.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(failure) => return error(StatusCode::BAD_REQUEST, failure.body_text()),
            };
            if field.name() != Some("file") {
                continue;
            }
            let path = match (&query.path, field.file_name()) {
                (Some(path), _) if !path.is_empty() => path.clone(),
                (_, Some(name)) if !name.is_empty() => name.to_owned(),
                _ => return error(StatusCode::BAD_REQUEST, "a file part has no path"),
            };
            let bytes = match field.bytes().await {
                Ok(bytes) => bytes,
                Err(failure) => return error(StatusCode::BAD_REQUEST, failure.body_text()),
            };
            match sandbox.link.write(&path, &bytes).await {
                Ok(entry) => written.push(write_info(entry)),
                Err(failure) => return files_error(&failure),
            }
        }
    } else {
        let Some(path) = query.path.filter(|path| !path.is_empty()) else {
            return error(
                StatusCode::BAD_REQUEST,
                "the path query parameter is missing",
            );
        };
        // Through the extractor, so the router's body limit holds here too.
        let bytes = match axum::body::Bytes::from_request(request, &()).await {
            Ok(bytes) => bytes,
            Err(failure) => return error(failure.status(), failure.body_text()),
        };
        match sandbox.link.write(&path, &bytes).await {
            Ok(entry) => written.push(write_info(entry)),
            Err(failure) => return files_error(&failure),
        }
    }
    if written.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "no file part named `file` was sent",
        );
    }
    Json(written).into_response()
}

fn write_info(entry: ollio_sandbox::wire::EntryInfo) -> WriteInfo {
    WriteInfo {
        name: entry.name,
        kind: "file".into(),
        path: entry.path,
    }
}

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

fn bad_json(rejection: &axum::extract::rejection::JsonRejection) -> Response {
    rpc_failure(
        StatusCode::BAD_REQUEST,
        "invalid_argument",
        rejection.body_text(),
    )
}

async fn list_dir(Target(sandbox): Target, body: JsonBody<ListDirRequest>) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(&rejection),
    };
    let call = Request::List {
        path: request.path,
        depth: request.depth,
    };
    match sandbox.link.call(&call).await {
        Ok(super::guest_protocol::Reply::Entries(entries)) => {
            Json(ListDirResponse { entries }).into_response()
        }
        Ok(_) => rpc_error(&LinkError::Unexpected),
        Err(failure) => rpc_error(&failure),
    }
}

async fn entry_call(sandbox: &SandboxRecord, call: Request) -> Response {
    match sandbox.link.entry(&call).await {
        Ok(entry) => Json(EntryResponse { entry }).into_response(),
        Err(failure) => rpc_error(&failure),
    }
}

async fn stat(Target(sandbox): Target, body: JsonBody<PathRequest>) -> Response {
    match body {
        Ok(Json(request)) => entry_call(&sandbox, Request::Stat { path: request.path }).await,
        Err(rejection) => bad_json(&rejection),
    }
}

async fn make_dir(Target(sandbox): Target, body: JsonBody<PathRequest>) -> Response {
    match body {
        Ok(Json(request)) => entry_call(&sandbox, Request::MakeDir { path: request.path }).await,
        Err(rejection) => bad_json(&rejection),
    }
}

async fn move_entry(Target(sandbox): Target, body: JsonBody<MoveRequest>) -> Response {
    match body {
        Ok(Json(request)) => {
            let call = Request::Move {
                source: request.source,
                destination: request.destination,
            };
            entry_call(&sandbox, call).await
        }
        Err(rejection) => bad_json(&rejection),
    }
}

async fn done_call(sandbox: &SandboxRecord, call: Request) -> Response {
    match sandbox.link.call(&call).await {
        Ok(_) => Json(serde_json::json!({})).into_response(),
        Err(failure) => rpc_error(&failure),
    }
}

async fn remove(Target(sandbox): Target, body: JsonBody<PathRequest>) -> Response {
    match body {
        Ok(Json(request)) => done_call(&sandbox, Request::Remove { path: request.path }).await,
        Err(rejection) => bad_json(&rejection),
    }
}

/// Runs `call` for the selected process; tags are not supported, so a
/// tag selects nothing.
async fn for_pid(
    sandbox: &SandboxRecord,
    selector: &ProcessSelector,
    call: impl FnOnce(u32) -> Request,
) -> Response {
    match selector {
        ProcessSelector::Pid(pid) => done_call(sandbox, call(*pid)).await,
        ProcessSelector::Tag(tag) => rpc_failure(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no process is tagged `{tag}`"),
        ),
    }
}

async fn send_signal(Target(sandbox): Target, body: JsonBody<SendSignalRequest>) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(&rejection),
    };
    let signal = request.signal.number();
    for_pid(&sandbox, &request.process, |pid| Request::Signal {
        pid,
        signal,
    })
    .await
}

async fn send_input(Target(sandbox): Target, body: JsonBody<SendInputRequest>) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(&rejection),
    };
    let (ProcessInput::Stdin(data) | ProcessInput::Pty(data)) = request.input;
    for_pid(&sandbox, &request.process, |pid| Request::Input {
        pid,
        data,
    })
    .await
}

async fn close_stdin(Target(sandbox): Target, body: JsonBody<CloseStdinRequest>) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(&rejection),
    };
    for_pid(&sandbox, &request.process, |pid| Request::CloseStdin {
        pid,
    })
    .await
}

/// `process.Process/Update`: a pty's new size.
async fn update(Target(sandbox): Target, body: JsonBody<UpdateRequest>) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(&rejection),
    };
    let Some(pty) = request.pty else {
        // Nothing to change.
        return Json(serde_json::json!({})).into_response();
    };
    let size = pty_size(pty.size);
    for_pid(&sandbox, &request.process, |pid| Request::Resize {
        pid,
        size,
    })
    .await
}

fn pty_size(size: ollio_sandbox::wire::PtySize) -> PtySize {
    let cells = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
    PtySize {
        rows: cells(size.rows),
        cols: cells(size.cols),
    }
}

/// How a command's stream ends, beyond its exit.
struct StreamEnd {
    error: Option<RpcError>,
}

/// `process.Process/Start`: a server stream of envelopes, the request
/// enveloped too. `Connect-Timeout-Ms` bounds the command's wall time;
/// `Keepalive-Ping-Interval` asks for keepalive events.
async fn start(
    State(registry): State<Arc<Registry>>,
    Target(sandbox): Target,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match parse_start(&body) {
        Ok(request) => request,
        Err(message) => return stream_response(vec![end_frame(Some(invalid(message)))]),
    };
    let timeout = header_text(&headers, "connect-timeout-ms")
        .parse::<u64>()
        .ok()
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis);
    let keepalive = header_text(&headers, "keepalive-ping-interval")
        .parse::<u64>()
        .ok()
        .filter(|seconds| *seconds > 0)
        .map(Duration::from_secs);
    let mut envs: BTreeMap<String, String> = sandbox.env_vars.clone();
    envs.extend(request.process.envs);
    let spawn = Spawn {
        cmd: request.process.cmd,
        args: request.process.args,
        envs,
        cwd: request.process.cwd,
        stdin: request.stdin.unwrap_or(false),
        cpu_seconds: timeout.map(|timeout| timeout.as_secs().max(1)),
        pty: request.pty.map(|pty| pty_size(pty.size)),
    };
    // A terminal's output is what someone reads as it scrolls by; only
    // commands' collected output is limited.
    let output_limit = if spawn.pty.is_some() {
        u64::MAX
    } else {
        registry.config().limits.output_bytes
    };
    let events = match sandbox.link.spawn(spawn).await {
        Ok(events) => events,
        Err(failure) => {
            let (code, _) = code_of(&failure);
            return stream_response(vec![end_frame(Some(RpcError {
                code: code.into(),
                message: failure.to_string(),
            }))]);
        }
    };
    let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(64);
    tokio::spawn(relay(
        sandbox,
        events,
        sender,
        timeout,
        keepalive,
        output_limit,
    ));
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|frame| (Ok::<_, Infallible>(frame), receiver))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/connect+json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn invalid(message: String) -> RpcError {
    RpcError {
        code: "invalid_argument".into(),
        message,
    }
}

fn parse_start(body: &[u8]) -> Result<StartRequest, String> {
    let mut decoder = Decoder::new(1 << 20);
    decoder.push(body);
    let payload = match decoder.next_frame() {
        Ok(Some(Frame::Message(payload))) => payload,
        _ => body.to_vec(),
    };
    serde_json::from_slice(&payload).map_err(|error| format!("a StartRequest: {error}"))
}

fn event_frame(event: ProcessEvent) -> Bytes {
    let payload = serde_json::to_vec(&StartResponse { event }).unwrap_or_default();
    Bytes::from(connect::encode(0, &payload))
}

fn end_frame(error: Option<RpcError>) -> Bytes {
    let payload = match error {
        Some(error) => serde_json::json!({ "error": error }),
        None => serde_json::json!({}),
    };
    Bytes::from(connect::encode(
        FLAG_END_STREAM,
        payload.to_string().as_bytes(),
    ))
}

fn stream_response(frames: Vec<Bytes>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/connect+json")
        .body(Body::from(frames.concat()))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Hands the guest's events to the caller as envelopes, enforcing the
/// command's deadline and output limit.
async fn relay(
    sandbox: Arc<SandboxRecord>,
    mut events: super::guest_link::SpawnEvents,
    sender: tokio::sync::mpsc::Sender<Bytes>,
    timeout: Option<Duration>,
    keepalive: Option<Duration>,
    output_limit: u64,
) {
    let deadline = timeout.map(|timeout| tokio::time::Instant::now() + timeout);
    let mut pid = None;
    let mut printed: u64 = 0;
    let mut end = StreamEnd { error: None };
    // The first keepalive comes one interval in: the start event must lead.
    let mut ticker =
        keepalive.map(|every| tokio::time::interval_at(tokio::time::Instant::now() + every, every));
    let mut listening = true;
    loop {
        let next = tokio::select! {
            next = events.next() => next,
            () = until(deadline) => {
                kill(&sandbox, pid).await;
                end.error = Some(RpcError {
                    code: "deadline_exceeded".into(),
                    message: format!(
                        "the command ran past its {} ms timeout and was killed",
                        timeout.map(|t| t.as_millis()).unwrap_or_default()
                    ),
                });
                break;
            }
            () = tick(&mut ticker) => {
                if listening && sender.send(event_frame(ProcessEvent::Keepalive {})).await.is_err() {
                    listening = false;
                }
                continue;
            }
        };
        let frame = match next {
            Ok(Some(SpawnEvent::Started { pid: started })) => {
                pid = Some(started);
                event_frame(ProcessEvent::Start { pid: started })
            }
            Ok(Some(SpawnEvent::Pty(data))) => {
                event_frame(ProcessEvent::Data(DataEvent::Pty(data)))
            }
            Ok(Some(SpawnEvent::Stdout(_) | SpawnEvent::Stderr(_))) if printed >= output_limit => {
                continue;
            }
            Ok(Some(SpawnEvent::Stdout(data))) => {
                printed += decoded_len(&data);
                over_limit(&sandbox, pid, printed, output_limit, &mut end).await;
                event_frame(ProcessEvent::Data(DataEvent::Stdout(data)))
            }
            Ok(Some(SpawnEvent::Stderr(data))) => {
                printed += decoded_len(&data);
                over_limit(&sandbox, pid, printed, output_limit, &mut end).await;
                event_frame(ProcessEvent::Data(DataEvent::Stderr(data)))
            }
            Ok(Some(SpawnEvent::Ended { exit_code, signal })) => {
                let oom = signal == Some(libc::SIGKILL) && sandbox.oom_killed();
                let event = EndEvent {
                    exit_code: if signal.is_some() { -1 } else { exit_code },
                    exited: signal.is_none(),
                    status: match signal {
                        Some(signal) => format!("signal: {}", signal_name(signal)),
                        None => format!("exit status {exit_code}"),
                    },
                    error: oom
                        .then(|| "the command was killed: the sandbox ran out of memory".into()),
                };
                if listening {
                    let _ = sender.send(event_frame(ProcessEvent::End(event))).await;
                }
                break;
            }
            Ok(Some(SpawnEvent::Failed(failure))) => {
                let failure = LinkError::Guest(failure);
                let (code, _) = code_of(&failure);
                end.error = Some(RpcError {
                    code: code.into(),
                    message: failure.to_string(),
                });
                break;
            }
            Ok(None) | Err(_) => {
                end.error.get_or_insert(RpcError {
                    code: "unavailable".into(),
                    message: "the sandbox stopped while the command ran".into(),
                });
                break;
            }
        };
        if listening && sender.send(frame).await.is_err() {
            // The caller left; the command keeps running, as with envd.
            listening = false;
        }
    }
    if listening {
        let _ = sender.send(end_frame(end.error)).await;
    }
}

async fn over_limit(
    sandbox: &SandboxRecord,
    pid: Option<u32>,
    printed: u64,
    limit: u64,
    end: &mut StreamEnd,
) {
    if printed >= limit && end.error.is_none() {
        kill(sandbox, pid).await;
        end.error = Some(RpcError {
            code: "resource_exhausted".into(),
            message: format!(
                "the command printed more than {} MB and was stopped",
                limit >> 20
            ),
        });
    }
}

async fn kill(sandbox: &SandboxRecord, pid: Option<u32>) {
    if let Some(pid) = pid {
        let _ = sandbox
            .link
            .call(&Request::Signal {
                pid,
                signal: libc::SIGKILL,
            })
            .await;
    }
}

fn decoded_len(base64: &str) -> u64 {
    (base64.len() as u64 / 4) * 3
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => "killed",
        libc::SIGTERM => "terminated",
        libc::SIGXCPU => "CPU time limit exceeded",
        libc::SIGXFSZ => "file size limit exceeded",
        libc::SIGSEGV => "segmentation fault",
        libc::SIGINT => "interrupt",
        _ => "signal",
    }
}

async fn until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

async fn tick(ticker: &mut Option<tokio::time::Interval>) {
    match ticker {
        Some(ticker) => {
            ticker.tick().await;
        }
        None => std::future::pending().await,
    }
}
