//! How turns end, each in one transaction with everything that goes with
//! it, so that no crash can leave a project half-settled: a job that ended
//! while its message still says "running" (every later send would be
//! refused as busy), or a credit given back twice.
//!
//! - a turn that made its version: the version and the finished message
//!   (and, for an ML model, its training run, queued);
//! - a turn that failed for good: the dead job, the failed message, the
//!   refund (recorded on the job, so it happens once) and the `failed` event;
//! - Stop: the cancelled job, the cancelled message and its event;
//! - [`Store::reconcile_turns`] finishes any unfinished message whose job is
//!   dead, cancelled or gone, whatever was interrupted before.
//!
//! A message that has ended already is never touched again.

use sqlx::{any::AnyRow, Row};

use super::{
    jobs::job_row,
    message_events::append_in,
    messages::finish_in,
    now_ms,
    training_jobs::{end_training_in, queue_training_in, TrainingStatus},
    versions::{insert_version, Version},
    Backend, Job, JobState, MessageEnd, MessageStatus, NewVersion, Store, StoreError, TurnJob,
};
use ollio_domain::{MessageId, ProjectId, TurnEvent, UserId};

/// A turn whose version is then trained (an ML model's): who owns it,
/// the message that asked, and the training job's attempts.
#[derive(Debug, Clone, Copy)]
pub struct TrainAfter<'a> {
    pub owner: &'a UserId,
    pub user_message: &'a MessageId,
    pub max_attempts: i64,
}

/// Said by a message whose turn was cut off (its worker stopped too many
/// times) and finished by the reconciler.
pub const INTERRUPTED: &str = "The turn was interrupted and was given up.";
/// Said by a message whose job is missing.
pub const LOST: &str = "The turn was lost; send the message again.";

/// Unfinished messages looked at per reconciling pass.
const RECONCILE_BATCH: i64 = 100;

impl Store {
    /// Saves the turn's version and ends its message as done, together,
    /// queueing the version's training run when `train` says so. `None`,
    /// with nothing saved, when the message had ended already (the turn
    /// was stopped meanwhile).
    pub async fn complete_turn(
        &self,
        message: &MessageId,
        new: &NewVersion,
        end: &MessageEnd<'_>,
        train: Option<TrainAfter<'_>>,
    ) -> Result<Option<Version>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if !finish_in(&mut tx, message, end).await? {
            return Ok(None);
        }
        let saved = insert_version(&mut tx, new).await?;
        if let Some(train) = train {
            queue_training_in(
                &mut tx,
                train.owner,
                &new.project,
                &saved.id,
                Some(train.user_message),
                train.max_attempts,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Some(saved))
    }

    /// Ends `worker`'s job as dead and its turn as failed with `reason`,
    /// giving the credit back when `refund`. `false`, with nothing changed,
    /// when the job is no longer the worker's (stopped, or taken over).
    pub async fn fail_turn(
        &self,
        job: &Job,
        worker: &str,
        reason: &str,
        refund: bool,
    ) -> Result<bool, StoreError> {
        let turn = job.turn()?;
        let mut tx = self.pool.begin().await?;
        let held = sqlx::query(
            "UPDATE jobs SET state = 'dead', last_error = $1, lease_owner = NULL,
                 lease_expires_at = NULL, updated_at = $2
             WHERE id = $3 AND lease_owner = $4 AND state = 'running'",
        )
        .bind(reason)
        .bind(now_ms())
        .bind(&job.id)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        if held.rows_affected() == 0 {
            return Ok(false);
        }
        let failed = TurnEvent::Failed {
            reason: reason.to_owned(),
        };
        end_in(
            &mut tx,
            self.backend(),
            &turn,
            Some(&job.id),
            Some(reason),
            refund,
            &failed,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stop: cancels the queued or running turn that fills in `message`, if
    /// it is `owner`'s, and ends the message at once, wherever (and
    /// whether) a worker runs it. A worker still running it learns at its
    /// next heartbeat and lets go. `None` when there was nothing to stop.
    pub async fn cancel_turn(
        &self,
        owner: &UserId,
        message: &MessageId,
    ) -> Result<Option<Job>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', updated_at = $1
             WHERE message_id = $2 AND state IN ('queued', 'running')
               AND EXISTS (SELECT 1 FROM messages m JOIN projects p ON p.id = m.project_id
                           WHERE m.id = $2 AND p.owner_id = $3)
             RETURNING *",
        )
        .bind(now_ms())
        .bind(message.as_str())
        .bind(owner.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(job) = row.as_ref().map(job_row).transpose()? else {
            return Ok(None);
        };
        let turn = job.turn()?;
        end_in(
            &mut tx,
            self.backend(),
            &turn,
            Some(&job.id),
            None,
            false,
            &TurnEvent::Cancelled,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(job))
    }

    /// Finishes every unfinished assistant message whose job is dead,
    /// cancelled or missing: a dead job's turn fails with its credit given
    /// back, a cancelled one is stopped, a missing one fails. Safe to run
    /// at any time, from any process. Returns the projects it touched.
    pub async fn reconcile_turns(&self) -> Result<Vec<ProjectId>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id AS message_id, m.project_id, p.owner_id, j.id AS job_id,
                    j.state AS job_state, j.payload
             FROM messages m
             JOIN projects p ON p.id = m.project_id
             LEFT JOIN jobs j ON j.message_id = m.id
             WHERE m.role = 'assistant' AND m.status IN ('pending', 'running')
               AND (j.id IS NULL OR j.state IN ('dead', 'cancelled'))
             ORDER BY m.created_at LIMIT $1",
        )
        .bind(RECONCILE_BATCH)
        .fetch_all(&self.pool)
        .await?;
        let mut touched = Vec::new();
        for row in &rows {
            let (turn, job, state) = leftover(row)?;
            let mut tx = self.pool.begin().await?;
            let ended = match state {
                Some(JobState::Cancelled) => {
                    end_in(
                        &mut tx,
                        self.backend(),
                        &turn,
                        job.as_deref(),
                        None,
                        false,
                        &TurnEvent::Cancelled,
                    )
                    .await?
                }
                Some(_) => {
                    let failed = TurnEvent::Failed {
                        reason: INTERRUPTED.into(),
                    };
                    end_in(
                        &mut tx,
                        self.backend(),
                        &turn,
                        job.as_deref(),
                        Some(INTERRUPTED),
                        true,
                        &failed,
                    )
                    .await?
                }
                None => {
                    let failed = TurnEvent::Failed {
                        reason: LOST.into(),
                    };
                    end_in(
                        &mut tx,
                        self.backend(),
                        &turn,
                        None,
                        Some(LOST),
                        false,
                        &failed,
                    )
                    .await?
                }
            };
            tx.commit().await?;
            if ended {
                tracing::warn!(message = %turn.assistant_message, "finished a turn left unfinished");
                touched.push(turn.project);
            }
        }
        Ok(touched)
    }
}

