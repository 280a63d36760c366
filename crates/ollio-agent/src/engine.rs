//! A turn job from start to end: the project's sandbox (reused, or made
//! anew from the latest version), the prompt, the turn, then the version
//! and the assistant message. Every step is recorded as an event. How the
//! job ends (done, try again later, failed, stopped) goes back to the
//! worker, which settles it with the queue.

use std::{future::Future, time::Duration};

use tokio_util::sync::CancellationToken;

use super::{
    attachments,
    chat::ChatMessage,
    chat_provider::SecretKey,
    check::AppCheck,
    context,
    event_log::{self, EventHub},
    model::ModelRef,
    project_sandbox::{MakeError, SandboxMaker, DEFAULT_LIFETIME},
    providers::{Providers, UserProvider},
    snapshot,
    templates::{self, SandboxTemplates, Template},
    tools::{EventSink, ToolRunner},
    turn::{run_checked_turn, run_read_only_turn, TurnError, TurnInput, TurnLimits, TurnOutcome},
};
use ollio_domain::{MessageId, ProjectId, TurnEvent, TurnMode, UserId};
use ollio_sandbox::{Envd, Sandbox, SandboxClient, SandboxError};
use ollio_store::{
    blobs::Blobs,
    now_ms,
    secrets::{provider_key_context, SecretBox},
    MessageEnd, MessageStatus, NewVersion, Project, Role, Store, StoreError, TrainAfter, TurnJob,
};

/// Earlier messages a turn sees as they were; older ones are summarised a
/// line each at the end of the system prompt (`context::summary`).
const HISTORY: usize = 12;
/// A follow-up this short goes to `OLLIO_EDIT_MODEL`, when one is set.
const QUICK_EDIT_CHARS: usize = 280;

pub use ollio_domain::turn_mode::role::{ASK, BUILD, PLAN, QUICK_EDIT};

/// What the model of a "Build this plan" turn is given after the user's
/// words (the scripted model server knows such a turn by it).
pub const PLAN_TO_BUILD: &str = "The plan to build, written earlier in this chat:";

/// The model a turn runs on, and why (the role the chat shows beside the
/// model's name):
/// - a plan: `OLLIO_PLAN_MODEL`, else as below, as `plan`;
/// - the project's own model, else the default (`OLLIO_MODEL`), as
///   `build` or `ask`;
/// - but a build that is a follow-up of at most [`QUICK_EDIT_CHARS`]
///   characters goes to the quick-edit model (`OLLIO_EDIT_MODEL`), when
///   there is one and the project has no model of its own.
pub fn choose_model(
    config: &super::config::AgentConfig,
    project_model: Option<&str>,
    mode: TurnMode,
    follow_up: bool,
    message: &str,
) -> Result<(ModelRef, &'static str), String> {
    let role = mode.role();
    if let (TurnMode::Plan, Some(plan)) = (mode, &config.plan_model) {
        return Ok((plan.clone(), PLAN));
    }
    if let Some(raw) = project_model {
        return raw
            .parse()
            .map(|model| (model, role))
            .map_err(|error| format!("The project's model is not usable: {error}."));
    }
    if mode == TurnMode::Build && follow_up && message.chars().count() <= QUICK_EDIT_CHARS {
        if let Some(edit) = &config.edit_model {
            return Ok((edit.clone(), QUICK_EDIT));
        }
    }
    config
        .model
        .clone()
        .map(|model| (model, role))
        .ok_or_else(|| "No model is configured: set OLLIO_MODEL (and the provider's key).".into())
}

/// Everything turns need, shared by a process's workers.
#[derive(Clone)]
pub struct Engine {
    pub store: Store,
    pub sandboxes: SandboxClient,
    /// `local` or `e2b`, as recorded with each sandbox.
    pub sandbox_backend: &'static str,
    /// Which sandbox template each project template runs in.
    pub sandbox_templates: SandboxTemplates,
    pub providers: Providers,
    pub hub: EventHub,
    /// How long a sandbox lives past its last turn.
    pub sandbox_lifetime: Duration,
    pub limits: TurnLimits,
    /// Opens users' own provider keys; without it, only the server's keys are used.
    pub secrets: Option<SecretBox>,
    /// The first wait before a job is tried again; each later one is 4×.
    pub retry_base: Duration,
    /// Live sandboxes one account may have (see `SandboxMaker::per_user`).
    pub sandboxes_per_user: usize,
    /// How long an ML model may train, and what it may keep.
    pub training: TrainingLimits,
    /// Where versions' trained models are kept; without it they are not.
    pub blobs: Option<Blobs>,
}

