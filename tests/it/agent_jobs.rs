//! Turn jobs end to end, on SQLite and on PostgreSQL: queued with a credit,
//! taken by a worker, run against the scripted model server and a real
//! sandbox of the bundled daemon, saved as a version, every step recorded.

use std::time::Duration;

use ollio::server::{config::Config, startup};
use ollio_agent::worker::Workers;
use ollio_domain::{MessageId, ProjectId, TurnEvent, TurnMode, UserId};
use ollio_store::{
    secrets::{provider_key_context, SecretBox},
    EnqueueRefusal, EnqueuedTurn, JobState, LeftOut, LeftOutReason, Message, MessageStatus, Store,
    StoredEvent, TurnRequest,
};
use ollio_testkit::fixtures;
use ollio_testkit::{on_both_databases, TestDb};
use ollio_testkit::{ScriptedServer, TestDaemon};

use crate::GUEST;

on_both_databases!(
    a_three_file_app_becomes_a_version_with_every_step_recorded,
    a_follow_up_works_in_the_same_sandbox,
    a_follow_up_after_the_sandbox_expired_revives_the_files,
    stop_ends_a_running_turn_and_keeps_its_files,
    stop_ends_a_queued_turn_at_once,
    a_turn_that_keeps_failing_is_retried_then_refunded,
    a_turn_the_model_refuses_fails_clearly_and_is_refunded,
    a_turn_done_before_a_crash_is_not_run_again,
    an_account_keeps_its_sandboxes_within_budget,
    a_users_own_key_is_used_for_their_turns,
    deleting_a_project_stops_its_turn_and_kills_its_sandbox,
    parallel_calls_and_the_models_mistakes_through_jobs,
    a_react_version_holds_the_project_s_files_and_not_its_packages,
    a_plan_and_a_question_change_nothing_and_a_built_plan_reaches_the_model,
);

const SECRET: &str = "5ecc5ecc5ecc5ecc5ecc5ecc5ecc5ecc5ecc5ecc5ecc5ecc5ecc5ecc5ecc5ecc";

struct Rig {
    store: Store,
    workers: Workers,
    daemon: TestDaemon,
    models: ScriptedServer,
    owner: UserId,
    project: ProjectId,
    db: TestDb,
}

async fn rig_with(db: TestDb, extra: &[(&str, &str)], attempts: u32) -> Rig {
    // Real apps run in these sandboxes, and their checks (Vite beside tsc).
    rig_on(db, TestDaemon::for_apps(GUEST).await, extra, attempts).await
}

async fn rig_on(db: TestDb, daemon: TestDaemon, extra: &[(&str, &str)], attempts: u32) -> Rig {
    let models = ScriptedServer::for_tests().await;
    let base_url = models.openai_base_url();
    let mut pairs: Vec<(String, String)> = vec![("OPENAI_BASE_URL".into(), base_url)];
    pairs.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    rig_from(db, daemon, models, pairs, attempts).await
}

/// A rig configured by `pairs` alone (and its workers' settings).
async fn rig_from(
    db: TestDb,
    daemon: TestDaemon,
    models: ScriptedServer,
    mut pairs: Vec<(String, String)>,
    attempts: u32,
) -> Rig {
    // Two workers with a short lease.
    pairs.push(("OLLIO_WORKERS".into(), "2".into()));
    pairs.push(("OLLIO_JOB_LEASE_SECS".into(), "10".into()));
    let config = Config::from_lookup(|name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    })
    .unwrap();
    let store = db.store.clone();
    let secrets = SecretBox::from_hex(SECRET).unwrap();
    let mut engine =
        startup::engine(&config, &store, daemon.client.clone(), Some(secrets)).unwrap();
    // Quick retries, so tries that fail on purpose keep the test short.
    engine.sandbox_lifetime = Duration::from_secs(600);
    engine.limits.model_attempts = attempts;
    engine.limits.retry_base = Duration::from_millis(10);
    engine.retry_base = Duration::from_millis(20);
    let workers = startup::workers(&config, engine);
    let owner = fixtures::user(&store, "ada@example.com").await;
    let project = fixtures::project(&store, &owner, "Greeting").await.id;
    Rig {
        db,
        store,
        workers,
        daemon,
        models,
        owner,
        project,
    }
}

async fn rig(db: TestDb) -> Rig {
    rig_with(db, &[], 4).await
}

impl Rig {
    /// Saves the owner's own `key` (sealed as settings seal it) for
    /// `provider`, at their own `base_url` if given.
    async fn save_own_key(&self, provider: &str, key: &str, base_url: Option<&str>) {
        let sealed = SecretBox::from_hex(SECRET)
            .unwrap()
            .seal(key, &provider_key_context(&self.owner, provider));
        let hint = &key[key.len().saturating_sub(4)..];
        self.store
            .save_provider_key(&self.owner, provider, &sealed, hint, base_url)
            .await
            .unwrap();
    }

    /// Makes a new project of `template` the one the rig's turns go to.
    async fn start_project(&mut self, name: &str, template: &str) {
        self.project = self
            .store
            .create_project(&self.owner, &fixtures::project_name(name), template)
            .await
            .unwrap()
            .id;
    }

    async fn send(&self, script: &str, text: &str, attempts: i64) -> EnqueuedTurn {
        self.store
            .set_project_model(
                &self.owner,
                &self.project,
                Some(&format!("openai:{script}")),
            )
            .await
            .unwrap();
        let queued = self
            .store
            .enqueue_turn(&self.owner, &self.project, text, 50, attempts)
            .await
            .unwrap()
            .unwrap();
        self.workers.wake();
        queued
    }

    /// Sends `text` in `mode` to the model `script` (the project's model),
    /// building `plan` when one is given.
    async fn send_in(
        &self,
        script: &str,
        text: &str,
        mode: TurnMode,
        plan: Option<&MessageId>,
    ) -> Result<EnqueuedTurn, EnqueueRefusal> {
        self.store
            .set_project_model(
                &self.owner,
                &self.project,
                Some(&format!("openai:{script}")),
            )
            .await
            .unwrap();
        let request = TurnRequest {
            mode,
            plan,
            ..TurnRequest::build(text)
        };
        let queued = self
            .store
            .enqueue_request(&self.owner, &self.project, &request, 50, 3)
            .await
            .unwrap();
        self.workers.wake();
        queued
    }

