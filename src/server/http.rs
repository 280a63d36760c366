//! The HTTP layer: the axum router (pages, server functions, health, static
//! files) and serving it until a shutdown signal.

mod asset_cache;
mod attachments;
mod event_stream;
pub mod guard;
mod healthz;
mod import;
mod shutdown;
mod terminal;
mod training_jobs;
mod version_zip;

use std::{net::SocketAddr, sync::OnceLock, time::Duration};

use axum::{
    extract::DefaultBodyLimit,
    http::{header, HeaderValue},
    middleware,
    routing::{get, post},
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::{
    compression::{
        predicate::{NotForContentType, Predicate, SizeAbove},
        CompressionLayer,
    },
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

pub use import::ROUTE as IMPORT_ROUTE;
pub use shutdown::signal as shutdown_signal;

use super::{site::Pages, state::AppState};

/// How long requests in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

const HEALTHZ: &str = "/healthz";

/// Routes axum serves itself, beside the Leptos pages and server functions
/// (`:id` marks a project's id, or under `/api/versions/` a version's,
/// under `/api/training-jobs/` a training run's and under
/// `/api/attachments/` an attachment's).
pub const EXTRA_ROUTES: [&str; 9] = [
    HEALTHZ,
    import::ROUTE,
    terminal::ROUTE,
    attachments::ROUTE,
    attachments::ONE_ROUTE,
    event_stream::ROUTE,
    version_zip::ROUTE,
    training_jobs::JOB_ROUTE,
    training_jobs::PROJECT_ROUTE,
];

/// The app's page routes, worked out once per process. Leptos finds them by
/// rendering the app with resource loading switched off, and that switch is
/// process-wide (leptos issue #4773): generating the list while another
/// router renders a page could leave that page's resources never loading.
/// Doing it once, before any router exists, rules that out (it matters where
/// several apps share a process, as in the tests).
pub fn page_routes(pages: &Pages) -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(pages.routes).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = page_routes(&state.pages);
    let options = state.leptos_options.clone();
    let shell = state.pages.shell;
    // Static assets (WASM, JS, CSS) are compressed; HTML is not, so that
    // streamed pages reach the browser as soon as each part is ready.
    let compress = SizeAbove::new(1024).and(NotForContentType::new("text/html"));
    Router::new()
        .route(HEALTHZ, get(healthz::healthz))
        .route(
            &event_stream::ROUTE.replace(":id", "{id}"),
            get(event_stream::project_events),
        )
        .route(
            &version_zip::ROUTE.replace(":id", "{id}"),
            get(version_zip::version_zip),
        )
        .route(
            &terminal::ROUTE.replace(":id", "{id}"),
            get(terminal::terminal),
        )
        .route(
            import::ROUTE,
            post(import::import).layer(DefaultBodyLimit::max(import::BODY_LIMIT)),
        )
        .route(
            attachments::ROUTE,
            get(attachments::staged).post(attachments::upload),
        )
        .route(
            &attachments::ONE_ROUTE.replace(":id", "{id}"),
            get(attachments::download).delete(attachments::remove),
        )
        .route(
            &training_jobs::JOB_ROUTE.replace(":id", "{id}"),
            get(training_jobs::training_job),
        )
        .route(
            &training_jobs::PROJECT_ROUTE.replace(":id", "{id}"),
            get(training_jobs::project_training_jobs),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            shell,
        ))
        // Inner to outer: the rate limit reads the session the session layer
        // loads; cross-site requests are refused before anything else runs.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::rate_limit,
        ))
        .layer(state.sessions.layer(state.config.https()))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::require_same_origin,
        ))
        .layer(CompressionLayer::new().compress_when(compress))
        // No page of the app may be framed (previews are framed, from their
        // own origin; the app never is).
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // Outside the compression: /pkg/* is compressed once, at the best
        // level, and kept.
        .layer(middleware::from_fn_with_state(
            asset_cache::AssetCache::new(state.leptos_options.site_root.as_ref()),
            asset_cache::keep_compressed,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the app on `listener` until `shutdown` completes, then lets the
/// requests in flight finish, for at most [`SHUTDOWN_GRACE`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
    let graceful = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing the requests in flight");
        let _ = stopping_tx.send(true);
    };
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(graceful);
    let give_up = async move {
        if stopping_rx.wait_for(|stopping| *stopping).await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result,
        () = give_up => {
            tracing::warn!("requests still open after {SHUTDOWN_GRACE:?}; stopping anyway");
            Ok(())
        }
    }
}
