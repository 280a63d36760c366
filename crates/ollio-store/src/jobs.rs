//! The durable job queue: a turn is a row in `jobs`, taken by one worker at
//! a time under a lease that the worker's heartbeat extends. A worker that
//! dies lets its lease expire, and the job is taken again. On PostgreSQL,
//! workers take jobs with `FOR UPDATE SKIP LOCKED`; SQLite has one writer at
//! a time, so a single conditional UPDATE does the same.

use serde::{Deserialize, Serialize};
use sqlx::{any::AnyRow, Row};

use super::{
    attachments::{attach_in, AttachRefusal},
    new_id, now_ms,
    usage::usage_row,
    Backend, Store, StoreError, Usage,
};
use ollio_domain::{turn_mode::role, AttachmentId, MessageId, ProjectId, TurnMode, UserId};

pub const TURN_JOB: &str = "turn";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// Out of attempts, or failed for good; `last_error` says why.
    Dead,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
        }
    }

    pub(super) fn parse(raw: &str) -> Result<Self, StoreError> {
        Ok(match raw {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "dead" => Self::Dead,
            "cancelled" => Self::Cancelled,
            other => return Err(StoreError::Corrupt(format!("job state `{other}`"))),
        })
    }
}

/// What a turn job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnJob {
    pub owner: UserId,
    pub project: ProjectId,
    pub user_message: MessageId,
    /// The assistant message the turn fills in.
    pub assistant_message: MessageId,
}

/// What a user's message asks for: its text, the files staged for it, its
/// mode, and for "Build this plan" the plan.
#[derive(Debug, Clone, Copy)]
pub struct TurnRequest<'a> {
    pub content: &'a str,
    pub attachments: &'a [AttachmentId],
    pub mode: TurnMode,
    pub plan: Option<&'a MessageId>,
}

