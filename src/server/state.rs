use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::{
    agent::{events::EventHub, worker::Workers},
    config::Config,
    http::guard::Limiter,
    previews::StartLocks,
    sandbox::SandboxClient,
    secrets::SecretBox,
    sessions::Sessions,
    store::Store,
};

/// Everything a request handler or server function may need, built once per
/// app (and once per test), never global.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub config: Arc<Config>,
    pub sessions: Sessions,
    pub limiter: Arc<Limiter>,
    /// Where sandboxes run; `None` until one is configured (tests of other
    /// parts leave it out).
    pub sandbox: Option<SandboxAccess>,
    /// This process's turn workers (possibly none of its own: `OLLIO_WORKERS=0`
    /// still queues and stops turns); `None` where turns are not set up.
    pub workers: Option<Workers>,
    /// Wakes project event streams; the workers' engine shares it.
    pub hub: EventHub,
    /// Seals users' provider keys; `None` where keys cannot be saved.
    pub secrets: Option<SecretBox>,
    /// Keeps two requests from starting the same preview twice.
    pub preview_starts: StartLocks,
}

/// The sandbox backend as the app uses it.
#[derive(Clone)]
pub struct SandboxAccess {
    pub client: SandboxClient,
    /// `false` when the bundled daemon runs with `--unsafe-no-isolation`:
    /// every page then says so.
    pub isolated: bool,
}

impl AppState {
    pub fn new(
        config: Config,
        leptos_options: LeptosOptions,
        store: Store,
        sessions: Sessions,
    ) -> Self {
        let limiter = super::http::guard::limiter(config.rate_limit_per_minute);
        Self {
            leptos_options,
            store,
            config: Arc::new(config),
            sessions,
            limiter,
            sandbox: None,
            workers: None,
            hub: EventHub::default(),
            secrets: None,
            preview_starts: StartLocks::default(),
        }
    }

    pub fn with_secrets(mut self, secrets: SecretBox) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// Adds the turn workers; their engine's hub becomes the app's.
    pub fn with_workers(mut self, workers: Workers) -> Self {
        self.hub = workers.engine().hub.clone();
        self.workers = Some(workers);
        self
    }

    pub fn with_sandbox(mut self, client: SandboxClient, isolated: bool) -> Self {
        self.sandbox = Some(SandboxAccess { client, isolated });
        self
    }

    /// Whether sandboxes run without isolation.
    pub fn sandbox_unisolated(&self) -> bool {
        self.sandbox.as_ref().is_some_and(|access| !access.isolated)
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
