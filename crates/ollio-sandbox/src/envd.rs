//! The client side of envd, the daemon inside a sandbox: files over plain
//! HTTP, the filesystem and process services over Connect-RPC with the JSON
//! codec. `Start` streams, so a command's output is handed on as it arrives.

use std::{collections::BTreeMap, time::Duration};

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use reqwest::{
    header::{HeaderMap, HeaderValue},
    RequestBuilder, Response,
};
use serde::{de::DeserializeOwned, Serialize};

use super::{
    connect::{self, Decoder, Frame},
    error::SandboxError,
    retry::{decode, send_with_retry, Classify, Repeat, RetryPolicy},
    wire::{
        CloseStdinRequest, DataEvent, EntryInfo, EntryResponse, ListDirRequest, ListDirResponse,
        MoveRequest, PathRequest, ProcessConfig, ProcessEvent, ProcessInput, ProcessSelector, Pty,
        PtySize, SendInputRequest, SendSignalRequest, Signal, StartRequest, StartResponse,
        UpdateRequest, WriteInfo, ENVD_PORT,
    },
};

/// The largest single stream message accepted (envd sends output in chunks).
const MAX_FRAME: usize = 16 << 20;
/// Commands get this long unless told otherwise, as in E2B's SDKs.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// envd of one sandbox.
#[derive(Clone)]
pub struct Envd {
    http: reqwest::Client,
    base: String,
    headers: HeaderMap,
    retry: RetryPolicy,
}

/// A command to run through `/bin/bash -l -c`, as the SDKs do.
#[derive(Debug, Clone, Default)]
pub struct Command {
    pub command: String,
    pub envs: BTreeMap<String, String>,
    pub cwd: Option<String>,
    /// Killed after this long; `Some(Duration::ZERO)` means no limit, `None`
    /// the 60-second default.
    pub timeout: Option<Duration>,
    /// Keep stdin open for [`Envd::send_input`].
    pub stdin: bool,
}

impl Command {
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            ..Self::default()
        }
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// What a running command reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandEvent {
    Started {
        pid: u32,
    },
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Exited {
        exit_code: i32,
        error: Option<String>,
    },
}

/// The collected result of a command run to its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandOutput {
    pub pid: u32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
    pub error: Option<String>,
}

impl Envd {
    pub(crate) fn new(
        http: reqwest::Client,
        base: String,
        sandbox_id: &str,
        access_token: Option<&str>,
        retry: RetryPolicy,
    ) -> Self {
        let mut headers = HeaderMap::new();
        if let Ok(id) = HeaderValue::from_str(sandbox_id) {
            headers.insert("E2b-Sandbox-Id", id);
        }
        headers.insert("E2b-Sandbox-Port", HeaderValue::from(ENVD_PORT));
        if let Some(Ok(mut token)) = access_token.map(HeaderValue::from_str) {
            token.set_sensitive(true);
            headers.insert("X-Access-Token", token);
        }
        Self {
            http,
            base,
            headers,
            retry,
        }
    }

    /// `GET /health`: whether envd answers.
    pub async fn health(&self) -> Result<(), SandboxError> {
        self.send(|| self.request(reqwest::Method::GET, "/health"))
            .await?;
        Ok(())
    }

    /// `GET /files`: a whole file's bytes, for files known to be small;
    /// one over [`MAX_WHOLE_READ`] is refused rather than read. Relative
    /// paths are relative to the home directory, `/home/user`.
    pub async fn read_file(&self, path: &str) -> Result<Vec<u8>, SandboxError> {
        let part = self.read_file_head(path, MAX_WHOLE_READ).await?;
        if part.cut {
            return Err(SandboxError::Rejected(format!(
                "{path} is {} bytes, more than the {MAX_WHOLE_READ} read at once",
                part.size
            )));
        }
        Ok(part.bytes)
    }

    /// A file's first `max` bytes and its size. The file streams in and
    /// the read stops at `max`: the rest is never sent or held, however
    /// large the file is.
    pub async fn read_file_head(&self, path: &str, max: usize) -> Result<FilePart, SandboxError> {
        let mut response = self.open_file(path).await?;
        let length = response.content_length();
        let mut bytes = Vec::with_capacity(length.map_or(0, |n| n.min(max as u64) as usize));
        let mut cut = false;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| SandboxError::from_transport(&error))?
        {
            let room = max - bytes.len();
            if chunk.len() > room {
                bytes.extend_from_slice(&chunk[..room]);
                cut = true;
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        // Dropping the response mid-body closes the connection.
        let size = length.unwrap_or(bytes.len() as u64 + u64::from(cut));
        Ok(FilePart { bytes, size, cut })
    }

    /// A file's last `max` bytes (a log's end) and its size. Memory stays
    /// within twice `max` while the file streams past.
    pub async fn read_file_tail(&self, path: &str, max: usize) -> Result<FilePart, SandboxError> {
        let mut response = self.open_file(path).await?;
        let mut kept: Vec<u8> = Vec::new();
        let mut size = 0u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| SandboxError::from_transport(&error))?
        {
            size += chunk.len() as u64;
            kept.extend_from_slice(&chunk);
            if kept.len() > max.saturating_mul(2).max(64 << 10) {
                kept.drain(..kept.len() - max);
            }
        }
        let cut = kept.len() > max;
        if cut {
            kept.drain(..kept.len() - max);
        }
        Ok(FilePart {
            bytes: kept,
            size,
            cut: cut || size > max as u64,
        })
    }

