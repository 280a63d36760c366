//! Tenancy: every server function and every route, called as another user
//! and as nobody, must neither return nor change anything of Ada's. The lists
//! of server functions and routes come from the code itself, so a new one
//! without a case here fails the suite instead of skipping it.

use crate::support::app::{TestApp, Visitor, PASSWORD};
use ollio_domain::{ProjectId, ProjectName, UserId};
use ollio_store::{now_ms, MessageStatus, NewVersion, Role};
use ollio_testkit::fixtures;
use ollio_testkit::{on_both_databases, TestDb};
use reqwest::StatusCode;

on_both_databases!(nothing_of_one_user_reaches_another);

const ADA: &str = "ada@example.com";
const ADA_PASSWORD: &str = "ada's own long password";
const SECRET_NAME: &str = "Ada's secret project";
const ADA_MODEL: &str = "anthropic:ada-secret-model";

struct Ada {
    id: UserId,
    project: ProjectId,
    version: String,
    /// The assistant message of Ada's queued turn (it has a job).
    turn: String,
    /// A training run of Ada's version (stopped, so the turn could queue).
    training_job: String,
    /// A file Ada staged for her next message, and one her follow-up carries.
    attachment: String,
    sent_attachment: String,
    /// A plan Ada's Plan mode wrote (an assistant message).
    plan: String,
    session: Visitor,
}

const ADA_FILE: &str = "ada-secret.csv";
const ADA_PROVIDER_URL: &str = "https://ada-private-llm.example/v1";
const ADA_FILE_BYTES: &[u8] = b"secret,ledger\n1,2\n";

/// Ada's data: an account with its own password, a project with a message,
/// an event and a version, and two credits spent.
async fn ada(app: &TestApp) -> Ada {
    let session = app.user_with_password(ADA, ADA_PASSWORD).await;
    let store = &app.db.store;
    let id = store.user_by_email(ADA).await.unwrap().unwrap().id;
    let project = store
        .create_project(&id, &ProjectName::parse(SECRET_NAME).unwrap(), "static")
        .await
        .unwrap();
    let message = store
        .create_message(
            &project.id,
            Role::User,
            "a secret prompt",
            MessageStatus::Done,
        )
        .await
        .unwrap();
    store
        .append_event(&project.id, &message.id, "step", "{}")
        .await
        .unwrap();
    let version = store
        .create_version(NewVersion {
            project: project.id.clone(),
            message: Some(message.id),
            title: "Secret v1".into(),
            template: "static".into(),
            sandbox_id: None,
            preview_url: None,
            files: vec![fixtures::file("index.html", "<h1>secret</h1>")],
            left_out: Vec::new(),
            check: None,
        })
        .await
        .unwrap();
    store
        .set_project_model(&id, &project.id, Some(ADA_MODEL))
        .await
        .unwrap();
    store
        .save_provider_key(&id, "openai", "ADA-SEALED-KEY", "Zq9x", None)
        .await
        .unwrap();
    // A server of her own, whose address is hers alone too.
    store
        .save_provider_key(
            &id,
            "custom",
            "ADA-SEALED-URL-KEY",
            "Wv7u",
            Some(ADA_PROVIDER_URL),
        )
        .await
        .unwrap();
    store
        .record_provider_models(&id, "custom", &["ada-private-model".to_owned()])
        .await
        .unwrap();
    for _ in 0..2 {
        store
            .consume_credit(&id, 50, now_ms())
            .await
            .unwrap()
            .unwrap();
    }
    // A training run of the version, stopped so the project is free again.
    let (_, train) = store
        .enqueue_retrain(&id, &project.id, 3)
        .await
        .unwrap()
        .unwrap();
    store
        .cancel_turn(&id, &train.assistant_message)
        .await
        .unwrap()
        .unwrap();
    // Two attached files: one staged, one sent with the follow-up.
    let file = ollio_domain::attachment::check(ADA_FILE, ADA_FILE_BYTES).unwrap();
    let blobs = app.state.blobs.as_ref().expect("the app keeps blobs");
    let mut staged = Vec::new();
    for _ in 0..2 {
        let (attachment, _) = store.stage_attachment(&id, &file).await.unwrap();
        blobs
            .put_attachment(&attachment.id, ADA_FILE_BYTES)
            .await
            .unwrap();
        staged.push(attachment.id);
    }
    // A plan, as a Plan turn leaves it.
    let plan = store
        .create_message(&project.id, Role::Assistant, "", MessageStatus::Running)
        .await
        .unwrap();
    let end = ollio_store::MessageEnd {
        content: "## Goal\na secret plan",
        status: MessageStatus::Done,
        error: None,
        model: Some(ADA_MODEL),
        model_role: Some("plan"),
        tokens_in: 1,
        tokens_out: 1,
    };
    assert!(store.finish_message(&plan.id, &end).await.unwrap());
    // A turn queued with its job (and a third credit): what Stop could end.
    let turn = store
        .enqueue_turn_with(&id, &project.id, "a secret follow-up", &staged[1..], 50, 3)
        .await
        .unwrap()
        .unwrap()
        .turn
        .assistant_message
        .to_string();
    Ada {
        attachment: staged[0].to_string(),
        sent_attachment: staged[1].to_string(),
        plan: plan.id.to_string(),
        turn,
        training_job: train.training_job.to_string(),
        id,
        project: project.id,
        version: version.id.to_string(),
        session,
    }
}

