//! The five tools the model works with, a contract other parts rely on:
//! `write_files {files: [{path, content}]}`, `edit_file {path, edits:
//! [{old, new}]}`, `read_files {paths}`, `list_files {path}` and `terminal
//! {command, timeout_ms?}`. Paths are
//! relative to the project root, `/home/user` in the sandbox; absolute paths
//! and `..` that leave it are refused with an error the model sees, as are
//! malformed arguments.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{
    chat::ToolSpec,
    edit_file::{self, Edit},
    listing,
};
use ollio_domain::TurnEvent;
use ollio_sandbox::{wire::Signal, Command, CommandEvent, CommandOutput, Envd, SandboxError};

pub const WRITE_FILES: &str = "write_files";
pub const EDIT_FILE: &str = "edit_file";
pub const READ_FILES: &str = "read_files";
pub const LIST_FILES: &str = "list_files";
pub const TERMINAL: &str = "terminal";

/// The project root inside the sandbox.
pub const PROJECT_ROOT: &str = "/home/user";
/// What a command's output may take in the model's context; the head and
/// the tail are kept.
pub const MAX_OUTPUT: usize = 12 * 1024;
/// What one file read may take in the model's context.
pub const MAX_READ: usize = 64 * 1024;
/// What all the files of one `read_files` call may take together.
pub const MAX_READ_CALL: usize = 256 * 1024;
const DEFAULT_TIMEOUT_MS: u64 = 60_000;
const MAX_TIMEOUT_MS: u64 = 10 * 60_000;

/// The tools as the model is offered them.
pub fn specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: WRITE_FILES.into(),
            description: "Create or overwrite files in the project, each with its whole content."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "files": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "path": { "type": "string", "description": "Relative to the project root" },
                                "content": { "type": "string" }
                            },
                            "required": ["path", "content"]
                        }
                    }
                },
                "required": ["files"]
            }),
        },
        ToolSpec {
            name: EDIT_FILE.into(),
            description: "Change part of an existing file: each `old` is replaced by its `new`, in \
order. Each `old` must be the file's exact text (spaces and line breaks included) and occur exactly \
once; include a few surrounding lines to make it unique. Prefer this to rewriting a file whole."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "path": { "type": "string", "description": "Relative to the project root" },
                    "edits": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "old": { "type": "string", "description": "The exact text to replace" },
                                "new": { "type": "string", "description": "What it becomes" }
                            },
                            "required": ["old", "new"]
                        }
                    }
                },
                "required": ["path", "edits"]
            }),
        },
        ToolSpec {
            name: READ_FILES.into(),
            description: "Read files of the project.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "paths": { "type": "array", "items": { "type": "string" } }
                },
                "required": ["paths"]
            }),
        },
        ToolSpec {
            name: LIST_FILES.into(),
            description: "List the files under a folder of the project.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "path": { "type": "string", "default": "." }
                }
            }),
        },
        ToolSpec {
            name: TERMINAL.into(),
            description:
                "Run a shell command in the project root and get its output and exit code.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "command": { "type": "string" },
                    "timeout_ms": { "type": "integer", "minimum": 1 }
                },
                "required": ["command"]
            }),
        },
    ]
}

/// The tools of a turn that only reads (Plan, Ask).
pub fn read_only_specs() -> Vec<ToolSpec> {
    specs()
        .into_iter()
        .filter(|spec| spec.name == READ_FILES || spec.name == LIST_FILES)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FileArg {
    pub path: String,
    pub content: String,
}

/// A tool call with its arguments checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolCallArgs {
    WriteFiles(Vec<FileArg>),
    EditFile { path: String, edits: Vec<Edit> },
    ReadFiles(Vec<String>),
    ListFiles(String),
    Terminal { command: String, timeout_ms: u64 },
}

impl ToolCallArgs {
    /// Whether the call leaves the project as it was.
    pub fn reads_only(&self) -> bool {
        matches!(self, Self::ReadFiles(_) | Self::ListFiles(_))
    }
}

/// Why a tool call did not run; the model is told exactly this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ToolError(pub String);

