//! "Changes": what a version changed since the one before it, file by file,
//! as line diffs with a little context.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSet {
    pub version: i64,
    /// The version compared against; `None` for the first version.
    pub previous: Option<i64>,
    pub files: Vec<FileChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    /// `added`, `removed` or `changed`.
    pub change: String,
    pub added: usize,
    pub removed: usize,
    /// Groups of changed lines with their context, in file order.
    pub hunks: Vec<Vec<DiffLine>>,
    /// Set when the file was too large to show line by line.
    pub too_large: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    /// `+`, `-` or ` `.
    pub sign: String,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub text: String,
}

#[server(prefix = "/api", endpoint = "version_changes")]
pub async fn version_changes(version: String) -> Result<ChangeSet, AppError> {
    use crate::{
        domain::FragmentId,
        server::{api, auth},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let store = api::state()?.store;
        crate::server::changes::of_version(&store, &user.id, &FragmentId::from_raw(version))
            .await?
            .ok_or(AppError::NotFound)
    })
    .await
}
