//! The guest's commands: started in process groups of their own with a
//! clean environment (or, on a pty, sessions of their own: `pty`), their
//! output streamed back as it comes, their stdin kept open for later
//! input, and signals sent to whole groups.

use std::{process::Stdio, sync::Arc, time::Duration};

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::{pty, Guest};
use crate::{
    egress,
    guest_protocol::{send, ErrorKind, GuestError, PtySize, Reply, Spawn, SpawnEvent},
    lock::locked,
};

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// How long a command's output is still read after the command itself ended
/// (its background children may hold the pipes open).
const DRAIN_GRACE: Duration = Duration::from_millis(200);

impl Guest {
    /// Where commands find the registry proxy: inside a jail there is
    /// always one, which refuses with a reason when registries are off.
    pub(super) fn proxy_env(&self) -> Vec<(&'static str, String)> {
        if !self.options.egress && self.options.confine {
            return Vec::new();
        }
        let proxy = format!("http://127.0.0.1:{}", egress::PROXY_PORT);
        let mut env: Vec<(&'static str, String)> =
            ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]
                .into_iter()
                .map(|name| (name, proxy.clone()))
                .collect();
        env.push(("NO_PROXY", "localhost,127.0.0.1".into()));
        env.push(("no_proxy", "localhost,127.0.0.1".into()));
        if !self.options.egress {
            // Retrying a proxy that refuses is pointless; pip prints its
            // reason only when it retries, so once.
            env.push(("PIP_RETRIES", "1".into()));
        }
        env
    }

    /// A command in a process group of its own, with the sandbox's clean
    /// environment, in `cwd`.
    pub(super) fn command(
        &self,
        program: &str,
        cwd: std::path::PathBuf,
    ) -> tokio::process::Command {
        let mut command = self.session_command(program, cwd);
        command.process_group(0);
        command
    }