/// The limits of a training run.
#[derive(Debug, Clone, Copy)]
pub struct TrainingLimits {
    /// `OLLIO_TRAIN_TIMEOUT`: the training command's wall-clock limit.
    pub timeout: Duration,
    /// `OLLIO_ARTIFACT_MB`: the trained model's files one version keeps.
    pub artifact_bytes: u64,
    /// Tries of one training run before it is given up.
    pub attempts: i64,
}

impl Default for TrainingLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30 * 60),
            artifact_bytes: ollio_store::blobs::DEFAULT_ARTIFACT_BYTES,
            attempts: 3,
        }
    }
}

/// How a try of a turn job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// Failed in a way that may pass (rate limits, outages): try again later.
    Retry {
        after: Duration,
        reason: String,
    },
    /// Failed for good; `refund` when it was not the user's doing.
    Failed {
        reason: String,
        refund: bool,
    },
    Cancelled,
}

/// Why a step of the job stopped it.
pub(crate) enum Stop {
    Retry(String),
    Fail(String, bool),
    Cancelled,
}

impl From<StoreError> for Stop {
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "store error in a turn");
        Stop::Retry("the database was unavailable".into())
    }
}

impl From<SandboxError> for Stop {
    fn from(error: SandboxError) -> Self {
        if error.is_transient() {
            Stop::Retry(format!("the sandbox service: {error}"))
        } else {
            Stop::Fail(format!("The sandbox could not be used: {error}"), true)
        }
    }
}

impl Engine {
    /// An engine with the usual settings: sandboxes of the bundled daemon
    /// living [`DEFAULT_LIFETIME`] past their last turn, the default turn
    /// limits, only the server's provider keys, and a first retry after two
    /// seconds. Callers change what their configuration says otherwise.
    pub fn new(store: Store, sandboxes: SandboxClient, providers: Providers) -> Self {
        Self {
            store,
            sandboxes,
            sandbox_backend: "local",
            sandbox_templates: SandboxTemplates::Local,
            providers,
            hub: EventHub::default(),
            sandbox_lifetime: DEFAULT_LIFETIME,
            limits: TurnLimits::default(),
            secrets: None,
            retry_base: Duration::from_secs(2),
            sandboxes_per_user: super::project_sandbox::DEFAULT_PER_USER,
            training: TrainingLimits::default(),
            blobs: None,
        }
    }

    /// Runs one try of `turn`; `attempt` counts from 1.
    pub async fn run(
        &self,
        turn: &TurnJob,
        attempt: i64,
        cancel: &CancellationToken,
    ) -> JobOutcome {
        self.run_message(
            &turn.project,
            &turn.assistant_message,
            attempt,
            |sink| async move { self.work(turn, &sink, cancel).await },
        )
        .await
    }

