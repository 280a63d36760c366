//! What can go wrong talking to a sandbox backend, in the terms the rest of
//! Ollio acts on: a bad key, a sandbox that is gone, being rate limited, the
//! backend being down, or a command-level failure reported by envd.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox service refused the API key (E2B_API_KEY)")]
    Unauthorized,
    #[error("the sandbox has expired or does not exist")]
    NotFound,
    #[error("the path or process does not exist in the sandbox: {0}")]
    Missing(String),
    #[error("the sandbox service is rate limiting requests; retry in {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error("the sandbox service is unavailable: {0}")]
    Unavailable(String),
    #[error("the sandbox service did not answer in time")]
    Timeout,
    #[error("the sandbox service refused the request: {0}")]
    Rejected(String),
    /// An error envd reported for a call (Connect error code and message).
    #[error("{code}: {message}")]
    Rpc { code: String, message: String },
    #[error("the sandbox service answered something unexpected: {0}")]
    Protocol(String),
}

impl SandboxError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Unavailable(_) | Self::Timeout
        )
    }

    pub(crate) fn from_transport(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            Self::Timeout
        } else {
            Self::Unavailable(describe(error))
        }
    }
}

/// A transport error with its causes, one line.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
