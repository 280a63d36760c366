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
