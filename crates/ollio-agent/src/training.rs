//! A training run of an ML model project, from start to end, in the
//! project's sandbox: the packages (only what is missing), the template's
//! training command with its progress read from its output, the trained
//! artifacts kept with the version in the blob store, and the API waited
//! for. Each step is an event the chat shows; how the run ends goes back
//! to the worker like a turn's.

use std::{collections::BTreeMap, time::Duration};

use tokio_util::sync::CancellationToken;

use super::{
    app_ready, app_watch,
    engine::{Engine, JobOutcome, Stop},
    listing::{self, Kind},
    templates::{self, Template},
    tools::{EventSink, ToolRunner, PROJECT_ROOT},
};
use ollio_domain::{number_text, size_text, TrainingStage, TurnEvent};
use ollio_sandbox::{Command, Envd};
use ollio_store::{now_ms, TrainJob, TrainingStatus};

/// How long the packages may take to install.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// How much of a step's output a failure shows.
const TAIL_BYTES: usize = 4 * 1024;
/// Progress is saved and streamed at most this often; the last report is
/// never lost.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// The metrics file is read up to this size.
const MAX_METRICS_BYTES: usize = 64 * 1024;

/// The latest of what the training command reported.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Progress {
    pub progress: Option<f64>,
    pub epoch: Option<u64>,
    pub step: Option<u64>,
    pub metrics: BTreeMap<String, f64>,
}

impl Progress {
    /// Takes in one line of output: `true` when it was a progress report
    /// (a JSON object with `progress`, `epoch`, `step` or metrics, all
    /// numbers), which is then not part of the log.
    pub fn read_line(&mut self, line: &str) -> bool {
        let line = line.trim();
        if !line.starts_with('{') {
            return false;
        }
        let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(line) else {
            return false;
        };
        if fields.is_empty() || !fields.values().all(serde_json::Value::is_number) {
            return false;
        }
        for (name, value) in fields {
            let Some(number) = value.as_f64().filter(|number| number.is_finite()) else {
                continue;
            };
            match name.as_str() {
                "progress" => self.progress = Some(number.clamp(0.0, 1.0)),
                "epoch" => self.epoch = value.as_u64(),
                "step" => self.step = value.as_u64(),
                _ => {
                    self.metrics.insert(name, number);
                }
            }
        }
        true
    }

    fn event(&self) -> TurnEvent {
        TurnEvent::TrainingProgress {
            progress: self.progress,
            epoch: self.epoch,
            step: self.step,
            metrics: self.metrics.clone(),
        }
    }
}

/// The metrics file: a flat JSON object of numbers.
pub fn parse_metrics(bytes: &[u8]) -> Result<BTreeMap<String, f64>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| format!("it is not JSON ({error})"))?;
    let serde_json::Value::Object(fields) = value else {
        return Err("it is not a JSON object".into());
    };
    fields
        .into_iter()
        .map(
            |(name, value)| match value.as_f64().filter(|n| n.is_finite()) {
                Some(number) => Ok((name, number)),
                None => Err(format!("`{name}` is not a number")),
            },
        )
        .collect()
}

