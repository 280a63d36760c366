//! The agent as the browser reaches it, on SQLite and on PostgreSQL:
//! `send_message` and `cancel_turn`, and the project's event stream
//! (Server-Sent Events) resuming without gaps or duplicates.

use std::time::Duration;

use crate::support::app::{TestApp, Visitor};
use ollio::api::chat::SentMessage;
use ollio_domain::{ProjectId, UserId};
use ollio_store::{MessageStatus, Role};
use ollio_testkit::fixtures;
use ollio_testkit::{on_both_databases, ScriptedServer, TestDb};
use reqwest::StatusCode;

on_both_databases!(
    a_message_queues_a_turn_and_stop_ends_it,
    out_of_credits_and_a_running_turn_refuse_a_message,
    the_event_stream_resumes_without_gaps_or_duplicates,
    the_event_stream_is_its_owners_only,
    provider_keys_are_sealed_and_never_sent_back,
    a_project_uses_one_of_the_offered_models,
    ollamas_models_are_offered_when_it_answers,
    a_project_is_created_from_a_known_template,
    a_prompt_starts_a_project_and_its_page_shows_chat_and_versions,
    the_home_form_works_as_a_plain_post,
    a_refused_rename_keeps_the_typed_name,
    a_user_without_a_model_is_asked_to_connect_one,
    a_users_provider_is_tested_and_its_models_offered,
    a_saved_file_waits_for_a_running_turn_then_is_a_version,
);

/// The editor's Save: refused with the reason while a turn runs (nothing
/// kept), then a version; a path outside the project is refused.
async fn a_saved_file_waits_for_a_running_turn_then_is_a_version(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let (owner, project) = project_of(&app, "ada@example.com").await;
    let (_, body) = send(&ada, &project, "a dark login form").await;
    let sent: SentMessage = serde_json::from_str(&body).unwrap();
    let save = |path: &'static str, content: &'static str| {
        let ada = &ada;
        let project = project.clone();
        async move {
            ada.call(
                "save_file",
                &[
                    ("project", project.as_str()),
                    ("path", path),
                    ("content", content),
                ],
            )
            .await
        }
    };
    let (status, body) = save("index.html", "<h1>Mine</h1>").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("your changes stay in the editor"), "{body}");
    assert!(app
        .db
        .store
        .versions(&owner, &project)
        .await
        .unwrap()
        .is_empty());
    ada.call("cancel_turn", &[("message", &sent.assistant_message)])
        .await;
    let (status, body) = save("index.html", "<h1>Mine</h1>").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Edited index.html"), "{body}");
    let (status, body) = save("../etc/passwd", "x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("leaves the project root"), "{body}");
    let (status, body) = save("app.js", "let a = 1;").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Edited 2 files"), "{body}");
}

async fn project_of(app: &TestApp, email: &str) -> (UserId, ProjectId) {
    let store = &app.db.store;
    let owner = store.user_by_email(email).await.unwrap().unwrap().id;
    let project = fixtures::project(store, &owner, "Shop").await;
    (owner, project.id)
}

async fn send(visitor: &Visitor, project: &ProjectId, text: &str) -> (StatusCode, String) {
    visitor
        .call(
            "send_message",
            &[("project", project.as_str()), ("content", text)],
        )
        .await
}

