//! The Code tab's "Ask where…": a question in plain words ranked against
//! the version's passages (`ollio_agent::code_index`), by meaning with the
//! embeddings model (`OLLIO_EMBEDDING_MODEL`), else by words (BM25). Each
//! version is indexed once per process; its passages' vectors are kept in
//! the store, so only passages the owner never had before are embedded.

use ollio_agent::code_index::{self, RankedBy};
use ollio_domain::{UserId, VersionId};

use super::state::AppState;
use crate::{
    dto::search::{AskHit, AskView},
    error::AppError,
};

/// The longest question, in characters.
pub const MAX_QUESTION: usize = 500;
/// Lines of a passage shown with a hit.
const PREVIEW_LINES: usize = 6;

pub async fn ask(
    state: &AppState,
    owner: &UserId,
    version: &VersionId,
    question: &str,
) -> Result<AskView, AppError> {
    let question = question.trim();
    if question.is_empty() {
        return Err(AppError::invalid(
            "Ask a question: where is the login handled?",
        ));
    }
    if question.chars().count() > MAX_QUESTION {
        return Err(AppError::invalid(format!(
            "Ask in at most {MAX_QUESTION} characters."
        )));
    }
    if state.store.version(owner, version).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let embedder = state.embedder.as_ref();
    let index = match state.code_indexes.cached(version.as_str()) {
        Some(index) => index,
        None => {
            let files = state
                .store
                .version_files(owner, version)
                .await?
                .into_iter()
                .filter(|file| !file.binary)
                .map(|file| (file.path, file.content))
                .collect();
            state
                .code_indexes
                .index(owner, version.as_str(), files, embedder)
                .await
                .map_err(AppError::invalid)?
        }
    };
    let (by, hits) = code_index::ask(&index, question, embedder)
        .await
        .map_err(AppError::invalid)?;
    Ok(AskView {
        by: match by {
            RankedBy::Meaning => format!(
                "by meaning ({})",
                embedder.map(|embedder| embedder.name()).unwrap_or_default()
            ),
            RankedBy::Words => "by words (BM25)".to_owned(),
        },
        hits: hits
            .into_iter()
            .map(|(at, score)| {
                let passage = &index.passages[at];
                AskHit {
                    path: passage.path.clone(),
                    start: passage.start,
                    end: passage.end,
                    preview: passage
                        .text
                        .lines()
                        .filter(|line| !line.trim().is_empty())
                        .take(PREVIEW_LINES)
                        .collect::<Vec<_>>()
                        .join("\n"),
                    score,
                }
            })
            .collect(),
    })
}
