//! The project page's data in one read (the chat, the versions, the turn
//! still running with its steps so far, the credits left), a version's
//! files (listed, whole or highlighted), and restoring an old version as
//! the newest.

use ollio_domain::{ProjectId, TurnEvent, UserId, VersionId};
use ollio_store::{
    now_ms, MessageStatus, NewFile, NewVersion, Role, Store, StoreError, StoredAttachment, Version,
    VersionFile,
};

use super::{render, request::internal, state::AppState};
use crate::{
    dto::{
        chat::AttachmentView,
        usage::UsageView,
        workspace::{FileEntry, MessageView, ProjectPage, StepEvent, TrainingRunView, VersionView},
    },
    error::AppError,
};

/// `None` when the project does not exist or is not `owner`'s.
pub async fn project_page(
    store: &Store,
    owner: &UserId,
    project: &ProjectId,
    free_credits: i64,
) -> Result<Option<ProjectPage>, StoreError> {
    // The reads are independent: on PostgreSQL each waits a round trip,
    // so they go out together (every one is the owner's, or dropped).
    let now = now_ms();
    let (found, messages, last_seq, versions, usage, runs, attachments) = tokio::try_join!(
        store.project(owner, project),
        store.messages(owner, project),
        store.last_event_seq(project),
        store.versions(owner, project),
        store.usage(owner, free_credits, now),
        store.training_jobs(owner, project),
        store.project_attachments(owner, project),
    )?;
    let Some(found) = found else {
        return Ok(None);
    };
    let running = messages
        .iter()
        .find(|message| {
            message.role == Role::Assistant
                && matches!(
                    message.status,
                    MessageStatus::Pending | MessageStatus::Running
                )
        })
        .map(|message| message.id.clone());
    let running_events = async {
        let Some(message) = &running else {
            return Ok(Vec::new());
        };
        Ok(store
            .message_steps(owner, message)
            .await?
            .into_iter()
            .filter_map(|stored| {
                serde_json::from_str::<TurnEvent>(&stored.payload)
                    .ok()
                    .map(|event| StepEvent {
                        seq: stored.seq,
                        at_ms: stored.created_at,
                        event,
                    })
            })
            .collect())
    };
    let app_failed = async {
        match &running {
            Some(_) => Ok(None),
            None => newest_app_failure(store, owner, &messages).await,
        }
    };
    let files = async {
        let Some(newest) = versions.first() else {
            return Ok(Vec::new());
        };
        Ok(store
            .known_version_file_list(owner, &newest.id)
            .await?
            .iter()
            .cloned()
            .map(FileEntry::from)
            .collect())
    };
    let (running_events, app_failed, files) = tokio::try_join!(running_events, app_failed, files)?;
    let template = ollio_templates::find(&found.template);
    Ok(Some(ProjectPage {
        hot_reload: template.is_some_and(|t| t.hot_reload),
        has_app: template.is_some_and(|t| !t.start.is_empty()),
        trains: template.is_some_and(|t| t.training.is_some()),
        training_runs: runs
            .into_iter()
            .map(|run| TrainingRunView {
                message: run.message.to_string(),
                status: run.status.as_str().into(),
                log_tail: run.log_tail,
            })
            .collect(),
        app_failed,
        project: found.into(),
        messages: with_attachments(messages, attachments),
        versions: versions.into_iter().map(VersionView::from).collect(),
        running: running.map(|id| id.to_string()),
        running_events,
        last_seq,
        now_ms: now,
        usage: UsageView::from(usage),
        files,
    }))
}

/// The messages as the chat shows them, each user message with its files.
fn with_attachments(
    messages: Vec<ollio_store::Message>,
    attachments: Vec<StoredAttachment>,
) -> Vec<MessageView> {
    let mut by_message: std::collections::HashMap<String, Vec<AttachmentView>> =
        std::collections::HashMap::new();
    for attachment in attachments {
        if let Some(message) = &attachment.message {
            by_message
                .entry(message.to_string())
                .or_default()
                .push(AttachmentView::from(attachment));
        }
    }
    messages
        .into_iter()
        .map(|message| {
            let mut view = MessageView::from(message);
            view.attachments = by_message.remove(&view.id).unwrap_or_default();
            view
        })
        .collect()
}

