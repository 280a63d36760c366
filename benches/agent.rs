//! Agent figures with the scripted model at zero latency, on SQLite and the
//! bundled sandboxd: `cargo bench --features ssr --bench agent`.
//!
//! - send → enqueued: `send_message` over HTTP until it answers (the turn is
//!   queued by then); target p95 ≤ 20 ms;
//! - turn overhead: from enqueueing to the preview serving a 5-file static
//!   app; target p50 ≤ 150 ms;
//! - event → SSE client: from a worker emitting a step to a browser-like
//!   client reading it off the event stream; target p95 ≤ 50 ms;
//! - 50 concurrent turns: all must end done, with 0 errors;
//! - training pipeline overhead: an ML model project's turn ends, then its
//!   training run installs (nothing), trains (the iris starter, about a
//!   second), keeps the artifacts and deploys, until `POST /predict`
//!   answers; the figure is that time less `train.py`'s own (which it
//!   reports as the metric `train_seconds`); target ≤ 1.5 s;
//! - the check before a turn ends (`-- check`): on a static app (its page
//!   and the files it links) and on the React starter (the app answers,
//!   its log, `tsc --noEmit` beside them); the figure is the check's own
//!   time beyond the type check; target ≤ 300 ms;
//! - event across processes: `ollio worker` in a process of its own runs
//!   turns on PostgreSQL while this process serves the event stream with no
//!   workers (as `ollio serve` with `OLLIO_WORKERS=0`); from the worker
//!   storing a step to the client reading it; target ≤ 50 ms. Needs
//!   `OLLIO_TEST_POSTGRES_URL` (`./scripts/bench.sh agent` starts a server).

// The app on a free port, as the tests start it (not every part is used here).
#[allow(dead_code)]
#[path = "../tests/it/support/app.rs"]
mod app;

use std::time::{Duration, Instant};

use app::TestApp;
use ollio::server::{config::Config, startup};
use ollio_agent::{
    engine::Engine,
    event_log::{self, EventHub},
    worker::Workers,
};
use ollio_domain::{ProjectId, TurnEvent, UserId};
use ollio_store::{MessageStatus, Role, Store};
use ollio_testkit::{db, figures::summary, fixtures, ScriptedServer, TestDaemon};

/// The agent the bench's sandboxes run: the app's own binary, built by
/// `cargo bench` beside the benchmark.
const GUEST: &str = env!("CARGO_BIN_EXE_ollio");

const SENDS: usize = 200;
const TURNS: usize = 20;
const EVENTS: usize = 200;
const CONCURRENT: usize = 50;

async fn projects(store: &Store, owner: &UserId, count: usize, model: &str) -> Vec<ProjectId> {
    let mut ids = Vec::new();
    for index in 0..count {
        let project = fixtures::project(store, owner, &format!("Bench {index}")).await;
        store
            .set_project_model(owner, &project.id, Some(model))
            .await
            .unwrap();
        ids.push(project.id);
    }
    ids
}