    /// One try of a job that fills in `message` (a turn, or a training
    /// run): the message runs, `work`'s events are recorded and streamed,
    /// and how it stopped becomes the job's outcome.
    pub(crate) async fn run_message<F, Fut>(
        &self,
        project: &ProjectId,
        message: &MessageId,
        attempt: i64,
        work: F,
    ) -> JobOutcome
    where
        F: FnOnce(EventSink) -> Fut,
        Fut: Future<Output = Result<(), Stop>>,
    {
        match self
            .store
            .set_message_status(message, MessageStatus::Running, None)
            .await
        {
            Ok(true) => {}
            // Its message ended in an earlier try that stopped before its
            // job did (a crash): the work is done, not to be done twice.
            Ok(false) => {
                tracing::info!(%message, "the job's message had ended already");
                return JobOutcome::Done;
            }
            Err(error) => {
                tracing::error!(%error, "store error at the start of a turn");
                return JobOutcome::Retry {
                    after: retry_delay(self.retry_base, attempt),
                    reason: "the database was unavailable".into(),
                };
            }
        }
        let (sink, receiver) = tokio::sync::mpsc::unbounded_channel();
        let recorder = tokio::spawn(event_log::record(
            self.store.clone(),
            self.hub.clone(),
            project.clone(),
            message.clone(),
            receiver,
        ));
        if attempt > 1 {
            let _ = sink.send(TurnEvent::Retrying {
                reason: format!("starting try {attempt}"),
                wait_ms: 0,
            });
        }
        let outcome = match work(sink.clone()).await {
            Ok(()) => JobOutcome::Done,
            // Stop ended the message already (`Store::cancel_turn`).
            Err(Stop::Cancelled) => JobOutcome::Cancelled,
            Err(Stop::Retry(reason)) => {
                let after = retry_delay(self.retry_base, attempt);
                let _ = self
                    .store
                    .set_message_status(message, MessageStatus::Pending, None)
                    .await;
                let _ = sink.send(TurnEvent::Retrying {
                    reason: reason.clone(),
                    wait_ms: after.as_millis() as u64,
                });
                JobOutcome::Retry { after, reason }
            }
            // The worker ends the job and the message together.
            Err(Stop::Fail(reason, refund)) => JobOutcome::Failed { reason, refund },
        };
        drop(sink);
        let _ = recorder.await;
        outcome
    }

