//! What the project page works with: its first view, messages, versions,
//! steps and files.

use serde::{Deserialize, Serialize};

/// A project just started: where to go, and the turn building it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedProject {
    pub project: String,
    pub assistant_message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: String,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    /// An assistant's summary as safe HTML (Markdown rendered, raw HTML
    /// escaped, code blocks left out); empty for users' messages, which
    /// are shown as plain text.
    pub html: String,
    /// `pending`, `running`, `done`, `failed` or `cancelled`.
    pub status: String,
    pub error: Option<String>,
    pub model: Option<String>,
    /// Why that model ran the turn: `build`, `quick edit`, `plan` or `ask`.
    pub model_role: Option<String>,
    /// What the message asked for: `build`, `plan` or `ask`.
    pub mode: String,
    /// The plan (its message's id) a "Build this plan" message builds.
    pub plan: Option<String>,
    /// Tokens the answer's turn used, read and written.
    pub tokens: u64,
    pub created: String,
    /// The files a user's message carried, in the order attached.
    pub attachments: Vec<crate::dto::chat::AttachmentView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionView {
    pub id: String,
    /// The assistant message whose turn made it (none for a restore).
    pub message: Option<String>,
    pub version: i64,
    pub title: String,
    pub preview_url: Option<String>,
    pub created: String,
    /// What the project had that the version does not hold, and why.
    pub left_out: Vec<LeftOutView>,
    /// Whether the check before its turn ended passed; `None` when it was
    /// not checked.
    pub check: Option<bool>,
    /// What the check still found, a line each ("main.py:7 — SyntaxError…").
    pub problems: Vec<String>,
}

/// Something a version left out: a path and why, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOutView {
    pub path: String,
    pub reason: String,
}

/// Everything the project page shows at first, newest version first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectPage {
    pub project: crate::dto::projects::ProjectSummary,
    pub messages: Vec<MessageView>,
    pub versions: Vec<VersionView>,
    /// The assistant message of the turn still queued or running, if any.
    pub running: Option<String>,
    /// What that turn did so far, so a reload shows its steps.
    pub running_events: Vec<StepEvent>,
    /// The project's newest event number: the page's event stream starts
    /// after it.
    pub last_seq: i64,
    /// The server's clock when this was read (step times are server times).
    pub now_ms: i64,
    pub usage: crate::dto::usage::UsageView,
    /// The newest version's files (paths and sizes), for the Code tab.
    pub files: Vec<FileEntry>,
    /// The project's app shows changed files by itself (Vite's HMR,
    /// Streamlit's rerun): the preview is never reloaded for them.
    pub hot_reload: bool,
    /// The project's template runs an app process, whose log the Preview
    /// tab shows under "Logs".
    pub has_app: bool,
    /// The end of the app's log, when the newest turn's app did not start.
    pub app_failed: Option<String>,
    /// The project trains a model after each turn (ML model): it offers Retrain.
    pub trains: bool,
    /// Its training runs, newest first, by the chat message that shows each.
    pub training_runs: Vec<TrainingRunView>,
}

/// A training run as the chat shows it under its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingRunView {
    /// The assistant message whose steps show the run.
    pub message: String,
    pub status: String,
    /// The end of the failed step's output.
    pub log_tail: Option<String>,
}

/// One recorded step of a turn and when it happened (unix ms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepEvent {
    /// Its number in the project's event log: a page read again keeps the
    /// live steps newer than what it read.
    pub seq: i64,
    pub at_ms: i64,
    pub event: ollio_domain::TurnEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileView {
    pub path: String,
    pub language: String,
    /// The text, or a binary file's bytes as base64.
    pub content: String,
    pub size: i64,
    pub binary: bool,
}

/// One file of a version, highlighted for the Code tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HighlightedFile {
    pub path: String,
    pub language: String,
    /// One self-contained HTML fragment per source line (escaped text in
    /// `<span class="hl-…">`s); none for an empty file.
    pub lines: Vec<String>,
    /// The file as it is, for Copy; a binary file's bytes as base64.
    pub content: String,
    pub size: i64,
    /// An image, a font, a model: shown as itself or described, not as lines.
    pub binary: bool,
}

/// A file of a version as the Code tab's tree lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub language: String,
    pub size: i64,
    pub binary: bool,
}
