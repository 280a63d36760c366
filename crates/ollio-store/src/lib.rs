//! The database: one [`Store`] over SQLite or PostgreSQL (chosen by the URL's
//! scheme), with typed functions per table group. No SQL lives outside this
//! crate. Queries use one portable dialect (`$1` parameters, TEXT ids, BIGINT
//! unix-ms times), so both backends run the same statements. Users' provider
//! keys are sealed before they are stored (`secrets`).

mod attachments;
pub mod blobs;
mod database_url;
mod edits;
mod file_lists;
mod jobs;
mod login_failures;
mod message_events;
mod messages;
mod passage_vectors;
mod projects;
mod provider_keys;
mod sandboxes;
mod training_jobs;
mod turn_ends;
mod usage;
mod users;
mod versions;

pub mod secrets;

use std::{
    path::Path,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    AnyPool, ConnectOptions, Connection, Executor,
};

pub use attachments::{AttachRefusal, StoredAttachment, MAX_STAGED};
pub use database_url::DatabaseUrl;
pub use edits::{Edit, EditRefusal};
pub use jobs::{EnqueueRefusal, EnqueuedTurn, Job, JobState, TurnJob, TurnRequest, TURN_JOB};
pub use message_events::{EventNotifications, StoredEvent, EVENTS_CHANNEL};
pub use messages::{Message, MessageEnd, MessageStatus, Role};
pub use projects::Project;
pub use provider_keys::{ProviderKeyInfo, SealedProvider};
pub use sandboxes::ProjectSandbox;
pub use training_jobs::{RetrainRefusal, TrainJob, TrainingJob, TrainingStatus, TRAIN_JOB};
pub use turn_ends::{TrainAfter, INTERRUPTED, LOST};
pub use usage::Usage;
pub use users::User;
pub use versions::{LeftOut, LeftOutReason, NewFile, NewVersion, Version, VersionFile};

/// The schema, from the project's top-level `migrations/` folder (portable
/// SQL for both backends).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("the database holds an unexpected value: {0}")]
    Corrupt(String),
}

/// Turns a unique-constraint violation into [`StoreError::Conflict`].
fn conflict_as(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Query(error),
    }
}

/// Milliseconds since the Unix epoch: how every timestamp is stored.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// A fresh, time-ordered id for a new row.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Versions' file lists, kept after their first read (versions never change).
    file_lists: std::sync::Arc<file_lists::FileLists>,
    /// PostgreSQL's URL, for `LISTEN` (a connection of its own).
    listen_url: Option<String>,
}

impl Store {
    /// Opens the database named by `url`, creating a SQLite file (and its
    /// folder) when missing. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url_of_backend = url;
        let (backend, url) = match url {
            DatabaseUrl::Sqlite { url, file } => {
                if let Some(folder) = file.as_deref().and_then(Path::parent) {
                    if !folder.as_os_str().is_empty() {
                        std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
                            path: folder.display().to_string(),
                            source,
                        })?;
                    }
                }
                let url = if url.contains("mode=") || file.is_none() {
                    url.clone()
                } else if url.contains('?') {
                    format!("{url}&mode=rwc")
                } else {
                    format!("{url}?mode=rwc")
                };
                (Backend::Sqlite, url)
            }
            DatabaseUrl::Postgres { url } => (Backend::Postgres, url.clone()),
        };
        let options: AnyConnectOptions = url.parse().map_err(StoreError::Connect)?;
        let options = options.disable_statement_logging();

        if backend == Backend::Sqlite {
            // WAL lets readers run beside the one writer. Switching needs an
            // exclusive lock, so do it once on a lone connection, not per pool
            // connection.
            let mut conn = sqlx::AnyConnection::connect_with(&options)
                .await
                .map_err(StoreError::Connect)?;
            conn.execute("PRAGMA journal_mode = WAL")
                .await
                .map_err(StoreError::Connect)?;
            conn.close().await.map_err(StoreError::Connect)?;
            // The database holds every account: the server's user only.
            // SQLite gives its -wal and -shm files the same mode.
            if let DatabaseUrl::Sqlite {
                file: Some(file), ..
            } = url_of_backend
            {
                use std::os::unix::fs::PermissionsExt;
                if let Err(error) =
                    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                {
                    tracing::warn!(%error, file = %file.display(), "the database file's mode could not be set to 0600");
                }
            }
        }

        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(StoreError::Connect)?;
        Ok(Self {
            pool,
            backend,
            file_lists: Default::default(),
            listen_url: (backend == Backend::Postgres).then_some(url),
        })
    }

    /// Applies the migrations in `migrations/` that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// How many migrations the code knows; the database should have run all.
    pub fn known_migrations() -> usize {
        MIGRATOR.iter().count()
    }

    /// Round-trips a trivial query; returns how long it took.
    pub async fn ping(&self) -> Result<Duration, StoreError> {
        let started = Instant::now();
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(started.elapsed())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
