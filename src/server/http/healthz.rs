use axum::{
    extract::State,
    http::{header, StatusCode},
    response::IntoResponse,
    Json,
};
use serde::Serialize;

use crate::server::state::AppState;

#[derive(Serialize)]
struct Health {
    /// `ok`, or `degraded` when a dependency is down.
    status: &'static str,
    version: &'static str,
    database: DatabaseHealth,
}

#[derive(Serialize)]
struct DatabaseHealth {
    /// `ok` or `unavailable`; the cause goes to the log, not to the caller.
    status: &'static str,
    backend: &'static str,
    latency_ms: Option<f64>,
}

/// `GET /healthz`: the version and whether the database answers. 200 when
/// healthy, 503 otherwise, never cached.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let backend = state.store.backend().as_str();
    let (code, database) = match state.store.ping().await {
        Ok(latency) => (
            StatusCode::OK,
            DatabaseHealth {
                status: "ok",
                backend,
                latency_ms: Some((latency.as_secs_f64() * 1000.0 * 100.0).round() / 100.0),
            },
        ),
        Err(error) => {
            tracing::error!(%error, "health check: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                DatabaseHealth {
                    status: "unavailable",
                    backend,
                    latency_ms: None,
                },
            )
        }
    };
    let body = Health {
        status: if code.is_success() { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        database,
    };
    (code, [(header::CACHE_CONTROL, "no-store")], Json(body))
}
