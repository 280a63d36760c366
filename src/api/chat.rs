//! Talking to the agent: sending a message starts a turn in the background;
//! Stop ends it. What the turn does arrives on the project's event stream,
//! `GET /api/projects/{id}/events`.

use leptos::prelude::*;

pub use crate::dto::chat::{AttachmentView, SentMessage};
use crate::error::AppError;

/// Sends `content` with the staged files `attachments` (their ids,
/// comma-separated) and starts a turn answering it: a build, or with
/// `mode` `plan` or `ask` a turn that only reads. `plan` names the plan
/// (its message) that a build carries out ("Build this plan").
#[server(prefix = "/api", endpoint = "send_message")]
pub async fn send_message(
    project: String,
    content: String,
    attachments: Option<String>,
    mode: Option<String>,
    plan: Option<String>,
) -> Result<SentMessage, AppError> {
    use ollio_domain::{MessageId, ProjectId, Prompt, TurnMode};
    use ollio_store::TurnRequest;

    use crate::server::{attachments as files, auth, request, turns};
    request::respond(async move {
        let user = auth::require_user().await?;
        let prompt = Prompt::parse(&content).map_err(AppError::invalid)?;
        let files = files::parse_ids(attachments.as_deref())?;
        let mode = TurnMode::parse(mode.as_deref()).map_err(AppError::invalid)?;
        let plan = plan.filter(|id| !id.is_empty()).map(MessageId::from_raw);
        let project = ProjectId::from_raw(project);
        let turn = TurnRequest {
            content: prompt.as_str(),
            attachments: &files,
            mode,
            plan: plan.as_ref(),
        };
        let queued = turns::send_message(&request::state()?, &user.id, &project, &turn).await?;
        Ok(SentMessage {
            user_message: queued.turn.user_message.to_string(),
            assistant_message: queued.turn.assistant_message.to_string(),
            credits_left: queued.usage.remaining(),
        })
    })
    .await
}

/// Stops the turn that fills in `message`. What it wrote so far stays.
#[server(prefix = "/api", endpoint = "cancel_turn")]
pub async fn cancel_turn(message: String) -> Result<(), AppError> {
    use ollio_domain::MessageId;

    use crate::server::{auth, request, turns};
    request::respond(async move {
        let user = auth::require_user().await?;
        let message = MessageId::from_raw(message);
        turns::cancel(&request::state()?, &user.id, &message).await
    })
    .await
}
