//! The one client for E2B's control plane, used against E2B cloud and against
//! the bundled `sandboxd` alike: only the endpoint differs.

use std::time::Duration;

use reqwest::{header::HeaderValue, Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use super::{
    envd::Envd,
    error::SandboxError,
    settings::Endpoint,
    wire::{NewSandbox, SandboxCreated, SandboxDetail, TimeoutBody},
};

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

/// A sandbox as far as a caller needs it: its id and how to reach its envd.
#[derive(Clone)]
pub struct Sandbox {
    pub id: String,
    pub template_id: String,
    pub envd_version: String,
    pub(crate) access_token: Option<String>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("id", &self.id)
            .field("template_id", &self.template_id)
            .field("envd_version", &self.envd_version)
            .finish_non_exhaustive()
    }
}

impl From<SandboxCreated> for Sandbox {
    fn from(created: SandboxCreated) -> Self {
        Self {
            id: created.sandbox_id,
            template_id: created.template_id,
            envd_version: created.envd_version,
            access_token: created.envd_access_token,
        }
    }
}

#[derive(Clone)]
pub struct SandboxClient {
    http: reqwest::Client,
    endpoint: Endpoint,
    retry: RetryPolicy,
}

impl SandboxClient {
    pub fn new(endpoint: Endpoint) -> Self {
        Self::with_retry(endpoint, RetryPolicy::default())
    }

    pub fn with_retry(endpoint: Endpoint, retry: RetryPolicy) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            http,
            endpoint,
            retry,
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Creates a sandbox through `POST /v2/sandboxes`, the path current SDKs use.
    pub async fn create(&self, request: &NewSandbox) -> Result<Sandbox, SandboxError> {
        self.create_at("/v2/sandboxes", request).await
    }

    /// Creates a sandbox through the older `POST /sandboxes`.
    pub async fn create_v1(&self, request: &NewSandbox) -> Result<Sandbox, SandboxError> {
        self.create_at("/sandboxes", request).await
    }

    async fn create_at(&self, path: &str, request: &NewSandbox) -> Result<Sandbox, SandboxError> {
        let created: SandboxCreated = self
            .json(|| self.control(Method::POST, path).json(request))
            .await?;
        Ok(created.into())
    }

    /// The running sandboxes of this API key (`GET /v2/sandboxes`).
    pub async fn list(&self) -> Result<Vec<SandboxDetail>, SandboxError> {
        self.json(|| self.control(Method::GET, "/v2/sandboxes"))
            .await
    }

    pub async fn get(&self, id: &str) -> Result<SandboxDetail, SandboxError> {
        let path = format!("/sandboxes/{}", segment(id)?);
        self.json(|| self.control(Method::GET, &path)).await
    }

    /// Kills a sandbox and everything in it.
    pub async fn kill(&self, id: &str) -> Result<(), SandboxError> {
        let path = format!("/sandboxes/{}", segment(id)?);
        self.send(|| self.control(Method::DELETE, &path)).await?;
        Ok(())
    }

    /// Sets the sandbox to die `seconds` from now.
    pub async fn set_timeout(&self, id: &str, seconds: u64) -> Result<(), SandboxError> {
        let path = format!("/sandboxes/{}/timeout", segment(id)?);
        let body = TimeoutBody { timeout: seconds };
        self.send(|| self.control(Method::POST, &path).json(&body))
            .await?;
        Ok(())
    }

    /// Reconnects to a running sandbox, extending its life to at least
    /// `seconds` from now, and returns what is needed to reach its envd.
    pub async fn connect(&self, id: &str, seconds: u64) -> Result<Sandbox, SandboxError> {
        let path = format!("/sandboxes/{}/connect", segment(id)?);
        let body = TimeoutBody { timeout: seconds };
        let created: SandboxCreated = self
            .json(|| self.control(Method::POST, &path).json(&body))
            .await?;
        Ok(created.into())
    }

    /// The in-sandbox daemon of `sandbox`.
    pub fn envd(&self, sandbox: &Sandbox) -> Envd {
        Envd::new(
            self.http.clone(),
            self.endpoint.envd_url(&sandbox.id),
            &sandbox.id,
            sandbox.access_token.as_deref(),
            self.retry,
        )
    }

    /// The address where `port` of the sandbox is served, on its own origin.
    pub fn preview_url(&self, sandbox_id: &str, port: u16) -> String {
        self.endpoint.preview_url(sandbox_id, port)
    }

    fn control(&self, method: Method, path: &str) -> RequestBuilder {
        let mut builder = self
            .http
            .request(method, format!("{}{path}", self.endpoint.api_url))
            .timeout(self.retry.request_timeout);
        if let Ok(mut value) = HeaderValue::from_str(self.endpoint.api_key.expose()) {
            value.set_sensitive(true);
            builder = builder.header("X-API-Key", value);
        }
        builder
    }

    async fn json<T: DeserializeOwned>(
        &self,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<T, SandboxError> {
        decode(self.send(build).await?).await
    }

    async fn send(&self, build: impl Fn() -> RequestBuilder) -> Result<Response, SandboxError> {
        send_with_retry(self.retry, build, Classify::ControlPlane, Repeat::Always).await
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

/// A sandbox id as one URL path segment; anything else is refused before a
/// request is made.
fn segment(id: &str) -> Result<&str, SandboxError> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if valid {
        Ok(id)
    } else {
        Err(SandboxError::Rejected(format!(
            "`{id}` is not a sandbox id"
        )))
    }
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

    #[test]
    fn ids_must_be_one_path_segment() {
        assert!(segment("i1a2b3c4d5e6f7g8h9j0").is_ok());
        assert!(segment("../admin").is_err());
        assert!(segment("").is_err());
        assert!(segment("a/b").is_err());
    }
}