impl ToolError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Parses a call's raw arguments, naming what is wrong when they are not
/// what the tool takes.
pub fn parse_call(name: &str, arguments: &str) -> Result<ToolCallArgs, ToolError> {
    let arguments = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    let value: serde_json::Value = serde_json::from_str(arguments).map_err(|error| {
        ToolError::new(format!(
            "the arguments of {name} are not valid JSON ({error}); send one JSON object"
        ))
    })?;
    let wrong = |error: serde_json::Error| {
        ToolError::new(format!(
            "the arguments of {name} do not fit its schema: {error}"
        ))
    };
    match name {
        WRITE_FILES => {
            #[derive(Deserialize)]
            struct Args {
                files: Vec<FileArg>,
            }
            let args: Args = serde_json::from_value(value).map_err(wrong)?;
            if args.files.is_empty() {
                return Err(ToolError::new("write_files needs at least one file"));
            }
            let files = args
                .files
                .into_iter()
                .map(|file| {
                    Ok(FileArg {
                        path: project_path(&file.path)?,
                        content: file.content,
                    })
                })
                .collect::<Result<_, ToolError>>()?;
            Ok(ToolCallArgs::WriteFiles(files))
        }
        EDIT_FILE => {
            #[derive(Deserialize)]
            struct Args {
                path: String,
                edits: Vec<Edit>,
            }
            let args: Args = serde_json::from_value(value).map_err(wrong)?;
            if args.edits.is_empty() {
                return Err(ToolError::new("edit_file needs at least one edit"));
            }
            Ok(ToolCallArgs::EditFile {
                path: project_path(&args.path)?,
                edits: args.edits,
            })
        }
        READ_FILES => {
            #[derive(Deserialize)]
            struct Args {
                paths: Vec<String>,
            }
            let args: Args = serde_json::from_value(value).map_err(wrong)?;
            if args.paths.is_empty() {
                return Err(ToolError::new("read_files needs at least one path"));
            }
            let paths = args
                .paths
                .iter()
                .map(|path| project_path(path))
                .collect::<Result<_, _>>()?;
            Ok(ToolCallArgs::ReadFiles(paths))
        }
        LIST_FILES => {
            #[derive(Deserialize)]
            struct Args {
                #[serde(default)]
                path: Option<String>,
            }
            let args: Args = serde_json::from_value(value).map_err(wrong)?;
            let path = args.path.unwrap_or_else(|| ".".into());
            Ok(ToolCallArgs::ListFiles(folder_path(&path)?))
        }
        TERMINAL => {
            #[derive(Deserialize)]
            struct Args {
                command: String,
                #[serde(default)]
                timeout_ms: Option<u64>,
            }
            let args: Args = serde_json::from_value(value).map_err(wrong)?;
            if args.command.trim().is_empty() {
                return Err(ToolError::new("terminal needs a command"));
            }
            Ok(ToolCallArgs::Terminal {
                command: args.command,
                timeout_ms: args
                    .timeout_ms
                    .unwrap_or(DEFAULT_TIMEOUT_MS)
                    .clamp(1, MAX_TIMEOUT_MS),
            })
        }
        other => Err(ToolError::new(format!(
            "there is no tool named {other}; the tools are {WRITE_FILES}, {EDIT_FILE}, {READ_FILES}, {LIST_FILES} and {TERMINAL}"
        ))),
    }
}

/// A file's path relative to the project root, normalised (`a/./b` is
/// `a/b`); absolute paths and `..` that leave the root are refused.
pub fn project_path(raw: &str) -> Result<String, ToolError> {
    let path = folder_path(raw)?;
    if path.is_empty() {
        return Err(ToolError::new(format!("{raw:?} is a folder, not a file")));
    }
    Ok(path)
}

/// Like [`project_path`], but the root itself (`.`, empty) is allowed: `""`.
fn folder_path(raw: &str) -> Result<String, ToolError> {
    let trimmed = raw.trim();
    if trimmed.starts_with('/') || trimmed.starts_with('~') || trimmed.contains('\\') {
        return Err(ToolError::new(format!(
            "{raw:?} is not allowed: paths are relative to the project root (no leading / or ~)"
        )));
    }
    if trimmed.contains('\0') {
        return Err(ToolError::new("paths cannot contain NUL characters"));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in trimmed.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(ToolError::new(format!(
                        "{raw:?} leaves the project root, which is not allowed"
                    )));
                }
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// Where a project path is in the sandbox.
pub fn in_sandbox(path: &str) -> String {
    if path.is_empty() {
        PROJECT_ROOT.to_owned()
    } else {
        format!("{PROJECT_ROOT}/{path}")
    }
}

/// `text` cut to at most about `max` bytes, keeping its head and its tail.
pub fn keep_head_and_tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut head = max / 3;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - (max - max / 3);
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{}\n… [{} bytes cut] …\n{}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
}

