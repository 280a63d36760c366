//! ML models' training runs as the pages and the JSON API see them: the
//! owner's runs (anyone else's read as missing) and Retrain, which queues
//! a run of the project's latest version without a model call or a credit.

use ollio_domain::{calendar::format_rfc3339, ProjectId, TrainingJobId, UserId};
use ollio_store::{RetrainRefusal, TrainingJob, TrainingStatus};

use std::collections::{BTreeMap, HashMap};

use super::{projects, render::metric_chart, state::AppState, turns::BUSY};
use crate::{
    dto::training::{ModelPanelView, ModelRunView, TrainingJobView},
    error::AppError,
};

/// Said when Retrain is asked of a project that is not an ML model.
pub const NOT_A_MODEL: &str = "Only ML model projects train a model.";
/// Said when there is nothing to train yet.
pub const NO_VERSION: &str = "There is no version to train yet: describe the model first.";

/// The owner's run.
pub async fn training_job(
    state: &AppState,
    owner: &UserId,
    id: &TrainingJobId,
) -> Result<TrainingJob, AppError> {
    state
        .store
        .training_job(owner, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The owner's project's runs, newest first; another's project is missing.
pub async fn training_jobs(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
) -> Result<Vec<TrainingJob>, AppError> {
    projects::owned(state, owner, project).await?;
    Ok(state.store.training_jobs(owner, project).await?)
}

/// The Model tab: the runs with their versions' numbers, and each
/// metric's chart across the versions that were trained (the latest
/// deployed run of each).
pub async fn model_panel(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
) -> Result<ModelPanelView, AppError> {
    projects::owned(state, owner, project).await?;
    let (runs, versions) = tokio::try_join!(
        state.store.training_jobs(owner, project),
        state.store.versions(owner, project),
    )?;
    let numbers: HashMap<&str, i64> = versions
        .iter()
        .map(|version| (version.id.as_str(), version.version))
        .collect();
    let number = |run: &TrainingJob| numbers.get(run.version.as_str()).copied().unwrap_or(0);
    // Newest first: the first deployed run of a version is its latest.
    let mut points: BTreeMap<i64, BTreeMap<String, f64>> = BTreeMap::new();
    for run in runs
        .iter()
        .filter(|run| run.status == TrainingStatus::Deployed)
    {
        points
            .entry(number(run))
            .or_insert_with(|| run.metrics.clone());
    }
    let points: Vec<(i64, BTreeMap<String, f64>)> = points.into_iter().collect();
    Ok(ModelPanelView {
        charts_svg: metric_chart::metric_charts(&points),
        runs: runs
            .iter()
            .map(|run| ModelRunView {
                run: view(run),
                version: number(run),
            })
            .collect(),
    })
}

/// Retrain: queues a run of the project's latest version and wakes a worker.
pub async fn retrain(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
) -> Result<TrainingJob, AppError> {
    let found = projects::owned(state, owner, project).await?;
    if ollio_templates::find(&found.template).is_none_or(|t| t.training.is_none()) {
        return Err(AppError::invalid(NOT_A_MODEL));
    }
    let queued = state
        .store
        .enqueue_retrain(owner, project, state.config.agent.job_attempts)
        .await?;
    let (_, train) = match queued {
        Ok(queued) => queued,
        Err(RetrainRefusal::NoProject) => return Err(AppError::NotFound),
        Err(RetrainRefusal::NoVersion) => return Err(AppError::invalid(NO_VERSION)),
        Err(RetrainRefusal::Busy) => return Err(AppError::invalid(BUSY)),
    };
    if let Some(workers) = &state.workers {
        workers.wake();
    }
    state.hub.notify(project);
    training_job(state, owner, &train.training_job).await
}

/// A run as the API answers it.
pub fn view(job: &TrainingJob) -> TrainingJobView {
    TrainingJobView {
        id: job.id.to_string(),
        project_id: job.project.to_string(),
        version_id: job.version.to_string(),
        status: job.status.as_str().to_owned(),
        progress: job.progress,
        metrics: job.metrics.clone(),
        deployment_url: job.deployment_url.clone(),
        error: job.error.clone(),
        started_at: job.started_at.map(format_rfc3339),
        finished_at: job.finished_at.map(format_rfc3339),
    }
}