    /// The requests the scripted server had for `model`, in order.
    fn requests_to(&self, model: &str) -> Vec<serde_json::Value> {
        self.models
            .requests()
            .into_iter()
            .filter(|request| request["model"] == model)
            .collect()
    }

    async fn message(&self, queued: &EnqueuedTurn) -> Message {
        self.store
            .messages(&self.owner, &self.project)
            .await
            .unwrap()
            .into_iter()
            .find(|message| message.id == queued.turn.assistant_message)
            .unwrap()
    }

    /// Waits until the turn's message has ended.
    async fn settled(&self, queued: &EnqueuedTurn) -> Message {
        self.settled_within(queued, Duration::from_secs(30)).await
    }

    async fn settled_within(&self, queued: &EnqueuedTurn, patience: Duration) -> Message {
        let deadline = std::time::Instant::now() + patience;
        loop {
            let message = self.message(queued).await;
            if matches!(
                message.status,
                MessageStatus::Done | MessageStatus::Failed | MessageStatus::Cancelled
            ) {
                // Let the worker settle the job too.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return message;
            }
            assert!(std::time::Instant::now() < deadline, "the turn never ended");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn credits_used(&self) -> i64 {
        self.store
            .usage(&self.owner, 50, ollio_store::now_ms())
            .await
            .unwrap()
            .used
    }

    /// Waits until the project has an event of `kind`.
    async fn wait_for(&self, kind: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !self.events().await.iter().any(|event| event.kind == kind) {
            assert!(std::time::Instant::now() < deadline, "no {kind} event came");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn events(&self) -> Vec<StoredEvent> {
        self.store
            .events_after(&self.owner, &self.project, 0, 10_000)
            .await
            .unwrap()
    }

    async fn decoded(&self, queued: &EnqueuedTurn) -> Vec<TurnEvent> {
        self.events()
            .await
            .into_iter()
            .filter(|event| event.message == queued.turn.assistant_message)
            .map(|event| serde_json::from_str(&event.payload).unwrap())
            .collect()
    }
}

async fn a_react_version_holds_the_project_s_files_and_not_its_packages(db: TestDb) {
    let mut rig = rig(db).await;
    rig.start_project("Board", "react").await;
    let queued = rig.send("react-board", "A React kanban board", 3).await;
    let message = rig.settled(&queued).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);

    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    let version = &versions[0];
    let files = rig
        .store
        .version_files(&rig.owner, &version.id)
        .await
        .unwrap();
    let paths: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "index.html",
            "package-lock.json",
            "package.json",
            "public/dot.png",
            "src/App.tsx",
            "src/components/Column.tsx",
            "src/index.css",
            "src/main.tsx",
            "tsconfig.json",
            "vite.config.ts",
        ],
        "the starter files and the agent's, never node_modules or Vite's cache"
    );
    let app = files
        .iter()
        .find(|file| file.path == "src/App.tsx")
        .unwrap();
    assert_eq!(app.language, "tsx");
    assert!(app.content.contains("Kanban Board"));
    // An image the agent made is kept byte for byte; what was not kept is
    // listed with why.
    let dot = files
        .iter()
        .find(|file| file.path == "public/dot.png")
        .unwrap();
    assert!(dot.binary);
    assert_eq!(dot.bytes(), DOT_PNG);
    assert_eq!(dot.size, 70);
    assert!(
        version.left_out.contains(&LeftOut {
            path: "node_modules".into(),
            reason: LeftOutReason::Dependencies,
            size: None,
        }),
        "{:?}",
        version.left_out
    );
    assert!(version.left_out.contains(&LeftOut {
        path: "public/huge.bin".into(),
        reason: LeftOutReason::TooLarge,
        size: Some(9_000_000),
    }));

    // The engine waited for Vite before calling the preview ready.
    let preview = version.preview_url.clone().unwrap();
    let sandbox_id = version.sandbox_id.clone().unwrap();
    assert!(preview.starts_with(&format!("http://5173-{sandbox_id}.localhost:")));
    let kinds: Vec<String> = rig
        .events()
        .await
        .into_iter()
        .map(|event| event.kind)
        .collect();
    let at = |kind: &str| kinds.iter().position(|k| k == kind);
    assert!(
        at("app_starting").unwrap() < at("app_ready").unwrap(),
        "{kinds:?}"
    );
    assert!(at("app_ready").unwrap() < at("summary").unwrap());
    assert!(at("app_failed").is_none());
    let page = rig.daemon.preview_page(&sandbox_id, 5173).await;
    assert!(page.contains("/src/main.tsx"), "{page}");

    // A sandbox revived for the next turn gets the version's files over
    // the template: the image byte for byte, and the packages back.
    rig.daemon.client.kill(&sandbox_id).await.unwrap();
    let next = rig.send("react-heading", "Rename the board", 3).await;
    let message = rig.settled_within(&next, Duration::from_secs(90)).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    let revived = rig.store.versions(&rig.owner, &rig.project).await.unwrap()[0]
        .sandbox_id
        .clone()
        .unwrap();
    assert_ne!(revived, sandbox_id);
    let sandbox = rig.daemon.client.connect(&revived, 60).await.unwrap();
    let envd = rig.daemon.client.envd(&sandbox);
    assert_eq!(
        envd.read_file("/home/user/public/dot.png").await.unwrap(),
        DOT_PNG
    );
    let react = envd
        .read_file("/home/user/node_modules/react/package.json")
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&react).contains("\"name\": \"react\""));
}

/// The 1×1 PNG the `react-board` script makes.
const DOT_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0xf8, 0xcf, 0x50,
    0x0f, 0x00, 0x03, 0x86, 0x01, 0x80, 0x5a, 0x34, 0x7d, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// One database is enough: what is tested is the engine and sandboxd, and