async fn send_to_enqueued() {
    let app = TestApp::start_with(
        db::sqlite().await,
        &[
            ("OLLIO_FREE_CREDITS", "100000"),
            ("OLLIO_RATE_LIMIT", "100000"),
        ],
    )
    .await;
    let visitor = app.user("bench@example.com").await;
    let owner = app
        .db
        .store
        .user_by_email("bench@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let ids = projects(&app.db.store, &owner, SENDS + 5, "openai:quick").await;
    // Warm-up.
    for id in &ids[SENDS..] {
        visitor
            .call(
                "send_message",
                &[("project", id.as_str()), ("content", "warm up")],
            )
            .await;
    }
    let mut samples = Vec::new();
    for id in &ids[..SENDS] {
        let started = Instant::now();
        let (status, body) = visitor
            .call(
                "send_message",
                &[("project", id.as_str()), ("content", "a five-file site")],
            )
            .await;
        samples.push(started.elapsed());
        assert!(status.is_success(), "{status} {body}");
    }
    summary("send_message → turn enqueued (HTTP)", samples);
}

/// The app's configuration with the scripted model, and four workers.
fn config(models: &ScriptedServer) -> Config {
    let base_url = models.openai_base_url();
    Config::from_lookup(|name: &str| match name {
        "OPENAI_BASE_URL" => Some(base_url.clone()),
        "OLLIO_WORKERS" => Some("4".into()),
        _ => None,
    })
    .unwrap()
}

fn engine(config: &Config, store: &Store, daemon: &TestDaemon, hub: EventHub) -> Engine {
    let mut engine = startup::engine(config, store, daemon.client.clone(), None).unwrap();
    engine.hub = hub;
    engine.sandbox_lifetime = Duration::from_secs(600);
    engine.retry_base = Duration::from_millis(100);
    engine
}

/// Four workers over a fresh SQLite database, the scripted model and the
/// bundled sandboxd, and a user to run turns for.
struct Rig {
    db: ollio_testkit::TestDb,
    _models: ScriptedServer,
    daemon: TestDaemon,
    hub: EventHub,
    workers: Workers,
    owner: UserId,
}

impl Rig {
    async fn start() -> Self {
        let db = db::sqlite().await;
        let models = ScriptedServer::for_tests().await;
        let daemon = TestDaemon::start_with(GUEST, |config| {
            config.max_sandboxes = 256;
            // The ML model's training runs beside its API.
            config.limits.memory_bytes = ollio_testkit::sandboxd::APP_MEMORY;
        })
        .await;
        let hub = EventHub::default();
        let config = config(&models);
        let workers = startup::workers(&config, engine(&config, &db.store, &daemon, hub.clone()));
        let owner = fixtures::user(&db.store, "bench@example.com").await;
        Self {
            db,
            _models: models,
            daemon,
            hub,
            workers,
            owner,
        }
    }
}

async fn turn_overhead() {
    let rig = Rig::start().await;
    let (store, owner, workers, hub) = (&rig.db.store, &rig.owner, &rig.workers, &rig.hub);
    let ids = projects(store, owner, TURNS + 2, "openai:five-files").await;
    let mut samples = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        let mut woken = hub.subscribe();
        let started = Instant::now();
        let queued = store
            .enqueue_turn(owner, id, "a five-file site", 1000, 3)
            .await
            .unwrap()
            .unwrap();
        workers.wake();
        // Wait for the turn's summary, woken by its events.
        loop {
            let _ = tokio::time::timeout(Duration::from_millis(50), woken.recv()).await;
            let done =
                store.messages(owner, id).await.unwrap().iter().any(|m| {
                    m.id == queued.turn.assistant_message && m.status == MessageStatus::Done
                });
            if done {
                break;
            }
        }
        let version = &store.versions(owner, id).await.unwrap()[0];
        let (client, origin) = rig
            .daemon
            .preview_client(version.sandbox_id.as_deref().unwrap(), 3000);
        let page = client
            .get(format!("{origin}/about.html"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let elapsed = started.elapsed();
        // The first two warm up the binaries and the connections.
        if index >= 2 {
            samples.push(elapsed);
        }
    }
    summary("enqueue → preview serves a 5-file static app", samples);
    workers.shutdown().await;
}

const CHECKS: usize = 12;

/// The check's time on a static app and on the React starter, and for
/// React, the type check alone: what is left is the check's own.
async fn check_overhead() {
    use ollio_agent::{app_ready, check::AppCheck, templates};
    use ollio_sandbox::Command;

    // Sandboxes as users get them (the tests' are smaller than tsc needs).
    let daemon = TestDaemon::start_with(GUEST, |config| {
        config.limits = ollio_sandboxd::Limits::default();
    })
    .await;
    let (events, mut drained) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move { while drained.recv().await.is_some() {} });

    let (_static_box, envd) = daemon.sandbox("static").await;
    let page = "<!doctype html><html><head><link rel=\"stylesheet\" href=\"style.css\"><script src=\"app.js\" defer></script></head><body><img src=\"logo.svg\" alt=\"\"><a href=\"about.html\">About</a></body></html>";
    for (path, bytes) in [
        ("index.html", page),
        ("style.css", "body{margin:0}"),
        ("app.js", "console.log('hi')"),
        ("logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
        ("about.html", "<p>About</p>"),
    ] {
        envd.write_file(path, bytes.as_bytes()).await.unwrap();
    }
    let static_template = templates::find("static").unwrap();
    let mut samples = Vec::new();
    for index in 0..CHECKS + 2 {
        let started = Instant::now();
        let check = AppCheck::begin(&envd, static_template).await;
        let problems = check.run(&events, None).await;
        assert!(problems.is_empty(), "{problems:?}");
        if index >= 2 {
            samples.push(started.elapsed());
        }
    }
    summary("check: static app (5 files, 4 links)", samples);

    let react = templates::find("react").unwrap();
    let (_react_box, envd) = daemon.sandbox("react").await;
    assert!(
        app_ready::answers(&envd, react).await,
        "the React app starts"
    );
    let mut types = Command::new(react.check.unwrap()).timeout(Duration::from_secs(120));
    types.cwd = Some(ollio_agent::tools::PROJECT_ROOT.into());
    let (mut whole, mut alone, mut beyond) = (Vec::new(), Vec::new(), Vec::new());
    for index in 0..CHECKS + 1 {
        let started = Instant::now();
        let output = envd.run(&types, |_, _| {}).await.unwrap();
        assert_eq!(
            output.exit_code,
            0,
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
        let tsc = started.elapsed();
        let started = Instant::now();
        let check = AppCheck::begin(&envd, react).await;
        let problems = check.run(&events, None).await;
        assert!(problems.is_empty(), "{problems:?}");
        let total = started.elapsed();
        if index >= 1 {
            whole.push(total);
            alone.push(tsc);
            beyond.push(total.saturating_sub(tsc));
        }
    }
    summary("check: React starter, whole", whole);
    summary("check: React starter, tsc --noEmit alone", alone);
    summary("check: React starter, beyond the type check", beyond);
}

const TRAININGS: usize = 6;

async fn training_overhead() {
    let rig = Rig::start().await;
    let (store, owner, workers, hub) = (&rig.db.store, &rig.owner, &rig.workers, &rig.hub);
    let mut overheads = Vec::new();
    let mut totals = Vec::new();
    for index in 0..TRAININGS {
        let project = store
            .create_project(
                owner,
                &fixtures::project_name(&format!("Model {index}")),
                "ml-model",
            )
            .await
            .unwrap();
        store
            .set_project_model(owner, &project.id, Some("openai:model-timed"))
            .await
            .unwrap();
        let mut woken = hub.subscribe();
        let queued = store
            .enqueue_turn(owner, &project.id, "a timed model", 1000, 3)
            .await
            .unwrap()
            .unwrap();
        workers.wake();
        // The turn's end.
        loop {
            let _ = tokio::time::timeout(Duration::from_millis(20), woken.recv()).await;
            let done = store
                .messages(owner, &project.id)
                .await
                .unwrap()
                .iter()
                .any(|m| m.id == queued.turn.assistant_message && m.status == MessageStatus::Done);
            if done {
                break;
            }
        }
        let ended = Instant::now();
        // Deployed, then /predict answers through the preview.
        let run = loop {
            let _ = tokio::time::timeout(Duration::from_millis(20), woken.recv()).await;
            let runs = store.training_jobs(owner, &project.id).await.unwrap();
            match runs.first() {
                Some(run) if run.status == ollio_store::TrainingStatus::Deployed => {
                    break run.clone()
                }
                Some(run) if run.status.is_finished() => panic!("the run ended {run:?}"),
                _ => {}
            }
        };
        let sandbox = store.current_sandbox(&project.id).await.unwrap().unwrap();
        let (client, origin) = rig.daemon.preview_client(&sandbox.id, 8000);
        let body = serde_json::json!({
            "sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2
        });
        let answer = client
            .post(format!("{origin}/predict"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let total = ended.elapsed();
        let own = Duration::from_secs_f64(run.metrics["train_seconds"]);
        // The first warms up the template and the binaries.
        if index >= 1 {
            totals.push(total);
            overheads.push(total.saturating_sub(own));
        }
    }
    summary("turn end → /predict answers (1 s training)", totals);
    summary("  of which the pipeline's own overhead", overheads);
    workers.shutdown().await;
}

async fn event_to_sse() {
    let app = TestApp::start(db::sqlite().await).await;
    let visitor = app.user("bench@example.com").await;
    let store = &app.db.store;
    let owner = store
        .user_by_email("bench@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let project = projects(store, &owner, 1, "openai:quick").await.remove(0);
    let message = store
        .create_message(&project, Role::Assistant, "", MessageStatus::Running)
        .await
        .unwrap()
        .id;
    let (sink, receiver) = tokio::sync::mpsc::unbounded_channel();
    let recorder = tokio::spawn(event_log::record(
        store.clone(),
        app.state.hub.clone(),
        project.clone(),
        message,
        receiver,
    ));
    let mut stream = visitor
        .client
        .get(visitor.url(&format!("/api/projects/{project}/events")))
        .send()
        .await
        .unwrap();
    let mut samples = Vec::new();
    let mut buffer = String::new();
    for index in 0..EVENTS {
        let started = Instant::now();
        sink.send(TurnEvent::CommandStarted {
            command: format!("step {index}"),
        })
        .unwrap();
        let marker = format!("step {index}\"");
        while !buffer.contains(&marker) {
            let chunk = stream.chunk().await.unwrap().expect("the stream goes on");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
        samples.push(started.elapsed());
        buffer.clear();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(sink);
    recorder.await.unwrap();
    summary("worker event → SSE client", samples);
}

async fn concurrent_turns() {
    let rig = Rig::start().await;
    let (store, owner, workers) = (&rig.db.store, &rig.owner, &rig.workers);
    let ids = projects(store, owner, CONCURRENT, "openai:five-files").await;
    let started = Instant::now();
    let mut queued = Vec::new();
    for id in &ids {
        queued.push(
            store
                .enqueue_turn(owner, id, "a five-file site", 1000, 3)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    workers.wake();
    let (mut done, mut errors) = (0, 0);
    while done + errors < CONCURRENT {
        tokio::time::sleep(Duration::from_millis(50)).await;
        (done, errors) = (0, 0);
        for turn in &queued {
            let message = store
                .messages(owner, &turn.turn.project)
                .await
                .unwrap()
                .into_iter()
                .find(|m| m.id == turn.turn.assistant_message)
                .unwrap();
            match message.status {
                MessageStatus::Done => done += 1,
                MessageStatus::Failed | MessageStatus::Cancelled => errors += 1,
                _ => {}
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the turns did not finish"
        );
    }
    println!(
        "{:<52} {done} done, {errors} errors in {:.2} s (4 workers)",
        format!("{CONCURRENT} concurrent turns"),
        started.elapsed().as_secs_f64()
    );
    workers.shutdown().await;
    assert_eq!(errors, 0, "turns failed");
}

/// Turns run by an `ollio worker` process, their events read off this
/// process's event stream: each event's latency is its receipt here minus
/// its `created_at`, which the worker's insert set (one clock: one machine).
async fn event_across_processes() {
    use std::io::{BufRead, BufReader};

    let db = db::postgres().await;
    let url = db.url.clone();
    let daemon = TestDaemon::start(GUEST).await;
    let models = ScriptedServer::for_tests().await;
    let app = TestApp::start_with(db, &[("OLLIO_FREE_CREDITS", "100000")]).await;
    let visitor = app.user("bench@example.com").await;
    let store = &app.db.store;
    let owner = store
        .user_by_email("bench@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let project = projects(store, &owner, 1, "openai:quick").await.remove(0);
    let data = tempfile::tempdir().unwrap();
    let mut worker = std::process::Command::new(GUEST)
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url.expose())
        .env("OLLIO_DATA_DIR", data.path())
        .env("OLLIO_WORKERS", "1")
        .env("OLLIO_SANDBOXD_ADDR", daemon.addr().to_string())
        .env("OLLIO_SANDBOXD_API_KEY", daemon.key.expose())
        .env("OPENAI_BASE_URL", models.openai_base_url())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ollio worker");
    let mut lines = BufReader::new(worker.stdout.take().unwrap()).lines();
    while !lines
        .next()
        .expect("the worker says it runs")
        .unwrap()
        .contains("worker(s) are running")
    {}
    let mut stream = visitor
        .client
        .get(visitor.url(&format!("/api/projects/{project}/events")))
        .send()
        .await
        .unwrap();
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as f64
            / 1000.0
    };
    let mut received: Vec<(i64, f64)> = Vec::new();
    let mut buffer = String::new();
    for _ in 0..TURNS {
        store
            .enqueue_turn(&owner, &project, "a page", 100_000, 3)
            .await
            .unwrap()
            .unwrap();
        // Until this turn's summary: every event's id and when it came.
        loop {
            let chunk = stream.chunk().await.unwrap().expect("the stream goes on");
            let at = now_ms();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            let mut summary = false;
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if let Some(id) = event
                    .lines()
                    .find_map(|line| line.strip_prefix("id:"))
                    .and_then(|id| id.trim().parse().ok())
                {
                    received.push((id, at));
                }
                summary |= event.lines().any(|line| line == "event: summary");
            }
            if summary {
                break;
            }
        }
    }
    let _ = worker.kill();
    let _ = worker.wait();
    let stored = store
        .events_after(&owner, &project, 0, 100_000)
        .await
        .unwrap();
    let samples: Vec<Duration> = received
        .iter()
        .filter_map(|(seq, at)| {
            let event = stored.iter().find(|event| event.seq == *seq)?;
            Some(Duration::from_secs_f64(
                ((at - event.created_at as f64) / 1000.0).max(0.0),
            ))
        })
        .collect();
    summary(
        "event across processes (worker → PostgreSQL → SSE)",
        samples,
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench --bench agent -- across` (or `-- training`) runs only
    // the cross-process (or the training) part.
    let only = |name: &str| std::env::args().any(|arg| arg == name);
    if only("training") {
        training_overhead().await;
        return;
    }
    if only("check") {
        check_overhead().await;
        return;
    }
    if !only("across") {
        send_to_enqueued().await;
        turn_overhead().await;
        event_to_sse().await;
        concurrent_turns().await;
        training_overhead().await;
        check_overhead().await;
    }
    event_across_processes().await;
}
