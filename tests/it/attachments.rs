//! Files attached to messages, end to end on SQLite and PostgreSQL: the
//! upload route's checks and limits, and turns that carry a CSV and a PNG
//! through the real app, a real sandbox and the scripted model server.
//! OpenAI's protocol gets the image as an `image_url` part, Anthropic's as
//! an `image` block; a model that takes no images (Ollama) gets the file
//! saved and the user is told it was not seen.

use std::time::Duration;

use crate::support::app::{TestApp, Visitor};
use ollio::api::chat::{AttachmentView, SentMessage};
use ollio_domain::{attachment::MAX_BYTES, ProjectId, UserId};
use ollio_store::MessageStatus;
use ollio_testkit::{fixtures, on_both_databases, ScriptedServer, TestDaemon, TestDb};
use reqwest::StatusCode;
use serde_json::Value;

use crate::GUEST;

on_both_databases!(
    uploads_are_checked_by_their_bytes_and_kept_for_their_owner,
    attached_files_reach_the_project_and_each_model_in_its_own_form,
);

const ADA: &str = "ada@example.com";
const CSV: &[u8] = b"city,price\nOslo,3\nBergen,2\n";
const XLSX: &[u8] = include_bytes!("../../crates/ollio-agent/tests/fixtures/homes.xlsx");
const PARQUET: &[u8] = include_bytes!("../../crates/ollio-agent/tests/fixtures/homes.parquet");
/// A 1×1 PNG (its pixels' checksum is not checked here).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

async fn upload(visitor: &Visitor, name: &str, bytes: Vec<u8>) -> (StatusCode, String) {
    upload_body(visitor, name, reqwest::Body::from(bytes)).await
}

async fn upload_body(visitor: &Visitor, name: &str, body: reqwest::Body) -> (StatusCode, String) {
    let response = visitor
        .client
        .post(visitor.url("/api/attachments"))
        .query(&[("name", name)])
        .body(body)
        .send()
        .await
        .expect("upload");
    (response.status(), response.text().await.unwrap_or_default())
}

/// A body of `size` bytes of `a`, sent in 1 MB chunks (so the test itself
/// holds no more than one; other tests measure this process's memory).
fn streamed(size: usize) -> reqwest::Body {
    let chunk = bytes_of_a(1 << 20);
    let chunks = (0..size.div_ceil(1 << 20)).map(move |index| {
        let left = size - index * (1 << 20);
        Ok::<_, std::io::Error>(chunk.slice(..left.min(1 << 20)))
    });
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}

fn bytes_of_a(size: usize) -> axum::body::Bytes {
    vec![b'a'; size].into()
}