    async fn open_file(&self, path: &str) -> Result<Response, SandboxError> {
        self.send(|| {
            self.bounded(reqwest::Method::GET, "/files")
                .query(&[("path", path)])
        })
        .await
    }

    /// `POST /files` (multipart, one part named `file` per file, its file
    /// name the path): writes files, creating folders as needed.
    pub async fn write_files(
        &self,
        files: &[(String, Vec<u8>)],
    ) -> Result<Vec<WriteInfo>, SandboxError> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let build = || {
            let form = files
                .iter()
                .fold(reqwest::multipart::Form::new(), |form, (path, bytes)| {
                    let part = reqwest::multipart::Part::bytes(bytes.clone())
                        .file_name(path.clone())
                        .mime_str("application/octet-stream")
                        .unwrap_or_else(|_| reqwest::multipart::Part::bytes(bytes.clone()));
                    form.part("file", part)
                });
            let builder = self
                .bounded(reqwest::Method::POST, "/files")
                .multipart(form);
            match files {
                [(path, _)] => builder.query(&[("path", path)]),
                _ => builder,
            }
        };
        decode(self.send(build).await?).await
    }

    pub async fn write_file(&self, path: &str, bytes: &[u8]) -> Result<WriteInfo, SandboxError> {
        self.write_files(&[(path.to_owned(), bytes.to_vec())])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| SandboxError::Protocol("no file was reported written".into()))
    }

    /// `filesystem.Filesystem/ListDir`, `depth` levels deep (1: the folder's
    /// own entries).
    pub async fn list_dir(&self, path: &str, depth: u32) -> Result<Vec<EntryInfo>, SandboxError> {
        let request = ListDirRequest {
            path: path.to_owned(),
            depth: depth.max(1),
        };
        let response: ListDirResponse = self
            .unary("filesystem.Filesystem/ListDir", &request)
            .await?;
        Ok(response.entries)
    }

    pub async fn stat(&self, path: &str) -> Result<EntryInfo, SandboxError> {
        let response: EntryResponse = self
            .unary(
                "filesystem.Filesystem/Stat",
                &PathRequest { path: path.into() },
            )
            .await?;
        Ok(response.entry)
    }

    /// Creates a folder and its parents. An existing one is an `already_exists` error.
    pub async fn make_dir(&self, path: &str) -> Result<EntryInfo, SandboxError> {
        let response: EntryResponse = self
            .unary(
                "filesystem.Filesystem/MakeDir",
                &PathRequest { path: path.into() },
            )
            .await?;
        Ok(response.entry)
    }

    /// Removes a file, or a folder with everything in it.
    pub async fn remove(&self, path: &str) -> Result<(), SandboxError> {
        let _: serde_json::Value = self
            .unary(
                "filesystem.Filesystem/Remove",
                &PathRequest { path: path.into() },
            )
            .await?;
        Ok(())
    }

    pub async fn rename(&self, source: &str, destination: &str) -> Result<EntryInfo, SandboxError> {
        let request = MoveRequest {
            source: source.into(),
            destination: destination.into(),
        };
        let response: EntryResponse = self
            .unary_with("filesystem.Filesystem/Move", &request, Repeat::IfUnsent)
            .await?;
        Ok(response.entry)
    }

    pub async fn send_signal(&self, pid: u32, signal: Signal) -> Result<(), SandboxError> {
        let request = SendSignalRequest {
            process: ProcessSelector::Pid(pid),
            signal,
        };
        let _: serde_json::Value = self.unary("process.Process/SendSignal", &request).await?;
        Ok(())
    }

    /// Writes to the stdin of a command started with `stdin: true`.
    pub async fn send_input(&self, pid: u32, bytes: &[u8]) -> Result<(), SandboxError> {
        let request = SendInputRequest {
            process: ProcessSelector::Pid(pid),
            input: ProcessInput::Stdin(BASE64.encode(bytes)),
        };
        let _: serde_json::Value = self
            .unary_with("process.Process/SendInput", &request, Repeat::IfUnsent)
            .await?;
        Ok(())
    }

    pub async fn close_stdin(&self, pid: u32) -> Result<(), SandboxError> {
        let request = CloseStdinRequest {
            process: ProcessSelector::Pid(pid),
        };
        let _: serde_json::Value = self.unary("process.Process/CloseStdin", &request).await?;
        Ok(())
    }

    /// A terminal: an interactive login bash on a pty of `size`, in `cwd`,
    /// with no time limit. Everything it draws comes as
    /// [`CommandEvent::Stdout`]; type into it with
    /// [`Envd::send_terminal_input`], resize it with [`Envd::resize_terminal`].
    pub async fn start_terminal(
        &self,
        size: PtySize,
        cwd: Option<&str>,
    ) -> Result<CommandStream, SandboxError> {
        let request = StartRequest {
            process: ProcessConfig {
                cmd: "/bin/bash".into(),
                args: vec!["-i".into(), "-l".into()],
                envs: [("TERM", "xterm-256color"), ("COLORTERM", "truecolor")]
                    .into_iter()
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect(),
                cwd: cwd.map(str::to_owned),
            },
            tag: None,
            stdin: None,
            pty: Some(Pty { size }),
        };
        self.start_request(&request, Duration::ZERO, true).await
    }

    /// Types `bytes` into a terminal.
    pub async fn send_terminal_input(&self, pid: u32, bytes: &[u8]) -> Result<(), SandboxError> {
        let request = SendInputRequest {
            process: ProcessSelector::Pid(pid),
            input: ProcessInput::Pty(BASE64.encode(bytes)),
        };
        let _: serde_json::Value = self
            .unary_with("process.Process/SendInput", &request, Repeat::IfUnsent)
            .await?;
        Ok(())
    }

    /// A terminal's new size (the program in it gets SIGWINCH).
    pub async fn resize_terminal(&self, pid: u32, size: PtySize) -> Result<(), SandboxError> {
        let request = UpdateRequest {
            process: ProcessSelector::Pid(pid),
            pty: Some(Pty { size }),
        };
        let _: serde_json::Value = self.unary("process.Process/Update", &request).await?;
        Ok(())
    }

    /// `process.Process/Start`: starts a command and streams what it does.
    pub async fn start(&self, command: &Command) -> Result<CommandStream, SandboxError> {
        let timeout = command.timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT);
        let request = StartRequest {
            process: ProcessConfig {
                cmd: "/bin/bash".into(),
                args: vec!["-l".into(), "-c".into(), command.command.clone()],
                envs: command.envs.clone(),
                cwd: command.cwd.clone(),
            },
            tag: None,
            stdin: Some(command.stdin),
            pty: None,
        };
        self.start_request(&request, timeout, false).await
    }

    /// Starts `request`, killed after `timeout` (zero: never); `keepalive`
    /// asks for pings, so a quiet stream (a terminal) stays open.
    async fn start_request(
        &self,
        request: &StartRequest,
        timeout: Duration,
        keepalive: bool,
    ) -> Result<CommandStream, SandboxError> {
        let body = serde_json::to_vec(request)
            .map_err(|error| SandboxError::Protocol(error.to_string()))?;
        let envelope = connect::encode(0, &body);
        let build = || {
            let builder = self
                .request(reqwest::Method::POST, "/process.Process/Start")
                .header("Content-Type", "application/connect+json")
                .header("Connect-Protocol-Version", "1")
                .body(envelope.clone());
            let builder = if keepalive {
                builder.header("Keepalive-Ping-Interval", "30")
            } else {
                builder
            };
            if timeout.is_zero() {
                builder
            } else {
                builder.header("Connect-Timeout-Ms", timeout.as_millis().to_string())
            }
        };
        let response = send_with_retry(self.retry, build, Classify::Envd, Repeat::IfUnsent).await?;
        // A little longer than the server's own deadline, so that its
        // `deadline_exceeded` arrives before we give up on a silent server.
        let deadline = (!timeout.is_zero())
            .then(|| tokio::time::Instant::now() + timeout + Duration::from_secs(5));
        Ok(CommandStream {
            response,
            decoder: Decoder::new(MAX_FRAME),
            deadline,
            done: false,
        })
    }

    /// Runs a command to its end, calling `on_output` with every chunk as it
    /// arrives (`true` for stderr).
    pub async fn run(
        &self,
        command: &Command,
        mut on_output: impl FnMut(bool, &[u8]),
    ) -> Result<CommandOutput, SandboxError> {
        let mut stream = self.start(command).await?;
        let mut output = CommandOutput::default();
        while let Some(event) = stream.next().await? {
            match event {
                CommandEvent::Started { pid } => output.pid = pid,
                CommandEvent::Stdout(bytes) => {
                    on_output(false, &bytes);
                    output.stdout.extend(bytes);
                }
                CommandEvent::Stderr(bytes) => {
                    on_output(true, &bytes);
                    output.stderr.extend(bytes);
                }
                CommandEvent::Exited { exit_code, error } => {
                    output.exit_code = exit_code;
                    output.error = error;
                }
            }
        }
        Ok(output)
    }

    async fn unary<Req: Serialize, Res: DeserializeOwned>(
        &self,
        method: &str,
        request: &Req,
    ) -> Result<Res, SandboxError> {
        self.unary_with(method, request, Repeat::Always).await
    }

    async fn unary_with<Req: Serialize, Res: DeserializeOwned>(
        &self,
        method: &str,
        request: &Req,
        repeat: Repeat,
    ) -> Result<Res, SandboxError> {
        let path = format!("/{method}");
        let build = || {
            self.bounded(reqwest::Method::POST, &path)
                .header("Connect-Protocol-Version", "1")
                .json(request)
        };
        decode(send_with_retry(self.retry, build, Classify::Envd, repeat).await?).await
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .headers(self.headers.clone())
    }

    /// A request with the per-try timeout; streams (`Start`) go without.
    fn bounded(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.request(method, path)
            .timeout(self.retry.request_timeout)
    }

    async fn send(&self, build: impl Fn() -> RequestBuilder) -> Result<Response, SandboxError> {
        send_with_retry(self.retry, build, Classify::Envd, Repeat::Always).await
    }
}

