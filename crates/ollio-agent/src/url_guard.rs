//! Keeps a user's own provider URL from reaching the server's network
//! (SSRF): the host is resolved and every address checked before each
//! request, and the HTTP client that sends it resolves through the same
//! check, so a name that resolves elsewhere between the two (DNS
//! rebinding) still cannot connect to a private address. Redirects are
//! not followed. The operator may allow private addresses
//! (`OLLIO_ALLOW_PRIVATE_MODEL_URLS=true`) for a model on the local network.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// What the operator sets to let users' URLs reach private addresses.
pub const ALLOW_VAR: &str = "OLLIO_ALLOW_PRIVATE_MODEL_URLS";

/// Whether `ip` is on the public internet: not loopback, private,
/// link-local (cloud metadata lives there), shared, reserved, multicast
/// or unspecified, nor an IPv6 form of one of those.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let segments = ip.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [.., a, b, c, d] = ip.octets();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                // Unique local fc00::/7 and link-local fe80::/10.
                || (segments[0] & 0xfe00) == 0xfc00
                || (segments[0] & 0xffc0) == 0xfe80
                // Documentation 2001:db8::/32.
                || (segments[0] == 0x2001 && segments[1] == 0x0db8))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT) 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // Benchmarking 198.18.0.0/15 and reserved 240.0.0.0/4.
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
        // IETF protocol assignments 192.0.0.0/24.
        || (a == 192 && b == 0 && ip.octets()[2] == 0))
}

/// Checks that `url`'s host resolves only to public addresses, unless
/// `allow_private`. The message says which address was refused and how
/// the operator can allow it.
pub async fn check(url: &str, allow_private: bool) -> Result<(), String> {
    if allow_private {
        return Ok(());
    }
    let parsed =
        reqwest::Url::parse(url).map_err(|error| format!("`{url}` is not a URL: {error}"))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("`{url}` has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs = resolve(&host, port).await?;
    refuse_private(&host, &addrs)
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let lookup = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((host, port)),
    )
    .await
    .map_err(|_| format!("{host} did not resolve in time"))?;
    let addrs: Vec<SocketAddr> = lookup
        .map_err(|error| format!("{host} does not resolve: {error}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} does not resolve to any address"));
    }
    Ok(addrs)
}

fn refuse_private(host: &str, addrs: &[SocketAddr]) -> Result<(), String> {
    match addrs.iter().find(|addr| !is_public(addr.ip())) {
        Some(addr) => Err(format!(
            "{host} is a private or loopback address ({ip}), which Ollio does not send model requests to. The server's operator can allow it with {ALLOW_VAR}=true, for a model on their own network.",
            ip = addr.ip()
        )),
        None => Ok(()),
    }
}

/// The guard's refusal, as it said it, in an error's `: `-separated
/// chain of causes (see `chat_provider::error_chain`).
pub fn refusal_in(chain: &str) -> Option<&str> {
    chain.rsplit(": ").find(|part| part.contains(ALLOW_VAR))
}

/// Resolves names for the guarded client, refusing private addresses at
/// connection time too.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve(&host, 0).await?;
            refuse_private(&host, &addrs)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client for users' own URLs: no redirects, no proxy from the
/// environment, and (unless `allow_private`) a resolver that refuses
/// private addresses.
pub fn client(allow_private: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    let builder = if allow_private {
        builder
    } else {
        builder.dns_resolver(Arc::new(PublicOnly))
    };
    builder.build().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.5",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} counts as public");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} counts as private");
        }
    }

    #[tokio::test]
    async fn a_url_to_a_private_address_is_refused_with_the_way_to_allow_it() {
        let refused = check("http://127.0.0.1:9/v1", false).await.unwrap_err();
        assert!(refused.contains("127.0.0.1"), "{refused}");
        assert!(refused.contains(ALLOW_VAR), "{refused}");
        assert!(check("http://[::1]:9/v1", false).await.is_err());
        // `localhost` resolves to loopback: refused by name too.
        assert!(check("http://localhost:9/v1", false).await.is_err());
        assert!(check("http://127.0.0.1:9/v1", true).await.is_ok());
    }

    #[tokio::test]
    async fn the_guarded_client_will_not_connect_to_a_private_name() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let error = client(false)
            .get(format!("http://localhost:{port}/v1/models"))
            .send()
            .await
            .unwrap_err();
        assert!(
            super::super::chat_provider::error_chain(&error).contains(ALLOW_VAR),
            "{error:?}"
        );
    }
}