/// Fails unless every piece of Ada's data is exactly as it was.
async fn ada_is_intact(app: &TestApp, ada: &Ada, after: &str) {
    let store = &app.db.store;
    let user = store.user(&ada.id).await.unwrap();
    assert!(user.is_some(), "after {after}: Ada's account is gone");
    let project = store.project(&ada.id, &ada.project).await.unwrap();
    assert_eq!(
        project.as_ref().and_then(|p| p.model.clone()).as_deref(),
        Some(ADA_MODEL),
        "after {after}: project model changed"
    );
    assert_eq!(
        project.map(|p| p.name).as_deref(),
        Some(SECRET_NAME),
        "after {after}: project changed"
    );
    let messages = store.messages(&ada.id, &ada.project).await.unwrap();
    assert_eq!(messages.len(), 5, "after {after}");
    let turn = messages
        .iter()
        .find(|message| message.id.as_str() == ada.turn)
        .unwrap();
    assert_ne!(
        turn.status,
        MessageStatus::Cancelled,
        "after {after}: Ada's turn was stopped"
    );
    assert_eq!(
        store.versions(&ada.id, &ada.project).await.unwrap().len(),
        1,
        "after {after}"
    );
    assert_eq!(
        store
            .training_jobs(&ada.id, &ada.project)
            .await
            .unwrap()
            .len(),
        1,
        "after {after}: Ada's training runs changed"
    );
    assert_eq!(
        store.usage(&ada.id, 50, now_ms()).await.unwrap().used,
        3,
        "after {after}: credits changed"
    );
    assert_eq!(
        store.provider_keys(&ada.id).await.unwrap().len(),
        2,
        "after {after}: Ada's provider keys changed"
    );
    let staged: Vec<String> = store
        .staged_attachments(&ada.id)
        .await
        .unwrap()
        .iter()
        .map(|attachment| attachment.id.to_string())
        .collect();
    assert_eq!(
        staged,
        std::slice::from_ref(&ada.attachment),
        "after {after}: Ada's staged file changed"
    );
    let sent = store
        .attachment(
            &ada.id,
            &ollio_domain::AttachmentId::from_raw(ada.sent_attachment.clone()),
        )
        .await
        .unwrap();
    assert!(
        sent.is_some_and(|sent| sent.message.is_some()),
        "after {after}: Ada's sent file changed"
    );
    assert!(
        ada.session.call("current_user", &[]).await.1.contains(ADA),
        "after {after}: Ada was signed out"
    );
    let (status, _) = app
        .visitor()
        .call("login", &[("email", ADA), ("password", ADA_PASSWORD)])
        .await;
    assert!(
        status.is_success() || status.is_redirection(),
        "after {after}: Ada's password changed"
    );
}

fn leaks(body: &str, ada: &Ada) -> bool {
    [
        ADA,
        SECRET_NAME,
        ada.project.as_str(),
        "a secret prompt",
        "a secret follow-up",
        "Secret v1",
        "<h1>secret</h1>",
        "ADA-SEALED-KEY",
        "ada-secret-model",
        "Zq9x",
        "Wv7u",
        ADA_PROVIDER_URL,
        "ada-private-model",
        ada.training_job.as_str(),
        ADA_FILE,
        "secret,ledger",
        ada.attachment.as_str(),
        ada.sent_attachment.as_str(),
    ]
    .iter()
    .any(|secret| body.contains(secret))
}

