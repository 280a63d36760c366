//! The guest agent: the first process inside every sandbox, playing the part
//! E2B's envd plays inside its VMs. It answers `sandboxd` on a unix socket
//! the host bound in a folder the sandbox cannot see and passed in as a
//! descriptor: file operations, commands, and connections
//! to ports inside the sandbox's own network namespace (for previews).
//!
//! It runs with the sandbox's view of the world, so paths need no checks of
//! their own when isolated: `..` and symlinks can only lead to what the
//! sandbox can see anyway. Without isolation (`--unsafe-no-isolation`) it
//! confines paths to the home folder lexically, which is all it can do.

use std::{
    collections::HashMap,
    path::{Component, Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant, UNIX_EPOCH},
};

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpStream, UnixListener, UnixStream},
    process::ChildStdin,
};

use super::guest_protocol::{ErrorKind, GuestError, Reply, Request, Spawn, SpawnEvent, MAX_LINE};
use crate::server::sandbox::wire::{rfc3339, EntryInfo, FileType};

/// Where the sandbox's user lives, as seen inside.
pub const HOME: &str = "/home/user";
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// How long a command's output is still read after the command itself ended
/// (its background children may hold the pipes open).
const DRAIN_GRACE: Duration = Duration::from_millis(200);

#[derive(Debug, Clone)]
pub struct GuestOptions {
    /// The listening unix socket the host passed in.
    pub listen_fd: std::os::fd::RawFd,
    /// The read-only run folder: the registry proxy's socket is there.
    pub run_dir: PathBuf,
    /// The home folder as this process sees it.
    pub home: PathBuf,
    /// Refuse paths outside `home` (only needed without isolation).
    pub confine: bool,
    /// Serve `home` over HTTP on this port (the `static` template).
    pub serve_static: Option<u16>,
    /// Bytes the home folder may hold.
    pub disk_limit: u64,
    /// Relay the registry proxy into the sandbox and point commands at it.
    pub egress: bool,
}

struct Guest {
    options: GuestOptions,
    stdins: Mutex<HashMap<u32, ChildStdin>>,
    /// The process groups of the commands started and not yet ended.
    groups: Mutex<std::collections::HashSet<u32>>,
    usage: Mutex<Option<(Instant, u64)>>,
    /// Set while the disk limit is exceeded; commands are stopped.
    over_disk: std::sync::atomic::AtomicBool,
}

/// Runs the agent until the sandbox is killed.
pub async fn run(options: GuestOptions) -> std::io::Result<()> {
    let listener = listener_from_fd(options.listen_fd)?;
    if let Some(port) = options.serve_static {
        let home = options.home.clone();
        tokio::spawn(async move {
            if let Err(error) = serve_static(home, port).await {
                eprintln!("ollio guest: static server on port {port}: {error}");
            }
        });
    }
    if options.egress {
        let socket = options.run_dir.join(super::egress::SOCKET_NAME);
        tokio::spawn(async move {
            if let Err(error) = super::egress::relay_from_inside(socket).await {
                eprintln!("ollio guest: registry proxy: {error}");
            }
        });
    }
    let guest = Arc::new(Guest {
        options,
        stdins: Mutex::new(HashMap::new()),
        groups: Mutex::default(),
        usage: Mutex::new(None),
        over_disk: false.into(),
    });
    tokio::spawn(watch_disk(guest.clone()));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of descriptors (many preview visitors, say): wait for some
            // to close rather than end the sandbox.
            Err(error) => {
                eprintln!("ollio guest: accepting a host connection: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let guest = guest.clone();
        tokio::spawn(async move {
            let _ = guest.handle(stream).await;
        });
    }
}

/// Takes over the listening socket the host left open on `fd`.
fn listener_from_fd(fd: std::os::fd::RawFd) -> std::io::Result<UnixListener> {
    use std::os::{fd::FromRawFd, unix::net::UnixListener as StdListener};
    // SAFETY: fcntl only inspects the descriptor; an invalid one gives EBADF.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(std::io::Error::other(format!(
            "no listening socket on descriptor {fd}: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: the descriptor is open, was passed to us for this purpose
    // and nothing else in this process owns it.
    let listener = unsafe { StdListener::from_raw_fd(fd) };
    listener.set_nonblocking(true)?;
    UnixListener::from_std(listener)
}

async fn serve_static(home: PathBuf, port: u16) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let files = tower_http::services::ServeDir::new(home).append_index_html_on_directories(true);
    axum::serve(listener, axum::Router::new().fallback_service(files)).await
}

