//! A version's files as the Code tab and the download reach them, on SQLite
//! and on PostgreSQL: `highlighted_file`, `GET /api/versions/{id}/zip`, and
//! assistants' summaries as safe HTML in `project_view`.

use std::io::{Cursor, Read};

use crate::support::app::{TestApp, Visitor};
use ollio::{
    api::workspace::{HighlightedFile, ProjectPage},
    error::AppError,
};
use ollio_domain::{ProjectId, ProjectName, VersionId};
use ollio_store::{MessageStatus, NewFile, NewVersion, Role};
use ollio_testkit::{fixtures::file, on_both_databases, TestDb};
use reqwest::StatusCode;

on_both_databases!(
    a_versions_zip_holds_exactly_its_files,
    a_version_over_the_cap_is_not_zipped,
    a_file_is_highlighted_for_its_owner_only,
    assistant_summaries_come_as_safe_html,
);

const INDEX: &str = "<!doctype html>\n<h1 class=\"title\">Hi</h1>\n<script>alert(1)</script>\n";

/// Ada's project with one version holding `files`.
async fn version_of(
    app: &TestApp,
    email: &str,
    name: &str,
    files: Vec<NewFile>,
) -> (ProjectId, VersionId) {
    let store = &app.db.store;
    let owner = store.user_by_email(email).await.unwrap().unwrap().id;
    let project = store
        .create_project(&owner, &ProjectName::parse(name).unwrap(), "static")
        .await
        .unwrap();
    let version = store
        .create_version(NewVersion {
            project: project.id.clone(),
            message: None,
            title: "First".into(),
            template: "static".into(),
            sandbox_id: None,
            preview_url: None,
            files,
            left_out: Vec::new(),
            check: None,
        })
        .await
        .unwrap();
    (project.id, version.id)
}

async fn get(visitor: &Visitor, path: &str) -> reqwest::Response {
    visitor
        .client
        .get(visitor.url(path))
        .send()
        .await
        .expect("request")
}

async fn a_versions_zip_holds_exactly_its_files(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let files = [
        ("index.html", INDEX),
        ("src/app.js", "const a = 1;\n"),
        ("styles/main.css", "body { color: red; }\n"),
        ("empty.txt", ""),
    ];
    let (_, version) = version_of(
        &app,
        "ada@example.com",
        "Ada's Shop!",
        files
            .iter()
            .map(|(path, content)| file(path, content))
            .collect(),
    )
    .await;

    let response = get(&ada, &format!("/api/versions/{version}/zip")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("application/zip"));
    assert_eq!(
        header("content-disposition").as_deref(),
        Some("attachment; filename=\"ada-s-shop-v1.zip\"")
    );
    assert_eq!(
        header("cache-control").as_deref(),
        Some("private, no-store")
    );
    let bytes = response.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut found = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
        let mut content = String::new();
        entry.read_to_string(&mut content).unwrap();
        found.push((entry.name().to_owned(), content));
    }
    found.sort();
    let mut expected: Vec<(String, String)> = files
        .iter()
        .map(|(path, content)| ((*path).to_owned(), (*content).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(found, expected);

    // Someone else's, nobody's, and a version that does not exist.
    let bob = app.user("bob@example.com").await;
    let response = get(&bob, &format!("/api/versions/{version}/zip")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.json::<AppError>().await.unwrap(),
        AppError::NotFound
    );
    let response = get(&app.visitor(), &format!("/api/versions/{version}/zip")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = get(&ada, "/api/versions/no-such-version/zip").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

async fn a_version_over_the_cap_is_not_zipped(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    // 101 files of 520,000 bytes: just over 50 MiB together.
    let big = "x".repeat(520_000);
    let files = (0..101)
        .map(|i| file(&format!("big/{i:03}.txt"), &big))
        .collect();
    let (_, version) = version_of(&app, "ada@example.com", "Big", files).await;
    let response = get(&ada, &format!("/api/versions/{version}/zip")).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: AppError = response.json().await.unwrap();
    assert!(
        matches!(&error, AppError::TooLarge { message } if message.contains("50 MB")),
        "{error:?}"
    );
    // Nor is it sent whole through version_files (8 MB at most).
    let (status, body) = ada
        .call("version_files", &[("version", version.as_str())])
        .await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        &body[..body.len().min(300)]
    );
    assert!(body.contains("more than the 8.0 MB sent at once"), "{body}");
    let (_, small) = version_of(&app, "ada@example.com", "Small", vec![file("a.txt", "a")]).await;
    let (status, body) = ada
        .call("version_files", &[("version", small.as_str())])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn a_file_is_highlighted_for_its_owner_only(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let (_, version) = version_of(
        &app,
        "ada@example.com",
        "Shop",
        vec![file("index.html", INDEX), file("notes.txt", "a <b>\n")],
    )
    .await;
    let version = version.as_str();

    let (status, body) = ada
        .call(
            "highlighted_file",
            &[("version", version), ("path", "index.html")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file: HighlightedFile = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (file.path.as_str(), file.language.as_str()),
        ("index.html", "html")
    );
    assert_eq!(file.lines.len(), 3, "{:?}", file.lines);
    assert!(file.lines[1].contains("hl-tag"), "{:?}", file.lines);
    assert!(file.lines[1].contains("Hi"));
    for line in &file.lines {
        assert!(!line.contains("<h1") && !line.contains("<script"), "{line}");
        assert_eq!(
            line.matches("<span").count(),
            line.matches("</span>").count()
        );
    }

    let (status, body) = ada
        .call(
            "highlighted_file",
            &[("version", version), ("path", "notes.txt")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file: HighlightedFile = serde_json::from_str(&body).unwrap();
    assert_eq!(file.lines, vec!["a &lt;b&gt;"]);

    let (status, _) = ada
        .call(
            "highlighted_file",
            &[("version", version), ("path", "missing.html")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let bob = app.user("bob@example.com").await;
    let (status, body) = bob
        .call(
            "highlighted_file",
            &[("version", version), ("path", "index.html")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("Hi"), "{body}");
    let (status, _) = app
        .visitor()
        .call(
            "highlighted_file",
            &[("version", version), ("path", "index.html")],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn assistant_summaries_come_as_safe_html(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let store = &app.db.store;
    let owner = store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let project = store
        .create_project(&owner, &ProjectName::parse("Shop").unwrap(), "static")
        .await
        .unwrap();
    store
        .create_message(
            &project.id,
            Role::User,
            "make it **bold** <b>",
            MessageStatus::Done,
        )
        .await
        .unwrap();
    store
        .create_message(
            &project.id,
            Role::Assistant,
            "Made it **bold**.\n\n```js\nconst hidden = 1;\n```\n\n<script>alert(1)</script>",
            MessageStatus::Done,
        )
        .await
        .unwrap();
    let (status, body) = ada
        .call("project_view", &[("id", project.id.as_str())])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: ProjectPage = serde_json::from_str(&body).unwrap();
    let [user, assistant] = &page.messages[..] else {
        panic!("{:?}", page.messages)
    };
    assert_eq!(user.html, "");
    assert_eq!(user.content, "make it **bold** <b>");
    assert!(
        assistant.html.contains("<strong>bold</strong>"),
        "{}",
        assistant.html
    );
    assert!(assistant.html.contains("code-note"), "{}", assistant.html);
    assert!(!assistant.html.contains("hidden"), "{}", assistant.html);
    assert!(!assistant.html.contains("<script"), "{}", assistant.html);
}
