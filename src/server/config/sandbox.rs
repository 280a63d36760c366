//! The sandbox part of the configuration: which backend (`OLLIO_SANDBOX`),
//! E2B's own variable names for the cloud, and `sandboxd`'s address, key and
//! limits for the bundled daemon.

use std::net::SocketAddr;

use super::{number, ConfigError};
use crate::server::{
    sandbox::{ApiKey, Endpoint},
    sandboxd::{self, egress::DEFAULT_REGISTRIES, Limits, Network},
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// The bundled `sandboxd`, started inside `ollio serve`.
    Local,
    /// E2B cloud (or anything else speaking its protocol).
    E2b,
}

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub backend: Backend,
    /// Set when the backend is E2B.
    pub e2b: Option<Endpoint>,
    pub sandboxd_addr: SocketAddr,
    /// `OLLIO_SANDBOXD_API_KEY`; generated at start when unset.
    pub sandboxd_api_key: Option<ApiKey>,
    /// `OLLIO_PREVIEW_DOMAIN`: previews at `{port}-{id}.{domain}`.
    pub preview_domain: Option<String>,
    pub limits: Limits,
    /// `OLLIO_SANDBOX_KEEP`: keep sandbox folders after they end.
    pub keep_dirs: bool,
    /// `OLLIO_SANDBOX_NETWORK` (`none` or `registries`) and
    /// `OLLIO_SANDBOX_REGISTRIES`.
    pub network: Network,
}

pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<SandboxConfig, ConfigError> {
    let backend = match get("OLLIO_SANDBOX").as_deref().map(str::trim) {
        None | Some("local") => Backend::Local,
        Some("e2b") => Backend::E2b,
        Some(other) => {
            return Err(ConfigError::new(
                "OLLIO_SANDBOX",
                format!("`{other}` is neither `local` nor `e2b`"),
            ))
        }
    };
    let e2b = match backend {
        Backend::Local => None,
        Backend::E2b => Some(e2b_endpoint(get)?),
    };
    let addr_raw = get("OLLIO_SANDBOXD_ADDR").unwrap_or_else(|| sandboxd::DEFAULT_ADDR.into());
    let sandboxd_addr = addr_raw.trim().parse().map_err(|_| {
        ConfigError::new(
            "OLLIO_SANDBOXD_ADDR",
            format!(
                "`{addr_raw}` is not an address and port like {}",
                sandboxd::DEFAULT_ADDR
            ),
        )
    })?;
    let sandboxd_api_key = match get("OLLIO_SANDBOXD_API_KEY") {
        Some(raw) => {
            let key = ApiKey::new(raw.trim());
            if !key.has_e2b_shape() {
                return Err(ConfigError::new(
                    "OLLIO_SANDBOXD_API_KEY",
                    "must look like e2b_ followed by 40 hex digits",
                ));
            }
            Some(key)
        }
        None => None,
    };
    let preview_domain = match get("OLLIO_PREVIEW_DOMAIN") {
        Some(domain) if valid_domain(domain.trim()) => Some(domain.trim().to_owned()),
        Some(domain) => {
            return Err(ConfigError::new(
                "OLLIO_PREVIEW_DOMAIN",
                format!("`{domain}` is not a host name (with an optional :port)"),
            ))
        }
        None => None,
    };
    let defaults = Limits::default();
    let mb = |var: &'static str, default: u64| -> Result<u64, ConfigError> {
        Ok(number(get, var, default >> 20, 16)? << 20)
    };
    let cpus_raw = get("OLLIO_SANDBOX_CPUS");
    let cpus = match cpus_raw.as_deref().map(str::trim) {
        None => defaults.cpus,
        Some(raw) => match raw.parse::<f64>() {
            Ok(cpus) if cpus >= 0.05 && cpus.is_finite() => cpus,
            _ => {
                return Err(ConfigError::new(
                    "OLLIO_SANDBOX_CPUS",
                    format!("`{raw}` is not a number of CPU cores like 1 or 0.5"),
                ))
            }
        },
    };
    let limits = Limits {
        memory_bytes: mb("OLLIO_SANDBOX_MEMORY_MB", defaults.memory_bytes)?,
        processes: number(get, "OLLIO_SANDBOX_PROCESSES", defaults.processes, 16)?,
        cpus,
        disk_bytes: mb("OLLIO_SANDBOX_DISK_MB", defaults.disk_bytes)?,
        output_bytes: mb("OLLIO_SANDBOX_OUTPUT_MB", defaults.output_bytes)?,
    };
    let keep_dirs = matches!(
        get("OLLIO_SANDBOX_KEEP").as_deref().map(str::trim),
        Some("1" | "true" | "yes")
    );
    let network = match get("OLLIO_SANDBOX_NETWORK").as_deref().map(str::trim) {
        None | Some("none") => Network::None,
        Some("registries") => Network::Registries(match get("OLLIO_SANDBOX_REGISTRIES") {
            Some(list) => list
                .split(',')
                .map(|host| host.trim().to_owned())
                .filter(|host| !host.is_empty())
                .collect(),
            None => DEFAULT_REGISTRIES
                .iter()
                .map(|host| (*host).to_owned())
                .collect(),
        }),
        Some(other) => {
            return Err(ConfigError::new(
                "OLLIO_SANDBOX_NETWORK",
                format!("`{other}` is neither `none` nor `registries`"),
            ))
        }
    };
    Ok(SandboxConfig {
        network,
        backend,
        e2b,
        sandboxd_addr,
        sandboxd_api_key,
        preview_domain,
        limits,
        keep_dirs,
    })
}

