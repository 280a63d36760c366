//! What the user changes in the Code tab: files saved in the editor, and
//! the explorer's new files and folders, renames and deletes. Paths are
//! checked like the agent's (inside the project) and, for new names, as
//! portable (nothing Windows or a zip tool would turn into something else).
//! Each change goes into the project's live sandbox at once (so the preview
//! shows it) and into a version (`ollio_store::edits`: "Edited index.html";
//! changes with no turn between fold into one). Refused while a turn runs:
//! the editor keeps what was typed.

use ollio_agent::{
    snapshot::{language_of, MAX_TEXT_FILE},
    tools::{in_sandbox, project_path},
};
use ollio_domain::{file_path::portable_path, ProjectId, UserId};
use ollio_sandbox::{Envd, SandboxError};
use ollio_store::{Edit, EditRefusal, NewFile, Version};

use super::state::AppState;
use crate::error::AppError;

/// What a refused save says: the turn's work and the user's would collide.
pub const BUSY: &str =
    "Ollio is working on this project: your changes stay in the editor. Save again when the turn ends, or press Stop.";

/// The file a new folder is kept by: a version holds files, not folders.
pub const FOLDER_KEEPER: &str = ".gitkeep";

/// A change from the explorer.
#[derive(Debug, Clone)]
pub enum FileChange {
    NewFile(String),
    NewFolder(String),
    Rename { from: String, to: String },
    Delete(String),
}

/// Saves `content` as `owner`'s file `path` in `project`.
pub async fn save_file(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    path: &str,
    content: String,
) -> Result<Version, AppError> {
    apply(state, owner, project, put(path, content)?).await
}

/// Saves an accepted "Ask AI" proposal: `content` as `path`, a version of
/// its own titled `title`.
pub async fn save_titled(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    path: &str,
    content: String,
    title: &str,
) -> Result<Version, AppError> {
    apply_titled(state, owner, project, put(path, content)?, Some(title)).await
}

/// Makes the explorer's `change` to `owner`'s `project`.
pub async fn change(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    change: FileChange,
) -> Result<Version, AppError> {
    let edit = match change {
        FileChange::NewFile(path) => Edit::Create(text_file(new_name(&path)?, String::new())),
        FileChange::NewFolder(path) => {
            let folder = new_name(&path)?;
            Edit::Create(text_file(
                format!("{folder}/{FOLDER_KEEPER}"),
                String::new(),
            ))
        }
        FileChange::Rename { from, to } => Edit::Rename {
            from: inside(&from)?,
            to: new_name(&to)?,
        },
        FileChange::Delete(path) => Edit::Delete(inside(&path)?),
    };
    apply(state, owner, project, edit).await
}

/// Writing `content` as the file `path`, within what a version keeps.
fn put(path: &str, content: String) -> Result<Edit, AppError> {
    let path = inside(path)?;
    if content.len() as u64 > MAX_TEXT_FILE {
        return Err(AppError::invalid(format!(
            "{path} is larger than a version keeps ({} KB at most).",
            MAX_TEXT_FILE / 1024
        )));
    }
    Ok(Edit::Put(text_file(path, content)))
}

fn text_file(path: String, content: String) -> NewFile {
    NewFile {
        language: language_of(&path).to_owned(),
        path,
        content,
        binary: false,
    }
}

/// A path of the project's, as the agent's are checked.
fn inside(path: &str) -> Result<String, AppError> {
    project_path(path).map_err(|error| AppError::invalid(error.to_string()))
}

/// A name the user gives a new file, folder or rename.
fn new_name(path: &str) -> Result<String, AppError> {
    let path = portable_path(path).map_err(AppError::invalid)?;
    inside(&path)
}

async fn apply(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    edit: Edit,
) -> Result<Version, AppError> {
    apply_titled(state, owner, project, edit, None).await
}

async fn apply_titled(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    edit: Edit,
    title: Option<&str>,
) -> Result<Version, AppError> {
    let saved = state
        .store
        .apply_edit_titled(owner, project, edit.clone(), title)
        .await?;
    let version = match saved {
        Ok(version) => version,
        Err(EditRefusal::NotFound) => return Err(AppError::NotFound),
        Err(EditRefusal::Busy) => return Err(AppError::invalid(BUSY)),
        Err(EditRefusal::Missing) => {
            return Err(AppError::invalid(
                "That file or folder is not in the newest version.",
            ))
        }
        Err(EditRefusal::Exists) => {
            return Err(AppError::invalid(
                "A file or folder of that name is already there.",
            ))
        }
    };
    into_sandbox(state, project, &edit).await?;
    state.hub.notify(project);
    Ok(version)
}

/// Makes the change in the project's working sandbox, if one is live. One
/// that cannot take it is let go: the next preview starts from the version,
/// which has the change.
async fn into_sandbox(state: &AppState, project: &ProjectId, edit: &Edit) -> Result<(), AppError> {
    let (Some(access), Some(live)) = (&state.sandbox, state.store.current_sandbox(project).await?)
    else {
        return Ok(());
    };
    let done = match access.client.get(&live.id).await {
        Ok(detail) => run(&access.client.envd(&detail.into()), edit).await,
        Err(error) => Err(error),
    };
    if let Err(error) = done {
        tracing::warn!(%error, sandbox = %live.id, "a change could not be made in its sandbox");
        state.store.end_sandbox(&live.id).await?;
        let _ = access.client.kill(&live.id).await;
    }
    Ok(())
}

async fn run(envd: &Envd, edit: &Edit) -> Result<(), SandboxError> {
    match edit {
        Edit::Put(file) | Edit::Create(file) => envd
            .write_file(&in_sandbox(&file.path), file.content.as_bytes())
            .await
            .map(|_| ()),
        Edit::Delete(path) => envd.remove(&in_sandbox(path)).await,
        Edit::Rename { from, to } => {
            if let Some((parent, _)) = to.rsplit_once('/') {
                // Its folder may be new; one already there is fine.
                let _ = envd.make_dir(&in_sandbox(parent)).await;
            }
            envd.rename(&in_sandbox(from), &in_sandbox(to))
                .await
                .map(|_| ())
        }
    }
}
