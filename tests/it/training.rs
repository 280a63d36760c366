//! ML models end to end: a turn in an `ml-model` project against the
//! scripted model server, then its training run in a real sandbox of the
//! bundled daemon (install, train with progress, deploy), its metrics and
//! artifacts kept with the version, Retrain, a revived sandbox that gets
//! its model back, failures with the log's tail, Stop and the time limit;
//! and the JSON API of the runs.

use std::{collections::BTreeSet, time::Duration};

use ollio::server::{config::Config, startup};
use ollio_agent::worker::Workers;
use ollio_domain::{ProjectId, UserId};
use ollio_store::{
    now_ms, EnqueuedTurn, MessageStatus, NewVersion, Store, StoredEvent, TrainingJob,
    TrainingStatus,
};
use ollio_testkit::{fixtures, on_both_databases, ScriptedServer, TestDaemon, TestDb};
use reqwest::StatusCode;

use crate::{support::app::TestApp, GUEST};

on_both_databases!(
    a_model_is_trained_deployed_and_kept_with_its_version,
    the_json_api_answers_the_owner_s_runs,
    a_restored_model_trains_as_its_own_version,
);

struct Rig {
    store: Store,
    workers: Workers,
    daemon: TestDaemon,
    _models: ScriptedServer,
    owner: UserId,
    project: ProjectId,
    _db: TestDb,
}

async fn rig(db: TestDb, extra: &[(&str, &str)]) -> Rig {
    // scikit-learn trains beside the API, as a real project's run does.
    let daemon = TestDaemon::for_apps(GUEST).await;
    let models = ScriptedServer::for_tests().await;
    let mut pairs: Vec<(String, String)> = vec![
        ("OPENAI_BASE_URL".into(), models.openai_base_url()),
        ("OLLIO_WORKERS".into(), "2".into()),
        ("OLLIO_JOB_LEASE_SECS".into(), "10".into()),
    ];
    let data = tempfile::tempdir().unwrap();
    pairs.push(("OLLIO_DATA_DIR".into(), data.path().display().to_string()));
    pairs.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let config = Config::from_lookup(|name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    })
    .unwrap();
    let store = db.store.clone();
    let mut engine = startup::engine(&config, &store, daemon.client.clone(), None).unwrap();
    engine.sandbox_lifetime = Duration::from_secs(600);
    let workers = startup::workers(&config, engine);
    // The blob store's folder lives as long as the test.
    std::mem::forget(data);
    let owner = fixtures::user(&store, "ada@example.com").await;
    let project = store
        .create_project(&owner, &fixtures::project_name("Iris"), "ml-model")
        .await
        .unwrap()
        .id;
    Rig {
        store,
        workers,
        daemon,
        _models: models,
        owner,
        project,
        _db: db,
    }
}

impl Rig {
    async fn send(&self, script: &str, text: &str) -> EnqueuedTurn {
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
            .enqueue_turn(&self.owner, &self.project, text, 50, 2)
            .await
            .unwrap()
            .unwrap();
        self.workers.wake();
        queued
    }

    async fn runs(&self) -> Vec<TrainingJob> {
        self.store
            .training_jobs(&self.owner, &self.project)
            .await
            .unwrap()
    }

