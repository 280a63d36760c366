//! Sandbox figures for the bundled `sandboxd` (bubblewrap), per template:
//!
//! - create → the first command exits, made on the spot and from the warm
//!   pool (targets: median ≤ 50 ms, ≤ 10 ms warm);
//! - create → the app's ready path answering through the preview (targets:
//!   `react` and `python-api` ≤ 1.5 s, `streamlit` ≤ 4 s);
//! - for `react`, writing `src/App.tsx` → Vite's HMR update reaching a
//!   client with the new module served (target ≤ 300 ms);
//! - an idle sandbox's memory, the PSS of all its processes, the app's
//!   processes counted apart (target ≤ 5 MB without the app);
//! - writing 20 files until a static preview serves them.
//!
//! Prints medians and p95s; run with `./scripts/bench.sh sandbox` (which
//! builds the templates first) or `cargo bench -p ollio-sandboxd --bench
//! sandbox`, with section names after `--` to run only those (`create`,
//! `warm` (both warm-pool figures), `ready`, `hmr`, `memory`, `preview`).

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use ollio_sandbox::{wire::NewSandbox, ApiKey, Command, Sandbox, SandboxClient};
use ollio_sandboxd::{
    self as sandboxd, template_images::print_progress, DaemonConfig, RunningDaemon,
};
use ollio_testkit::{figures::summary, sandboxd::template_cache};

const TEMPLATES: &[&str] = &[
    "base",
    "static",
    "react",
    "python-api",
    "streamlit",
    "fullstack",
    "vue",
    "svelte",
    "node-api",
    "ml-model",
];
const CREATE_RUNS: usize = 20;
const READY_RUNS: usize = 5;
const HMR_RUNS: usize = 15;
const PREVIEW_RUNS: usize = 15;

struct Bench {
    daemon: RunningDaemon,
    client: SandboxClient,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

impl Bench {
    async fn start(warm: usize) -> Self {
        let data = tempfile::tempdir().expect("data folder");
        let mut config = DaemonConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            data.path().to_path_buf(),
            ApiKey::generate(),
        );
        config.guest_exe = PathBuf::from(env!("CARGO_BIN_EXE_ollio-sandboxd"));
        config.template_cache = Some(template_cache());
        config.warm_per_template = warm;
        let daemon = sandboxd::start(config)
            .await
            .expect("sandboxd starts (is bubblewrap installed?)");
        let client = SandboxClient::new(daemon.endpoint.clone());
        Self {
            daemon,
            client,
            http: reqwest::Client::new(),
            _data: data,
        }
    }

    async fn create(&self, template: &str) -> Sandbox {
        self.client
            .create(&NewSandbox {
                template_id: template.into(),
                ..NewSandbox::default()
            })
            .await
            .unwrap()
    }

    /// Creates a sandbox and runs `true` in it: the time until it exits.
    async fn create_and_run(&self, template: &str) -> (Duration, Sandbox) {
        let started = Instant::now();
        let sandbox = self.create(template).await;
        let output = self
            .client
            .envd(&sandbox)
            .run(&Command::new("true"), |_, _| {})
            .await
            .unwrap();
        assert_eq!(output.exit_code, 0);
        (started.elapsed(), sandbox)
    }

    /// `path` of `port` through the preview, as a browser asks for it.
    async fn preview_get(&self, sandbox: &str, port: u16, path: &str) -> Option<reqwest::Response> {
        let host = format!("{port}-{sandbox}.localhost:{}", self.daemon.addr.port());
        self.http
            .get(format!("http://{}{path}", self.daemon.addr))
            .header("host", host)
            .send()
            .await
            .ok()
    }

