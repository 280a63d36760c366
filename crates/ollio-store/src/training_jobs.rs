//! Training runs of ML model projects. Each is three rows made together:
//! a `training_jobs` row (what the API answers: status, progress,
//! metrics, the deployment's URL), a `jobs` row of kind [`TRAIN_JOB`]
//! (the durable part, leased and retried like a turn, spending no credit)
//! and an assistant message that carries its steps in the chat, so Stop,
//! the busy check and the reconciler treat it as they treat a turn.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::{any::AnyRow, Row};

use super::{
    jobs::{hold_project, job_row, Held},
    new_id, now_ms, Job, Store, StoreError, TurnJob,
};
use ollio_domain::{MessageId, ProjectId, TrainingJobId, UserId, VersionId};

pub const TRAIN_JOB: &str = "train";

/// Where a training run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingStatus {
    Queued,
    Installing,
    Training,
    Deploying,
    Deployed,
    Failed,
    Cancelled,
}

impl TrainingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Installing => "installing",
            Self::Training => "training",
            Self::Deploying => "deploying",
            Self::Deployed => "deployed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    fn parse(raw: &str) -> Result<Self, StoreError> {
        Ok(match raw {
            "queued" => Self::Queued,
            "installing" => Self::Installing,
            "training" => Self::Training,
            "deploying" => Self::Deploying,
            "deployed" => Self::Deployed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            other => return Err(StoreError::Corrupt(format!("training status `{other}`"))),
        })
    }

    /// Whether the run has ended (deployed, failed or cancelled).
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Deployed | Self::Failed | Self::Cancelled)
    }
}

/// The SQL list of the statuses a run ends in.
const FINISHED: &str = "('deployed', 'failed', 'cancelled')";

