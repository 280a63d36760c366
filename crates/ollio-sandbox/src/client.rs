//! The one client for E2B's control plane, used against E2B cloud and against
//! the bundled `sandboxd` alike: only the endpoint differs.

use std::time::Duration;

use reqwest::{header::HeaderValue, Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;

use super::{
    envd::Envd,
    error::SandboxError,
    retry::{decode, send_with_retry, Classify, Repeat, RetryPolicy},
    settings::Endpoint,
    wire::{NewSandbox, SandboxCreated, SandboxDetail, TemplateState, TimeoutBody},
};

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

/// How long a template build may keep its request open: longer than
/// `sandboxd`'s own limit on one install (20 minutes).
const TEMPLATE_BUILD_PATIENCE: Duration = Duration::from_secs(25 * 60);

/// A sandbox looked up by id (`GET /sandboxes/{id}` carries its envd token).
impl From<SandboxDetail> for Sandbox {
    fn from(detail: SandboxDetail) -> Self {
        Self {
            id: detail.sandbox_id,
            template_id: detail.template_id,
            envd_version: detail.envd_version,
            access_token: detail.envd_access_token,
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

    /// Whether `sandboxd` has the template's image built (Ollio's own
    /// `GET /templates/{id}`; E2B cloud has no such route).
    pub async fn template_state(&self, id: &str) -> Result<TemplateState, SandboxError> {
        let path = format!("/templates/{}", segment(id)?);
        self.json(|| self.control(Method::GET, &path)).await
    }

    /// Builds the template's image on `sandboxd`, however long its install
    /// takes; a no-op when it is built. Never repeated once sent: a build
    /// that failed would fail again.
    pub async fn build_template(&self, id: &str) -> Result<TemplateState, SandboxError> {
        let path = format!("/templates/{}/build", segment(id)?);
        let response = send_with_retry(
            self.retry,
            || {
                self.control(Method::POST, &path)
                    .timeout(TEMPLATE_BUILD_PATIENCE)
            },
            Classify::ControlPlane,
            Repeat::IfUnsent,
        )
        .await?;
        decode(response).await
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
    fn ids_must_be_one_path_segment() {
        assert!(segment("i1a2b3c4d5e6f7g8h9j0").is_ok());
        assert!(segment("../admin").is_err());
        assert!(segment("").is_err());
        assert!(segment("a/b").is_err());
    }
}