/// The end of the app's log when the newest finished turn left an app that
/// did not start, so the Preview tab can say so after a reload too.
async fn newest_app_failure(
    store: &ollio_store::Store,
    owner: &UserId,
    messages: &[ollio_store::Message],
) -> Result<Option<String>, ollio_store::StoreError> {
    let Some(last) = messages
        .iter()
        .rev()
        .find(|message| message.role == Role::Assistant)
    else {
        return Ok(None);
    };
    let newest = store.last_message_event(owner, &last.id, "app_").await?;
    Ok(newest
        .and_then(|stored| serde_json::from_str::<TurnEvent>(&stored.payload).ok())
        .and_then(|event| match event {
            TurnEvent::AppFailed { log_tail } => Some(log_tail),
            _ => None,
        }))
}

/// Makes an older version the newest: a new version with its files; nothing
/// is deleted. Refused while a turn runs. The project's working sandbox is
/// let go, so the next turn or preview starts from the restored files.
pub async fn restore_version(
    state: &AppState,
    owner: &UserId,
    version: &VersionId,
) -> Result<Version, AppError> {
    state.budgets.restore(owner)?;
    let store = &state.store;
    let old = store
        .version(owner, version)
        .await?
        .ok_or(AppError::NotFound)?;
    if store.turn_in_progress(owner, &old.project).await? {
        return Err(AppError::invalid(
            "Ollio is still working on this project. Wait for it, or press Stop, then restore.",
        ));
    }
    let files = store.version_files(owner, version).await?;
    let restored = store
        .create_version(NewVersion {
            project: old.project.clone(),
            message: None,
            title: format!("Restored version {}", old.version),
            template: old.template.clone(),
            sandbox_id: None,
            preview_url: None,
            files: files.into_iter().map(NewFile::from).collect(),
            left_out: old.left_out.clone(),
            // The same files as the version restored: its check holds.
            check: old.check.clone(),
        })
        .await?;
    if let Some(current) = store.current_sandbox(&old.project).await? {
        store.end_sandbox(&current.id).await?;
        if let Some(sandbox) = &state.sandbox {
            // Best effort: it also dies at its end time.
            let _ = sandbox.client.kill(&current.id).await;
        }
    }
    // A restored ML model trains again, as its own version, for nothing.
    if ollio_templates::find(&old.template).is_some_and(|t| t.training.is_some()) {
        match store
            .enqueue_retrain(owner, &old.project, state.config.agent.job_attempts)
            .await?
        {
            Ok(_) => {
                if let Some(workers) = &state.workers {
                    workers.wake();
                }
                state.hub.notify(&old.project);
            }
            Err(refusal) => {
                tracing::info!(?refusal, project = %old.project, "a restored version was not trained")
            }
        }
    }
    Ok(restored)
}

/// `owner`'s version `id`'s files, paths and sizes only, sorted by path.
pub async fn file_list(
    store: &Store,
    owner: &UserId,
    id: &VersionId,
) -> Result<Vec<VersionFile>, AppError> {
    owned_version(store, owner, id).await?;
    Ok(store.version_file_list(owner, id).await?)
}

/// The most `version_files` answers with at once: the Code tab reads files
/// one at a time; a whole large version is for the zip.
pub const MAX_FILES_BYTES: i64 = 8 * 1024 * 1024;

/// `owner`'s version `id`'s files with their contents, sorted by path; a
/// version over [`MAX_FILES_BYTES`] is refused with what to do instead.
pub async fn files(
    store: &Store,
    owner: &UserId,
    id: &VersionId,
) -> Result<Vec<VersionFile>, AppError> {
    owned_version(store, owner, id).await?;
    let size = store.version_files_size(owner, id).await?;
    if size > MAX_FILES_BYTES {
        return Err(AppError::TooLarge {
            message: format!(
                "This version's files add up to {}, more than the {} sent at once. Download the version as a zip, or open its files one at a time.",
                ollio_domain::size_text(u64::try_from(size).unwrap_or(u64::MAX)),
                ollio_domain::size_text(MAX_FILES_BYTES as u64),
            ),
        });
    }
    Ok(store.version_files(owner, id).await?)
}

/// Not found unless `id` is one of `owner`'s versions (one with no files is
/// still a version).
async fn owned_version(store: &Store, owner: &UserId, id: &VersionId) -> Result<(), AppError> {
    match store.version(owner, id).await? {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound),
    }
}

/// One file of `owner`'s `version` with its lines as highlighted HTML.
pub async fn highlighted_file(
    store: &Store,
    owner: &UserId,
    version: &VersionId,
    path: &str,
) -> Result<(VersionFile, Vec<String>), AppError> {
    let file = store
        .version_file(owner, version, path)
        .await?
        .ok_or(AppError::NotFound)?;
    if file.binary {
        return Ok((file, Vec::new()));
    }
    let lines = render::highlighted_lines(file.language.clone(), file.content.clone())
        .await
        .map_err(internal)?;
    Ok((file, lines))
}
