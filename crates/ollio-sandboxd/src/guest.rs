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
//!
//! Its parts: `fs` (paths, files, listings, disk use), `process` (commands
//! and their output) and `forward` (connections to ports inside). The lines
//! it reads and writes are framed by `guest_protocol`.

mod forward;
mod fs;
mod process;
mod pty;
pub mod supervisor;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::{
    io::BufReader,
    net::{UnixListener, UnixStream},
    process::ChildStdin,
};

use crate::{
    guest_protocol::{read_line, send, ErrorKind, GuestError, Reply, Request},
    lock::locked,
};

use fs::{entry, list};
use process::signal_group;

pub use fs::disk_usage;

/// Where the sandbox's user lives, as seen inside.
pub const HOME: &str = "/home/user";
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
    /// What the disk limit counts, when not all of `home`: over a template,
    /// only what the sandbox wrote (the overlay's upper layer).
    pub usage_root: Option<PathBuf>,
    /// Bytes of `home` the disk limit does not count (a copied template).
    pub usage_baseline: u64,
    /// The template whose app to keep running (see `supervisor`).
    pub app: Option<String>,
    /// Where the app's log and status go: `/tmp/ollio` inside a jail.
    pub app_dir: PathBuf,
    /// `RLIMIT_NPROC` for itself and all it starts (inside the jail's user
    /// namespace it counts only this sandbox's processes).
    pub max_processes: Option<u64>,
}

struct Guest {
    options: GuestOptions,
    stdins: Mutex<HashMap<u32, ChildStdin>>,
    /// The pty masters of the commands started on one, by pid.
    ptys: Mutex<HashMap<u32, Arc<pty::Master>>>,
    /// The process groups of the commands started and not yet ended.
    groups: Mutex<std::collections::HashSet<u32>>,
    usage: Mutex<Option<(Instant, u64)>>,
    /// Set while the disk limit is exceeded; commands are stopped.
    over_disk: std::sync::atomic::AtomicBool,
}

/// The runtime for this process: the guest agent (`sandbox-guest`, the
/// first argument) gets one thread, so an idle sandbox costs little memory
/// (no worker threads, their stacks and allocator heaps); anything else, a
/// thread per core.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == "sandbox-guest")
    {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(8)
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    }
}

/// Runs the agent until the sandbox is killed.
pub async fn run(options: GuestOptions) -> std::io::Result<()> {
    if let Some(processes) = options.max_processes {
        let limit = libc::rlimit {
            rlim_cur: processes,
            rlim_max: processes,
        };
        // SAFETY: setrlimit reads the struct; lowering needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NPROC, &limit) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
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
        let socket = options.run_dir.join(crate::egress::SOCKET_NAME);
        tokio::spawn(async move {
            if let Err(error) = crate::egress::relay_from_inside(socket).await {
                eprintln!("ollio guest: registry proxy: {error}");
            }
        });
    } else if !options.confine {
        // A jail of its own network: nothing else listens on the port.
        tokio::spawn(async move {
            if let Err(error) = crate::egress::refuse_inside().await {
                eprintln!("ollio guest: the refusing proxy: {error}");
            }
        });
    }
    let guest = Arc::new(Guest {
        options,
        stdins: Mutex::new(HashMap::new()),
        ptys: Mutex::new(HashMap::new()),
        groups: Mutex::default(),
        usage: Mutex::new(None),
        over_disk: false.into(),
    });
    tokio::spawn(watch_disk(guest.clone()));
    if let Some(id) = guest.options.app.clone() {
        match ollio_templates::find(&id) {
            Some(template) => supervisor::start(guest.clone(), template),
            None => eprintln!("ollio guest: no template `{id}` to start"),
        }
    }
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
    // The files change under the preview with every turn: the browser
    // asks again each time instead of guessing from Last-Modified.
    let fresh = tower_http::set_header::SetResponseHeaderLayer::overriding(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    axum::serve(
        listener,
        axum::Router::new().fallback_service(files).layer(fresh),
    )
    .await
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

type Lines = BufReader<tokio::net::unix::OwnedReadHalf>;

impl Guest {
    /// Kills every process in the sandbox but this agent: in a jail, all
    /// the agent can signal is the sandbox, so that includes whatever left
    /// its command's process group; without one, the groups it started.
    fn kill_everything(&self) {
        // In bubblewrap's pid namespace the agent is pid 2 (bwrap is 1);
        // anywhere else, kill(-1) would reach far beyond the sandbox.
        let jailed = !self.options.confine && std::process::id() <= 2;
        if !jailed {
            let groups: Vec<u32> = locked(&self.groups).iter().copied().collect();
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
                forward::forward(stream, port).await
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
            Request::Resize { pid, size } => self.resize(pid, size),
            Request::Usage => Ok(Reply::Size(self.usage(false).await)),
            Request::Ping => Ok(Reply::Done),
            Request::Read { .. }
            | Request::Write { .. }
            | Request::Spawn(_)
            | Request::Forward { .. } => Err(GuestError::new(ErrorKind::Invalid, "not here")),
        };
        outcome.unwrap_or_else(Reply::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn guest(confine: bool) -> Guest {
        Guest {
            options: GuestOptions {
                listen_fd: -1,
                run_dir: PathBuf::from("/nonexistent"),
                home: PathBuf::from("/srv/sbx/home"),
                confine,
                serve_static: None,
                disk_limit: 1 << 30,
                egress: false,
                usage_root: None,
                usage_baseline: 0,
                app: None,
                app_dir: PathBuf::from("/nonexistent/app"),
                max_processes: None,
            },
            stdins: Mutex::new(HashMap::new()),
            ptys: Mutex::new(HashMap::new()),
            groups: Mutex::default(),
            usage: Mutex::new(None),
            over_disk: false.into(),
        }
    }

    #[test]
    fn a_poisoned_lock_loses_no_process_group() {
        use std::os::unix::process::{CommandExt, ExitStatusExt};
        // A command in a group of its own, as the guest starts them.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let guest = Arc::new(guest(true));
        locked(&guest.groups).insert(child.id());
        // A thread that panics while holding the lock poisons it.
        let holder = guest.clone();
        let _ = std::thread::spawn(move || {
            let _groups = holder.groups.lock().unwrap();
            panic!("poisoning the lock on purpose");
        })
        .join();
        assert!(guest.groups.is_poisoned());
        guest.kill_everything();
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the command outlived kill_everything"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }
}
