//! The bundled sandbox daemon (`ollio sandboxd`, or this crate's
//! `ollio-sandboxd`): a local stand-in for E2B. It serves the subset of E2B's
//! control plane and envd that Ollio and E2B's official SDKs use, under the
//! same paths, headers and JSON, and runs each sandbox in bubblewrap with
//! a guest agent inside (see `guest`). Previews are served on their own
//! origin per sandbox and port, `http://{port}-{id}.localhost:{port}`.

pub mod args;
pub mod cgroup;
pub mod control_routes;
pub mod egress;
pub mod envd_routes;
pub mod folders;
pub mod guest;
pub mod guest_link;
pub mod guest_protocol;
pub mod jail;
mod lock;
pub mod preview;
pub mod preview_cors;
pub mod preview_reporter;
pub mod registry;
pub mod seccomp;
pub mod settings;
pub mod standalone;
mod template_build;
pub mod template_images;
mod template_routes;
mod warm_pool;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use axum::Router;
use tokio::net::TcpListener;

pub use egress::Network;
pub use folders::{check_owned_by_root, daemon_dir};
pub use jail::Isolation;
pub use registry::Registry;
pub use settings::DaemonSettings;

use ollio_sandbox::{ApiKey, Endpoint};

pub const DEFAULT_ADDR: &str = "127.0.0.1:49983";
/// Ready sandboxes kept per template used lately, unless `OLLIO_SANDBOX_WARM` says.
pub const DEFAULT_WARM: usize = 2;

/// Resource limits of every sandbox.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub memory_bytes: u64,
    pub processes: u64,
    /// CPU cores' worth of time.
    pub cpus: f64,
    /// Bytes the home folder may hold; also the largest single file.
    pub disk_bytes: u64,
    /// Output bytes one command may produce before it is stopped.
    pub output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 1 << 30,
            processes: 512,
            cpus: 1.0,
            disk_bytes: 2 << 30,
            output_bytes: 16 << 20,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub addr: SocketAddr,
    pub api_key: ApiKey,
    /// Sandboxes live in `{data_dir}/sandboxes/{id}`.
    pub data_dir: PathBuf,
    pub isolation: Isolation,
    pub limits: Limits,
    pub default_timeout_secs: u64,
    pub max_timeout_secs: u64,
    pub max_sandboxes: usize,
    /// Keep a sandbox's folder after it ends (for debugging).
    pub keep_dirs: bool,
    /// The binary that runs as the guest agent (this one, normally).
    pub guest_exe: PathBuf,
    /// Hosts of previews are `{port}-{id}.{preview_domain}`; by default
    /// `localhost:{port}`, which browsers resolve to this machine.
    pub preview_domain: Option<String>,
    /// Tests turn this off to check the rlimit fallback.
    pub use_cgroups: bool,
    /// Outside hosts sandboxes may reach (none by default).
    pub network: Network,
    /// Where built templates are kept (`OLLIO_TEMPLATE_CACHE`); by default
    /// `{data_dir}/templates`.
    pub template_cache: Option<PathBuf>,
    /// Ready sandboxes kept per template used lately (`OLLIO_SANDBOX_WARM`,
    /// 2 by default; 0 for none).
    pub warm_per_template: usize,
    /// How long to wait for another daemon to let go of the folder (one
    /// still stopping) before giving up; none by default.
    pub lock_wait: Duration,
}

