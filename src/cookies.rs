//! Cookies the server reads while it renders a page (both builds hold the
//! names; only the server reads requests).

/// The short-lived cookie that carries what a refused plain form post had
/// typed back to its page (`server::request::back_with_typed`).
pub const TYPED: &str = "ollio_typed";

/// The value of the cookie `name` in the request being rendered.
#[cfg(feature = "ssr")]
pub fn from_request(name: &str) -> Option<String> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|header| value_in(header, name))
}

/// The value of the cookie `name` in a `Cookie` header value.
pub fn value_in(header: &str, name: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}
