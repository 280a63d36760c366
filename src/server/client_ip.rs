//! The address a request came from: the connection's peer, or, behind
//! reverse proxies named by `OLLIO_TRUSTED_PROXIES`, the right-most hop of
//! `X-Forwarded-For` that is not one of them. The left-most entries are
//! whatever the client wrote; only what trusted proxies appended counts.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::ConnectInfo,
    http::{request::Parts, Extensions, HeaderMap},
};
use leptos::prelude::use_context;

/// Which proxies in front of the app may be believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TrustedProxies {
    /// None: the peer is the client (`X-Forwarded-For` is ignored).
    #[default]
    None,
    /// This many proxies, the peer among them.
    Count(usize),
    /// The proxies are the addresses in these networks.
    Networks(Vec<Network>),
}

impl TrustedProxies {
    /// `OLLIO_TRUSTED_PROXIES`: empty or `0`, a count (`1`), or networks
    /// (`10.0.0.0/8, 192.168.1.7, ::1/128`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw == "0" {
            return Ok(Self::None);
        }
        if let Ok(count) = raw.parse::<usize>() {
            return Ok(Self::Count(count));
        }
        raw.split(',')
            .map(|part| Network::parse(part.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self::Networks)
    }

    fn trusts(&self, position_from_right: usize, address: IpAddr) -> bool {
        match self {
            Self::None => false,
            Self::Count(count) => position_from_right < *count,
            Self::Networks(networks) => networks.iter().any(|net| net.contains(address)),
        }
    }
}

/// An address and a prefix length (`10.0.0.0/8`; a bare address is all of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(raw: &str) -> Result<Self, String> {
        let (address, prefix) = raw.split_once('/').unwrap_or((raw, ""));
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("`{raw}` is not a count, an address or a network"))?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            "" => bits,
            text => text
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("`{raw}` has a prefix that is not 0 to {bits}"))?,
        };
        Ok(Self { address, prefix })
    }

    fn contains(&self, address: IpAddr) -> bool {
        let mask = |bits: u32, width: u32| -> u128 {
            if bits == 0 {
                0
            } else {
                (u128::MAX << (width - bits)) & (u128::MAX >> (128 - width))
            }
        };
        match (self.address, address) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = mask(u32::from(self.prefix), 32);
                (u128::from(u32::from(net)) & mask) == (u128::from(u32::from(ip)) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = mask(u32::from(self.prefix), 128);
                (u128::from(net) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }
}

/// The client's address: walking from the peer leftwards through
/// `X-Forwarded-For`, the first hop that is not a trusted proxy (the
/// left-most when every hop is one).
pub fn from_request(
    headers: &HeaderMap,
    extensions: &Extensions,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())?;
    if *trusted == TrustedProxies::None {
        return Some(peer);
    }
    let mut forwarded: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        for hop in value.to_str().unwrap_or_default().split(',') {
            match hop.trim().parse() {
                Ok(address) => forwarded.push(address),
                // Something a proxy would not write: nothing left of it counts.
                Err(_) => forwarded.clear(),
            }
        }
    }
    let hops = forwarded.into_iter().chain(std::iter::once(peer));
    let mut leftmost = peer;
    for (position, hop) in hops.rev().enumerate() {
        if !trusted.trusts(position, hop) {
            return Some(hop);
        }
        leftmost = hop;
    }
    Some(leftmost)
}

/// The address of the request being handled by a server function.
pub fn current() -> Option<IpAddr> {
    let parts = use_context::<Parts>()?;
    let trusted = super::request::provided_state()
        .map(|state| state.config.trusted_proxies.clone())
        .unwrap_or_default();
    from_request(&parts.headers, &parts.extensions, &trusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(forwarded: &[&str], peer: &str, trusted: &str) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 1234)));
        let trusted = TrustedProxies::parse(trusted).unwrap();
        from_request(&headers, &extensions, &trusted)
            .unwrap()
            .to_string()
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop() {
        // No trusted proxy: what the client wrote is ignored.
        assert_eq!(address(&["6.6.6.6"], "203.0.113.9", ""), "203.0.113.9");
        // One proxy (the peer): the hop it appended, not the forged one.
        assert_eq!(
            address(&["6.6.6.6, 198.51.100.4"], "10.0.0.2", "1"),
            "198.51.100.4"
        );
        // Two proxies: the second appended the first.
        assert_eq!(
            address(&["6.6.6.6", "198.51.100.4, 10.0.0.1"], "10.0.0.2", "2"),
            "198.51.100.4"
        );
        // Networks: every hop inside them is skipped.
        assert_eq!(
            address(
                &["6.6.6.6, 198.51.100.4, 10.0.0.1"],
                "10.0.0.2",
                "10.0.0.0/8"
            ),
            "198.51.100.4"
        );
        assert_eq!(
            address(&["2001:db8::7"], "::1", "::1/128, 127.0.0.1"),
            "2001:db8::7"
        );
        // A peer outside the trusted networks is the client, whatever it sent.
        assert_eq!(
            address(&["6.6.6.6"], "203.0.113.9", "10.0.0.0/8"),
            "203.0.113.9"
        );
        // Fewer hops than proxies: the left-most there is.
        assert_eq!(address(&[], "10.0.0.2", "3"), "10.0.0.2");
        // Garbage cuts off everything left of it.
        assert_eq!(
            address(&["6.6.6.6, junk, 198.51.100.4"], "10.0.0.2", "5"),
            "198.51.100.4"
        );
    }

    #[test]
    fn the_setting_is_a_count_or_networks() {
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::None);
        assert_eq!(
            TrustedProxies::parse("2").unwrap(),
            TrustedProxies::Count(2)
        );
        assert!(matches!(
            TrustedProxies::parse("10.0.0.0/8, ::1").unwrap(),
            TrustedProxies::Networks(networks) if networks.len() == 2
        ));
        for bad in ["ten", "10.0.0.0/33", "::1/200", "10.0.0.0/8, x"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }
}
