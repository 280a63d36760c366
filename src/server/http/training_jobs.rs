//! The training runs as JSON, for the owner only (the session cookie):
//! `GET /api/training-jobs/{id}` and `GET /api/projects/{id}/training-jobs`
//! (newest first). Anyone else's run or project answers 404.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
    Json,
};
use tower_sessions::Session;

use super::guard::{respond, signed_in};
use ollio_domain::{ProjectId, TrainingJobId};

use crate::{
    error::AppError,
    server::{state::AppState, training},
};

/// The routes as the tenancy suite lists them (`:id` for the run, or the
/// project).
pub const JOB_ROUTE: &str = "/api/training-jobs/:id";
pub const PROJECT_ROUTE: &str = "/api/projects/:id/training-jobs";

pub async fn training_job(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    json(async {
        let owner = signed_in(&state, &session).await?;
        let job = training::training_job(&state, &owner, &TrainingJobId::from_raw(id)).await?;
        Ok(training::view(&job))
    })
    .await
}

pub async fn project_training_jobs(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    json(async {
        let owner = signed_in(&state, &session).await?;
        let jobs = training::training_jobs(&state, &owner, &ProjectId::from_raw(id)).await?;
        Ok(jobs.iter().map(training::view).collect::<Vec<_>>())
    })
    .await
}

/// The answer as JSON, or the error's status and message.
async fn json<T: serde::Serialize>(
    answer: impl std::future::Future<Output = Result<T, AppError>>,
) -> Response {
    respond(answer, |value| Json(value).into_response()).await
}
