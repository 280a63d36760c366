//! ML models' training runs for the workspace: a project's runs, and
//! Retrain (a run of the latest version, without a model call or credit).

use leptos::prelude::*;

pub use crate::dto::training::{ModelPanelView, ModelRunView, TrainingJobView};
use crate::error::AppError;

/// The project's training runs, newest first.
#[server(prefix = "/api", endpoint = "list_training_jobs")]
pub async fn list_training_jobs(project: String) -> Result<Vec<TrainingJobView>, AppError> {
    use ollio_domain::ProjectId;

    use crate::server::{auth, request, training};
    request::respond(async move {
        let user = auth::require_user().await?;
        let state = request::state()?;
        let project = ProjectId::from_raw(project.trim());
        let jobs = training::training_jobs(&state, &user.id, &project).await?;
        Ok(jobs.iter().map(training::view).collect())
    })
    .await
}

/// Trains the project's latest version again: "Retrain".
#[server(prefix = "/api", endpoint = "retrain")]
pub async fn retrain(project: String) -> Result<TrainingJobView, AppError> {
    use ollio_domain::ProjectId;

    use crate::server::{auth, request, training};
    request::respond(async move {
        let user = auth::require_user().await?;
        let state = request::state()?;
        let project = ProjectId::from_raw(project.trim());
        let job = training::retrain(&state, &user.id, &project).await?;
        Ok(training::view(&job))
    })
    .await
}

/// The Model tab: the project's runs and its metrics across versions.
#[server(prefix = "/api", endpoint = "model_panel")]
pub async fn model_panel(project: String) -> Result<ModelPanelView, AppError> {
    use ollio_domain::ProjectId;

    use crate::server::{auth, request, training};
    request::respond(async move {
        let user = auth::require_user().await?;
        let state = request::state()?;
        let project = ProjectId::from_raw(project.trim());
        training::model_panel(&state, &user.id, &project).await
    })
    .await
}
