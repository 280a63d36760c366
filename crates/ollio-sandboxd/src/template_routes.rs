//! Ollio's extension to E2B's control plane: whether a template's image is
//! built, and building it ahead of the first sandbox, so a caller can show
//! the wait ("Preparing the React template (first use)") instead of a
//! create that hangs for minutes. Authenticated like the control plane.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};

use super::{
    control_routes::{error, require_key},
    registry::{Registry, Template},
};
use ollio_sandbox::wire::TemplateState;

type Shared = State<Arc<Registry>>;

pub fn routes(registry: Arc<Registry>) -> Router<Arc<Registry>> {
    Router::new()
        .route("/templates/{id}", get(state))
        .route("/templates/{id}/build", post(build))
        .route_layer(axum::middleware::from_fn_with_state(registry, require_key))
}

fn unknown(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("there is no template \"{id}\""),
    )
}

/// A template without files or packages (`base`, `static`) needs no image
/// and counts as built.
fn state_of(registry: &Registry, template: Template) -> TemplateState {
    TemplateState {
        template_id: template.id().into(),
        built: template
            .app_with_files()
            .is_none_or(|app| registry.images().built(app).is_some()),
    }
}

async fn state(State(registry): Shared, Path(id): Path<String>) -> Response {
    match Template::parse(&id) {
        Some(template) => Json(state_of(&registry, template)).into_response(),
        None => unknown(&id),
    }
}

async fn build(State(registry): Shared, Path(id): Path<String>) -> Response {
    let Some(template) = Template::parse(&id) else {
        return unknown(&id);
    };
    let Some(app) = template.app_with_files() else {
        return Json(state_of(&registry, template)).into_response();
    };
    // Built apart from this request, so a caller hanging up does not stop
    // a build that others (and the next sandbox) wait on.
    let building = registry.clone();
    let outcome = tokio::spawn(async move {
        building
            .image(app, &|event| tracing::debug!(?event, "template build"))
            .await
    })
    .await;
    match outcome {
        Ok(Ok(_)) => Json(state_of(&registry, template)).into_response(),
        Ok(Err(failure)) => {
            tracing::error!(error = %failure, "template build failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, failure.to_string())
        }
        Err(failure) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the build was interrupted: {failure}"),
        ),
    }
}