/// each run installs the template from the registry once.
#[tokio::test]
async fn a_template_s_first_use_is_prepared_as_a_step_of_its_own() {
    let cache = tempfile::tempdir().unwrap();
    let daemon = TestDaemon::start_with(GUEST, |config| {
        config.template_cache = Some(cache.path().to_path_buf());
    })
    .await;
    let mut rig = rig_on(ollio_testkit::db::sqlite().await, daemon, &[], 4).await;
    rig.start_project("Api", "node-api").await;
    let queued = rig.send("quick", "A small API", 3).await;
    let message = rig
        .settled_within(&queued, Duration::from_secs(20 * 60))
        .await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    let events = rig.decoded(&queued).await;
    assert_eq!(
        events.first(),
        Some(&TurnEvent::TemplatePreparing {
            name: "Node API".into()
        }),
        "{events:?}"
    );
    let at = |wanted: &TurnEvent| events.iter().position(|event| event == wanted);
    assert_eq!(at(&TurnEvent::TemplateReady), Some(1), "{events:?}");
    assert_eq!(at(&TurnEvent::SandboxStarting), Some(2), "{events:?}");
    assert!(at(&TurnEvent::AppReady).is_some(), "{events:?}");

    // The next turn finds the template built: no such step again.
    let next = rig.send("quick", "Another change", 3).await;
    assert_eq!(rig.settled(&next).await.status, MessageStatus::Done);
    let events = rig.decoded(&next).await;
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, TurnEvent::TemplatePreparing { .. })),
        "{events:?}"
    );
}

/// The check before a turn ends, on a Python API: the model's first
/// `main.py` has a syntax error; the traceback goes back to the model in
/// the same turn, as found, and its fix makes a version whose check passed.
/// A later change the model cannot fix in two rounds ends "with errors":
/// saved, its problems recorded, one credit each.
#[tokio::test]
async fn a_python_syntax_error_is_found_and_fixed_before_the_turn_ends() {
    let mut rig = rig(ollio_testkit::db::sqlite().await).await;
    rig.start_project("Notes", "python-api").await;
    let queued = rig.send("journey", "Build a notes API", 3).await;
    let message = rig.settled_within(&queued, Duration::from_secs(120)).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    let events = rig.decoded(&queued).await;
    let checks: Vec<&Vec<ollio_domain::CheckProblem>> = events
        .iter()
        .filter_map(|event| match event {
            TurnEvent::CheckEnded { problems } => Some(problems),
            _ => None,
        })
        .collect();
    assert_eq!(checks.len(), 2, "{events:?}");
    let found = &checks[0];
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].message, "SyntaxError: invalid syntax");
    assert_eq!(found[0].place().as_deref(), Some("main.py:9"));
    assert!(checks[1].is_empty(), "{:?}", checks[1]);
    assert!(events.contains(&TurnEvent::FixStarted {
        attempt: 1,
        errors: 1
    }));
    // The fix request held the traceback, exactly as the log had it.
    let fix_request = rig
        .models
        .requests()
        .into_iter()
        .find_map(|request| {
            request["messages"].as_array()?.iter().find_map(|message| {
                let text = message["content"].as_str()?;
                text.starts_with("The check after your work found 1 error")
                    .then(|| text.to_owned())
            })
        })
        .expect("a request with the check's findings");
    assert!(
        fix_request.contains("Traceback (most recent call last):"),
        "{fix_request}"
    );
    assert!(fix_request.contains("def list_notes(:"), "{fix_request}");
    assert!(fix_request.contains("main.py:9"), "{fix_request}");
    assert_eq!(
        message.content,
        "Fixed the syntax error in main.py: GET /notes answers now."
    );
    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    assert_eq!(versions[0].check, Some(Vec::new()));
    assert_eq!(rig.credits_used().await, 1);

    let stubborn = rig.send("journey", "Add a stubborn endpoint", 3).await;
    let message = rig
        .settled_within(&stubborn, Duration::from_secs(120))
        .await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    let events = rig.decoded(&stubborn).await;
    let fixes: Vec<&TurnEvent> = events
        .iter()
        .filter(|event| matches!(event, TurnEvent::FixStarted { .. }))
        .collect();
    assert_eq!(
        fixes,
        [
            &TurnEvent::FixStarted {
                attempt: 1,
                errors: 1
            },
            &TurnEvent::FixStarted {
                attempt: 2,
                errors: 1
            }
        ]
    );
    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    assert_eq!(versions.len(), 2);
    let left = versions[0].check.clone().expect("checked");
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].place().as_deref(), Some("main.py:14"));
    assert_eq!(versions[1].check_passed(), Some(true));
    // However many rounds, a turn is one credit.
    assert_eq!(rig.credits_used().await, 2);
}

/// A project of 300 files and 100 earlier turns, on a model with a small
/// context window: the turn goes through, and every request fits the
/// window, the older turns summarised.
#[tokio::test]
async fn a_long_project_s_turn_fits_a_small_context_window() {
    let rig = rig_with(
        ollio_testkit::db::sqlite().await,
        &[("OLLIO_CONTEXT_TOKENS", "24000")],
        4,
    )
    .await;
    let store = &rig.store;
    for turn in 0..100 {
        let words = "and a little more of the same change ".repeat(200);
        for (role, text) in [
            (ollio_store::Role::User, format!("Change {turn}: {words}")),
            (
                ollio_store::Role::Assistant,
                format!("Done with change {turn}: {words}"),
            ),
        ] {
            fixtures::message(store, &rig.project, role, &text, MessageStatus::Done).await;
        }
    }
    let files = (0..300)
        .map(|n| fixtures::file(&format!("parts/part_{n:03}.txt"), &format!("part {n}\n")))
        .collect();
    store
        .create_version(ollio_store::NewVersion {
            project: rig.project.clone(),
            message: None,
            title: "Three hundred parts".into(),
            template: "static".into(),
            sandbox_id: None,
            preview_url: None,
            files,
            left_out: Vec::new(),
            check: None,
        })
        .await
        .unwrap();
    let queued = rig.send("three-files", "A greeting page on top", 3).await;
    let message = rig.settled_within(&queued, Duration::from_secs(90)).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    assert_eq!(versions.len(), 2);
    let kept = rig
        .store
        .version_files(&rig.owner, &versions[0].id)
        .await
        .unwrap();
    assert_eq!(kept.len(), 303);
    let budget = ollio_agent::context::budget(24_000, 8192);
    // The last twelve messages alone are over the window: they had to be
    // fitted.
    assert!(12 * 7_400 / 4 > budget);
    let requests: Vec<serde_json::Value> = rig
        .requests_to("three-files")
        .into_iter()
        .filter(|request| request["tools"].is_array())
        .collect();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        let messages = request["messages"].as_array().unwrap();
        let chars: usize = messages
            .iter()
            .map(|message| {
                message["content"]
                    .as_str()
                    .map_or(0, |text| text.chars().count())
                    + message["tool_calls"].to_string().len()
            })
            .sum();
        let tokens = (chars / 4 + 4 * messages.len()) as u64;
        assert!(tokens <= budget, "{tokens} > {budget}");
        let system = messages[0]["content"].as_str().unwrap();
        assert!(system.contains("Earlier in this chat"), "{system}");
        assert!(system.contains("earlier messages)"), "{system}");
        // The request names the project's files, and the newest turn is whole.
        let last_user = messages
            .iter()
            .rev()
            .find(|message| message["role"] == "user")
            .unwrap()["content"]
            .as_str()
            .unwrap();
        assert!(last_user.contains("parts/part_000.txt"), "{last_user}");
        assert!(last_user.ends_with("A greeting page on top"));
    }
}

