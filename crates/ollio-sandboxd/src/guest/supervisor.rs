//! The app's supervisor, as E2B runs a template's start command: the
//! template's processes start with the sandbox and start again whenever
//! they exit. When a package manifest (`package.json`, `requirements.txt`)
//! changes, the supervisor stops the app, installs, and starts it again.
//!
//! What the app prints, and what the supervisor does, go to the app's log,
//! [`LOG_PATH`], kept to its last 256 KB; [`STATUS_PATH`] says what the app
//! is doing. Both are plain files inside the sandbox, read through envd's
//! file API like any other, so an E2B sandbox whose start command writes
//! them serves Ollio the same way. The supervisor's own lines start with
//! [`MARK`].

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncReadExt},
    sync::watch,
};

use super::Guest;
use crate::lock::locked;

/// The folder of the app's log and status, inside the sandbox.
pub const APP_DIR: &str = "/tmp/ollio";
/// Where the app's log is, inside the sandbox.
pub const LOG_PATH: &str = "/tmp/ollio/app.log";
/// The app's state as JSON: `{"state": "starting" | "running" |
/// "installing" | "exited", "restarts": N, "installs": N, "exit_code": N?,
/// "install": {"file": "package.json", "exit_code": N?}?}`; `install` is
/// the latest, its `exit_code` absent while it runs. The engine follows
/// it during a turn to show installs and restarts as steps.
pub const STATUS_PATH: &str = "/tmp/ollio/status.json";
/// How the supervisor's own lines in the log begin.
pub const MARK: &str = "[ollio]";
/// The log keeps at least this much of its end.
pub const LOG_KEEP: usize = 256 << 10;
/// How often package manifests are looked at.
const WATCH_EVERY: Duration = Duration::from_millis(500);
/// How long a stopped app may take to exit before it is killed.
const STOP_PATIENCE: Duration = Duration::from_secs(3);

/// What the app's processes should be doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wanted {
    /// Bumped to make every process stop and start again.
    generation: u64,
    /// Processes wait while packages install.
    installing: bool,
}

#[derive(Debug, Default, serde::Serialize)]
struct Status {
    state: &'static str,
    restarts: u64,
    installs: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    install: Option<InstallStatus>,
}

#[derive(Debug, serde::Serialize)]
struct InstallStatus {
    file: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
}

pub(super) struct Supervisor {
    guest: Arc<Guest>,
    template: &'static ollio_templates::Template,
    log: AppLog,
    status: Mutex<Status>,
    wanted: watch::Sender<Wanted>,
}

/// Starts supervising `template`'s app inside `guest`.
pub(super) fn start(guest: Arc<Guest>, template: &'static ollio_templates::Template) {
    let dir = guest.options.app_dir.clone();
    let supervisor = Arc::new(Supervisor {
        guest,
        template,
        log: AppLog::new(dir.join("app.log")),
        status: Mutex::new(Status {
            state: "starting",
            ..Status::default()
        }),
        wanted: watch::channel(Wanted {
            generation: 0,
            installing: false,
        })
        .0,
    });
    if let Err(error) = std::fs::create_dir_all(&dir) {
        eprintln!("ollio guest: the app's log folder: {error}");
    }
    supervisor.write_status();
    for command in template.start {
        tokio::spawn(supervisor.clone().keep_running(command));
    }
    if !template.packages.is_empty() {
        tokio::spawn(supervisor.watch_packages());
    }
}

impl Supervisor {
    fn write_status(&self) {
        let text = serde_json::to_string(&*locked(&self.status)).unwrap_or_default();
        let path = self.guest.options.app_dir.join("status.json");
        let partial = path.with_extension("json.partial");
        if std::fs::write(&partial, text).is_ok() {
            let _ = std::fs::rename(partial, path);
        }
    }

    fn set_state(&self, change: impl FnOnce(&mut Status)) {
        change(&mut locked(&self.status));
        self.write_status();
    }