/// Stops every command while the home folder is over the disk limit: a
/// single file is already capped by `RLIMIT_FSIZE`, this catches many.
async fn watch_disk(guest: Arc<Guest>) {
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let used = guest.usage(true).await;
        let over = used > guest.options.disk_limit;
        guest
            .over_disk
            .store(over, std::sync::atomic::Ordering::Relaxed);
        if over {
            guest.kill_everything();
        }
    }
}

fn signal_group(pid: u32, signal: i32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is shared.
    unsafe { libc::kill(-pid, signal) == 0 }
}

type Lines = BufReader<tokio::net::unix::OwnedReadHalf>;

impl Guest {
    /// Where commands find the registry proxy, when there is one.
    fn proxy_env(&self) -> Vec<(&'static str, String)> {
        if !self.options.egress {
            return Vec::new();
        }
        let proxy = format!("http://127.0.0.1:{}", super::egress::PROXY_PORT);
        let mut env: Vec<(&'static str, String)> =
            ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]
                .into_iter()
                .map(|name| (name, proxy.clone()))
                .collect();
        env.push(("NO_PROXY", "localhost,127.0.0.1".into()));
        env.push(("no_proxy", "localhost,127.0.0.1".into()));
        env
    }

    /// Kills every process in the sandbox but this agent: in a jail, all
    /// the agent can signal is the sandbox, so that includes whatever left
    /// its command's process group; without one, the groups it started.
    fn kill_everything(&self) {
        // In bubblewrap's pid namespace the agent is pid 2 (bwrap is 1);
        // anywhere else, kill(-1) would reach far beyond the sandbox.
        let jailed = !self.options.confine && std::process::id() <= 2;
        if !jailed {
            let groups: Vec<u32> = self
                .groups
                .lock()
                .map(|groups| groups.iter().copied().collect())
                .unwrap_or_default();
            for pid in groups {
                signal_group(pid, libc::SIGKILL);
            }
        } else {
            // SAFETY: kill(2) with -1 signals every process we may signal
            // but ourselves and the namespace's init; no memory is shared.
            unsafe {
                libc::kill(-1, libc::SIGKILL);
            }
        }
    }

    async fn handle(self: Arc<Self>, stream: UnixStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        let request: Request = match read_line(&mut reader).await? {
            Some(request) => request,
            None => return Ok(()),
        };
        match request {
            Request::Spawn(spawn) => self.spawn(spawn, write).await,
            Request::Forward { port } => {
                let stream = reader
                    .into_inner()
                    .reunite(write)
                    .map_err(std::io::Error::other)?;
                forward(stream, port).await
            }
            Request::Read { path } => self.read(&path, write).await,
            Request::Write { path, size } => {
                let reply = self.write(&path, size, &mut reader).await;
                send(&mut write, &reply).await
            }
            other => {
                let reply = self.simple(other).await;
                send(&mut write, &reply).await
            }
        }
    }