/// Calls one server function as Bob and as nobody and checks the answers.
async fn check_server_function(
    name: &str,
    app: &TestApp,
    ada: &Ada,
    bob: &Visitor,
    nobody: &Visitor,
) {
    let project = ada.project.as_str();
    // (arguments, Bob's expected status, nobody's expected status)
    let (args, as_bob, as_nobody): (Vec<(&str, &str)>, &[StatusCode], &[StatusCode]) = match name {
        "signup" => (
            vec![("email", ADA), ("password", "taking over ada")],
            &[StatusCode::UNPROCESSABLE_ENTITY],
            &[StatusCode::UNPROCESSABLE_ENTITY],
        ),
        "login" => (
            vec![("email", ADA), ("password", PASSWORD)],
            &[StatusCode::UNPROCESSABLE_ENTITY],
            &[StatusCode::UNPROCESSABLE_ENTITY],
        ),
        "logout" => (
            vec![],
            &[StatusCode::OK, StatusCode::FOUND],
            &[StatusCode::OK, StatusCode::FOUND],
        ),
        "current_user" => (vec![], &[StatusCode::OK], &[StatusCode::OK]),
        "get_usage" => (vec![], &[StatusCode::OK], &[StatusCode::UNAUTHORIZED]),
        "list_projects" => (vec![], &[StatusCode::OK], &[StatusCode::UNAUTHORIZED]),
        // Whether Bob has a model: his keys, not Ada's.
        "model_setup" => (vec![], &[StatusCode::OK], &[StatusCode::UNAUTHORIZED]),
        // The templates are the server's, the same for everyone.
        "list_templates" => (vec![], &[StatusCode::OK], &[StatusCode::OK]),
        "change_password" => (
            vec![
                ("current_password", ADA_PASSWORD),
                ("new_password", "bob owns this now"),
            ],
            &[StatusCode::UNPROCESSABLE_ENTITY],
            &[StatusCode::UNAUTHORIZED],
        ),
        "delete_account" => (
            vec![("confirm_email", ADA)],
            &[StatusCode::UNPROCESSABLE_ENTITY],
            &[StatusCode::UNAUTHORIZED],
        ),
        "rename_project" => (
            vec![("id", project), ("name", "Bob's now")],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "delete_project" => (
            vec![("id", project)],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "send_message" => (
            vec![("project", project), ("content", "make it mine")],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        // Bob may make projects of his own; Ada's are untouched.
        "create_project" => (
            vec![("name", "Bob's own"), ("template", "static")],
            &[StatusCode::OK],
            &[StatusCode::UNAUTHORIZED],
        ),
        // Bob may start projects of his own, but not with Ada's file.
        "start_project" => (
            vec![("prompt", "Bob's own app"), ("template", "static")],
            &[StatusCode::OK],
            &[StatusCode::UNAUTHORIZED],
        ),
        "project_view" => (
            vec![("id", project)],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "version_files" => (
            vec![("version", ada.version.as_str())],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "version_tree" => (
            vec![("version", ada.version.as_str())],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "version_changes" => (
            vec![("version", ada.version.as_str())],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "highlighted_file" => (
            vec![("version", ada.version.as_str()), ("path", "index.html")],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "restore_version" => (
            vec![("version", ada.version.as_str())],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "preview_status" | "start_preview" | "app_log" => (
            vec![("version", ada.version.as_str())],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "list_models" => (vec![], &[StatusCode::OK], &[StatusCode::UNAUTHORIZED]),
        "set_project_model" => (
            vec![("id", project), ("model", "")],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "list_provider_keys" => (vec![], &[StatusCode::OK], &[StatusCode::UNAUTHORIZED]),
        // Bob may keep a key of his own; it never touches Ada's.
        "save_provider_key" => (
            vec![("provider", "openai"), ("key", "sk-bobs-own-key")],
            &[StatusCode::OK],
            &[StatusCode::UNAUTHORIZED],
        ),
        // The provider Ada has a key for: Bob has none.
        "delete_provider_key" => (
            vec![("provider", "openai")],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        // Nor change Ada's files from the explorer.
        "new_file" | "new_folder" | "delete_path" => (
            vec![("project", project), ("path", "index.html")],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "rename_path" => (
            vec![
                ("project", project),
                ("from", "index.html"),
                ("to", "bob.html"),
            ],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        // Nor search Ada's version (for a word it holds).
        "search_files" => (
            vec![("version", ada.version.as_str()), ("query", "secret")],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        // Nor ask the model about its files, or save what it proposed.
        "refine_selection" => (
            vec![
                ("project", project),
                ("path", "index.html"),
                ("text", "<h1>Bob</h1>"),
                ("from", "0"),
                ("to", "4"),
                ("instruction", "shout"),
            ],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "accept_refine" => (
            vec![
                ("project", project),
                ("path", "index.html"),
                ("content", "<h1>Bob</h1>"),
                ("instruction", "shout"),
            ],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        // Nor read what a terminal changed in it, or keep that.
        "terminal_changes" | "save_terminal_changes" => (
            vec![("project", project)],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        "ask_where" => (
            vec![
                ("version", ada.version.as_str()),
                ("question", "where is the secret?"),
            ],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        // Bob cannot save a file into Ada's project.
        "save_file" => (
            vec![
                ("project", project),
                ("path", "index.html"),
                ("content", "<h1>Bob</h1>"),
            ],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        // Ada's own server: Bob cannot reach it through her saved URL.
        "test_provider_key" => (
            vec![("provider", "custom")],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        // Ada's project is not an ML model, but Bob must not even learn that.
        "list_training_jobs" | "retrain" | "model_panel" => (
            vec![("project", project)],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        // Ada's queued turn, which has a job Stop would end.
        "cancel_turn" => (
            vec![("message", ada.turn.as_str())],
            &[StatusCode::NOT_FOUND],
            &[StatusCode::UNAUTHORIZED],
        ),
        other => {
            panic!("server function `{other}` has no tenancy case: add one to tests/tenancy.rs")
        }
    };
    for (who, visitor, expected) in [("Bob", bob, as_bob), ("nobody", nobody, as_nobody)] {
        let (status, body) = visitor.call(name, &args).await;
        assert!(
            expected.contains(&status),
            "{name} as {who}: {status} {body}"
        );
        assert!(
            !leaks(&body, ada),
            "{name} as {who} returned Ada's data: {body}"
        );
        ada_is_intact(app, ada, &format!("{name} as {who}")).await;
    }
}

async fn nothing_of_one_user_reaches_another(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = ada(&app).await;

    // Every registered server function.
    let mut names: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.strip_prefix("/api/").unwrap_or(path).to_owned())
        .collect();
    names.sort();
    names.dedup();
    assert!(names.len() >= 10, "found only {names:?}");
    for name in &names {
        // A fresh Bob each time: some calls (logout, delete) end his session.
        let bob = app.user(&format!("bob-{name}@example.com")).await;
        check_server_function(name, &app, &ada, &bob, &app.visitor()).await;
    }

    // Every page and route, with Ada's ids wherever a route takes an id.
    let mut paths: Vec<String> = ollio::server::http::page_routes(&ollio::pages())
        .into_iter()
        .map(|route| route.path().to_owned())
        .chain(
            ollio::server::http::EXTRA_ROUTES
                .iter()
                .map(|p| (*p).to_owned()),
        )
        .collect();
    paths.sort();
    paths.dedup();
    assert!(paths.len() >= 6, "found only {paths:?}");
    let bob = app.user("bob@example.com").await;
    for path in &paths {
        // Routes under /api/versions/ take a version's id, under
        // /api/training-jobs/ a training run's, under /api/attachments/ an
        // attached file's, the others a project's.
        let id = if path.starts_with("/api/versions/") {
            ada.version.as_str()
        } else if path.starts_with("/api/training-jobs/") {
            ada.training_job.as_str()
        } else if path.starts_with("/api/attachments/") {
            ada.attachment.as_str()
        } else {
            ada.project.as_str()
        };
        let concrete = path.replace(":id", id);
        assert!(
            !concrete.contains(':') && !concrete.contains('*'),
            "route {path} takes a parameter this suite does not know"
        );
        for (who, visitor) in [("Bob", &bob), ("nobody", &app.visitor())] {
            let (status, _, body) = visitor.page(&concrete).await;
            assert!(status.as_u16() < 500, "{path} as {who}: {status}");
            assert!(!leaks(&body, &ada), "{path} as {who} showed Ada's data");
            // Ada's things behind the API: not found for Bob, sign in first for nobody.
            if path.starts_with("/api/") && path.contains(":id") {
                let expected = if who == "Bob" {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::UNAUTHORIZED
                };
                assert_eq!(status, expected, "{path} as {who}: {body}");
            }
        }
        ada_is_intact(&app, &ada, path).await;
    }
    files_of_ada_s_stay_hers(&app, &ada).await;
    plans_of_ada_s_stay_hers(&app, &ada).await;
    imports_are_the_importer_s(&app, &ada).await;
}

/// "Import project" (a POST the walk above does not make): nobody imports,
/// and Bob's import is Bob's project, beside Ada's untouched ones.
async fn imports_are_the_importer_s(app: &TestApp, ada: &Ada) {
    let zip = || {
        let mut bytes = Vec::new();
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
        zip.start_file("index.html", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, b"<h1>Bob's</h1>").unwrap();
        zip.finish().unwrap();
        bytes
    };
    let form = || {
        reqwest::multipart::Form::new().part(
            "archive",
            reqwest::multipart::Part::bytes(zip()).file_name("bob.zip"),
        )
    };
    let bob = app.user("bob-imports@example.com").await;
    for (who, visitor, expected) in [
        ("nobody", &app.visitor(), StatusCode::UNAUTHORIZED),
        ("Bob", &bob, StatusCode::CREATED),
    ] {
        let response = visitor
            .client
            .post(visitor.url(ollio::server::http::IMPORT_ROUTE))
            .multipart(form())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "import as {who}");
        ada_is_intact(app, ada, &format!("an import as {who}")).await;
    }
    let bob_id = app
        .db
        .store
        .user_by_email("bob-imports@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let bobs = app.db.store.projects(&bob_id).await.unwrap();
    assert_eq!(
        bobs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["bob"]
    );
    let adas = app.db.store.projects(&ada.id).await.unwrap();
    assert!(
        adas.iter().all(|p| p.name != "bob"),
        "Bob's import is Ada's"
    );
}

/// "Build this plan" with Ada's plan, in Bob's own project: refused, and
/// nothing of the plan is shown.
async fn plans_of_ada_s_stay_hers(app: &TestApp, ada: &Ada) {
    let bob = app.user("bob-plans@example.com").await;
    let (_, created) = bob
        .call(
            "create_project",
            &[("name", "Bob's plans"), ("template", "static")],
        )
        .await;
    let bob_project = serde_json::from_str::<serde_json::Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = bob
        .call(
            "send_message",
            &[
                ("project", bob_project.as_str()),
                ("content", "Build this plan"),
                ("mode", "build"),
                ("plan", ada.plan.as_str()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("not in this project's chat"), "{body}");
    assert!(
        !leaks(&body, ada) && !body.contains("secret plan"),
        "{body}"
    );
    ada_is_intact(app, ada, "Build this plan with Ada's plan as Bob").await;
}

/// What the GET walk above cannot reach: removing, sending and starting a
/// project with one of Ada's files, as Bob and as nobody.
async fn files_of_ada_s_stay_hers(app: &TestApp, ada: &Ada) {
    let bob = app.user("bob-files@example.com").await;
    let nobody = app.visitor();
    for id in [&ada.attachment, &ada.sent_attachment] {
        for (who, visitor, expected) in [
            ("Bob", &bob, StatusCode::NOT_FOUND),
            ("nobody", &nobody, StatusCode::UNAUTHORIZED),
        ] {
            let response = visitor
                .client
                .delete(visitor.url(&format!("/api/attachments/{id}")))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), expected, "DELETE as {who}");
            ada_is_intact(app, ada, &format!("DELETE of Ada's file as {who}")).await;
        }
    }
    let (_, created) = bob
        .call(
            "create_project",
            &[("name", "Bob's"), ("template", "static")],
        )
        .await;
    let bob_project = serde_json::from_str::<serde_json::Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (name, args) in [
        (
            "send_message",
            vec![
                ("project", bob_project.as_str()),
                ("content", "read her file"),
                ("attachments", ada.attachment.as_str()),
            ],
        ),
        (
            "start_project",
            vec![
                ("prompt", "read her file"),
                ("template", "static"),
                ("attachments", ada.attachment.as_str()),
            ],
        ),
    ] {
        let (status, body) = bob.call(name, &args).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {body}");
        assert!(body.contains("no longer there"), "{name}: {body}");
        assert!(!leaks(&body, ada), "{name} with Ada's file: {body}");
        ada_is_intact(app, ada, &format!("{name} with Ada's file as Bob")).await;
    }
}
