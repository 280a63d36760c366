use sqlx::{any::AnyRow, Row};

use super::{now_ms, Backend, Store, StoreError};
use ollio_domain::{MessageId, ProjectId, UserId};

/// One recorded step of a turn. `seq` orders a project's events without gaps,
/// so a client that saw up to `seq` can resume exactly after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub project: ProjectId,
    pub seq: i64,
    pub message: MessageId,
    pub kind: String,
    /// JSON text; its shape depends on `kind`.
    pub payload: String,
    pub created_at: i64,
}

fn event(row: &AnyRow) -> Result<StoredEvent, sqlx::Error> {
    Ok(StoredEvent {
        project: ProjectId::from_raw(row.try_get::<String, _>("project_id")?),
        seq: row.try_get("seq")?,
        message: MessageId::from_raw(row.try_get::<String, _>("message_id")?),
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Records an event under the project's next sequence number. The counter
    /// row is locked by the update, so concurrent appends never share a number.
    pub async fn append_event(
        &self,
        project: &ProjectId,
        message: &MessageId,
        kind: &str,
        payload: &str,
    ) -> Result<StoredEvent, StoreError> {
        let mut tx = self.pool.begin().await?;
        let stored = append_in(&mut tx, self.backend(), project, message, kind, payload).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Up to `limit` of the owner's project events with `seq > after`, in order.
    pub async fn events_after(
        &self,
        owner: &UserId,
        project: &ProjectId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.project_id, e.seq, e.message_id, e.kind, e.payload, e.created_at
             FROM message_events e JOIN projects p ON p.id = e.project_id
             WHERE e.project_id = $1 AND p.owner_id = $2 AND e.seq > $3
             ORDER BY e.seq LIMIT $4",
        )
        .bind(project.as_str())
        .bind(owner.as_str())
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(event).collect::<Result<_, _>>()?)
    }

    /// The events of one of the owner's turns (assistant message), in order.
    pub async fn message_events(
        &self,
        owner: &UserId,
        message: &MessageId,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.project_id, e.seq, e.message_id, e.kind, e.payload, e.created_at
             FROM message_events e JOIN projects p ON p.id = e.project_id
             WHERE e.message_id = $1 AND p.owner_id = $2
             ORDER BY e.seq",
        )
        .bind(message.as_str())
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(event).collect::<Result<_, _>>()?)
    }

    /// The events of one of the owner's turns but its command output: the
    /// steps, in order (output can run to thousands of rows).
    pub async fn message_steps(
        &self,
        owner: &UserId,
        message: &MessageId,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.project_id, e.seq, e.message_id, e.kind, e.payload, e.created_at
             FROM message_events e JOIN projects p ON p.id = e.project_id
             WHERE e.message_id = $1 AND p.owner_id = $2 AND e.kind <> 'output'
             ORDER BY e.seq",
        )
        .bind(message.as_str())
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(event).collect::<Result<_, _>>()?)
    }

    /// The newest event of one of the owner's turns whose kind starts with
    /// `kind_prefix`.
    pub async fn last_message_event(
        &self,
        owner: &UserId,
        message: &MessageId,
        kind_prefix: &str,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let row = sqlx::query(
            "SELECT e.project_id, e.seq, e.message_id, e.kind, e.payload, e.created_at
             FROM message_events e JOIN projects p ON p.id = e.project_id
             WHERE e.message_id = $1 AND p.owner_id = $2 AND e.kind LIKE $3
             ORDER BY e.seq DESC LIMIT 1",
        )
        .bind(message.as_str())
        .bind(owner.as_str())
        .bind(format!("{kind_prefix}%"))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(event).transpose()?)
    }

    /// The project's newest event number (0 before any): a stream started
    /// after it brings only what happens next.
    pub async fn last_event_seq(&self, project: &ProjectId) -> Result<i64, StoreError> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT event_seq FROM projects WHERE id = $1")
            .bind(project.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0))
    }
}

/// [`Store::append_event`] inside the caller's transaction. On PostgreSQL
/// the project is also notified on [`EVENTS_CHANNEL`] (delivered when the
/// transaction commits), so streams in other processes look at once.
pub(super) async fn append_in(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    project: &ProjectId,
    message: &MessageId,
    kind: &str,
    payload: &str,
) -> Result<StoredEvent, StoreError> {
    let seq: i64 = sqlx::query_scalar(
        "UPDATE projects SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq",
    )
    .bind(project.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let row = sqlx::query(
        "INSERT INTO message_events (project_id, seq, message_id, kind, payload, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING project_id, seq, message_id, kind, payload, created_at",
    )
    .bind(project.as_str())
    .bind(seq)
    .bind(message.as_str())
    .bind(kind)
    .bind(payload)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(EVENTS_CHANNEL)
            .bind(project.as_str())
            .execute(&mut *tx)
            .await?;
    }
    Ok(event(&row)?)
}

/// The PostgreSQL channel that names projects with new events.
pub const EVENTS_CHANNEL: &str = "ollio_events";

/// Projects with new events, as other processes append them (PostgreSQL's
/// `LISTEN`); see [`Store::event_notifications`].
pub struct EventNotifications(sqlx::postgres::PgListener);

impl EventNotifications {
    /// The next project with new events. A lost connection is made again
    /// by the listener; notifications sent meanwhile are lost, which the
    /// streams' own look once a second covers.
    pub async fn next(&mut self) -> Result<ProjectId, StoreError> {
        let notification = self.0.recv().await?;
        Ok(ProjectId::from_raw(notification.payload()))
    }
}

impl Store {
    /// Notifications of new events from every process, on PostgreSQL;
    /// `None` on SQLite, where one process holds the database.
    pub async fn event_notifications(&self) -> Result<Option<EventNotifications>, StoreError> {
        let Some(url) = &self.listen_url else {
            return Ok(None);
        };
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        Ok(Some(EventNotifications(listener)))
    }
}
