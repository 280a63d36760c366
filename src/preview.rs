//! The Preview tab: where a version's running app is, and starting it
//! again once its sandbox went to sleep. The newest version is served by
//! the project's working sandbox; an older one by a preview-only sandbox.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewView {
    /// `running` (url is set), `asleep` (its sandbox ended or expired: offer "Restart preview"),
    /// `none` (no version yet), or `failed` (reason is set).
    pub state: String,
    pub url: Option<String>,
    pub reason: Option<String>,
    /// Milliseconds until the sandbox ends, when running.
    pub expires_in_ms: Option<i64>,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::PreviewView;
    use crate::server::{previews::Preview, store::now_ms};

    impl From<Preview> for PreviewView {
        fn from(preview: Preview) -> Self {
            let (state, url, reason, expires_in_ms) = match preview {
                Preview::Running { url, expires_at } => (
                    "running",
                    Some(url),
                    None,
                    Some((expires_at - now_ms()).max(0)),
                ),
                Preview::Asleep => ("asleep", None, None, None),
                Preview::Nothing => ("none", None, None, None),
                Preview::Failed(reason) => ("failed", None, Some(reason), None),
            };
            Self {
                state: state.into(),
                url,
                reason,
                expires_in_ms,
            }
        }
    }
}

/// Where `version`'s preview is now; starts nothing. An empty `version`
/// (the project has none yet) answers `none`.
#[server(prefix = "/api", endpoint = "preview_status")]
pub async fn preview_status(version: String) -> Result<PreviewView, AppError> {
    use crate::{
        domain::FragmentId,
        server::{api, auth, previews::Previews},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let state = api::state()?;
        let version = FragmentId::from_raw(version.trim());
        let preview = Previews::new(&state).status(&user.id, &version).await?;
        Ok(preview.into())
    })
    .await
}

/// Makes sure a sandbox serves `version` and says where: the one already
/// running, else a new one with the version's files.
#[server(prefix = "/api", endpoint = "start_preview")]
pub async fn start_preview(version: String) -> Result<PreviewView, AppError> {
    use crate::{
        domain::FragmentId,
        server::{api, auth, previews::Previews},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let state = api::state()?;
        let version = FragmentId::from_raw(version.trim());
        let preview = Previews::new(&state).start(&user.id, &version).await?;
        Ok(preview.into())
    })
    .await
}
