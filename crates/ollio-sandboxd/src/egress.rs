//! Outbound access to package registries, and nothing else, for sandboxes
//! when `OLLIO_SANDBOX_NETWORK=registries`. A sandbox still has no network of
//! its own: its guest agent listens on `127.0.0.1:3128` inside and carries
//! each connection over a unix socket to this HTTPS proxy on the host, which
//! accepts only `CONNECT` to the allowed hosts on port 443. Commands find it
//! through `HTTPS_PROXY`, which npm, pip, cargo and curl all honour.

use std::{path::Path, sync::Arc, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpStream, UnixListener, UnixStream},
};

/// The port the proxy has inside every sandbox.
pub const PROXY_PORT: u16 = 3128;
/// The socket's name in the sandbox's run folder.
pub const SOCKET_NAME: &str = "egress.sock";

/// Connections one sandbox may hold open through the proxy at once; more
/// wait for one to close.
const MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send its `CONNECT` line and headers.
const HEAD_PATIENCE: Duration = Duration::from_secs(10);

/// Hosts reachable by default: the registries of npm, PyPI, crates.io and Debian.
pub const DEFAULT_REGISTRIES: &[&str] = &[
    "registry.npmjs.org",
    "registry.yarnpkg.com",
    "pypi.org",
    "files.pythonhosted.org",
    "crates.io",
    "index.crates.io",
    "static.crates.io",
    "deb.debian.org",
    "security.debian.org",
];

/// Which outside hosts sandboxes may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    None,
    /// HTTPS to these hosts only.
    Registries(Vec<String>),
}

/// The proxy of one sandbox; stops when dropped.
pub struct EgressProxy {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EgressProxy {
    /// Listens on `run_dir/egress.sock`, which only the sandbox's own uid
    /// (`owner`, or without one the daemon's, which its sandboxes then
    /// share) may use: mode 0600.
    pub fn start(
        run_dir: &Path,
        allowed: Vec<String>,
        owner: Option<u32>,
    ) -> std::io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let path = run_dir.join(SOCKET_NAME);
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        if let Some(uid) = owner {
            std::os::unix::fs::chown(&path, Some(uid), Some(uid))?;
        }
        let allowed = Arc::new(allowed);
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        let task = tokio::spawn(async move {
            loop {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        tracing::warn!(%error, "registry proxy: accepting a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let allowed = allowed.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, &allowed).await;
                    drop(slot);
                });
            }
        });
        Ok(Self { task })
    }
}

async fn serve(mut client: UnixStream, allowed: &[String]) -> std::io::Result<()> {
    let head = match tokio::time::timeout(HEAD_PATIENCE, read_head(&mut client)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Err(error)) => return Err(error),
        Ok(Ok(None)) | Err(_) => return Ok(()),
    };
    let target = match parse_connect(&head) {
        Some((host, 443)) if allowed.iter().any(|name| name.eq_ignore_ascii_case(host)) => {
            format!("{host}:443")
        }
        Some((host, port)) => {
            return refuse(
                &mut client,
                &format!("{host}:{port} is not a package registry this sandbox may reach"),
            )
            .await;
        }
        None => {
            return refuse(
                &mut client,
                "only HTTPS (CONNECT) to package registries is allowed from sandboxes",
            )
            .await;
        }
    };
    let upstream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(&target)).await;
    match upstream {
        Ok(Ok(mut upstream)) => {
            client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await?;
            tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
            Ok(())
        }
        _ => {
            client
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                .await
        }
    }
}

async fn refuse(client: &mut UnixStream, why: &str) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{why}",
        why.len()
    );
    client.write_all(response.as_bytes()).await
}

/// The request head, up to the blank line (at most 8 KB).
async fn read_head(client: &mut UnixStream) -> std::io::Result<Option<String>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 || client.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    Ok(Some(String::from_utf8_lossy(&head).into_owned()))
}

/// `CONNECT host:port HTTP/1.1` → (host, port).
fn parse_connect(head: &str) -> Option<(&str, u16)> {
    let line = head.lines().next()?;
    let mut parts = line.split_whitespace();
    if parts.next()? != "CONNECT" {
        return None;
    }
    let (host, port) = parts.next()?.rsplit_once(':')?;
    Some((host, port.parse().ok()?))
}

/// The guest's side: carries connections to `127.0.0.1:3128` inside the
/// sandbox over the unix socket to the host's proxy.
pub async fn relay_from_inside(socket: std::path::PathBuf) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", PROXY_PORT)).await?;
    loop {
        let mut inside = match listener.accept().await {
            Ok((inside, _)) => inside,
            Err(error) => {
                eprintln!("ollio guest: registry proxy: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let socket = socket.clone();
        tokio::spawn(async move {
            if let Ok(mut host) = UnixStream::connect(&socket).await {
                let _ = tokio::io::copy_bidirectional(&mut inside, &mut host).await;
            }
        });
    }
}

/// What a sandbox without network is told when a command asks the proxy
/// for a registry: npm and pip print the reason phrase.
pub const REFUSAL: &str = "Package registries are off (OLLIO_SANDBOX_NETWORK=none)";

/// Inside a sandbox without network (`OLLIO_SANDBOX_NETWORK=none`): answers
/// every proxy request with [`REFUSAL`], so an install fails saying why
/// instead of with a bare connection error.
pub async fn refuse_inside() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", PROXY_PORT)).await?;
    loop {
        let Ok((mut inside, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        tokio::spawn(async move {
            let mut head = vec![0u8; 4096];
            let _ = tokio::time::timeout(HEAD_PATIENCE, inside.read(&mut head)).await;
            let body = "This sandbox has no network. Set OLLIO_SANDBOX_NETWORK=registries for the server to let sandboxes install packages.\n";
            let reply = format!(
                "HTTP/1.1 403 {REFUSAL}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = inside.write_all(reply.as_bytes()).await;
            let _ = inside.shutdown().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connect_requests_name_a_target() {
        assert_eq!(
            parse_connect("CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443\r\n\r\n"),
            Some(("pypi.org", 443))
        );
        assert_eq!(parse_connect("GET http://pypi.org/ HTTP/1.1\r\n\r\n"), None);
        assert_eq!(parse_connect("CONNECT pypi.org HTTP/1.1\r\n\r\n"), None);
    }
}
