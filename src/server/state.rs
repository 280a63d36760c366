use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::{
    config::Config, http::guard::Limiter, sandbox::SandboxClient, sessions::Sessions, store::Store,
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
        }
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