    /// [`Self::command`] without its process group: a command on a pty
    /// makes a session (and so a group) of its own, which a group leader
    /// cannot.
    fn session_command(&self, program: &str, cwd: std::path::PathBuf) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(program);
        command
            .env_clear()
            .env("PATH", PATH)
            .env("HOME", &self.options.home)
            .env("USER", "user")
            .env("LOGNAME", "user")
            .env("SHELL", "/bin/bash")
            .env("LANG", "C.UTF-8")
            .env("TERM", "xterm-256color")
            .envs(self.proxy_env())
            .current_dir(cwd);
        // The jail turned transparent huge pages off, for the agent's own
        // small heap; what the agent starts runs with the machine's
        // setting, as it would anywhere else.
        // SAFETY: prctl is async-signal-safe and touches no memory here.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_THP_DISABLE, 0, 0, 0, 0);
                Ok(())
            });
        }
        command
    }

    pub(super) async fn input(&self, pid: u32, data: Option<String>) -> Result<Reply, GuestError> {
        let missing = || {
            GuestError::new(
                ErrorKind::NotFound,
                format!("process {pid} has no open stdin"),
            )
        };
        let decode = |data: String| {
            BASE64
                .decode(data)
                .map_err(|error| GuestError::new(ErrorKind::Invalid, error.to_string()))
        };
        let terminal = locked(&self.ptys).get(&pid).cloned();
        if let Some(master) = terminal {
            if let Some(data) = data {
                master
                    .write_all(&decode(data)?)
                    .await
                    .map_err(|error| GuestError::io("the terminal", &error))?;
            }
            return Ok(Reply::Done);
        }
        let stdin = locked(&self.stdins).remove(&pid).ok_or_else(missing)?;
        let Some(data) = data else {
            return Ok(Reply::Done);
        };
        let bytes = decode(data)?;
        let mut stdin = stdin;
        stdin
            .write_all(&bytes)
            .await
            .map_err(|error| GuestError::io("stdin", &error))?;
        locked(&self.stdins).insert(pid, stdin);
        Ok(Reply::Done)
    }

    pub(super) fn resize(&self, pid: u32, size: PtySize) -> Result<Reply, GuestError> {
        let master = locked(&self.ptys).get(&pid).cloned().ok_or_else(|| {
            GuestError::new(ErrorKind::NotFound, format!("process {pid} has no pty"))
        })?;
        master
            .resize(size)
            .map_err(|error| GuestError::io("the terminal", &error))?;
        Ok(Reply::Done)
    }

    pub(super) async fn spawn(
        self: Arc<Self>,
        spawn: Spawn,
        mut out: tokio::net::unix::OwnedWriteHalf,
    ) -> std::io::Result<()> {
        let cwd = match spawn
            .cwd
            .as_deref()
            .map(|cwd| self.resolve(cwd))
            .transpose()
        {
            Ok(cwd) => cwd.unwrap_or_else(|| self.options.home.clone()),
            Err(error) => return send(&mut out, &SpawnEvent::Failed(error)).await,
        };
        let mut terminal = None;
        let mut command = match spawn.pty {
            Some(size) => {
                let (master, slave) = match pty::open(size) {
                    Ok(opened) => opened,
                    Err(error) => {
                        let error = GuestError::io("a pty", &error);
                        return send(&mut out, &SpawnEvent::Failed(error)).await;
                    }
                };
                let mut command = self.session_command(&spawn.cmd, cwd);
                let stdio = || slave.try_clone().map(Stdio::from);
                match (stdio(), stdio(), stdio()) {
                    (Ok(stdin), Ok(stdout), Ok(stderr)) => {
                        command.stdin(stdin).stdout(stdout).stderr(stderr);
                    }
                    (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
                        let error = GuestError::io("a pty", &error);
                        return send(&mut out, &SpawnEvent::Failed(error)).await;
                    }
                }
                // SAFETY: take_terminal makes only async-signal-safe calls.
                unsafe {
                    command.pre_exec(pty::take_terminal);
                }
                terminal = Some(Arc::new(master));
                command
            }
            None => {
                let mut command = self.command(&spawn.cmd, cwd);
                command
                    .stdin(if spawn.stdin {
                        Stdio::piped()
                    } else {
                        Stdio::null()
                    })
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                command
            }
        };
        command.args(&spawn.args).envs(&spawn.envs);
        if let Some(seconds) = spawn.cpu_seconds {
            // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child here.
            unsafe {
                command.pre_exec(move || {
                    let limit = libc::rlimit {
                        rlim_cur: seconds,
                        rlim_max: seconds,
                    };
                    if libc::setrlimit(libc::RLIMIT_CPU, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        if self.over_disk.load(std::sync::atomic::Ordering::Relaxed) {
            let error = GuestError::new(ErrorKind::TooLarge, "the sandbox is over its disk limit");
            return send(&mut out, &SpawnEvent::Failed(error)).await;
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => {
                let error = GuestError::io(&spawn.cmd, &error);
                return send(&mut out, &SpawnEvent::Failed(error)).await;
            }
        };
        // The child has its copies of the pty's slave: with the parent's
        // closed, the master reads its end once the command's session ends.
        drop(command);
        let pid = child.id().unwrap_or_default();
        locked(&self.groups).insert(pid);
        if let Some(stdin) = child.stdin.take() {
            locked(&self.stdins).insert(pid, stdin);
        }
        if let Some(master) = &terminal {
            locked(&self.ptys).insert(pid, master.clone());
        }
        let mut writer = EventWriter { out: Some(out) };
        writer.send(&SpawnEvent::Started { pid }).await;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<SpawnEvent>(64);
        let stdout = child
            .stdout
            .take()
            .map(|pipe| tokio::spawn(pump(pipe, tx.clone(), SpawnEvent::Stdout)));
        let stderr = child
            .stderr
            .take()
            .map(|pipe| tokio::spawn(pump(pipe, tx.clone(), SpawnEvent::Stderr)));
        let on_pty = terminal
            .clone()
            .map(|master| tokio::spawn(pump_pty(master, tx.clone())));
        drop(tx);
        let mut status = None;
        let mut drain_until = None;
        loop {
            tokio::select! {
                event = rx.recv() => match event {
                    Some(event) => writer.send(&event).await,
                    None => break,
                },
                exited = child.wait(), if status.is_none() => {
                    status = Some(exited);
                    drain_until = Some(tokio::time::Instant::now() + DRAIN_GRACE);
                }
                () = sleep_until(drain_until) => break,
            }
        }
        for pump in [stdout, stderr, on_pty].into_iter().flatten() {
            pump.abort();
        }
        let status = match status {
            Some(status) => status,
            None => child.wait().await,
        };
        locked(&self.stdins).remove(&pid);
        locked(&self.ptys).remove(&pid);
        locked(&self.groups).remove(&pid);
        let event = match status {
            Ok(status) => {
                use std::os::unix::process::ExitStatusExt;
                let signal = status.signal();
                SpawnEvent::Ended {
                    exit_code: status.code().unwrap_or_else(|| 128 + signal.unwrap_or(0)),
                    signal,
                }
            }
            Err(error) => SpawnEvent::Failed(GuestError::io(&spawn.cmd, &error)),
        };
        writer.send(&event).await;
        Ok(())
    }
}

pub(super) fn signal_group(pid: u32, signal: i32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is shared.
    unsafe { libc::kill(-pid, signal) == 0 }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Writes events while the host listens; once it hung up, the command keeps
/// running and its output is dropped.
struct EventWriter {
    out: Option<tokio::net::unix::OwnedWriteHalf>,
}

impl EventWriter {
    async fn send(&mut self, event: &SpawnEvent) {
        if let Some(out) = self.out.as_mut() {
            if send(out, event).await.is_err() {
                self.out = None;
            }
        }
    }
}

async fn pump(
    mut pipe: impl AsyncRead + Unpin,
    events: tokio::sync::mpsc::Sender<SpawnEvent>,
    event: fn(String) -> SpawnEvent,
) {
    let mut buffer = vec![0; 32 * 1024];
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => {
                if events
                    .send(event(BASE64.encode(&buffer[..read])))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// [`pump`] for a pty's master.
async fn pump_pty(master: Arc<pty::Master>, events: tokio::sync::mpsc::Sender<SpawnEvent>) {
    let mut buffer = vec![0; 32 * 1024];
    loop {
        match master.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => {
                let event = SpawnEvent::Pty(BASE64.encode(&buffer[..read]));
                if events.send(event).await.is_err() {
                    return;
                }
            }
        }
    }
}
