//! Previews: every sandbox port on an origin of its own,
//! `{port}-{id}.{domain}`, routed by the Host header as E2B's proxy does.
//! Requests (WebSocket upgrades included) travel over the sandbox's unix
//! socket to its guest agent, which connects to `127.0.0.1:{port}` inside
//! the sandbox's network namespace: the sandbox needs no network of its own,
//! and nothing on the host is reachable from it.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use hyper_util::rt::TokioIo;

use super::{guest_protocol::ErrorKind, jail::Isolation, registry::Registry, DaemonConfig};
use ollio_sandbox::wire::ENVD_PORT;

/// The sandbox named by an envd host (`49983-{id}.…`).
#[derive(Debug, Clone)]
pub struct HostSandbox(pub String);

/// The domain under which previews are served.
pub fn preview_domain_of(config: &DaemonConfig) -> String {
    config
        .preview_domain
        .clone()
        .unwrap_or_else(|| format!("localhost:{}", config.addr.port()))
}

/// Splits a `{port}-{id}.{domain}` host into port and sandbox id. The host
/// must end with the daemon's own domain (ports included, case ignored):
/// `3000-abc.anything-else` names no sandbox.
pub fn parse_host<'a>(host: &'a str, domain: &str) -> Option<(u16, &'a str)> {
    let cut = host.len().checked_sub(domain.len() + 1)?;
    let (label, rest) = (host.get(..cut)?, host.get(cut..)?);
    if !rest.starts_with('.') || !rest[1..].eq_ignore_ascii_case(domain) || label.contains('.') {
        return None;
    }
    let (port, id) = label.split_once('-')?;
    let port = port.parse().ok()?;
    let valid_id = !id.is_empty()
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit());
    valid_id.then_some((port, id))
}

/// Sends preview hosts to the sandbox and envd hosts to the envd routes;
/// everything else goes on to the API.
pub async fn route_by_host(
    State(registry): State<Arc<Registry>>,
    mut request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().host().map(str::to_owned))
        .unwrap_or_default();
    let domain = preview_domain_of(registry.config());
    match parse_host(&host, &domain) {
        Some((ENVD_PORT, id)) => {
            request.extensions_mut().insert(HostSandbox(id.to_owned()));
            next.run(request).await
        }
        Some((port, id)) => {
            if super::preview_cors::is_preflight(&request) {
                return super::preview_cors::preflight(&request);
            }
            let id = id.to_owned();
            // Pages come uncompressed, so the error reporter can go in.
            request.headers_mut().remove(header::ACCEPT_ENCODING);
            let mut response = proxy(&registry, port, &id, request).await;
            keep_own_cookies(&mut response, host.split(':').next().unwrap_or_default());
            super::preview_cors::allow_any_origin(&mut response);
            let unsafe_mode = registry.config().isolation == Isolation::None;
            marked(response, unsafe_mode).await
        }
        None => next.run(request).await,
    }
}

async fn proxy(registry: &Registry, port: u16, id: &str, mut request: Request) -> Response {
    let unsafe_mode = registry.config().isolation == Isolation::None;
    let Some(sandbox) = registry.get(id) else {
        return page(
            StatusCode::NOT_FOUND,
            "This preview went to sleep",
            "The sandbox behind this address has ended. Open the project in Ollio to start it again.",
            false,
            unsafe_mode,
        );
    };
    let stream = match sandbox.link.forward(port).await {
        Ok(stream) => stream,
        Err(failure) if failure.kind() == Some(ErrorKind::Refused) => {
            return page(
                StatusCode::BAD_GATEWAY,
                "This app isn't running yet",
                &format!("Nothing answers on port {port} in this sandbox yet. This page checks again every few seconds."),
                true,
                unsafe_mode,
            );
        }
        Err(failure) => {
            tracing::warn!(sandbox = %id, %failure, "preview connection failed");
            return page(
                StatusCode::BAD_GATEWAY,
                "This preview is not reachable",
                "The sandbox did not answer. It may be restarting; try again in a moment.",
                true,
                unsafe_mode,
            );
        }
    };
    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake::<_, Body>(TokioIo::new(stream)).await {
            Ok(parts) => parts,
            Err(error) => return broken(&error),
        };
    tokio::spawn(async move {
        let _ = connection.with_upgrades().await;
    });
    let wants_upgrade = request.headers().contains_key(header::UPGRADE);
    let client_upgrade = wants_upgrade.then(|| hyper::upgrade::on(&mut request));
    let mut response = match sender.send_request(request).await {
        Ok(response) => response,
        Err(error) => return broken(&error),
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Some(client_upgrade) = client_upgrade {
            let server_upgrade = hyper::upgrade::on(&mut response);
            tokio::spawn(async move {
                if let (Ok(client), Ok(server)) = tokio::join!(client_upgrade, server_upgrade) {
                    let _ = tokio::io::copy_bidirectional(
                        &mut TokioIo::new(client),
                        &mut TokioIo::new(server),
                    )
                    .await;
                }
            });
        }
    }
    response.map(Body::new)
}

/// Drops every `Set-Cookie` of a preview answer whose `Domain` is not the
/// preview's own host: an app in a sandbox may set cookies for itself, never
/// for its parent domain, where they would reach other previews (or, were
/// previews a subdomain of the app, the app itself).
pub fn keep_own_cookies(response: &mut Response, own_host: &str) {
    let headers = response.headers_mut();
    let kept: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter(|value| cookie_stays_home(value.to_str().unwrap_or(""), own_host))
        .cloned()
        .collect();
    if kept.len() == headers.get_all(header::SET_COOKIE).iter().count() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for value in kept {
        headers.append(header::SET_COOKIE, value);
    }
}

