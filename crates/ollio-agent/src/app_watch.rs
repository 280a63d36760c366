//! During a turn, the app's supervisor is followed through its status file,
//! so that its package installs and restarts show as steps while they
//! happen: the agent writes `package.json`, the supervisor installs, and
//! the user sees "Installing packages", then "Restarted the app".

use std::time::Duration;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use ollio_domain::TurnEvent;
use ollio_sandbox::Envd;

use super::{templates::Template, tools::EventSink};

/// Where the supervisor keeps the app's state inside the sandbox.
pub const STATUS_PATH: &str = "/tmp/ollio/status.json";
/// How often the status is read.
const EVERY: Duration = Duration::from_millis(500);

/// The supervisor's status file, as far as steps need it.
#[derive(Debug, Default, Deserialize)]
struct Status {
    #[serde(default)]
    state: String,
    #[serde(default)]
    restarts: u64,
    #[serde(default)]
    installs: u64,
    exit_code: Option<i32>,
    install: Option<Install>,
}

#[derive(Debug, Deserialize)]
struct Install {
    file: String,
    exit_code: Option<i32>,
}

/// What the steps have told so far.
#[derive(Debug, Default)]
struct Told {
    installs: u64,
    restarts: u64,
    /// An install was announced and has not ended.
    open_install: bool,
}

impl Told {
    /// Everything before the turn counts as told, except an install that
    /// is still running: it is announced.
    fn baseline(status: &Status) -> Self {
        let running = status.state == "installing";
        Self {
            installs: status.installs - u64::from(running && status.installs > 0),
            restarts: status.restarts,
            open_install: false,
        }
    }

    fn next(&mut self, status: &Status) -> Vec<TurnEvent> {
        let mut events = Vec::new();
        if status.installs > self.installs {
            self.installs = status.installs;
            self.open_install = true;
            events.push(TurnEvent::AppInstalling {
                file: status
                    .install
                    .as_ref()
                    .map_or_else(String::new, |install| install.file.clone()),
            });
        }
        if self.open_install {
            if let Some(code) = status
                .install
                .as_ref()
                .and_then(|install| install.exit_code)
            {
                self.open_install = false;
                events.push(TurnEvent::AppInstalled { exit_code: code });
                events.push(TurnEvent::AppRestarted { exit_code: None });
            }
        }
        if status.restarts > self.restarts {
            self.restarts = status.restarts;
            events.push(TurnEvent::AppRestarted {
                exit_code: Some(status.exit_code.unwrap_or(-1)),
            });
        }
        events
    }
}

async fn read(envd: &Envd) -> Option<Status> {
    // The supervisor writes a few hundred bytes; anything larger is not its.
    let part = envd.read_file_head(STATUS_PATH, 64 << 10).await.ok()?;
    serde_json::from_slice(&part.bytes)
        .ok()
        .filter(|_| !part.cut)
}

/// Follows the app until [`Follower::finish`]; dropped, it just stops.
pub struct Follower {
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts following `template`'s app in the sandbox, if it has one.
pub fn follow(envd: &Envd, template: &Template, sink: &EventSink) -> Follower {
    let stop = CancellationToken::new();
    let task = (!template.start.is_empty()).then(|| {
        let (envd, sink, stop) = (envd.clone(), sink.clone(), stop.clone());
        tokio::spawn(async move {
            let mut told = read(&envd)
                .await
                .map(|status| Told::baseline(&status))
                .unwrap_or_default();
            loop {
                let stopping = tokio::select! {
                    () = tokio::time::sleep(EVERY) => false,
                    () = stop.cancelled() => true,
                };
                if let Some(status) = read(&envd).await {
                    for event in told.next(&status) {
                        let _ = sink.send(event);
                    }
                }
                if stopping {
                    break;
                }
            }
        })
    });
    Follower { stop, task }
}

impl Follower {
    /// Tells what happened since the last look, then stops.
    pub async fn finish(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json: &str) -> Status {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn an_install_reads_as_installing_installed_restarted() {
        let mut told = Told::baseline(&status(r#"{"state":"running","restarts":0,"installs":0}"#));
        assert!(told
            .next(&status(r#"{"state":"running","restarts":0,"installs":0}"#))
            .is_empty());
        let events = told.next(&status(
            r#"{"state":"installing","restarts":0,"installs":1,"install":{"file":"package.json"}}"#,
        ));
        assert_eq!(
            events,
            [TurnEvent::AppInstalling {
                file: "package.json".into()
            }]
        );
        let done = r#"{"state":"running","restarts":0,"installs":1,"install":{"file":"package.json","exit_code":0}}"#;
        assert_eq!(
            told.next(&status(done)),
            [
                TurnEvent::AppInstalled { exit_code: 0 },
                TurnEvent::AppRestarted { exit_code: None }
            ]
        );
        assert!(told.next(&status(done)).is_empty());
    }

    #[test]
    fn a_quick_install_and_a_crash_are_told_once_each() {
        let mut told = Told::baseline(&status(
            r#"{"state":"running","restarts":2,"installs":1,"install":{"file":"package.json","exit_code":0}}"#,
        ));
        let events = told.next(&status(
            r#"{"state":"exited","restarts":3,"installs":2,"exit_code":1,"install":{"file":"requirements.txt","exit_code":1}}"#,
        ));
        assert_eq!(
            events,
            [
                TurnEvent::AppInstalling {
                    file: "requirements.txt".into()
                },
                TurnEvent::AppInstalled { exit_code: 1 },
                TurnEvent::AppRestarted { exit_code: None },
                TurnEvent::AppRestarted { exit_code: Some(1) },
            ]
        );
    }

    #[test]
    fn an_install_running_when_the_turn_starts_is_announced() {
        let mut told = Told::baseline(&status(
            r#"{"state":"installing","restarts":0,"installs":1,"install":{"file":"package.json"}}"#,
        ));
        assert_eq!(
            told.next(&status(
                r#"{"state":"installing","restarts":0,"installs":1,"install":{"file":"package.json"}}"#
            )),
            [TurnEvent::AppInstalling {
                file: "package.json".into()
            }]
        );
    }
}
