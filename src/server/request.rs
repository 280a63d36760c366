//! Helpers every server function uses: the app state, the HTTP status of an
//! error, logging internal causes instead of sending them, and sending a
//! refused plain form post back to its form with what was typed.

use std::{fmt::Display, future::Future};

use leptos::prelude::use_context;

use ollio_store::StoreError;

use super::state::AppState;
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

/// The short-lived cookie that carries what a refused plain form post had
/// typed back to its page (see [`back_with_typed`]).
pub const TYPED_COOKIE: &str = "ollio_typed";
/// How long it lives: long enough for the redirect, no longer.
const TYPED_SECONDS: u32 = 60;

/// Sends a refused plain form post back to its page, as Leptos does (the
/// error in `__path`/`__err`, which the page's `ServerAction` reads), and
/// with what was typed: `typed` pairs go in a short-lived HttpOnly cookie
/// for that page alone ([`TYPED_COOKIE`]), never in the address, which
/// request logs and the browser's history keep. Never pass passwords or keys.
pub fn back_with_typed(error: &AppError, typed: &[(&str, &str)]) {
    use leptos::server_fn::error::ServerFnUrlError;

    if !is_native_form_post() {
        return;
    }
    let Some(parts) = use_context::<axum::http::request::Parts>() else {
        return;
    };
    let Some(referer) = parts
        .headers
        .get(axum::http::header::REFERER)
        .and_then(|referer| referer.to_str().ok())
    else {
        return;
    };
    // Leptos' own encoding of the error, taken from its URL.
    let Some(error_query) = ServerFnUrlError::new(parts.uri.path(), error.clone())
        .to_url("http://ollio.invalid/")
        .ok()
        .and_then(|url| url.query().map(str::to_owned))
    else {
        return;
    };
    let Some((path, location)) = back_location(referer, typed, &error_query) else {
        return;
    };
    if !typed.is_empty() {
        let secure = provided_state().is_some_and(|state| state.config.https());
        if let (Some(options), Ok(cookie)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            axum::http::HeaderValue::from_str(&typed_cookie(&path, typed, secure)),
        ) {
            options.append_header(axum::http::header::SET_COOKIE, cookie);
        }
    }
    leptos_axum::redirect(&location);
}

/// The [`TYPED_COOKIE`] that hands `typed` to the page at `path` (the
/// page reads it with `app::forms::typed`).
pub fn typed_cookie(path: &str, typed: &[(&str, &str)], secure: bool) -> String {
    let value: Vec<String> = typed
        .iter()
        .map(|(name, value)| format!("{name}={}", ollio_domain::encode_query_value(value)))
        .collect();
    format!(
        "{TYPED_COOKIE}={}; Path={path}; Max-Age={TYPED_SECONDS}; HttpOnly; SameSite=Lax{}",
        value.join("&"),
        if secure { "; Secure" } else { "" }
    )
}

/// A `Set-Cookie` that drops the [`TYPED_COOKIE`] of the page at `path`:
/// what it handed back was dealt with (a refused import that now went in).
pub fn typed_cookie_cleared(path: &str, secure: bool) -> String {
    format!(
        "{TYPED_COOKIE}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The path of `referer` (on whatever host: only the path is kept), and its
/// address again without earlier errors or typed values, with
/// `error_query`. `None` for a referer that is not an absolute http(s) URL.
fn back_location(
    referer: &str,
    typed: &[(&str, &str)],
    error_query: &str,
) -> Option<(String, String)> {
    let rest = referer
        .strip_prefix("http://")
        .or_else(|| referer.strip_prefix("https://"))?;
    let page = &rest[rest.find('/')?..];
    let page = page.split_once('#').map_or(page, |(page, _)| page);
    let (path, query) = page.split_once('?').unwrap_or((page, ""));
    // `//host` would leave for another site; a cookie path has no `;`.
    if path.starts_with("//") || path.starts_with("/\\") || path.contains([';', ',', ' ']) {
        return None;
    }
    let replaced = |pair: &&str| {
        let key = pair.split_once('=').map_or(*pair, |(key, _)| key);
        key == "__path" || key == "__err" || typed.iter().any(|(name, _)| *name == key)
    };
    let pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !replaced(pair))
        .map(str::to_owned)
        .chain(std::iter::once(error_query.to_owned()))
        .collect();
    Some((path.to_owned(), format!("{path}?{}", pairs.join("&"))))
}

#[cfg(test)]
mod tests {
    use super::back_location;

    fn location(referer: &str, typed: &[(&str, &str)], error: &str) -> Option<String> {
        back_location(referer, typed, error).map(|(_, location)| location)
    }

    #[test]
    fn a_refused_post_goes_back_without_what_was_typed_in_the_address() {
        let back = back_location(
            "http://127.0.0.1:3000/login?next=%2Fprojects&email=old%40x.org&__path=/api/login&__err=AAA#top",
            &[("email", "ada lovelace@example.com")],
            "__path=%2Fapi%2Flogin&__err=BBB",
        );
        assert_eq!(
            back,
            Some((
                "/login".to_owned(),
                "/login?next=%2Fprojects&__path=%2Fapi%2Flogin&__err=BBB".to_owned()
            ))
        );
    }

    #[test]
    fn only_the_path_of_the_referer_is_kept() {
        assert_eq!(
            location("https://elsewhere.example/?x=1", &[], "__err=C").as_deref(),
            Some("/?x=1&__err=C")
        );
        for refused in [
            "/relative",
            "javascript:alert(1)",
            "http://host-without-path",
            "http://a//evil.example/",
            "http://a/\\evil.example/",
            "http://a/x;Domain=evil.example",
        ] {
            assert_eq!(location(refused, &[], "__err=C"), None, "{refused}");
        }
    }
}
