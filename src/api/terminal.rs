//! The Code tab's terminal: what commands in it changed, and keeping those
//! changes as a version. The terminal itself is a WebSocket
//! (`/api/projects/{id}/terminal`, `server::http::terminal`).

use leptos::prelude::*;

pub use crate::dto::terminal::TerminalChange;
use crate::{dto::workspace::VersionView, error::AppError};

/// The files the project's sandbox has changed since its newest version
/// (added, modified, deleted); none while no sandbox runs.
#[server(prefix = "/api", endpoint = "terminal_changes")]
pub async fn terminal_changes(project: String) -> Result<Vec<TerminalChange>, AppError> {
    use ollio_domain::ProjectId;

    use crate::server::{auth, request, terminal};
    request::respond(async move {
        let user = auth::require_user().await?;
        let project = ProjectId::from_raw(project);
        let changes = terminal::changes(&request::state()?, &user.id, &project).await?;
        Ok(changes
            .into_iter()
            .map(|change| TerminalChange {
                path: change.path,
                kind: change.kind.to_owned(),
            })
            .collect())
    })
    .await
}

/// "Save changes": the sandbox's files as a version, "Changed in the
/// terminal". Refused while a turn runs, or when nothing changed.
#[server(prefix = "/api", endpoint = "save_terminal_changes")]
pub async fn save_terminal_changes(project: String) -> Result<VersionView, AppError> {
    use ollio_domain::ProjectId;

    use crate::server::{auth, request, terminal};
    request::respond(async move {
        let user = auth::require_user().await?;
        let project = ProjectId::from_raw(project);
        let saved = terminal::save_changes(&request::state()?, &user.id, &project).await?;
        Ok(saved.into())
    })
    .await
}
