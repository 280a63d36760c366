//! Helpers every server function uses: the app state, the HTTP status of an
//! error, and logging internal causes instead of sending them.

use std::{fmt::Display, future::Future};

use leptos::prelude::use_context;

use super::{state::AppState, store::StoreError};
use crate::error::AppError;

tokio::task_local! {
    /// The state a server function started with (see [`respond`]).
    static STARTED_WITH: AppState;
}

/// The app's shared state, provided to every request.
pub fn state() -> Result<AppState, AppError> {
    provided_state().ok_or_else(|| internal("AppState is not provided"))
}

/// [`state`], where its absence is not an error.
pub fn provided_state() -> Option<AppState> {
    STARTED_WITH
        .try_with(AppState::clone)
        .ok()
        .or_else(use_context::<AppState>)
}

/// Logs an internal failure and turns it into the generic wire error.
pub fn internal(error: impl Display) -> AppError {
    tracing::error!(%error, "internal error");
    AppError::Internal
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        internal(error)
    }
}

/// Whether the request is a plain HTML form post (JavaScript off, or the page
/// not hydrated yet): such a post gets a redirect back to its page, with the
/// error in the URL for the form to show, never a bare JSON error.
pub fn is_native_form_post() -> bool {
    use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Runs a server function's body and answers an error with its HTTP status
/// (401, 404, 429…) instead of the generic 500.
///
/// The body keeps the state it started with. Leptos' contexts live as long as
/// the page render that called: when the browser leaves a page mid-render
/// (a form posted before the page finished streaming), a resource's call
/// still runs to its end, and past its first `.await` its contexts are gone.
pub async fn respond<T>(body: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    let result = match use_context::<AppState>() {
        Some(state) => STARTED_WITH.scope(state, body).await,
        None => body.await,
    };
    if let (Err(error), false) = (&result, is_native_form_post()) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            let status = axum::http::StatusCode::from_u16(error.status())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            response.set_status(status);
            if let AppError::RateLimited { retry_after_secs } = error {
                if let Ok(value) = axum::http::HeaderValue::from_str(&retry_after_secs.to_string())
                {
                    response.insert_header(axum::http::header::RETRY_AFTER, value);
                }
            }
        }
    }
    result
}
