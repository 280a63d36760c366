//! What every model provider offers the tool loop: one streamed chat
//! completion with tool calls, assembled into a [`Completion`], with the
//! text handed on as it arrives. Failures say whether trying again may help.

use std::time::Duration;

use async_trait::async_trait;

use super::{
    chat::{ChatRequest, Completion},
    sse::{SseDecoder, SseEvent},
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("the model provider refused the API key")]
    Unauthorized,
    #[error("the model provider is rate limiting; retry in {retry_after:?}")]
    RateLimited { retry_after: Option<Duration> },
    #[error("the model provider is unavailable: {0}")]
    Unavailable(String),
    #[error("the model provider did not answer in time")]
    Timeout,
    #[error("the model's answer was cut off before it ended")]
    CutStream,
    #[error("the model provider refused the request: {0}")]
    Rejected(String),
    #[error("the model provider answered something unexpected: {0}")]
    Protocol(String),
    /// The user's own URL points where Ollio does not send requests.
    #[error("{0}")]
    Blocked(String),
}

impl ProviderError {
    /// Whether the same request may succeed later (429, 5xx, timeouts, cut streams).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Unavailable(_) | Self::Timeout | Self::CutStream
        )
    }

    pub(crate) fn from_transport(error: &reqwest::Error) -> Self {
        let chain = error_chain(error);
        if error.is_timeout() {
            Self::Timeout
        } else if error.is_body() || error.is_decode() {
            Self::CutStream
        } else if let Some(refusal) = super::url_guard::refusal_in(&chain) {
            Self::Blocked(refusal.to_owned())
        } else {
            Self::Unavailable(chain)
        }
    }

    /// The error a non-success answer stands for.
    pub(crate) async fn from_response(response: reqwest::Response) -> Self {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<f64>().ok())
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .map(Duration::from_secs_f64);
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|value| {
                let error = value.get("error")?;
                error
                    .get("message")
                    .and_then(|message| message.as_str())
                    .or_else(|| error.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| body.chars().take(300).collect());
        match status.as_u16() {
            401 | 403 => Self::Unauthorized,
            429 => Self::RateLimited { retry_after },
            // Anthropic's "overloaded".
            500..=599 => Self::Unavailable(format!("{status}: {message}")),
            _ => Self::Rejected(format!("{status}: {message}")),
        }
    }
}

/// An error with its causes, `: `-separated (reqwest's own message leaves
/// out why a connection failed).
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// A provider's key; not `Serialize`, `Debug` redacted.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// A streamed piece of the answer, for callers that show progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta<'a> {
    Text(&'a str),
    /// A tool call has begun (its arguments follow).
    ToolCall {
        name: &'a str,
    },
}

#[async_trait]
pub trait ChatProvider: Send + Sync {
    /// Runs one completion, calling `on_delta` as pieces arrive.
    async fn complete(
        &self,
        request: &ChatRequest,
        on_delta: &mut (dyn for<'a> FnMut(Delta<'a>) + Send),
    ) -> Result<Completion, ProviderError>;
}

/// Sends a streaming request: its answer, or the error an error answer
/// stands for.
pub(crate) async fn open_stream(
    request: reqwest::RequestBuilder,
    idle_timeout: Duration,
) -> Result<reqwest::Response, ProviderError> {
    let response = tokio::time::timeout(idle_timeout, request.send())
        .await
        .map_err(|_| ProviderError::Timeout)?
        .map_err(|error| ProviderError::from_transport(&error))?;
    if !response.status().is_success() {
        return Err(ProviderError::from_response(response).await);
    }
    Ok(response)
}

/// The stream's next piece, `None` at its end; waiting longer than
/// `idle_timeout` for one is a timeout.
pub(crate) async fn next_chunk(
    response: &mut reqwest::Response,
    idle_timeout: Duration,
) -> Result<Option<bytes::Bytes>, ProviderError> {
    tokio::time::timeout(idle_timeout, response.chunk())
        .await
        .map_err(|_| ProviderError::Timeout)?
        .map_err(|error| ProviderError::from_transport(&error))
}

/// Sends a streaming request and reads the answer as server-sent events,
/// handing each to `on_event`, which returns `true` once the stream's end
/// marker came. A stream that stops before that is a
/// [`ProviderError::CutStream`]; an error answer becomes its error.
pub(crate) async fn stream_events(
    request: reqwest::RequestBuilder,
    idle_timeout: Duration,
    mut on_event: impl FnMut(SseEvent) -> Result<bool, ProviderError>,
) -> Result<(), ProviderError> {
    let mut response = open_stream(request, idle_timeout).await?;
    let mut decoder = SseDecoder::new();
    loop {
        let Some(chunk) = next_chunk(&mut response, idle_timeout).await? else {
            if let Some(event) = decoder.finish() {
                if on_event(event)? {
                    return Ok(());
                }
            }
            return Err(ProviderError::CutStream);
        };
        let events = decoder
            .push(&chunk)
            .map_err(|error| ProviderError::Protocol(error.to_string()))?;
        for event in events {
            if on_event(event)? {
                return Ok(());
            }
        }
    }
}
