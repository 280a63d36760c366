//! The app's state: the one bag of shared parts every handler and server
//! function may use, built by `startup` once per app (once per test), never
//! global. Its parts are leaves: nothing here imports what uses it.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use ollio_agent::{
    code_index::CodeIndexes, embeddings::Embedder, event_log::EventHub, worker::Workers,
};
use ollio_sandbox::SandboxClient;
use ollio_store::{blobs::Blobs, secrets::SecretBox, Store};

use super::{
    budgets::Budgets,
    config::Config,
    preview_locks::StartLocks,
    rate_limit::{self, Limiter},
    sessions::Sessions,
    site::Pages,
    terminal_sessions::Terminals,
};

/// Everything a request handler or server function may need, built once per
/// app (and once per test), never global.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// The pages the router serves (the UI, handed in from above).
    pub pages: Pages,
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
    /// What one account may use at once or per hour.
    pub budgets: Budgets,
    /// Where versions' trained models are kept (the workers' engine's).
    pub blobs: Option<Blobs>,
    /// The Code tab's open terminals.
    pub terminals: Terminals,
    /// "Ask where…": versions' passages, indexed once (their vectors in
    /// the store).
    pub code_indexes: CodeIndexes,
    /// The embeddings model (`OLLIO_EMBEDDING_MODEL`), if one is set.
    pub embedder: Option<Embedder>,
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
        pages: Pages,
        store: Store,
        sessions: Sessions,
    ) -> Self {
        let limiter = rate_limit::limiter(config.rate_limit_per_minute);
        // The configuration checked the model's provider already.
        let embedder = config.agent.embedding_model.as_ref().and_then(|model| {
            Embedder::new(&config.agent, model)
                .inspect_err(|error| tracing::error!(%error, "OLLIO_EMBEDDING_MODEL is not used"))
                .ok()
        });
        let budgets = Budgets::new(
            config.streams_per_user,
            config.preview_starts_per_hour,
            config.restores_per_hour,
        );
        Self {
            leptos_options,
            pages,
            code_indexes: CodeIndexes::new(store.clone()),
            store,
            config: Arc::new(config),
            sessions,
            limiter,
            sandbox: None,
            workers: None,
            hub: EventHub::default(),
            secrets: None,
            preview_starts: StartLocks::default(),
            budgets,
            blobs: None,
            terminals: Terminals::default(),
            embedder,
        }
    }

    pub fn with_secrets(mut self, secrets: SecretBox) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// Adds the turn workers; their engine's hub becomes the app's.
    pub fn with_workers(mut self, workers: Workers) -> Self {
        self.hub = workers.engine().hub.clone();
        self.blobs = workers.engine().blobs.clone();
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