impl DaemonConfig {
    /// Defaults for a daemon on `addr` keeping its sandboxes under `data_dir`.
    pub fn new(addr: SocketAddr, data_dir: PathBuf, api_key: ApiKey) -> Self {
        Self {
            addr,
            api_key,
            data_dir,
            isolation: Isolation::Bubblewrap,
            limits: Limits::default(),
            default_timeout_secs: 300,
            max_timeout_secs: 24 * 3600,
            max_sandboxes: 64,
            keep_dirs: false,
            guest_exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("ollio")),
            preview_domain: None,
            use_cgroups: true,
            network: Network::None,
            template_cache: None,
            warm_per_template: DEFAULT_WARM,
            lock_wait: Duration::ZERO,
        }
    }

    /// The daemon `settings` describe, keeping its sandboxes under
    /// `data_dir`, with `api_key` (the settings' own, or one made for it).
    pub fn from_settings(
        settings: &DaemonSettings,
        data_dir: PathBuf,
        isolation: Isolation,
        api_key: ApiKey,
    ) -> Self {
        let mut config = Self::new(settings.addr, data_dir, api_key);
        config.isolation = isolation;
        config.limits = settings.limits;
        config.keep_dirs = settings.keep_dirs;
        config.preview_domain = settings.preview_domain.clone();
        config.network = settings.network.clone();
        config.template_cache = settings.template_cache.clone();
        config.warm_per_template = settings.warm_per_template;
        config
    }

    /// Where sandbox roots live: `{data_dir}/sandboxes`, unless a folder on
    /// the way there is closed to other users (a 0700 home folder, or
    /// mktemp's) while the daemon runs as root, where sandboxes run as uids
    /// of their own and could not reach their roots: then under
    /// [`SHARED_ROOT`], in a folder named after the data folder.
    pub fn sandboxes_dir(&self) -> PathBuf {
        self.reachable_dir("sandboxes")
    }

    /// Where templates are built: like sandboxes, a place their uids reach.
    pub fn template_builds_dir(&self) -> PathBuf {
        self.reachable_dir("template-builds")
    }

    /// Where built templates are kept.
    pub fn template_cache(&self) -> PathBuf {
        self.template_cache
            .clone()
            .unwrap_or_else(|| self.data_dir.join("templates"))
    }

    fn reachable_dir(&self, name: &str) -> PathBuf {
        let wanted = self.data_dir.join(name);
        // SAFETY: geteuid has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        if !root || reachable_by_others(&self.data_dir) {
            return wanted;
        }
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::path::absolute(&self.data_dir)
            .unwrap_or_else(|_| self.data_dir.clone())
            .hash(&mut hasher);
        PathBuf::from(SHARED_ROOT).join(format!("{name}-{:016x}", hasher.finish()))
    }
}

/// Where a root daemon keeps sandboxes whose data folder others cannot reach.
pub const SHARED_ROOT: &str = "/var/lib/ollio";

/// Whether every folder from `/` down to `path` (as far as it exists) lets
/// other users pass through.
fn reachable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    path.ancestors()
        .filter_map(|folder| std::fs::metadata(folder).ok())
        .all(|meta| meta.permissions().mode() & 0o001 != 0)
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("bubblewrap (bwrap) is not installed, so sandboxes cannot be isolated; install it (apt-get install bubblewrap) or pass --unsafe-no-isolation")]
    NoBubblewrap,
    #[error("OLLIO_SANDBOXD_API_KEY must look like e2b_ followed by 40 hex digits")]
    BadKey,
    #[error("without root, a sandbox's process limit needs Linux 5.14 or later (this is {0}): run the sandbox daemon as root, or on a newer kernel")]
    NoProcessLimit(String),
    #[error("the jail's seccomp filter cannot be built: {0}")]
    Seccomp(String),
    #[error("OLLIO_SANDBOXD_ADDR: cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("OLLIO_DATA_DIR: another sandboxd already keeps its sandboxes in {0}")]
    Busy(String),
    #[error("OLLIO_DATA_DIR: the sandbox daemon, run as root, will not use {path}: {why}")]
    UnsafeFolder { path: String, why: String },
    #[error("OLLIO_DATA_DIR: cannot create {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot keep the sandbox daemon's key in {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
}

/// A daemon serving in the background.
pub struct RunningDaemon {
    pub addr: SocketAddr,
    pub registry: Arc<Registry>,
    pub endpoint: Endpoint,
    task: tokio::task::JoinHandle<()>,
    /// Held while running: one daemon per data folder.
    _lock: std::fs::File,
}

