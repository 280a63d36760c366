//! `DATABASE_URL`: which backend, and where. Checked when the
//! configuration is read, so a bad URL stops the app with one line naming
//! the variable.

use std::{fmt, path::PathBuf, str::FromStr};

use ollio_domain::config::ConfigError;

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
    use super::*;

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
