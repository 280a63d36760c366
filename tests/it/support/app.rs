//! The real app, served on a free port with a fresh database, for tests that
//! speak HTTP to it.

use std::{net::SocketAddr, path::Path, time::Duration};

use ollio::server::{config::Config, http, site, startup, state::AppState};
use ollio_sandbox::{ApiKey, Endpoint, SandboxClient};
use ollio_store::secrets::SecretBox;
use ollio_testkit::TestDb;
use reqwest::StatusCode;
use tokio::{net::TcpListener, sync::oneshot};

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    pub client: reqwest::Client,
    /// Where static files are served from.
    pub site_root: tempfile::TempDir,
    /// The state the app serves with, for calling its parts directly.
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
}

impl TestApp {
    pub async fn start(db: TestDb) -> Self {
        Self::start_with(db, &[]).await
    }

    /// Starts the app with extra configuration variables.
    pub async fn start_with(db: TestDb, vars: &[(&str, &str)]) -> Self {
        Self::start_full(db, vars, None, 0).await
    }

    /// Starts the app with a sandbox backend and `workers` turn workers
    /// that use it (their models come from `vars`, say OPENAI_BASE_URL).
    pub async fn start_with_sandbox(
        db: TestDb,
        vars: &[(&str, &str)],
        sandboxes: SandboxClient,
        workers: usize,
    ) -> Self {
        Self::start_full(db, vars, Some(sandboxes), workers).await
    }

    async fn start_full(
        db: TestDb,
        vars: &[(&str, &str)],
        sandboxes: Option<SandboxClient>,
        worker_count: usize,
    ) -> Self {
        let site_root = tempfile::tempdir().expect("site folder");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("free port");
        let addr = listener.local_addr().unwrap();
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some(db.url.expose().to_owned()),
            "OLLIO_ADDR" => Some(addr.to_string()),
            "OLLIO_DATA_DIR" => Some(site_root.path().join("data").display().to_string()),
            "OLLIO_WORKERS" => Some(worker_count.to_string()),
            other => vars
                .iter()
                .find(|(name, _)| *name == other)
                .map(|(_, value)| (*value).to_owned())
                // Every test user signs up from 127.0.0.1; the throttle
                // has a test of its own.
                .or_else(|| (other == "OLLIO_SIGNUPS_PER_HOUR").then(|| "1000".to_owned())),
        })
        .expect("test config");
        let mut leptos_options = site::options(addr).expect("site options");
        leptos_options.site_root = site_root.path().display().to_string().into();
        let secrets = SecretBox::load(None, &site_root.path().join("data")).expect("secret key");
        // Without a sandbox backend, turns are queued and stopped but no
        // worker of this app runs them (tests/it/agent_jobs.rs starts its own).
        let engine_sandboxes = sandboxes.clone().unwrap_or_else(|| {
            SandboxClient::new(Endpoint {
                api_url: "http://127.0.0.1:9".into(),
                sandbox_url: None,
                domain: "localhost:9".into(),
                scheme: "http",
                api_key: ApiKey::new("e2b_0000000000000000000000000000000000000000"),
            })
        });
        let mut engine =
            startup::engine(&config, &db.store, engine_sandboxes, Some(secrets.clone())).unwrap();
        engine.sandbox_lifetime = Duration::from_secs(600);
        engine.retry_base = Duration::from_secs(1);
        let workers = startup::workers(&config, engine);
        let site = (leptos_options, ollio::pages());
        let sandbox = sandboxes.map(|client| (client, true));
        let state = startup::app_state(config, site, db.store.clone(), workers, sandbox, secrets)
            .await
            .expect("app state");
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(http::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        let client = browser();
        Self {
            addr,
            db,
            client,
            site_root,
            state,
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

    /// A new visitor with its own cookies.
    pub fn visitor(&self) -> Visitor {
        Visitor {
            base: format!("http://{}", self.addr),
            client: browser(),
        }
    }

    /// A new visitor who has signed up as `email`.
    pub async fn user(&self, email: &str) -> Visitor {
        self.user_with_password(email, PASSWORD).await
    }

    pub async fn user_with_password(&self, email: &str, password: &str) -> Visitor {
        let visitor = self.visitor();
        let (status, body) = visitor
            .call("signup", &[("email", email), ("password", password)])
            .await;
        assert!(
            status.is_success() || status.is_redirection(),
            "sign-up as {email}: {status} {body}"
        );
        visitor
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

/// The password every test user signs up with.
pub const PASSWORD: &str = "correct horse battery staple";

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// One browser: a cookie jar talking to the app.
pub struct Visitor {
    base: String,
    pub client: reqwest::Client,
}

impl Visitor {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Calls the server function at `/api/{name}` with form arguments, as an
    /// `ActionForm` does; returns the status and the body.
    pub async fn call(&self, name: &str, args: &[(&str, &str)]) -> (StatusCode, String) {
        let response = self
            .client
            .post(self.url(&format!("/api/{name}")))
            .form(args)
            .send()
            .await
            .expect("server function request");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// Posts form arguments to `/api/{name}` with extra headers, and returns
    /// the whole response.
    pub async fn post(
        &self,
        name: &str,
        args: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(&format!("/api/{name}")))
            .form(args);
        for (header, value) in headers {
            request = request.header(*header, *value);
        }
        request.send().await.expect("server function request")
    }

    /// `GET path`: the status, the `Location` header and the body.
    pub async fn page(&self, path: &str) -> (StatusCode, Option<String>, String) {
        let response = self
            .client
            .get(self.url(path))
            .header(reqwest::header::ACCEPT, "text/html,application/xhtml+xml")
            .send()
            .await
            .expect("page request");
        let status = response.status();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        (status, location, response.text().await.unwrap_or_default())
    }
}
