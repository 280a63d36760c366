//! Cross-origin answers for the preview's sandboxed frame. Ollio shows a
//! preview in an `<iframe sandbox>` without `allow-same-origin`, so the
//! app's page has the opaque origin `null`. Its module scripts, fonts and
//! `fetch` calls to its own server are then cross-origin requests, and
//! Chromium first sends a preflight for them (the server is on a local
//! address). Dev servers answer those differently (Vite with `cors: true`
//! does, Streamlit's static files and most frameworks do not), so the
//! preview proxy answers them itself: a preflight gets a 204 that allows
//! the request, and an answer without `Access-Control-Allow-Origin` gets
//! `*`. No credentials are ever allowed, and each sandbox port is an origin
//! of its own, so this opens nothing beyond the sandbox's own app.

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::Response,
};

/// Whether `request` is a CORS preflight (`OPTIONS` with
/// `Access-Control-Request-Method`).
pub fn is_preflight(request: &Request) -> bool {
    request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight: whatever method and headers were asked for.
pub fn preflight(request: &Request) -> Response {
    let asked = request.headers();
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        echoed(asked, header::ACCESS_CONTROL_REQUEST_METHOD, "GET"),
    );
    if let Some(wanted) = asked.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, wanted.clone());
    }
    headers.insert(
        "access-control-allow-private-network",
        HeaderValue::from_static("true"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

fn echoed(asked: &HeaderMap, name: header::HeaderName, default: &'static str) -> HeaderValue {
    asked
        .get(name)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static(default))
}

/// Lets the frame read an answer its app did not mark as shareable.
pub fn allow_any_origin(response: &mut Response) {
    response
        .headers_mut()
        .entry(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .or_insert(HeaderValue::from_static("*"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preflight_is_allowed_and_an_answer_keeps_its_own_origin_rule() {
        let request = Request::builder()
            .method(Method::OPTIONS)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap();
        assert!(is_preflight(&request));
        let answer = preflight(&request);
        assert_eq!(answer.status(), StatusCode::NO_CONTENT);
        assert_eq!(answer.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(
            answer.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS],
            "content-type"
        );
        assert!(!answer
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));

        let plain = Request::builder()
            .method(Method::OPTIONS)
            .body(Body::empty())
            .unwrap();
        assert!(!is_preflight(&plain), "a plain OPTIONS goes to the app");

        let mut own = Response::new(Body::empty());
        own.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("https://example.com"),
        );
        allow_any_origin(&mut own);
        assert_eq!(
            own.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://example.com"
        );
        let mut bare = Response::new(Body::empty());
        allow_any_origin(&mut bare);
        assert_eq!(bare.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    }
}