/// Where a turn's steps go as they happen (recorded and streamed in order).
pub type EventSink = tokio::sync::mpsc::UnboundedSender<TurnEvent>;

/// Runs checked tool calls against a sandbox's envd, reporting each step.
pub struct ToolRunner<'a> {
    pub envd: &'a Envd,
    pub events: &'a EventSink,
    /// Cancelled when the turn stops: a running command is then killed.
    pub stop: CancellationToken,
}

impl ToolRunner<'_> {
    /// Runs one call; the result (or the error) is what the model reads.
    pub async fn run(&self, call: ToolCallArgs) -> Result<String, ToolError> {
        match call {
            ToolCallArgs::WriteFiles(files) => self.write_files(files).await,
            ToolCallArgs::EditFile { path, edits } => self.edit_file(&path, &edits).await,
            ToolCallArgs::ReadFiles(paths) => self.read_files(paths).await,
            ToolCallArgs::ListFiles(path) => self.list_files(&path).await,
            ToolCallArgs::Terminal {
                command,
                timeout_ms,
            } => self.terminal(&command, timeout_ms).await,
        }
    }

    fn emit(&self, event: TurnEvent) {
        let _ = self.events.send(event);
    }

    async fn write_files(&self, files: Vec<FileArg>) -> Result<String, ToolError> {
        let upload: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|file| (in_sandbox(&file.path), file.content.clone().into_bytes()))
            .collect();
        self.envd
            .write_files(&upload)
            .await
            .map_err(|error| sandbox_error("writing the files", &error))?;
        let mut report = format!("Wrote {} file(s):", files.len());
        for file in &files {
            let size = file.content.len() as u64;
            self.emit(TurnEvent::FileWritten {
                path: file.path.clone(),
                size,
            });
            report.push_str(&format!("\n- {} ({size} bytes)", file.path));
        }
        Ok(report)
    }

    /// Reads the file, applies every edit or none, writes it back and
    /// reports the change as a diff.
    async fn edit_file(&self, path: &str, edits: &[Edit]) -> Result<String, ToolError> {
        let at = in_sandbox(path);
        let part = match self.envd.read_file_head(&at, edit_file::MAX_FILE + 1).await {
            Ok(part) => part,
            Err(SandboxError::Missing(_)) => {
                return Err(ToolError::new(format!(
                    "{path} does not exist; create it with {WRITE_FILES}"
                )))
            }
            Err(error) => return Err(sandbox_error("reading the file", &error)),
        };
        if part.bytes.len() > edit_file::MAX_FILE {
            return Err(ToolError::new(format!(
                "{path} is larger than {} bytes; write it whole with {WRITE_FILES}",
                edit_file::MAX_FILE
            )));
        }
        let Ok(before) = String::from_utf8(part.bytes) else {
            return Err(ToolError::new(format!(
                "{path} is not text; write it whole with {WRITE_FILES}"
            )));
        };
        let after = edit_file::apply(path, &before, edits).map_err(ToolError::new)?;
        self.envd
            .write_file(&at, after.as_bytes())
            .await
            .map_err(|error| sandbox_error("writing the file", &error))?;
        let (diff, added, removed) = edit_file::diff(path, &before, &after);
        self.emit(TurnEvent::FileEdited {
            path: path.to_owned(),
            added,
            removed,
            diff,
        });
        Ok(format!(
            "Edited {path}: {} edit(s), +{added} −{removed} lines ({} bytes now)",
            edits.len(),
            after.len()
        ))
    }

    /// Each file's first [`MAX_READ`] bytes, [`MAX_READ_CALL`] in all: the
    /// sandbox streams each file and the read stops at its cap, so even a
    /// huge file costs the server only what is kept.
    async fn read_files(&self, paths: Vec<String>) -> Result<String, ToolError> {
        let mut report = String::new();
        let mut left = MAX_READ_CALL;
        for path in paths {
            if left == 0 {
                report.push_str(&format!(
                    "=== {path} ===\n(not read: this call already returned {} KB; read it in another call)\n",
                    MAX_READ_CALL / 1024
                ));
                continue;
            }
            let cap = left.min(MAX_READ);
            match self.envd.read_file_head(&in_sandbox(&path), cap).await {
                Ok(part) => {
                    left -= part.bytes.len();
                    let text = String::from_utf8_lossy(&part.bytes);
                    report.push_str(&format!("=== {path} ===\n{text}\n"));
                    if part.cut {
                        report.push_str(&format!(
                            "(cut: the file is {} bytes; these are its first {})\n",
                            part.size,
                            part.bytes.len()
                        ));
                    }
                }
                Err(SandboxError::Missing(_)) => {
                    report.push_str(&format!("=== {path} ===\n(no such file)\n"));
                }
                Err(error) => return Err(sandbox_error(&format!("reading {path}"), &error)),
            }
        }
        Ok(report)
    }

    async fn list_files(&self, path: &str) -> Result<String, ToolError> {
        let folder = path.trim().trim_matches('/');
        let entries = match listing::list(self.envd, folder, 6).await {
            Ok(entries) => entries,
            Err(SandboxError::Missing(_)) => {
                return Err(ToolError::new(format!("there is no folder {path:?}")))
            }
            Err(error) => return Err(sandbox_error("listing files", &error)),
        };
        let prefix = if folder.is_empty() {
            String::new()
        } else {
            format!("{folder}/")
        };
        let lines: Vec<String> = entries
            .iter()
            .map(|entry| match entry.kind {
                listing::Kind::Dir => format!("{prefix}{}/", entry.path),
                listing::Kind::Pruned => format!("{prefix}{}/ (not listed)", entry.path),
                _ => format!("{prefix}{} ({} bytes)", entry.path, entry.size),
            })
            .collect();
        if lines.is_empty() {
            return Ok("(no files)".into());
        }
        Ok(lines.join("\n"))
    }

    async fn terminal(&self, command: &str, timeout_ms: u64) -> Result<String, ToolError> {
        self.emit(TurnEvent::CommandStarted {
            command: command.to_owned(),
        });
        // Bounded while it streams: the head stays, the middle goes.
        let mut output: Vec<u8> = Vec::new();
        let mut cut = 0usize;
        let run = self
            .stream_command(command, timeout_ms, |stderr, bytes| {
                output.extend_from_slice(bytes);
                if output.len() > 4 * MAX_OUTPUT {
                    let end = output.len() - MAX_OUTPUT;
                    cut += end - MAX_OUTPUT;
                    output.drain(MAX_OUTPUT..end);
                }
                let text = String::from_utf8_lossy(bytes).into_owned();
                let _ = self.events.send(TurnEvent::Output { stderr, text });
            })
            .await;
        match run {
            Ok(result) => {
                self.emit(TurnEvent::CommandExited {
                    exit_code: result.exit_code,
                });
                let mut report = format!("exit code: {}\n", result.exit_code);
                if let Some(error) = result.error.filter(|error| !error.is_empty()) {
                    report.push_str(&format!("error: {error}\n"));
                }
                report.push_str(&keep_head_and_tail(
                    &String::from_utf8_lossy(&output),
                    MAX_OUTPUT,
                ));
                if cut > 0 {
                    report.push_str(&format!("\n({cut} more bytes of output were cut)"));
                }
                Ok(report)
            }
            Err(error) => {
                self.emit(TurnEvent::CommandExited { exit_code: -1 });
                Err(sandbox_error("running the command", &error))
            }
        }
    }
}