async fn a_message_queues_a_turn_and_stop_ends_it(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let (owner, project) = project_of(&app, "ada@example.com").await;
    let (status, body) = send(&ada, &project, "  a dark login form  ").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sent: SentMessage = serde_json::from_str(&body).unwrap();
    assert_eq!(sent.credits_left, 49);
    let messages = app.db.store.messages(&owner, &project).await.unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(
        (messages[0].role, messages[0].content.as_str()),
        (Role::User, "a dark login form")
    );
    assert_eq!(messages[1].id.as_str(), sent.assistant_message);
    assert_eq!(messages[1].status, MessageStatus::Pending);

    let (status, body) = ada
        .call("cancel_turn", &[("message", &sent.assistant_message)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let messages = app.db.store.messages(&owner, &project).await.unwrap();
    assert_eq!(messages[1].status, MessageStatus::Cancelled);
    // Stopping twice finds nothing left to stop.
    let (status, _) = ada
        .call("cancel_turn", &[("message", &sent.assistant_message)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An empty message is refused with a reason.
    let (status, body) = send(&ada, &project, "   ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Describe what you want"), "{body}");
}

async fn out_of_credits_and_a_running_turn_refuse_a_message(db: TestDb) {
    let app = TestApp::start_with(db, &[("OLLIO_FREE_CREDITS", "1")]).await;
    let ada = app.user("ada@example.com").await;
    let (owner, project) = project_of(&app, "ada@example.com").await;
    let (status, body) = send(&ada, &project, "first").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(&ada, &project, "second").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("still working"), "{body}");
    let running = app
        .db
        .store
        .messages(&owner, &project)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.role == Role::Assistant)
        .unwrap();
    ada.call("cancel_turn", &[("message", running.id.as_str())])
        .await;
    let (status, body) = send(&ada, &project, "third").await;
    assert_eq!(status.as_u16(), 402, "{body}");
    assert!(body.contains("OutOfCredits"), "{body}");
    assert_eq!(
        app.db.store.messages(&owner, &project).await.unwrap().len(),
        2
    );
}

/// Reads SSE events from a streaming response until `count` arrived:
/// (id, event, data) each.
async fn read_events(response: &mut reqwest::Response, count: usize) -> Vec<(i64, String, String)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("the stream goes on");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (None, String::new(), String::new());
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("id:") {
                    id = value.trim().parse().ok();
                } else if let Some(value) = line.strip_prefix("event:") {
                    event = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data = value.trim().to_owned();
                }
            }
            if let Some(id) = id {
                events.push((id, event, data));
            }
        }
    }
    events
}

async fn stream(visitor: &Visitor, project: &ProjectId, after: Option<i64>) -> reqwest::Response {
    let query = after
        .map(|after| format!("?after={after}"))
        .unwrap_or_default();
    visitor
        .client
        .get(visitor.url(&format!("/api/projects/{project}/events{query}")))
        .send()
        .await
        .unwrap()
}