    /// Waits until the newest run is in a state `done` accepts.
    async fn newest_run_until(
        &self,
        what: &str,
        within: Duration,
        done: impl Fn(&TrainingJob) -> bool,
    ) -> TrainingJob {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(run) = self.runs().await.into_iter().next() {
                if done(&run) {
                    return run;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "waiting for {what}, the run is {run:?}"
                );
            } else {
                assert!(tokio::time::Instant::now() < deadline, "no run was queued");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The newest run once it has ended (training the starter takes a few
    /// seconds; a busy machine is given minutes).
    async fn finished_run(&self) -> TrainingJob {
        self.newest_run_until("the run's end", Duration::from_secs(300), |run| {
            run.status.is_finished()
        })
        .await
    }

    async fn events_of(&self, run: &TrainingJob) -> Vec<StoredEvent> {
        self.store
            .events_after(&self.owner, &self.project, 0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|event| event.message == run.message)
            .collect()
    }

    async fn used(&self) -> i64 {
        self.store
            .usage(&self.owner, 50, now_ms())
            .await
            .unwrap()
            .used
    }

    /// A JSON request to the sandbox's API through the daemon's preview.
    async fn api(&self, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
        let sandbox = self
            .store
            .current_sandbox(&self.project)
            .await
            .unwrap()
            .expect("a working sandbox");
        let (client, origin) = self.daemon.preview_client(&sandbox.id, 8000);
        let request = match body {
            Some(body) => client.post(format!("{origin}{path}")).json(&body),
            None => client.get(format!("{origin}{path}")),
        };
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }
}

fn flower() -> serde_json::Value {
    serde_json::json!({
        "sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2
    })
}

async fn a_model_is_trained_deployed_and_kept_with_its_version(db: TestDb) {
    let rig = rig(db, &[]).await;
    let turn = rig
        .send("iris-model", "An iris classifier with an API")
        .await;
    let run = rig.finished_run().await;
    assert_eq!(run.status, TrainingStatus::Deployed, "{run:?}");
    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    assert_eq!((versions.len(), &run.version), (1, &versions[0].id));
    assert_eq!(run.progress, Some(1.0));
    assert!(run.metrics["accuracy"] >= 0.8, "{:?}", run.metrics);
    assert!(run.metrics.contains_key("f1_macro"), "{:?}", run.metrics);
    let url = run.deployment_url.clone().unwrap();
    assert!(
        url.starts_with("http://8000-") && url.contains(".localhost"),
        "{url}"
    );
    assert!(run.started_at.is_some() && run.finished_at >= run.started_at);

    // The chat's steps, in order, and the answer.
    let kinds: Vec<String> = rig
        .events_of(&run)
        .await
        .into_iter()
        .map(|event| event.kind)
        .collect();
    let step_order: Vec<&str> = kinds
        .iter()
        .map(String::as_str)
        .filter(|kind| ["training_step", "training_progress", "model_deployed"].contains(kind))
        .collect();
    assert_eq!(step_order.first(), Some(&"training_step"));
    assert_eq!(step_order.last(), Some(&"model_deployed"));
    assert_eq!(
        step_order
            .iter()
            .filter(|kind| **kind == "training_step")
            .count(),
        3,
        "{kinds:?}"
    );
    assert!(step_order.contains(&"training_progress"), "{kinds:?}");
    let messages = rig.store.messages(&rig.owner, &rig.project).await.unwrap();
    let answer = messages.iter().find(|m| m.id == run.message).unwrap();
    assert_eq!(answer.status, MessageStatus::Done);
    assert!(answer.content.contains("accuracy"), "{}", answer.content);
    assert!(answer.content.contains(&url), "{}", answer.content);
    assert_ne!(run.message, turn.turn.assistant_message);

    // The API predicts, through the preview.
    let (status, health) = rig.api("/health", None).await;
    assert_eq!(
        (status, &health["model_loaded"]),
        (200, &serde_json::json!(true))
    );
    let (status, prediction) = rig.api("/predict", Some(flower())).await;
    assert_eq!(status, 200, "{prediction}");
    assert_eq!(prediction["label"], "setosa");

    // The version keeps its model apart from its files.
    let blobs = rig.workers.engine().blobs.clone().unwrap();
    let kept: Vec<String> = blobs
        .artifacts(&run.version)
        .await
        .unwrap()
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    assert_eq!(kept, ["artifacts/metrics.json", "artifacts/model.joblib"]);
    assert_eq!(
        rig.used().await,
        1,
        "the turn's credit, and none for training"
    );

    // Retrain: the same version again, without a model call or a credit.
    let requests = rig._models.requests().len();
    let (_, again) = rig
        .store
        .enqueue_retrain(&rig.owner, &rig.project, 2)
        .await
        .unwrap()
        .unwrap();
    rig.workers.wake();
    let second = rig.finished_run().await;
    assert_eq!(second.id, again.training_job);
    assert_eq!(
        (second.status, &second.version),
        (TrainingStatus::Deployed, &run.version),
        "{second:?}"
    );
    assert_eq!(
        second.metrics, run.metrics,
        "the starter trains the same way"
    );
    assert_eq!(rig._models.requests().len(), requests, "no model call");
    assert_eq!(rig.used().await, 1);

    // A follow-up turn's version leaves the model out of its files.
    rig.send("iris-model", "Keep it as it is").await;
    let third = rig
        .newest_run_until("the follow-up's run", Duration::from_secs(300), |next| {
            next.id != second.id && next.status.is_finished()
        })
        .await;
    assert_eq!(third.status, TrainingStatus::Deployed, "{third:?}");
    let versions = rig.store.versions(&rig.owner, &rig.project).await.unwrap();
    let newest = &versions[0];
    assert_eq!(newest.id, third.version);
    let files = rig
        .store
        .version_files(&rig.owner, &newest.id)
        .await
        .unwrap();
    assert!(
        files
            .iter()
            .all(|file| !file.path.starts_with("artifacts/")),
        "{:?}",
        files.iter().map(|f| &f.path).collect::<Vec<_>>()
    );
    assert!(newest.left_out.iter().any(|left| left.path == "artifacts"
        && left.reason == ollio_store::LeftOutReason::ModelArtifacts));

    // A sandbox made anew for the version gets its model back untrained.
    let old = rig
        .store
        .current_sandbox(&rig.project)
        .await
        .unwrap()
        .unwrap();
    rig.daemon.client.kill(&old.id).await.unwrap();
    rig.store.end_sandbox(&old.id).await.unwrap();
    let maker = rig.workers.engine().sandbox_maker();
    let template = ollio_agent::templates::find("ml-model").unwrap();
    let fresh = maker
        .create(
            &rig.owner,
            &rig.project,
            template,
            (Some(&newest.id), &files),
            None,
        )
        .await
        .unwrap();
    maker.record(&fresh).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (client, origin) = rig.daemon.preview_client(&fresh.sandbox.id, 8000);
        let answer = client.get(format!("{origin}/health")).send().await;
        if let Ok(answer) = answer {
            if answer.status().is_success() {
                let health: serde_json::Value = answer.json().await.unwrap();
                assert_eq!(health["model_loaded"], true, "the model came back");
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the revived API never answered"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (status, prediction) = rig.api("/predict", Some(flower())).await;
    assert_eq!(
        (status, &prediction["label"]),
        (200, &serde_json::json!("setosa"))
    );
    assert_eq!(
        rig.runs().await.len(),
        3,
        "no training for the revived sandbox"
    );
}

#[tokio::test]
async fn a_failing_training_shows_its_reason_and_the_log_s_end() {
    let rig = rig(ollio_testkit::db::sqlite().await, &[]).await;
    rig.send("model-broken", "A model of my data").await;
    let run = rig.finished_run().await;
    assert_eq!(run.status, TrainingStatus::Failed, "{run:?}");
    let error = run.error.clone().unwrap();
    assert!(error.contains("exited with code 1"), "{error}");
    let tail = run.log_tail.clone().unwrap();
    assert!(
        tail.contains("ValueError: the data has no label column"),
        "{tail}"
    );
    assert!(tail.contains("Loading the data"), "{tail}");
    let events = rig.events_of(&run).await;
    let failed = events
        .iter()
        .find(|event| event.kind == "training_failed")
        .expect("a training_failed event");
    assert!(
        failed.payload.contains("\"stage\":\"train\""),
        "{}",
        failed.payload
    );
    assert!(failed.payload.contains("ValueError"), "{}", failed.payload);
    let messages = rig.store.messages(&rig.owner, &rig.project).await.unwrap();
    let answer = messages.iter().find(|m| m.id == run.message).unwrap();
    assert_eq!(answer.status, MessageStatus::Failed);
    assert_eq!(answer.error.as_deref(), Some(error.as_str()));
    // The turn itself was done: its credit stays spent; training cost none.
    assert_eq!(rig.used().await, 1);
    assert!(rig
        .workers
        .engine()
        .blobs
        .clone()
        .unwrap()
        .artifacts(&run.version)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn stop_and_the_time_limit_end_a_training_run() {
    let rig = rig(
        ollio_testkit::db::sqlite().await,
        &[("OLLIO_TRAIN_TIMEOUT", "12s")],
    )
    .await;
    rig.send("model-slow", "A slow model").await;
    // Stop, once it has reported.
    let running = rig
        .newest_run_until("its first report", Duration::from_secs(300), |run| {
            run.status == TrainingStatus::Training && run.progress == Some(0.1)
        })
        .await;
    assert_eq!(running.metrics["loss"], 0.9);
    assert!(rig
        .workers
        .cancel(&rig.owner, &running.message)
        .await
        .unwrap());
    let stopped = rig.finished_run().await;
    assert_eq!(
        (stopped.id.clone(), stopped.status),
        (running.id, TrainingStatus::Cancelled)
    );
    // Its process is gone: the sandbox runs no train.py.
    let sandbox = rig
        .store
        .current_sandbox(&rig.project)
        .await
        .unwrap()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let envd = rig
            .daemon
            .client
            .envd(&rig.daemon.client.connect(&sandbox.id, 600).await.unwrap());
        let output = envd
            .run(
                &ollio_sandbox::Command::new("pgrep -f '[t]rain.py' || true"),
                |_, _| {},
            )
            .await
            .unwrap();
        if output.stdout.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "train.py still runs"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Retrain runs into OLLIO_TRAIN_TIMEOUT.
    rig.store
        .enqueue_retrain(&rig.owner, &rig.project, 2)
        .await
        .unwrap()
        .unwrap();
    rig.workers.wake();
    let timed_out = rig
        .newest_run_until("the time limit", Duration::from_secs(300), |run| {
            run.id != stopped.id && run.status.is_finished()
        })
        .await;
    assert_eq!(timed_out.status, TrainingStatus::Failed);
    let error = timed_out.error.unwrap();
    assert!(
        error.contains("time limit of 12 seconds (OLLIO_TRAIN_TIMEOUT)"),
        "{error}"
    );
    assert!(timed_out.log_tail.unwrap().contains("Epoch 1 of 100"));
}

async fn the_json_api_answers_the_owner_s_runs(db: TestDb) {
    let app = TestApp::start(db).await;
    let store = &app.db.store;
    let (ada, owner, project, _) = ada_with_a_model(&app).await;
    let (_, first) = store
        .enqueue_retrain(&owner, &project.id, 2)
        .await
        .unwrap()
        .unwrap();
    store
        .cancel_turn(&owner, &first.assistant_message)
        .await
        .unwrap()
        .unwrap();
    let (_, second) = store
        .enqueue_retrain(&owner, &project.id, 2)
        .await
        .unwrap()
        .unwrap();

    let (status, _, body) = ada
        .page(&format!("/api/training-jobs/{}", first.training_job))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job: serde_json::Value = serde_json::from_str(&body).unwrap();
    let keys: BTreeSet<&str> = job
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "id",
            "project_id",
            "version_id",
            "status",
            "progress",
            "metrics",
            "deployment_url",
            "error",
            "started_at",
            "finished_at"
        ])
    );
    assert_eq!(job["id"], first.training_job.as_str());
    assert_eq!(job["project_id"], project.id.as_str());
    assert_eq!(job["version_id"], first.version.as_str());
    assert_eq!(job["status"], "cancelled");
    assert_eq!(job["metrics"], serde_json::json!({}));
    assert!(job["finished_at"].as_str().unwrap().ends_with('Z'));

    let (status, _, body) = ada
        .page(&format!("/api/projects/{}/training-jobs", project.id))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = list.iter().map(|job| job["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [second.training_job.as_str(), first.training_job.as_str()]
    );
    assert_eq!(list[0]["status"], "queued");

    // Retrain through the workspace's server function: refused while busy,
    // and for a project that trains nothing.
    let (status, body) = ada
        .call("retrain", &[("project", project.id.as_str())])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("still working"), "{body}");
    let page = store
        .create_project(&owner, &fixtures::project_name("Page"), "static")
        .await
        .unwrap();
    let (status, body) = ada.call("retrain", &[("project", page.id.as_str())]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("Only ML model projects"), "{body}");
    let (status, body) = ada
        .call("list_training_jobs", &[("project", project.id.as_str())])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(second.training_job.as_str()));
}

async fn a_restored_model_trains_as_its_own_version(db: TestDb) {
    let app = TestApp::start(db).await;
    let store = &app.db.store;
    let (ada, owner, project, first) = ada_with_a_model(&app).await;
    let (status, body) = ada
        .call("restore_version", &[("version", first.id.as_str())])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let versions = store.versions(&owner, &project.id).await.unwrap();
    assert_eq!(versions.len(), 2);
    let runs = store.training_jobs(&owner, &project.id).await.unwrap();
    assert_eq!(runs.len(), 1, "the restored version is trained");
    assert_eq!(runs[0].version, versions[0].id);
}

/// Ada signed in, with an ML model project of one version (no sandbox),
/// for the tests of the app's functions.
async fn ada_with_a_model(
    app: &TestApp,
) -> (
    crate::support::app::Visitor,
    UserId,
    ollio_store::Project,
    ollio_store::Version,
) {
    let ada = app.user("ada@example.com").await;
    let store = &app.db.store;
    let owner = store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let project = store
        .create_project(&owner, &fixtures::project_name("Iris"), "ml-model")
        .await
        .unwrap();
    let version = store
        .create_version(NewVersion {
            project: project.id.clone(),
            message: None,
            title: "Iris".into(),
            template: "ml-model".into(),
            sandbox_id: None,
            preview_url: None,
            files: vec![fixtures::file("train.py", "print(1)")],
            left_out: Vec::new(),
            check: None,
        })
        .await
        .unwrap();
    (ada, owner, project, version)
}