impl ToolRunner<'_> {
    /// Runs a command to its end. When the turn stops, the command is
    /// killed as soon as its process is known (even if the stop came while
    /// it was starting), so a stopped turn leaves nothing of its own running.
    pub(crate) async fn stream_command(
        &self,
        command: &str,
        timeout_ms: u64,
        mut on_output: impl FnMut(bool, &[u8]),
    ) -> Result<CommandOutput, SandboxError> {
        let mut stream = self
            .envd
            .start(&Command::new(command).timeout(Duration::from_millis(timeout_ms)))
            .await?;
        let mut result = CommandOutput::default();
        let mut pid = None;
        let mut killed = false;
        loop {
            let stopping = self.stop.is_cancelled();
            if stopping && !killed {
                if let Some(pid) = pid {
                    killed = true;
                    self.envd.send_signal(pid, Signal::Kill).await.ok();
                }
            }
            let event = tokio::select! {
                event = stream.next() => event?,
                () = self.stop.cancelled(), if !stopping => continue,
            };
            match event {
                Some(CommandEvent::Started { pid: started }) => {
                    result.pid = started;
                    pid = Some(started);
                }
                Some(CommandEvent::Stdout(bytes)) => on_output(false, &bytes),
                Some(CommandEvent::Stderr(bytes)) => on_output(true, &bytes),
                Some(CommandEvent::Exited { exit_code, error }) => {
                    result.exit_code = exit_code;
                    result.error = error;
                }
                None => return Ok(result),
            }
        }
    }
}

