use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::{config::Config, http::guard::Limiter, sessions::Sessions, store::Store};

/// Everything a request handler or server function may need, built once per
/// app (and once per test), never global.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub config: Arc<Config>,
    pub sessions: Sessions,
    pub limiter: Arc<Limiter>,
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
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
