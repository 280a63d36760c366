//! Workspace figures: `scripts/bench.sh` (or `cargo bench --features ssr
//! --bench workspace` after building the browser files).
//!
//! - the project page with 100 messages and a 500-file version, rendered
//!   on the server (the whole `GET /projects/{id}`: session, database,
//!   Markdown, the file list and the first file highlighted); target p95
//!   ≤ 15 ms;
//! - the Code tab's Search over that version (`search_files`: plain text,
//!   whole word, regex); target p95 ≤ 50 ms;
//! - the initial transfer of the workspace route: the WASM, JS and CSS as
//!   the server sends them (compressed), from the folder in
//!   `OLLIO_BENCH_SITE` (default `target/site`); target ≤ 300 KB; and what
//!   is loaded when the page needs it: the editor's and the terminal's
//!   bundles and the WASM chunks (the Code Lab, the Model tab).

// The app on a free port, as the tests start it (not every part is used here).
#[allow(dead_code)]
#[path = "../tests/it/support/app.rs"]
mod app;

use std::{path::PathBuf, time::Instant};

use app::TestApp;
use ollio_store::{MessageStatus, NewFile, NewVersion, Role};
use ollio_testkit::{db, figures::summary, fixtures};

/// The same allocator as the `ollio` binary, so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MESSAGES: usize = 100;
const FILES: usize = 500;
const RENDERS: usize = 200;

fn file(index: usize) -> NewFile {
    let (path, content) = match index % 5 {
        0 => (
            format!("pages/page-{index}.html"),
            format!(
                "<!doctype html>\n<html><body>\n<h1>Page {index}</h1>\n<p>{}</p>\n</body></html>\n",
                "Lorem ipsum dolor sit amet. ".repeat(20)
            ),
        ),
        1 => (
            format!("styles/s-{index}.css"),
            format!(".card-{index} {{\n  padding: 1rem;\n  color: #333;\n}}\n").repeat(10),
        ),
        2 => (
            format!("scripts/m-{index}.js"),
            format!("export function f{index}(x) {{\n  return x * {index};\n}}\n").repeat(10),
        ),
        3 => (
            format!("data/d-{index}.json"),
            format!("{{\"id\": {index}, \"tags\": [\"a\", \"b\"]}}\n"),
        ),
        _ => (
            format!("docs/n-{index}.md"),
            format!("# Note {index}\n\nSome *text*.\n").repeat(5),
        ),
    };
    NewFile {
        language: ollio_agent::snapshot::language_of(&path).into(),
        path,
        content,
        binary: false,
    }
}