    async fn work(
        &self,
        turn: &TurnJob,
        sink: &EventSink,
        cancel: &CancellationToken,
    ) -> Result<(), Stop> {
        let store = &self.store;
        let Some(project) = store.project(&turn.owner, &turn.project).await? else {
            return Err(Stop::Fail("The project was deleted.".into(), false));
        };
        let template = templates::find(&project.template).ok_or_else(|| {
            Stop::Fail(
                format!(
                    "The project's template `{}` is not available.",
                    project.template
                ),
                true,
            )
        })?;
        let messages = store.messages(&turn.owner, &turn.project).await?;
        let Some(request) = messages.iter().find(|m| m.id == turn.user_message) else {
            return Err(Stop::Fail("The message was deleted.".into(), true));
        };
        let attached_before = store
            .project_attachments(&turn.owner, &turn.project)
            .await?;
        let history: Vec<ChatMessage> = messages
            .iter()
            .take_while(|message| message.id != turn.user_message)
            .filter(|message| message.status == MessageStatus::Done && !message.content.is_empty())
            .map(|message| match message.role {
                Role::User => {
                    let files: Vec<_> = attached_before
                        .iter()
                        .filter(|file| file.message.as_ref() == Some(&message.id))
                        .collect();
                    ChatMessage::user(attachments::with_paths(&message.content, &files))
                }
                Role::Assistant => ChatMessage::assistant(message.content.clone(), Vec::new()),
            })
            .collect();
        let (earlier, history) = history.split_at(history.len().saturating_sub(HISTORY));
        let earlier = context::summary(earlier);
        let history = history.to_vec();
        // "Build this plan": the plan goes with the user's words.
        let plan = match &request.plan {
            Some(plan) => Some(
                messages
                    .iter()
                    .find(|message| &message.id == plan)
                    .map(|message| message.content.clone())
                    .ok_or_else(|| Stop::Fail("The plan to build was deleted.".into(), true))?,
            ),
            None => None,
        };
        // Without a default model, a user's own provider stands for one.
        let own_default = match (&project.model, &self.providers.config().model) {
            (None, None) => super::providers::own_default(&store.provider_keys(&turn.owner).await?)
                .map(|model| model.to_string()),
            _ => None,
        };
        let (model, model_role) = choose_model(
            self.providers.config(),
            project.model.as_deref().or(own_default.as_deref()),
            request.mode,
            !history.is_empty() && plan.is_none(),
            &request.content,
        )
        .map_err(|reason| Stop::Fail(reason, true))?;
        let own = self.user_provider(&turn.owner, &model).await?;
        let provider = self
            .providers
            .for_model_with_key(&model, own)
            .map_err(|reason| {
                Stop::Fail(format!("The model {model} cannot be used: {reason}."), true)
            })?;

        let (sandbox, envd, preview_url) = tokio::select! {
            ready = self.ensure_sandbox(&project, template, turn, sink) => ready?,
            () = cancel.cancelled() => return Err(Stop::Cancelled),
        };
        let files = match (ToolRunner {
            envd: &envd,
            events: sink,
            stop: cancel.clone(),
        })
        .run(super::tools::ToolCallArgs::ListFiles(String::new()))
        .await
        {
            Ok(listing) if listing != "(no files)" => listing.lines().map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        if request.mode.reads_only() {
            let input = TurnInput {
                model: model.model.clone(),
                system_prompt: templates::read_only_prompt(template, request.mode) + &earlier,
                history,
                files,
                message: request.content.clone(),
                images: Vec::new(),
                tool_calling: self.providers.config().tool_calling(&model),
                context_tokens: self.providers.config().context_window(&model),
            };
            let outcome =
                run_read_only_turn(provider.as_ref(), &envd, &input, self.limits, sink, cancel)
                    .await;
            return self
                .answered(turn, outcome, &model.to_string(), model_role, sink)
                .await;
        }
        // Installs and restarts of the app show as steps while they happen.
        let follower = super::app_watch::follow(&envd, template, sink);
        let attached = attachments::bring(
            store,
            self.blobs.as_ref(),
            &turn.owner,
            &turn.user_message,
            &envd,
            self.providers.config().takes_images(&model),
            sink,
        )
        .await?;
        let mut message = match &attached.description {
            Some(description) => format!("{}\n\n{description}", request.content),
            None => request.content.clone(),
        };
        if let Some(plan) = &plan {
            message = format!("{message}\n\n{PLAN_TO_BUILD}\n\n{plan}");
        }
        let input = TurnInput {
            model: model.model.clone(),
            system_prompt: templates::system_prompt(template) + &earlier,
            history,
            files,
            message,
            images: attached.images,
            tool_calling: self.providers.config().tool_calling(&model),
            context_tokens: self.providers.config().context_window(&model),
        };
        let check = AppCheck::begin(&envd, template).await;
        let outcome = run_checked_turn(
            provider.as_ref(),
            &envd,
            &input,
            self.limits,
            sink,
            cancel,
            Some(&check),
        )
        .await;
        let TurnOutcome {
            mut summary,
            title,
            usage,
            checked,
            problems,
            ..
        } = outcome.map_err(stop_of)?;
        // The preview is ready once the app answers, not when files land.
        super::app_ready::wait(&envd, template, sink).await;
        follower.finish().await;
        let artifacts = template
            .training
            .as_ref()
            .map(|training| training.artifacts);
        let snapshot = snapshot::read_project(&envd, artifacts).await?;
        let version = NewVersion {
            project: turn.project.clone(),
            message: Some(turn.assistant_message.clone()),
            title: title.clone(),
            template: template.id.into(),
            sandbox_id: Some(sandbox.id.clone()),
            preview_url: Some(preview_url),
            files: snapshot.files,
            left_out: snapshot.left_out,
            check: checked.then_some(problems),
        };
        let model_name = model.to_string();
        if let Some(note) = attachments::unseen_note(&attached.unseen, &model_name) {
            summary = format!("{}\n\n{note}", summary.trim_end());
        }
        let end = answer_end(&summary, &model_name, model_role, usage);
        // An ML model's version is trained next: queued with it.
        let train = template.training.is_some().then_some(TrainAfter {
            owner: &turn.owner,
            user_message: &turn.user_message,
            max_attempts: self.training.attempts,
        });
        // The version and the answer are saved together, or not at all
        // when Stop ended the message meanwhile.
        if store
            .complete_turn(&turn.assistant_message, &version, &end, train)
            .await?
            .is_none()
        {
            return Err(Stop::Cancelled);
        }
        let _ = sink.send(TurnEvent::Summary {
            text: summary,
            title,
        });
        Ok(())
    }

    /// Ends a plan or ask turn: its answer is the message, and nothing
    /// else is saved (no version).
    async fn answered(
        &self,
        turn: &TurnJob,
        outcome: Result<TurnOutcome, TurnError>,
        model: &str,
        role: &str,
        sink: &EventSink,
    ) -> Result<(), Stop> {
        let TurnOutcome { summary, usage, .. } = outcome.map_err(stop_of)?;
        let end = answer_end(&summary, model, role, usage);
        if !self
            .store
            .finish_message(&turn.assistant_message, &end)
            .await?
        {
            return Err(Stop::Cancelled);
        }
        let _ = sink.send(TurnEvent::Summary {
            text: summary,
            title: String::new(),
        });
        Ok(())
    }

    /// The model name and provider for `owner`'s quick edit ("Ask AI" in
    /// the editor) in `project`: the quick-edit model (`OLLIO_EDIT_MODEL`)
    /// unless the project has a model of its own, chosen as a short
    /// follow-up's would be; with the user's own key where they saved one.
    pub async fn quick_edit_provider(
        &self,
        owner: &UserId,
        project: &Project,
    ) -> Result<
        (
            String,
            std::sync::Arc<dyn super::chat_provider::ChatProvider>,
        ),
        String,
    > {
        let unavailable = "The database is unavailable: try again.".to_owned();
        let own_default = match (&project.model, &self.providers.config().model) {
            (None, None) => super::providers::own_default(
                &self
                    .store
                    .provider_keys(owner)
                    .await
                    .map_err(|_| unavailable.clone())?,
            )
            .map(|model| model.to_string()),
            _ => None,
        };
        let (model, _) = choose_model(
            self.providers.config(),
            project.model.as_deref().or(own_default.as_deref()),
            TurnMode::Build,
            true,
            "",
        )?;
        let own = match self.user_provider(owner, &model).await {
            Ok(own) => own,
            Err(Stop::Fail(reason, _)) => return Err(reason),
            Err(Stop::Retry(_) | Stop::Cancelled) => return Err(unavailable),
        };
        let provider = self
            .providers
            .for_model_with_key(&model, own)
            .map_err(|reason| format!("The model {model} cannot be used: {reason}."))?;
        Ok((model.model.clone(), provider))
    }

    /// What the user saved in settings for the model's provider: their
    /// key, opened, and their base URL.
    async fn user_provider(
        &self,
        owner: &UserId,
        model: &ModelRef,
    ) -> Result<Option<UserProvider>, Stop> {
        let Some(secrets) = &self.secrets else {
            return Ok(None);
        };
        let provider = model.provider.id();
        let Some(saved) = self.store.sealed_provider_key(owner, provider).await? else {
            return Ok(None);
        };
        match secrets.open(&saved.sealed, &provider_key_context(owner, provider)) {
            Ok(key) => Ok(Some(UserProvider {
                key: (!key.is_empty()).then(|| SecretKey::new(key)),
                base_url: saved.base_url,
            })),
            Err(_) => Err(Stop::Fail(
                "Your saved key for this provider can no longer be read; save it again in Settings."
                    .into(),
                true,
            )),
        }
    }

    /// How this engine makes project sandboxes (the Preview tab makes
    /// them the same way).
    pub fn sandbox_maker(&self) -> SandboxMaker {
        SandboxMaker {
            store: self.store.clone(),
            client: self.sandboxes.clone(),
            backend: self.sandbox_backend,
            templates: self.sandbox_templates.clone(),
            lifetime: self.sandbox_lifetime,
            per_user: self.sandboxes_per_user,
            blobs: self.blobs.clone(),
        }
    }

    /// The project's live working sandbox, extended; or a new one with the
    /// latest version's files (and trained model) written back.
    pub(crate) async fn ensure_sandbox(
        &self,
        project: &Project,
        template: &Template,
        turn: &TurnJob,
        sink: &EventSink,
    ) -> Result<(Sandbox, Envd, String), Stop> {
        let maker = self.sandbox_maker();
        let built = maker
            .prepare(template, || {
                let _ = sink.send(TurnEvent::TemplatePreparing {
                    name: template.short_name().into(),
                });
            })
            .await?;
        if built {
            let _ = sink.send(TurnEvent::TemplateReady);
        }
        let _ = sink.send(TurnEvent::SandboxStarting);
        if let Some(current) = self.store.current_sandbox(&project.id).await? {
            match self.sandboxes.connect(&current.id, maker.seconds()).await {
                Ok(sandbox) => {
                    self.store
                        .extend_sandbox(&current.id, maker.expiry(now_ms()))
                        .await?;
                    let envd = self.sandboxes.envd(&sandbox);
                    let preview_url =
                        templates::preview_url(&self.sandboxes, &sandbox.id, template);
                    let _ = sink.send(TurnEvent::SandboxReady {
                        sandbox_id: sandbox.id.clone(),
                        preview_url: preview_url.clone(),
                        revived_files: 0,
                    });
                    return Ok((sandbox, envd, preview_url));
                }
                Err(SandboxError::NotFound) => self.store.end_sandbox(&current.id).await?,
                Err(error) => return Err(error.into()),
            }
        }
        let latest = self.store.versions(&turn.owner, &project.id).await?;
        let latest = latest.first().map(|version| &version.id);
        let files = match latest {
            Some(latest) => self.store.version_files(&turn.owner, latest).await?,
            None => Vec::new(),
        };
        let fresh = maker
            .create(&turn.owner, &project.id, template, (latest, &files), None)
            .await
            .map_err(|error| match error {
                MakeError::Sandbox(error) => Stop::from(error),
                full @ MakeError::Full(_) => Stop::Fail(full.to_string(), true),
            })?;
        maker.record(&fresh).await?;
        let _ = sink.send(TurnEvent::SandboxReady {
            sandbox_id: fresh.sandbox.id.clone(),
            preview_url: fresh.preview_url.clone(),
            revived_files: fresh.revived_files,
        });
        Ok((fresh.sandbox, fresh.envd, fresh.preview_url))
    }
}

/// A finished answer: its text, the model that ran it and why, and the
/// tokens it used.
fn answer_end<'a>(
    summary: &'a str,
    model: &'a str,
    role: &'a str,
    usage: super::chat::Usage,
) -> MessageEnd<'a> {
    MessageEnd {
        content: summary,
        status: MessageStatus::Done,
        error: None,
        model: Some(model),
        model_role: Some(role),
        tokens_in: i64::try_from(usage.input_tokens).unwrap_or(i64::MAX),
        tokens_out: i64::try_from(usage.output_tokens).unwrap_or(i64::MAX),
    }
}

