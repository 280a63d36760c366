//! "Ask AI" (Ctrl/Cmd+K) in the editor: a proposal for the selected code,
//! and accepting it as a version.

use leptos::prelude::*;

pub use crate::dto::refine::RefineProposal;
use crate::{dto::workspace::VersionView, error::AppError};

/// What the quick-edit model proposes for `text`'s selection `from..to`
/// (UTF-16 offsets) of the file `path`, as `instruction` asks. One credit.
#[server(prefix = "/api", endpoint = "refine_selection")]
pub async fn refine_selection(
    project: String,
    path: String,
    text: String,
    from: usize,
    to: usize,
    instruction: String,
) -> Result<RefineProposal, AppError> {
    use ollio_agent::refine::Selection;
    use ollio_domain::ProjectId;

    use crate::server::{auth, refine, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let project = ProjectId::from_raw(project);
        let ask = refine::Ask {
            path: &path,
            text: &text,
            selection: Selection { from, to },
            instruction: &instruction,
        };
        let proposal = refine::propose(&request::state()?, &user.id, &project, ask).await?;
        Ok(RefineProposal {
            proposed: proposal.proposed,
            diff: proposal.diff,
        })
    })
    .await
}

/// "Accept": the proposal as a version, "AI edit: {instruction}".
#[server(prefix = "/api", endpoint = "accept_refine")]
pub async fn accept_refine(
    project: String,
    path: String,
    content: String,
    instruction: String,
) -> Result<VersionView, AppError> {
    use ollio_domain::ProjectId;

    use crate::server::{auth, refine, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let project = ProjectId::from_raw(project);
        let saved = refine::accept(
            &request::state()?,
            &user.id,
            &project,
            &path,
            content,
            &instruction,
        )
        .await?;
        Ok(saved.into())
    })
    .await
}