async fn the_event_stream_resumes_without_gaps_or_duplicates(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let (_, project) = project_of(&app, "ada@example.com").await;
    let store = &app.db.store;
    let message = store
        .create_message(&project, Role::Assistant, "", MessageStatus::Running)
        .await
        .unwrap()
        .id;
    let append = |n: usize| {
        let (store, project, message) = (store.clone(), project.clone(), message.clone());
        async move {
            for index in 0..n {
                let payload =
                    format!(r#"{{"kind":"output","stderr":false,"text":"line {index}"}}"#);
                store
                    .append_event(&project, &message, "output", &payload)
                    .await
                    .unwrap();
            }
        }
    };
    append(5).await;
    let mut first = stream(&ada, &project, None).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let seen = read_events(&mut first, 5).await;
    assert_eq!(
        seen.iter().map(|e| e.0).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(seen[0].1, "output");
    assert!(seen[4].2.contains("line 4"));
    // Live: an event recorded now arrives on the open stream.
    append(1).await;
    assert_eq!(read_events(&mut first, 1).await[0].0, 6);
    drop(first);
    // While away, more happens; the reconnect picks up right after 6.
    append(3).await;
    let mut again = stream(&ada, &project, Some(6)).await;
    let resumed = read_events(&mut again, 3).await;
    assert_eq!(resumed.iter().map(|e| e.0).collect::<Vec<_>>(), [7, 8, 9]);
    // Last-Event-ID works the same way.
    let mut by_header = ada
        .client
        .get(ada.url(&format!("/api/projects/{project}/events")))
        .header("Last-Event-ID", "8")
        .send()
        .await
        .unwrap();
    assert_eq!(read_events(&mut by_header, 1).await[0].0, 9);
}

async fn the_event_stream_is_its_owners_only(db: TestDb) {
    let app = TestApp::start(db).await;
    let _ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let (_, project) = project_of(&app, "ada@example.com").await;
    assert_eq!(
        stream(&bob, &project, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stream(&app.visitor(), &project, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn provider_keys_are_sealed_and_never_sent_back(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let (status, body) = ada
        .call(
            "save_provider_key",
            &[("provider", "openai"), ("key", " sk-live-1234567890wxyz ")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("…wxyz") && !body.contains("sk-live"),
        "{body}"
    );
    let (_, listed) = ada.call("list_provider_keys", &[]).await;
    assert!(
        listed.contains("openai") && !listed.contains("sk-live"),
        "{listed}"
    );
    // At rest it is sealed, bound to Ada and the provider.
    let owner = app
        .db
        .store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let sealed = app
        .db
        .store
        .sealed_provider_key(&owner, "openai")
        .await
        .unwrap()
        .unwrap();
    assert!(!sealed.sealed.contains("sk-live"));
    let (status, body) = ada
        .call(
            "save_provider_key",
            &[("provider", "openai"), ("key", "two words")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = ada
        .call("delete_provider_key", &[("provider", "openai")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.db.store.provider_keys(&owner).await.unwrap().is_empty());
}

/// No default model and no key of one's own: the home page shows
/// "Connect a model" and Build waits; a key of one's own, or a server with
/// a model it can run, and it is gone.
async fn a_user_without_a_model_is_asked_to_connect_one(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let (status, body) = ada.call("model_setup", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "true"));
    let (_, _, home) = ada.page("/").await;
    assert!(home.contains("Connect a model"), "{home}");
    assert!(home.contains(r#"href="/settings""#), "{home}");
    assert!(home.contains("OLLIO_MODEL=openai:gpt-4.1"), "{home}");
    let (status, _) = ada
        .call(
            "save_provider_key",
            &[("provider", "anthropic"), ("key", "sk-ant-own-key-1234")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = ada.call("model_setup", &[]).await;
    assert_eq!(body, "false");
    let (_, _, home) = ada.page("/").await;
    assert!(!home.contains("Connect a model"), "{home}");

    // A server model without its key is no model; with it, it is.
    let keyless = TestApp::start_with(
        ollio_testkit::db::sqlite().await,
        &[("OLLIO_MODEL", "anthropic:claude-sonnet-4-5")],
    )
    .await;
    let bob = keyless.user("bob@example.com").await;
    assert_eq!(bob.call("model_setup", &[]).await.1, "true");
    let served = TestApp::start_with(
        ollio_testkit::db::sqlite().await,
        &[
            ("OLLIO_MODEL", "anthropic:claude-sonnet-4-5"),
            ("ANTHROPIC_API_KEY", "sk-ant-server"),
        ],
    )
    .await;
    let cy = served.user("cy@example.com").await;
    assert_eq!(cy.call("model_setup", &[]).await.1, "false");
}

/// "Test connection" on a provider of the user's own: at a loopback URL it
/// is refused with the reason until the operator allows private addresses;
/// then its listed models are kept and offered, and a project may use one.
async fn a_users_provider_is_tested_and_its_models_offered(db: TestDb) {
    let models = ScriptedServer::for_tests().await;
    let url = models.openai_base_url();
    let own = [
        ("provider", "custom"),
        ("base_url", url.as_str()),
        ("key", "sk-own-server-key"),
    ];
    let guarded = TestApp::start(ollio_testkit::db::sqlite().await).await;
    let bo = guarded.user("bo@example.com").await;
    let (status, body) = bo.call("save_provider_key", &own).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = bo
        .call("test_provider_key", &[("provider", "custom")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("private or loopback") && body.contains("OLLIO_ALLOW_PRIVATE_MODEL_URLS"),
        "{body}"
    );
    assert!(models.requests().is_empty(), "the listing was fetched");

    let app = TestApp::start_with(db, &[("OLLIO_ALLOW_PRIVATE_MODEL_URLS", "true")]).await;
    let ada = app.user("ada@example.com").await;
    let (_, project) = project_of(&app, "ada@example.com").await;
    for (fields, refusal) in [
        (
            vec![
                ("provider", "custom"),
                ("base_url", "ftp://x/v1"),
                ("key", ""),
            ],
            "http",
        ),
        (vec![("provider", "groq"), ("key", " ")], "Paste the key"),
        (vec![("provider", "cobol"), ("key", "k")], "not a provider"),
    ] {
        let (status, body) = ada.call("save_provider_key", &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains(refusal), "{body}");
    }
    let (status, body) = ada.call("save_provider_key", &own).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.contains("sk-own-server-key"), "{body}");
    let (status, body) = ada
        .call("test_provider_key", &[("provider", "custom")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("three-files"), "{body}");
    assert!(
        models
            .requests()
            .iter()
            .any(|request| request["_key"] == "Bearer sk-own-server-key"),
        "the listing went without the user's key"
    );
    let (_, body) = ada.call("list_models", &[]).await;
    let offered: Vec<String> = serde_json::from_str(&body).unwrap();
    assert!(
        offered.contains(&"custom:three-files".to_owned()),
        "{offered:?}"
    );
    let (status, body) = ada
        .call(
            "set_project_model",
            &[("id", project.as_str()), ("model", "custom:three-files")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Nobody else is offered Ada's models.
    let bob = app.user("bob@example.com").await;
    let (_, body) = bob.call("list_models", &[]).await;
    assert!(!body.contains("custom:"), "{body}");
    // A provider never tested cannot be tested by someone without it.
    let (status, _) = bob
        .call("test_provider_key", &[("provider", "custom")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_project_uses_one_of_the_offered_models(db: TestDb) {
    let app = TestApp::start_with(
        db,
        &[
            ("OLLIO_MODEL", "anthropic:claude-sonnet-4-5"),
            ("OLLIO_EDIT_MODEL", "openai:gpt-4.1-mini"),
            ("OLLAMA_HOST", "http://127.0.0.1:9"),
        ],
    )
    .await;
    let ada = app.user("ada@example.com").await;
    let (owner, project) = project_of(&app, "ada@example.com").await;
    let (status, body) = ada.call("list_models", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let models: Vec<String> = serde_json::from_str(&body).unwrap();
    assert_eq!(
        models,
        ["anthropic:claude-sonnet-4-5", "openai:gpt-4.1-mini"]
    );
    let (status, body) = ada
        .call(
            "set_project_model",
            &[("id", project.as_str()), ("model", "openai:gpt-4.1-mini")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stored = app
        .db
        .store
        .project(&owner, &project)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.model.as_deref(), Some("openai:gpt-4.1-mini"));
    let (status, body) = ada
        .call(
            "set_project_model",
            &[("id", project.as_str()), ("model", "openai:made-up")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    ada.call(
        "set_project_model",
        &[("id", project.as_str()), ("model", "")],
    )
    .await;
    let stored = app
        .db
        .store
        .project(&owner, &project)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.model, None);
}

async fn ollamas_models_are_offered_when_it_answers(db: TestDb) {
    // A stand-in for Ollama's own model listing.
    let listing = axum::Router::new().route(
        "/api/tags",
        axum::routing::get(|| async {
            axum::Json(serde_json::json!({
                "models": [{ "name": "qwen2.5-coder", "size": 1 }, { "name": "llama3.2", "size": 1 }]
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ollama = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, listing).await });
    let app = TestApp::start_with(
        db,
        &[
            ("OLLIO_MODEL", "ollama:qwen2.5-coder"),
            ("OLLAMA_HOST", ollama.as_str()),
        ],
    )
    .await;
    let ada = app.user("ada@example.com").await;
    let (status, body) = ada.call("list_models", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let models: Vec<String> = serde_json::from_str(&body).unwrap();
    assert_eq!(models, ["ollama:qwen2.5-coder", "ollama:llama3.2"]);
}

async fn a_project_is_created_from_a_known_template(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let (status, body) = ada
        .call(
            "create_project",
            &[("name", "  Dark login  "), ("template", "static")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"name\":\"Dark login\""), "{body}");
    let (status, body) = ada
        .call(
            "create_project",
            &[("name", "Other"), ("template", "cobol")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("no template called"), "{body}");
    let (status, _) = ada
        .call("create_project", &[("name", "   "), ("template", "static")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, listed) = ada.call("list_projects", &[]).await;
    assert_eq!(listed.matches("\"id\"").count(), 1, "{listed}");
}

async fn a_prompt_starts_a_project_and_its_page_shows_chat_and_versions(db: TestDb) {
    use ollio::api::workspace::{FileView, ProjectPage, StartedProject, VersionView};
    use ollio_store::{MessageEnd, NewVersion};
    let app = TestApp::start_with(db, &[("OLLIO_FREE_CREDITS", "1")]).await;
    let ada = app.user("ada@example.com").await;
    let (status, body) = ada
        .call(
            "start_project",
            &[
                ("prompt", "A dark login form\nwith a logo"),
                ("template", "static"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let started: StartedProject = serde_json::from_str(&body).unwrap();
    let (status, body) = ada.call("project_view", &[("id", &started.project)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: ProjectPage = serde_json::from_str(&body).unwrap();
    assert_eq!(page.project.name, "A dark login form");
    assert_eq!(page.messages.len(), 2);
    assert_eq!(page.messages[0].content, "A dark login form\nwith a logo");
    assert_eq!(
        page.running.as_deref(),
        Some(started.assistant_message.as_str())
    );
    assert!(page.versions.is_empty());
    // Restoring waits for the running turn.
    let store = &app.db.store;
    let owner = store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let project = ollio_domain::ProjectId::from_raw(started.project.clone());
    let first = store
        .create_version(NewVersion {
            project: project.clone(),
            message: None,
            title: "Dark login".into(),
            template: "static".into(),
            sandbox_id: None,
            preview_url: None,
            files: vec![fixtures::file("index.html", "<h1>Sign in</h1>")],
            left_out: Vec::new(),
            check: None,
        })
        .await
        .unwrap();
    let (status, body) = ada
        .call("restore_version", &[("version", first.id.as_str())])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let end = MessageEnd {
        content: "Built it.",
        status: MessageStatus::Done,
        error: None,
        model: None,
        model_role: None,
        tokens_in: 0,
        tokens_out: 0,
    };
    let assistant = ollio_domain::MessageId::from_raw(started.assistant_message.clone());
    store.finish_message(&assistant, &end).await.unwrap();
    let (status, body) = ada
        .call("restore_version", &[("version", first.id.as_str())])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let restored: VersionView = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (restored.version, restored.title.as_str()),
        (2, "Restored version 1")
    );
    let (_, body) = ada
        .call("version_files", &[("version", &restored.id)])
        .await;
    let files: Vec<FileView> = serde_json::from_str(&body).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].content, "<h1>Sign in</h1>");
    assert_eq!(
        store.versions(&owner, &project).await.unwrap().len(),
        2,
        "nothing deleted"
    );
    // Out of credits: refused, and no empty project is left behind.
    let (status, body) = ada
        .call(
            "start_project",
            &[("prompt", "Another app"), ("template", "static")],
        )
        .await;
    assert_eq!(status.as_u16(), 402, "{body}");
    assert_eq!(store.projects(&owner).await.unwrap().len(), 1);
}

/// The home page's prompt box without JavaScript: a plain form post opens
/// the new project, and a bad prompt comes back to the home page saying why.
async fn the_home_form_works_as_a_plain_post(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    // Where a plain post of `prompt` is sent, as a path.
    let post = |prompt: String| {
        let ada = &ada;
        async move {
            let home = ada.url("/");
            let response = ada
                .post(
                    "start_project",
                    &[("prompt", &prompt), ("template", "static")],
                    &[("accept", "text/html"), ("referer", &home)],
                )
                .await;
            assert_eq!(response.status(), StatusCode::FOUND);
            let location = response.headers()[reqwest::header::LOCATION]
                .to_str()
                .unwrap();
            location.trim_start_matches(&ada.url("")).to_owned()
        }
    };
    let project = post("A dark login form".to_owned()).await;
    assert!(project.starts_with("/projects/"), "{project}");
    let (status, _, html) = ada.page(&project).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("A dark login form"));

    let refused = post("   ".to_owned()).await;
    assert!(
        refused.starts_with("/?") && refused.contains("__err="),
        "{refused}"
    );
    let (status, _, html) = ada.page(&refused).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Describe what you want to build first."),
        "{html}"
    );

    // A refused prompt comes back in the box: nothing typed is lost.
    let long = format!("A recipe box & <notes> {}", "x".repeat(4000));
    let refused = post(long.clone()).await;
    let (status, _, html) = ada.page(&refused).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("characters"), "the reason: {html}");
    assert!(
        html.contains(&format!(
            "A recipe box &amp; &lt;notes&gt; {}",
            "x".repeat(4000)
        )),
        "the prompt is back in the box"
    );
}

/// Renaming on `/projects` is a plain form: a refused name comes back in
/// that project's form, opened, beside the reason.
async fn a_refused_rename_keeps_the_typed_name(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let (_, project) = project_of(&app, "ada@example.com").await;
    let response = ada
        .post(
            "rename_project",
            &[("id", project.as_str()), ("name", "   ")],
            &[("accept", "text/html"), ("referer", &ada.url("/projects"))],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    // What was typed comes back in a cookie for this page, not the address.
    assert!(
        location.starts_with("/projects?__path=") && !location.contains("name="),
        "{location}"
    );
    let (status, _, html) = ada.page(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"role="alert""#), "the reason: {html}");
    assert!(
        html.contains(r#"<details open class="inline-menu">"#),
        "the form is open: {html}"
    );
    assert!(html.contains(r#"name="name" value="   ""#), "{html}");
}