fn sandbox_error(doing: &str, error: &SandboxError) -> ToolError {
    ToolError::new(format!("{doing} failed: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tools_are_exactly_the_contract() {
        let names: Vec<String> = specs().into_iter().map(|spec| spec.name).collect();
        assert_eq!(
            names,
            [
                "write_files",
                "edit_file",
                "read_files",
                "list_files",
                "terminal"
            ]
        );
        let specs = specs();
        assert_eq!(specs[0].parameters["required"], json!(["files"]));
        assert_eq!(
            specs[0].parameters["properties"]["files"]["items"]["required"],
            json!(["path", "content"])
        );
        assert_eq!(specs[1].parameters["required"], json!(["path", "edits"]));
        assert_eq!(
            specs[1].parameters["properties"]["edits"]["items"]["required"],
            json!(["old", "new"])
        );
        assert_eq!(specs[2].parameters["required"], json!(["paths"]));
        assert_eq!(specs[3].parameters["properties"]["path"]["default"], ".");
        assert_eq!(specs[4].parameters["required"], json!(["command"]));
        assert_eq!(
            specs[4].parameters["properties"]["timeout_ms"]["type"],
            "integer"
        );
        // edit_file's arguments are checked like the others'.
        assert_eq!(
            parse_call(
                EDIT_FILE,
                r#"{"path": "./a.js", "edits": [{"old": "x", "new": "y"}]}"#
            ),
            Ok(ToolCallArgs::EditFile {
                path: "a.js".into(),
                edits: vec![Edit {
                    old: "x".into(),
                    new: "y".into()
                }]
            })
        );
        assert!(parse_call(EDIT_FILE, r#"{"path": "a.js", "edits": []}"#).is_err());
        assert!(parse_call(
            EDIT_FILE,
            r#"{"path": "../a.js", "edits": [{"old": "x", "new": "y"}]}"#
        )
        .is_err());
    }

    #[test]
    fn paths_stay_in_the_project() {
        assert_eq!(project_path("src/./App.tsx").unwrap(), "src/App.tsx");
        assert_eq!(project_path("a/../b.txt").unwrap(), "b.txt");
        for refused in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "~/x",
            "",
            ".",
            "/home/user/x",
        ] {
            let error = project_path(refused).unwrap_err();
            assert!(!error.0.is_empty(), "{refused}");
        }
        assert!(project_path("../secret")
            .unwrap_err()
            .0
            .contains("leaves the project root"));
    }

    #[test]
    fn malformed_arguments_are_explained() {
        let error = parse_call(WRITE_FILES, "{\"files\": [{\"path\": \"a\"").unwrap_err();
        assert!(error.0.contains("not valid JSON"), "{error}");
        let error = parse_call(WRITE_FILES, "{\"files\": [{\"path\": \"a\"}]}").unwrap_err();
        assert!(error.0.contains("content"), "{error}");
        let error = parse_call("rm_rf", "{}").unwrap_err();
        assert!(error.0.contains("no tool named rm_rf"), "{error}");
        assert_eq!(
            parse_call(LIST_FILES, "").unwrap(),
            ToolCallArgs::ListFiles(String::new())
        );
        assert_eq!(
            parse_call(TERMINAL, r#"{"command":"ls","timeout_ms":99999999}"#).unwrap(),
            ToolCallArgs::Terminal {
                command: "ls".into(),
                timeout_ms: MAX_TIMEOUT_MS
            }
        );
    }

    #[test]
    fn long_output_keeps_head_and_tail() {
        let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        let kept = keep_head_and_tail(&text, 1000);
        assert!(kept.len() < 1100);
        assert!(kept.starts_with("line 0\n"));
        assert!(kept.ends_with("line 4999\n"));
        assert!(kept.contains("bytes cut"));
        assert_eq!(keep_head_and_tail("short", 1000), "short");
        let wide = "é".repeat(1000);
        assert!(keep_head_and_tail(&wide, 101).contains("bytes cut"));
    }
}