impl Drop for RunningDaemon {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RunningDaemon {
    /// Kills every sandbox and stops serving.
    pub async fn shutdown(self) {
        self.task.abort();
        self.registry.kill_all().await;
    }
}

/// Checks the configuration, binds the port and starts serving.
pub async fn start(mut config: DaemonConfig) -> Result<RunningDaemon, DaemonError> {
    if !config.api_key.has_e2b_shape() {
        return Err(DaemonError::BadKey);
    }
    if config.isolation == Isolation::Bubblewrap {
        if !jail::bubblewrap_available() {
            return Err(DaemonError::NoBubblewrap);
        }
        seccomp::program().map_err(DaemonError::Seccomp)?;
        // Without root (no cgroups, no uid per sandbox), each sandbox's
        // RLIMIT_NPROC, set inside its user namespace, counts only its own
        // processes from Linux 5.14 on; before, it would count nothing
        // useful. Never run without a process limit.
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            let release = jail::kernel_release();
            if !jail::counts_processes_per_namespace(&release) {
                return Err(DaemonError::NoProcessLimit(release));
            }
        }
    }
    if config.isolation == Isolation::None {
        tracing::warn!("sandboxes are NOT isolated (--unsafe-no-isolation): generated code can read and change this machine");
    }
    let dir = config.sandboxes_dir();
    std::fs::create_dir_all(&dir).map_err(|source| DaemonError::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    check_owned_by_root(&config.data_dir)?;
    let lock = lock_data_dir(&config.data_dir, config.lock_wait).await?;
    if !config.keep_dirs {
        remove_leftovers(&dir);
    }
    // bubblewrap resolves paths itself: give it absolute ones.
    if let Ok(absolute) = std::fs::canonicalize(&config.data_dir) {
        config.data_dir = absolute;
    }
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| DaemonError::Listen {
            addr: config.addr,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| DaemonError::Listen {
            addr: config.addr,
            source,
        })?;
    config.addr = addr;
    let endpoint = local_endpoint(&config);
    let registry = Arc::new(Registry::new(config));
    let app = router(registry.clone());
    let reaper = registry.clone();
    let task = tokio::spawn(async move {
        let reaping = async {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                reaper.reap().await;
            }
        };
        // Stream frames are small: without TCP_NODELAY, Nagle's algorithm
        // and delayed ACKs hold each one back for ~40 ms.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let serving = axum::serve(listener, app.into_make_service());
        tokio::select! {
            () = reaping => {}
            result = serving => if let Err(error) = result {
                tracing::error!(%error, "sandboxd stopped");
            },
        }
    });
    tracing::info!(%addr, "sandboxd listening");
    Ok(RunningDaemon {
        addr,
        registry,
        endpoint,
        task,
        _lock: lock,
    })
}

/// Takes `sandboxd.lock` in the data folder, so that a second daemon cannot
/// remove or reuse the first one's sandboxes; tries again for up to `wait`.
async fn lock_data_dir(data_dir: &Path, wait: Duration) -> Result<std::fs::File, DaemonError> {
    use std::os::fd::AsRawFd;
    let path = data_dir.join("sandboxd.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| DaemonError::DataDir {
            path: path.display().to_string(),
            source,
        })?;
    let deadline = std::time::Instant::now() + wait;
    // SAFETY: flock on a descriptor we own; released when the file closes.
    while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        if std::time::Instant::now() >= deadline {
            return Err(DaemonError::Busy(data_dir.display().to_string()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(file)
}

/// Sandboxes live only as long as their daemon (their jails die with it):
/// folders left by one that crashed are removed at start.
fn remove_leftovers(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if let Err(error) = registry::remove_tree(&entry.path()) {
            tracing::warn!(path = %entry.path().display(), %error, "could not remove a leftover sandbox folder");
        }
    }
}

/// The endpoint a client uses to reach this daemon.
pub fn local_endpoint(config: &DaemonConfig) -> Endpoint {
    let base = format!("http://{}", config.addr);
    Endpoint {
        api_url: base.clone(),
        sandbox_url: Some(base),
        domain: preview_domain(config),
        scheme: "http",
        api_key: config.api_key.clone(),
    }
}

fn preview_domain(config: &DaemonConfig) -> String {
    config
        .preview_domain
        .clone()
        .unwrap_or_else(|| format!("localhost:{}", config.addr.port()))
}

pub fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .merge(control_routes::routes(registry.clone()))
        .merge(template_routes::routes(registry.clone()))
        .merge(envd_routes::routes(
            registry
                .config()
                .limits
                .disk_bytes
                .min(envd_routes::MAX_UPLOAD),
        ))
        .layer(axum::middleware::from_fn_with_state(
            registry.clone(),
            preview::route_by_host,
        ))
        .with_state(registry)
}

#[cfg(test)]
mod tests {
    use super::reachable_by_others;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_private_folder_on_the_way_makes_the_data_folder_unreachable() {
        let top = tempfile::tempdir().unwrap();
        let data = top.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(!reachable_by_others(&data));
        assert!(!reachable_by_others(&data.join("not-made-yet")));
        std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(reachable_by_others(&data));
    }
}