    async fn simple(&self, request: Request) -> Reply {
        let outcome = match request {
            Request::List { path, depth } => self
                .resolve(&path)
                .and_then(|resolved| list(&resolved, depth.max(1)).map(Reply::Entries)),
            Request::Stat { path } => self
                .resolve(&path)
                .and_then(|resolved| entry(&resolved).map(Reply::Entry)),
            Request::MakeDir { path } => self.resolve(&path).and_then(|resolved| {
                if resolved.exists() {
                    return Err(GuestError::new(
                        ErrorKind::AlreadyExists,
                        format!("{path} already exists"),
                    ));
                }
                std::fs::create_dir_all(&resolved)
                    .map_err(|error| GuestError::io(&path, &error))?;
                entry(&resolved).map(Reply::Entry)
            }),
            Request::Remove { path } => self.resolve(&path).and_then(|resolved| {
                let meta = std::fs::symlink_metadata(&resolved)
                    .map_err(|error| GuestError::io(&path, &error))?;
                let removed = if meta.is_dir() {
                    std::fs::remove_dir_all(&resolved)
                } else {
                    std::fs::remove_file(&resolved)
                };
                removed.map_err(|error| GuestError::io(&path, &error))?;
                Ok(Reply::Done)
            }),
            Request::Move {
                source,
                destination,
            } => self.resolve(&source).and_then(|from| {
                let to = self.resolve(&destination)?;
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|error| GuestError::io(&destination, &error))?;
                }
                std::fs::rename(&from, &to).map_err(|error| GuestError::io(&source, &error))?;
                entry(&to).map(Reply::Entry)
            }),
            Request::Signal { pid, signal } => {
                if signal_group(pid, signal) {
                    Ok(Reply::Done)
                } else {
                    Err(GuestError::new(
                        ErrorKind::NotFound,
                        format!("process {pid} not found"),
                    ))
                }
            }
            Request::Input { pid, data } => self.input(pid, Some(data)).await,
            Request::CloseStdin { pid } => self.input(pid, None).await,
            Request::Usage => Ok(Reply::Size(self.usage(false).await)),
            Request::Ping => Ok(Reply::Done),
            Request::Read { .. }
            | Request::Write { .. }
            | Request::Spawn(_)
            | Request::Forward { .. } => Err(GuestError::new(ErrorKind::Invalid, "not here")),
        };
        outcome.unwrap_or_else(Reply::Failed)
    }

    /// Where a path the user gave points, as this process sees it: relative
    /// to the home folder unless absolute.
    fn resolve(&self, path: &str) -> Result<PathBuf, GuestError> {
        if path.contains('\0') {
            return Err(GuestError::new(
                ErrorKind::Invalid,
                "a path may not contain NUL",
            ));
        }
        let home = &self.options.home;
        let raw = Path::new(path);
        if !self.options.confine {
            return Ok(if raw.is_absolute() {
                raw.to_path_buf()
            } else {
                home.join(raw)
            });
        }
        // Without a jail: map the sandbox's `/home/user` onto the real home
        // and refuse anything that leaves it.
        let relative = raw.strip_prefix(HOME).unwrap_or(raw);
        if relative.is_absolute() {
            return Err(GuestError::new(
                ErrorKind::PermissionDenied,
                format!("{path} is outside {HOME}"),
            ));
        }
        let mut resolved = home.clone();
        for component in relative.components() {
            match component {
                Component::Normal(part) => resolved.push(part),
                Component::CurDir => {}
                Component::ParentDir if resolved != *home => {
                    resolved.pop();
                }
                _ => {
                    return Err(GuestError::new(
                        ErrorKind::PermissionDenied,
                        format!("{path} is outside {HOME}"),
                    ))
                }
            }
        }
        Ok(resolved)
    }

    async fn read(
        &self,
        path: &str,
        mut write: tokio::net::unix::OwnedWriteHalf,
    ) -> std::io::Result<()> {
        let opened = async {
            let resolved = self.resolve(path)?;
            let file = tokio::fs::File::open(&resolved)
                .await
                .map_err(|error| GuestError::io(path, &error))?;
            let meta = file
                .metadata()
                .await
                .map_err(|error| GuestError::io(path, &error))?;
            if meta.is_dir() {
                return Err(GuestError::new(
                    ErrorKind::Invalid,
                    format!("{path} is a directory"),
                ));
            }
            Ok((file, meta.len()))
        }
        .await;
        match opened {
            Err(error) => send(&mut write, &Reply::Failed(error)).await,
            Ok((file, size)) => {
                send(&mut write, &Reply::Size(size)).await?;
                tokio::io::copy(&mut file.take(size), &mut write).await?;
                write.shutdown().await
            }
        }
    }

    async fn write(&self, path: &str, size: u64, body: &mut Lines) -> Reply {
        let outcome = async {
            let resolved = self.resolve(path)?;
            if self.usage(false).await.saturating_add(size) > self.options.disk_limit {
                return Err(GuestError::new(
                    ErrorKind::TooLarge,
                    format!(
                        "writing {path} would go over the sandbox's disk limit of {} MB",
                        self.options.disk_limit >> 20
                    ),
                ));
            }
            if let Some(parent) = resolved.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|error| GuestError::io(path, &error))?;
            }
            let mut file = tokio::fs::File::create(&resolved)
                .await
                .map_err(|error| GuestError::io(path, &error))?;
            let copied = tokio::io::copy(&mut (&mut *body).take(size), &mut file)
                .await
                .map_err(|error| GuestError::io(path, &error))?;
            file.flush()
                .await
                .map_err(|error| GuestError::io(path, &error))?;
            if copied != size {
                return Err(GuestError::new(ErrorKind::Io, "the upload was cut short"));
            }
            *self
                .usage
                .lock()
                .map_err(|_| GuestError::new(ErrorKind::Io, "poisoned"))? = None;
            entry(&resolved)
        }
        .await;
        match outcome {
            Ok(entry) => Reply::Entry(entry),
            Err(error) => {
                // Read what is left of the upload so the host gets the answer.
                let _ = tokio::io::copy(&mut (&mut *body).take(size), &mut tokio::io::sink()).await;
                Reply::Failed(error)
            }
        }
    }

    async fn input(&self, pid: u32, data: Option<String>) -> Result<Reply, GuestError> {
        let missing = || {
            GuestError::new(
                ErrorKind::NotFound,
                format!("process {pid} has no open stdin"),
            )
        };
        let stdin = self
            .stdins
            .lock()
            .map_err(|_| missing())?
            .remove(&pid)
            .ok_or_else(missing)?;
        let Some(data) = data else {
            return Ok(Reply::Done);
        };
        let bytes = BASE64
            .decode(data)
            .map_err(|error| GuestError::new(ErrorKind::Invalid, error.to_string()))?;
        let mut stdin = stdin;
        stdin
            .write_all(&bytes)
            .await
            .map_err(|error| GuestError::io("stdin", &error))?;
        if let Ok(mut map) = self.stdins.lock() {
            map.insert(pid, stdin);
        }
        Ok(Reply::Done)
    }

    /// Bytes under the home folder, measured at most every two seconds
    /// unless `fresh`.
    async fn usage(&self, fresh: bool) -> u64 {
        if !fresh {
            if let Ok(cached) = self.usage.lock() {
                if let Some((at, bytes)) = *cached {
                    if at.elapsed() < Duration::from_secs(2) {
                        return bytes;
                    }
                }
            }
        }
        let home = self.options.home.clone();
        let bytes = tokio::task::spawn_blocking(move || disk_usage(&home))
            .await
            .unwrap_or(0);
        if let Ok(mut cached) = self.usage.lock() {
            *cached = Some((Instant::now(), bytes));
        }
        bytes
    }

    async fn spawn(
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
        let mut command = tokio::process::Command::new(&spawn.cmd);
        command
            .args(&spawn.args)
            .env_clear()
            .env("PATH", PATH)
            .env("HOME", &self.options.home)
            .env("USER", "user")
            .env("LOGNAME", "user")
            .env("SHELL", "/bin/bash")
            .env("LANG", "C.UTF-8")
            .env("TERM", "xterm-256color")
            .envs(self.proxy_env())
            .envs(&spawn.envs)
            .current_dir(cwd)
            .process_group(0)
            .stdin(if spawn.stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
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
        let pid = child.id().unwrap_or_default();
        if let Ok(mut groups) = self.groups.lock() {
            groups.insert(pid);
        }
        if let Some(stdin) = child.stdin.take() {
            if let Ok(mut map) = self.stdins.lock() {
                map.insert(pid, stdin);
            }
        }
        let mut writer = EventWriter { out: Some(out) };
        writer.send(&SpawnEvent::Started { pid }).await;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<SpawnEvent>(64);
        let stdout = child
            .stdout
            .take()
            .map(|pipe| tokio::spawn(pump(pipe, tx.clone(), false)));
        let stderr = child
            .stderr
            .take()
            .map(|pipe| tokio::spawn(pump(pipe, tx.clone(), true)));
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
        for pump in [stdout, stderr].into_iter().flatten() {
            pump.abort();
        }
        let status = match status {
            Some(status) => status,
            None => child.wait().await,
        };
        if let Ok(mut map) = self.stdins.lock() {
            map.remove(&pid);
        }
        if let Ok(mut groups) = self.groups.lock() {
            groups.remove(&pid);
        }
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
    stderr: bool,
) {
    let mut buffer = vec![0; 32 * 1024];
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => {
                let text = BASE64.encode(&buffer[..read]);
                let event = if stderr {
                    SpawnEvent::Stderr(text)
                } else {
                    SpawnEvent::Stdout(text)
                };
                if events.send(event).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn forward(mut stream: UnixStream, port: u16) -> std::io::Result<()> {
    match TcpStream::connect(("127.0.0.1", port)).await {
        Ok(mut tcp) => {
            send(&mut stream, &Reply::Done).await?;
            tokio::io::copy_bidirectional(&mut stream, &mut tcp).await?;
            Ok(())
        }
        Err(error) => {
            let reply = Reply::Failed(GuestError::new(
                ErrorKind::Refused,
                format!("nothing listens on port {port}: {error}"),
            ));
            send(&mut stream, &reply).await
        }
    }
}

/// Reads one JSON line, refusing lines over [`MAX_LINE`].
pub async fn read_line<T: serde::de::DeserializeOwned>(
    reader: &mut (impl AsyncBufReadExt + Unpin),
) -> std::io::Result<Option<T>> {
    let mut line = Vec::new();
    let read = (&mut *reader)
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)
        .await?;
    if read == 0 {
        return Ok(None);
    }
    if line.len() > MAX_LINE {
        return Err(std::io::Error::other("a protocol line is too long"));
    }
    serde_json::from_slice(&line)
        .map(Some)
        .map_err(std::io::Error::other)
}

/// Writes one JSON line.
pub async fn send(
    writer: &mut (impl AsyncWriteExt + Unpin),
    message: &impl serde::Serialize,
) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    line.push(b'\n');
    writer.write_all(&line).await?;
    writer.flush().await
}

fn list(dir: &Path, depth: u32) -> Result<Vec<EntryInfo>, GuestError> {
    let shown = dir.display().to_string();
    let meta = std::fs::metadata(dir).map_err(|error| GuestError::io(&shown, &error))?;
    if !meta.is_dir() {
        return Err(GuestError::new(
            ErrorKind::Invalid,
            format!("{shown} is not a directory"),
        ));
    }
    let mut entries = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), 1)];
    while let Some((folder, level)) = pending.pop() {
        let read = std::fs::read_dir(&folder)
            .map_err(|error| GuestError::io(&folder.display().to_string(), &error))?;
        for item in read.flatten() {
            let path = item.path();
            let Ok(info) = entry(&path) else { continue };
            if info.kind == FileType::Directory && level < depth {
                pending.push((path, level + 1));
            }
            entries.push(info);
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

/// Describes one path without following a final symlink.
fn entry(path: &Path) -> Result<EntryInfo, GuestError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let shown = path.display().to_string();
    let meta = std::fs::symlink_metadata(path).map_err(|error| GuestError::io(&shown, &error))?;
    let kind = if meta.file_type().is_symlink() {
        FileType::Symlink
    } else if meta.is_dir() {
        FileType::Directory
    } else {
        FileType::File
    };
    let mode = meta.permissions().mode();
    let modified_ms = meta
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map(|since| since.as_millis() as i64);
    let name_of = |id: u32| match id {
        1000 => "user".to_owned(),
        0 => "root".to_owned(),
        other => other.to_string(),
    };
    Ok(EntryInfo {
        name: path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "/".into()),
        kind,
        path: shown,
        size: meta.len(),
        mode: mode & 0o7777,
        permissions: permissions(kind, mode),
        owner: name_of(meta.uid()),
        group: name_of(meta.gid()),
        modified_time: modified_ms.map(rfc3339),
        symlink_target: std::fs::read_link(path)
            .ok()
            .map(|target| target.display().to_string()),
    })
}

