//! Sign-in sessions, kept by tower-sessions in the same database as
//! everything else through its sqlx store. That store needs a concrete pool
//! (SQLite or PostgreSQL), so sessions get a small pool of their own.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{postgres::PgPoolOptions, sqlite::SqliteConnectOptions, sqlite::SqlitePoolOptions};
use tower_sessions::{
    cookie::{time, SameSite},
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
    Expiry, SessionManagerLayer, SessionStore,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use ollio_store::{DatabaseUrl, StoreError};

/// The session cookie's name over https: `__Host-` makes browsers refuse it
/// unless it is Secure, for the whole site and for this host alone, so no
/// other host (a preview on a sibling domain) can set or shadow it.
pub const COOKIE: &str = "__Host-ollio_session";
/// Its name over plain http (`localhost` during development), where a
/// `__Host-` cookie, which must be Secure, would not be kept by every browser.
pub const PLAIN_HTTP_COOKIE: &str = "ollio_session";

/// The session cookie's name for an app served over https or not.
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        COOKIE
    } else {
        PLAIN_HTTP_COOKIE
    }
}
/// Sessions end after this long without a request.
pub const IDLE_DAYS: i64 = 30;

/// The session store for the configured database.
#[derive(Debug, Clone)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Sessions {
    /// Connects and creates the session table if missing.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let sessions = match url {
            DatabaseUrl::Sqlite { url, .. } => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(StoreError::Connect)?
                    .create_if_missing(true)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(StoreError::Connect)?;
                let store = SqliteStore::new(pool)
                    .with_table_name("tower_sessions")
                    .map_err(StoreError::Corrupt)?;
                store.migrate().await?;
                Self::Sqlite(store)
            }
            DatabaseUrl::Postgres { url } => {
                let pool = PgPoolOptions::new()
                    .max_connections(4)
                    .connect(url)
                    .await
                    .map_err(StoreError::Connect)?;
                let store = PostgresStore::new(pool);
                store.migrate().await?;
                Self::Postgres(store)
            }
        };
        Ok(sessions)
    }

    /// The middleware that loads and saves sessions. The cookie is HttpOnly,
    /// SameSite=Lax, and over https Secure and named [`COOKIE`].
    pub fn layer(&self, secure: bool) -> SessionManagerLayer<Self> {
        SessionManagerLayer::new(self.clone())
            .with_name(cookie_name(secure))
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(secure)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(time::Duration::days(IDLE_DAYS)))
    }

    /// Deletes expired sessions every `period`, for as long as the app runs.
    pub fn spawn_cleanup(&self, period: Duration) {
        let sessions = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                if let Err(error) = sessions.delete_expired().await {
                    tracing::warn!(%error, "could not delete expired sessions");
                }
            }
        });
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(store) => store.create(record).await,
            Self::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(store) => store.save(record).await,
            Self::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(store) => store.load(id).await,
            Self::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(store) => store.delete(id).await,
            Self::Postgres(store) => store.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Self::Sqlite(store) => store.delete_expired().await,
            Self::Postgres(store) => store.delete_expired().await,
        }
    }
}
