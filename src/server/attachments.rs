//! Files users attach to messages: checked on upload (name, size, what the
//! bytes are), kept in the blob store and staged for their owner until a
//! message carries them (`turns::send_message`). Only the owner reads,
//! removes or sends one.

use ollio_domain::{
    attachment::{self, MAX_BYTES, MAX_FILES},
    AttachmentId, UserId,
};
use ollio_store::{blobs::Blobs, StoredAttachment};

use super::{request::internal, state::AppState};
use crate::error::AppError;

fn blobs(state: &AppState) -> Result<&Blobs, AppError> {
    state
        .blobs
        .as_ref()
        .ok_or_else(|| internal("attachments: no blob store is configured"))
}

/// Said when an upload is larger than a file may be (its name unknown
/// once the body is cut off).
pub fn too_large(name: &str) -> AppError {
    AppError::TooLarge {
        message: attachment::AttachmentError::TooLarge {
            name: name.to_owned(),
            size: MAX_BYTES + 1,
        }
        .to_string(),
    }
}

/// Checks `bytes` as the file `name` and keeps it as `owner`'s staged
/// attachment.
pub async fn upload(
    state: &AppState,
    owner: &UserId,
    name: &str,
    bytes: &[u8],
) -> Result<StoredAttachment, AppError> {
    let file = attachment::check(name, bytes).map_err(|error| match error {
        attachment::AttachmentError::TooLarge { .. } => AppError::TooLarge {
            message: error.to_string(),
        },
        other => AppError::invalid(other),
    })?;
    let blobs = blobs(state)?;
    let (staged, dropped) = state.store.stage_attachment(owner, &file).await?;
    if let Err(error) = blobs.put_attachment(&staged.id, bytes).await {
        let _ = state
            .store
            .delete_staged_attachment(owner, &staged.id)
            .await;
        return Err(internal(error));
    }
    for id in dropped {
        if let Err(error) = blobs.delete_attachment(&id).await {
            tracing::warn!(%error, attachment = %id, "a let-go attachment's file stays");
        }
    }
    Ok(staged)
}

/// `owner`'s attachment `id` and its bytes.
pub async fn download(
    state: &AppState,
    owner: &UserId,
    id: &AttachmentId,
) -> Result<(StoredAttachment, Vec<u8>), AppError> {
    let found = state
        .store
        .attachment(owner, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let bytes = blobs(state)?
        .attachment(id)
        .await
        .map_err(|error| internal(format!("attachment {id}: {error}")))?;
    Ok((found, bytes))
}

/// Forgets `owner`'s staged attachment `id` (the chip's "Remove").
pub async fn remove(state: &AppState, owner: &UserId, id: &AttachmentId) -> Result<(), AppError> {
    if !state.store.delete_staged_attachment(owner, id).await? {
        return Err(AppError::NotFound);
    }
    if let Err(error) = blobs(state)?.delete_attachment(id).await {
        tracing::warn!(%error, attachment = %id, "a removed attachment's file stays");
    }
    Ok(())
}

/// Forgets the files of attachments whose rows are gone or going (a
/// deleted project's or account's).
pub async fn forget(state: &AppState, ids: &[AttachmentId]) {
    let Some(blobs) = &state.blobs else {
        return;
    };
    for id in ids {
        if let Err(error) = blobs.delete_attachment(id).await {
            tracing::warn!(%error, attachment = %id, "a deleted attachment's file stays");
        }
    }
}

/// The ids a message names, comma-separated as the pages send them.
pub fn parse_ids(raw: Option<&str>) -> Result<Vec<AttachmentId>, AppError> {
    let ids: Vec<AttachmentId> = raw
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| AttachmentId::from_raw(id.to_owned()))
        .collect();
    if ids.len() > MAX_FILES {
        return Err(AppError::invalid(attachment::AttachmentError::TooMany));
    }
    Ok(ids)
}
