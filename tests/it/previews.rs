//! The Preview tab's server functions, on SQLite and on PostgreSQL, against
//! the real app, a real sandbox daemon and (for turns) the scripted model
//! server: `preview_status` and `start_preview` for the newest version (the
//! project's working sandbox) and for older ones (a preview-only sandbox).

use std::time::Duration;

use crate::support::app::{TestApp, Visitor};
use ollio::api::preview::PreviewView;
use ollio_domain::{ProjectId, UserId, VersionId};
use ollio_sandbox::{RetryPolicy, SandboxClient, SandboxError};
use ollio_store::{MessageStatus, NewVersion, Store};
use ollio_testkit::fixtures;
use ollio_testkit::{on_both_databases, TestDb};
use ollio_testkit::{ScriptedServer, TestDaemon};
use reqwest::StatusCode;

use crate::GUEST;

on_both_databases!(
    a_turns_preview_sleeps_when_killed_and_wakes_with_its_files,
    an_older_version_is_previewed_apart_from_the_working_sandbox,
    a_running_turn_keeps_its_sandbox_and_failures_read_clearly,
    another_user_finds_no_version_to_preview,
    two_starts_at_once_make_one_sandbox,
    preview_starts_are_budgeted_per_hour,
);

const ADA: &str = "ada@example.com";

/// The app with a real sandbox daemon and one turn worker whose models
/// are the scripted server's.
struct Rig {
    app: TestApp,
    daemon: TestDaemon,
    _models: ScriptedServer,
    ada: Visitor,
    owner: UserId,
    project: ProjectId,
}

async fn rig(db: TestDb) -> Rig {
    rig_with(db, &[]).await
}

async fn rig_with(db: TestDb, vars: &[(&str, &str)]) -> Rig {
    let models = ScriptedServer::for_tests().await;
    let daemon = TestDaemon::start(GUEST).await;
    let base_url = models.openai_base_url();
    let mut vars = vars.to_vec();
    vars.push(("OPENAI_BASE_URL", base_url.as_str()));
    let app = TestApp::start_with_sandbox(db, &vars, daemon.client.clone(), 1).await;
    let ada = app.user(ADA).await;
    let (owner, project) = project_of(&app.db.store, ADA).await;
    Rig {
        app,
        daemon,
        _models: models,
        ada,
        owner,
        project,
    }
}

async fn project_of(store: &Store, email: &str) -> (UserId, ProjectId) {
    let owner = store.user_by_email(email).await.unwrap().unwrap().id;
    let project = fixtures::project(store, &owner, "Greeting").await;
    (owner, project.id)
}

/// A version with one page saying `text`.
async fn version(store: &Store, project: &ProjectId, text: &str) -> VersionId {
    store
        .create_version(NewVersion {
            project: project.clone(),
            message: None,
            title: text.into(),
            template: "static".into(),
            sandbox_id: None,
            preview_url: None,
            files: vec![fixtures::file("index.html", &format!("<h1>{text}</h1>"))],
            left_out: Vec::new(),
            check: None,
        })
        .await
        .unwrap()
        .id
}