async fn uploaded(visitor: &Visitor, name: &str, bytes: &[u8]) -> AttachmentView {
    let (status, body) = upload(visitor, name, bytes.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
    serde_json::from_str(&body).unwrap()
}

async fn uploads_are_checked_by_their_bytes_and_kept_for_their_owner(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user(ADA).await;

    let csv = uploaded(&ada, "homes.csv", CSV).await;
    assert_eq!((csv.name.as_str(), csv.image), ("homes.csv", false));
    assert_eq!(csv.size, "27 B");
    // A PNG is an image by its bytes, whatever its name says.
    let png = uploaded(&ada, "chart.jpg", PNG).await;
    assert!(png.image);
    // Real workbooks and Parquet files, as openpyxl and pyarrow write them.
    for (name, bytes) in [("homes.xlsx", XLSX), ("homes.parquet", PARQUET)] {
        let file = uploaded(&ada, name, bytes).await;
        assert!(!file.image, "{name}");
        let removed = ada.client.delete(ada.url(&file.url)).send().await.unwrap();
        assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    }

    // Refusals say why, in words for the person who attached the file.
    for (name, bytes, status, words) in [
        (
            "data.csv",
            b"\x7fELF\x02\x01\x01\0\0".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "data.csv is not a file Ollio takes",
        ),
        (
            ".env",
            b"KEY=1".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "is not a usable file name",
        ),
        (
            "empty.csv",
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty.csv is empty",
        ),
    ] {
        let (got, body) = upload(&ada, name, bytes).await;
        assert_eq!(got, status, "{name}: {body}");
        assert!(body.contains(words), "{name}: {body}");
    }
    let (got, body) = upload_body(&ada, "big.txt", streamed(MAX_BYTES + 1)).await;
    assert_eq!(got, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("big.txt is larger than 20.0 MB"), "{body}");
    // Exactly the most a file may hold is taken.
    let (got, body) = upload_body(&ada, "exact.txt", streamed(MAX_BYTES)).await;
    assert_eq!(got, StatusCode::CREATED, "{body}");
    let exact: AttachmentView = serde_json::from_str(&body).unwrap();
    assert_eq!(exact.size, "20.0 MB");
    let removed = ada.client.delete(ada.url(&exact.url)).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);

    // The staged files, and their bytes, for Ada only.
    let (status, _, body) = ada.page("/api/attachments").await;
    assert_eq!(status, StatusCode::OK);
    let staged: Vec<AttachmentView> = serde_json::from_str(&body).unwrap();
    assert_eq!(staged, [csv.clone(), png.clone()]);
    let served = ada.client.get(ada.url(&png.url)).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
    let served = ada.client.get(ada.url(&csv.url)).send().await.unwrap();
    assert!(served.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));

    let bob = app.user("bob@example.com").await;
    let (status, _, body) = bob.page("/api/attachments").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "[]"));
    let (status, _, _) = bob.page(&png.url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = upload(&app.visitor(), "homes.csv", CSV.to_vec()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // "Remove" forgets a staged file, its bytes too.
    let removed = ada.client.delete(ada.url(&csv.url)).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let (status, _, _) = ada.page(&csv.url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let on_disk = app
        .site_root
        .path()
        .join(format!("data/blobs/attachments/{}", csv.id));
    assert!(!on_disk.exists(), "the removed file's bytes stayed");
    assert!(app
        .site_root
        .path()
        .join(format!("data/blobs/attachments/{}", png.id))
        .exists());
}

/// The app with a real sandbox daemon, one turn worker and the scripted
/// model server behind OpenAI's, Anthropic's and Ollama's endpoints.
struct Rig {
    app: TestApp,
    _daemon: TestDaemon,
    models: ScriptedServer,
    ada: Visitor,
    owner: UserId,
}

async fn rig(db: TestDb) -> Rig {
    let models = ScriptedServer::for_tests().await;
    let daemon = TestDaemon::start(GUEST).await;
    let (openai, anthropic, ollama) = (
        models.openai_base_url(),
        models.anthropic_base_url(),
        models.anthropic_base_url(),
    );
    let vars = [
        ("OPENAI_BASE_URL", openai.as_str()),
        ("OPENAI_API_KEY", "sk-openai-test"),
        ("ANTHROPIC_BASE_URL", anthropic.as_str()),
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("OLLAMA_HOST", ollama.as_str()),
    ];
    let app = TestApp::start_with_sandbox(db, &vars, daemon.client.clone(), 1).await;
    let ada = app.user(ADA).await;
    let owner = app.db.store.user_by_email(ADA).await.unwrap().unwrap().id;
    Rig {
        app,
        _daemon: daemon,
        models,
        ada,
        owner,
    }
}

impl Rig {
    /// Sends `text` with a CSV and a PNG to a new project on `model` and
    /// waits for the turn's end.
    async fn turn_with_files(&self, model: &str) -> (ProjectId, String) {
        let store = &self.app.db.store;
        let project = fixtures::project(store, &self.owner, &format!("Homes on {model}")).await;
        store
            .set_project_model(&self.owner, &project.id, Some(model))
            .await
            .unwrap();
        let csv = uploaded(&self.ada, "homes.csv", CSV).await;
        let png = uploaded(&self.ada, "plot.png", PNG).await;
        let ids = format!("{},{}", csv.id, png.id);
        let (status, body) = self
            .ada
            .call(
                "send_message",
                &[
                    ("project", project.id.as_str()),
                    ("content", "a quick page about these homes"),
                    ("attachments", ids.as_str()),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let sent: SentMessage = serde_json::from_str(&body).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let messages = store.messages(&self.owner, &project.id).await.unwrap();
            let answer = messages
                .iter()
                .find(|message| message.id.as_str() == sent.assistant_message)
                .unwrap();
            match answer.status {
                MessageStatus::Done => {
                    // The project's own model builds.
                    assert_eq!(answer.model.as_deref(), Some(model));
                    assert_eq!(answer.model_role.as_deref(), Some("build"));
                    return (project.id, answer.content.clone());
                }
                MessageStatus::Failed | MessageStatus::Cancelled => {
                    panic!("the turn on {model} ended {answer:?}")
                }
                _ => {}
            }
            assert!(tokio::time::Instant::now() < deadline, "{model}: no end");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first request of a turn the scripted server got with `key`.
    fn first_request(&self, key: &str) -> Value {
        self.models
            .requests()
            .into_iter()
            .find(|request| request["_key"].as_str().is_some_and(|k| k.contains(key)))
            .unwrap_or_else(|| panic!("no request was sent with {key}"))
    }

    /// The project's newest version's file at `path`, as text.
    async fn version_file(&self, project: &ProjectId, path: &str) -> Option<String> {
        let store = &self.app.db.store;
        let newest = store
            .versions(&self.owner, project)
            .await
            .unwrap()
            .into_iter()
            .next()?;
        store
            .version_files(&self.owner, &newest.id)
            .await
            .unwrap()
            .into_iter()
            .find(|file| file.path == path)
            .map(|file| file.content)
    }
}

fn last_user_message(request: &Value) -> &Value {
    request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|message| message["role"] == "user")
        .unwrap()
}

async fn attached_files_reach_the_project_and_each_model_in_its_own_form(db: TestDb) {
    let rig = rig(db).await;
    let png_base64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(PNG)
    };

    // OpenAI's protocol: the text, then an image_url part with a data URL.
    let (project, answer) = rig.turn_with_files("openai:quick").await;
    let request = rig.first_request("sk-openai-test");
    let parts = last_user_message(&request)["content"].as_array().unwrap();
    let text = parts[0]["text"].as_str().unwrap();
    assert!(text.contains("a quick page about these homes"), "{text}");
    assert!(text.contains("- data/homes.csv (text/csv, 27 B)"), "{text}");
    assert!(text.contains("  header: city,price"), "{text}");
    assert!(text.contains("  row: Oslo,3"), "{text}");
    assert!(text.contains("- data/plot.png (image/png"), "{text}");
    assert_eq!(parts[1]["type"], "image_url");
    assert_eq!(
        parts[1]["image_url"]["url"],
        format!("data:image/png;base64,{png_base64}")
    );
    assert!(!answer.contains("not seen"), "{answer}");
    // The files are the project's, in its version.
    assert_eq!(
        rig.version_file(&project, "data/homes.csv")
            .await
            .as_deref(),
        Some(std::str::from_utf8(CSV).unwrap())
    );

    // Anthropic's: the text block, then a base64 image block.
    rig.turn_with_files("anthropic:quick").await;
    let request = rig.first_request("sk-ant-test");
    let blocks = last_user_message(&request)["content"].as_array().unwrap();
    assert!(blocks[0]["text"]
        .as_str()
        .unwrap()
        .contains("- data/homes.csv (text/csv, 27 B)"));
    assert_eq!(blocks[1]["type"], "image");
    assert_eq!(blocks[1]["source"]["type"], "base64");
    assert_eq!(blocks[1]["source"]["media_type"], "image/png");
    assert_eq!(blocks[1]["source"]["data"], png_base64.as_str());

    // Ollama's models are sent text: the image is saved, and said unseen.
    let before = rig.models.requests().len();
    let (project, answer) = rig.turn_with_files("ollama:quick").await;
    let request = rig.models.requests()[before].clone();
    assert_eq!(request["model"], "quick");
    let content = &last_user_message(&request)["content"];
    let text = content.as_str().expect("text only, no image parts");
    assert!(text.contains("- data/plot.png (image/png"), "{text}");
    assert!(!text.contains(&png_base64));
    assert!(
        answer.contains("plot.png was saved in `data/` but not seen: the model ollama:quick does not take images."),
        "{answer}"
    );
    let events = rig
        .app
        .db
        .store
        .events_after(&rig.owner, &project, 0, 1000)
        .await
        .unwrap();
    let saved = events
        .iter()
        .find(|event| event.kind == "attachments_saved")
        .expect("the files were saved as a step");
    assert!(
        saved.payload.contains(r#""unseen":["plot.png"]"#),
        "{}",
        saved.payload
    );
    // A file sent once cannot be sent again; it stays with its message.
    let staged = rig
        .app
        .db
        .store
        .staged_attachments(&rig.owner)
        .await
        .unwrap();
    assert!(staged.is_empty(), "{staged:?}");
}
