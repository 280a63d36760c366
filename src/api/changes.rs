//! "Changes": what a version changed since the one before it, file by file,
//! as line diffs with a little context.

use leptos::prelude::*;

pub use crate::dto::changes::{ChangeSet, DiffLine, FileChange};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "version_changes")]
pub async fn version_changes(version: String) -> Result<ChangeSet, AppError> {
    use ollio_domain::VersionId;

    use crate::server::{auth, changes, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let store = request::state()?.store;
        changes::of_version(&store, &user.id, &VersionId::from_raw(version))
            .await?
            .ok_or(AppError::NotFound)
    })
    .await
}
