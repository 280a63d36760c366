//! Turns across real processes: `ollio serve` killed with SIGKILL in the
//! middle of a turn and started again (on SQLite and PostgreSQL), and two
//! `ollio worker` processes sharing one PostgreSQL queue.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use ollio_agent::worker::{WorkerOptions, Workers};
use ollio_domain::UserId;
use ollio_store::{EnqueuedTurn, JobState, MessageStatus, Role, Store};
use ollio_testkit::fixtures;
use ollio_testkit::{on_both_databases, TestDb};
use ollio_testkit::{ScriptedServer, TestDaemon};

use crate::GUEST;

on_both_databases!(
    a_turn_survives_the_server_being_killed_mid_turn,
    stop_after_its_worker_died_frees_the_project,
    a_training_run_survives_the_server_being_killed_mid_training,
);

const BIN: &str = env!("CARGO_BIN_EXE_ollio");

/// The binary with only the settings a test gives it.
fn ollio(dir: &Path, db: &TestDb, models: &ScriptedServer) -> Command {
    // Run as root, `ollio serve` works as its service user in `dir/data`.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.url.expose())
        .env("OLLIO_DATA_DIR", dir.join("data"))
        .env("OLLIO_ADDR", "127.0.0.1:0")
        .env("OLLIO_SANDBOXD_ADDR", "127.0.0.1:0")
        .env("OPENAI_BASE_URL", models.openai_base_url())
        .env("OLLIO_JOB_LEASE_SECS", "2")
        // The templates the test script built (the ML model's venv).
        .env(
            "OLLIO_TEMPLATE_CACHE",
            ollio_testkit::sandboxd::template_cache(),
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Starts `command`, waiting for the line it prints once it is ready.
fn start(command: &mut Command, ready: &str) -> Child {
    let mut child = command.stdout(Stdio::piped()).spawn().expect("start ollio");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines
            .next()
            .expect("ollio printed that it is ready")
            .unwrap();
        if line.contains(ready) {
            break;
        }
    }
    // Keep reading, so a full pipe never blocks it.
    std::thread::spawn(move || for _ in lines {});
    child
}

async fn owner_and_turns(store: &Store, script: &str, count: usize) -> (UserId, Vec<EnqueuedTurn>) {
    let owner = fixtures::user(store, "ada@example.com").await;
    let mut turns = Vec::new();
    for index in 0..count {
        let project = fixtures::project(store, &owner, &format!("App {index}")).await;
        store
            .set_project_model(&owner, &project.id, Some(&format!("openai:{script}")))
            .await
            .unwrap();
        turns.push(
            store
                .enqueue_turn(&owner, &project.id, "build it", 50, 3)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    (owner, turns)
}

/// Waits for the turn's answer and then its job to be done (the worker
/// marks the job just after the message: a process killed in between would
/// leave the job to be reclaimed, not done).
async fn wait_until_done(store: &Store, owner: &UserId, turn: &EnqueuedTurn, limit: Duration) {
    let started = Instant::now();
    loop {
        let job_done = store
            .job(&turn.job.id)
            .await
            .unwrap()
            .is_some_and(|job| job.state == JobState::Done);
        let message = store
            .messages(owner, &turn.turn.project)
            .await
            .unwrap()
            .into_iter()
            .find(|message| message.id == turn.turn.assistant_message)
            .unwrap();
        match message.status {
            MessageStatus::Done if job_done => return,
            MessageStatus::Failed | MessageStatus::Cancelled => {
                panic!("the turn ended {:?}: {:?}", message.status, message.error)
            }
            _ => {}
        }
        assert!(
            started.elapsed() < limit,
            "the turn did not finish in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn kinds(store: &Store, owner: &UserId, turn: &EnqueuedTurn) -> Vec<String> {
    store
        .events_after(owner, &turn.turn.project, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|event| event.message == turn.turn.assistant_message)
        .map(|event| event.kind)
        .collect()
}

/// Waits until the turn has recorded an event of `kind`.
async fn wait_for_kind(store: &Store, owner: &UserId, turn: &EnqueuedTurn, kind: &str) {
    let started = Instant::now();
    while !kinds(store, owner, turn).await.iter().any(|k| k == kind) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the turn never recorded {kind}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_turn_survives_the_server_being_killed_mid_turn(db: TestDb) {
    let models = ScriptedServer::for_tests().await;
    let dir = tempfile::tempdir().unwrap();
    let store = db.store.clone();
    let (owner, turns) = owner_and_turns(&store, "crash", 1).await;
    let turn = &turns[0];

    let mut first = start(&mut ollio(dir.path(), &db, &models), "Ollio is running");
    // Kill it while the turn's long command runs.
    wait_for_kind(&store, &owner, turn, "command_started").await;
    first.kill().unwrap();
    first.wait().unwrap();

    let mut second = start(&mut ollio(dir.path(), &db, &models), "Ollio is running");
    wait_until_done(&store, &owner, turn, Duration::from_secs(60)).await;
    second.kill().unwrap();
    second.wait().unwrap();

    let messages = store.messages(&owner, &turn.turn.project).await.unwrap();
    let users: Vec<_> = messages.iter().filter(|m| m.role == Role::User).collect();
    assert_eq!(users.len(), 1, "the user's message exists exactly once");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].content, "Built it, despite a crash.");
    let job = store.job(&turn.job.id).await.unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Done, 2));

    let events = store
        .events_after(&owner, &turn.turn.project, 0, 10_000)
        .await
        .unwrap();
    let seqs: Vec<i64> = events.iter().map(|event| event.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "numbered once each"
    );
    let kinds = kinds(&store, &owner, turn).await;
    let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
    // The first try's steps were recorded once; the second try starts by
    // saying so and records its own.
    assert_eq!(count("sandbox_starting"), 2, "{kinds:?}");
    assert_eq!(count("retrying"), 1, "{kinds:?}");
    assert_eq!(count("summary"), 1, "{kinds:?}");
    assert_eq!(count("failed"), 0, "{kinds:?}");
    assert_eq!(
        store
            .usage(&owner, 50, ollio_store::now_ms())
            .await
            .unwrap()
            .used,
        1
    );
    let versions = store.versions(&owner, &turn.turn.project).await.unwrap();
    assert_eq!(versions.len(), 1);
}

#[tokio::test]
async fn postgres_two_worker_processes_never_run_the_same_job() {
    let db = ollio_testkit::db::postgres().await;
    let models = ScriptedServer::for_tests().await;
    let daemon = TestDaemon::start(GUEST).await;
    let store = db.store.clone();
    let (owner, turns) = owner_and_turns(&store, "quick", 8).await;
    let dir = tempfile::tempdir().unwrap();
    let worker = || {
        let mut command = ollio(dir.path(), &db, &models);
        command
            .arg("worker")
            .env("OLLIO_WORKERS", "2")
            // Two processes of two workers run up to four of the one
            // account's turns at once: above the default sandboxes per
            // account (3), the fourth would fail when all four overlap.
            .env("OLLIO_SANDBOXES_PER_USER", "4")
            .env("OLLIO_SANDBOXD_ADDR", daemon.addr().to_string())
            .env("OLLIO_SANDBOXD_API_KEY", daemon.key.expose());
        start(&mut command, "worker(s) are running")
    };
    let mut workers = [worker(), worker()];
    for turn in &turns {
        wait_until_done(&store, &owner, turn, Duration::from_secs(60)).await;
    }
    for child in &mut workers {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    for turn in &turns {
        let job = store.job(&turn.job.id).await.unwrap().unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Done, 1), "taken once");
        let kinds = kinds(&store, &owner, turn).await;
        let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
        assert_eq!(count("sandbox_starting"), 1, "run once: {kinds:?}");
        assert_eq!(count("summary"), 1, "{kinds:?}");
        assert_eq!(
            store
                .versions(&owner, &turn.turn.project)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

/// The jam of a project whose turn's worker died: Stop used to find no
/// worker to tell and leave the message "running" for good, so every later
/// message was refused as busy.
async fn stop_after_its_worker_died_frees_the_project(db: TestDb) {
    let models = ScriptedServer::for_tests().await;
    let dir = tempfile::tempdir().unwrap();
    let store = db.store.clone();
    let (owner, turns) = owner_and_turns(&store, "crash", 1).await;
    let turn = &turns[0];
    let mut first = start(&mut ollio(dir.path(), &db, &models), "Ollio is running");
    wait_for_kind(&store, &owner, turn, "command_started").await;
    first.kill().unwrap();
    first.wait().unwrap();

    // Stop, pressed while no process runs the turn: through this test's
    // own workers (none of them runs it), as any server's Stop would be.
    let daemon = TestDaemon::start(GUEST).await;
    let config = ollio::server::config::Config::from_lookup(|_: &str| None).unwrap();
    let engine =
        ollio::server::startup::engine(&config, &store, daemon.client.clone(), None).unwrap();
    let workers = Workers::start(
        engine,
        WorkerOptions {
            count: 0,
            lease: Duration::from_secs(2),
        },
    );
    assert!(workers
        .cancel(&owner, &turn.turn.assistant_message)
        .await
        .unwrap());
    workers.shutdown().await;
    let stopped = store
        .messages(&owner, &turn.turn.project)
        .await
        .unwrap()
        .into_iter()
        .find(|message| message.id == turn.turn.assistant_message)
        .unwrap();
    assert_eq!(stopped.status, MessageStatus::Cancelled);

    // After a restart the stopped turn stays stopped, and the project
    // takes a new message that runs to its end.
    let mut second = start(&mut ollio(dir.path(), &db, &models), "Ollio is running");
    let next = store
        .enqueue_turn(&owner, &turn.turn.project, "build it again", 50, 3)
        .await
        .unwrap()
        .expect("the project takes a new message");
    wait_until_done(&store, &owner, &next, Duration::from_secs(60)).await;
    second.kill().unwrap();
    second.wait().unwrap();
    let job = store.job(&turn.job.id).await.unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Cancelled, 1));
    let kinds = kinds(&store, &owner, turn).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "cancelled").count(),
        1,
        "{kinds:?}"
    );
    assert!(!kinds.iter().any(|k| k == "summary"), "{kinds:?}");
}

