//! The check before a turn ends ("Checking the app"), per template:
//!
//! - an app (a start command): its process answers its ready path below
//!   500 once its log has been quiet a moment (a reload after the last
//!   write has then shown), and the log since the turn began holds no
//!   Python traceback or Vite/esbuild error after the app's last reload;
//! - a type check (`tsc --noEmit`, the template's `check`), beside that;
//! - `static`: `index.html` is there and every local file it links exists.
//!
//! Everything runs through envd, so it works the same on sandboxd and E2B.
//! What it finds goes to the model as found (see `turn.rs`).

use std::time::{Duration, Instant};

use ollio_domain::{CheckProblem, ProblemSource, TurnEvent};
use ollio_sandbox::{Command, Envd, SandboxError};

use super::{
    app_ready::{self, LOG_PATH, PATIENCE},
    check_findings::{self as findings, LocalLink},
    templates::Template,
    tools::{EventSink, PROJECT_ROOT},
};

/// How often the log and the app are looked at.
const EVERY: Duration = Duration::from_millis(200);
/// How much of the log's end is read: what a turn's app printed.
const LOG_WINDOW: usize = 64 * 1024;
/// The type check's own limit.
const TYPE_CHECK_LIMIT: Duration = Duration::from_secs(120);
/// How long after the last write an app is given to notice it (a reload
/// starts) before its log's quiet counts.
const SETTLE: Duration = Duration::from_millis(1000);
/// The entry page of a static project.
const ENTRY: &str = "index.html";

/// One project's check, set up when its turn begins.
#[derive(Clone)]
pub struct AppCheck {
    envd: Envd,
    template: &'static Template,
    /// The app log's size when the turn began: what the turn's work printed
    /// comes after it.
    log_from: u64,
}

impl AppCheck {
    /// Notes where the app's log is now.
    pub async fn begin(envd: &Envd, template: &'static Template) -> Self {
        let log_from = if template.start.is_empty() {
            0
        } else {
            envd.stat(LOG_PATH).await.map_or(0, |entry| entry.size)
        };
        Self {
            envd: envd.clone(),
            template,
            log_from,
        }
    }

    /// Checks the app as it is now, `last_write` being when the turn last
    /// wrote a file; `events` shows it as a step.
    pub async fn run(&self, events: &EventSink, last_write: Option<Instant>) -> Vec<CheckProblem> {
        let _ = events.send(TurnEvent::CheckStarted);
        let (app, types) = tokio::join!(self.app(last_write), self.types());
        let problems = findings::bounded(app.into_iter().chain(types).collect());
        let _ = events.send(TurnEvent::CheckEnded {
            problems: problems.clone(),
        });
        problems
    }