async fn project_page() {
    let app = TestApp::start_with(db::sqlite().await, &[("OLLIO_RATE_LIMIT", "100000")]).await;
    let visitor = app.user("bench@example.com").await;
    let store = &app.db.store;
    let owner = store
        .user_by_email("bench@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let project = fixtures::project(store, &owner, "Big project").await;
    for turn in 0..MESSAGES / 2 {
        store
            .create_message(
                &project.id,
                Role::User,
                &format!("Change number {turn}: make the cards rounder and add a footer"),
                MessageStatus::Done,
            )
            .await
            .unwrap();
        store
            .create_message(
                &project.id,
                Role::Assistant,
                &format!("Made the cards **rounder** and added a footer with links.\n\n- `style.css` updated\n- turn {turn}"),
                MessageStatus::Done,
            )
            .await
            .unwrap();
    }
    let mut files: Vec<NewFile> = (1..FILES).map(file).collect();
    files.push(NewFile {
        path: "index.html".into(),
        language: "html".into(),
        content: "<!doctype html>\n<html lang=\"en\">\n<head><title>Big</title></head>\n<body>\n<h1>Big project</h1>\n</body>\n</html>\n".repeat(20),
        binary: false,
    });
    store
        .create_version(NewVersion {
            project: project.id.clone(),
            message: None,
            title: "Five hundred files".into(),
            template: "static".into(),
            sandbox_id: None,
            preview_url: None,
            files,
            left_out: Vec::new(),
            check: None,
        })
        .await
        .unwrap();
    let path = format!("/projects/{}", project.id);
    let (status, _, html) = visitor.page(&path).await;
    assert!(status.is_success(), "{status}");
    assert!(html.contains("Big project") && html.contains("index.html"));
    if let Ok(dump) = std::env::var("OLLIO_BENCH_DUMP") {
        std::fs::write(dump, &html).unwrap();
    }
    let mut samples = Vec::new();
    for _ in 0..RENDERS {
        let started = Instant::now();
        let (status, _, body) = visitor.page(&path).await;
        samples.push(started.elapsed());
        assert!(status.is_success() && !body.is_empty());
    }
    let (_, p95) = summary(
        &format!("project page SSR ({MESSAGES} messages, {FILES} files)"),
        samples,
    );
    // What the page is made of, called alone.
    let version = store.versions(&owner, &project.id).await.unwrap()[0]
        .id
        .to_string();
    for (name, args) in [
        ("project_view", vec![("id", project.id.to_string())]),
        ("version_tree", vec![("version", version.clone())]),
    ] {
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut samples = Vec::new();
        for _ in 0..RENDERS {
            let started = Instant::now();
            let (status, _) = visitor.call(name, &args).await;
            samples.push(started.elapsed());
            assert!(status.is_success());
        }
        summary(&format!("  of which {name} alone"), samples);
    }
    // The Code tab's Search over the 500 files, as the browser asks it.
    for (label, args) in [
        ("search_files, plain text", vec![("query", "padding")]),
        (
            "search_files, whole word",
            vec![("query", "return"), ("whole_word", "true")],
        ),
        (
            "search_files, regex",
            vec![("query", r"f\d+\(x\)"), ("regex", "true")],
        ),
    ] {
        let mut args: Vec<(&str, &str)> = args;
        args.push(("version", version.as_str()));
        let mut samples = Vec::new();
        for _ in 0..RENDERS / 4 {
            let started = Instant::now();
            let (status, body) = visitor.call("search_files", &args).await;
            samples.push(started.elapsed());
            assert!(status.is_success() && body.contains("\"total\""), "{body}");
        }
        let (_, p95) = summary(&format!("{label} ({FILES} files)"), samples);
        println!(
            "{:<52} target p95 ≤ 50 ms: {}",
            "",
            if p95.as_secs_f64() <= 0.050 {
                "met"
            } else {
                "MISSED"
            }
        );
    }
    println!(
        "{:<52} {:>7.1} KB of HTML   target p95 ≤ 15 ms: {}",
        "",
        html.len() as f64 / 1024.0,
        if p95.as_secs_f64() <= 0.015 {
            "met"
        } else {
            "MISSED"
        }
    );
}

/// The browser files as served with `Accept-Encoding: br, gzip`.
async fn initial_transfer() {
    let site =
        PathBuf::from(std::env::var("OLLIO_BENCH_SITE").unwrap_or_else(|_| "target/site".into()));
    let pkg = site.join("pkg");
    let app = TestApp::start(db::sqlite().await).await;
    let served = app.site_root.path().join("pkg");
    std::fs::create_dir_all(&served).unwrap();
    let client = reqwest::Client::builder().build().unwrap();
    let mut total = 0usize;
    let mut raw_total = 0u64;
    // wasm-bindgen's JS imports the split chunks' loader (__wasm_split.js)
    // as it starts.
    for name in ["ollio.js", "ollio.wasm", "ollio.css", "__wasm_split.js"] {
        let Some((bytes, on_disk)) = transfer(&client, &app, &pkg, &served, name).await else {
            return;
        };
        total += bytes;
        raw_total += on_disk;
    }
    println!(
        "{:<52} {:>8.1} KB ({:.1} KB on disk)   target ≤ 300 KB: {}",
        "initial transfer of the workspace route",
        total as f64 / 1024.0,
        raw_total as f64 / 1024.0,
        if total <= 300 * 1024 { "met" } else { "MISSED" }
    );
    // The editor comes after the page is interactive, on the project page
    // only, the terminal when it is first opened, and the WASM chunks
    // (app/project/lazy_part.rs) when the browser is idle or their tab is
    // picked: none is part of the initial transfer.
    transfer(&client, &app, &pkg, &served, "editor.js").await;
    transfer(&client, &app, &pkg, &served, "terminal.js").await;
    let mut chunks: Vec<String> = std::fs::read_dir(&pkg)
        .map(|dir| {
            dir.filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|name| name.ends_with(".wasm") && name != "ollio.wasm")
                .collect()
        })
        .unwrap_or_default();
    chunks.sort();
    for chunk in chunks {
        transfer(&client, &app, &pkg, &served, &chunk).await;
    }
}

/// `name` from the built `pkg` as the server sends it: its transferred
/// and on-disk sizes, printed.
async fn transfer(
    client: &reqwest::Client,
    app: &TestApp,
    pkg: &std::path::Path,
    served: &std::path::Path,
    name: &str,
) -> Option<(usize, u64)> {
    let from = pkg.join(name);
    let Ok(meta) = std::fs::metadata(&from) else {
        println!(
            "{name}: not found in {} (build the browser files first: scripts/bench.sh)",
            pkg.display()
        );
        return None;
    };
    std::fs::copy(&from, served.join(name)).unwrap();
    let response = client
        .get(app.url(&format!("/pkg/{name}")))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    let encoding = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .to_owned();
    let bytes = response.bytes().await.unwrap().len();
    println!(
        "{:<52} {:>8.1} KB ({encoding}; {:.1} KB on disk)",
        format!("transfer: {name}"),
        bytes as f64 / 1024.0,
        meta.len() as f64 / 1024.0
    );
    Some((bytes, meta.len()))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(project_page());
    runtime.block_on(initial_transfer());
}
