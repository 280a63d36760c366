//! Configuration from the environment (and `.env`). Every value is parsed here,
//! once; a bad one becomes a [`ConfigError`] naming the variable.

pub mod agent;
pub mod sandbox;

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr};

pub use agent::AgentConfig;
pub use sandbox::{Backend as SandboxBackend, SandboxConfig};

/// Where the data lives unless `OLLIO_DATA_DIR` says otherwise.
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
/// The log filter used when `RUST_LOG` is unset.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,tower_http=info";
pub const DEFAULT_FREE_CREDITS: i64 = 50;
/// Server-function calls per minute per user (or per address when signed out).
pub const DEFAULT_RATE_LIMIT: u32 = 300;

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
    /// Whether to take the client's address from `X-Forwarded-For`.
    pub trust_proxy: bool,
    pub sandbox: SandboxConfig,
    pub agent: AgentConfig,
    /// `OLLIO_SECRET_KEY` (64 hex digits): seals users' provider keys. When
    /// unset, one is generated into the data folder.
    pub secret_key: Option<crate::server::agent::provider::SecretKey>,
}

impl Config {
    /// Whether cookies must be marked Secure.
    pub fn https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

/// A configuration value that could not be used: which variable, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub fn new(var: &'static str, problem: impl Into<String>) -> Self {
        Self {
            var,
            problem: problem.into(),
        }
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
        let trust_proxy = match get("OLLIO_TRUST_PROXY").as_deref().map(str::trim) {
            None | Some("0" | "false" | "no") => false,
            Some("1" | "true" | "yes") => true,
            Some(other) => {
                return Err(ConfigError::new(
                    "OLLIO_TRUST_PROXY",
                    format!("`{other}` is not true or false"),
                ))
            }
        };

        let sandbox = sandbox::from_lookup(&get)?;
        let agent = agent::from_lookup(&get)?;
        let secret_key = match get("OLLIO_SECRET_KEY") {
            Some(hex) => {
                crate::server::secrets::SecretBox::from_hex(&hex).map_err(|_| {
                    ConfigError::new(
                        "OLLIO_SECRET_KEY",
                        "must be 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`",
                    )
                })?;
                Some(crate::server::agent::provider::SecretKey::new(hex.trim()))
            }
            None => None,
        };

        Ok(Self {
            sandbox,
            agent,
            secret_key,
            database_url,
            addr,
            data_dir,
            log_filter,
            public_url,
            free_credits,
            rate_limit_per_minute,
            trust_proxy,
        })
    }
}

/// Reads a whole number of at least `min`, or `default` when unset.
fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    min: T,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(raw) = get(var) else {
        return Ok(default);
    };
    match raw.trim().parse::<T>() {
        Ok(value) if value >= min => Ok(value),
        _ => Err(ConfigError::new(
            var,
            format!("`{raw}` is not a whole number of at least {min}"),
        )),
    }
}

/// A database URL that names a backend Ollio supports. Its `Debug` and
/// `Display` hide any password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://path/to/file.db` (created if missing) or `sqlite::memory:`.
    Sqlite { url: String, file: Option<PathBuf> },
    /// `postgres://user:pass@host:port/db`.
    Postgres { url: String },
}

impl DatabaseUrl {
    pub fn sqlite_file(path: PathBuf) -> Self {
        let url = format!("sqlite://{}", path.display());
        Self::Sqlite {
            url,
            file: Some(path),
        }
    }

    /// The URL to hand to the driver, credentials included.
    pub fn expose(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url } => url,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }

    fn redacted(&self) -> String {
        match self {
            Self::Sqlite { url, .. } => url.clone(),
            Self::Postgres { url } => match url.split_once("://") {
                Some((scheme, rest)) => match rest.rsplit_once('@') {
                    Some((credentials, host)) => {
                        let user = credentials.split(':').next().unwrap_or_default();
                        format!("{scheme}://{user}:***@{host}")
                    }
                    None => url.clone(),
                },
                None => url.clone(),
            },
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = ConfigError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        let invalid = |why: String| ConfigError::new("DATABASE_URL", why);
        let scheme = raw.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => {
                sqlx::sqlite::SqliteConnectOptions::from_str(raw)
                    .map_err(|error| invalid(format!("not a usable SQLite URL: {error}")))?;
                let rest = raw.trim_start_matches("sqlite:").trim_start_matches("//");
                let path = rest.split('?').next().unwrap_or_default();
                if path.is_empty() {
                    return Err(invalid(
                        "the SQLite URL names no file (use sqlite://data/ollio.db)".into(),
                    ));
                }
                let file = (path != ":memory:").then(|| PathBuf::from(path));
                Ok(Self::Sqlite {
                    url: raw.to_owned(),
                    file,
                })
            }
            "postgres" | "postgresql" => {
                sqlx::postgres::PgConnectOptions::from_str(raw)
                    .map_err(|error| invalid(format!("not a usable PostgreSQL URL: {error}")))?;
                Ok(Self::Postgres {
                    url: raw.to_owned(),
                })
            }
            _ if !raw.contains("://") && !raw.starts_with("sqlite:") => Err(invalid(format!(
                "`{raw}` is not a URL; use sqlite://FILE or postgres://USER@HOST/DB"
            ))),
            other => Err(invalid(format!(
                "unsupported scheme `{other}`; use sqlite://FILE or postgres://USER@HOST/DB"
            ))),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
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
        assert!(!config.trust_proxy);
        assert!(!config.https());
    }

    #[test]
    fn an_https_public_url_means_secure_cookies() {
        let config = config(&[
            ("OLLIO_PUBLIC_URL", "https://ollio.example/"),
            ("OLLIO_TRUST_PROXY", "true"),
        ])
        .unwrap();
        assert_eq!(config.public_url.as_deref(), Some("https://ollio.example"));
        assert!(config.https());
        assert!(config.trust_proxy);
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

    #[test]
    fn parses_both_backends() {
        let sqlite: DatabaseUrl = "sqlite://data/app.db?mode=rwc".parse().unwrap();
        assert!(
            matches!(sqlite, DatabaseUrl::Sqlite { file: Some(ref f), .. } if f == &PathBuf::from("data/app.db"))
        );
        let memory: DatabaseUrl = "sqlite::memory:".parse().unwrap();
        assert!(matches!(memory, DatabaseUrl::Sqlite { file: None, .. }));
        let pg: DatabaseUrl = "postgresql://ollio:hunter2@db:5432/ollio".parse().unwrap();
        assert_eq!(pg.backend_name(), "postgres");
        assert_eq!(pg.expose(), "postgresql://ollio:hunter2@db:5432/ollio");
    }

    #[test]
    fn passwords_never_print() {
        let pg: DatabaseUrl = "postgres://ollio:hunter2@db/ollio".parse().unwrap();
        assert!(!format!("{pg:?}").contains("hunter2"));
        assert!(!pg.to_string().contains("hunter2"));
        assert_eq!(pg.to_string(), "postgres://ollio:***@db/ollio");
    }
}
