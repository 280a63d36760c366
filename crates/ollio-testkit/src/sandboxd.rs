//! The bundled sandbox daemon, started in-process on a free port with its
//! own data folder, and a client pointed at it.

use std::path::PathBuf;

use ollio_sandbox::{wire::NewSandbox, ApiKey, Envd, Sandbox, SandboxClient};
use ollio_sandboxd::{self as sandboxd, DaemonConfig, Limits, RunningDaemon};

pub struct TestDaemon {
    pub daemon: Option<RunningDaemon>,
    pub client: SandboxClient,
    pub key: ApiKey,
    pub data: tempfile::TempDir,
}

/// Limits small enough that tests of them stay cheap.
pub fn test_limits() -> Limits {
    Limits {
        memory_bytes: 256 << 20,
        processes: 128,
        cpus: 1.0,
        disk_bytes: 64 << 20,
        output_bytes: 1 << 20,
    }
}

/// Memory for a sandbox whose real app runs beside a build or a training
/// (Vite beside `tsc`, uvicorn beside scikit-learn): the daemon's own
/// default. Under [`test_limits`]' 256 MB the kernel kills one of them.
pub const APP_MEMORY: u64 = 1 << 30;

/// Where tests keep built templates: `OLLIO_TEMPLATE_CACHE` (the test
/// script's, outside the clone), or one folder in the temporary directory,
/// so each template is installed once per machine, not once per test.
pub fn template_cache() -> PathBuf {
    std::env::var_os("OLLIO_TEMPLATE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("ollio-test-templates"))
}

impl TestDaemon {
    /// A daemon whose sandboxes run `guest` as their agent: the test's own
    /// build of a binary with the `sandbox-guest` command
    /// (`env!("CARGO_BIN_EXE_ollio")`, or `…_ollio-sandboxd`).
    pub async fn start(guest: &str) -> Self {
        Self::start_with(guest, |_| {}).await
    }

    /// A daemon for tests of whole apps: the test limits, with the memory
    /// apps need ([`APP_MEMORY`]).
    pub async fn for_apps(guest: &str) -> Self {
        Self::start_with(guest, |config| config.limits.memory_bytes = APP_MEMORY).await
    }

    pub async fn start_with(guest: &str, adjust: impl FnOnce(&mut DaemonConfig)) -> Self {
        let data = tempfile::tempdir().expect("data folder");
        let key = ApiKey::generate();
        let mut config = DaemonConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            data.path().to_path_buf(),
            key.clone(),
        );
        config.guest_exe = PathBuf::from(guest);
        config.limits = test_limits();
        config.template_cache = Some(template_cache());
        // No warm pools unless a test asks: they would make sandboxes
        // in the background of every test.
        config.warm_per_template = 0;
        adjust(&mut config);
        let daemon = sandboxd::start(config).await.expect("sandboxd starts");
        let client = SandboxClient::new(daemon.endpoint.clone());
        Self {
            daemon: Some(daemon),
            client,
            key,
            data,
        }
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.daemon.as_ref().unwrap().addr
    }

    /// A new sandbox from `template` and its envd.
    pub async fn sandbox(&self, template: &str) -> (Sandbox, Envd) {
        let sandbox = self
            .client
            .create(&NewSandbox {
                template_id: template.into(),
                ..NewSandbox::default()
            })
            .await
            .expect("sandbox created");
        let envd = self.client.envd(&sandbox);
        (sandbox, envd)
    }

    /// Where a sandbox's home folder is on the host.
    /// The daemon's own answer, which is not under the data folder when
    /// a root daemon's data folder is closed to the sandboxes' uids.
    pub fn home_of(&self, id: &str) -> PathBuf {
        self.daemon
            .as_ref()
            .expect("a running daemon")
            .registry
            .config()
            .sandboxes_dir()
            .join(id)
            .join("home")
    }

    /// The page at the root of a sandbox port's preview.
    pub async fn preview_page(&self, sandbox_id: &str, port: u16) -> String {
        let (client, origin) = self.preview_client(sandbox_id, port);
        let response = client
            .get(&origin)
            .send()
            .await
            .expect("the preview answers");
        response.text().await.expect("a page")
    }

    /// An HTTP client that resolves `*.localhost` preview hosts to the daemon.
    pub fn preview_client(&self, sandbox_id: &str, port: u16) -> (reqwest::Client, String) {
        let host = format!("{port}-{sandbox_id}.localhost");
        let client = reqwest::Client::builder()
            .resolve(&host, self.addr())
            .build()
            .unwrap();
        (client, format!("http://{host}:{}", self.addr().port()))
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        // Kill the sandboxes even when a test failed halfway.
        if let Some(daemon) = self.daemon.take() {
            daemon.registry.kill_all_now();
        }
    }
}
