//! The sandbox part of the configuration: which backend (`OLLIO_SANDBOX`),
//! E2B's own variable names for the cloud, and the bundled daemon's
//! settings (read by `ollio_sandboxd::settings`).

use ollio_agent::project_sandbox::DEFAULT_PER_USER;
use ollio_agent::templates::SandboxTemplates;
use ollio_domain::config::ConfigError;
use ollio_sandbox::{ApiKey, Endpoint};
use ollio_sandboxd::{self as sandboxd, settings::DaemonSettings};

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
    /// Which sandbox template each project template runs in (on E2B:
    /// `ollio-{id}`, or `OLLIO_E2B_TEMPLATES`).
    pub templates: SandboxTemplates,
    /// The bundled daemon's address, key, limits and network
    /// (`OLLIO_SANDBOXD_*`, `OLLIO_SANDBOX_*`, `OLLIO_PREVIEW_DOMAIN`).
    pub daemon: DaemonSettings,
    /// `OLLIO_SANDBOXES_PER_USER`: live sandboxes one account may have.
    pub per_user: usize,
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
    let templates = match backend {
        Backend::Local => SandboxTemplates::Local,
        Backend::E2b => SandboxTemplates::parse_e2b(get("OLLIO_E2B_TEMPLATES").as_deref())
            .map_err(|message| ConfigError::new("OLLIO_E2B_TEMPLATES", message))?,
    };
    let daemon = sandboxd::settings::from_lookup(get)?;
    let per_user =
        ollio_domain::config::number(get, "OLLIO_SANDBOXES_PER_USER", DEFAULT_PER_USER, 1)?;
    Ok(SandboxConfig {
        backend,
        e2b,
        templates,
        daemon,
        per_user,
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
    if !sandboxd::settings::valid_domain(&domain) {
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use ollio_sandboxd::Network;

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
        assert_eq!(config.daemon.addr.to_string(), "127.0.0.1:49983");
        assert!(config.daemon.api_key.is_none());
        assert!(config.e2b.is_none());
        // Package registries by default, so `npm install` works everywhere;
        // `none` for locked-down deployments.
        let Network::Registries(hosts) = &config.daemon.network else {
            panic!("registries expected")
        };
        assert!(hosts.contains(&"pypi.org".to_owned()));
        assert!(hosts.contains(&"registry.npmjs.org".to_owned()));
        let closed = parse(&[("OLLIO_SANDBOX_NETWORK", "none")]).unwrap();
        assert_eq!(closed.daemon.network, Network::None);
        assert_eq!(
            parse(&[("OLLIO_SANDBOX_NETWORK", "registries")])
                .unwrap()
                .daemon
                .network,
            config.daemon.network
        );
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
