//! The steps of a turn as the chat shows them: recorded in `message_events`
//! (the `kind` column is [`TurnEvent::kind`], the payload this JSON) and
//! streamed to the browser, which decodes the same type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::check::CheckProblem;

/// The steps of an ML model's training run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingStage {
    Install,
    Train,
    Deploy,
}

impl TrainingStage {
    /// The step's name in the chat.
    pub fn label(self) -> &'static str {
        match self {
            Self::Install => "Installing packages",
            Self::Train => "Training the model",
            Self::Deploy => "Deploying the API",
        }
    }
}

// Metrics are numbers with fractions: `PartialEq` only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TurnEvent {
    /// The project's template is being built for its first sandbox: once
    /// per machine and version of the template. `name` is "React".
    TemplatePreparing {
        name: String,
    },
    /// It is built; sandboxes start from it from now on.
    TemplateReady,
    SandboxStarting,
    SandboxReady {
        sandbox_id: String,
        preview_url: String,
        /// Files of the latest version written back into a new sandbox.
        revived_files: usize,
    },
    FileWritten {
        path: String,
        size: u64,
    },
    /// A file changed in place (`edit_file`): the lines added and removed,
    /// and the change as a unified diff.
    FileEdited {
        path: String,
        added: u64,
        removed: u64,
        diff: String,
    },
    CommandStarted {
        command: String,
    },
    Output {
        stderr: bool,
        text: String,
    },
    CommandExited {
        exit_code: i32,
    },
    ModelRequest {
        model: String,
        input_tokens: u64,
        output_tokens: u64,
    },
    /// A provider failed in a way worth retrying; the turn waits and tries again.
    Retrying {
        reason: String,
        wait_ms: u64,
    },
    /// The files attached to the message were saved in the project
    /// (`data/…`). `unseen` names the images among them the model was not
    /// shown, because it does not take images.
    AttachmentsSaved {
        paths: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unseen: Vec<String>,
    },
    /// The project's app (a template's start command) is being waited for.
    AppStarting,
    /// Its ready path answered.
    AppReady,
    /// A package manifest (`package.json`) changed: the supervisor installs.
    AppInstalling {
        file: String,
    },
    AppInstalled {
        exit_code: i32,
    },
    /// The app started again: after an install (`None`), or after it
    /// exited with `exit_code`.
    AppRestarted {
        exit_code: Option<i32>,
    },
    /// It did not come up; the end of its log says why.
    AppFailed {
        log_tail: String,
    },
    /// The model answered with code in the chat and changed no file: it
    /// was asked, once, to use its tools instead.
    ToolsReminded,
    /// The check after the model's work began ("Checking the app").
    CheckStarted,
    /// It ended: what it found, nothing when the app is fine.
    CheckEnded {
        problems: Vec<CheckProblem>,
    },
    /// The model was given the problems the check found to fix, in the same
    /// turn: `attempt` of at most `OLLIO_FIX_ATTEMPTS`.
    FixStarted {
        attempt: u32,
        errors: usize,
    },
    /// 80% of the turn's token budget (`OLLIO_TURN_TOKENS`) is used: the
    /// model was told to wrap up.
    BudgetNear {
        used: u64,
        budget: u64,
    },
    /// The whole budget is used: the turn ends with what it made.
    BudgetSpent {
        used: u64,
        budget: u64,
    },
    /// A training run's step began.
    TrainingStep {
        stage: TrainingStage,
    },
    /// What `train.py` last reported: `progress` from 0 to 1, the epoch and
    /// step it is at, and the latest value of each metric it named.
    TrainingProgress {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        progress: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<u64>,
        #[serde(default)]
        metrics: BTreeMap<String, f64>,
    },
    /// A training run's step failed: why, and the end of its output.
    TrainingFailed {
        stage: TrainingStage,
        reason: String,
        log_tail: String,
    },
    /// The trained model's API answers at `url`.
    ModelDeployed {
        url: String,
        metrics: BTreeMap<String, f64>,
    },
    Summary {
        text: String,
        title: String,
    },
    Failed {
        reason: String,
    },
    Cancelled,
}

impl TurnEvent {
    /// Every event name, as the event stream labels its events.
    pub const KINDS: [&'static str; 31] = [
        "template_preparing",
        "template_ready",
        "sandbox_starting",
        "sandbox_ready",
        "file_written",
        "file_edited",
        "command_started",
        "output",
        "command_exited",
        "model_request",
        "retrying",
        "attachments_saved",
        "app_starting",
        "app_ready",
        "app_failed",
        "app_installing",
        "app_installed",
        "app_restarted",
        "tools_reminded",
        "check_started",
        "check_ended",
        "fix_started",
        "budget_near",
        "budget_spent",
        "training_step",
        "training_progress",
        "training_failed",
        "model_deployed",
        "summary",
        "failed",
        "cancelled",
    ];

