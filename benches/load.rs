//! Load on one `ollio serve` over loopback, on SQLite and then on
//! PostgreSQL: `./scripts/bench.sh load` (or `cargo bench --features ssr
//! --bench load`; `OLLIO_LOAD_SECONDS` shortens it).
//!
//! - 200 browsing clients, each signed in with a project of its own, loop
//!   for 60 seconds over the pages (`/`, `/projects`, the project), server
//!   functions (`current_user`, `list_projects`, `project_view`,
//!   `get_usage`) and opening the project's event stream, a second apart;
//! - 20 generating clients send a message to their project (a turn with
//!   the scripted model in a real sandbox) and wait for its end, again and
//!   again.
//!
//! It prints each route's p50 and p99 and its errors, and the turns done.
//! Target: no errors, and p99 ≤ 200 ms for pages and server functions.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use ollio_testkit::{db, ScriptedServer};

/// The server: the app's own binary, built by `cargo bench` beside it.
const OLLIO: &str = env!("CARGO_BIN_EXE_ollio");
const BROWSING: usize = 200;
const GENERATING: usize = 20;
const PASSWORD: &str = "a long enough password";

type Samples = Arc<Mutex<BTreeMap<&'static str, (Vec<Duration>, usize)>>>;

fn record(samples: &Samples, route: &'static str, took: Duration, ok: bool) {
    let mut all = samples.lock().unwrap();
    let entry = all.entry(route).or_default();
    if ok {
        entry.0.push(took);
    } else {
        entry.1 += 1;
    }
}

/// A signed-in client of the app under load.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn sign_up(base: &str, email: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(2)
            .build()
            .unwrap();
        let client = Self {
            http,
            base: base.to_owned(),
        };
        let (status, body) = client
            .call("signup", &[("email", email), ("password", PASSWORD)])
            .await
            .expect("sign-up answers");
        assert!(
            status.is_success() || status.is_redirection(),
            "{status} {body}"
        );
        client
    }

    async fn call(
        &self,
        name: &str,
        args: &[(&str, &str)],
    ) -> Result<(reqwest::StatusCode, String), reqwest::Error> {
        let response = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .form(args)
            .send()
            .await?;
        let status = response.status();
        Ok((status, response.text().await?))
    }

    async fn page(&self, path: &str) -> Result<reqwest::StatusCode, reqwest::Error> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("accept", "text/html")
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        Ok(status)
    }

    async fn project(&self, name: &str) -> String {
        let (status, body) = self
            .call("create_project", &[("name", name), ("template", "static")])
            .await
            .unwrap();
        assert!(status.is_success(), "{status} {body}");
        let summary: serde_json::Value = serde_json::from_str(&body).unwrap();
        summary["id"].as_str().unwrap().to_owned()
    }
}

