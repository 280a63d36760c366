//! Turns as the pages start and stop them: a message (or a new project's
//! prompt) is queued with its credit in one transaction and a worker is
//! woken; Stop reaches the worker running the turn, here or in another
//! process.

use ollio_agent::worker::Workers;
use ollio_domain::{AttachmentId, MessageId, ProjectId, ProjectName, Prompt, UserId};
use ollio_store::{EnqueueRefusal, EnqueuedTurn, Project, TurnRequest};

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

/// Said when files come with a Plan or Ask message: those turns only read.
pub const FILES_IN_BUILD_ONLY: &str =
    "Files can be attached in Build mode only: Plan and Ask change nothing in the project.";
/// Said when "Build this plan" names a plan that is not (or no longer) there.
pub const NO_PLAN: &str = "That plan is not in this project's chat any more.";

/// Queues a turn answering `request` (its text, the files `owner` staged
/// for it, its mode, the plan it builds) in `owner`'s `project`.
pub async fn send_message(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    request: &TurnRequest<'_>,
) -> Result<EnqueuedTurn, AppError> {
    let workers = workers(state, "send_message")?;
    if request.mode.reads_only() && !request.attachments.is_empty() {
        return Err(AppError::invalid(FILES_IN_BUILD_ONLY));
    }
    if request.mode.reads_only() && request.plan.is_some() {
        return Err(AppError::invalid("A plan is built in Build mode."));
    }
    let queued = match enqueue(state, owner, project, request).await? {
        Ok(queued) => queued,
        Err(EnqueueRefusal::NoProject) => return Err(AppError::NotFound),
        Err(EnqueueRefusal::Busy) => return Err(AppError::invalid(BUSY)),
        Err(other) => return Err(refused(other)),
    };
    workers.wake();
    Ok(queued)
}

async fn enqueue(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
    request: &TurnRequest<'_>,
) -> Result<Result<EnqueuedTurn, EnqueueRefusal>, AppError> {
    Ok(state
        .store
        .enqueue_request(
            owner,
            project,
            request,
            state.config.free_credits,
            state.config.agent.job_attempts,
        )
        .await?)
}

/// The refusals a user can do something about, in their words.
fn refused(refusal: EnqueueRefusal) -> AppError {
    match refusal {
        EnqueueRefusal::OutOfCredits(usage) => credits::out_of_credits(usage),
        EnqueueRefusal::Attachments(why) => AppError::invalid(why),
        EnqueueRefusal::NoPlan => AppError::invalid(NO_PLAN),
        EnqueueRefusal::NoProject | EnqueueRefusal::Busy => {
            internal("start_project: a new project refused its turn")
        }
    }
}

/// Creates a project named after `prompt` from `template` and queues its
/// first turn, with `attachments`. With no credit left, or files that
/// cannot go, nothing is created.
pub async fn start_project(
    state: &AppState,
    owner: &UserId,
    prompt: &Prompt,
    template: &str,
    attachments: &[AttachmentId],
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
    let request = TurnRequest {
        attachments,
        ..TurnRequest::build(prompt.as_str())
    };
    match enqueue(state, owner, &project.id, &request).await? {
        Ok(queued) => {
            workers.wake();
            Ok((project, queued))
        }
        Err(refusal) => {
            // Spent meanwhile (another tab), or a file gone: leave no empty
            // project behind.
            store.delete_project(owner, &project.id).await?;
            Err(refused(refusal))
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