    /// Whether the turn (or training run) ended with this event.
    pub fn is_last(&self) -> bool {
        matches!(
            self,
            Self::Summary { .. }
                | Self::ModelDeployed { .. }
                | Self::Failed { .. }
                | Self::Cancelled
        )
    }

    /// The event's name, as stored beside its payload.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TemplatePreparing { .. } => "template_preparing",
            Self::TemplateReady => "template_ready",
            Self::SandboxStarting => "sandbox_starting",
            Self::SandboxReady { .. } => "sandbox_ready",
            Self::FileWritten { .. } => "file_written",
            Self::FileEdited { .. } => "file_edited",
            Self::CommandStarted { .. } => "command_started",
            Self::Output { .. } => "output",
            Self::CommandExited { .. } => "command_exited",
            Self::ModelRequest { .. } => "model_request",
            Self::Retrying { .. } => "retrying",
            Self::AttachmentsSaved { .. } => "attachments_saved",
            Self::AppStarting => "app_starting",
            Self::AppReady => "app_ready",
            Self::AppFailed { .. } => "app_failed",
            Self::AppInstalling { .. } => "app_installing",
            Self::AppInstalled { .. } => "app_installed",
            Self::AppRestarted { .. } => "app_restarted",
            Self::ToolsReminded => "tools_reminded",
            Self::CheckStarted => "check_started",
            Self::CheckEnded { .. } => "check_ended",
            Self::FixStarted { .. } => "fix_started",
            Self::BudgetNear { .. } => "budget_near",
            Self::BudgetSpent { .. } => "budget_spent",
            Self::TrainingStep { .. } => "training_step",
            Self::TrainingProgress { .. } => "training_progress",
            Self::TrainingFailed { .. } => "training_failed",
            Self::ModelDeployed { .. } => "model_deployed",
            Self::Summary { .. } => "summary",
            Self::Failed { .. } => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_kind_is_the_json_tag() {
        let events = [
            TurnEvent::TemplatePreparing {
                name: "React".into(),
            },
            TurnEvent::TemplateReady,
            TurnEvent::SandboxStarting,
            TurnEvent::FileWritten {
                path: "index.html".into(),
                size: 12,
            },
            TurnEvent::FileEdited {
                path: "app.js".into(),
                added: 1,
                removed: 2,
                diff: "-a\n+b\n".into(),
            },
            TurnEvent::Cancelled,
            TurnEvent::Failed { reason: "x".into() },
            TurnEvent::AttachmentsSaved {
                paths: vec!["data/a.csv".into()],
                unseen: vec!["a.png".into()],
            },
            TurnEvent::AppStarting,
            TurnEvent::AppReady,
            TurnEvent::AppFailed {
                log_tail: "Error".into(),
            },
            TurnEvent::AppInstalling {
                file: "package.json".into(),
            },
            TurnEvent::AppInstalled { exit_code: 1 },
            TurnEvent::AppRestarted { exit_code: None },
            TurnEvent::ToolsReminded,
            TurnEvent::CheckStarted,
            TurnEvent::CheckEnded {
                problems: vec![CheckProblem::new(
                    crate::ProblemSource::Types,
                    "error TS2322: Type 'number' is not assignable to type 'string'.",
                )
                .at("src/App.tsx", Some(4))],
            },
            TurnEvent::FixStarted {
                attempt: 1,
                errors: 1,
            },
            TurnEvent::BudgetNear {
                used: 320_000,
                budget: 400_000,
            },
            TurnEvent::BudgetSpent {
                used: 401_000,
                budget: 400_000,
            },
            TurnEvent::TrainingStep {
                stage: TrainingStage::Train,
            },
            TurnEvent::TrainingProgress {
                progress: Some(0.5),
                epoch: Some(2),
                step: None,
                metrics: [("loss".to_owned(), 0.25)].into(),
            },
            TurnEvent::TrainingFailed {
                stage: TrainingStage::Install,
                reason: "pip failed".into(),
                log_tail: "ERROR".into(),
            },
            TurnEvent::ModelDeployed {
                url: "http://8000-x.localhost/".into(),
                metrics: BTreeMap::new(),
            },
        ];
        for event in events {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["kind"], event.kind());
            assert!(TurnEvent::KINDS.contains(&event.kind()));
            let back: TurnEvent = serde_json::from_value(json).unwrap();
            assert_eq!(back, event);
        }
    }
}