    async fn app(&self, last_write: Option<Instant>) -> Vec<CheckProblem> {
        if self.template.start.is_empty() {
            return self.static_entry().await;
        }
        let settled = last_write.map(|at| at + SETTLE);
        let deadline = Instant::now() + PATIENCE;
        let mut last_size: Option<u64> = None;
        loop {
            let (since, size) = self.log_since().await;
            // Quiet: nothing new since the last look, so a reload that the
            // last write caused has printed what it prints.
            let quiet =
                last_size == Some(size) && settled.is_none_or(|settled| Instant::now() >= settled);
            last_size = Some(size);
            if quiet {
                let found = findings::log_problems(&since);
                if !found.is_empty() {
                    return found;
                }
                match self.probe().await {
                    Probe::Answers => return Vec::new(),
                    Probe::Installing | Probe::Down => {}
                }
                if let Some(exited) = since
                    .lines()
                    .rev()
                    .find(|line| line.contains("exited with code"))
                {
                    return vec![CheckProblem::new(
                        ProblemSource::App,
                        exited
                            .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '`')
                            .to_owned(),
                    )
                    .with_detail(findings::clip(&app_ready::tail(since.as_bytes(), 3 * 1024)))];
                }
            }
            if Instant::now() >= deadline {
                let url = format!(
                    "http://127.0.0.1:{}{}",
                    self.template.port, self.template.ready_path
                );
                return vec![CheckProblem::new(
                    ProblemSource::App,
                    format!(
                        "The app did not answer {url} within {} s",
                        PATIENCE.as_secs()
                    ),
                )
                .with_detail(findings::clip(&app_ready::tail(since.as_bytes(), 3 * 1024)))];
            }
            tokio::time::sleep(EVERY).await;
        }
    }

    /// The app log since the turn began (all of what is kept, if it was cut
    /// back meanwhile), and the log's size.
    async fn log_since(&self) -> (String, u64) {
        let Ok(part) = self.envd.read_file_tail(LOG_PATH, LOG_WINDOW).await else {
            return (String::new(), 0);
        };
        let first = part.size - part.bytes.len() as u64;
        let skip = if part.size < self.log_from {
            0
        } else {
            usize::try_from(self.log_from.saturating_sub(first)).unwrap_or(usize::MAX)
        };
        let bytes = part.bytes.get(skip..).unwrap_or_default();
        (String::from_utf8_lossy(bytes).into_owned(), part.size)
    }

    /// One look at the app's ready path.
    async fn probe(&self) -> Probe {
        let command = Command::new(probe_script(self.template.port, self.template.ready_path))
            .timeout(Duration::from_secs(10));
        let Ok(output) = self.envd.run(&command, |_, _| {}).await else {
            return Probe::Down;
        };
        let said = String::from_utf8_lossy(&output.stdout);
        if said.trim() == "installing" {
            return Probe::Installing;
        }
        match said.trim().strip_prefix("status ").map(str::parse::<u16>) {
            Some(Ok(status)) if (100..500).contains(&status) => Probe::Answers,
            _ => Probe::Down,
        }
    }

    async fn types(&self) -> Vec<CheckProblem> {
        let Some(check) = self.template.check else {
            return Vec::new();
        };
        let mut command = Command::new(check).timeout(TYPE_CHECK_LIMIT);
        command.cwd = Some(PROJECT_ROOT.into());
        let output = match self.envd.run(&command, |_, _| {}).await {
            Ok(output) => output,
            Err(error) => {
                return vec![CheckProblem::new(
                    ProblemSource::Types,
                    format!("The type check could not run: {error}"),
                )]
            }
        };
        if output.exit_code == 0 {
            return Vec::new();
        }
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let problems = findings::type_errors(&text);
        if problems.is_empty() {
            let message = match output.error {
                Some(error) => format!("`{check}` failed: {error}"),
                None => format!("`{check}` exited with code {}", output.exit_code),
            };
            return vec![CheckProblem::new(ProblemSource::Types, message)
                .with_detail(findings::clip(text.trim()))];
        }
        problems
    }

    /// A static project: its entry page is there, and what it links too.
    async fn static_entry(&self) -> Vec<CheckProblem> {
        let path = format!("{PROJECT_ROOT}/{ENTRY}");
        let html = match self.envd.read_file(&path).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(error) if is_missing(&error) => {
                return vec![CheckProblem::new(
                    ProblemSource::App,
                    "There is no index.html: the preview has no page to open",
                )
                .at(ENTRY, None)]
            }
            Err(error) => {
                return vec![CheckProblem::new(
                    ProblemSource::App,
                    format!("index.html could not be read: {error}"),
                )]
            }
        };
        let links = findings::local_links(&html, ENTRY);
        let looks = links.iter().map(|link| self.missing(link));
        futures_util::future::join_all(looks)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    async fn missing(&self, link: &LocalLink) -> Option<CheckProblem> {
        match self
            .envd
            .stat(&format!("{PROJECT_ROOT}/{}", link.path))
            .await
        {
            Err(error) if is_missing(&error) => Some(
                CheckProblem::new(
                    ProblemSource::Links,
                    format!("index.html links {}, which does not exist", link.path),
                )
                .at(ENTRY, Some(link.line)),
            ),
            _ => None,
        }
    }
}

/// Whether envd said the path is not there.
fn is_missing(error: &SandboxError) -> bool {
    match error {
        SandboxError::Missing(_) => true,
        SandboxError::Rpc { code, .. } => code == "not_found",
        _ => false,
    }
}

enum Probe {
    Answers,
    Installing,
    Down,
}

/// Says `installing` while the supervisor installs packages, else `status
/// N` with the ready path's HTTP status (nothing when it does not answer
/// within 3 s).
fn probe_script(port: u16, path: &str) -> String {
    let status_path = super::app_watch::STATUS_PATH;
    format!(
        "if grep -qs '\"state\":\"installing\"' {status_path}; then echo installing; exit 0; fi; \
         exec 3<>/dev/tcp/127.0.0.1/{port} 2>/dev/null || exit 0; \
         printf 'GET {path} HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3; \
         IFS=' ' read -r -t 3 _ code _ <&3 && echo \"status $code\""
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_reads_a_status_line_or_says_installing() {
        let script = probe_script(8000, "/openapi.json");
        assert!(script.contains("/dev/tcp/127.0.0.1/8000"));
        assert!(script.contains("GET /openapi.json HTTP/1.0"));
        assert!(script.contains("echo installing"));
        assert!(script.contains("read -r -t 3"));
    }
}
