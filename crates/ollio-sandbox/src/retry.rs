//! Retrying the sandbox API's calls: which failures are worth another try
//! (429 with its `Retry-After`, 5xx, timeouts, refused connections), how
//! long to wait, and what each error answer means. Shared by the control
//! plane (`client`) and envd (`envd`).

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use super::error::SandboxError;

/// How often and how patiently transient failures (429, 5xx, timeouts,
/// refused connections) are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    pub base_delay: Duration,
    /// No single wait is longer, whatever `Retry-After` asks for.
    pub max_delay: Duration,
    /// How long one try of a non-streaming call may take.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        self.base_delay
            .saturating_mul(1 << attempt.min(10))
            .min(self.max_delay)
    }
}

/// Which API answered, because a 404 means different things: on the control
/// plane the sandbox is gone; on envd a path or process is missing, unless
/// the body says the sandbox itself is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Classify {
    ControlPlane,
    Envd,
}

/// Whether a request may be sent again after a try that may have reached
/// the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Reads, settings, creates (a duplicate sandbox dies at its timeout):
    /// every transient failure is retried.
    Always,
    /// Commands, input and moves, which must not happen twice: retried only
    /// when the server cannot have acted (no connection, or 429).
    IfUnsent,
}

/// Sends a request built afresh for every try, retrying transient failures
/// with exponential backoff and honouring `Retry-After`.
pub(crate) async fn send_with_retry(
    policy: RetryPolicy,
    build: impl Fn() -> RequestBuilder,
    classify: Classify,
    repeat: Repeat,
) -> Result<Response, SandboxError> {
    let mut attempt = 0;
    loop {
        let (error, unsent) = match build().send().await {
            Ok(response) if response.status().is_success() => return Ok(response),
            Ok(response) => {
                let error = error_from(response, classify).await;
                let refused = matches!(error, SandboxError::RateLimited { .. });
                (error, refused)
            }
            Err(error) => (SandboxError::from_transport(&error), error.is_connect()),
        };
        attempt += 1;
        let may_repeat = repeat == Repeat::Always || unsent;
        if !error.is_transient() || !may_repeat || attempt >= policy.attempts {
            return Err(error);
        }
        let wait = match &error {
            SandboxError::RateLimited { retry_after } => (*retry_after).min(policy.max_delay),
            _ => policy.backoff(attempt - 1),
        };
        tracing::debug!(?wait, attempt, %error, "retrying a sandbox request");
        tokio::time::sleep(wait).await;
    }
}

/// Turns a non-success answer into the error it stands for.
pub(crate) async fn error_from(response: Response, classify: Classify) -> SandboxError {
    let status = response.status();
    let retry_after = retry_after(&response);
    let body = response.text().await.unwrap_or_default();
    let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
    let message = parsed
        .as_ref()
        .and_then(|value| value.get("message"))
        .and_then(|message| message.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| body.chars().take(300).collect());
    let rpc_code = parsed
        .as_ref()
        .and_then(|value| value.get("code"))
        .and_then(|code| code.as_str())
        .map(str::to_owned);
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN if classify == Classify::ControlPlane => {
            SandboxError::Unauthorized
        }
        StatusCode::UNAUTHORIZED => SandboxError::Unauthorized,
        StatusCode::NOT_FOUND if classify == Classify::Envd => SandboxError::Missing(message),
        StatusCode::NOT_FOUND => SandboxError::NotFound,
        // E2B's proxy says so when the sandbox behind an envd host is gone.
        StatusCode::BAD_GATEWAY
            if parsed
                .as_ref()
                .is_some_and(|value| value.get("sandboxId").is_some()) =>
        {
            SandboxError::NotFound
        }
        StatusCode::TOO_MANY_REQUESTS => SandboxError::RateLimited {
            retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
        },
        status if status.is_server_error() => {
            SandboxError::Unavailable(format!("{status}: {message}"))
        }
        _ => match rpc_code {
            Some(code) => SandboxError::Rpc { code, message },
            None => SandboxError::Rejected(format!("{status}: {message}")),
        },
    }
}

/// `Retry-After` in seconds (the HTTP-date form is treated as one second).
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let text = value.to_str().ok()?.trim();
    Some(
        text.parse::<f64>()
            .ok()
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(Duration::from_secs(1)),
    )
}

pub(crate) async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, SandboxError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|error| SandboxError::from_transport(&error))?;
    serde_json::from_slice(&bytes).map_err(|error| SandboxError::Protocol(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            request_timeout: Duration::from_secs(1),
        };
        assert_eq!(policy.backoff(0), Duration::from_millis(100));
        assert_eq!(policy.backoff(2), Duration::from_millis(400));
        assert_eq!(policy.backoff(3), Duration::from_millis(500));
    }
}