    /// Runs one start command for as long as the sandbox lives.
    async fn keep_running(self: Arc<Self>, command: &'static str) {
        let mut wanted = self.wanted.subscribe();
        let mut backoff = Duration::from_millis(250);
        loop {
            // Packages first.
            let _ = wanted.wait_for(|wanted| !wanted.installing).await;
            let generation = wanted.borrow_and_update().generation;
            self.log.note(&format!("Starting `{command}`"));
            let started = tokio::time::Instant::now();
            let exit = match self.spawn(command) {
                Ok(mut child) => {
                    let pid = child.id().unwrap_or_default();
                    self.set_state(|status| status.state = "running");
                    let stopped = async {
                        let _ = wanted.wait_for(|now| now.generation != generation).await;
                    };
                    tokio::select! {
                        exited = child.wait() => {
                            locked(&self.guest.groups).remove(&pid);
                            Some(exited.ok().and_then(|status| status.code()).unwrap_or(-1))
                        }
                        () = stopped => {
                            stop(pid, &mut child).await;
                            locked(&self.guest.groups).remove(&pid);
                            None
                        }
                    }
                }
                Err(error) => {
                    self.log
                        .note(&format!("`{command}` could not start: {error}"));
                    Some(-1)
                }
            };
            let Some(code) = exit else {
                continue;
            };
            // A process that ran a while gets restarted at once; one that
            // keeps failing, less and less often.
            if started.elapsed() > Duration::from_secs(10) {
                backoff = Duration::from_millis(250);
            }
            self.set_state(|status| {
                status.state = "exited";
                status.exit_code = Some(code);
                status.restarts += 1;
            });
            self.log.note(&format!(
                "`{command}` exited with code {code}; restarting it in {:.1} s",
                backoff.as_secs_f64()
            ));
            let changed = async {
                let _ = wanted.wait_for(|now| now.generation != generation).await;
            };
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = changed => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    fn spawn(&self, command: &str) -> std::io::Result<tokio::process::Child> {
        let port = self.template.port.to_string();
        let mut child = self
            .guest
            .command("/bin/bash", self.guest.options.home.clone())
            .args(["-c", command])
            .env("PORT", &port)
            .env("HOST", "127.0.0.1")
            .env("PYTHONUNBUFFERED", "1")
            .env("NPM_CONFIG_UPDATE_NOTIFIER", "false")
            .env("BROWSER", "none")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        locked(&self.guest.groups).insert(child.id().unwrap_or_default());
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            tokio::spawn(self.log.clone().pump(pipe));
        }
        Ok(child)
    }

    /// Installs and restarts the app whenever a package manifest changes.
    async fn watch_packages(self: Arc<Self>) {
        let home = self.guest.options.home.clone();
        let mut known: Vec<Option<Vec<u8>>> = self
            .template
            .packages
            .iter()
            .map(|package| std::fs::read(home.join(package.file)).ok())
            .collect();
        loop {
            tokio::time::sleep(WATCH_EVERY).await;
            for (index, package) in self.template.packages.iter().enumerate() {
                let now = std::fs::read(home.join(package.file)).ok();
                if now == known[index] {
                    continue;
                }
                known[index] = now;
                self.install(package).await;
                // What the install itself rewrote is not a change to act on.
                known[index] = std::fs::read(home.join(package.file)).ok();
            }
        }
    }

    async fn install(&self, package: &ollio_templates::Package) {
        self.log.note(&format!(
            "{} changed: installing packages (`{}`)",
            package.file, package.install
        ));
        self.wanted.send_modify(|wanted| {
            wanted.installing = true;
            wanted.generation += 1;
        });
        self.set_state(|status| {
            status.state = "installing";
            status.installs += 1;
            status.install = Some(InstallStatus {
                file: package.file,
                exit_code: None,
            });
        });
        let outcome = match self.spawn(package.install) {
            Ok(mut child) => {
                let pid = child.id().unwrap_or_default();
                let status = child.wait().await;
                locked(&self.guest.groups).remove(&pid);
                status.ok().and_then(|status| status.code()).unwrap_or(-1)
            }
            Err(_) => -1,
        };
        if outcome == 0 {
            self.log.note("Packages installed; restarting the app");
        } else {
            self.log.note(&format!(
                "Installing packages failed (exit code {outcome}); restarting the app with what is installed"
            ));
        }
        self.set_state(|status| {
            status.state = "starting";
            if let Some(install) = &mut status.install {
                install.exit_code = Some(outcome);
            }
        });
        self.wanted.send_modify(|wanted| wanted.installing = false);
    }
}

/// Asks a process group to stop, then kills it.
async fn stop(pid: u32, child: &mut tokio::process::Child) {
    super::process::signal_group(pid, libc::SIGTERM);
    if tokio::time::timeout(STOP_PATIENCE, child.wait())
        .await
        .is_err()
    {
        super::process::signal_group(pid, libc::SIGKILL);
        let _ = child.wait().await;
    }
}

/// The app's log: appended to as output comes, cut back to its last
/// [`LOG_KEEP`] bytes once it holds half as much again.
#[derive(Clone)]
pub(super) struct AppLog {
    path: Arc<PathBuf>,
    lock: Arc<Mutex<()>>,
}

impl AppLog {
    fn new(path: PathBuf) -> Self {
        Self {
            path: Arc::new(path),
            lock: Arc::default(),
        }
    }

    /// A line of the supervisor's own.
    fn note(&self, text: &str) {
        self.append(format!("{MARK} {text}\n").as_bytes());
    }

    fn append(&self, bytes: &[u8]) {
        use std::io::Write;
        let _held = locked(&self.lock);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&*self.path);
        let Ok(mut file) = file else {
            return;
        };
        let _ = file.write_all(bytes);
        let size = file.metadata().map(|meta| meta.len()).unwrap_or(0);
        if size > (LOG_KEEP + LOG_KEEP / 2) as u64 {
            drop(file);
            let _ = keep_tail(&self.path, LOG_KEEP);
        }
    }

    async fn pump(self, mut pipe: Box<dyn AsyncRead + Send + Unpin>) {
        let mut buffer = vec![0; 16 * 1024];
        loop {
            match pipe.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => self.append(&buffer[..read]),
            }
        }
    }
}

/// Rewrites `path` to its last `keep` bytes, starting at a line.
fn keep_tail(path: &Path, keep: usize) -> std::io::Result<()> {
    let bytes = std::fs::read(path)?;
    let start = bytes.len().saturating_sub(keep);
    let start = bytes[start..]
        .iter()
        .position(|byte| *byte == b'\n')
        .map_or(start, |newline| start + newline + 1);
    let partial = path.with_extension("log.partial");
    std::fs::write(&partial, &bytes[start..])?;
    std::fs::rename(partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_its_end_from_a_line_start() {
        let dir = tempfile::tempdir().unwrap();
        let log = AppLog::new(dir.path().join("app.log"));
        for line in 0..40_000 {
            log.append(format!("line {line}\n").as_bytes());
        }
        let text = std::fs::read_to_string(dir.path().join("app.log")).unwrap();
        assert!(text.len() <= LOG_KEEP + LOG_KEEP / 2, "{}", text.len());
        assert!(text.len() >= LOG_KEEP);
        assert!(text.starts_with("line "));
        assert!(text.ends_with("line 39999\n"));
    }
}