/// How a turn that did not end well stops its job.
fn stop_of(error: TurnError) -> Stop {
    match error {
        TurnError::Cancelled => Stop::Cancelled,
        error if error.is_transient() => Stop::Retry(error.to_string()),
        TurnError::Provider(inner) => Stop::Fail(format!("The model failed: {inner}."), true),
        other => Stop::Fail(format!("The turn stopped: {other}."), true),
    }
}

/// Waits between tries of a job: `base`, 4×, 16×…, at most 2 minutes.
pub fn retry_delay(base: Duration, attempt: i64) -> Duration {
    let exponent = u32::try_from(attempt.clamp(1, 6) - 1).unwrap_or(0);
    base.saturating_mul(4u32.pow(exponent))
        .min(Duration::from_secs(120))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(model: Option<&str>, edit: Option<&str>) -> super::super::config::AgentConfig {
        planning(model, edit, None)
    }

    fn planning(
        model: Option<&str>,
        edit: Option<&str>,
        plan: Option<&str>,
    ) -> super::super::config::AgentConfig {
        let vars = [
            ("OLLIO_MODEL", model),
            ("OLLIO_EDIT_MODEL", edit),
            ("OLLIO_PLAN_MODEL", plan),
        ];
        super::super::config::from_lookup(&|name: &str| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .and_then(|(_, value)| value.map(str::to_owned))
        })
        .unwrap()
    }

    fn chosen(
        config: &super::super::config::AgentConfig,
        project: Option<&str>,
        follow_up: bool,
        message: &str,
    ) -> (String, &'static str) {
        chosen_in(config, project, TurnMode::Build, follow_up, message)
    }

    fn chosen_in(
        config: &super::super::config::AgentConfig,
        project: Option<&str>,
        mode: TurnMode,
        follow_up: bool,
        message: &str,
    ) -> (String, &'static str) {
        let (model, role) = choose_model(config, project, mode, follow_up, message).unwrap();
        (model.to_string(), role)
    }

    #[test]
    fn a_short_follow_up_goes_to_the_edit_model_and_says_so() {
        let both = config(Some("openai:big"), Some("openai:small"));
        let short = "Make the heading blue";
        let long = "x".repeat(QUICK_EDIT_CHARS + 1);
        // The first message builds, however short.
        assert_eq!(
            chosen(&both, None, false, short),
            ("openai:big".into(), BUILD)
        );
        assert_eq!(
            chosen(&both, None, true, short),
            ("openai:small".into(), QUICK_EDIT)
        );
        let at_limit = "y".repeat(QUICK_EDIT_CHARS);
        assert_eq!(chosen(&both, None, true, &at_limit).1, QUICK_EDIT);
        assert_eq!(
            chosen(&both, None, true, &long),
            ("openai:big".into(), BUILD)
        );
        // Characters, not bytes.
        let accents = "é".repeat(QUICK_EDIT_CHARS);
        assert_eq!(chosen(&both, None, true, &accents).1, QUICK_EDIT);
        // A project's own model always builds.
        assert_eq!(
            chosen(&both, Some("anthropic:mine"), true, short),
            ("anthropic:mine".into(), BUILD)
        );
        // Without an edit model, follow-ups build on the default.
        let one = config(Some("openai:big"), None);
        assert_eq!(
            chosen(&one, None, true, short),
            ("openai:big".into(), BUILD)
        );
        // Nothing configured: the reason says what to set.
        let none = config(None, None);
        assert!(choose_model(&none, None, TurnMode::Build, false, short)
            .unwrap_err()
            .contains("OLLIO_MODEL"));
        assert!(
            choose_model(&both, Some("nonsense"), TurnMode::Build, false, short)
                .unwrap_err()
                .contains("not usable")
        );
    }

    #[test]
    fn plans_go_to_the_planning_model_and_questions_are_never_quick_edits() {
        let all = planning(
            Some("openai:big"),
            Some("openai:small"),
            Some("anthropic:thinker"),
        );
        let short = "Add a dark mode";
        // The planning model plans, even in a project with its own model.
        assert_eq!(
            chosen_in(&all, None, TurnMode::Plan, true, short),
            ("anthropic:thinker".into(), PLAN)
        );
        assert_eq!(
            chosen_in(&all, Some("openai:mine"), TurnMode::Plan, false, short),
            ("anthropic:thinker".into(), PLAN)
        );
        // Without one, the project's model plans, else the default.
        let no_planner = config(Some("openai:big"), Some("openai:small"));
        assert_eq!(
            chosen_in(
                &no_planner,
                Some("openai:mine"),
                TurnMode::Plan,
                true,
                short
            ),
            ("openai:mine".into(), PLAN)
        );
        assert_eq!(
            chosen_in(&no_planner, None, TurnMode::Plan, true, short),
            ("openai:big".into(), PLAN)
        );
        // A short question is asked of the build model, not the edit model.
        assert_eq!(
            chosen_in(&all, None, TurnMode::Ask, true, short),
            ("openai:big".into(), ASK)
        );
        assert_eq!(
            chosen_in(&all, Some("openai:mine"), TurnMode::Ask, true, short),
            ("openai:mine".into(), ASK)
        );
        // The planning model is one users may pick.
        assert!(all
            .configured_models()
            .iter()
            .any(|model| model.to_string() == "anthropic:thinker"));
    }
}