/// The most [`Envd::read_file`] reads; larger files need a capped read.
pub const MAX_WHOLE_READ: usize = 16 << 20;

/// Part of a file, from a capped read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    pub bytes: Vec<u8>,
    /// The whole file's size in bytes.
    pub size: u64,
    /// Whether `bytes` is less than the whole file.
    pub cut: bool,
}

/// The events of a started command, read as they arrive.
pub struct CommandStream {
    response: Response,
    decoder: Decoder,
    deadline: Option<tokio::time::Instant>,
    done: bool,
}

impl CommandStream {
    /// The next event; `None` once the command has ended and the stream closed.
    /// Keepalive messages are skipped.
    pub async fn next(&mut self) -> Result<Option<CommandEvent>, SandboxError> {
        loop {
            if self.done {
                return Ok(None);
            }
            match self.decoder.next_frame() {
                Err(error) => return Err(SandboxError::Protocol(error.to_string())),
                Ok(Some(Frame::End(None))) => {
                    self.done = true;
                    return Ok(None);
                }
                Ok(Some(Frame::End(Some(error)))) => {
                    self.done = true;
                    return Err(SandboxError::Rpc {
                        code: error.code,
                        message: error.message,
                    });
                }
                Ok(Some(Frame::Message(payload))) => {
                    if let Some(event) = parse_event(&payload)? {
                        return Ok(Some(event));
                    }
                    continue;
                }
                Ok(None) => {}
            }
            let chunk = match self.deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, self.response.chunk())
                    .await
                    .map_err(|_| SandboxError::Timeout)?,
                None => self.response.chunk().await,
            };
            match chunk.map_err(|error| SandboxError::from_transport(&error))? {
                Some(bytes) => self.decoder.push(&bytes),
                None => {
                    self.decoder
                        .finish()
                        .map_err(|error| SandboxError::Protocol(error.to_string()))?;
                    return Err(SandboxError::Protocol(
                        "the command stream ended without an end-of-stream message".into(),
                    ));
                }
            }
        }
    }
}

fn parse_event(payload: &[u8]) -> Result<Option<CommandEvent>, SandboxError> {
    let message: StartResponse = serde_json::from_slice(payload)
        .map_err(|error| SandboxError::Protocol(format!("a process event: {error}")))?;
    let bytes = |text: &str| {
        BASE64
            .decode(text)
            .map_err(|error| SandboxError::Protocol(format!("process output: {error}")))
    };
    Ok(match message.event {
        ProcessEvent::Start { pid } => Some(CommandEvent::Started { pid }),
        // A terminal's screen is its one output.
        ProcessEvent::Data(DataEvent::Stdout(text) | DataEvent::Pty(text)) => {
            Some(CommandEvent::Stdout(bytes(&text)?))
        }
        ProcessEvent::Data(DataEvent::Stderr(text)) => Some(CommandEvent::Stderr(bytes(&text)?)),
        ProcessEvent::End(end) => Some(CommandEvent::Exited {
            exit_code: end.exit_code,
            error: end.error,
        }),
        ProcessEvent::Keepalive {} => None,
    })
}
