//! Talking to the agent: sending a message starts a turn in the background;
//! Stop ends it. What the turn does arrives on the project's event stream,
//! `GET /api/projects/{id}/events`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A message accepted: the ids of the user's message and of the assistant
/// message the turn fills in, and the credits left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    pub user_message: String,
    pub assistant_message: String,
    pub credits_left: i64,
}

#[server(prefix = "/api", endpoint = "send_message")]
pub async fn send_message(project: String, content: String) -> Result<SentMessage, AppError> {
    use crate::{
        domain::{ProjectId, Prompt},
        server::{api, auth, store::EnqueueRefusal},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let prompt = Prompt::parse(&content).map_err(AppError::invalid)?;
        let state = api::state()?;
        let workers = state
            .workers
            .clone()
            .ok_or_else(|| api::internal("send_message: no agent workers are configured"))?;
        let queued = state
            .store
            .enqueue_turn(
                &user.id,
                &ProjectId::from_raw(project),
                prompt.as_str(),
                state.config.free_credits,
                state.config.agent.job_attempts,
            )
            .await?;
        let queued = match queued {
            Ok(queued) => queued,
            Err(EnqueueRefusal::NoProject) => return Err(AppError::NotFound),
            Err(EnqueueRefusal::Busy) => {
                return Err(AppError::invalid(
                    "Ollio is still working on your last message. Wait for it, or press Stop.",
                ))
            }
            Err(EnqueueRefusal::OutOfCredits(usage)) => {
                return Err(crate::usage::out_of_credits(usage))
            }
        };
        workers.wake();
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
    use crate::{
        domain::MessageId,
        server::{api, auth},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let state = api::state()?;
        let workers = state
            .workers
            .clone()
            .ok_or_else(|| api::internal("cancel_turn: no agent workers are configured"))?;
        if workers
            .cancel(&user.id, &MessageId::from_raw(message))
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    })
    .await
}
