//! E2B's control plane, as far as `sandboxd` implements it: create, list,
//! get, delete, set the timeout, connect. Authenticated by `X-API-Key`.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};

use super::{
    preview::preview_domain_of,
    registry::{CreateError, Registry, SandboxRecord},
};
use ollio_sandbox::wire::{
    rfc3339, ApiError, NewSandbox, SandboxCreated, SandboxDetail, TimeoutBody, ENVD_VERSION,
};

type Shared = State<Arc<Registry>>;

pub fn routes(registry: Arc<Registry>) -> Router<Arc<Registry>> {
    Router::new()
        .route("/sandboxes", post(create).get(list))
        .route("/v2/sandboxes", post(create).get(list))
        .route("/sandboxes/{id}", get(detail).delete(kill))
        .route("/sandboxes/{id}/timeout", post(set_timeout))
        .route("/sandboxes/{id}/connect", post(connect))
        .route_layer(axum::middleware::from_fn_with_state(registry, require_key))
}

/// Answers 401 unless the request carries the daemon's API key in `X-API-Key`.
pub(crate) async fn require_key(
    State(registry): Shared,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let presented = request
        .headers()
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if registry.config().api_key.matches(presented) {
        next.run(request).await
    } else {
        error(StatusCode::UNAUTHORIZED, "Invalid API key")
    }
}

pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = ApiError {
        code: status.as_u16(),
        message: message.into(),
    };
    (status, Json(body)).into_response()
}

fn created(registry: &Registry, sandbox: &SandboxRecord) -> SandboxCreated {
    SandboxCreated {
        template_id: sandbox.template.id().into(),
        sandbox_id: sandbox.id.clone(),
        client_id: "ollio".into(),
        envd_version: ENVD_VERSION.into(),
        envd_access_token: Some(sandbox.token.clone()),
        domain: Some(preview_domain_of(registry.config())),
    }
}

fn detail_of(registry: &Registry, sandbox: &SandboxRecord, with_token: bool) -> SandboxDetail {
    let limits = registry.config().limits;
    SandboxDetail {
        template_id: sandbox.template.id().into(),
        sandbox_id: sandbox.id.clone(),
        client_id: "ollio".into(),
        started_at: rfc3339(sandbox.started_ms),
        end_at: rfc3339(sandbox.end_ms()),
        envd_version: ENVD_VERSION.into(),
        envd_access_token: with_token.then(|| sandbox.token.clone()),
        domain: Some(preview_domain_of(registry.config())),
        cpu_count: limits.cpus.ceil() as u32,
        memory_mb: limits.memory_bytes >> 20,
        disk_size_mb: limits.disk_bytes >> 20,
        metadata: sandbox.metadata.clone(),
        state: "running".into(),
    }
}

async fn create(
    State(registry): Shared,
    body: Result<Json<NewSandbox>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    // Started apart from this request, so a caller hanging up half-way
    // cannot leave a half-made sandbox (folder, cgroup, processes) behind.
    let creating = registry.clone();
    let outcome = match tokio::spawn(async move { creating.create(request).await }).await {
        Ok(outcome) => outcome,
        Err(failure) => Err(CreateError::Start(format!(
            "the start was interrupted: {failure}"
        ))),
    };
    match outcome {
        Ok(sandbox) => (StatusCode::CREATED, Json(created(&registry, &sandbox))).into_response(),
        Err(failure @ CreateError::UnknownTemplate(_)) => {
            error(StatusCode::NOT_FOUND, failure.to_string())
        }
        Err(failure @ CreateError::TooLong { .. }) => {
            error(StatusCode::BAD_REQUEST, failure.to_string())
        }
        Err(failure @ CreateError::Full(_)) => {
            error(StatusCode::TOO_MANY_REQUESTS, failure.to_string())
        }
        Err(failure @ (CreateError::Start(_) | CreateError::Build(_))) => {
            tracing::error!(error = %failure, "sandbox start failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, failure.to_string())
        }
    }
}

async fn list(State(registry): Shared, Query(query): Query<BTreeMap<String, String>>) -> Response {
    if query
        .get("state")
        .is_some_and(|state| !state.contains("running"))
    {
        return Json(Vec::<SandboxDetail>::new()).into_response();
    }
    // `metadata=key1=value1&key2=value2`, URL-encoded once more.
    let wanted: Vec<(String, String)> = query
        .get("metadata")
        .map(|raw| {
            raw.split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let sandboxes: Vec<SandboxDetail> = registry
        .list()
        .iter()
        .filter(|sandbox| {
            wanted
                .iter()
                .all(|(key, value)| sandbox.metadata.get(key) == Some(value))
        })
        .map(|sandbox| detail_of(&registry, sandbox, false))
        .collect();
    Json(sandboxes).into_response()
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("sandbox \"{id}\" doesn't exist or you don't have access to it"),
    )
}

async fn detail(State(registry): Shared, Path(id): Path<String>) -> Response {
    match registry.get(&id) {
        Some(sandbox) => Json(detail_of(&registry, &sandbox, true)).into_response(),
        None => not_found(&id),
    }
}

async fn kill(State(registry): Shared, Path(id): Path<String>) -> Response {
    if registry.kill(&id).await {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found(&id)
    }
}

async fn set_timeout(
    State(registry): Shared,
    Path(id): Path<String>,
    body: Result<Json<TimeoutBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return error(StatusCode::BAD_REQUEST, "expected {\"timeout\": seconds}");
    };
    if body.timeout > registry.config().max_timeout_secs {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "a sandbox may live at most {} seconds",
                registry.config().max_timeout_secs
            ),
        );
    }
    match registry.get(&id) {
        Some(sandbox) => {
            sandbox.set_timeout(body.timeout);
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(&id),
    }
}

async fn connect(
    State(registry): Shared,
    Path(id): Path<String>,
    body: Option<Json<TimeoutBody>>,
) -> Response {
    let seconds = body
        .map(|Json(body)| body.timeout)
        .unwrap_or(registry.config().default_timeout_secs)
        .min(registry.config().max_timeout_secs);
    match registry.get(&id) {
        Some(sandbox) => {
            sandbox.extend_to(seconds);
            Json(created(&registry, &sandbox)).into_response()
        }
        None => not_found(&id),
    }
}