/// A row of [`Store::reconcile_turns`]: the turn, its job's id and state.
fn leftover(row: &AnyRow) -> Result<(TurnJob, Option<String>, Option<JobState>), StoreError> {
    let message = MessageId::from_raw(row.try_get::<String, _>("message_id")?);
    let project = ProjectId::from_raw(row.try_get::<String, _>("project_id")?);
    let owner = UserId::from_raw(row.try_get::<String, _>("owner_id")?);
    let job: Option<String> = row.try_get("job_id")?;
    let state = row
        .try_get::<Option<String>, _>("job_state")?
        .map(|raw| JobState::parse(&raw))
        .transpose()?;
    // The job's own payload names the user's message; the reconciler only
    // needs the assistant's, which it has either way.
    let user_message = row
        .try_get::<Option<String>, _>("payload")?
        .and_then(|payload| serde_json::from_str::<TurnJob>(&payload).ok())
        .map_or_else(|| message.clone(), |turn| turn.user_message);
    let turn = TurnJob {
        owner,
        project,
        user_message,
        assistant_message: message,
    };
    Ok((turn, job, state))
}

/// Ends the turn's message with `event`'s status (failed or cancelled) and
/// `reason` (and a training run's row with it), refunds the credit once
/// per job when `refund` and the job spent one, and records the event.
/// `false` when the message had ended already: then nothing else happens
/// either.
async fn end_in(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    turn: &TurnJob,
    job: Option<&str>,
    reason: Option<&str>,
    refund: bool,
    event: &TurnEvent,
) -> Result<bool, StoreError> {
    let status = match event {
        TurnEvent::Cancelled => MessageStatus::Cancelled,
        _ => MessageStatus::Failed,
    };
    let end = MessageEnd {
        content: "",
        status,
        error: reason,
        model: None,
        model_role: None,
        tokens_in: 0,
        tokens_out: 0,
    };
    if !finish_in(tx, &turn.assistant_message, &end).await? {
        return Ok(false);
    }
    let training = match status {
        MessageStatus::Cancelled => TrainingStatus::Cancelled,
        _ => TrainingStatus::Failed,
    };
    end_training_in(tx, &turn.assistant_message, training, reason).await?;
    if let (true, Some(job)) = (refund, job) {
        let first = sqlx::query(
            "UPDATE jobs SET refunded_at = $1 WHERE id = $2 AND refunded_at IS NULL AND credits > 0",
        )
        .bind(now_ms())
        .bind(job)
        .execute(&mut *tx)
        .await?;
        if first.rows_affected() > 0 {
            sqlx::query(
                "UPDATE usage SET credits_used = credits_used - 1 WHERE user_id = $1 AND credits_used > 0",
            )
            .bind(turn.owner.as_str())
            .execute(&mut *tx)
            .await?;
        }
    }
    let payload = serde_json::to_string(event).unwrap_or_default();
    append_in(
        tx,
        backend,
        &turn.project,
        &turn.assistant_message,
        event.kind(),
        &payload,
    )
    .await?;
    Ok(true)
}