/// One browsing client's minute: a route a second, round the list.
async fn browse(client: Client, project: String, until: Instant, samples: Samples) {
    let project_page = format!("/projects/{project}");
    let events = format!("{}/api/projects/{project}/events", client.base);
    let mut turn = 0usize;
    while Instant::now() < until {
        let started = Instant::now();
        let (route, ok) = match turn % 8 {
            0 => (
                "page /",
                client.page("/").await.is_ok_and(|s| s.is_success()),
            ),
            1 => (
                "page /projects",
                client.page("/projects").await.is_ok_and(|s| s.is_success()),
            ),
            2 => (
                "page /projects/{id}",
                client
                    .page(&project_page)
                    .await
                    .is_ok_and(|s| s.is_success()),
            ),
            3 => (
                "fn current_user",
                client
                    .call("current_user", &[])
                    .await
                    .is_ok_and(|(s, _)| s.is_success()),
            ),
            4 => (
                "fn list_projects",
                client
                    .call("list_projects", &[])
                    .await
                    .is_ok_and(|(s, _)| s.is_success()),
            ),
            5 => (
                "fn project_view",
                client
                    .call("project_view", &[("id", &project)])
                    .await
                    .is_ok_and(|(s, _)| s.is_success()),
            ),
            6 => (
                "fn get_usage",
                client
                    .call("get_usage", &[])
                    .await
                    .is_ok_and(|(s, _)| s.is_success()),
            ),
            // The stream answers at once and stays open: opening is timed.
            _ => (
                "event stream (open)",
                client
                    .http
                    .get(&events)
                    .send()
                    .await
                    .is_ok_and(|response| response.status().is_success()),
            ),
        };
        record(&samples, route, started.elapsed(), ok);
        turn += 1;
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}

/// One generating client: a turn, its end, the next.
async fn generate(
    client: Client,
    project: String,
    until: Instant,
    samples: Samples,
) -> (usize, usize) {
    let (mut done, mut failed) = (0, 0);
    while Instant::now() < until {
        let started = Instant::now();
        let sent = client
            .call(
                "send_message",
                &[("project", &project), ("content", "a page")],
            )
            .await
            .is_ok_and(|(s, _)| s.is_success());
        record(&samples, "fn send_message", started.elapsed(), sent);
        if !sent {
            failed += 1;
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Until the turn ends, however long that takes past the minute.
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let Ok((status, body)) = client.call("project_view", &[("id", &project)]).await else {
                continue;
            };
            let page: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            if status.is_success() && page["running"].is_null() {
                let last = page["messages"]
                    .as_array()
                    .and_then(|messages| messages.last())
                    .map(|message| message["status"].as_str().unwrap_or_default().to_owned());
                if last.as_deref() == Some("done") {
                    done += 1;
                } else {
                    failed += 1;
                }
                break;
            }
        }
    }
    (done, failed)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn run(backend: &str, seconds: u64) {
    let models = ScriptedServer::for_tests().await;
    let data = tempfile::tempdir().unwrap();
    // Run as root, `ollio serve` works in it as its service user.
    std::fs::set_permissions(
        data.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    // PostgreSQL: a fresh database on the test server (kept to the end).
    let postgres = match backend {
        "postgres" => Some(db::postgres().await),
        _ => None,
    };
    let database_url = match &postgres {
        Some(db) => db.url.expose().to_owned(),
        None => format!("sqlite://{}/ollio.db", data.path().display()),
    };
    let port = free_port();
    let mut server = std::process::Command::new(OLLIO)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &database_url)
        .env("OLLIO_DATA_DIR", data.path())
        .env("OLLIO_ADDR", format!("127.0.0.1:{port}"))
        .env("OLLIO_SANDBOXD_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("OPENAI_BASE_URL", models.openai_base_url())
        .env("OPENAI_API_KEY", "sk-load")
        .env("OLLAMA_HOST", "http://127.0.0.1:9")
        .env("OLLIO_MODEL", "openai:quick")
        .env("OLLIO_FREE_CREDITS", "1000000")
        .env("OLLIO_RATE_LIMIT", "100000")
        .env("OLLIO_SIGNUPS_PER_HOUR", "100000")
        .env(
            "OLLIO_TEMPLATE_CACHE",
            std::env::var("OLLIO_TEMPLATE_CACHE").unwrap_or_default(),
        )
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ollio serve");
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    while !lines
        .next()
        .expect("the server says where it runs")
        .unwrap()
        .contains("Ollio is running")
    {}
    std::thread::spawn(move || for _ in lines {});
    let base = format!("http://127.0.0.1:{port}");

    let mut browsing = Vec::new();
    for index in 0..BROWSING {
        let client = Client::sign_up(&base, &format!("browse{index}@example.com")).await;
        let project = client.project(&format!("Browse {index}")).await;
        browsing.push((client, project));
    }
    let mut generating = Vec::new();
    for index in 0..GENERATING {
        let client = Client::sign_up(&base, &format!("make{index}@example.com")).await;
        let project = client.project(&format!("Make {index}")).await;
        generating.push((client, project));
    }

    let samples: Samples = Arc::default();
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (index, (client, project)) in browsing.into_iter().enumerate() {
        let samples = samples.clone();
        tasks.push(tokio::spawn(async move {
            // Spread the clients over the first second.
            tokio::time::sleep(Duration::from_millis((index * 5) as u64)).await;
            browse(client, project, until, samples).await;
            (0, 0)
        }));
    }
    for (client, project) in generating {
        tasks.push(tokio::spawn(generate(
            client,
            project,
            until,
            samples.clone(),
        )));
    }
    let (mut done, mut failed) = (0, 0);
    for task in tasks {
        let (d, f) = task.await.unwrap();
        done += d;
        failed += f;
    }
    let _ = server.kill();
    let _ = server.wait();

    println!("\n{backend}: {BROWSING} browsing + {GENERATING} generating clients for {seconds} s");
    for (route, (mut times, errors)) in std::mem::take(&mut *samples.lock().unwrap()) {
        times.sort();
        let at = |q: f64| {
            times
                .get(((times.len() as f64 - 1.0) * q).round() as usize)
                .map_or(0.0, |time| time.as_secs_f64() * 1e3)
        };
        println!(
            "  {route:<24} p50 {:>7.1} ms   p99 {:>7.1} ms   {:>6} requests   {errors} errors",
            at(0.5),
            at(0.99),
            times.len()
        );
    }
    println!("  turns: {done} done, {failed} failed");
}

#[tokio::main]
async fn main() {
    let seconds = std::env::var("OLLIO_LOAD_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(60);
    for backend in ["sqlite", "postgres"] {
        run(backend, seconds).await;
    }
}
