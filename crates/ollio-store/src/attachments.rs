//! Files attached to messages. A file is uploaded (checked, its bytes kept
//! as a blob) before its message is sent: it waits as its owner's staged
//! attachment until [`Store::enqueue_turn_with`] links it to the user
//! message that carries it, in the same transaction as the turn. The rows
//! say what each file is; the bytes live in the blob store.

use sqlx::{any::AnyRow, Row};

use super::{new_id, now_ms, Store, StoreError};
use ollio_domain::{
    attachment::{Attachment, AttachmentKind, AttachmentName, MAX_FILES},
    AttachmentId, MessageId, ProjectId, UserId,
};

/// Staged attachments one user may have waiting; older ones beyond it are
/// let go when another is uploaded (a tab closed before sending).
pub const MAX_STAGED: usize = 4 * MAX_FILES;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    pub id: AttachmentId,
    pub owner: UserId,
    /// The user message carrying it; `None` while it is staged.
    pub message: Option<MessageId>,
    pub file: Attachment,
    pub created_at: i64,
}

/// Why a message's attachments could not go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachRefusal {
    /// Not the sender's, gone, or sent with another message already.
    Missing,
    /// More than [`MAX_FILES`].
    TooMany,
    /// Two files of one message with one name (they would land on one path).
    SameName(String),
}

impl std::fmt::Display for AttachRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => f.write_str(
                "An attached file is no longer there (removed, or sent already): attach it again.",
            ),
            Self::TooMany => write!(f, "Attach at most {MAX_FILES} files to one message."),
            Self::SameName(name) => write!(
                f,
                "Two attached files are named {name}: rename one, or attach it once."
            ),
        }
    }
}

const COLUMNS: &str = "id, owner_id, message_id, name, kind, size, created_at";

fn attachment_row(row: &AnyRow) -> Result<StoredAttachment, StoreError> {
    let corrupt = |what: String| StoreError::Corrupt(format!("attachment {what}"));
    let name: String = row.try_get("name")?;
    let kind: String = row.try_get("kind")?;
    let size: i64 = row.try_get("size")?;
    Ok(StoredAttachment {
        id: AttachmentId::from_raw(row.try_get::<String, _>("id")?),
        owner: UserId::from_raw(row.try_get::<String, _>("owner_id")?),
        message: row
            .try_get::<Option<String>, _>("message_id")?
            .map(MessageId::from_raw),
        file: Attachment {
            name: AttachmentName::parse(&name).map_err(|_| corrupt(format!("name `{name}`")))?,
            kind: AttachmentKind::parse(&kind).ok_or_else(|| corrupt(format!("kind `{kind}`")))?,
            size: usize::try_from(size).map_err(|_| corrupt(format!("size {size}")))?,
        },
        created_at: row.try_get("created_at")?,
    })
}