fn permissions(kind: FileType, mode: u32) -> String {
    let mut text = String::with_capacity(10);
    text.push(match kind {
        FileType::Directory => 'd',
        FileType::Symlink => 'l',
        _ => '-',
    });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 0o7;
        text.push(if bits & 4 != 0 { 'r' } else { '-' });
        text.push(if bits & 2 != 0 { 'w' } else { '-' });
        text.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    text
}

/// Bytes of all regular files under `root`, not following symlinks.
pub fn disk_usage(root: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0u64;
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(read) = std::fs::read_dir(&folder) else {
            continue;
        };
        for item in read.flatten() {
            let Ok(meta) = item.metadata() else { continue };
            if meta.is_dir() {
                pending.push(item.path());
            } else {
                total = total.saturating_add(meta.blocks() * 512);
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest(confine: bool) -> Guest {
        Guest {
            options: GuestOptions {
                listen_fd: -1,
                run_dir: PathBuf::from("/nonexistent"),
                home: PathBuf::from("/srv/sbx/home"),
                confine,
                serve_static: None,
                disk_limit: 1 << 30,
                egress: false,
            },
            stdins: Mutex::new(HashMap::new()),
            groups: Mutex::default(),
            usage: Mutex::new(None),
            over_disk: false.into(),
        }
    }

    #[test]
    fn without_a_jail_paths_stay_in_home() {
        let guest = guest(true);
        assert_eq!(
            guest.resolve("a/b.txt").unwrap(),
            Path::new("/srv/sbx/home/a/b.txt")
        );
        assert_eq!(
            guest.resolve("/home/user/a/../b").unwrap(),
            Path::new("/srv/sbx/home/b")
        );
        for escape in ["../x", "/etc/passwd", "a/../../x", "/home/user/../../etc"] {
            assert!(guest.resolve(escape).is_err(), "{escape} escaped");
        }
    }

    #[test]
    fn in_a_jail_paths_are_taken_as_given() {
        let guest = guest(false);
        assert_eq!(
            guest.resolve("/etc/passwd").unwrap(),
            Path::new("/etc/passwd")
        );
        assert_eq!(guest.resolve("x").unwrap(), Path::new("/srv/sbx/home/x"));
    }

    #[test]
    fn permissions_read_like_ls() {
        assert_eq!(permissions(FileType::File, 0o644), "-rw-r--r--");
        assert_eq!(permissions(FileType::Directory, 0o755), "drwxr-xr-x");
    }
}