/// A training run is a durable job too: killed with the server in the
/// middle of `train.py`, it is taken again after the restart and ends
/// deployed, in a new sandbox, with the turn's credit spent once.
async fn a_training_run_survives_the_server_being_killed_mid_training(db: TestDb) {
    use ollio_store::TrainingStatus;
    let models = ScriptedServer::for_tests().await;
    let dir = tempfile::tempdir().unwrap();
    let store = db.store.clone();
    let owner = fixtures::user(&store, "ada@example.com").await;
    let project = store
        .create_project(&owner, &fixtures::project_name("Iris"), "ml-model")
        .await
        .unwrap();
    store
        .set_project_model(&owner, &project.id, Some("openai:model-sleepy"))
        .await
        .unwrap();
    store
        .enqueue_turn(&owner, &project.id, "a model", 50, 3)
        .await
        .unwrap()
        .unwrap();
    let run = |store: Store| {
        let (owner, project) = (owner.clone(), project.id.clone());
        async move {
            store
                .training_jobs(&owner, &project)
                .await
                .unwrap()
                .into_iter()
                .next()
        }
    };
    let mut first = start(&mut ollio(dir.path(), &db, &models), "Ollio is running");
    // Kill it once train.py has reported (it then sleeps).
    let started = Instant::now();
    let caught = loop {
        if let Some(caught) = run(store.clone()).await {
            if caught.status == TrainingStatus::Training && caught.progress == Some(0.1) {
                break caught;
            }
            assert!(!caught.status.is_finished(), "it ended first: {caught:?}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "never trained"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    first.kill().unwrap();
    first.wait().unwrap();

    let mut second = start(&mut ollio(dir.path(), &db, &models), "Ollio is running");
    let started = Instant::now();
    let ended = loop {
        let now = run(store.clone()).await.unwrap();
        if now.status.is_finished() {
            break now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "never ended: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(ended.id, caught.id, "the same run, taken again");
    assert_eq!(ended.status, TrainingStatus::Deployed, "{ended:?}");
    assert!(ended.metrics.contains_key("accuracy"), "{ended:?}");
    let job = store
        .training_jobs(&owner, &project.id)
        .await
        .unwrap()
        .len();
    assert_eq!(job, 1, "one run");
    let messages = store.messages(&owner, &project.id).await.unwrap();
    let answer = messages.iter().find(|m| m.id == ended.message).unwrap();
    assert_eq!(answer.status, MessageStatus::Done);
    assert_eq!(
        store
            .usage(&owner, 50, ollio_store::now_ms())
            .await
            .unwrap()
            .used,
        1
    );
}