/// `OLLIO_TURN_TOKENS`: at 80% the model is told to wrap up, at 100% the
/// turn ends with what it made saved as a version, and says so.
#[tokio::test]
async fn a_turn_out_of_tokens_stops_and_keeps_its_work() {
    let rig = rig_with(
        ollio_testkit::db::sqlite().await,
        &[("OLLIO_TURN_TOKENS", "1000")],
        4,
    )
    .await;
    let queued = rig.send("budget-hog", "Write three files slowly", 3).await;
    let message = rig.settled(&queued).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    assert_eq!(message.content, ollio_agent::turn::budget_summary(1000));
    assert!(message.content.contains("budget of 1k tokens"));
    assert_eq!((message.tokens_in, message.tokens_out), (1100, 30));
    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].title, "Write three files slowly");
    let files = rig
        .store
        .version_files(&rig.owner, &versions[0].id)
        .await
        .unwrap();
    let paths: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(paths, ["index.html", "more.txt", "notes.txt"]);
    let events = rig.decoded(&queued).await;
    assert!(events.contains(&TurnEvent::BudgetNear {
        used: 820,
        budget: 1000
    }));
    assert!(events.contains(&TurnEvent::BudgetSpent {
        used: 1130,
        budget: 1000
    }));
    let requests = rig.requests_to("budget-hog");
    assert_eq!(requests.len(), 3, "no request past the budget, no title");
    let told = requests[2]["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(told.ends_with(ollio_agent::turn::WRAP_UP), "{told}");
    assert!(!requests[1].to_string().contains("80% of its token budget"));
    assert_eq!(rig.credits_used().await, 1);
}

/// With `OLLIO_FIX_ATTEMPTS=0` the check only reports: a static page's
/// link to a file that is not there is recorded with the version.
#[tokio::test]
async fn a_static_page_s_missing_link_is_reported_and_recorded() {
    let rig = rig_with(
        ollio_testkit::db::sqlite().await,
        &[("OLLIO_FIX_ATTEMPTS", "0")],
        4,
    )
    .await;
    let queued = rig.send("static-missing", "A page with a logo", 3).await;
    let message = rig.settled(&queued).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    let events = rig.decoded(&queued).await;
    assert!(!events
        .iter()
        .any(|event| matches!(event, TurnEvent::FixStarted { .. })));
    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    let problems = versions[0].check.clone().expect("checked");
    let said: Vec<String> = problems.iter().map(|p| p.headline()).collect();
    assert_eq!(
        said,
        ["index.html:8 — index.html links img/logo.png, which does not exist"]
    );
}

/// The supervisor's install after the agent changed `package.json`, and the
/// restart after it, are steps of the turn.
#[tokio::test]
async fn a_changed_manifest_s_install_and_restart_are_steps() {
    let mut rig = rig(ollio_testkit::db::sqlite().await).await;
    rig.start_project("Api", "node-api").await;
    let queued = rig.send("node-packages", "Name the API", 3).await;
    let message = rig.settled_within(&queued, Duration::from_secs(120)).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    let events = rig.decoded(&queued).await;
    let installing = events
        .iter()
        .position(|event| {
            *event
                == TurnEvent::AppInstalling {
                    file: "package.json".into(),
                }
        })
        .unwrap_or_else(|| panic!("no install step: {events:?}"));
    let installed = events
        .iter()
        .position(|event| matches!(event, TurnEvent::AppInstalled { .. }))
        .unwrap_or_else(|| panic!("the install never ended: {events:?}"));
    assert!(installing < installed);
    assert_eq!(
        events.get(installed + 1),
        Some(&TurnEvent::AppRestarted { exit_code: None }),
        "{events:?}"
    );
    assert!(events.contains(&TurnEvent::AppReady), "{events:?}");
}

async fn a_three_file_app_becomes_a_version_with_every_step_recorded(db: TestDb) {
    let rig = rig(db).await;
    let queued = rig.send("three-files", "A friendly greeting page", 3).await;
    let message = rig.settled(&queued).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    assert_eq!(
        message.content,
        "Built a static greeting page with its own style and script."
    );
    assert_eq!(message.model.as_deref(), Some("openai:three-files"));
    assert_eq!((message.tokens_in, message.tokens_out), (3300, 170));
    assert_eq!(
        rig.store.job(&queued.job.id).await.unwrap().unwrap().state,
        JobState::Done
    );

    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    assert_eq!(versions.len(), 1);
    let version = &versions[0];
    assert_eq!(version.title, "Friendly Greeting Page");
    assert_eq!(
        version.message.as_ref(),
        Some(&queued.turn.assistant_message)
    );
    let files = rig
        .store
        .version_files(&rig.owner, &version.id)
        .await
        .unwrap();
    let paths: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(paths, ["app.js", "index.html", "style.css"]);
    assert_eq!(files[1].language, "html");
    let sandbox_id = version.sandbox_id.clone().unwrap();
    let preview = version.preview_url.clone().unwrap();
    assert!(preview.starts_with(&format!("http://3000-{sandbox_id}.localhost:")));
    let (_, origin) = rig.daemon.preview_client(&sandbox_id, 3000);
    assert_eq!(origin, preview);
    let page = rig.daemon.preview_page(&sandbox_id, 3000).await;
    assert!(page.contains("Hello from Ollio"));

    let events = rig.events().await;
    let seqs: Vec<i64> = events.iter().map(|event| event.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gaps");
    let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"sandbox_starting"));
    assert_eq!(kinds.last(), Some(&"summary"));
    for kind in [
        "sandbox_ready",
        "model_request",
        "file_written",
        "command_started",
        "output",
        "command_exited",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert_eq!(
        kinds.iter().filter(|kind| **kind == "file_written").count(),
        3
    );
    // Its page and the two files it links are there: the check passed.
    assert_eq!(version.check, Some(Vec::new()));
    let at = |kind: &str| kinds.iter().position(|k| *k == kind).unwrap();
    assert!(at("check_started") < at("check_ended") && at("check_ended") < at("summary"));
}

