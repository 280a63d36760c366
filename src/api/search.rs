//! The Code tab's Search over a version's files.

use leptos::prelude::*;

pub use crate::dto::search::{AskHit, AskView, SearchFile, SearchLine, SearchView};
use crate::error::AppError;

/// Searches `version`'s text files for `query`: plain text unless `regex`,
/// ignoring case unless `case_sensitive`, whole words with `whole_word`.
#[server(prefix = "/api", endpoint = "search_files")]
pub async fn search_files(
    version: String,
    query: String,
    #[server(default)] case_sensitive: bool,
    #[server(default)] whole_word: bool,
    #[server(default)] regex: bool,
) -> Result<SearchView, AppError> {
    use ollio_domain::VersionId;

    use crate::server::{
        auth, request,
        search::{search_version, SearchOptions},
    };
    request::respond(async move {
        let user = auth::require_user().await?;
        let options = SearchOptions {
            case_sensitive,
            whole_word,
            regex,
        };
        search_version(
            &request::state()?,
            &user.id,
            &VersionId::from_raw(version),
            &query,
            options,
        )
        .await
    })
    .await
}

/// "Ask where…": `question` in plain words, answered with `version`'s
/// passages that fit it best.
#[server(prefix = "/api", endpoint = "ask_where")]
pub async fn ask_where(version: String, question: String) -> Result<AskView, AppError> {
    use ollio_domain::VersionId;

    use crate::server::{ask_where, auth, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        ask_where::ask(
            &request::state()?,
            &user.id,
            &VersionId::from_raw(version),
            &question,
        )
        .await
    })
    .await
}
