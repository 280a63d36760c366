//! The Code tab's terminals that are open: one shell per project, on a pty
//! in the project's working sandbox, outliving the browser's connection for
//! a while so a dropped connection reconnects to the same shell (what it
//! printed meanwhile is replayed from a short backlog). A shell nobody is
//! connected to is ended after [`IDLE_KEEP`]. A leaf of the app state.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::body::Bytes;
use ollio_domain::ProjectId;
use ollio_sandbox::{
    wire::{PtySize, Signal},
    CommandEvent, CommandStream, Envd,
};
use tokio::sync::broadcast;

/// How much of a shell's latest output a reconnect replays.
const BACKLOG: usize = 64 * 1024;
/// How long a shell nobody is connected to is kept.
pub const IDLE_KEEP: Duration = Duration::from_secs(300);

/// What a connected browser gets.
#[derive(Debug, Clone)]
pub enum Output {
    Data(Bytes),
    /// The shell is gone, and why, in words for the user.
    Ended(String),
}

/// One project's shell.
pub struct Shell {
    pub pid: u32,
    pub sandbox_id: String,
    envd: Envd,
    /// The backlog, and whether the shell ended; output is sent under the
    /// same lock, so an attach sees each byte once.
    state: Mutex<(VecDeque<u8>, Option<String>)>,
    output: broadcast::Sender<Output>,
    clients: AtomicUsize,
}

impl Shell {
    /// Connects a browser: what the shell printed lately (or why it ended),
    /// then everything after.
    pub fn attach(&self) -> (Vec<u8>, Option<String>, broadcast::Receiver<Output>) {
        let state = lock(&self.state);
        self.clients.fetch_add(1, Ordering::SeqCst);
        let backlog = state.0.iter().copied().collect();
        (backlog, state.1.clone(), self.output.subscribe())
    }

    pub async fn input(&self, bytes: &[u8]) -> Result<(), ollio_sandbox::SandboxError> {
        self.envd.send_terminal_input(self.pid, bytes).await
    }

    pub async fn resize(&self, size: PtySize) -> Result<(), ollio_sandbox::SandboxError> {
        self.envd.resize_terminal(self.pid, size).await
    }

    fn push(&self, bytes: Vec<u8>) {
        let mut state = lock(&self.state);
        state.0.extend(bytes.iter().copied());
        let over = state.0.len().saturating_sub(BACKLOG);
        state.0.drain(..over);
        let _ = self.output.send(Output::Data(bytes.into()));
    }

    fn end(&self, why: String) {
        let mut state = lock(&self.state);
        state.1 = Some(why.clone());
        let _ = self.output.send(Output::Ended(why));
    }

    async fn kill(&self) {
        let _ = self.envd.send_signal(self.pid, Signal::Kill).await;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The open shells, by project.
#[derive(Clone, Default)]
pub struct Terminals {
    shells: Arc<Mutex<HashMap<ProjectId, Arc<Shell>>>>,
}

impl Terminals {
    /// `project`'s shell, if one runs in sandbox `sandbox_id`.
    pub fn live(&self, project: &ProjectId, sandbox_id: &str) -> Option<Arc<Shell>> {
        lock(&self.shells)
            .get(project)
            .filter(|shell| shell.sandbox_id == sandbox_id && lock(&shell.state).1.is_none())
            .cloned()
    }

    /// Keeps the shell `pid` that `stream` follows as `project`'s, relaying
    /// its output until it ends.
    pub fn keep(
        &self,
        project: &ProjectId,
        sandbox_id: String,
        envd: Envd,
        pid: u32,
        mut stream: CommandStream,
    ) -> Arc<Shell> {
        let (output, _) = broadcast::channel(256);
        let shell = Arc::new(Shell {
            pid,
            sandbox_id,
            envd,
            state: Mutex::new((VecDeque::new(), None)),
            output,
            clients: AtomicUsize::new(0),
        });
        if let Some(old) = lock(&self.shells).insert(project.clone(), shell.clone()) {
            tokio::spawn(async move { old.kill().await });
        }
        let (terminals, project, relayed) = (self.clone(), project.clone(), shell.clone());
        tokio::spawn(async move {
            let why = loop {
                match stream.next().await {
                    Ok(Some(CommandEvent::Stdout(bytes) | CommandEvent::Stderr(bytes))) => {
                        relayed.push(bytes);
                    }
                    Ok(Some(CommandEvent::Started { .. })) => {}
                    Ok(Some(CommandEvent::Exited { exit_code, .. })) => {
                        break format!("The shell exited (code {exit_code}).");
                    }
                    Ok(None) => break "The shell ended.".to_owned(),
                    Err(error) => {
                        tracing::info!(%error, "a terminal's stream ended");
                        break "The sandbox stopped, and its shell with it.".to_owned();
                    }
                }
            };
            relayed.end(why);
            terminals.forget(&project, relayed.pid);
        });
        shell
    }

    /// A browser left `shell`; the last to leave starts its idle clock.
    pub fn detach(&self, project: &ProjectId, shell: &Arc<Shell>) {
        if shell.clients.fetch_sub(1, Ordering::SeqCst) != 1 {
            return;
        }
        let (terminals, project, shell) = (self.clone(), project.clone(), shell.clone());
        tokio::spawn(async move {
            tokio::time::sleep(IDLE_KEEP).await;
            if shell.clients.load(Ordering::SeqCst) == 0 {
                shell.kill().await;
                terminals.forget(&project, shell.pid);
            }
        });
    }

    fn forget(&self, project: &ProjectId, pid: u32) {
        let mut shells = lock(&self.shells);
        if shells.get(project).is_some_and(|shell| shell.pid == pid) {
            shells.remove(project);
        }
    }
}
