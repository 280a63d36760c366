//! Configuration from the environment (and `.env`). Every value is parsed
//! once, when the app starts; a bad one becomes a [`ConfigError`] naming the
//! variable. The agent reads its own part (`ollio_agent::config`), the
//! store its URL ([`DatabaseUrl`]); this puts them together with the web
//! app's and the sandboxes' settings.

pub mod sandbox;

use std::{net::SocketAddr, path::PathBuf};

use ollio_agent::chat_provider::SecretKey;
pub use ollio_agent::config::AgentConfig;
use ollio_domain::config::number;

use super::{budgets, client_ip::TrustedProxies};
pub use ollio_domain::config::ConfigError;
pub use ollio_store::DatabaseUrl;
pub use sandbox::{Backend as SandboxBackend, SandboxConfig};

/// Where the data lives unless `OLLIO_DATA_DIR` says otherwise.
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
/// The log filter used when `RUST_LOG` is unset.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,tower_http=info";
pub const DEFAULT_FREE_CREDITS: i64 = 50;
/// Server-function calls per minute per user (or per address when signed out).
pub const DEFAULT_RATE_LIMIT: u32 = 300;
/// Accounts one address may create per hour.
pub const DEFAULT_SIGNUPS_PER_HOUR: usize = 10;
/// Who the web server runs as when it is started as root.
pub const DEFAULT_SERVICE_USER: &str = "ollio";

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub log_filter: String,
    /// The address users reach the app at, when it differs from `addr` (say,
    /// behind a proxy). An https URL makes the session cookie Secure.
    pub public_url: Option<String>,
    /// Credits each user gets per calendar month.
    pub free_credits: i64,
    /// Server-function calls allowed per minute per user.
    pub rate_limit_per_minute: u32,
    /// The proxies in front of the app whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// `OLLIO_SIGNUPS`: `open` (the default) or `closed`.
    pub signups_open: bool,
    /// `OLLIO_SIGNUPS_PER_HOUR`: accounts one address may create per hour.
    pub signups_per_hour: usize,
    /// `OLLIO_STREAMS_PER_USER`: open event streams per account.
    pub streams_per_user: usize,
    /// `OLLIO_PREVIEW_STARTS_PER_HOUR`: previews one account may start.
    pub preview_starts_per_hour: u32,
    /// `OLLIO_RESTORES_PER_HOUR`: versions one account may restore.
    pub restores_per_hour: u32,
    /// `OLLIO_USER`: the user the web server and its workers become when
    /// started as root (root stays only in the sandbox daemon's process).
    pub service_user: String,
    pub sandbox: SandboxConfig,
    pub agent: AgentConfig,
    /// `OLLIO_BLOB_URL` (`s3://bucket/prefix`, with the `AWS_*` variables):
    /// where trained models are kept; unset, the data folder's `blobs/`.
    pub blob_url: Option<String>,
    /// `OLLIO_SECRET_KEY` (64 hex digits): seals users' provider keys. When
    /// unset, one is generated into the data folder.
    pub secret_key: Option<SecretKey>,
}

