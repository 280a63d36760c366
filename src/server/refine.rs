//! "Ask AI" in the editor: a proposal for one selection, from the
//! quick-edit model (`ollio_agent::refine`), shown as a diff; accepting
//! saves it as a version, "AI edit: {instruction}". A proposal costs one
//! credit, spent once the model has answered.

use std::time::{Duration, Instant};

use ollio_agent::{
    refine::{self, Selection},
    snapshot::MAX_TEXT_FILE,
    tools::project_path,
};
use ollio_domain::{ProjectId, UserId};
use ollio_store::{now_ms, Version};

use super::{changes, credits, edits, projects, request::internal, state::AppState};
use crate::{dto::changes::FileChange, error::AppError};

/// What the model proposes: the whole file after the change, and the diff.
pub struct Proposal {
    pub proposed: String,
    pub diff: FileChange,
}

/// What "Ask AI" asks: the file as the editor has it, the selection in it
/// (UTF-16 offsets, as the editor counts) and the instruction.
pub struct Ask<'a> {
    pub path: &'a str,
    pub text: &'a str,
    pub selection: Selection,
    pub instruction: &'a str,
}

pub async fn propose(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    ask: Ask<'_>,
) -> Result<Proposal, AppError> {
    let project = projects::owned(state, owner, project).await?;
    let path = project_path(ask.path).map_err(|error| AppError::invalid(error.to_string()))?;
    if ask.text.len() as u64 > MAX_TEXT_FILE {
        return Err(AppError::invalid("The file is too large to ask about."));
    }
    let engine = state
        .workers
        .as_ref()
        .ok_or_else(|| internal("refine: no agent workers are configured"))?
        .engine();
    let usage = credits::usage_of(state, owner).await?;
    if usage.remaining() <= 0 {
        return Err(credits::out_of_credits(usage));
    }
    let (model, provider) = engine
        .quick_edit_provider(owner, &project)
        .await
        .map_err(AppError::invalid)?;
    let proposed = refine::propose(
        provider.as_ref(),
        &model,
        &path,
        ask.text,
        ask.selection,
        ask.instruction,
    )
    .await
    .map_err(|error| AppError::invalid(error.to_string()))?;
    if proposed == ask.text {
        return Err(AppError::invalid(
            "The model proposed no change: try saying it another way.",
        ));
    }
    if let Err(usage) = state
        .store
        .consume_credit(owner, state.config.free_credits, now_ms())
        .await?
    {
        return Err(credits::out_of_credits(usage));
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    let diff = changes::file_change(&path, "changed", ask.text, &proposed, deadline);
    Ok(Proposal { proposed, diff })
}

/// Saves an accepted proposal as a version, "AI edit: {instruction}".
pub async fn accept(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    path: &str,
    content: String,
    instruction: &str,
) -> Result<Version, AppError> {
    let instruction: String = instruction.trim().chars().take(120).collect();
    edits::save_titled(
        state,
        owner,
        project,
        path,
        content,
        &format!("AI edit: {instruction}"),
    )
    .await
}
