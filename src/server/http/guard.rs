//! Request guards in front of the server functions: same-origin only, and a
//! per-user rate limit.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use governor::clock::Clock;
use tower_sessions::Session;

use crate::{
    error::AppError,
    server::{auth, client_ip, state::AppState},
};

/// An error as the JSON body the server functions answer with, under its
/// HTTP status.
pub(super) fn error_response(error: &AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(error)).into_response();
    if let AppError::RateLimited { retry_after_secs } = error {
        if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// An axum route's answer: `ok` of what `work` gave, or the error's status
/// and message.
pub(super) async fn respond<T>(
    work: impl std::future::Future<Output = Result<T, AppError>>,
    ok: impl FnOnce(T) -> Response,
) -> Response {
    match work.await {
        Ok(value) => ok(value),
        Err(error) => error_response(&error),
    }
}

/// The signed-in user of an axum route's request, or 401.
pub(super) async fn signed_in(
    state: &AppState,
    session: &Session,
) -> Result<ollio_domain::UserId, AppError> {
    Ok(crate::server::auth::session_user(&state.store, session)
        .await?
        .ok_or(AppError::Unauthorized)?
        .id)
}

/// Whether a request that changes state comes from a page of this app. Browsers
/// send `Origin` on such requests, and `Sec-Fetch-Site` where they support it;
/// clients that send neither (scripts, curl) carry no one's cookies.
fn same_origin(request: &Request<Body>, public_url: Option<&str>) -> bool {
    same_origin_headers(request.headers(), public_url, false)
}

/// Whether a WebSocket's upgrade comes from a page of this app. Browsers
/// always send `Origin` with one, and cookies ride along whatever the page,
/// so it must be there and be ours.
pub(super) fn websocket_from_here(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    same_origin_headers(headers, public_url, true)
}

fn same_origin_headers(headers: &HeaderMap, public_url: Option<&str>, required: bool) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return !required;
    };
    let origin_host = origin.split_once("://").map_or("", |(_, host)| host);
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let public_host = public_url
        .and_then(|url| url.split_once("://"))
        .map(|(_, host)| host);
    origin_host == host || Some(origin_host) == public_host
}

/// Refuses state-changing requests from other sites with 403.
pub async fn require_same_origin(
    State(state): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && !same_origin(&request, state.config.public_url.as_deref()) {
        tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
        return error_response(&AppError::CrossSite);
    }
    next.run(request).await
}

/// Limits server-function calls per signed-in user, or per address when
/// signed out; over the limit answers 429 with `Retry-After`.
pub async fn rate_limit(
    State(state): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let user = match request.extensions().get::<Session>() {
        Some(session) => auth::session_user_id(session).await,
        None => None,
    };
    let key = match user {
        Some(user) => format!("user:{user}"),
        None => {
            let ip = client_ip::from_request(
                request.headers(),
                request.extensions(),
                &state.config.trusted_proxies,
            );
            format!("ip:{}", ip.map(|ip| ip.to_string()).unwrap_or_default())
        }
    };
    match state.limiter.check_key(&key) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            error_response(&AppError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(headers: &[(&str, &str)]) -> Request<Body> {
        let mut builder = Request::post("/api/login").header(header::HOST, "127.0.0.1:3000");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn tells_same_origin_from_cross_site() {
        assert!(same_origin(&post(&[]), None));
        assert!(same_origin(
            &post(&[("origin", "http://127.0.0.1:3000")]),
            None
        ));
        assert!(same_origin(
            &post(&[("sec-fetch-site", "same-origin")]),
            None
        ));
        assert!(!same_origin(
            &post(&[("origin", "http://evil.example")]),
            None
        ));
        assert!(!same_origin(
            &post(&[("origin", "http://3000-abc.localhost:49983")]),
            None
        ));
        assert!(!same_origin(
            &post(&[("sec-fetch-site", "cross-site")]),
            None
        ));
        // A preview origin on a sibling subdomain is same-site, not same-origin.
        assert!(!same_origin(
            &post(&[("sec-fetch-site", "same-site")]),
            None
        ));
        assert!(same_origin(
            &post(&[("origin", "https://ollio.example")]),
            Some("https://ollio.example")
        ));
    }
}