    /// Waits until the template's ready path answers through the preview.
    async fn until_ready(&self, sandbox: &str, template: &ollio_templates::Template) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(response) = self
                .preview_get(sandbox, template.port, template.ready_path)
                .await
            {
                if response.status().is_success() || response.status().is_redirection() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "{} never came up", template.id);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until the warm pools hold `count` ready sandboxes and their
    /// apps have started: the steady state a user's create meets, not the
    /// refill just after the previous one.
    async fn until_warm(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.daemon.registry.warm_count() < count || self.filling() {
            assert!(Instant::now() < deadline, "the warm pool never filled");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        until_quiet().await;
    }

    /// Whether a warm sandbox is still being made (its folder exists, it
    /// is not running, but the pool has not counted it ready).
    fn filling(&self) -> bool {
        let folders = std::fs::read_dir(self.daemon.registry.config().sandboxes_dir())
            .map(|entries| entries.count())
            .unwrap_or(0);
        folders > self.daemon.registry.list().len() + self.daemon.registry.warm_count()
    }
}

/// Whether the section was asked for (all are, when none is named).
fn wanted(section: &str) -> bool {
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    named.is_empty() || named.iter().any(|name| name == section)
}

#[tokio::main]
async fn main() {
    println!(
        "sandboxd with bubblewrap, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let cold = Bench::start(0).await;
    // Not timed: each template is built once (kept in the template cache).
    for id in TEMPLATES {
        if let Some(template) = ollio_templates::find(id).filter(|t| t.needs_image()) {
            cold.daemon
                .registry
                .image(template, &print_progress)
                .await
                .expect("the template builds");
        }
    }
    // Warm-up: the first start pages the binaries in.
    for id in TEMPLATES {
        let (_, sandbox) = cold.create_and_run(id).await;
        cold.client.kill(&sandbox.id).await.unwrap();
    }

    if wanted("create") {
        println!("\ncreate → first command exits");
        for id in TEMPLATES {
            let mut samples = Vec::new();
            for _ in 0..CREATE_RUNS {
                let (took, sandbox) = cold.create_and_run(id).await;
                samples.push(took);
                cold.client.kill(&sandbox.id).await.unwrap();
            }
            summary(&format!("  {id}"), samples);
        }
    }

    if wanted("memory") {
        println!("\nan idle sandbox's memory, alone on the machine (PSS of its processes; the app apart)");
        for id in ["base", "static", "react", "python-api", "streamlit"] {
            let sandbox = cold.create(id).await;
            if let Some(template) = ollio_templates::find(id).filter(|t| !t.start.is_empty()) {
                cold.until_ready(&sandbox.id, template).await;
            }
            // Let start-up work settle before measuring an idle sandbox.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let record = cold.daemon.registry.get(&sandbox.id).unwrap();
            let (own, app) = pss(record.jail_pid().expect("a running jail"));
            if id == "base" || id == "static" {
                println!("  {id:<50} {:>7.1} MB", own as f64 / 1024.0);
            } else {
                println!(
                    "  {id:<50} {:>7.1} MB   app {:>7.1} MB",
                    own as f64 / 1024.0,
                    app as f64 / 1024.0
                );
            }
            cold.client.kill(&sandbox.id).await.unwrap();
        }
    }

    let apps: Vec<&ollio_templates::Template> = TEMPLATES
        .iter()
        .filter_map(|id| ollio_templates::find(id))
        .filter(|template| !template.start.is_empty())
        .collect();
    if wanted("ready") {
        println!("\ncreate → the app's ready path answers through the preview");
        for template in &apps {
            summary(
                &format!("  {} (made on the spot)", template.id),
                time_ready(&cold, template, None).await,
            );
        }
    }

    if wanted("hmr") {
        println!("\nreact: write src/App.tsx → HMR update and the new module served");
        summary("  react", hmr(&cold).await);
    }

    if wanted("preview") {
        println!();
        summary(
            "write 20 files until the preview serves them",
            preview(&cold).await,
        );
    }
    cold.daemon.shutdown().await;

    // The warm pools last: their idle apps would weigh on the figures above.
    let warm = Bench::start(2).await;
    if wanted("warm") {
        println!("\ncreate → first command exits, from the warm pool (OLLIO_SANDBOX_WARM=2)");
        for (index, id) in TEMPLATES.iter().enumerate() {
            // The first use of a template starts its pool.
            let (_, first) = warm.create_and_run(id).await;
            warm.client.kill(&first.id).await.unwrap();
            let mut samples = Vec::new();
            for _ in 0..CREATE_RUNS {
                warm.until_warm(2 * (index + 1)).await;
                let (took, sandbox) = warm.create_and_run(id).await;
                samples.push(took);
                warm.client.kill(&sandbox.id).await.unwrap();
            }
            summary(&format!("  {id}"), samples);
        }
    }
    if wanted("warm") {
        println!("\ncreate → the app's ready path answers, from the warm pool");
        for template in &apps {
            summary(
                &format!("  {} (warm)", template.id),
                time_ready(&warm, template, Some(2 * TEMPLATES.len())).await,
            );
        }
    }
    warm.daemon.shutdown().await;
}

/// Times creates of `template` until its ready path answers; with `warm`,
/// each once the pools hold that many again.
async fn time_ready(
    bench: &Bench,
    template: &ollio_templates::Template,
    warm: Option<usize>,
) -> Vec<Duration> {
    let mut samples = Vec::new();
    for _ in 0..READY_RUNS {
        match warm {
            Some(count) => bench.until_warm(count).await,
            None => until_quiet().await,
        }
        let started = Instant::now();
        let sandbox = bench.create(template.id).await;
        bench.until_ready(&sandbox.id, template).await;
        samples.push(started.elapsed());
        bench.client.kill(&sandbox.id).await.unwrap();
    }
    samples
}

/// Waits (at most 30 s) until the machine's CPUs were at least 85% idle
/// over a quarter of a second: start-ups in the background have settled.
async fn until_quiet() {
    fn ticks() -> (u64, u64) {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let fields: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|field| field.parse().ok())
            .collect();
        // idle and iowait, and the total.
        let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
        (idle, fields.iter().sum())
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let (idle_before, total_before) = ticks();
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (idle, total) = ticks();
        let spent = (total - total_before).max(1);
        if (idle - idle_before) * 100 / spent >= 85 {
            return;
        }
    }
}

/// Times a change to `src/App.tsx` until Vite's HMR client is told and the
/// module it then asks for holds the change.
async fn hmr(bench: &Bench) -> Vec<Duration> {
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

    let react = ollio_templates::find("react").unwrap();
    let sandbox = bench.create("react").await;
    bench.until_ready(&sandbox.id, react).await;
    let envd = bench.client.envd(&sandbox);
    let client = bench
        .preview_get(&sandbox.id, 5173, "/@vite/client")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = client
        .split("const wsToken = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("Vite's client names its HMR token");
    let mut request = format!("ws://{}/?token={token}", bench.daemon.addr)
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    let host = format!("5173-{}.localhost:{}", sandbox.id, bench.daemon.addr.port());
    headers.insert("host", host.parse().unwrap());
    headers.insert("sec-websocket-protocol", "vite-hmr".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("Vite's HMR socket through the preview");
    // The module graph knows App.tsx once a page has imported it.
    for path in ["/", "/src/main.tsx", "/src/App.tsx"] {
        bench.preview_get(&sandbox.id, 5173, path).await.unwrap();
    }
    let app = String::from_utf8(envd.read_file("src/App.tsx").await.unwrap()).unwrap();
    let mut samples = Vec::new();
    for run in 0..HMR_RUNS {
        let marker = format!("Change {run} of the benchmark");
        let changed = app.replacen("Your React app", &marker, 1);
        assert_ne!(changed, app, "the starter App.tsx has its heading");
        // Changes half a second apart, as edits come: Vite's watcher folds
        // changes to one file that follow each other closely.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let started = Instant::now();
        envd.write_file("src/App.tsx", changed.as_bytes())
            .await
            .unwrap();
        let mut seen = Vec::new();
        let update = loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
                .await
                .unwrap_or_else(|_| {
                    panic!("no HMR update within 10 s in run {run}; Vite said {seen:?}")
                })
                .expect("the socket stays open")
                .unwrap();
            if let Message::Text(text) = frame {
                if text.contains("\"update\"") && text.contains("App.tsx") {
                    break text.to_string();
                }
                seen.push(text.to_string());
            }
        };
        let timestamp = update
            .split("\"timestamp\":")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .unwrap_or("0")
            .to_owned();
        let module = bench
            .preview_get(&sandbox.id, 5173, &format!("/src/App.tsx?t={timestamp}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(module.contains(&marker), "the new module holds the change");
        samples.push(started.elapsed());
    }
    bench.client.kill(&sandbox.id).await.unwrap();
    samples
}

/// The PSS in KB of the sandbox under `jail` (the jail and the agent) and
/// of its app (everything else inside).
fn pss(jail: u32) -> (u64, u64) {
    let (mut own, mut app) = (0, 0);
    for pid in descendants(jail) {
        let kb = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("Pss:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or(0);
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        // The jail (`bwrap`) and the agent (`/run/ollio-guest`): the rest is the app.
        let comm = comm.trim();
        if comm == "bwrap" || comm.starts_with("ollio") {
            own += kb;
        } else {
            app += kb;
        }
    }
    (own, app)
}

/// `root` and every process below it.
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The fields after the command (in parentheses): state, ppid.
            let after = stat.rsplit_once(')')?.1;
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut at = 0;
    while at < found.len() {
        let parent = found[at];
        found.extend(
            parents
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(pid, _)| *pid),
        );
        at += 1;
    }
    found
}

/// Times writing 20 files until the static preview serves the last.
async fn preview(bench: &Bench) -> Vec<Duration> {
    let mut samples = Vec::new();
    for run in 0..PREVIEW_RUNS {
        let sandbox = bench.create("static").await;
        let envd = bench.client.envd(&sandbox);
        let files: Vec<(String, Vec<u8>)> = (0..20)
            .map(|index| {
                (
                    format!("site/page{index}.html"),
                    format!("<h1>page {index} of run {run}</h1>").into_bytes(),
                )
            })
            .collect();
        let expected = format!("<h1>page 19 of run {run}</h1>");
        let started = Instant::now();
        envd.write_files(&files).await.unwrap();
        loop {
            if let Some(response) = bench
                .preview_get(&sandbox.id, 3000, "/site/page19.html")
                .await
            {
                if response.status() == 200 && response.text().await.unwrap() == expected {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(started.elapsed());
        bench.client.kill(&sandbox.id).await.unwrap();
    }
    samples
}