/// Links `ids`, staged by `owner`, to `message`, in their order. Nothing is
/// linked unless all are.
pub(super) async fn attach_in(
    tx: &mut sqlx::AnyConnection,
    owner: &UserId,
    message: &MessageId,
    ids: &[AttachmentId],
) -> Result<Result<(), AttachRefusal>, StoreError> {
    if ids.len() > MAX_FILES {
        return Ok(Err(AttachRefusal::TooMany));
    }
    let mut names: Vec<String> = Vec::with_capacity(ids.len());
    for (position, id) in ids.iter().enumerate() {
        let name: Option<String> = sqlx::query_scalar(
            "UPDATE attachments SET message_id = $1, position = $2
             WHERE id = $3 AND owner_id = $4 AND message_id IS NULL
             RETURNING name",
        )
        .bind(message.as_str())
        .bind(position as i64)
        .bind(id.as_str())
        .bind(owner.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(name) = name else {
            return Ok(Err(AttachRefusal::Missing));
        };
        if names.contains(&name) {
            return Ok(Err(AttachRefusal::SameName(name)));
        }
        names.push(name);
    }
    Ok(Ok(()))
}

impl Store {
    /// Records a checked file as `owner`'s staged attachment. Returns it and
    /// the staged attachments let go to stay within [`MAX_STAGED`] (their
    /// blobs are the caller's to delete).
    pub async fn stage_attachment(
        &self,
        owner: &UserId,
        file: &Attachment,
    ) -> Result<(StoredAttachment, Vec<AttachmentId>), StoreError> {
        let now = now_ms();
        let row = sqlx::query(&format!(
            "INSERT INTO attachments (id, owner_id, message_id, name, kind, size, created_at)
             VALUES ($1, $2, NULL, $3, $4, $5, $6)
             RETURNING {COLUMNS}"
        ))
        .bind(new_id())
        .bind(owner.as_str())
        .bind(file.name.as_str())
        .bind(file.kind.as_str())
        .bind(file.size as i64)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        let staged = attachment_row(&row)?;
        // Ids are time-ordered (UUIDv7): the newest first, the rest let go.
        let old: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM attachments WHERE owner_id = $1 AND message_id IS NULL
             ORDER BY id DESC LIMIT 1000 OFFSET $2",
        )
        .bind(owner.as_str())
        .bind(MAX_STAGED as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut dropped = Vec::with_capacity(old.len());
        for id in old {
            let gone = sqlx::query(
                "DELETE FROM attachments WHERE id = $1 AND owner_id = $2 AND message_id IS NULL",
            )
            .bind(&id)
            .bind(owner.as_str())
            .execute(&self.pool)
            .await?;
            if gone.rows_affected() > 0 {
                dropped.push(AttachmentId::from_raw(id));
            }
        }
        Ok((staged, dropped))
    }

    /// `owner`'s attachment `id`, staged or sent.
    pub async fn attachment(
        &self,
        owner: &UserId,
        id: &AttachmentId,
    ) -> Result<Option<StoredAttachment>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM attachments WHERE id = $1 AND owner_id = $2"
        ))
        .bind(id.as_str())
        .bind(owner.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(attachment_row).transpose()
    }

    /// `owner`'s staged attachments, oldest first.
    pub async fn staged_attachments(
        &self,
        owner: &UserId,
    ) -> Result<Vec<StoredAttachment>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM attachments WHERE owner_id = $1 AND message_id IS NULL
             ORDER BY id"
        ))
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attachment_row).collect()
    }

    /// Forgets `owner`'s staged attachment `id`; `false` when there is no
    /// such staged one (a sent file stays with its message).
    pub async fn delete_staged_attachment(
        &self,
        owner: &UserId,
        id: &AttachmentId,
    ) -> Result<bool, StoreError> {
        let gone = sqlx::query(
            "DELETE FROM attachments WHERE id = $1 AND owner_id = $2 AND message_id IS NULL",
        )
        .bind(id.as_str())
        .bind(owner.as_str())
        .execute(&self.pool)
        .await?;
        Ok(gone.rows_affected() > 0)
    }

    /// The files `message` of `owner`'s carries, in the order attached.
    pub async fn message_attachments(
        &self,
        owner: &UserId,
        message: &MessageId,
    ) -> Result<Vec<StoredAttachment>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM attachments WHERE message_id = $1 AND owner_id = $2
             ORDER BY position"
        ))
        .bind(message.as_str())
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attachment_row).collect()
    }

    /// Every file sent in `owner`'s `project`, by message and then in the
    /// order attached.
    pub async fn project_attachments(
        &self,
        owner: &UserId,
        project: &ProjectId,
    ) -> Result<Vec<StoredAttachment>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.owner_id, a.message_id, a.name, a.kind, a.size, a.created_at
             FROM attachments a JOIN messages m ON m.id = a.message_id
             WHERE m.project_id = $1 AND a.owner_id = $2
             ORDER BY m.created_at, m.id, a.position",
        )
        .bind(project.as_str())
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attachment_row).collect()
    }

    /// The ids of every attachment of `owner`'s, for deleting their blobs
    /// with the account.
    pub async fn owner_attachment_ids(
        &self,
        owner: &UserId,
    ) -> Result<Vec<AttachmentId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM attachments WHERE owner_id = $1")
            .bind(owner.as_str())
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().map(AttachmentId::from_raw).collect())
    }
}
