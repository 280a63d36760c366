//! "Ask AI" in the editor, on SQLite and PostgreSQL, with the quick-edit
//! model on the scripted server: the proposal is the file with the
//! selection rewritten, shown as a diff, and costs one credit; accepting it
//! is a version of its own, "AI edit: {instruction}"; a bad selection or
//! an empty instruction is refused and costs nothing.

use crate::{support::app::TestApp, GUEST};
use ollio::api::refine::RefineProposal;
use ollio_store::NewVersion;
use ollio_testkit::{fixtures, on_both_databases, ScriptedServer, TestDaemon, TestDb};
use reqwest::StatusCode;
use serde_json::Value;

on_both_databases!(ask_ai_proposes_a_diff_for_a_credit_and_accepting_makes_a_version);

const PAGE: &str = "<main>\n  <h1>Fresh Bakes Daily</h1>\n</main>\n";

async fn ask_ai_proposes_a_diff_for_a_credit_and_accepting_makes_a_version(db: TestDb) {
    let models = ScriptedServer::for_tests().await;
    let daemon = TestDaemon::start(GUEST).await;
    let base_url = models.openai_base_url();
    let vars = [
        ("OPENAI_BASE_URL", base_url.as_str()),
        ("OPENAI_API_KEY", "sk-test"),
        ("OLLIO_MODEL", "openai:journey"),
        ("OLLIO_EDIT_MODEL", "openai:journey-mini"),
    ];
    let app = TestApp::start_with_sandbox(db, &vars, daemon.client.clone(), 1).await;
    let ada = app.user("ada@example.com").await;
    let store = &app.db.store;
    let owner = store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let project = fixtures::project(store, &owner, "Bakery").await;
    store
        .create_version(NewVersion {
            project: project.id.clone(),
            message: None,
            title: "Bakery".into(),
            template: "static".into(),
            sandbox_id: None,
            preview_url: None,
            files: vec![fixtures::file("index.html", PAGE)],
            left_out: Vec::new(),
            check: None,
        })
        .await
        .unwrap();
    let (_, before) = ada.call("get_usage", &[]).await;
    let used = |body: &str| serde_json::from_str::<Value>(body).unwrap()["used"].clone();

    let from = PAGE.find("<h1>").unwrap();
    let to = PAGE.find("</h1>").unwrap() + "</h1>".len();
    let (from, to) = (from.to_string(), to.to_string());
    let ask = |instruction: &'static str, from: &str, to: &str| {
        vec![
            ("project", project.id.as_str().to_owned()),
            ("path", "index.html".to_owned()),
            ("text", PAGE.to_owned()),
            ("from", from.to_owned()),
            ("to", to.to_owned()),
            ("instruction", instruction.to_owned()),
        ]
    };
    let call = |args: Vec<(&'static str, String)>| {
        let ada = &ada;
        async move {
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ada.call("refine_selection", &args).await
        }
    };
    // Refused, and free: nothing to do, a selection past the file's end.
    let (status, body) = call(ask("  ", &from, &to)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("Say what to change"), "{body}");
    let (status, body) = call(ask("shout the heading", "0", "9999")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("select it again"), "{body}");
    let (_, after_refusals) = ada.call("get_usage", &[]).await;
    assert_eq!(used(&after_refusals), used(&before));

    let (status, body) = call(ask("shout the heading", &from, &to)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let proposal: RefineProposal = serde_json::from_str(&body).unwrap();
    assert_eq!(
        proposal.proposed,
        "<main>\n  <h1>FRESH BAKES DAILY!</h1>\n</main>\n"
    );
    assert_eq!((proposal.diff.added, proposal.diff.removed), (1, 1));
    let (_, after) = ada.call("get_usage", &[]).await;
    assert_eq!(
        used(&after).as_i64().unwrap(),
        used(&before).as_i64().unwrap() + 1,
        "a proposal costs one credit"
    );
    // The quick-edit model was asked, with the selection marked.
    let asked = models.requests();
    let last = asked.last().unwrap();
    assert_eq!(last["model"], "journey-mini");
    let text = last.to_string();
    assert!(
        text.contains("<<<SELECTION>>><h1>Fresh Bakes Daily</h1><<<END SELECTION>>>"),
        "{text}"
    );

    let (status, body) = ada
        .call(
            "accept_refine",
            &[
                ("project", project.id.as_str()),
                ("path", "index.html"),
                ("content", proposal.proposed.as_str()),
                ("instruction", "shout the heading"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let version: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(version["title"], "AI edit: shout the heading");
    assert_eq!(version["version"], 2);
    // A later save is a version of its own: AI edits do not fold.
    let (status, body) = ada
        .call(
            "save_file",
            &[
                ("project", project.id.as_str()),
                ("path", "index.html"),
                ("content", "<h1>Quiet again</h1>\n"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let saved: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (saved["version"].as_i64(), saved["title"].as_str()),
        (Some(3), Some("Edited index.html"))
    );
}