impl Config {
    /// Whether cookies must be marked Secure.
    pub fn https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the
    /// process environment. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let data_dir =
            PathBuf::from(get("OLLIO_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.into()));

        let database_url = match get("DATABASE_URL") {
            Some(raw) => raw.parse()?,
            None => DatabaseUrl::sqlite_file(data_dir.join("ollio.db")),
        };

        let addr_raw = get("OLLIO_ADDR").unwrap_or_else(|| DEFAULT_ADDR.into());
        let addr = addr_raw.trim().parse().map_err(|_| {
            ConfigError::new(
                "OLLIO_ADDR",
                format!("`{addr_raw}` is not an address and port like {DEFAULT_ADDR}"),
            )
        })?;

        let log_filter = get("RUST_LOG").unwrap_or_else(|| DEFAULT_LOG_FILTER.into());
        tracing_subscriber::EnvFilter::try_new(&log_filter).map_err(|error| {
            ConfigError::new(
                "RUST_LOG",
                format!("invalid filter `{log_filter}`: {error}"),
            )
        })?;

        let public_url = match get("OLLIO_PUBLIC_URL") {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Some(url.trim().trim_end_matches('/').to_owned())
            }
            Some(url) => {
                return Err(ConfigError::new(
                    "OLLIO_PUBLIC_URL",
                    format!("`{url}` is not an http:// or https:// URL"),
                ))
            }
            None => None,
        };
        let free_credits = number(&get, "OLLIO_FREE_CREDITS", DEFAULT_FREE_CREDITS, 0)?;
        let rate_limit_per_minute = number(&get, "OLLIO_RATE_LIMIT", DEFAULT_RATE_LIMIT, 1)?;
        if get("OLLIO_TRUST_PROXY").is_some() {
            return Err(ConfigError::new(
                "OLLIO_TRUST_PROXY",
                "is replaced by OLLIO_TRUSTED_PROXIES: the number of proxies in front of the app, or their networks (10.0.0.0/8, …)",
            ));
        }
        let trusted_proxies =
            TrustedProxies::parse(&get("OLLIO_TRUSTED_PROXIES").unwrap_or_default())
                .map_err(|why| ConfigError::new("OLLIO_TRUSTED_PROXIES", why))?;

        let signups_open = match get("OLLIO_SIGNUPS").as_deref().map(str::trim) {
            None | Some("open") => true,
            Some("closed") => false,
            Some(other) => {
                return Err(ConfigError::new(
                    "OLLIO_SIGNUPS",
                    format!("`{other}` is neither `open` nor `closed`"),
                ))
            }
        };
        let signups_per_hour = number(&get, "OLLIO_SIGNUPS_PER_HOUR", DEFAULT_SIGNUPS_PER_HOUR, 1)?;
        let streams_per_user = number(&get, "OLLIO_STREAMS_PER_USER", budgets::DEFAULT_STREAMS, 1)?;
        let preview_starts_per_hour = number(
            &get,
            "OLLIO_PREVIEW_STARTS_PER_HOUR",
            budgets::DEFAULT_PREVIEW_STARTS_PER_HOUR,
            1,
        )?;
        let restores_per_hour = number(
            &get,
            "OLLIO_RESTORES_PER_HOUR",
            budgets::DEFAULT_RESTORES_PER_HOUR,
            1,
        )?;
        let service_user = get("OLLIO_USER")
            .map(|name| name.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_SERVICE_USER.into());
        if service_user == "root" || service_user == "0" {
            return Err(ConfigError::new(
                "OLLIO_USER",
                "must not be root: it names the user the web server runs as, so that only the sandbox daemon keeps root",
            ));
        }
        let sandbox = sandbox::from_lookup(&get)?;
        let agent = ollio_agent::config::from_lookup(&get)?;
        let blob_url = get("OLLIO_BLOB_URL").map(|url| url.trim().to_owned());
        if let Some(url) = &blob_url {
            if !url.starts_with("s3://") || url.len() <= "s3://".len() {
                return Err(ConfigError::new(
                    "OLLIO_BLOB_URL",
                    format!("`{url}` is not an s3://bucket/prefix URL (leave it unset for the data folder)"),
                ));
            }
        }
        let secret_key = match get("OLLIO_SECRET_KEY") {
            Some(hex) => {
                ollio_store::secrets::SecretBox::from_hex(&hex).map_err(|_| {
                    ConfigError::new(
                        "OLLIO_SECRET_KEY",
                        "must be 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`",
                    )
                })?;
                Some(SecretKey::new(hex.trim()))
            }
            None => None,
        };

        Ok(Self {
            sandbox,
            agent,
            blob_url,
            secret_key,
            database_url,
            addr,
            data_dir,
            log_filter,
            public_url,
            free_credits,
            rate_limit_per_minute,
            trusted_proxies,
            signups_open,
            signups_per_hour,
            streams_per_user,
            preview_starts_per_hour,
            restores_per_hour,
            service_user,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults() {
        let config = config(&[]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.database_url.expose(), "sqlite://./data/ollio.db");
        assert_eq!(config.log_filter, DEFAULT_LOG_FILTER);
        assert_eq!(config.free_credits, 50);
        assert_eq!(config.rate_limit_per_minute, 300);
        assert_eq!(config.trusted_proxies, TrustedProxies::None);
        assert!(!config.https());
    }

    #[test]
    fn an_https_public_url_means_secure_cookies() {
        let config = config(&[
            ("OLLIO_PUBLIC_URL", "https://ollio.example/"),
            ("OLLIO_TRUSTED_PROXIES", "1"),
        ])
        .unwrap();
        assert_eq!(config.public_url.as_deref(), Some("https://ollio.example"));
        assert!(config.https());
        assert_eq!(config.trusted_proxies, TrustedProxies::Count(1));
    }

    #[test]
    fn the_default_database_follows_the_data_dir() {
        let config = config(&[("OLLIO_DATA_DIR", "/srv/ollio")]).unwrap();
        assert_eq!(config.database_url.expose(), "sqlite:///srv/ollio/ollio.db");
    }

    #[test]
    fn bad_values_name_their_variable() {
        let error = config(&[("DATABASE_URL", "foo://x")]).unwrap_err();
        assert_eq!(error.var, "DATABASE_URL");
        assert!(error
            .to_string()
            .starts_with("DATABASE_URL: unsupported scheme `foo`"));

        assert_eq!(
            config(&[("DATABASE_URL", "nonsense")]).unwrap_err().var,
            "DATABASE_URL"
        );
        assert_eq!(
            config(&[("OLLIO_ADDR", "localhost")]).unwrap_err().var,
            "OLLIO_ADDR"
        );
        assert_eq!(
            config(&[("RUST_LOG", "ollio=loud")]).unwrap_err().var,
            "RUST_LOG"
        );
        assert_eq!(
            config(&[("DATABASE_URL", "sqlite://x.db?mode=sideways")])
                .unwrap_err()
                .var,
            "DATABASE_URL"
        );
    }
}