/// Plan and Ask only read: a plan's write is refused (and offered no
/// such tool), neither makes a version, both cost a credit and name their
/// role; "Build this plan" hands the plan to the build's model.
async fn a_plan_and_a_question_change_nothing_and_a_built_plan_reaches_the_model(db: TestDb) {
    let rig = rig(db).await;
    let first = rig.send("three-files", "A greeting page", 3).await;
    assert_eq!(rig.settled(&first).await.status, MessageStatus::Done);
    let sandbox = rig.store.versions(&rig.owner, &rig.project).await.unwrap()[0]
        .sandbox_id
        .clone()
        .unwrap();

    let plan = rig
        .send_in("plan-guestbook", "Plan a guestbook", TurnMode::Plan, None)
        .await
        .unwrap();
    let planned = rig.settled(&plan).await;
    assert_eq!(planned.status, MessageStatus::Done, "{:?}", planned.error);
    assert_eq!(planned.model_role.as_deref(), Some("plan"));
    assert_eq!(planned.mode, TurnMode::Plan);
    assert!(
        planned.content.starts_with("## Goal\nAdd a guestbook"),
        "{}",
        planned.content
    );
    assert_eq!(
        rig.store
            .versions(&rig.owner, &rig.project)
            .await
            .unwrap()
            .len(),
        1
    );
    // The write never happened: the page is the first version's.
    let page = rig.daemon.preview_page(&sandbox, 3000).await;
    assert!(page.contains("Hello from Ollio"), "{page}");
    let plan_requests = rig.requests_to("plan-guestbook");
    assert_eq!(plan_requests.len(), 3, "three steps, no title request");
    let offered: Vec<&str> = plan_requests[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|tool| tool["function"]["name"].as_str())
        .collect();
    assert_eq!(offered, ["read_files", "list_files"]);
    let refused = plan_requests[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|message| message["role"] == "tool")
        .filter_map(|message| message["content"].as_str())
        .collect::<Vec<_>>();
    assert_eq!(refused.len(), 1);
    assert!(refused[0].contains("only reads the project"), "{refused:?}");
    let system = plan_requests[0]["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("## Goal") && system.contains("## Steps"),
        "{system}"
    );

    // An answer is not a plan: it cannot be built.
    let question = rig
        .send_in("ask-app", "What does app.js do?", TurnMode::Ask, None)
        .await
        .unwrap();
    let answered = rig.settled(&question).await;
    assert_eq!(answered.status, MessageStatus::Done, "{:?}", answered.error);
    assert_eq!(answered.model_role.as_deref(), Some("ask"));
    assert!(answered
        .content
        .contains("`app.js` is the page's only script"));
    assert_eq!(
        rig.store
            .versions(&rig.owner, &rig.project)
            .await
            .unwrap()
            .len(),
        1
    );
    let not_a_plan = rig
        .send_in(
            "plan-build",
            "Build this plan",
            TurnMode::Build,
            Some(&question.turn.assistant_message),
        )
        .await
        .unwrap_err();
    assert_eq!(not_a_plan, EnqueueRefusal::NoPlan);

    let build = rig
        .send_in(
            "plan-build",
            "Build this plan",
            TurnMode::Build,
            Some(&plan.turn.assistant_message),
        )
        .await
        .unwrap();
    let built = rig.settled(&build).await;
    assert_eq!(built.status, MessageStatus::Done, "{:?}", built.error);
    assert_eq!(built.model_role.as_deref(), Some("build"));
    let asked = rig
        .models
        .requests()
        .into_iter()
        .find(|request| request["model"] == "plan-build")
        .unwrap();
    let last = asked["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(last.contains("Build this plan"), "{last}");
    assert!(
        last.contains(
            "The plan to build, written earlier in this chat:\n\n## Goal\nAdd a guestbook"
        ),
        "{last}"
    );
    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].title, "Guestbook Added");
    let user = rig
        .store
        .messages(&rig.owner, &rig.project)
        .await
        .unwrap()
        .into_iter()
        .find(|message| message.id == build.turn.user_message)
        .unwrap();
    assert_eq!(user.plan.as_ref(), Some(&plan.turn.assistant_message));
    // Four turns, four credits; the refused one spent none.
    assert_eq!(rig.credits_used().await, 4);
}

async fn a_follow_up_works_in_the_same_sandbox(db: TestDb) {
    let rig = rig(db).await;
    let first = rig.send("three-files", "A greeting page", 3).await;
    assert_eq!(rig.settled(&first).await.status, MessageStatus::Done);
    let second = rig.send("follow-up", "Make it bigger", 3).await;
    let message = rig.settled(&second).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    assert_eq!(message.content, "Made the greeting bigger.");
    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].version, 2);
    assert_eq!(
        versions[0].sandbox_id, versions[1].sandbox_id,
        "same sandbox"
    );
    let files = rig
        .store
        .version_files(&rig.owner, &versions[0].id)
        .await
        .unwrap();
    assert_eq!(
        files.len(),
        3,
        "the other files are still part of the version"
    );
    assert!(files[1].content.contains("Hello again"));
    let ready = rig
        .decoded(&second)
        .await
        .into_iter()
        .find_map(|event| match event {
            TurnEvent::SandboxReady { revived_files, .. } => Some(revived_files),
            _ => None,
        });
    assert_eq!(ready, Some(0));
}