impl<'a> TurnRequest<'a> {
    /// A build answering `content`.
    pub fn build(content: &'a str) -> Self {
        Self {
            content,
            attachments: &[],
            mode: TurnMode::Build,
            plan: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub state: JobState,
    /// Takes so far, the current one included.
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub last_error: Option<String>,
}

impl Job {
    pub fn turn(&self) -> Result<TurnJob, StoreError> {
        serde_json::from_str(&self.payload)
            .map_err(|error| StoreError::Corrupt(format!("turn job payload: {error}")))
    }
}

pub(super) fn job_row(row: &AnyRow) -> Result<Job, StoreError> {
    Ok(Job {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        state: JobState::parse(&row.try_get::<String, _>("state")?)?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        run_at: row.try_get("run_at")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: row.try_get("lease_expires_at")?,
        last_error: row.try_get("last_error")?,
    })
}

/// A turn that was accepted: the user's message, the assistant message the
/// turn will fill in, its job, and the credits left.
#[derive(Debug, Clone)]
pub struct EnqueuedTurn {
    pub job: Job,
    pub turn: TurnJob,
    pub usage: Usage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnqueueRefusal {
    /// Not the user's project, or no such project.
    NoProject,
    OutOfCredits(Usage),
    /// A turn of this project is still queued or running.
    Busy,
    /// The message's attachments cannot go with it.
    Attachments(AttachRefusal),
    /// "Build this plan" named no finished plan of the project.
    NoPlan,
}

/// A project as [`hold_project`] found it.
pub(super) enum Held {
    Idle,
    /// Not the owner's, or no such project.
    Missing,
    /// A turn or a training run of it is queued or running.
    Busy,
}

/// Marks the owner's project updated, which on PostgreSQL locks its row
/// until the transaction ends: whatever queues work for the project (a
/// turn, a Retrain) takes the same lock first, so the busy check after it
/// sees work queued by the other, and two never run at once.
pub(super) async fn hold_project(
    tx: &mut sqlx::AnyConnection,
    owner: &UserId,
    project: &ProjectId,
    now: i64,
) -> Result<Held, StoreError> {
    let owned = sqlx::query("UPDATE projects SET updated_at = $1 WHERE id = $2 AND owner_id = $3")
        .bind(now)
        .bind(project.as_str())
        .bind(owner.as_str())
        .execute(&mut *tx)
        .await?;
    if owned.rows_affected() == 0 {
        return Ok(Held::Missing);
    }
    let busy: Option<String> = sqlx::query_scalar(
        "SELECT id FROM messages WHERE project_id = $1 AND role = 'assistant'
         AND status IN ('pending', 'running') LIMIT 1",
    )
    .bind(project.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    Ok(if busy.is_some() {
        Held::Busy
    } else {
        Held::Idle
    })
}

/// Whether `plan` is a finished plan in `project` (its answer, by the
/// role its model ran in).
async fn is_plan_in(
    tx: &mut sqlx::AnyConnection,
    project: &ProjectId,
    plan: &MessageId,
) -> Result<bool, StoreError> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT id FROM messages WHERE id = $1 AND project_id = $2 AND role = 'assistant'
         AND status = 'done' AND model_role = $3",
    )
    .bind(plan.as_str())
    .bind(project.as_str())
    .bind(role::PLAN)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(found.is_some())
}

impl Store {
    /// Accepts a user's message: spends a credit, records the message and
    /// a pending assistant message, and queues the turn, all or nothing.
    pub async fn enqueue_turn(
        &self,
        owner: &UserId,
        project: &ProjectId,
        content: &str,
        default_credits: i64,
        max_attempts: i64,
    ) -> Result<Result<EnqueuedTurn, EnqueueRefusal>, StoreError> {
        self.enqueue_turn_with(owner, project, content, &[], default_credits, max_attempts)
            .await
    }

    /// [`Self::enqueue_turn`] for a message carrying `attachments`, staged
    /// by `owner`: they are linked to the user message in the same
    /// transaction, or the message is refused and they stay staged.
    pub async fn enqueue_turn_with(
        &self,
        owner: &UserId,
        project: &ProjectId,
        content: &str,
        attachments: &[AttachmentId],
        default_credits: i64,
        max_attempts: i64,
    ) -> Result<Result<EnqueuedTurn, EnqueueRefusal>, StoreError> {
        let request = TurnRequest {
            attachments,
            ..TurnRequest::build(content)
        };
        self.enqueue_request(owner, project, &request, default_credits, max_attempts)
            .await
    }

    /// Accepts `request` in `owner`'s `project`: a credit, the user's
    /// message with its attachments, the pending answer and the job, all or
    /// nothing. A plan to build must be a finished plan of the project.
    pub async fn enqueue_request(
        &self,
        owner: &UserId,
        project: &ProjectId,
        request: &TurnRequest<'_>,
        default_credits: i64,
        max_attempts: i64,
    ) -> Result<Result<EnqueuedTurn, EnqueueRefusal>, StoreError> {
        let TurnRequest {
            content,
            attachments,
            mode,
            plan,
        } = *request;
        let now = now_ms();
        self.prepare_usage(owner, default_credits, now).await?;
        // The first statement writes: on SQLite a transaction that read
        // first could not wait for the write lock (it fails at once with
        // "database is locked" when another write landed in between).
        let mut tx = self.pool.begin().await?;
        let spent = sqlx::query(
            "UPDATE usage SET credits_used = credits_used + 1
             WHERE user_id = $1 AND credits_used < credits_limit
             RETURNING credits_limit, credits_used, period_start",
        )
        .bind(owner.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        match hold_project(&mut tx, owner, project, now).await? {
            Held::Idle => {}
            Held::Missing => return Ok(Err(EnqueueRefusal::NoProject)),
            // Dropping the transaction gives a spent credit back.
            Held::Busy => return Ok(Err(EnqueueRefusal::Busy)),
        }
        let Some(spent) = spent else {
            drop(tx);
            let usage = self.usage(owner, default_credits, now).await?;
            return Ok(Err(EnqueueRefusal::OutOfCredits(usage)));
        };
        let usage = usage_row(&spent)?;
        if let Some(plan) = plan {
            if !is_plan_in(&mut tx, project, plan).await? {
                return Ok(Err(EnqueueRefusal::NoPlan));
            }
        }
        let user_message = MessageId::from_raw(new_id());
        let assistant_message = MessageId::from_raw(new_id());
        for (id, role, text, status, at, plan) in [
            (&user_message, "user", content, "done", now, plan),
            // A millisecond later, so the two keep their order by time.
            (
                &assistant_message,
                "assistant",
                "",
                "pending",
                now + 1,
                None,
            ),
        ] {
            sqlx::query(
                "INSERT INTO messages (id, project_id, role, content, status, created_at, updated_at, mode, plan_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)",
            )
            .bind(id.as_str())
            .bind(project.as_str())
            .bind(role)
            .bind(text)
            .bind(status)
            .bind(at)
            .bind(mode.as_str())
            .bind(plan.map(MessageId::as_str))
            .execute(&mut *tx)
            .await?;
        }
        // Dropping the transaction (a refusal) unlinks what was linked.
        if let Err(refusal) = attach_in(&mut tx, owner, &user_message, attachments).await? {
            return Ok(Err(EnqueueRefusal::Attachments(refusal)));
        }
        let turn = TurnJob {
            owner: owner.clone(),
            project: project.clone(),
            user_message,
            assistant_message,
        };
        let payload =
            serde_json::to_string(&turn).map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let row = sqlx::query(
            "INSERT INTO jobs (id, kind, payload, message_id, state, attempts, max_attempts, run_at, created_at, updated_at)
             VALUES ($1, $2, $3, $6, 'queued', 0, $4, $5, $5, $5)
             RETURNING *",
        )
        .bind(new_id())
        .bind(TURN_JOB)
        .bind(&payload)
        .bind(max_attempts)
        .bind(now)
        .bind(turn.assistant_message.as_str())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(EnqueuedTurn {
            job: job_row(&row)?,
            turn,
            usage,
        }))
    }

    /// Takes the oldest job that is due, under a lease for `worker` until
    /// `now + lease_ms`, counting the attempt. `None` when nothing is due.
    pub async fn claim_job(
        &self,
        worker: &str,
        lease_ms: i64,
        now: i64,
    ) -> Result<Option<Job>, StoreError> {
        let pick = match self.backend() {
            Backend::Postgres => {
                "SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $3
                 ORDER BY run_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $3
                 ORDER BY run_at, created_at LIMIT 1"
            }
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2,
                 attempts = attempts + 1, updated_at = $3
             WHERE id = ({pick}) AND state = 'queued'
             RETURNING *"
        );
        let row = sqlx::query(&sql)
            .bind(worker)
            .bind(now + lease_ms)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_row).transpose()
    }

    /// Extends `worker`'s lease; `false` when the job is no longer its own
    /// (reclaimed, or cancelled): the worker must stop.
    pub async fn heartbeat_job(
        &self,
        id: &str,
        worker: &str,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET lease_expires_at = $1, updated_at = $2
             WHERE id = $3 AND lease_owner = $4 AND state = 'running'",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends `worker`'s job in `state` (done, dead or cancelled), with the
    /// reason for a dead one. `false` if the job was not the worker's.
    pub async fn end_job(
        &self,
        id: &str,
        worker: &str,
        state: JobState,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = $1, last_error = COALESCE($2, last_error), lease_owner = NULL,
                 lease_expires_at = NULL, updated_at = $3
             WHERE id = $4 AND lease_owner = $5 AND state = 'running'",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Puts `worker`'s job back in the queue, due at `run_at`, unless it is
    /// out of attempts: then it is dead. Returns the state it ended in.
    pub async fn retry_job(
        &self,
        id: &str,
        worker: &str,
        run_at: i64,
        error: &str,
    ) -> Result<Option<JobState>, StoreError> {
        let row = sqlx::query(
            "UPDATE jobs SET
                 state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
                 run_at = $1, last_error = $2, lease_owner = NULL, lease_expires_at = NULL,
                 updated_at = $3
             WHERE id = $4 AND lease_owner = $5 AND state = 'running'
             RETURNING state",
        )
        .bind(run_at)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .bind(worker)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| JobState::parse(&row.try_get::<String, _>("state")?))
            .transpose()
    }

    /// Running jobs whose lease has expired (their worker died) go back to
    /// the queue, or die when out of attempts. Returns the jobs touched.
    pub async fn reclaim_expired_jobs(&self, now: i64) -> Result<Vec<Job>, StoreError> {
        let rows = sqlx::query(
            "UPDATE jobs SET
                 state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
                 last_error = COALESCE(last_error, 'its worker stopped'),
                 lease_owner = NULL, lease_expires_at = NULL, run_at = $1, updated_at = $1
             WHERE state = 'running' AND lease_expires_at < $1
             RETURNING *",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_row).collect()
    }

    /// Cancels every queued or running turn of the owner's project (or, with
    /// `None`, of all the owner's projects), before they are deleted;
    /// returns the jobs' ids.
    pub async fn cancel_project_jobs(
        &self,
        owner: &UserId,
        project: Option<&ProjectId>,
    ) -> Result<Vec<String>, StoreError> {
        let ids = sqlx::query_scalar(
            "UPDATE jobs SET state = 'cancelled', updated_at = $1
             WHERE state IN ('queued', 'running') AND message_id IN (
                 SELECT m.id FROM messages m JOIN projects p ON p.id = m.project_id
                 WHERE p.owner_id = $2 AND ($3 = '' OR p.id = $3))
             RETURNING id",
        )
        .bind(now_ms())
        .bind(owner.as_str())
        .bind(project.map_or("", ProjectId::as_str))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }

    pub async fn job(&self, id: &str) -> Result<Option<Job>, StoreError> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_row).transpose()
    }
}
