//! The Code tab's editor saving a file: a version of the user's own.

use leptos::prelude::*;

use crate::{dto::workspace::VersionView, error::AppError};

/// Saves `content` as the file `path` of `project`: written into its
/// sandbox at once and kept as a version ("Edited {path}", folding saves
/// that follow one another). Refused, with the reason, while a turn runs.
#[server(prefix = "/api", endpoint = "save_file")]
pub async fn save_file(
    project: String,
    path: String,
    content: String,
) -> Result<VersionView, AppError> {
    use ollio_domain::ProjectId;

    use crate::server::{auth, edits, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let project = ProjectId::from_raw(project);
        let saved =
            edits::save_file(&request::state()?, &user.id, &project, &path, content).await?;
        Ok(saved.into())
    })
    .await
}

/// The explorer's changes, each a version like a save.
#[cfg(feature = "ssr")]
async fn change(
    project: String,
    change: crate::server::edits::FileChange,
) -> Result<VersionView, AppError> {
    use ollio_domain::ProjectId;

    use crate::server::{auth, edits, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let project = ProjectId::from_raw(project);
        let changed = edits::change(&request::state()?, &user.id, &project, change).await?;
        Ok(changed.into())
    })
    .await
}

/// "New file": an empty file at `path`, refused if the path is taken.
#[server(prefix = "/api", endpoint = "new_file")]
pub async fn new_file(project: String, path: String) -> Result<VersionView, AppError> {
    change(project, crate::server::edits::FileChange::NewFile(path)).await
}

/// "New folder": kept in the version by an empty `.gitkeep` inside.
#[server(prefix = "/api", endpoint = "new_folder")]
pub async fn new_folder(project: String, path: String) -> Result<VersionView, AppError> {
    change(project, crate::server::edits::FileChange::NewFolder(path)).await
}

/// "Rename": a file or a folder, to a path not taken.
#[server(prefix = "/api", endpoint = "rename_path")]
pub async fn rename_path(
    project: String,
    from: String,
    to: String,
) -> Result<VersionView, AppError> {
    change(
        project,
        crate::server::edits::FileChange::Rename { from, to },
    )
    .await
}

/// "Delete": a file, or a folder with everything in it.
#[server(prefix = "/api", endpoint = "delete_path")]
pub async fn delete_path(project: String, path: String) -> Result<VersionView, AppError> {
    change(project, crate::server::edits::FileChange::Delete(path)).await
}