async fn a_follow_up_after_the_sandbox_expired_revives_the_files(db: TestDb) {
    let rig = rig(db).await;
    let first = rig.send("three-files", "A greeting page", 3).await;
    assert_eq!(rig.settled(&first).await.status, MessageStatus::Done);
    let old = rig.store.versions(&rig.owner, &rig.project).await.unwrap()[0]
        .sandbox_id
        .clone()
        .unwrap();
    rig.daemon.client.kill(&old).await.unwrap();
    let second = rig.send("follow-up", "Make it bigger", 3).await;
    let message = rig.settled(&second).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    let new = versions[0].sandbox_id.clone().unwrap();
    assert_ne!(new, old);
    let ready = rig
        .decoded(&second)
        .await
        .into_iter()
        .find_map(|event| match event {
            TurnEvent::SandboxReady { revived_files, .. } => Some(revived_files),
            _ => None,
        });
    assert_eq!(ready, Some(3));
    // The revived files are served by the new sandbox.
    let (client, origin) = rig.daemon.preview_client(&new, 3000);
    let style = client
        .get(format!("{origin}/style.css"))
        .send()
        .await
        .unwrap();
    assert!(style.text().await.unwrap().contains("#10131a"));
}

async fn stop_ends_a_running_turn_and_keeps_its_files(db: TestDb) {
    let rig = rig(db).await;
    let queued = rig.send("stoppable", "stop me", 3).await;
    rig.wait_for("command_started").await;
    let asked = std::time::Instant::now();
    assert!(rig
        .workers
        .cancel(&rig.owner, &queued.turn.assistant_message)
        .await
        .unwrap());
    let message = rig.settled(&queued).await;
    assert_eq!(message.status, MessageStatus::Cancelled);
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(
        rig.store.job(&queued.job.id).await.unwrap().unwrap().state,
        JobState::Cancelled
    );
    assert!(rig.decoded(&queued).await.contains(&TurnEvent::Cancelled));
    let sandbox = rig
        .store
        .current_sandbox(&rig.project)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(rig.daemon.home_of(&sandbox.id).join("kept.txt")).unwrap(),
        "written before the stop"
    );
    // Stopping is the user's choice: the credit stays spent.
    assert_eq!(rig.credits_used().await, 1);
}

async fn stop_ends_a_queued_turn_at_once(db: TestDb) {
    let rig = rig(db).await;
    rig.workers.shutdown().await;
    let queued = rig.send("three-files", "never runs", 3).await;
    assert!(rig
        .workers
        .cancel(&rig.owner, &queued.turn.assistant_message)
        .await
        .unwrap());
    assert_eq!(rig.message(&queued).await.status, MessageStatus::Cancelled);
    assert!(rig.decoded(&queued).await.contains(&TurnEvent::Cancelled));
    // Another user cannot stop (or even find) it.
    let bob = rig
        .store
        .create_user("bob@example.com", "argon2id-hash-placeholder")
        .await
        .unwrap()
        .id;
    assert!(!rig
        .workers
        .cancel(&bob, &queued.turn.assistant_message)
        .await
        .unwrap());
}

async fn a_turn_that_keeps_failing_is_retried_then_refunded(db: TestDb) {
    // One try per model request, so every failure ends the job's try.
    let rig = rig_with(db, &[], 1).await;
    let flaky = rig.send("flaky", "steady", 5).await;
    let message = rig.settled(&flaky).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    let retries = rig
        .decoded(&flaky)
        .await
        .iter()
        .filter(|event| matches!(event, TurnEvent::Retrying { .. }))
        .count();
    assert!(retries >= 3, "{retries}");
    assert_eq!(
        rig.store
            .job(&flaky.job.id)
            .await
            .unwrap()
            .unwrap()
            .attempts,
        4
    );
    assert_eq!(rig.credits_used().await, 1, "one credit for the whole turn");

    let down = rig.send("always-down", "never", 2).await;
    let message = rig.settled(&down).await;
    assert_eq!(message.status, MessageStatus::Failed);
    assert!(message.error.unwrap().contains("kept failing"));
    assert_eq!(
        rig.store.job(&down.job.id).await.unwrap().unwrap().state,
        JobState::Dead
    );
    assert!(rig
        .decoded(&down)
        .await
        .iter()
        .any(|event| matches!(event, TurnEvent::Failed { .. })));
    assert_eq!(rig.credits_used().await, 1, "the failed turn was refunded");
}

async fn a_turn_the_model_refuses_fails_clearly_and_is_refunded(db: TestDb) {
    let rig = rig(db).await;
    let queued = rig
        .store
        .enqueue_turn(&rig.owner, &rig.project, "anything", 50, 3)
        .await
        .unwrap()
        .unwrap();
    rig.workers.wake();
    let message = rig.settled(&queued).await;
    assert_eq!(message.status, MessageStatus::Failed);
    // OPENAI_BASE_URL alone makes openai:gpt-4.1 the default; the scripted
    // server has no such script, so the provider refuses the request.
    assert!(message.error.unwrap().contains("The model failed"));
    assert_eq!(rig.credits_used().await, 0);
}