fn e2b_endpoint(get: &impl Fn(&str) -> Option<String>) -> Result<Endpoint, ConfigError> {
    let api_key = get("E2B_API_KEY")
        .map(|key| ApiKey::new(key.trim()))
        .ok_or_else(|| {
            ConfigError::new(
                "E2B_API_KEY",
                "is required when OLLIO_SANDBOX=e2b (find it at e2b.dev/dashboard)",
            )
        })?;
    let domain = get("E2B_DOMAIN").unwrap_or_else(|| "e2b.app".into());
    let domain = domain.trim().to_owned();
    if !valid_domain(&domain) {
        return Err(ConfigError::new(
            "E2B_DOMAIN",
            format!("`{domain}` is not a host name"),
        ));
    }
    let url = |var: &'static str| -> Result<Option<String>, ConfigError> {
        match get(var) {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Ok(Some(url.trim().trim_end_matches('/').to_owned()))
            }
            Some(url) => Err(ConfigError::new(
                var,
                format!("`{url}` is not an http:// or https:// URL"),
            )),
            None => Ok(None),
        }
    };
    Ok(Endpoint {
        api_url: url("E2B_API_URL")?.unwrap_or_else(|| format!("https://api.{domain}")),
        sandbox_url: url("E2B_SANDBOX_URL")?,
        domain,
        scheme: "https",
        api_key,
    })
}

fn valid_domain(domain: &str) -> bool {
    let host = domain.rsplit_once(':').map_or(domain, |(host, port)| {
        if port.parse::<u16>().is_ok() {
            host
        } else {
            ""
        }
    });
    !host.is_empty()
        && host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-')
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<SandboxConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_lookup(&|name: &str| vars.get(name).cloned())
    }

    #[test]
    fn local_is_the_default() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.backend, Backend::Local);
        assert_eq!(config.sandboxd_addr.to_string(), "127.0.0.1:49983");
        assert!(config.sandboxd_api_key.is_none());
        assert!(config.e2b.is_none());
        assert_eq!(config.network, Network::None);
        let open = parse(&[("OLLIO_SANDBOX_NETWORK", "registries")]).unwrap();
        let Network::Registries(hosts) = open.network else {
            panic!("registries expected")
        };
        assert!(hosts.contains(&"pypi.org".to_owned()));
    }

    #[test]
    fn e2b_uses_the_sdk_names() {
        let config = parse(&[("OLLIO_SANDBOX", "e2b"), ("E2B_API_KEY", "e2b_abc")]).unwrap();
        let endpoint = config.e2b.unwrap();
        assert_eq!(endpoint.api_url, "https://api.e2b.app");
        assert_eq!(endpoint.domain, "e2b.app");
        assert!(endpoint.sandbox_url.is_none());

        let config = parse(&[
            ("OLLIO_SANDBOX", "e2b"),
            ("E2B_API_KEY", "e2b_abc"),
            ("E2B_DOMAIN", "sandbox.example.com"),
            ("E2B_SANDBOX_URL", "http://127.0.0.1:49983/"),
        ])
        .unwrap();
        let endpoint = config.e2b.unwrap();
        assert_eq!(endpoint.api_url, "https://api.sandbox.example.com");
        assert_eq!(
            endpoint.sandbox_url.as_deref(),
            Some("http://127.0.0.1:49983")
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("OLLIO_SANDBOX", "docker")], "OLLIO_SANDBOX"),
            (&[("OLLIO_SANDBOX", "e2b")], "E2B_API_KEY"),
            (
                &[("OLLIO_SANDBOXD_API_KEY", "secret")],
                "OLLIO_SANDBOXD_API_KEY",
            ),
            (&[("OLLIO_SANDBOXD_ADDR", "nowhere")], "OLLIO_SANDBOXD_ADDR"),
            (
                &[("OLLIO_SANDBOX_MEMORY_MB", "lots")],
                "OLLIO_SANDBOX_MEMORY_MB",
            ),
            (&[("OLLIO_SANDBOX_CPUS", "-1")], "OLLIO_SANDBOX_CPUS"),
            (&[("OLLIO_PREVIEW_DOMAIN", "a/b")], "OLLIO_PREVIEW_DOMAIN"),
            (&[("OLLIO_SANDBOX_NETWORK", "all")], "OLLIO_SANDBOX_NETWORK"),
        ];
        for (vars, var) in cases {
            let error = parse(vars).unwrap_err();
            assert_eq!(error.var, *var, "{vars:?}");
        }
    }
}
