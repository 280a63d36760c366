//! Files the user saves in the Code tab's editor: checked like the agent's
//! paths, written into the project's live sandbox at once (so the preview
//! shows them), and kept as a version ("Edited index.html"; saves with no
//! turn between fold into one). Refused while a turn runs: the editor keeps
//! what was typed.

use ollio_agent::{
    snapshot::{language_of, MAX_TEXT_FILE},
    tools::{in_sandbox, project_path},
};
use ollio_domain::{ProjectId, UserId};
use ollio_store::{EditRefusal, NewFile, Version};

use super::state::AppState;
use crate::error::AppError;

/// What a refused save says: the turn's work and the user's would collide.
pub const BUSY: &str =
    "Ollio is working on this project: your changes stay in the editor. Save again when the turn ends, or press Stop.";

/// Saves `content` as `owner`'s file `path` in `project`.
pub async fn save_file(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    path: &str,
    content: String,
) -> Result<Version, AppError> {
    let path = project_path(path).map_err(|error| AppError::invalid(error.to_string()))?;
    if content.len() as u64 > MAX_TEXT_FILE {
        return Err(AppError::invalid(format!(
            "{path} is larger than a version keeps ({} KB at most).",
            MAX_TEXT_FILE / 1024
        )));
    }
    let file = NewFile {
        language: language_of(&path).to_owned(),
        path: path.clone(),
        content,
        binary: false,
    };
    let bytes = file.content.clone().into_bytes();
    let version = match state.store.save_edit(owner, project, file).await? {
        Ok(version) => version,
        Err(EditRefusal::NotFound) => return Err(AppError::NotFound),
        Err(EditRefusal::Busy) => return Err(AppError::invalid(BUSY)),
    };
    write_to_sandbox(state, project, &path, &bytes).await?;
    state.hub.notify(project);
    Ok(version)
}

/// Writes the saved file into the project's working sandbox, if one is
/// live. One that cannot take it is let go: the next preview starts from
/// the version, which has the file.
async fn write_to_sandbox(
    state: &AppState,
    project: &ProjectId,
    path: &str,
    bytes: &[u8],
) -> Result<(), AppError> {
    let (Some(access), Some(live)) = (&state.sandbox, state.store.current_sandbox(project).await?)
    else {
        return Ok(());
    };
    let written = match access.client.get(&live.id).await {
        Ok(detail) => access
            .client
            .envd(&detail.into())
            .write_file(&in_sandbox(path), bytes)
            .await
            .map(|_| ()),
        Err(error) => Err(error),
    };
    if let Err(error) = written {
        tracing::warn!(%error, sandbox = %live.id, "a saved file could not be written into its sandbox");
        state.store.end_sandbox(&live.id).await?;
        let _ = access.client.kill(&live.id).await;
    }
    Ok(())
}
