//! Talking to the agent: sending a message starts a turn in the background;
//! Stop ends it. What the turn does arrives on the project's event stream,
//! `GET /api/projects/{id}/events`.

use leptos::prelude::*;

pub use crate::dto::chat::{AttachmentView, SentMessage};
use crate::error::AppError;

/// Sends `content` with the staged files `attachments` (their ids,
/// comma-separated) and starts a turn answering it.
#[server(prefix = "/api", endpoint = "send_message")]
pub async fn send_message(
    project: String,
    content: String,
    attachments: Option<String>,
) -> Result<SentMessage, AppError> {
    use ollio_domain::{ProjectId, Prompt};

    use crate::server::{attachments as files, auth, request, turns};
    request::respond(async move {
        let user = auth::require_user().await?;
        let prompt = Prompt::parse(&content).map_err(AppError::invalid)?;
        let files = files::parse_ids(attachments.as_deref())?;
        let project = ProjectId::from_raw(project);
        let queued =
            turns::send_message(&request::state()?, &user.id, &project, &prompt, &files).await?;
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
