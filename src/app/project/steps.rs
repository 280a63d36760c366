//! A turn's events as the chat's step list: each step starts running and
//! ends with a check mark (or a cross) and how long it took.

use ollio_domain::{errors_text, number_text, size_text, tokens_text, TrainingStage, TurnEvent};

use crate::api::workspace::StepEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Running,
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub label: String,
    pub detail: Option<String>,
    pub state: StepState,
    pub started_ms: i64,
    /// Set once the step ended.
    pub ended_ms: Option<i64>,
    /// How far it is, from 0 to 1, when it says (training).
    pub progress: Option<f64>,
    /// The latest metrics, by name, when it has any (training).
    pub metrics: Vec<(String, String)>,
    /// The change a file edit made, as a unified diff.
    pub diff: Option<String>,
}

impl Step {
    fn running(label: String, detail: Option<String>, started_ms: i64) -> Self {
        Self {
            state: StepState::Running,
            ended_ms: None,
            ..Self::done(label, detail, started_ms, started_ms)
        }
    }

    fn done(label: String, detail: Option<String>, started_ms: i64, ended_ms: i64) -> Self {
        Self {
            label,
            detail,
            state: StepState::Done,
            started_ms,
            ended_ms: Some(ended_ms),
            progress: None,
            metrics: Vec::new(),
            diff: None,
        }
    }

    /// "0.4 s", "12 s", "2 min 5 s"; `now_ms` for a step still running.
    pub fn duration_text(&self, now_ms: i64) -> String {
        duration_text(self.ended_ms.unwrap_or(now_ms) - self.started_ms)
    }
}