/// Metrics as the chat says them: "accuracy 0.9737 · f1_macro 0.97".
pub fn metrics_text(metrics: &BTreeMap<String, f64>) -> String {
    metrics
        .iter()
        .map(|(name, value)| format!("{name} {}", number_text(*value)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The end of a step's output, kept while it streams.
#[derive(Default)]
struct Tail(Vec<u8>);

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
        if self.0.len() > 4 * TAIL_BYTES {
            self.0.drain(..self.0.len() - TAIL_BYTES - 1);
        }
    }

    fn text(&self) -> String {
        app_ready::tail(&self.0, TAIL_BYTES)
    }
}

/// Why a step failed: what the chat and the run say, and the output's end.
struct StepFailure {
    stage: TrainingStage,
    reason: String,
    log_tail: String,
}

impl Engine {
    /// Runs one try of a training run; `attempt` counts from 1.
    pub async fn train(
        &self,
        job: &TrainJob,
        attempt: i64,
        cancel: &CancellationToken,
    ) -> JobOutcome {
        let outcome = self
            .run_message(
                &job.project,
                &job.assistant_message,
                attempt,
                |sink| async move { self.train_work(job, &sink, cancel).await },
            )
            .await;
        if matches!(outcome, JobOutcome::Retry { .. }) {
            let _ = self
                .store
                .set_training_status(&job.training_job, TrainingStatus::Queued)
                .await;
        }
        outcome
    }

    async fn train_work(
        &self,
        job: &TrainJob,
        sink: &EventSink,
        cancel: &CancellationToken,
    ) -> Result<(), Stop> {
        let Some(project) = self.store.project(&job.owner, &job.project).await? else {
            return Err(Stop::Fail("The project was deleted.".into(), false));
        };
        let Some(template) = templates::find(&project.template).filter(|t| t.training.is_some())
        else {
            return Err(Stop::Fail(
                format!(
                    "The project's template `{}` trains no model.",
                    project.template
                ),
                false,
            ));
        };
        let turn = job.turn();
        let (sandbox, envd, _) = tokio::select! {
            ready = self.ensure_sandbox(&project, template, &turn, sink) => ready?,
            () = cancel.cancelled() => return Err(Stop::Cancelled),
        };
        // The sandbox outlives the longest training, and then some.
        let maker = self.sandbox_maker();
        let seconds = self.training.timeout.as_secs() + INSTALL_TIMEOUT.as_secs() + maker.seconds();
        self.sandboxes.connect(&sandbox.id, seconds).await?;
        let expires = now_ms() + i64::try_from(seconds * 1000).unwrap_or(i64::MAX);
        self.store.extend_sandbox(&sandbox.id, expires).await?;

        let run = Run {
            engine: self,
            job,
            template,
            envd: &envd,
            sink,
            cancel,
        };
        let metrics = match run.steps().await {
            Ok(metrics) => metrics,
            Err(Failed::Stop(stop)) => return Err(stop),
            Err(Failed::Step(failure)) => {
                let _ = self
                    .store
                    .set_training_log_tail(&job.training_job, &failure.log_tail)
                    .await;
                let _ = sink.send(TurnEvent::TrainingFailed {
                    stage: failure.stage,
                    reason: failure.reason.clone(),
                    log_tail: failure.log_tail,
                });
                return Err(Stop::Fail(failure.reason, false));
            }
        };
        let url = self.sandboxes.preview_url(&sandbox.id, template.port);
        let summary = deployed_summary(&metrics, &url);
        if !self
            .store
            .complete_training(job, &url, &metrics, &summary)
            .await?
        {
            return Err(Stop::Cancelled);
        }
        let _ = sink.send(TurnEvent::ModelDeployed { url, metrics });
        Ok(())
    }
}

/// What the chat says once the API is live.
fn deployed_summary(metrics: &BTreeMap<String, f64>, url: &str) -> String {
    let measured = if metrics.is_empty() {
        "The model is trained".to_owned()
    } else {
        format!("The model is trained: {}", metrics_text(metrics))
    };
    format!(
        "{measured}. Its prediction API is live at {url} (POST /predict; the docs are at /docs)."
    )
}

enum Failed {
    Stop(Stop),
    Step(StepFailure),
}

impl From<Stop> for Failed {
    fn from(stop: Stop) -> Self {
        Self::Stop(stop)
    }
}

impl From<ollio_store::StoreError> for Failed {
    fn from(error: ollio_store::StoreError) -> Self {
        Self::Stop(error.into())
    }
}

impl From<ollio_sandbox::SandboxError> for Failed {
    fn from(error: ollio_sandbox::SandboxError) -> Self {
        Self::Stop(error.into())
    }
}

/// One try of a run in its sandbox.
struct Run<'a> {
    engine: &'a Engine,
    job: &'a TrainJob,
    template: &'static Template,
    envd: &'a Envd,
    sink: &'a EventSink,
    cancel: &'a CancellationToken,
}