/// A crash after the version and the answer were saved, before the job
/// ended: the job is taken again, and the turn is not run a second time
/// (no model call, no second version); on the last try nothing is failed
/// or refunded either.
async fn a_turn_done_before_a_crash_is_not_run_again(db: TestDb) {
    // A short lease: the reaper looks every second.
    let rig = rig_with(db, &[("OLLIO_JOB_LEASE_SECS", "2")], 4).await;
    let queued = rig.send("quick", "a page", 3).await;
    let answer = rig.settled(&queued).await;
    assert_eq!(answer.status, MessageStatus::Done, "{:?}", answer.error);
    let job_in = |state: JobState| {
        let (store, id) = (rig.store.clone(), queued.job.id.clone());
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let job = store.job(&id).await.unwrap().unwrap();
                if job.state == state && job.lease_owner.is_none() {
                    return job;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "the job never became {state:?}"
                );
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    };
    assert_eq!(job_in(JobState::Done).await.attempts, 1);
    let requests = rig.models.requests().len();
    let crash = |extra: &str| {
        format!(
            "UPDATE jobs SET state = 'running', lease_owner = 'gone', lease_expires_at = 0{extra} WHERE id = '{}'",
            queued.job.id
        )
    };

    rig.db.execute(&crash("")).await;
    assert_eq!(job_in(JobState::Done).await.attempts, 2, "taken again");
    assert_eq!(
        rig.models.requests().len(),
        requests,
        "no second model call"
    );
    assert_eq!(
        rig.store
            .versions(&rig.owner, &rig.project)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(rig.message(&queued).await, answer);

    // The same crash on the last try: the job is given up, the answer stays.
    rig.db.execute(&crash(", attempts = max_attempts")).await;
    job_in(JobState::Dead).await;
    assert!(rig.store.reconcile_turns().await.unwrap().is_empty());
    assert_eq!(rig.message(&queued).await, answer);
    assert_eq!(rig.credits_used().await, 1, "nothing refunded");
    let kinds: Vec<String> = rig
        .events()
        .await
        .into_iter()
        .map(|event| event.kind)
        .collect();
    assert_eq!(
        kinds.iter().filter(|kind| *kind == "summary").count(),
        1,
        "{kinds:?}"
    );
    assert!(
        !kinds
            .iter()
            .any(|kind| kind == "failed" || kind == "retrying"),
        "{kinds:?}"
    );
}

/// With two sandboxes per account, a third project's turn ends the least
/// recently used one (its preview sleeps, and wakes again on demand); when
/// every sandbox serves a turn in progress, the turn says why it cannot
/// start and its credit comes back.
async fn an_account_keeps_its_sandboxes_within_budget(db: TestDb) {
    // A third worker, so a third turn runs while two are busy.
    let mut rig = rig_with(
        db,
        &[("OLLIO_SANDBOXES_PER_USER", "2"), ("OLLIO_WORKERS", "3")],
        4,
    )
    .await;
    let mut sandboxes = Vec::new();
    for name in ["One", "Two", "Three"] {
        rig.start_project(name, "static").await;
        let queued = rig.send("quick", "a page", 3).await;
        let answer = rig.settled(&queued).await;
        assert_eq!(answer.status, MessageStatus::Done, "{:?}", answer.error);
        let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
        sandboxes.push(versions[0].sandbox_id.clone().unwrap());
    }
    let live: Vec<String> = rig
        .store
        .live_sandboxes(&rig.owner, None)
        .await
        .unwrap()
        .into_iter()
        .map(|sandbox| sandbox.id)
        .collect();
    assert_eq!(live.len(), 2, "{live:?}");
    assert!(
        !live.contains(&sandboxes[0]),
        "the first project's went to sleep"
    );
    assert!(matches!(
        rig.daemon.client.get(&sandboxes[0]).await,
        Err(ollio_sandbox::SandboxError::NotFound)
    ));

    // Both live sandboxes busy with turns: a third cannot start.
    let three = rig.project.clone();
    let slow = rig.send("crash", "a slow page", 3).await;
    rig.wait_for("command_started").await;
    let sandboxes_before = rig.store.live_sandboxes(&rig.owner, None).await.unwrap();
    let two = sandboxes_before
        .iter()
        .find(|sandbox| sandbox.project != three)
        .unwrap()
        .project
        .clone();
    rig.project = two;
    let also_slow = rig.send("crash", "another slow page", 3).await;
    rig.wait_for("command_started").await;
    rig.start_project("Four", "static").await;
    let used = rig.credits_used().await;
    let refused = rig.send("quick", "a page", 3).await;
    let answer = rig.settled(&refused).await;
    assert_eq!(answer.status, MessageStatus::Failed);
    assert!(
        answer
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("already has 2 apps running"),
        "{:?}",
        answer.error
    );
    assert_eq!(rig.credits_used().await, used, "refunded");
    for queued in [&slow, &also_slow] {
        rig.workers
            .cancel(&rig.owner, &queued.turn.assistant_message)
            .await
            .unwrap();
    }
}

async fn a_users_own_key_is_used_for_their_turns(db: TestDb) {
    let rig = rig_with(db, &[("OPENAI_API_KEY", "sk-server-key")], 4).await;
    let first = rig.send("quick", "with the server's key", 3).await;
    assert_eq!(rig.settled(&first).await.status, MessageStatus::Done);
    let keys = |rig: &Rig| -> Vec<String> {
        rig.models
            .requests()
            .iter()
            .map(|request| request["_key"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert!(keys(&rig).iter().all(|key| key == "Bearer sk-server-key"));
    rig.save_own_key("openai", "sk-adas-own", None).await;
    let before = keys(&rig).len();
    let second = rig.send("quick", "with my key", 3).await;
    assert_eq!(rig.settled(&second).await.status, MessageStatus::Done);
    let used = keys(&rig);
    assert!(
        used[before..].iter().all(|key| key == "Bearer sk-adas-own"),
        "{used:?}"
    );
}

/// With no default model (no `OLLIO_MODEL`, no server key), a user's own
/// Anthropic key stands for Anthropic's model: the scripted server plays
/// the script named after it.
#[tokio::test]
async fn a_users_own_key_stands_for_its_providers_model_without_a_default() {
    let models = ScriptedServer::for_tests().await;
    let pairs = vec![("ANTHROPIC_BASE_URL".to_owned(), models.anthropic_base_url())];
    let rig = rig_from(
        ollio_testkit::db::sqlite().await,
        TestDaemon::start(GUEST).await,
        models,
        pairs,
        4,
    )
    .await;
    rig.save_own_key("anthropic", "sk-ant-adas-own", None).await;
    let queued = rig
        .store
        .enqueue_turn(&rig.owner, &rig.project, "A page with my own key", 50, 3)
        .await
        .unwrap()
        .unwrap();
    rig.workers.wake();
    let message = rig.settled(&queued).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    assert_eq!(
        message.model.as_deref(),
        Some("anthropic:claude-sonnet-4-5")
    );
    assert_eq!(message.model_role.as_deref(), Some("build"));
    let requests = rig.models.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|request| request["_key"] == "sk-ant-adas-own"),
        "{requests:?}"
    );
}

/// A user's own OpenAI-compatible server, at a loopback URL: refused with
/// the reason while the operator has not allowed private addresses; with
/// the allowance, the turn runs there with the user's key, on the model its
/// test listed, with no server model at all.
#[tokio::test]
async fn a_users_own_server_is_reached_only_where_the_operator_allows() {
    for allowed in [false, true] {
        let models = ScriptedServer::for_tests().await;
        let url = models.openai_base_url();
        let mut pairs = Vec::new();
        if allowed {
            pairs.push((
                "OLLIO_ALLOW_PRIVATE_MODEL_URLS".to_owned(),
                "true".to_owned(),
            ));
        }
        let rig = rig_from(
            ollio_testkit::db::sqlite().await,
            TestDaemon::start(GUEST).await,
            models,
            pairs,
            4,
        )
        .await;
        rig.save_own_key("custom", "sk-own-server", Some(&url))
            .await;
        rig.store
            .record_provider_models(&rig.owner, "custom", &["three-files".to_owned()])
            .await
            .unwrap();
        let queued = rig
            .store
            .enqueue_turn(&rig.owner, &rig.project, "A page on my own server", 50, 1)
            .await
            .unwrap()
            .unwrap();
        rig.workers.wake();
        let message = rig.settled(&queued).await;
        if !allowed {
            assert_eq!(message.status, MessageStatus::Failed);
            let error = message.error.unwrap_or_default();
            assert!(
                error.contains("private or loopback")
                    && error.contains("OLLIO_ALLOW_PRIVATE_MODEL_URLS"),
                "{error}"
            );
            assert!(rig.models.requests().is_empty(), "a request got through");
            continue;
        }
        assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
        assert_eq!(message.model.as_deref(), Some("custom:three-files"));
        let requests = rig.models.requests();
        assert!(!requests.is_empty());
        assert!(
            requests
                .iter()
                .all(|request| request["_key"] == "Bearer sk-own-server"),
            "{requests:?}"
        );
    }
}

/// A turn on Ollama, through Ollama's own API: whole tool calls ending in
/// "stop", tool results by tool name, and the context window asked for.
#[tokio::test]
async fn an_ollama_turn_runs_end_to_end_on_ollamas_own_api() {
    let models = ScriptedServer::for_tests().await;
    let pairs = vec![
        ("OLLAMA_HOST".to_owned(), models.ollama_host()),
        ("OLLIO_MODEL".to_owned(), "ollama:three-files".to_owned()),
        (
            "OLLIO_MODEL_CONTEXT".to_owned(),
            "ollama:three-files=32768".to_owned(),
        ),
    ];
    let rig = rig_from(
        ollio_testkit::db::sqlite().await,
        TestDaemon::start(GUEST).await,
        models,
        pairs,
        4,
    )
    .await;
    let queued = rig
        .store
        .enqueue_turn(&rig.owner, &rig.project, "A greeting page, locally", 50, 3)
        .await
        .unwrap()
        .unwrap();
    rig.workers.wake();
    let message = rig.settled(&queued).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    assert_eq!(message.model.as_deref(), Some("ollama:three-files"));
    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    assert_eq!(versions.len(), 1);
    let requests = rig.models.requests();
    let turn: Vec<_> = requests
        .iter()
        .filter(|request| request["tools"].is_array())
        .collect();
    assert!(turn.len() >= 3, "{requests:?}");
    assert!(turn
        .iter()
        .all(|request| request["options"]["num_ctx"] == 32768));
    let last = turn.last().unwrap()["messages"].as_array().unwrap();
    assert!(
        last.iter()
            .any(|message| message["role"] == "tool" && message["tool_name"] == "write_files"),
        "{last:?}"
    );
}

async fn deleting_a_project_stops_its_turn_and_kills_its_sandbox(db: TestDb) {
    let rig = rig(db).await;
    let queued = rig.send("stoppable", "stop me by deleting", 3).await;
    rig.wait_for("command_started").await;
    let sandbox = rig
        .store
        .current_sandbox(&rig.project)
        .await
        .unwrap()
        .unwrap();
    rig.workers
        .forget_projects(&rig.owner, Some(&rig.project))
        .await
        .unwrap();
    assert!(rig
        .store
        .delete_project(&rig.owner, &rig.project)
        .await
        .unwrap());
    assert_eq!(
        rig.store.job(&queued.job.id).await.unwrap().unwrap().state,
        JobState::Cancelled
    );
    assert!(matches!(
        rig.daemon.client.get(&sandbox.id).await,
        Err(ollio_sandbox::SandboxError::NotFound)
    ));
}

async fn parallel_calls_and_the_models_mistakes_through_jobs(db: TestDb) {
    let rig = rig(db).await;
    let parallel = rig.send("parallel", "two notes", 3).await;
    assert_eq!(rig.settled(&parallel).await.status, MessageStatus::Done);
    let version = rig.store.versions(&rig.owner, &rig.project).await.unwrap()[0].clone();
    let files = rig
        .store
        .version_files(&rig.owner, &version.id)
        .await
        .unwrap();
    let paths: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(paths, ["notes/a.txt", "notes/b.txt"]);

    let mistakes = rig.send("mistakes", "a page", 3).await;
    let message = rig.settled(&mistakes).await;
    assert_eq!(message.status, MessageStatus::Done, "{:?}", message.error);
    // What the model was told, in the last request of that turn.
    let told = rig
        .models
        .requests()
        .iter()
        .rev()
        .find(|request| request["model"] == "mistakes" && request["tools"].is_array())
        .map(|request| request["messages"].to_string())
        .unwrap();
    assert!(told.contains("not valid JSON"), "{told}");
    assert!(told.contains("leaves the project root"), "{told}");
    let sandbox = rig
        .store
        .current_sandbox(&rig.project)
        .await
        .unwrap()
        .unwrap();
    let home = rig.daemon.home_of(&sandbox.id);
    assert!(!home.parent().unwrap().join("escape.txt").exists());
}
