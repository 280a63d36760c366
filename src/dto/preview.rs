//! Where a version's preview is, as the Preview tab shows it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewView {
    /// `running` (url is set), `asleep` (its sandbox ended or expired: offer "Restart preview"),
    /// `none` (no version yet), or `failed` (reason is set).
    pub state: String,
    pub url: Option<String>,
    pub reason: Option<String>,
    /// Milliseconds until the sandbox ends, when running.
    pub expires_in_ms: Option<i64>,
}

/// The end of a version's app log, as the Preview tab's "Logs" shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppLogView {
    /// `running` (text is the log's end), `asleep` (no sandbox serves the
    /// version), `none` (no version yet) or `failed` (reason is set).
    pub state: String,
    pub text: String,
    pub reason: Option<String>,
}