impl Run<'_> {
    /// Install, train, deploy, keep the artifacts: the metrics.
    async fn steps(&self) -> Result<BTreeMap<String, f64>, Failed> {
        let training = self.template.training.as_ref().ok_or_else(|| {
            Failed::Stop(Stop::Fail("The template trains no model.".into(), false))
        })?;
        self.stage(TrainingStage::Install, TrainingStatus::Installing)
            .await?;
        self.install().await?;

        self.stage(TrainingStage::Train, TrainingStatus::Training)
            .await?;
        // Last run's metrics must not pass for this one's.
        let metrics_path = format!("{PROJECT_ROOT}/{}", training.metrics);
        self.envd
            .run(&Command::new(format!("rm -f '{metrics_path}'")), |_, _| {})
            .await?;
        let reported = self.train(training.command).await?;
        let metrics = self
            .metrics(training.metrics, &metrics_path, reported)
            .await?;

        self.stage(TrainingStage::Deploy, TrainingStatus::Deploying)
            .await?;
        if !app_ready::answers(self.envd, self.template).await {
            return Err(Failed::Step(StepFailure {
                stage: TrainingStage::Deploy,
                reason: format!(
                    "The API did not answer {} after training; its log is in the Preview tab.",
                    self.template.ready_path
                ),
                log_tail: app_ready::read_tail(self.envd, TAIL_BYTES)
                    .await
                    .unwrap_or_default(),
            }));
        }
        // Kept only once the API answered: a run that failed on the way
        // never replaces the model a version already keeps.
        self.keep_artifacts(training.artifacts).await?;
        Ok(metrics)
    }

    /// A step begins: the run says so, and the chat.
    async fn stage(&self, stage: TrainingStage, status: TrainingStatus) -> Result<(), Failed> {
        if self.cancel.is_cancelled()
            || !self
                .engine
                .store
                .set_training_status(&self.job.training_job, status)
                .await?
        {
            return Err(Stop::Cancelled.into());
        }
        let _ = self.sink.send(TurnEvent::TrainingStep { stage });
        Ok(())
    }

    fn runner(&self, stop: CancellationToken) -> ToolRunner<'_> {
        ToolRunner {
            envd: self.envd,
            events: self.sink,
            stop,
        }
    }

    /// The packages the project names: an install the sandbox's supervisor
    /// runs already is waited for, then each manifest the project changed
    /// from the template's is installed (pip passes over what is there).
    async fn install(&self) -> Result<(), Failed> {
        let wait = Command::new(format!(
            "for _ in $(seq {}); do grep -qs '\"state\":\"installing\"' {} || exit 0; sleep 0.2; done; exit 1",
            INSTALL_TIMEOUT.as_millis() / 200,
            app_watch::STATUS_PATH
        ))
        .timeout(INSTALL_TIMEOUT + Duration::from_secs(10));
        tokio::select! {
            waited = self.envd.run(&wait, |_, _| {}) => { waited?; }
            () = self.cancel.cancelled() => return Err(Stop::Cancelled.into()),
        }
        for package in self.template.packages {
            // The template's image has its own manifest installed: a
            // project that kept it has nothing to install.
            if self.unchanged(package.file).await? {
                continue;
            }
            let mut tail = Tail::default();
            let output = self
                .runner(self.cancel.clone())
                .stream_command(
                    package.install,
                    INSTALL_TIMEOUT.as_millis() as u64,
                    |stderr, bytes| {
                        tail.push(bytes);
                        let text = String::from_utf8_lossy(bytes).into_owned();
                        let _ = self.sink.send(TurnEvent::Output { stderr, text });
                    },
                )
                .await?;
            if self.cancel.is_cancelled() {
                return Err(Stop::Cancelled.into());
            }
            if output.exit_code != 0 {
                return Err(Failed::Step(StepFailure {
                    stage: TrainingStage::Install,
                    reason: format!(
                        "Installing the packages of {} failed (exit code {}).",
                        package.file, output.exit_code
                    ),
                    log_tail: tail.text(),
                }));
            }
        }
        Ok(())
    }

    /// Whether the project's `file` is still the template's own.
    async fn unchanged(&self, file: &str) -> Result<bool, Failed> {
        let Some(starter) = self.template.files.iter().find(|f| f.path == file) else {
            return Ok(false);
        };
        let path = format!("{PROJECT_ROOT}/{file}");
        match self
            .envd
            .read_file_head(&path, starter.bytes.len() + 1)
            .await
        {
            Ok(part) => Ok(!part.cut && part.bytes == starter.bytes),
            Err(ollio_sandbox::SandboxError::Missing(_)) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Runs the training command under `OLLIO_TRAIN_TIMEOUT`: its progress
    /// reports go to the run and the chat, the rest of its output is the
    /// log. Returns what it last reported.
    async fn train(&self, command: &str) -> Result<Progress, Failed> {
        // A try cut off without Stop (its worker lost the job, or shut
        // down) may have left its training running: it goes first, so it
        // cannot write this try's metrics.
        self.envd
            .run(&Command::new(leftover_kill()), |_, _| {})
            .await?;
        let wrapped = remembered(command);
        let limit = self.engine.training.timeout;
        // Stop and the time limit both kill the command.
        let stop = self.cancel.child_token();
        let timer = {
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(limit).await;
                stop.cancel();
            })
        };
        let mut tail = Tail::default();
        let mut progress = Progress::default();
        let mut line = Vec::new();
        let mut saved_at: Option<tokio::time::Instant> = None;
        let mut unsaved = false;
        // The run's row follows the reports: the latest is written, in order.
        let (latest, mut reports) = tokio::sync::watch::channel(Progress::default());
        let saver = {
            let (store, id) = (self.engine.store.clone(), self.job.training_job.clone());
            tokio::spawn(async move {
                while reports.changed().await.is_ok() {
                    let report = reports.borrow_and_update().clone();
                    if let Err(error) = store
                        .set_training_progress(&id, report.progress, &report.metrics)
                        .await
                    {
                        tracing::warn!(%error, "a training run's progress could not be saved");
                    }
                }
            })
        };
        let report = |progress: &Progress| {
            let _ = latest.send(progress.clone());
            let _ = self.sink.send(progress.event());
        };
        let ran = self
            .runner(stop.clone())
            .stream_command(
                &wrapped,
                (limit + Duration::from_secs(60)).as_millis() as u64,
                |stderr, bytes| {
                    tail.push(bytes);
                    if stderr {
                        let text = String::from_utf8_lossy(bytes).into_owned();
                        let _ = self.sink.send(TurnEvent::Output { stderr, text });
                        return;
                    }
                    // Whole lines only: a report may come in two chunks.
                    line.extend_from_slice(bytes);
                    let mut log = String::new();
                    while let Some(end) = line.iter().position(|byte| *byte == b'\n') {
                        let whole: Vec<u8> = line.drain(..=end).collect();
                        let text = String::from_utf8_lossy(&whole);
                        if progress.read_line(&text) {
                            unsaved = true;
                        } else {
                            log.push_str(&text);
                        }
                    }
                    if !log.is_empty() {
                        let _ = self.sink.send(TurnEvent::Output {
                            stderr: false,
                            text: log,
                        });
                    }
                    if unsaved && saved_at.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY) {
                        saved_at = Some(tokio::time::Instant::now());
                        unsaved = false;
                        report(&progress);
                    }
                },
            )
            .await;
        timer.abort();
        if unsaved {
            report(&progress);
        }
        drop(latest);
        let _ = saver.await;
        let output = ran?;
        if self.cancel.is_cancelled() {
            return Err(Stop::Cancelled.into());
        }
        if stop.is_cancelled() {
            return Err(Failed::Step(StepFailure {
                stage: TrainingStage::Train,
                reason: format!(
                    "Training ran past its time limit of {} (OLLIO_TRAIN_TIMEOUT) and was stopped.",
                    duration_words(limit)
                ),
                log_tail: tail.text(),
            }));
        }
        // A last line without its newline.
        if !line.is_empty() {
            let text = String::from_utf8_lossy(&line).into_owned();
            if !progress.read_line(&text) {
                let _ = self.sink.send(TurnEvent::Output {
                    stderr: false,
                    text,
                });
            }
        }
        if output.exit_code != 0 {
            return Err(Failed::Step(StepFailure {
                stage: TrainingStage::Train,
                reason: format!(
                    "Training failed: `{command}` exited with code {}.",
                    output.exit_code
                ),
                log_tail: tail.text(),
            }));
        }
        Ok(progress)
    }

    /// The metrics file the training wrote, which wins over what it
    /// reported on the way; saved with full progress.
    async fn metrics(
        &self,
        relative: &str,
        path: &str,
        mut reported: Progress,
    ) -> Result<BTreeMap<String, f64>, Failed> {
        let failure = |reason: String| {
            Failed::Step(StepFailure {
                stage: TrainingStage::Train,
                reason,
                log_tail: String::new(),
            })
        };
        let part = match self.envd.read_file_head(path, MAX_METRICS_BYTES).await {
            Ok(part) => part,
            Err(ollio_sandbox::SandboxError::Missing(_)) => {
                return Err(failure(format!(
                    "Training ended without writing {relative}, the model's metrics."
                )))
            }
            Err(error) => return Err(error.into()),
        };
        if part.cut {
            return Err(failure(format!(
                "{relative} holds {}; metrics are at most {}.",
                size_text(part.size),
                size_text(MAX_METRICS_BYTES as u64)
            )));
        }
        let metrics = parse_metrics(&part.bytes).map_err(|why| {
            failure(format!(
                "{relative} must be a flat JSON object of numbers, but {why}."
            ))
        })?;
        reported.progress = Some(1.0);
        reported.metrics.extend(metrics.clone());
        self.engine
            .store
            .set_training_progress(&self.job.training_job, Some(1.0), &reported.metrics)
            .await?;
        let _ = self.sink.send(reported.event());
        Ok(metrics)
    }

    /// Keeps what the training saved in `folder` as the version's model,
    /// within `OLLIO_ARTIFACT_MB`.
    async fn keep_artifacts(&self, folder: &str) -> Result<(), Failed> {
        let Some(blobs) = &self.engine.blobs else {
            return Ok(());
        };
        let max = self.engine.training.artifact_bytes;
        let too_large = |size: u64| {
            Failed::Step(StepFailure {
                stage: TrainingStage::Train,
                reason: format!(
                    "The trained model's files hold {}; a version keeps at most {} (OLLIO_ARTIFACT_MB).",
                    size_text(size),
                    size_text(max)
                ),
                log_tail: String::new(),
            })
        };
        let entries = listing::list(self.envd, folder, 8).await?;
        let files: Vec<_> = entries
            .iter()
            .filter(|entry| entry.kind == Kind::File)
            .collect();
        let listed: u64 = files.iter().map(|entry| entry.size).sum();
        if listed > max {
            return Err(too_large(listed));
        }
        let mut kept = Vec::with_capacity(files.len());
        let mut total = 0u64;
        for entry in files {
            let relative = format!("{folder}/{}", entry.path);
            let left = usize::try_from(max - total).unwrap_or(usize::MAX);
            let part = self
                .envd
                .read_file_head(&format!("{PROJECT_ROOT}/{relative}"), left)
                .await?;
            total += part.size;
            if part.cut || total > max {
                return Err(too_large(total.max(listed)));
            }
            kept.push((relative, part.bytes));
        }
        if let Err(error) = blobs.put_artifacts(&self.job.version, &kept, max).await {
            tracing::error!(%error, version = %self.job.version, "a trained model could not be kept");
            return Err(
                Stop::Retry(format!("the model's files could not be kept: {error}")).into(),
            );
        }
        Ok(())
    }
}

