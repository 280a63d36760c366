//! Turns as the pages start and stop them: a message (or a new project's
//! prompt) is queued with its credit in one transaction and a worker is
//! woken; Stop reaches the worker running the turn, here or in another
//! process.

use ollio_agent::worker::Workers;
use ollio_domain::{MessageId, ProjectId, ProjectName, Prompt, UserId};
use ollio_store::{EnqueueRefusal, EnqueuedTurn, Project};

use super::{credits, projects, request::internal, state::AppState};
use crate::error::AppError;

/// Said while the project's last turn is still queued or running.
pub const BUSY: &str = "Ollio is still working on your last message. Wait for it, or press Stop.";

fn workers(state: &AppState, what: &str) -> Result<Workers, AppError> {
    state
        .workers
        .clone()
        .ok_or_else(|| internal(format!("{what}: no agent workers are configured")))
}

/// Queues a turn answering `prompt` in `owner`'s `project`.
pub async fn send_message(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    prompt: &Prompt,
) -> Result<EnqueuedTurn, AppError> {
    let workers = workers(state, "send_message")?;
    let queued = state
        .store
        .enqueue_turn(
            owner,
            project,
            prompt.as_str(),
            state.config.free_credits,
            state.config.agent.job_attempts,
        )
        .await?;
    let queued = match queued {
        Ok(queued) => queued,
        Err(EnqueueRefusal::NoProject) => return Err(AppError::NotFound),
        Err(EnqueueRefusal::Busy) => return Err(AppError::invalid(BUSY)),
        Err(EnqueueRefusal::OutOfCredits(usage)) => return Err(credits::out_of_credits(usage)),
    };
    workers.wake();
    Ok(queued)
}

/// Creates a project named after `prompt` from `template` and queues its
/// first turn. With no credit left, nothing is created.
pub async fn start_project(
    state: &AppState,
    owner: &UserId,
    prompt: &Prompt,
    template: &str,
) -> Result<(Project, EnqueuedTurn), AppError> {
    let template = projects::template(template)?;
    let workers = workers(state, "start_project")?;
    let store = &state.store;
    let usage = credits::usage_of(state, owner).await?;
    if usage.remaining() <= 0 {
        return Err(credits::out_of_credits(usage));
    }
    let project = store
        .create_project(owner, &ProjectName::from_prompt(prompt), template.id)
        .await?;
    let queued = store
        .enqueue_turn(
            owner,
            &project.id,
            prompt.as_str(),
            state.config.free_credits,
            state.config.agent.job_attempts,
        )
        .await?;
    match queued {
        Ok(queued) => {
            workers.wake();
            Ok((project, queued))
        }
        Err(refusal) => {
            // Spent meanwhile (another tab): leave no empty project behind.
            store.delete_project(owner, &project.id).await?;
            match refusal {
                EnqueueRefusal::OutOfCredits(usage) => Err(credits::out_of_credits(usage)),
                _ => Err(internal("start_project: a new project refused its turn")),
            }
        }
    }
}

/// Stops the turn that fills in `message`; what it wrote so far stays.
pub async fn cancel(state: &AppState, owner: &UserId, message: &MessageId) -> Result<(), AppError> {
    if workers(state, "cancel_turn")?
        .cancel(owner, message)
        .await?
    {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
