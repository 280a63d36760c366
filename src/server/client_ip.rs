//! The address a request came from: the connection's peer, or, behind a
//! reverse proxy that is trusted (`OLLIO_TRUST_PROXY`), the first address in
//! `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::ConnectInfo,
    http::{request::Parts, Extensions, HeaderMap},
};
use leptos::prelude::use_context;

pub fn from_request(
    headers: &HeaderMap,
    extensions: &Extensions,
    trust_proxy: bool,
) -> Option<IpAddr> {
    if trust_proxy {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .and_then(|first| first.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The address of the request being handled by a server function.
pub fn current() -> Option<IpAddr> {
    let parts = use_context::<Parts>()?;
    let trust_proxy =
        super::request::provided_state().is_some_and(|state| state.config.trust_proxy);
    from_request(&parts.headers, &parts.extensions, trust_proxy)
}