/// Where a running training command's process id is kept.
const PID_FILE: &str = "/tmp/ollio/train.pid";

/// `command`, with its process id kept in [`PID_FILE`] (bash `exec`s it,
/// so the id is the command's own).
fn remembered(command: &str) -> String {
    format!("mkdir -p /tmp/ollio && echo $$ > {PID_FILE} && exec {command}")
}

/// Kills what [`PID_FILE`] names (its process group too), if anything.
fn leftover_kill() -> String {
    format!(
        "if [ -f {PID_FILE} ]; then pid=$(cat {PID_FILE}); kill -9 -- -\"$pid\" \"$pid\" 2>/dev/null; rm -f {PID_FILE}; fi; true"
    )
}

/// "30 minutes", "90 seconds", "2 hours".
fn duration_words(limit: Duration) -> String {
    let secs = limit.as_secs();
    let (count, unit) = if secs.is_multiple_of(3600) {
        (secs / 3600, "hour")
    } else if secs.is_multiple_of(60) {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_are_json_objects_of_numbers() {
        let mut progress = Progress::default();
        assert!(progress.read_line(r#"{"progress": 0.5, "epoch": 2, "loss": 0.25}"#));
        assert!(progress.read_line(r#"{"step": 40, "accuracy": 0.9}"#));
        assert_eq!(
            progress,
            Progress {
                progress: Some(0.5),
                epoch: Some(2),
                step: Some(40),
                metrics: [("accuracy".to_owned(), 0.9), ("loss".to_owned(), 0.25)].into(),
            }
        );
        // Everything else is the log, and changes nothing.
        for line in [
            "Training on 112 rows",
            r#"{"note": "text"}"#,
            "{}",
            "{not json",
            r#"[1, 2]"#,
        ] {
            assert!(!progress.read_line(line), "{line}");
        }
        assert!(progress.read_line(r#"{"progress": 7}"#));
        assert_eq!(progress.progress, Some(1.0), "clamped to 1");
    }

    #[test]
    fn metrics_are_a_flat_object_of_numbers() {
        assert_eq!(
            parse_metrics(br#"{"accuracy": 0.97, "rmse": 12}"#).unwrap(),
            [("accuracy".to_owned(), 0.97), ("rmse".to_owned(), 12.0)].into()
        );
        assert_eq!(
            parse_metrics(br#"{"accuracy": "high"}"#).unwrap_err(),
            "`accuracy` is not a number"
        );
        assert_eq!(
            parse_metrics(b"[1]").unwrap_err(),
            "it is not a JSON object"
        );
        assert!(parse_metrics(b"nope")
            .unwrap_err()
            .starts_with("it is not JSON"));
    }

    #[test]
    fn numbers_and_limits_read_well() {
        assert_eq!(
            metrics_text(&[("a".to_owned(), 0.5), ("b".to_owned(), 2.0)].into()),
            "a 0.5 · b 2"
        );
        assert_eq!(duration_words(Duration::from_secs(1800)), "30 minutes");
        assert_eq!(duration_words(Duration::from_secs(3600)), "1 hour");
        assert_eq!(duration_words(Duration::from_secs(90)), "90 seconds");
    }

    #[test]
    fn a_training_command_keeps_its_pid_for_the_next_try() {
        assert_eq!(
            remembered(".venv/bin/python -u train.py"),
            "mkdir -p /tmp/ollio && echo $$ > /tmp/ollio/train.pid && exec .venv/bin/python -u train.py"
        );
        assert!(leftover_kill().contains("kill -9 -- -\"$pid\" \"$pid\""));
    }

    #[test]
    fn the_tail_keeps_the_end() {
        let mut tail = Tail::default();
        for index in 0..2000 {
            tail.push(format!("line {index}\n").as_bytes());
        }
        let text = tail.text();
        assert!(text.ends_with("line 1999"));
        assert!(text.len() <= TAIL_BYTES);
        assert!(text.starts_with("line "));
    }
}