async fn preview(visitor: &Visitor, function: &str, version: &VersionId) -> PreviewView {
    let (status, body) = visitor
        .call(function, &[("version", version.as_str())])
        .await;
    assert_eq!(status, StatusCode::OK, "{function}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn running_url(view: &PreviewView) -> String {
    assert_eq!(view.state, "running", "{view:?}");
    let left = view.expires_in_ms.unwrap();
    assert!(left > 60_000 && left <= 600_000, "{view:?}");
    view.url.clone().unwrap()
}

/// The sandbox id in a preview address, `http://3000-{id}.localhost:…`.
fn sandbox_of(url: &str) -> String {
    let host = url.strip_prefix("http://3000-").unwrap();
    host.split('.').next().unwrap().to_owned()
}

impl Rig {
    /// The page at a preview address, through the daemon's host routing,
    /// once the sandbox's server answers.
    async fn page(&self, url: &str) -> String {
        let (client, origin) = self.daemon.preview_client(&sandbox_of(url), 3000);
        assert_eq!(origin, url);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let response = client.get(url).send().await.unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            if status == StatusCode::OK {
                return body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{url}: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends a message with the scripted model `script` and waits for its turn.
    async fn turn(&self, script: &str, text: &str) {
        let store = &self.app.db.store;
        store
            .set_project_model(
                &self.owner,
                &self.project,
                Some(&format!("openai:{script}")),
            )
            .await
            .unwrap();
        let (status, body) = self
            .ada
            .call(
                "send_message",
                &[("project", self.project.as_str()), ("content", text)],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let messages = store.messages(&self.owner, &self.project).await.unwrap();
            let last = messages.last().unwrap();
            match last.status {
                MessageStatus::Done => break,
                MessageStatus::Pending | MessageStatus::Running => {}
                other => panic!("the turn ended {other:?}: {:?}", last.error),
            }
            assert!(std::time::Instant::now() < deadline, "the turn never ended");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn versions(&self) -> Vec<ollio_store::Version> {
        self.app
            .db
            .store
            .versions(&self.owner, &self.project)
            .await
            .unwrap()
    }

    async fn working_sandbox(&self) -> Option<String> {
        let current = self.app.db.store.current_sandbox(&self.project).await;
        current.unwrap().map(|sandbox| sandbox.id)
    }

    async fn gone(&self, sandbox: &str) -> bool {
        matches!(
            self.daemon.client.get(sandbox).await,
            Err(SandboxError::NotFound)
        )
    }
}

async fn a_turns_preview_sleeps_when_killed_and_wakes_with_its_files(db: TestDb) {
    let rig = rig(db).await;
    rig.turn("three-files", "A greeting page").await;
    let first = rig.versions().await[0].clone();
    let status = preview(&rig.ada, "preview_status", &first.id).await;
    let url = running_url(&status);
    assert_eq!(Some(&url), first.preview_url.as_ref());
    assert!(rig.page(&url).await.contains("Hello from Ollio"));
    // Starting what already runs answers the same sandbox.
    let again = preview(&rig.ada, "start_preview", &first.id).await;
    assert_eq!(running_url(&again), url);

    let old = sandbox_of(&url);
    rig.daemon.client.kill(&old).await.unwrap();
    let status = preview(&rig.ada, "preview_status", &first.id).await;
    assert_eq!(status.state, "asleep", "{status:?}");
    assert_eq!(
        rig.working_sandbox().await,
        None,
        "the gone sandbox is marked ended"
    );
    let started = preview(&rig.ada, "start_preview", &first.id).await;
    let revived = running_url(&started);
    assert_ne!(revived, url);
    assert!(rig.page(&revived).await.contains("Hello from Ollio"));
    let (client, origin) = rig.daemon.preview_client(&sandbox_of(&revived), 3000);
    let style = client.get(format!("{origin}/style.css")).send().await;
    assert!(style.unwrap().text().await.unwrap().contains("#10131a"));
    let status = preview(&rig.ada, "preview_status", &first.id).await;
    assert_eq!(running_url(&status), revived);

    // The revived sandbox is the project's: the next turn works in it.
    assert_eq!(rig.working_sandbox().await, Some(sandbox_of(&revived)));
    rig.turn("follow-up", "Make it bigger").await;
    let versions = rig.versions().await;
    assert_eq!(
        versions[0].sandbox_id.as_deref(),
        Some(sandbox_of(&revived).as_str())
    );
    let newest = preview(&rig.ada, "preview_status", &versions[0].id).await;
    assert_eq!(running_url(&newest), revived);
    assert!(rig.page(&revived).await.contains("Hello again from Ollio"));
    let older = preview(&rig.ada, "preview_status", &first.id).await;
    assert_eq!(older.state, "asleep", "{older:?}");
}

async fn an_older_version_is_previewed_apart_from_the_working_sandbox(db: TestDb) {
    let rig = rig(db).await;
    let store = &rig.app.db.store;
    let one = version(store, &rig.project, "Version one").await;
    let two = version(store, &rig.project, "Version two").await;
    let three = version(store, &rig.project, "Version three").await;
    for older in [&one, &two] {
        let status = preview(&rig.ada, "preview_status", older).await;
        assert_eq!(status.state, "asleep", "{status:?}");
    }
    let working = running_url(&preview(&rig.ada, "start_preview", &three).await);
    assert!(rig.page(&working).await.contains("Version three"));

    let first = running_url(&preview(&rig.ada, "start_preview", &one).await);
    assert_ne!(first, working);
    assert!(rig.page(&first).await.contains("Version one"));
    assert!(rig.page(&working).await.contains("Version three"));
    assert_eq!(rig.working_sandbox().await, Some(sandbox_of(&working)));
    assert_eq!(
        running_url(&preview(&rig.ada, "preview_status", &one).await),
        first
    );
    assert_eq!(
        running_url(&preview(&rig.ada, "start_preview", &one).await),
        first,
        "starting a running preview again keeps it"
    );
    assert_eq!(
        running_url(&preview(&rig.ada, "preview_status", &three).await),
        working
    );

    // One preview-only sandbox per project: the second ends the first.
    let second = running_url(&preview(&rig.ada, "start_preview", &two).await);
    assert!(rig.page(&second).await.contains("Version two"));
    assert!(rig.gone(&sandbox_of(&first)).await);
    let status = preview(&rig.ada, "preview_status", &one).await;
    assert_eq!(status.state, "asleep", "{status:?}");
    assert!(rig.page(&working).await.contains("Version three"));
    assert_eq!(rig.working_sandbox().await, Some(sandbox_of(&working)));

    // Deleting the project kills both.
    let live = store.live_sandboxes(&rig.owner, None).await.unwrap();
    let mut ids: Vec<String> = live.into_iter().map(|sandbox| sandbox.id).collect();
    ids.sort();
    let mut expected = vec![sandbox_of(&working), sandbox_of(&second)];
    expected.sort();
    assert_eq!(ids, expected);
    let (status, body) = rig
        .ada
        .call("delete_project", &[("id", rig.project.as_str())])
        .await;
    assert!(status.is_success(), "{status} {body}");
    for id in &expected {
        assert!(rig.gone(id).await, "{id} still runs");
    }
}

async fn a_running_turn_keeps_its_sandbox_and_failures_read_clearly(db: TestDb) {
    // No worker: the queued turn stays queued.
    let daemon = TestDaemon::start(GUEST).await;
    let app = TestApp::start_with_sandbox(db, &[], daemon.client.clone(), 0).await;
    let ada = app.user(ADA).await;
    let store = &app.db.store;
    let (owner, project) = project_of(store, ADA).await;
    let old = version(store, &project, "Old").await;
    let newest = version(store, &project, "New").await;
    store
        .enqueue_turn(&owner, &project, "change it", 50, 3)
        .await
        .unwrap()
        .unwrap();
    let status = preview(&ada, "start_preview", &newest).await;
    assert_eq!(status.state, "asleep", "{status:?}");
    assert_eq!(store.current_sandbox(&project).await.unwrap(), None);
    assert!(daemon.client.list().await.unwrap().is_empty());
    // An older version has a sandbox of its own, which the turn never uses.
    let status = preview(&ada, "start_preview", &old).await;
    assert_eq!(status.state, "running", "{status:?}");
    assert_eq!(store.current_sandbox(&project).await.unwrap(), None);

    // No version yet.
    let none = preview(&ada, "preview_status", &VersionId::from_raw("")).await;
    assert_eq!(none.state, "none", "{none:?}");

    // A full daemon, an unreachable one, none at all.
    let full = TestDaemon::start_with(GUEST, |config| config.max_sandboxes = 0).await;
    let impatient = RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    };
    let cases = [
        (
            Some(SandboxClient::with_retry(
                full.client.endpoint().clone(),
                impatient,
            )),
            "All sandboxes are busy; try again in a minute.",
        ),
        (
            Some(SandboxClient::with_retry(
                ollio_sandbox::Endpoint {
                    api_url: "http://127.0.0.1:9".into(),
                    ..full.client.endpoint().clone()
                },
                impatient,
            )),
            "The sandbox service is not reachable.",
        ),
        (
            None,
            "Previews are not available: this server has no sandbox service set up.",
        ),
    ];
    for (client, reason) in cases {
        let db = ollio_testkit::db::sqlite().await;
        let app = match client {
            Some(client) => TestApp::start_with_sandbox(db, &[], client, 0).await,
            None => TestApp::start(db).await,
        };
        let ada = app.user(ADA).await;
        let (_, project) = project_of(&app.db.store, ADA).await;
        let only = version(&app.db.store, &project, "Only").await;
        let status = preview(&ada, "start_preview", &only).await;
        assert_eq!(status.state, "failed", "{status:?}");
        assert_eq!(status.reason.as_deref(), Some(reason));
        assert_eq!(status.url, None);
    }
}

async fn another_user_finds_no_version_to_preview(db: TestDb) {
    let rig = rig(db).await;
    let store = &rig.app.db.store;
    let only = version(store, &rig.project, "Ada's own").await;
    let url = running_url(&preview(&rig.ada, "start_preview", &only).await);
    let bob = rig.app.user("bob@example.com").await;
    for function in ["preview_status", "start_preview"] {
        let (status, body) = bob.call(function, &[("version", only.as_str())]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{function}: {body}");
        assert!(!body.contains(&sandbox_of(&url)), "{body}");
        let (status, _) = rig
            .app
            .visitor()
            .call(function, &[("version", only.as_str())])
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{function}");
    }
    assert_eq!(rig.daemon.client.list().await.unwrap().len(), 1);
    assert_eq!(
        running_url(&preview(&rig.ada, "preview_status", &only).await),
        url
    );
}

/// Two tabs (or a double click) starting the same sleeping preview at once
/// get the same sandbox; no second one is left running unused.
async fn two_starts_at_once_make_one_sandbox(db: TestDb) {
    let rig = rig(db).await;
    let store = &rig.app.db.store;
    let older = version(store, &rig.project, "Version one").await;
    let newest = version(store, &rig.project, "Version two").await;
    for version in [&newest, &older] {
        let (one, two) = tokio::join!(
            preview(&rig.ada, "start_preview", version),
            preview(&rig.ada, "start_preview", version),
        );
        assert_eq!(running_url(&one), running_url(&two));
    }
    let running = rig.daemon.client.list().await.unwrap();
    assert_eq!(
        running.len(),
        2,
        "one working, one preview-only: {running:?}"
    );
}

/// Two starts an hour: a third says so; asking for a running preview
/// again costs nothing.
async fn preview_starts_are_budgeted_per_hour(db: TestDb) {
    let rig = rig_with(db, &[("OLLIO_PREVIEW_STARTS_PER_HOUR", "2")]).await;
    let store = &rig.app.db.store;
    let one = version(store, &rig.project, "Version one").await;
    let two = version(store, &rig.project, "Version two").await;
    let three = version(store, &rig.project, "Version three").await;
    let newest = running_url(&preview(&rig.ada, "start_preview", &three).await);
    assert_eq!(
        running_url(&preview(&rig.ada, "start_preview", &three).await),
        newest
    );
    running_url(&preview(&rig.ada, "start_preview", &one).await);
    let refused = preview(&rig.ada, "start_preview", &two).await;
    assert_eq!(refused.state, "failed", "{refused:?}");
    let reason = refused.reason.unwrap_or_default();
    assert!(
        reason.starts_with("You have started many previews this hour. Try again in"),
        "{reason}"
    );
}
