//! The Code tab's terminal, end to end on SQLite and PostgreSQL: a
//! WebSocket at `/api/projects/{id}/terminal` (as a browser opens it, with
//! the session cookie and the page's `Origin`) to a real bash on a pty in
//! the project's sandbox, made by the bundled daemon. What it changes is
//! listed and saved as a version; typing keeps the sandbox alive; a
//! reconnect finds the same shell; another
//! site's page is refused; signing out closes it.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ollio_domain::ProjectId;
use ollio_testkit::{on_both_databases, TestDaemon, TestDb};
use reqwest::{
    multipart::{Form, Part},
    StatusCode,
};
use serde_json::Value;
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, protocol::frame::coding::CloseCode, Message},
    MaybeTlsStream, WebSocketStream,
};

use crate::{support::app::TestApp, GUEST};

on_both_databases!(
    a_terminal_runs_commands_in_the_sandbox_and_saves_what_they_changed,
    an_imported_project_of_thousands_of_files_stays_whole_when_saved_again,
);

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Signs up `email` with a client of its own; its session cookie.
async fn session_cookie(app: &TestApp, email: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(app.url("/api/signup"))
        .form(&[
            ("email", email),
            ("password", crate::support::app::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("ollio_session="))
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

async fn call(
    app: &TestApp,
    cookie: &str,
    name: &str,
    args: &[(&str, &str)],
) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/{name}")))
        .header(reqwest::header::COOKIE, cookie)
        .form(args)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn connect(
    app: &TestApp,
    project: &str,
    cookie: &str,
    origin: &str,
) -> Result<Socket, StatusCode> {
    let url = app
        .url(&format!(
            "/api/projects/{project}/terminal?cols=100&rows=30"
        ))
        .replace("http://", "ws://");
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status()),
        Err(other) => panic!("connecting: {other}"),
    }
}

/// Reads the terminal until what it drew holds `text` (it echoes what is
/// typed, so wait for what only running the command prints).
async fn read_until(socket: &mut Socket, seen: &mut String, text: &str) {
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while !seen.contains(text) {
            match socket.next().await {
                Some(Ok(Message::Binary(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
                Some(Ok(_)) => {}
                _ => return false,
            }
        }
        true
    })
    .await;
    assert_eq!(found, Ok(true), "never saw {text:?} in {seen:?}");
}

async fn type_in(socket: &mut Socket, text: &str) {
    socket
        .send(Message::Binary(text.as_bytes().to_vec().into()))
        .await
        .unwrap();
}

async fn a_terminal_runs_commands_in_the_sandbox_and_saves_what_they_changed(db: TestDb) {
    let daemon = TestDaemon::start(GUEST).await;
    let app = TestApp::start_with_sandbox(db, &[], daemon.client.clone(), 0).await;
    let origin = app.url("");
    // A project to open it in: a page, imported.
    let (cookie, project) = import_as_ada(&app, zip_of_a_page()).await;

    // Another site's page, with Ada's cookie: refused before anything starts.
    assert_eq!(
        connect(&app, &project, &cookie, "http://evil.example")
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );

    let mut socket = connect(&app, &project, &cookie, &origin).await.unwrap();
    // The shell's sandbox, two minutes from its end.
    let project_id = ProjectId::from_raw(project.clone());
    let sandbox_now = || async {
        app.db
            .store
            .current_sandbox(&project_id)
            .await
            .unwrap()
            .unwrap()
    };
    let sandbox = sandbox_now().await;
    daemon.client.set_timeout(&sandbox.id, 120).await.unwrap();
    app.db
        .store
        .extend_sandbox(&sandbox.id, ollio_store::now_ms() + 120_000)
        .await
        .unwrap();
    let ending = daemon.client.get(&sandbox.id).await.unwrap().end_at;
    let mut seen = String::new();
    type_in(&mut socket, "echo $((6*7)); echo pid-$$-; stty size\n").await;
    read_until(&mut socket, &mut seen, "42").await;
    read_until(&mut socket, &mut seen, "30 100").await;
    // Typing used it: it lives a lifetime (ten minutes here) from now.
    let kept = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if sandbox_now().await.expires_at > ollio_store::now_ms() + 300_000 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(kept.is_ok(), "typing did not extend the sandbox");
    let end_at = daemon.client.get(&sandbox.id).await.unwrap().end_at;
    assert!(end_at > ending, "{end_at} is not after {ending}");
    let pid = shell_pid(&seen);
    // A resize reaches the shell.
    socket
        .send(Message::Text(
            r#"{"type":"resize","cols":90,"rows":20}"#.into(),
        ))
        .await
        .unwrap();
    type_in(
        &mut socket,
        "stty size; touch new.txt; echo hello > index.html; echo done-$((1+1))\n",
    )
    .await;
    read_until(&mut socket, &mut seen, "20 90").await;
    read_until(&mut socket, &mut seen, "done-2").await;

    let (status, body) = call(&app, &cookie, "terminal_changes", &[("project", &project)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let changes: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        changes,
        serde_json::json!([
            { "path": "index.html", "kind": "modified" },
            { "path": "new.txt", "kind": "added" },
        ])
    );

    // A dropped connection: the same shell again, with what it printed.
    drop(socket);
    let mut socket = connect(&app, &project, &cookie, &origin).await.unwrap();
    let mut again = String::new();
    read_until(&mut socket, &mut again, "done-2").await;
    type_in(&mut socket, "echo same-$$-\n").await;
    read_until(&mut socket, &mut again, &format!("same-{pid}-")).await;

    let (status, body) = call(
        &app,
        &cookie,
        "save_terminal_changes",
        &[("project", &project)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let version: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(version["title"], "Changed in the terminal", "{body}");
    let (_, body) = call(&app, &cookie, "terminal_changes", &[("project", &project)]).await;
    assert_eq!(body, "[]");
    let (status, body) = call(
        &app,
        &cookie,
        "save_terminal_changes",
        &[("project", &project)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("Nothing changed"), "{body}");

    // Signing out closes the terminal.
    let (status, _) = call(&app, &cookie, "logout", &[]).await;
    assert!(status.is_success() || status.is_redirection());
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|frame| frame.code),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .expect("the terminal stayed open after signing out");
    assert_eq!(closed, Some(CloseCode::Library(4001)));
}

/// Imports `zip` as Ada's; her session cookie and the project's id.
async fn import_as_ada(app: &TestApp, zip: Vec<u8>) -> (String, String) {
    let cookie = session_cookie(app, "ada@example.com").await;
    let form = Form::new().part("archive", Part::bytes(zip).file_name("site.zip"));
    let imported = reqwest::Client::new()
        .post(app.url("/api/projects/import"))
        .header(reqwest::header::COOKIE, &cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), StatusCode::CREATED);
    let project: Value = imported.json().await.unwrap();
    assert_eq!(project["left_out"], 0, "{project}");
    (cookie, project["id"].as_str().unwrap().to_owned())
}

/// An import may hold 5,000 files, and a version as many: a project
/// imported with more than a thousand (the old limit of a snapshot) keeps
/// every one when the sandbox is read back into its next version.
async fn an_imported_project_of_thousands_of_files_stays_whole_when_saved_again(db: TestDb) {
    const FILES: usize = 1500;
    let daemon = TestDaemon::start(GUEST).await;
    let app = TestApp::start_with_sandbox(db, &[], daemon.client.clone(), 0).await;
    let (cookie, project) = import_as_ada(&app, zip_of_many_files(FILES)).await;

    let mut socket = connect(&app, &project, &cookie, &app.url(""))
        .await
        .unwrap();
    let mut seen = String::new();
    type_in(
        &mut socket,
        "ls notes | wc -l; echo more > notes/extra.txt; echo made-$((2+3))\n",
    )
    .await;
    read_until(&mut socket, &mut seen, "made-5").await;
    assert!(seen.contains(&format!("{}", FILES - 1)), "{seen}");

    let (status, body) = call(
        &app,
        &cookie,
        "save_terminal_changes",
        &[("project", &project)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let version: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(version["left_out"], serde_json::json!([]), "{body}");
    let (status, body) = call(
        &app,
        &cookie,
        "version_tree",
        &[("version", version["id"].as_str().unwrap())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tree: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(tree.len(), FILES + 1);
    assert!(tree.iter().any(|file| file["path"] == "notes/extra.txt"));
    assert!(tree.iter().any(|file| file["path"] == "notes/n1498.txt"));
}

/// The shell's pid as `echo pid-$$-` printed it (its echo shows `$$`).
fn shell_pid(seen: &str) -> String {
    seen.split("pid-")
        .filter_map(|rest| rest.split_once('-'))
        .map(|(digits, _)| digits)
        .find(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .expect("the shell printed its pid")
        .to_owned()
}

fn zip_of_a_page() -> Vec<u8> {
    use std::io::Write;
    let mut bytes = Vec::new();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
    zip.start_file("index.html", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"<h1>Terminal test</h1>").unwrap();
    zip.finish().unwrap();
    bytes
}

/// A page and `count - 1` notes beside it.
fn zip_of_many_files(count: usize) -> Vec<u8> {
    use std::io::Write;
    let mut bytes = Vec::new();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("index.html", options).unwrap();
    zip.write_all(b"<h1>Many files</h1>").unwrap();
    for n in 0..count - 1 {
        zip.start_file(format!("notes/n{n}.txt"), options).unwrap();
        write!(zip, "note {n}").unwrap();
    }
    zip.finish().unwrap();
    bytes
}