/// Whether a `Set-Cookie` value has no `Domain`, or the preview's own host.
fn cookie_stays_home(cookie: &str, own_host: &str) -> bool {
    cookie.split(';').skip(1).all(|attribute| {
        let (name, value) = attribute.split_once('=').unwrap_or((attribute, ""));
        !name.trim().eq_ignore_ascii_case("domain")
            || value
                .trim()
                .trim_start_matches('.')
                .eq_ignore_ascii_case(own_host)
    })
}

const WARNING: &str = "this sandbox is not isolated";
const BANNER: &str = r#"<div role="alert" style="position:sticky;top:0;z-index:2147483647;padding:6px 12px;background:#8a4b00;color:#fff;font:600 14px/1.4 system-ui,sans-serif;text-align:center">Warning: this preview runs without isolation (--unsafe-no-isolation).</div>"#;

/// A preview answer as the browser gets it: an HTML page with the error
/// reporter in it (see `preview_reporter`); from a sandbox without
/// isolation, a warning header on every answer and a banner atop pages.
async fn marked(response: Response, unsafe_mode: bool) -> Response {
    let mut response = if super::preview_reporter::takes_reporter(&response) {
        let banner = unsafe_mode.then_some(BANNER);
        match super::preview_reporter::with_reporter(response, banner).await {
            Ok(page) => page,
            Err(()) => page(
                StatusCode::BAD_GATEWAY,
                "This page is too large to preview here",
                "Previews of HTML pages over 8 MB are not shown.",
                false,
                unsafe_mode,
            ),
        }
    } else {
        response
    };
    if unsafe_mode {
        response
            .headers_mut()
            .insert("x-ollio-warning", HeaderValue::from_static(WARNING));
    }
    response
}

fn broken(error: &hyper::Error) -> Response {
    page(
        StatusCode::BAD_GATEWAY,
        "The app closed the connection",
        &format!("The app in the sandbox did not answer properly ({error})."),
        true,
        false,
    )
}

/// A small page of our own on the preview's origin, in the visitor's theme.
fn page(status: StatusCode, title: &str, text: &str, retry: bool, unsafe_mode: bool) -> Response {
    let refresh = if retry {
        r#"<meta http-equiv="refresh" content="3">"#
    } else {
        ""
    };
    let warning = if unsafe_mode {
        r#"<p class="warning" role="alert">Warning: sandboxes on this server are not isolated (--unsafe-no-isolation).</p>"#
    } else {
        ""
    };
    let body = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{refresh}<title>{title}</title><style>
:root{{color-scheme:light dark;--bg:#f8f9fb;--fg:#1d2330;--muted:#5b6475;--warn:#8a4b00}}
@media (prefers-color-scheme:dark){{:root{{--bg:#12151c;--fg:#e8ebf2;--muted:#a3abbb;--warn:#ffb454}}}}
body{{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,sans-serif}}
main{{max-width:28rem;padding:2rem;text-align:center}}h1{{font-size:1.35rem;margin:0 0 .5rem}}p{{color:var(--muted);margin:0}}.warning{{color:var(--warn);margin-top:1rem}}
</style></head><body><main><h1>{title}</h1><p>{text}</p>{warning}</main></body></html>"#,
        title = escape(title),
        text = escape(text),
    );
    let mut response = (status, Html(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_name_a_port_and_a_sandbox_under_the_domain() {
        let local = "localhost:49983";
        assert_eq!(
            parse_host("3000-iabc123.localhost:49983", local),
            Some((3000, "iabc123"))
        );
        assert_eq!(
            parse_host("3000-iabc123.LOCALHOST:49983", local),
            Some((3000, "iabc123"))
        );
        assert_eq!(
            parse_host("49983-iabc.e2b.app", "e2b.app"),
            Some((49983, "iabc"))
        );
        for host in [
            "127.0.0.1:49983",
            "localhost:49983",
            "3000-ABC.localhost:49983",
            "3000-abc",
            "x-abc.localhost:49983",
            // Not under the daemon's domain.
            "3000-abc.evil.example",
            "3000-abc.localhost:1234",
            "3000-abc.notlocalhost:49983",
            "3000-abc.x.localhost:49983",
        ] {
            assert_eq!(parse_host(host, local), None, "{host}");
        }
    }

    #[test]
    fn a_preview_keeps_only_cookies_for_itself() {
        let own = "3000-abc.previews.example";
        let mut response = Response::new(Body::empty());
        for cookie in [
            "a=1; Path=/",
            "b=2; Domain=3000-abc.previews.example; Secure",
            "c=3; domain=.3000-ABC.previews.example",
            "d=4; Domain=previews.example",
            "e=5; Path=/; Domain=example",
            "__Host-ollio_session=x; Domain=ollio.example",
        ] {
            response
                .headers_mut()
                .append(header::SET_COOKIE, HeaderValue::from_static(cookie));
        }
        keep_own_cookies(&mut response, own);
        let kept: Vec<_> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|value| {
                value
                    .to_str()
                    .unwrap()
                    .split('=')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(kept, ["a", "b", "c"]);
    }
}
