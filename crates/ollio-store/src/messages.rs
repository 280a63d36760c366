use sqlx::{any::AnyRow, Row};

use super::{new_id, now_ms, Store, StoreError};
use ollio_domain::{MessageId, ProjectId, TurnMode, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

/// Where a message is in its life: a user's message is `done` at once; an
/// assistant's goes `pending` → `running` → `done` | `failed` | `cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    Pending,
    Running,
    Done,
    Failed,
    Cancelled,
}

macro_rules! text_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            fn parse(raw: &str) -> Result<Self, StoreError> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    other => Err(StoreError::Corrupt(format!("{} `{other}`", stringify!($ty)))),
                }
            }
        }
    };
}

text_enum!(Role { User => "user", Assistant => "assistant" });
text_enum!(MessageStatus {
    Pending => "pending",
    Running => "running",
    Done => "done",
    Failed => "failed",
    Cancelled => "cancelled",
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub project: ProjectId,
    pub role: Role,
    pub content: String,
    pub status: MessageStatus,
    pub error: Option<String>,
    pub model: Option<String>,
    /// Why that model: `build`, `quick edit`, `plan` or `ask` (`None` for
    /// training runs).
    pub model_role: Option<String>,
    /// What the message asked for (the answer keeps its request's mode).
    pub mode: TurnMode,
    /// The plan that a "Build this plan" message builds.
    pub plan: Option<MessageId>,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub created_at: i64,
}

fn message(row: &AnyRow) -> Result<Message, StoreError> {
    Ok(Message {
        id: MessageId::from_raw(row.try_get::<String, _>("id")?),
        project: ProjectId::from_raw(row.try_get::<String, _>("project_id")?),
        role: Role::parse(&row.try_get::<String, _>("role")?)?,
        content: row.try_get("content")?,
        status: MessageStatus::parse(&row.try_get::<String, _>("status")?)?,
        error: row.try_get("error")?,
        model: row.try_get("model")?,
        model_role: row.try_get("model_role")?,
        mode: TurnMode::parse(Some(&row.try_get::<String, _>("mode")?))
            .map_err(StoreError::Corrupt)?,
        plan: row
            .try_get::<Option<String>, _>("plan_id")?
            .map(MessageId::from_raw),
        tokens_in: row.try_get("tokens_in")?,
        tokens_out: row.try_get("tokens_out")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Appends a message to a project and marks the project updated. The
    /// caller has already checked that the project is the user's.
    pub async fn create_message(
        &self,
        project: &ProjectId,
        role: Role,
        content: &str,
        status: MessageStatus,
    ) -> Result<Message, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO messages (id, project_id, role, content, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             RETURNING *",
        )
        .bind(new_id())
        .bind(project.as_str())
        .bind(role.as_str())
        .bind(content)
        .bind(status.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE projects SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(project.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        message(&row)
    }

    /// The project's messages, oldest first, if the project is `owner`'s.
    pub async fn messages(
        &self,
        owner: &UserId,
        project: &ProjectId,
    ) -> Result<Vec<Message>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.* FROM messages m JOIN projects p ON p.id = m.project_id
             WHERE m.project_id = $1 AND p.owner_id = $2
             ORDER BY m.created_at, m.id",
        )
        .bind(project.as_str())
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(message).collect()
    }

    /// Whether a turn of the owner's project is still queued or running
    /// (its assistant message is pending or running).
    pub async fn turn_in_progress(
        &self,
        owner: &UserId,
        project: &ProjectId,
    ) -> Result<bool, StoreError> {
        let busy: Option<String> = sqlx::query_scalar(
            "SELECT m.id FROM messages m JOIN projects p ON p.id = m.project_id
             WHERE m.project_id = $1 AND p.owner_id = $2 AND m.role = 'assistant'
             AND m.status IN ('pending', 'running') LIMIT 1",
        )
        .bind(project.as_str())
        .bind(owner.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(busy.is_some())
    }

    /// Moves an unfinished message to `status` (pending or running). A
    /// message that has ended stays as it is: `false` then.
    pub async fn set_message_status(
        &self,
        id: &MessageId,
        status: MessageStatus,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE messages SET status = $1, error = $2, updated_at = $3
             WHERE id = $4 AND status IN ('pending', 'running')",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(now_ms())
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends a turn's assistant message, unless it has ended already: its
    /// summary (or nothing), its status and reason, and what the model used.
    pub async fn finish_message(
        &self,
        id: &MessageId,
        end: &MessageEnd<'_>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.pool.acquire().await?;
        finish_in(&mut conn, id, end).await
    }
}

/// [`Store::finish_message`] on the caller's connection or transaction.
pub(super) async fn finish_in(
    conn: &mut sqlx::AnyConnection,
    id: &MessageId,
    end: &MessageEnd<'_>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE messages SET content = $1, status = $2, error = $3, model = COALESCE($4, model),
             tokens_in = tokens_in + $5, tokens_out = tokens_out + $6, updated_at = $7,
             model_role = COALESCE($9, model_role)
         WHERE id = $8 AND status IN ('pending', 'running')",
    )
    .bind(end.content)
    .bind(end.status.as_str())
    .bind(end.error)
    .bind(end.model)
    .bind(end.tokens_in)
    .bind(end.tokens_out)
    .bind(now_ms())
    .bind(id.as_str())
    .bind(end.model_role)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// How a turn's assistant message ends.
#[derive(Debug, Clone, Copy)]
pub struct MessageEnd<'a> {
    pub content: &'a str,
    pub status: MessageStatus,
    pub error: Option<&'a str>,
    pub model: Option<&'a str>,
    /// Why that model ran the turn (`build`, `quick edit`).
    pub model_role: Option<&'a str>,
    pub tokens_in: i64,
    pub tokens_out: i64,
}
