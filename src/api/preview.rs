//! The Preview tab: where a version's running app is, and starting it
//! again once its sandbox went to sleep. The newest version is served by
//! the project's working sandbox; an older one by a preview-only sandbox.

use leptos::prelude::*;

pub use crate::dto::preview::{AppLogView, PreviewView};
use crate::error::AppError;

/// Where `version`'s preview is now; starts nothing. An empty `version`
/// (the project has none yet) answers `none`.
#[server(prefix = "/api", endpoint = "preview_status")]
pub async fn preview_status(version: String) -> Result<PreviewView, AppError> {
    use ollio_domain::VersionId;

    use crate::server::{auth, previews::Previews, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let state = request::state()?;
        let version = VersionId::from_raw(version.trim());
        let preview = Previews::new(&state).status(&user.id, &version).await?;
        Ok(preview.into())
    })
    .await
}

/// Makes sure a sandbox serves `version` and says where: the one already
/// running, else a new one with the version's files.
#[server(prefix = "/api", endpoint = "start_preview")]
pub async fn start_preview(version: String) -> Result<PreviewView, AppError> {
    use ollio_domain::VersionId;

    use crate::server::{auth, previews::Previews, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let state = request::state()?;
        let version = VersionId::from_raw(version.trim());
        let preview = Previews::new(&state).start(&user.id, &version).await?;
        Ok(preview.into())
    })
    .await
}

/// The end of the log of the app serving `version`: what its processes
/// printed and the supervisor's `[ollio]` lines. Reads only.
#[server(prefix = "/api", endpoint = "app_log")]
pub async fn app_log(version: String) -> Result<AppLogView, AppError> {
    use ollio_domain::VersionId;

    use crate::server::{auth, previews::Previews, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let state = request::state()?;
        let version = VersionId::from_raw(version.trim());
        let log = Previews::new(&state).app_log(&user.id, &version).await?;
        Ok(log.into())
    })
    .await
}
