//! The app over HTTP: pages, the 404, health and static files.

use crate::support::app::TestApp;
use ollio_testkit::{on_both_databases, TestDb};
use reqwest::{header, StatusCode};

async fn sqlite_app() -> TestApp {
    TestApp::start(ollio_testkit::db::sqlite().await).await
}

#[tokio::test]
async fn the_landing_page_stands_alone_without_javascript() {
    let app = sqlite_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = response.text().await.unwrap();
    for expected in [
        "<html lang=\"en\"",
        "Describe an app. Watch it run.",
        "What do you want to build?",
        "How it works",
        "site-footer",
        "/pkg/ollio.css",
        "/pkg/ollio.js",
    ] {
        assert!(html.contains(expected), "landing page lacks {expected:?}");
    }
    // No stored theme: the page leaves the choice to the system preference.
    assert!(!html.contains("data-theme="));
}

#[tokio::test]
async fn no_page_of_the_app_may_be_framed() {
    let app = sqlite_app().await;
    for path in ["/", "/login", "/projects", "/nowhere", "/healthz"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            "frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
    }
}

#[tokio::test]
async fn the_prompt_box_validates_on_the_server_too() {
    let app = sqlite_app().await;
    let blank = app.get("/?prompt=+++").await.text().await.unwrap();
    assert!(blank.contains("Describe what you want to build first."));

    let long = "x".repeat(4_001);
    let too_long = app
        .get(&format!("/?prompt={long}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(too_long.contains("the limit is 4000"));

    // A visitor's good prompt goes on through sign-up, and comes back.
    let visitor = app.visitor();
    let (status, location, _) = visitor.page("/?prompt=a+dark+login+form").await;
    assert!(status.is_redirection(), "{status}");
    let location = location.unwrap_or_default();
    assert_eq!(
        location,
        "/signup?next=/%3Fprompt%3Da%2Bdark%2Blogin%2Bform"
    );
    let (_, _, signup) = visitor.page(&location).await;
    assert!(signup.contains("your prompt is ready to build"), "{signup}");
    assert!(signup.contains("a dark login form"));

    // An example link fills the box without submitting it.
    let example = app
        .get("/?idea=A+pomodoro+timer")
        .await
        .text()
        .await
        .unwrap();
    assert!(example.contains("A pomodoro timer"));
    assert!(!example.contains("Create your account"));
}

#[tokio::test]
async fn user_text_is_escaped_everywhere_it_is_echoed() {
    let app = sqlite_app().await;
    // In the notice, and inside the textarea, which must not be closed early.
    for param in ["prompt", "idea"] {
        let html = app
            .get(&format!(
                "/?{param}=%3C%2Ftextarea%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E"
            ))
            .await
            .text()
            .await
            .unwrap();
        assert!(!html.contains("<script>alert(1)"), "{param}: {html}");
        assert!(
            html.contains("&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{param}"
        );
    }
}

#[tokio::test]
async fn a_stored_theme_is_rendered_by_the_server() {
    let app = sqlite_app().await;
    let dark = app.get_with_cookie("/", "other=1; ollio_theme=dark").await;
    assert!(dark.contains("<html lang=\"en\" data-theme=\"dark\""));
    assert!(dark.contains("aria-pressed=\"true\""));
    let bogus = app.get_with_cookie("/", "ollio_theme=\"><script>").await;
    assert!(!bogus.contains("data-theme="));
}

#[tokio::test]
async fn unknown_paths_get_a_styled_404() {
    let app = sqlite_app().await;
    for path in ["/no/such/page", "/pkg/missing.js"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("Page not found"), "{path}");
        assert!(html.contains("Back to the start"), "{path}");
        assert!(html.contains("site-header"), "{path}");
    }
}

#[tokio::test]
async fn static_assets_are_served_compressed() {
    let app = sqlite_app().await;
    let css = "body { color: red; }\n".repeat(500);
    app.write_static("pkg/ollio.css", css.as_bytes());
    let plain = app.get("/pkg/ollio.css").await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(plain.text().await.unwrap(), css);

    let gzipped = app
        .client
        .get(app.url("/pkg/ollio.css"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()[header::CONTENT_ENCODING], "gzip");
    assert!(gzipped.bytes().await.unwrap().len() < css.len() / 10);
}

on_both_databases!(health_reports_the_version_and_the_database);

async fn health_reports_the_version_and_the_database(db: TestDb) {
    let backend = db.url.backend_name();
    let app = TestApp::start(db).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"]["status"], "ok");
    assert_eq!(body["database"]["backend"], backend);
    assert!(body["database"]["latency_ms"].as_f64().is_some());

    // With the database gone, health says so, without the cause.
    app.db.store.close().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["database"]["status"], "unavailable");
    assert_eq!(body["database"].as_object().unwrap().len(), 3);
}

/// Previews live on the sandbox daemon's origins only: the app, asked for a
/// preview host, answers with its own pages and never with sandbox content.
#[tokio::test]
async fn the_app_never_serves_sandbox_content() {
    let app = sqlite_app().await;
    let response = reqwest::Client::new()
        .get(app.url("/index.html"))
        .header("host", "3000-i0123456789abcdef012.localhost:49983")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(html.contains("site-header"));
}

#[tokio::test]
async fn compressed_assets_are_kept_until_the_file_changes() {
    let app = sqlite_app().await;
    let pkg = app.site_root.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let file = pkg.join("ollio_bg.wasm");
    std::fs::write(&file, "first build ".repeat(4096)).unwrap();
    let fetch = || async {
        let response = app
            .client
            .get(app.url("/pkg/ollio_bg.wasm"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        assert_eq!(response.headers()["content-encoding"], "gzip");
        response.bytes().await.unwrap()
    };
    let first = fetch().await;
    assert!(first.len() < 4096, "compressed: {} bytes", first.len());
    assert_eq!(fetch().await, first);

    // A rebuilt file is served afresh, not from what was kept.
    std::fs::write(&file, "second build, longer ".repeat(4096)).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_ne!(fetch().await, first);
}

/// The browser's files come brotli-compressed at the best level (not the
/// fast level used per response), with the file server's own headers.
#[tokio::test]
async fn browser_files_are_brotli_compressed_at_the_best_level() {
    let app = sqlite_app().await;
    let pkg = app.site_root.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    // Words in a pseudo-random order: compressible, but not trivially.
    let words = [
        "view", "signal", "memo", "effect", "owner", "node", "attr", "event",
    ];
    let mut seed = 7u64;
    let script: String = (0..40_000)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            words[(seed >> 60) as usize % words.len()]
        })
        .collect::<Vec<_>>()
        .join(" ");
    std::fs::write(pkg.join("ollio.js"), &script).unwrap();

    let response = app
        .client
        .get(app.url("/pkg/ollio.js"))
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert!(headers
        .get_all(header::VARY)
        .iter()
        .any(|value| value == "accept-encoding"));
    let body = response.bytes().await.unwrap();
    let mut plain = Vec::new();
    brotli::BrotliDecompress(&mut body.as_ref(), &mut plain).unwrap();
    assert_eq!(plain, script.as_bytes());

    let mut fast = Vec::new();
    {
        use std::io::Write;
        let mut writer = brotli::CompressorWriter::new(&mut fast, 4096, 5, 22);
        writer.write_all(script.as_bytes()).unwrap();
    }
    assert!(
        body.len() < fast.len(),
        "{} bytes served, {} at the fast level",
        body.len(),
        fast.len()
    );

    // Asked for nothing compressed, the file comes as it is.
    let plain = app.get("/pkg/ollio.js").await;
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.text().await.unwrap(), script);
}

/// A page the browser leaves mid-render drops its contexts while its
/// resources' server functions still run: past their first `.await` they
/// must still have the app's state (it used to be an internal error, logged).
#[tokio::test]
async fn a_server_function_keeps_its_state_when_its_page_is_abandoned() {
    use std::{
        future::Future,
        task::{Context, Waker},
    };

    use leptos::prelude::{provide_context, Owner};
    use ollio::server::request as api;

    let app = sqlite_app().await;
    let page = Owner::new();
    page.with(|| provide_context(app.state.clone()));
    let (resume, resumed) = tokio::sync::oneshot::channel::<()>();
    let mut call = Box::pin(api::respond(async move {
        let _ = resumed.await;
        api::state().map(|state| state.config.trusted_proxies.clone())
    }));
    let first = page.with(|| call.as_mut().poll(&mut Context::from_waker(Waker::noop())));
    assert!(first.is_pending(), "the call waits for its resume");

    // The browser went away: the page's owner and its contexts are gone.
    page.cleanup();
    drop(page);
    resume.send(()).unwrap();
    assert!(
        call.await.is_ok(),
        "the call still has the state it started with"
    );
}

/// On PostgreSQL, an event another process appends wakes this app's event
/// streams at once (`LISTEN`/`NOTIFY`), not at their next look.
#[tokio::test]
async fn postgres_events_of_other_processes_wake_the_streams() {
    let db = ollio_testkit::db::postgres().await;
    let url = db.url.clone();
    let app = TestApp::start(db).await;
    let mut woken = app.state.hub.subscribe();
    // Another process: a store of its own on the same database.
    let other = ollio_store::Store::connect(&url).await.unwrap();
    let owner = ollio_testkit::fixtures::user(&other, "ada@example.com").await;
    let project = ollio_testkit::fixtures::project(&other, &owner, "Shop").await;
    let message = ollio_testkit::fixtures::message(
        &other,
        &project.id,
        ollio_store::Role::User,
        "hi",
        ollio_store::MessageStatus::Done,
    )
    .await
    .id;
    // The listener may still be connecting: append until it hears one.
    let heard = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            other
                .append_event(
                    &project.id,
                    &message,
                    "sandbox_starting",
                    "\"sandbox_starting\"",
                )
                .await
                .unwrap();
            if let Ok(Ok(woke)) =
                tokio::time::timeout(std::time::Duration::from_millis(500), woken.recv()).await
            {
                return woke;
            }
        }
    })
    .await
    .expect("the app heard of the other process's event");
    assert_eq!(heard, project.id);
}
