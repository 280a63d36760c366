//! Fresh databases for integration tests: a SQLite file in a temporary folder,
//! or a new database on the PostgreSQL server named by
//! `OLLIO_TEST_POSTGRES_URL` (the test script starts one). A missing server is
//! a failure, never a skip.

use ollio_store::{DatabaseUrl, Store};
use sqlx::{Connection, Executor};

pub struct TestDb {
    pub store: Store,
    pub url: DatabaseUrl,
    /// Keeps a SQLite file's folder alive for the test's duration.
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Runs raw SQL on the test database: to put rows in the states only a
    /// crash at the wrong moment leaves behind.
    pub async fn execute(&self, sql: &str) {
        let mut conn = sqlx::AnyConnection::connect(self.url.expose())
            .await
            .expect("connect to the test database");
        conn.execute(sql).await.expect("run the test's SQL");
        conn.close().await.ok();
    }

    /// The one number raw SQL (`SELECT COUNT(*) …`) answers.
    pub async fn count(&self, sql: &str) -> i64 {
        let mut conn = sqlx::AnyConnection::connect(self.url.expose())
            .await
            .expect("connect to the test database");
        let count = sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect("run the test's SQL");
        conn.close().await.ok();
        count
    }
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary folder");
    // Open, sticky like /tmp, to the service user an `ollio serve` started
    // by a test as root becomes (it makes the database's journal files).
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .expect("open the database's folder");
    let url = DatabaseUrl::sqlite_file(dir.path().join("ollio.db"));
    let store = Store::connect(&url).await.expect("open SQLite");
    store.migrate().await.expect("migrate SQLite");
    TestDb {
        store,
        url,
        _dir: Some(dir),
    }
}

pub async fn postgres() -> TestDb {
    let admin = std::env::var("OLLIO_TEST_POSTGRES_URL").expect(
        "OLLIO_TEST_POSTGRES_URL is not set: run the suite with scripts/test.sh, which starts PostgreSQL, \
         or point it at a server where the user may CREATE DATABASE",
    );
    let name = format!("ollio_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL server");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create a test database");
    conn.close().await.ok();
    let (base, _) = admin
        .rsplit_once('/')
        .expect("OLLIO_TEST_POSTGRES_URL ends in /DATABASE");
    let url: DatabaseUrl = format!("{base}/{name}").parse().expect("test database URL");
    let store = Store::connect(&url).await.expect("open PostgreSQL");
    store.migrate().await.expect("migrate PostgreSQL");
    TestDb {
        store,
        url,
        _dir: None,
    }
}

/// Runs the same async test body against SQLite and against PostgreSQL, as
/// `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! on_both_databases {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = $crate::db::sqlite().await;
                    super::$case(db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = $crate::db::postgres().await;
                    super::$case(db).await;
                }
            )+
        }
    };
}
