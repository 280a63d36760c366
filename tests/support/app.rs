//! The real app, served on a free port with a fresh database, for tests that
//! speak HTTP to it.

#![allow(dead_code)]

use std::{net::SocketAddr, path::Path, sync::Arc};

use ollio::server::{config::Config, http, site, state::AppState};
use tokio::{net::TcpListener, sync::oneshot};

use super::db::TestDb;

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    pub client: reqwest::Client,
    /// Where static files are served from.
    pub site_root: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl TestApp {
    pub async fn start(db: TestDb) -> Self {
        let site_root = tempfile::tempdir().expect("site folder");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("free port");
        let addr = listener.local_addr().unwrap();
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some(db.url.expose().to_owned()),
            "OLLIO_ADDR" => Some(addr.to_string()),
            "OLLIO_DATA_DIR" => Some(site_root.path().join("data").display().to_string()),
            _ => None,
        })
        .expect("test config");
        let mut leptos_options = site::options(addr).expect("site options");
        leptos_options.site_root = site_root.path().display().to_string().into();
        let state = AppState {
            leptos_options,
            store: db.store.clone(),
            config: Arc::new(config),
        };
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(http::serve(listener, state, async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            addr,
            db,
            client,
            site_root,
            stop: Some(stop),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// The body of `GET path` sent with a `Cookie` header.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> String {
        let response = self
            .client
            .get(self.url(path))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await;
        response.expect("request").text().await.expect("body")
    }

    pub fn write_static(&self, relative: &str, bytes: &[u8]) {
        let path = self.site_root.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