#[derive(Debug, Clone, PartialEq)]
pub struct TrainingJob {
    pub id: TrainingJobId,
    pub project: ProjectId,
    pub version: VersionId,
    /// The assistant message whose steps show the run.
    pub message: MessageId,
    pub status: TrainingStatus,
    pub progress: Option<f64>,
    pub metrics: BTreeMap<String, f64>,
    pub error: Option<String>,
    /// The end of the failed step's output.
    pub log_tail: Option<String>,
    pub deployment_url: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

fn training_row(row: &AnyRow) -> Result<TrainingJob, StoreError> {
    let metrics: String = row.try_get("metrics")?;
    Ok(TrainingJob {
        id: TrainingJobId::from_raw(row.try_get::<String, _>("id")?),
        project: ProjectId::from_raw(row.try_get::<String, _>("project_id")?),
        version: VersionId::from_raw(row.try_get::<String, _>("version_id")?),
        message: MessageId::from_raw(row.try_get::<String, _>("message_id")?),
        status: TrainingStatus::parse(&row.try_get::<String, _>("status")?)?,
        progress: row.try_get("progress")?,
        metrics: serde_json::from_str(&metrics)
            .map_err(|error| StoreError::Corrupt(format!("training metrics: {error}")))?,
        error: row.try_get("error")?,
        log_tail: row.try_get("log_tail")?,
        deployment_url: row.try_get("deployment_url")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// What a train job carries: a turn's fields (so the shared ends, Stop and
/// the reconciler read it as one) and the run and version it trains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainJob {
    pub owner: UserId,
    pub project: ProjectId,
    /// The message that asked for it: the turn's user message, or for
    /// Retrain the run's own message.
    pub user_message: MessageId,
    /// The assistant message the run fills in.
    pub assistant_message: MessageId,
    pub training_job: TrainingJobId,
    pub version: VersionId,
}

impl TrainJob {
    pub fn turn(&self) -> TurnJob {
        TurnJob {
            owner: self.owner.clone(),
            project: self.project.clone(),
            user_message: self.user_message.clone(),
            assistant_message: self.assistant_message.clone(),
        }
    }
}

impl Job {
    pub fn train(&self) -> Result<TrainJob, StoreError> {
        serde_json::from_str(&self.payload)
            .map_err(|error| StoreError::Corrupt(format!("train job payload: {error}")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetrainRefusal {
    /// Not the user's project, or no such project.
    NoProject,
    /// The project has no version to train yet.
    NoVersion,
    /// A turn or a training run of this project is still queued or running.
    Busy,
}

/// The run's three rows, in the caller's transaction: a pending assistant
/// message, the queued job and the `training_jobs` row.
pub(super) async fn queue_training_in(
    tx: &mut sqlx::AnyConnection,
    owner: &UserId,
    project: &ProjectId,
    version: &VersionId,
    asked_by: Option<&MessageId>,
    max_attempts: i64,
) -> Result<(Job, TrainJob), StoreError> {
    let now = now_ms();
    let message = MessageId::from_raw(new_id());
    sqlx::query(
        "INSERT INTO messages (id, project_id, role, content, status, created_at, updated_at)
         VALUES ($1, $2, 'assistant', '', 'pending', $3, $3)",
    )
    .bind(message.as_str())
    .bind(project.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let train = TrainJob {
        owner: owner.clone(),
        project: project.clone(),
        user_message: asked_by.unwrap_or(&message).clone(),
        assistant_message: message.clone(),
        training_job: TrainingJobId::from_raw(new_id()),
        version: version.clone(),
    };
    let payload =
        serde_json::to_string(&train).map_err(|error| StoreError::Corrupt(error.to_string()))?;
    let row = sqlx::query(
        "INSERT INTO jobs (id, kind, payload, message_id, state, attempts, max_attempts, run_at,
                           created_at, updated_at, credits)
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6, $6, 0)
         RETURNING *",
    )
    .bind(new_id())
    .bind(TRAIN_JOB)
    .bind(&payload)
    .bind(message.as_str())
    .bind(max_attempts)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let job = job_row(&row)?;
    sqlx::query(
        "INSERT INTO training_jobs (id, project_id, version_id, message_id, job_id, status, created_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', $6)",
    )
    .bind(train.training_job.as_str())
    .bind(project.as_str())
    .bind(version.as_str())
    .bind(message.as_str())
    .bind(&job.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok((job, train))
}

/// Ends the run of `message` (when it has not ended) as failed with
/// `reason`, or as cancelled; in the caller's transaction, with its message.
pub(super) async fn end_training_in(
    tx: &mut sqlx::AnyConnection,
    message: &MessageId,
    status: TrainingStatus,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(&format!(
        "UPDATE training_jobs SET status = $1, error = COALESCE(error, $2), finished_at = $3
         WHERE message_id = $4 AND status NOT IN {FINISHED}"
    ))
    .bind(status.as_str())
    .bind(reason)
    .bind(now)
    .bind(message.as_str())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl Store {
    /// Retrain: queues a training run of the owner's project on its latest
    /// version, unless something of the project is still running. No
    /// credit is spent.
    pub async fn enqueue_retrain(
        &self,
        owner: &UserId,
        project: &ProjectId,
        max_attempts: i64,
    ) -> Result<Result<(Job, TrainJob), RetrainRefusal>, StoreError> {
        // The first statement writes (see `enqueue_turn`): it takes
        // SQLite's write lock before anything is read.
        let mut tx = self.pool.begin().await?;
        match hold_project(&mut tx, owner, project, now_ms()).await? {
            Held::Idle => {}
            Held::Missing => return Ok(Err(RetrainRefusal::NoProject)),
            Held::Busy => return Ok(Err(RetrainRefusal::Busy)),
        }
        let latest: Option<String> = sqlx::query_scalar(
            "SELECT id FROM versions WHERE project_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(project.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(latest) = latest else {
            return Ok(Err(RetrainRefusal::NoVersion));
        };
        let queued = queue_training_in(
            &mut tx,
            owner,
            project,
            &VersionId::from_raw(latest),
            None,
            max_attempts,
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(queued))
    }

    /// The owner's training run, if it is theirs.
    pub async fn training_job(
        &self,
        owner: &UserId,
        id: &TrainingJobId,
    ) -> Result<Option<TrainingJob>, StoreError> {
        let row = sqlx::query(
            "SELECT t.* FROM training_jobs t JOIN projects p ON p.id = t.project_id
             WHERE t.id = $1 AND p.owner_id = $2",
        )
        .bind(id.as_str())
        .bind(owner.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(training_row).transpose()
    }

    /// The owner's project's training runs, newest first.
    pub async fn training_jobs(
        &self,
        owner: &UserId,
        project: &ProjectId,
    ) -> Result<Vec<TrainingJob>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.* FROM training_jobs t JOIN projects p ON p.id = t.project_id
             WHERE t.project_id = $1 AND p.owner_id = $2
             ORDER BY t.created_at DESC, t.id DESC",
        )
        .bind(project.as_str())
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(training_row).collect()
    }

    /// The version's latest deployed run: its model is the version's.
    pub async fn deployed_training(
        &self,
        owner: &UserId,
        version: &VersionId,
    ) -> Result<Option<TrainingJob>, StoreError> {
        let row = sqlx::query(
            "SELECT t.* FROM training_jobs t JOIN projects p ON p.id = t.project_id
             WHERE t.version_id = $1 AND p.owner_id = $2 AND t.status = 'deployed'
             ORDER BY t.finished_at DESC LIMIT 1",
        )
        .bind(version.as_str())
        .bind(owner.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(training_row).transpose()
    }

    /// Moves a run on to `status` (a step's), unless it has ended; the
    /// first step stamps its start. `false` when it had ended.
    pub async fn set_training_status(
        &self,
        id: &TrainingJobId,
        status: TrainingStatus,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(&format!(
            "UPDATE training_jobs SET status = $1, started_at = COALESCE(started_at, $2)
             WHERE id = $3 AND status NOT IN {FINISHED}"
        ))
        .bind(status.as_str())
        .bind(now)
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The run's latest progress and metrics.
    pub async fn set_training_progress(
        &self,
        id: &TrainingJobId,
        progress: Option<f64>,
        metrics: &BTreeMap<String, f64>,
    ) -> Result<(), StoreError> {
        let metrics = serde_json::to_string(metrics)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        sqlx::query(&format!(
            "UPDATE training_jobs SET progress = COALESCE($1, progress), metrics = $2
             WHERE id = $3 AND status NOT IN {FINISHED}"
        ))
        .bind(progress)
        .bind(metrics)
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// What a failing step left: the end of its output, shown with the
    /// reason once the run fails.
    pub async fn set_training_log_tail(
        &self,
        id: &TrainingJobId,
        log_tail: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE training_jobs SET log_tail = $1 WHERE id = $2")
            .bind(log_tail)
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The run deployed: the run (its metrics, full progress and URL) and
    /// its message (`summary`) end together. `false`, with nothing
    /// changed, when the message had ended already (Stop).
    pub async fn complete_training(
        &self,
        train: &TrainJob,
        url: &str,
        metrics: &BTreeMap<String, f64>,
        summary: &str,
    ) -> Result<bool, StoreError> {
        let metrics = serde_json::to_string(metrics)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let ended = sqlx::query(
            "UPDATE messages SET content = $1, status = 'done', updated_at = $2
             WHERE id = $3 AND status IN ('pending', 'running')",
        )
        .bind(summary)
        .bind(now)
        .bind(train.assistant_message.as_str())
        .execute(&mut *tx)
        .await?;
        if ended.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(&format!(
            "UPDATE training_jobs SET status = 'deployed', progress = 1, metrics = $1,
                 deployment_url = $2, error = NULL, log_tail = NULL, finished_at = $3
             WHERE id = $4 AND status NOT IN {FINISHED}"
        ))
        .bind(metrics)
        .bind(url)
        .bind(now)
        .bind(train.training_job.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
