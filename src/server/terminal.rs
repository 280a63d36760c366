//! The Code tab's terminal: a real bash on a pty in the project's working
//! sandbox (started from the newest version if it sleeps), kept by
//! `terminal_sessions` across dropped connections. What commands in it
//! change is compared with the newest version (`changes`), and "Save
//! changes" keeps the sandbox's files as a version, "Changed in the
//! terminal".

use std::{collections::BTreeMap, sync::Arc};

use ollio_agent::{snapshot, templates, tools::PROJECT_ROOT};
use ollio_domain::{ProjectId, UserId};
use ollio_sandbox::{wire::PtySize, CommandEvent, Envd};
use ollio_store::{EditRefusal, Version};

use super::{
    edits,
    previews::{Preview, Previews},
    projects,
    state::AppState,
    terminal_sessions::Shell,
};
use crate::error::AppError;

/// The title of a version saved from the terminal.
pub const SAVED_TITLE: &str = "Changed in the terminal";
const NOTHING_TO_RUN: &str =
    "There is nothing to run yet: the terminal opens once the project has files.";
const NOTHING_CHANGED: &str = "Nothing changed in the terminal since the newest version.";

/// A file that differs between the sandbox and the newest version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    /// "added", "modified" or "deleted".
    pub kind: &'static str,
}

/// `owner`'s shell in `project`: the one open already, else a new one of
/// `size`, in the working sandbox (started if it sleeps).
pub async fn open(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    size: PtySize,
) -> Result<Arc<Shell>, AppError> {
    let (sandbox_id, envd) = working_sandbox(state, owner, project, true).await?;
    if let Some(shell) = state.terminals.live(project, &sandbox_id) {
        return Ok(shell);
    }
    let mut stream = envd
        .start_terminal(size, Some(PROJECT_ROOT))
        .await
        .map_err(|error| AppError::invalid(format!("The terminal could not start: {error}")))?;
    let pid = match stream.next().await {
        Ok(Some(CommandEvent::Started { pid })) => pid,
        other => {
            return Err(AppError::invalid(format!(
                "The terminal could not start: {}",
                other
                    .err()
                    .map_or("no shell".into(), |error| error.to_string())
            )))
        }
    };
    Ok(state.terminals.keep(project, sandbox_id, envd, pid, stream))
}

/// The files the sandbox has changed since the newest version, by path;
/// nothing while no sandbox runs.
pub async fn changes(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
) -> Result<Vec<Change>, AppError> {
    // Another user's project is not found; one with no sandbox changed nothing.
    let newest = newest(state, owner, project).await?;
    let Ok((_, envd)) = working_sandbox(state, owner, project, false).await else {
        return Ok(Vec::new());
    };
    let (now, _) = read(state, owner, project, &envd).await?;
    compare(state, owner, &newest, &now).await
}

/// Keeps what the sandbox holds now as a version, "Changed in the
/// terminal"; refused while a turn runs, or when nothing changed.
pub async fn save_changes(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
) -> Result<Version, AppError> {
    let newest = newest(state, owner, project).await?;
    let (_, envd) = working_sandbox(state, owner, project, false).await?;
    let (files, left_out) = read(state, owner, project, &envd).await?;
    if compare(state, owner, &newest, &files).await?.is_empty() {
        return Err(AppError::invalid(NOTHING_CHANGED));
    }
    let saved = state
        .store
        .save_snapshot(owner, project, SAVED_TITLE, files, left_out)
        .await?;
    let version = match saved {
        Ok(version) => version,
        Err(EditRefusal::Busy) => return Err(AppError::invalid(edits::BUSY)),
        Err(EditRefusal::NotFound) => return Err(AppError::NotFound),
        Err(EditRefusal::Missing | EditRefusal::Exists) => {
            return Err(AppError::invalid(NOTHING_TO_RUN))
        }
    };
    state.hub.notify(project);
    Ok(version)
}

/// How the sandbox's files `now` differ from version `newest`'s.
async fn compare(
    state: &AppState,
    owner: &UserId,
    newest: &Version,
    now: &[ollio_store::NewFile],
) -> Result<Vec<Change>, AppError> {
    let kept: BTreeMap<String, String> = state
        .store
        .version_files(owner, &newest.id)
        .await?
        .into_iter()
        .map(|file| (file.path, file.content))
        .collect();
    let mut changes: Vec<Change> = now
        .iter()
        .filter_map(|file| {
            match kept.get(&file.path) {
                None => Some("added"),
                Some(content) if *content != file.content => Some("modified"),
                Some(_) => None,
            }
            .map(|kind| Change {
                path: file.path.clone(),
                kind,
            })
        })
        .collect();
    changes.extend(
        kept.keys()
            .filter(|path| !now.iter().any(|file| file.path == **path))
            .map(|path| Change {
                path: path.clone(),
                kind: "deleted",
            }),
    );
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

async fn newest(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
) -> Result<Version, AppError> {
    projects::owned(state, owner, project).await?;
    state
        .store
        .versions(owner, project)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::invalid(NOTHING_TO_RUN))
}

/// The sandbox's files as a version would keep them.
async fn read(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    envd: &Envd,
) -> Result<(Vec<ollio_store::NewFile>, Vec<ollio_store::LeftOut>), AppError> {
    let template = projects::owned(state, owner, project).await?.template;
    let artifacts = templates::find(&template)
        .and_then(|template| template.training.as_ref())
        .map(|training| training.artifacts);
    let snapshot = snapshot::read_project(envd, artifacts)
        .await
        .map_err(|error| AppError::invalid(format!("The sandbox could not be read: {error}")))?;
    Ok((snapshot.files, snapshot.left_out))
}

/// The project's working sandbox and its envd; with `start`, one is made
/// from the newest version if none runs.
async fn working_sandbox(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    start: bool,
) -> Result<(String, Envd), AppError> {
    let newest = newest(state, owner, project).await?;
    let Some(access) = &state.sandbox else {
        return Err(AppError::invalid(
            "The terminal needs a sandbox service, and this server has none set up.",
        ));
    };
    if start {
        match Previews::new(state).start(owner, &newest.id).await? {
            Preview::Running { .. } => {}
            Preview::Failed(reason) => return Err(AppError::invalid(reason)),
            Preview::Asleep | Preview::Nothing => {
                return Err(AppError::invalid(
                    "The sandbox is not running yet: try again in a moment.",
                ))
            }
        }
    }
    let live = state
        .store
        .current_sandbox(project)
        .await?
        .ok_or_else(|| AppError::invalid("No sandbox runs this project now."))?;
    let detail = access.client.get(&live.id).await.map_err(|error| {
        tracing::info!(%error, "a project's sandbox is gone");
        AppError::invalid("The sandbox stopped: open the terminal again to start it.")
    })?;
    Ok((live.id, access.client.envd(&detail.into())))
}
