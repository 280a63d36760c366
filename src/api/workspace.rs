//! What the project page works with: starting a project from a prompt,
//! the project's chat and versions, a version's files (plain or
//! highlighted), and restoring an old version as the newest.

use leptos::prelude::*;

pub use crate::dto::workspace::{
    FileEntry, FileView, HighlightedFile, LeftOutView, MessageView, ProjectPage, StartedProject,
    StepEvent, VersionView,
};
use crate::error::AppError;

/// Creates a project named after `prompt` and starts its first turn, with
/// the staged files `attachments` (their ids, comma-separated). With no
/// credit left, nothing is created.
#[server(prefix = "/api", endpoint = "start_project")]
pub async fn start_project(
    prompt: String,
    template: String,
    attachments: Option<String>,
) -> Result<StartedProject, AppError> {
    use ollio_domain::Prompt;

    use crate::server::{attachments as files, auth, request, turns};
    request::respond(async {
        let user = auth::require_user().await?;
        let prompt = Prompt::parse(&prompt).map_err(AppError::invalid)?;
        let files = files::parse_ids(attachments.as_deref())?;
        let (project, queued) =
            turns::start_project(&request::state()?, &user.id, &prompt, &template, &files).await?;
        // The home page's form posted without JavaScript: open the project.
        if request::is_native_form_post() {
            leptos_axum::redirect(&format!("/projects/{}", project.id));
        }
        Ok(StartedProject {
            project: project.id.to_string(),
            assistant_message: queued.turn.assistant_message.to_string(),
        })
    })
    .await
    .inspect_err(|error| request::back_with_typed(error, &[("prompt", &prompt)]))
}

#[server(prefix = "/api", endpoint = "project_view")]
pub async fn project_view(id: String) -> Result<ProjectPage, AppError> {
    use ollio_domain::ProjectId;

    use crate::server::{auth, request, workspace};
    request::respond(async move {
        let user = auth::require_user().await?;
        let state = request::state()?;
        let id = ProjectId::from_raw(id);
        workspace::project_page(&state.store, &user.id, &id, state.config.free_credits)
            .await?
            .ok_or(AppError::NotFound)
    })
    .await
}

/// A version's file list, sorted by path: what the tree shows, without the
/// contents (a version can have hundreds of files).
#[server(prefix = "/api", endpoint = "version_tree")]
pub async fn version_tree(version: String) -> Result<Vec<FileEntry>, AppError> {
    use ollio_domain::VersionId;

    use crate::server::{auth, request, workspace};
    request::respond(async move {
        let user = auth::require_user().await?;
        let store = request::state()?.store;
        let files = workspace::file_list(&store, &user.id, &VersionId::from_raw(version)).await?;
        Ok(files.into_iter().map(FileEntry::from).collect())
    })
    .await
}

/// A version's files, sorted by path.
#[server(prefix = "/api", endpoint = "version_files")]
pub async fn version_files(version: String) -> Result<Vec<FileView>, AppError> {
    use ollio_domain::VersionId;

    use crate::server::{auth, request, workspace};
    request::respond(async move {
        let user = auth::require_user().await?;
        let store = request::state()?.store;
        let files = workspace::files(&store, &user.id, &VersionId::from_raw(version)).await?;
        Ok(files
            .into_iter()
            .map(|file| FileView {
                path: file.path,
                language: file.language,
                content: file.content,
                size: file.size,
                binary: file.binary,
            })
            .collect())
    })
    .await
}

/// One file of a version with its lines highlighted (see
/// `server::render::highlight`). The call's own type is named
/// `HighlightedFileCall`, as [`HighlightedFile`] is the answer.
#[server(name = HighlightedFileCall, prefix = "/api", endpoint = "highlighted_file")]
pub async fn highlighted_file(version: String, path: String) -> Result<HighlightedFile, AppError> {
    use ollio_domain::VersionId;

    use crate::server::{auth, request, workspace};
    request::respond(async move {
        let user = auth::require_user().await?;
        let store = request::state()?.store;
        let version = VersionId::from_raw(version);
        let (file, lines) = workspace::highlighted_file(&store, &user.id, &version, &path).await?;
        Ok(HighlightedFile {
            path: file.path,
            language: file.language,
            lines,
            content: file.content,
            size: file.size,
            binary: file.binary,
        })
    })
    .await
}

/// Makes an older version the newest: a new version with its files.
/// Nothing is deleted. The project's sandbox is let go, so the next turn
/// or preview starts from the restored files.
#[server(prefix = "/api", endpoint = "restore_version")]
pub async fn restore_version(version: String) -> Result<VersionView, AppError> {
    use ollio_domain::VersionId;

    use crate::server::{auth, request, workspace};
    request::respond(async move {
        let user = auth::require_user().await?;
        let state = request::state()?;
        let version = VersionId::from_raw(version);
        let restored = workspace::restore_version(&state, &user.id, &version).await?;
        Ok(restored.into())
    })
    .await
}
