//! The bundled daemon's settings from the environment: its address and key
//! (`OLLIO_SANDBOXD_ADDR`, `OLLIO_SANDBOXD_API_KEY`), where previews are
//! served (`OLLIO_PREVIEW_DOMAIN`), every sandbox's limits
//! (`OLLIO_SANDBOX_MEMORY_MB`, `…_PROCESSES`, `…_CPUS`, `…_DISK_MB`,
//! `…_OUTPUT_MB`), `OLLIO_SANDBOX_KEEP`, `OLLIO_SANDBOX_WARM`, and the network
//! (`OLLIO_SANDBOX_NETWORK`, `OLLIO_SANDBOX_REGISTRIES`). Read the same way
//! by `ollio serve`, `ollio sandboxd` and the crate's own `ollio-sandboxd`.

use std::net::SocketAddr;

use ollio_domain::config::{number, ConfigError};
use ollio_sandbox::ApiKey;

use crate::{egress::DEFAULT_REGISTRIES, Limits, Network, DEFAULT_ADDR};

#[derive(Debug, Clone)]
pub struct DaemonSettings {
    pub addr: SocketAddr,
    /// `OLLIO_SANDBOXD_API_KEY`; generated at start when unset.
    pub api_key: Option<ApiKey>,
    /// `OLLIO_PREVIEW_DOMAIN`: previews at `{port}-{id}.{domain}`.
    pub preview_domain: Option<String>,
    pub limits: Limits,
    /// `OLLIO_SANDBOX_KEEP`: keep sandbox folders after they end.
    pub keep_dirs: bool,
    /// `OLLIO_SANDBOX_NETWORK` (`registries`, the default, or `none`) and
    /// `OLLIO_SANDBOX_REGISTRIES`.
    pub network: Network,
    /// `OLLIO_TEMPLATE_CACHE`: where built templates are kept.
    pub template_cache: Option<std::path::PathBuf>,
    /// `OLLIO_SANDBOX_WARM`: ready sandboxes per template used lately.
    pub warm_per_template: usize,
}

pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<DaemonSettings, ConfigError> {
    let addr_raw = get("OLLIO_SANDBOXD_ADDR").unwrap_or_else(|| DEFAULT_ADDR.into());
    let addr = addr_raw.trim().parse().map_err(|_| {
        ConfigError::new(
            "OLLIO_SANDBOXD_ADDR",
            format!(
                "`{addr_raw}` is not an address and port like {}",
                DEFAULT_ADDR
            ),
        )
    })?;
    let api_key = match get("OLLIO_SANDBOXD_API_KEY") {
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
        Some("none") => Network::None,
        None | Some("registries") => Network::Registries(match get("OLLIO_SANDBOX_REGISTRIES") {
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
    let template_cache = get("OLLIO_TEMPLATE_CACHE")
        .map(|path| path.trim().to_owned())
        .filter(|path| !path.is_empty())
        .map(std::path::PathBuf::from);
    let warm_per_template = number(get, "OLLIO_SANDBOX_WARM", crate::DEFAULT_WARM, 0)?;
    Ok(DaemonSettings {
        warm_per_template,
        addr,
        api_key,
        preview_domain,
        limits,
        keep_dirs,
        network,
        template_cache,
    })
}

/// A host name with an optional `:port`.
pub fn valid_domain(domain: &str) -> bool {
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
