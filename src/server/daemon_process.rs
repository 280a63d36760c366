//! The bundled sandbox daemon in a process of its own. Started as root,
//! `ollio serve` runs `ollio sandboxd --supervised` as a child, which keeps
//! root, and then gives up root itself ([`super::service_user`]): a flaw in
//! the web server or a worker reaches the machine only through the daemon's
//! API, as any client would.
//!
//! The child learns nothing but its own settings (the `OLLIO_SANDBOX*`
//! family, the preview domain, the template cache, the data folder and a
//! key made for this run): no provider keys, no sealing key, no database.
//! It stops when its stdin closes, which happens when this process stops or
//! dies, however it dies; it sits in a process group of its own, so a
//! Ctrl-C reaches only this process, which then stops it in order.

use std::{
    net::SocketAddr,
    path::Path,
    process::Stdio,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use ollio_sandbox::ApiKey;
use ollio_sandboxd::{standalone::READY_LINE, Isolation};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, ChildStdin, Command},
    sync::watch,
};

/// How long the daemon may take to listen.
const START_LIMIT: Duration = Duration::from_secs(120);
/// How long it may take to stop its sandboxes once asked.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// Variables the daemon reads, besides the `OLLIO_SANDBOX` family.
const PASSED: [&str; 9] = [
    "OLLIO_PREVIEW_DOMAIN",
    "OLLIO_TEMPLATE_CACHE",
    "PATH",
    "HOME",
    "LANG",
    "TMPDIR",
    "RUST_LOG",
    "RUST_BACKTRACE",
    "NO_COLOR",
];

#[derive(Debug, thiserror::Error)]
pub enum DaemonProcessError {
    #[error("cannot start the sandbox daemon ({exe}): {source}")]
    Spawn { exe: String, source: std::io::Error },
    #[error("the sandbox daemon: {0}")]
    Failed(String),
    #[error("the sandbox daemon stopped: {0}")]
    Stopped(String),
}

/// The daemon's process, while it runs.
pub struct DaemonProcess {
    /// Where it serves.
    pub addr: SocketAddr,
    /// Closing it stops the daemon.
    stdin: Option<ChildStdin>,
    /// Why it ended, once it has.
    ended: watch::Receiver<Option<String>>,
}

impl DaemonProcess {
    /// Starts `ollio sandboxd` from this binary, keeping its files in
    /// `data_dir`'s daemon folder, with `key`, and waits until it listens.
    pub async fn spawn(
        data_dir: &Path,
        isolation: Isolation,
        key: &ApiKey,
    ) -> Result<Self, DaemonProcessError> {
        let exe = std::env::current_exe().unwrap_or_else(|_| "ollio".into());
        let mut command = Command::new(&exe);
        command.arg("sandboxd").arg("--supervised");
        if isolation == Isolation::None {
            command.arg("--unsafe-no-isolation");
        }
        command.env_clear();
        for (name, value) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if name_text.starts_with("OLLIO_SANDBOX") || PASSED.contains(&name_text.as_ref()) {
                command.env(&name, value);
            }
        }
        command
            .env("OLLIO_DATA_DIR", data_dir)
            .env("OLLIO_SANDBOXD_API_KEY", key.expose())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = command
            .spawn()
            .map_err(|source| DaemonProcessError::Spawn {
                exe: exe.display().to_string(),
                source,
            })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");

        let (error_tx, mut error_rx) = watch::channel(None::<String>);
        let started = Arc::new(AtomicBool::new(false));
        tokio::spawn(forward_stderr(stderr, error_tx, started.clone()));
        let mut lines = BufReader::new(stdout).lines();
        let ready = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.strip_prefix(READY_LINE) {
                    let addr = rest.split_whitespace().next().unwrap_or_default();
                    return addr.parse::<SocketAddr>().ok();
                }
                println!("{line}");
            }
            None
        };
        let addr = match tokio::time::timeout(START_LIMIT, ready).await {
            Ok(Some(addr)) => addr,
            outcome => {
                let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
                // The child's own one-line error, once its stderr is read out.
                let _ = tokio::time::timeout(Duration::from_secs(2), error_rx.changed()).await;
                let said = error_rx.borrow().clone();
                let why = match (said, outcome, status) {
                    (Some(said), _, _) => said,
                    (None, Err(_), _) => format!("it did not listen within {START_LIMIT:?}"),
                    (None, _, Ok(Ok(status))) => format!("it exited ({status}) before it listened"),
                    (None, _, _) => "it did not say where it listens".to_owned(),
                };
                return Err(DaemonProcessError::Failed(why));
            }
        };
        started.store(true, Ordering::Relaxed);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                println!("{line}");
            }
        });
        let (ended_tx, ended) = watch::channel(None);
        tokio::spawn(watch_exit(child, ended_tx));
        tracing::info!(%addr, "sandbox daemon started in its own process");
        Ok(Self { addr, stdin, ended })
    }

    /// Completes if the daemon ends on its own, with why.
    pub fn ended(&self) -> impl std::future::Future<Output = String> + Send + 'static {
        let mut ended = self.ended.clone();
        async move {
            loop {
                if let Some(why) = ended.borrow_and_update().clone() {
                    return why;
                }
                if ended.changed().await.is_err() {
                    return "its watcher stopped".to_owned();
                }
            }
        }
    }

    /// Asks the daemon to stop (it kills every sandbox) and waits for it.
    pub async fn shutdown(mut self) {
        drop(self.stdin.take());
        if tokio::time::timeout(STOP_LIMIT, self.ended())
            .await
            .is_err()
        {
            tracing::warn!("the sandbox daemon did not stop within {STOP_LIMIT:?}");
        }
    }
}

/// Passes the daemon's log on to this process's stderr. Until it has
/// `started`, its one-line error (`ollio: …`) is kept for this process's
/// own error instead, so that a failed start still ends in exactly one line.
async fn forward_stderr(
    stderr: tokio::process::ChildStderr,
    error: watch::Sender<Option<String>>,
    started: Arc<AtomicBool>,
) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        match line.strip_prefix("ollio: ") {
            Some(said) if !started.load(Ordering::Relaxed) => {
                let _ = error.send(Some(said.to_owned()));
            }
            _ => eprintln!("{line}"),
        }
    }
}

async fn watch_exit(mut child: Child, ended: watch::Sender<Option<String>>) {
    let why = match child.wait().await {
        Ok(status) => format!("it exited ({status})"),
        Err(error) => format!("waiting for it failed: {error}"),
    };
    let _ = ended.send(Some(why));
}