pub fn duration_text(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 10_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 60_000 {
        format!("{} s", ms / 1000)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// The steps of a turn from its events. With `running`, a turn whose last
/// step has ended is shown as the model working on the next one.
pub fn steps(events: &[StepEvent], running: bool) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut last_at = events.first().map_or(0, |first| first.at_ms);
    let mut open: Option<usize> = None;
    // An install runs beside whatever the agent does meanwhile.
    let mut installing: Option<usize> = None;
    let mut files: Option<(usize, Vec<String>)> = None;
    // A training run's current step (install, train, deploy).
    let mut training: Option<usize> = None;
    for StepEvent { at_ms, event, .. } in events {
        let at = *at_ms;
        if !matches!(
            event,
            TurnEvent::FileWritten { .. } | TurnEvent::Output { .. }
        ) {
            files = None;
        }
        match event {
            TurnEvent::TemplatePreparing { name } => {
                open = Some(steps.len());
                steps.push(Step {
                    label: format!("Preparing the {name} template (first use)"),
                    detail: Some(
                        "installing its packages once; later sandboxes start from it".into(),
                    ),
                    state: StepState::Running,
                    started_ms: at,
                    ended_ms: None,
                    progress: None,
                    metrics: Vec::new(),
                    diff: None,
                });
            }
            TurnEvent::TemplateReady => {
                if let Some(step) = open.take().and_then(|index| steps.get_mut(index)) {
                    step.label = step.label.replacen("Preparing", "Prepared", 1);
                    step.label = step.label.replacen(" (first use)", "", 1);
                    step.detail = None;
                    step.state = StepState::Done;
                    step.ended_ms = Some(at);
                }
            }
            TurnEvent::SandboxStarting => {
                open = Some(steps.len());
                steps.push(Step::running("Starting the sandbox".into(), None, at));
            }
            TurnEvent::SandboxReady { revived_files, .. } => {
                let detail = (*revived_files > 0)
                    .then(|| format!("restored {revived_files} files from the last version"));
                match open.take().and_then(|index| steps.get_mut(index)) {
                    Some(step) => {
                        step.label = "Sandbox ready".into();
                        step.detail = detail;
                        step.state = StepState::Done;
                        step.ended_ms = Some(at);
                    }
                    None => steps.push(Step::done("Sandbox ready".into(), detail, last_at, at)),
                }
            }
            TurnEvent::ModelRequest { output_tokens, .. } => steps.push(Step::done(
                "The model worked".into(),
                (*output_tokens > 0).then(|| format!("{output_tokens} tokens")),
                last_at,
                at,
            )),
            TurnEvent::FileWritten { path, size } => match files.as_mut() {
                // Files written one after another show as one step.
                Some((index, names)) => {
                    names.push(path.clone());
                    if let Some(step) = steps.get_mut(*index) {
                        step.label = format!("Wrote {} files", names.len());
                        step.detail = Some(names.join(", "));
                        step.ended_ms = Some(at);
                    }
                }
                None => {
                    files = Some((steps.len(), vec![path.clone()]));
                    steps.push(Step::done(
                        format!("Wrote {path}"),
                        Some(size_text(*size)),
                        last_at,
                        at,
                    ));
                }
            },
            TurnEvent::FileEdited {
                path,
                added,
                removed,
                diff,
            } => {
                let mut step = Step::done(
                    format!("Edited {path}"),
                    Some(format!("+{added} −{removed}")),
                    last_at,
                    at,
                );
                step.diff = Some(diff.clone());
                steps.push(step);
            }
            TurnEvent::CommandStarted { command } => {
                open = Some(steps.len());
                steps.push(Step::running(format!("Running {command}"), None, at));
            }
            TurnEvent::CommandExited { exit_code } => {
                if let Some(step) = open.take().and_then(|index| steps.get_mut(index)) {
                    step.label = step.label.replacen("Running ", "Ran ", 1);
                    step.ended_ms = Some(at);
                    if *exit_code == 0 {
                        step.state = StepState::Done;
                    } else {
                        step.state = StepState::Failed;
                        step.detail = Some(format!("exited with code {exit_code}"));
                    }
                }
            }
            TurnEvent::Retrying { reason, wait_ms } => steps.push(Step {
                label: format!(
                    "Retrying in {}",
                    duration_text(i64::try_from(*wait_ms).unwrap_or(0))
                ),
                detail: Some(reason.clone()),
                state: StepState::Failed,
                started_ms: last_at,
                ended_ms: Some(at),
                progress: None,
                metrics: Vec::new(),
                diff: None,
            }),
            TurnEvent::AppStarting => {
                open = Some(steps.len());
                steps.push(Step::running("Starting the app".into(), None, at));
            }
            TurnEvent::AppReady | TurnEvent::AppFailed { .. } => {
                let failed = matches!(event, TurnEvent::AppFailed { .. });
                let label = if failed {
                    "The app did not start"
                } else {
                    "The app is running"
                };
                let detail = failed.then(|| "its log is in the Preview tab".to_owned());
                match open.take().and_then(|index| steps.get_mut(index)) {
                    Some(step) => {
                        step.label = label.into();
                        step.detail = detail;
                        step.state = if failed {
                            StepState::Failed
                        } else {
                            StepState::Done
                        };
                        step.ended_ms = Some(at);
                    }
                    None => steps.push(Step::done(label.into(), detail, last_at, at)),
                }
            }
            TurnEvent::AppInstalling { file } => {
                installing = Some(steps.len());
                steps.push(Step::running(
                    "Installing packages".into(),
                    (!file.is_empty()).then(|| format!("{file} changed")),
                    at,
                ));
            }
            TurnEvent::AppInstalled { exit_code } => {
                if let Some(step) = installing.take().and_then(|index| steps.get_mut(index)) {
                    step.ended_ms = Some(at);
                    if *exit_code == 0 {
                        step.label = "Installed packages".into();
                        step.state = StepState::Done;
                    } else {
                        step.label = "Installing packages failed".into();
                        step.detail = Some(format!(
                            "exited with code {exit_code}; the app's log is in the Preview tab"
                        ));
                        step.state = StepState::Failed;
                    }
                }
            }
            TurnEvent::AttachmentsSaved { paths, unseen } => {
                let label = match paths.len() {
                    1 => "Saved the attached file".to_owned(),
                    n => format!("Saved {n} attached files"),
                };
                steps.push(Step::done(label, Some(paths.join(", ")), last_at, at));
                if !unseen.is_empty() {
                    steps.push(Step::done(
                        "Images saved but not seen".into(),
                        Some(format!(
                            "this model does not take images: {}",
                            unseen.join(", ")
                        )),
                        at,
                        at,
                    ));
                }
            }
            TurnEvent::AppRestarted { exit_code } => steps.push(match exit_code {
                None => Step::done(
                    "Restarted the app".into(),
                    Some("with the new packages".into()),
                    at,
                    at,
                ),
                Some(code) => Step {
                    label: "The app exited and was restarted".into(),
                    detail: Some(format!("exit code {code}; its log is in the Preview tab")),
                    state: StepState::Failed,
                    started_ms: at,
                    ended_ms: Some(at),
                    progress: None,
                    metrics: Vec::new(),
                    diff: None,
                },
            }),
            TurnEvent::ToolsReminded => steps.push(Step::done(
                "Asked the model to use its tools".into(),
                Some("it answered with code in the chat instead of changing files".into()),
                at,
                at,
            )),
            TurnEvent::CheckStarted => {
                open = Some(steps.len());
                steps.push(Step::running("Checking the app".into(), None, at));
            }
            TurnEvent::CheckEnded { problems } => {
                let detail = match problems.first() {
                    None => "no errors".to_owned(),
                    Some(first) => format!("{}: {}", errors_text(problems.len()), first.headline()),
                };
                if let Some(step) = open.take().and_then(|index| steps.get_mut(index)) {
                    step.detail = Some(detail);
                    step.ended_ms = Some(at);
                    step.state = if problems.is_empty() {
                        StepState::Done
                    } else {
                        StepState::Failed
                    };
                }
            }
            TurnEvent::FixStarted { attempt, errors } => steps.push(Step::done(
                format!("Fixing {}", errors_text(*errors)),
                Some(format!(
                    "attempt {attempt}: the errors went back to the model"
                )),
                at,
                at,
            )),
            TurnEvent::BudgetNear { used, budget } => steps.push(Step::done(
                "Wrapping up".into(),
                Some(format!(
                    "{} of this turn's {} used",
                    tokens_text(*used),
                    tokens_text(*budget)
                )),
                at,
                at,
            )),
            TurnEvent::BudgetSpent { budget, .. } => steps.push(Step::done(
                "Token budget used".into(),
                Some(format!(
                    "all {} of this turn's budget: the work so far is saved",
                    tokens_text(*budget)
                )),
                at,
                at,
            )),
            TurnEvent::TrainingStep { stage } => {
                if let Some(step) = training.take().and_then(|index| steps.get_mut(index)) {
                    step.state = StepState::Done;
                    step.ended_ms = Some(at);
                }
                training = Some(steps.len());
                steps.push(Step {
                    label: stage.label().into(),
                    detail: (*stage == TrainingStage::Install)
                        .then(|| "only what the template has not installed already".into()),
                    state: StepState::Running,
                    started_ms: at,
                    ended_ms: None,
                    progress: None,
                    metrics: Vec::new(),
                    diff: None,
                });
            }
            TurnEvent::TrainingProgress {
                progress,
                epoch,
                step: at_step,
                metrics,
            } => {
                if let Some(step) = training.and_then(|index| steps.get_mut(index)) {
                    step.progress = progress.or(step.progress);
                    let mut said = Vec::new();
                    if let Some(progress) = step.progress {
                        said.push(format!("{:.0}%", progress * 100.0));
                    }
                    if let Some(epoch) = epoch {
                        said.push(format!("epoch {epoch}"));
                    }
                    if let Some(at_step) = at_step {
                        said.push(format!("step {at_step}"));
                    }
                    step.detail = (!said.is_empty()).then(|| said.join(" · "));
                    step.metrics = metrics
                        .iter()
                        .map(|(name, value)| (name.clone(), number_text(*value)))
                        .collect();
                }
            }
            TurnEvent::TrainingFailed { reason, .. } => {
                if let Some(step) = training.take().and_then(|index| steps.get_mut(index)) {
                    step.state = StepState::Failed;
                    step.detail = Some(reason.clone());
                    step.ended_ms = Some(at);
                }
            }
            TurnEvent::ModelDeployed { url, .. } => {
                if let Some(step) = training.take().and_then(|index| steps.get_mut(index)) {
                    step.label = "The API is live".into();
                    step.detail = Some(url.clone());
                    step.state = StepState::Done;
                    step.ended_ms = Some(at);
                }
            }
            TurnEvent::Output { .. }
            | TurnEvent::Summary { .. }
            | TurnEvent::Failed { .. }
            | TurnEvent::Cancelled => {}
        }
        last_at = at;
    }
    let busy = steps.iter().any(|step| step.state == StepState::Running);
    if running && !busy {
        steps.push(Step {
            label: if events.is_empty() {
                "Waiting for a worker".into()
            } else if training.is_some()
                || events
                    .iter()
                    .any(|e| matches!(e.event, TurnEvent::TrainingStep { .. }))
            {
                "Training the model".into()
            } else {
                "The model is working".into()
            },
            detail: None,
            state: StepState::Running,
            started_ms: last_at,
            ended_ms: None,
            progress: None,
            metrics: Vec::new(),
            diff: None,
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(at_ms: i64, event: TurnEvent) -> StepEvent {
        StepEvent {
            seq: 0,
            at_ms,
            event,
        }
    }

    #[test]
    fn a_turn_reads_as_steps_with_durations() {
        let events = vec![
            at(1_000, TurnEvent::SandboxStarting),
            at(
                1_400,
                TurnEvent::SandboxReady {
                    sandbox_id: "s".into(),
                    preview_url: "u".into(),
                    revived_files: 0,
                },
            ),
            at(
                3_400,
                TurnEvent::ModelRequest {
                    model: "m".into(),
                    input_tokens: 10,
                    output_tokens: 120,
                },
            ),
            at(
                3_500,
                TurnEvent::FileWritten {
                    path: "index.html".into(),
                    size: 2048,
                },
            ),
            at(
                3_600,
                TurnEvent::FileWritten {
                    path: "style.css".into(),
                    size: 10,
                },
            ),
            at(
                3_700,
                TurnEvent::CommandStarted {
                    command: "npm install".into(),
                },
            ),
            at(
                3_800,
                TurnEvent::Output {
                    stderr: false,
                    text: "ok".into(),
                },
            ),
            at(5_700, TurnEvent::CommandExited { exit_code: 0 }),
        ];
        let steps = steps(&events, true);
        let labels: Vec<&str> = steps.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Sandbox ready",
                "The model worked",
                "Wrote 2 files",
                "Ran npm install",
                "The model is working"
            ]
        );
        assert_eq!(steps[0].duration_text(0), "0.4 s");
        assert_eq!(steps[1].duration_text(0), "2.0 s");
        assert_eq!(steps[1].detail.as_deref(), Some("120 tokens"));
        assert_eq!(steps[2].detail.as_deref(), Some("index.html, style.css"));
        assert_eq!(steps[3].duration_text(0), "2.0 s");
        assert_eq!(steps[4].state, StepState::Running);
        assert_eq!(steps[4].duration_text(6_700), "1.0 s");
    }

    #[test]
    fn the_check_and_each_fix_are_steps() {
        use ollio_domain::{CheckProblem, ProblemSource};
        let problem = CheckProblem::new(ProblemSource::Log, "SyntaxError: invalid syntax")
            .at("main.py", Some(7));
        let events = vec![
            at(0, TurnEvent::CheckStarted),
            at(
                300,
                TurnEvent::CheckEnded {
                    problems: vec![problem],
                },
            ),
            at(
                300,
                TurnEvent::FixStarted {
                    attempt: 1,
                    errors: 1,
                },
            ),
            at(900, TurnEvent::CheckStarted),
        ];
        let list = steps(&events, true);
        let labels: Vec<&str> = list.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            ["Checking the app", "Fixing 1 error", "Checking the app"]
        );
        assert_eq!(list[0].state, StepState::Failed);
        assert_eq!(
            list[0].detail.as_deref(),
            Some("1 error: main.py:7 — SyntaxError: invalid syntax")
        );
        assert_eq!(list[0].duration_text(0), "0.3 s");
        assert_eq!(list[2].state, StepState::Running);
        let passed = steps(
            &[
                at(0, TurnEvent::CheckStarted),
                at(200, TurnEvent::CheckEnded { problems: vec![] }),
            ],
            false,
        );
        assert_eq!(passed[0].state, StepState::Done);
        assert_eq!(passed[0].detail.as_deref(), Some("no errors"));
    }

    #[test]
    fn a_template_s_first_use_is_a_step_of_its_own() {
        let preparing = at(
            0,
            TurnEvent::TemplatePreparing {
                name: "React".into(),
            },
        );
        let list = steps(std::slice::from_ref(&preparing), true);
        assert_eq!(list[0].label, "Preparing the React template (first use)");
        assert_eq!(list[0].state, StepState::Running);

        let events = vec![
            preparing,
            at(65_000, TurnEvent::TemplateReady),
            at(65_000, TurnEvent::SandboxStarting),
        ];
        let list = steps(&events, true);
        assert_eq!(list[0].label, "Prepared the React template");
        assert_eq!(list[0].state, StepState::Done);
        assert_eq!(list[0].duration_text(0), "1 min 5 s");
        assert_eq!(list[1].label, "Starting the sandbox");
    }

    #[test]
    fn installs_and_restarts_show_beside_the_agent_s_own_steps() {
        let events = vec![
            at(
                0,
                TurnEvent::AppInstalling {
                    file: "package.json".into(),
                },
            ),
            at(
                100,
                TurnEvent::CommandStarted {
                    command: "ls".into(),
                },
            ),
            at(2_000, TurnEvent::AppInstalled { exit_code: 0 }),
            at(2_000, TurnEvent::AppRestarted { exit_code: None }),
            at(2_100, TurnEvent::CommandExited { exit_code: 0 }),
            at(3_000, TurnEvent::AppRestarted { exit_code: Some(1) }),
        ];
        let list = steps(&events, false);
        let labels: Vec<&str> = list.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Installed packages",
                "Ran ls",
                "Restarted the app",
                "The app exited and was restarted"
            ]
        );
        assert_eq!(list[0].detail.as_deref(), Some("package.json changed"));
        assert_eq!(list[0].duration_text(0), "2.0 s");
        assert_eq!(list[1].state, StepState::Done);
        assert_eq!(list[3].state, StepState::Failed);

        let failed = vec![
            at(
                0,
                TurnEvent::AppInstalling {
                    file: "requirements.txt".into(),
                },
            ),
            at(500, TurnEvent::AppInstalled { exit_code: 1 }),
        ];
        let list = steps(&failed, false);
        assert_eq!(list[0].label, "Installing packages failed");
        assert_eq!(list[0].state, StepState::Failed);
    }

    #[test]
    fn running_steps_and_failed_commands_show_as_such() {
        let events = vec![at(0, TurnEvent::SandboxStarting)];
        let list = steps(&events, true);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].label, "Starting the sandbox");
        assert_eq!(list[0].state, StepState::Running);

        let events = vec![
            at(
                0,
                TurnEvent::CommandStarted {
                    command: "false".into(),
                },
            ),
            at(50, TurnEvent::CommandExited { exit_code: 1 }),
        ];
        let list = steps(&events, false);
        assert_eq!(list[0].state, StepState::Failed);
        assert_eq!(list[0].detail.as_deref(), Some("exited with code 1"));
        assert_eq!(steps(&[], true)[0].label, "Waiting for a worker");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(420), "0.4 s");
        assert_eq!(duration_text(12_300), "12 s");
        assert_eq!(duration_text(125_000), "2 min 5 s");
    }

    #[test]
    fn a_training_run_reads_as_its_three_steps_with_progress() {
        let events = vec![
            at(
                1_000,
                TurnEvent::TrainingStep {
                    stage: TrainingStage::Install,
                },
            ),
            at(
                2_000,
                TurnEvent::TrainingStep {
                    stage: TrainingStage::Train,
                },
            ),
            at(
                2_500,
                TurnEvent::TrainingProgress {
                    progress: Some(0.4),
                    epoch: Some(2),
                    step: None,
                    metrics: [("loss".to_owned(), 0.123_456)].into(),
                },
            ),
        ];
        let list = steps(&events, true);
        let labels: Vec<&str> = list.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["Installing packages", "Training the model"]);
        assert_eq!(list[0].state, StepState::Done);
        let training = &list[1];
        assert_eq!(training.state, StepState::Running);
        assert_eq!(training.progress, Some(0.4));
        assert_eq!(training.detail.as_deref(), Some("40% · epoch 2"));
        assert_eq!(training.metrics, [("loss".to_owned(), "0.1235".to_owned())]);

        let mut deployed = events.clone();
        deployed.push(at(
            3_000,
            TurnEvent::TrainingStep {
                stage: TrainingStage::Deploy,
            },
        ));
        deployed.push(at(
            3_500,
            TurnEvent::ModelDeployed {
                url: "http://8000-s.localhost".into(),
                metrics: Default::default(),
            },
        ));
        let list = steps(&deployed, false);
        assert_eq!(list.len(), 3);
        assert_eq!(list[2].label, "The API is live");
        assert_eq!(list[2].detail.as_deref(), Some("http://8000-s.localhost"));
        assert!(list.iter().all(|step| step.state == StepState::Done));

        let mut failed = events;
        failed.push(at(
            4_000,
            TurnEvent::TrainingFailed {
                stage: TrainingStage::Train,
                reason: "Training failed: exit code 1.".into(),
                log_tail: "ValueError".into(),
            },
        ));
        let list = steps(&failed, false);
        assert_eq!(list[1].state, StepState::Failed);
        assert_eq!(
            list[1].detail.as_deref(),
            Some("Training failed: exit code 1.")
        );
    }
}
