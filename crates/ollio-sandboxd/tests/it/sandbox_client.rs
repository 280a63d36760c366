//! Ollio's sandbox client against the bundled `sandboxd`: the control plane,
//! envd's files and filesystem calls, streamed commands and previews.

use std::time::Duration;

use ollio_sandbox::{
    wire::{FileType, NewSandbox, Signal},
    Command, CommandEvent, SandboxError,
};
use ollio_testkit::{test_limits, TestDaemon};

use crate::GUEST;

#[tokio::test]
async fn the_control_plane_creates_lists_extends_and_kills() {
    let daemon = TestDaemon::start(GUEST).await;
    let request = NewSandbox {
        template_id: "base".into(),
        timeout: Some(120),
        metadata: [("project".to_owned(), "p1".to_owned())].into(),
        ..NewSandbox::default()
    };
    let first = daemon.client.create(&request).await.unwrap();
    let second = daemon.client.create_v1(&request).await.unwrap();
    assert_ne!(first.id, second.id);
    assert_eq!(first.template_id, "base");

    let listed = daemon.client.list().await.unwrap();
    let ids: Vec<_> = listed.iter().map(|s| s.sandbox_id.as_str()).collect();
    assert!(ids.contains(&first.id.as_str()) && ids.contains(&second.id.as_str()));
    assert_eq!(
        listed[0].metadata.get("project").map(String::as_str),
        Some("p1")
    );

    let detail = daemon.client.get(&first.id).await.unwrap();
    assert_eq!(detail.state, "running");
    daemon.client.set_timeout(&first.id, 600).await.unwrap();
    let extended = daemon.client.get(&first.id).await.unwrap();
    assert!(
        extended.end_at > detail.end_at,
        "{} !> {}",
        extended.end_at,
        detail.end_at
    );
    let reconnected = daemon.client.connect(&first.id, 30).await.unwrap();
    assert_eq!(reconnected.id, first.id);
    daemon.client.envd(&reconnected).health().await.unwrap();

    daemon.client.kill(&first.id).await.unwrap();
    assert_eq!(
        daemon.client.get(&first.id).await.unwrap_err(),
        SandboxError::NotFound
    );
    assert_eq!(
        daemon.client.kill(&first.id).await.unwrap_err(),
        SandboxError::NotFound
    );
    assert!(!daemon.home_of(&first.id).exists(), "the folder is removed");
}

#[tokio::test]
async fn a_sandbox_dies_at_its_end_time_with_its_processes() {
    let daemon = TestDaemon::start(GUEST).await;
    let sandbox = daemon
        .client
        .create(&NewSandbox {
            template_id: "base".into(),
            timeout: Some(1),
            ..NewSandbox::default()
        })
        .await
        .unwrap();
    let envd = daemon.client.envd(&sandbox);
    let mut sleeper = envd
        .start(&Command::new("sleep 30").timeout(Duration::ZERO))
        .await
        .unwrap();
    assert!(matches!(
        sleeper.next().await.unwrap(),
        Some(CommandEvent::Started { .. })
    ));
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match sleeper.next().await {
                Ok(Some(_)) => continue,
                other => return other,
            }
        }
    })
    .await
    .expect("the command ends with its sandbox");
    assert!(ended.is_err() || ended.unwrap().is_none());
    assert_eq!(envd.health().await.unwrap_err(), SandboxError::NotFound);
    for _ in 0..100 {
        if !daemon.home_of(&sandbox.id).exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the sandbox's folder outlived it");
}

#[tokio::test]
async fn files_round_trip_and_the_filesystem_calls_work() {
    let daemon = TestDaemon::start(GUEST).await;
    let (_, envd) = daemon.sandbox("base").await;
    let written = envd
        .write_files(&[
            ("src/main.js".into(), b"console.log(1)".to_vec()),
            ("/home/user/README.md".into(), b"# hi".to_vec()),
        ])
        .await
        .unwrap();
    assert_eq!(written[0].path, "/home/user/src/main.js");
    assert_eq!(
        envd.read_file("src/main.js").await.unwrap(),
        b"console.log(1)"
    );
    assert_eq!(
        envd.read_file("/home/user/README.md").await.unwrap(),
        b"# hi"
    );

    let entries = envd.list_dir("/home/user", 2).await.unwrap();
    let paths: Vec<_> = entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/home/user/README.md",
            "/home/user/src",
            "/home/user/src/main.js"
        ]
    );
    assert_eq!(entries[1].kind, FileType::Directory);
    assert_eq!(entries[2].size, 14);
    assert_eq!(entries[2].owner, "user");

    let made = envd.make_dir("a/b").await.unwrap();
    assert_eq!(made.kind, FileType::Directory);
    assert!(
        matches!(envd.make_dir("a/b").await, Err(SandboxError::Rpc { code, .. }) if code == "already_exists")
    );
    let moved = envd.rename("src/main.js", "a/b/app.js").await.unwrap();
    assert_eq!(moved.path, "/home/user/a/b/app.js");
    assert_eq!(envd.stat("a/b/app.js").await.unwrap().size, 14);
    envd.remove("a").await.unwrap();
    assert!(matches!(
        envd.stat("a/b/app.js").await,
        Err(SandboxError::Missing(_))
    ));
    assert!(matches!(
        envd.read_file("nope.txt").await,
        Err(SandboxError::Missing(_))
    ));
}

#[tokio::test]
async fn output_streams_as_it_happens_and_stdin_reaches_the_command() {
    let daemon = TestDaemon::start(GUEST).await;
    let (_, envd) = daemon.sandbox("base").await;
    let command = Command {
        stdin: true,
        ..Command::new("echo ready; read line; echo \"got $line\"; echo oops >&2; exit 4")
    };
    let mut stream = envd.start(&command).await.unwrap();
    let Some(CommandEvent::Started { pid }) = stream.next().await.unwrap() else {
        panic!("no start event");
    };
    // The command waits for input, so "ready" can only arrive if output is
    // handed on while it runs.
    assert_eq!(
        stream.next().await.unwrap(),
        Some(CommandEvent::Stdout(b"ready\n".to_vec()))
    );
    envd.send_input(pid, b"hello\n").await.unwrap();
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let mut exit = None;
    while let Some(event) = stream.next().await.unwrap() {
        match event {
            CommandEvent::Stdout(bytes) => stdout.extend(bytes),
            CommandEvent::Stderr(bytes) => stderr.extend(bytes),
            CommandEvent::Exited { exit_code, .. } => exit = Some(exit_code),
            CommandEvent::Started { .. } => panic!("started twice"),
        }
    }
    assert_eq!(stdout, b"got hello\n");
    assert_eq!(stderr, b"oops\n");
    assert_eq!(exit, Some(4));
}

/// Reads `stream` until its output holds `text` (a terminal echoes what is
/// typed, so the command itself is seen too: wait for what only its run
/// prints).
async fn read_until(stream: &mut ollio_sandbox::CommandStream, seen: &mut Vec<u8>, text: &str) {
    let wanted = text.as_bytes();
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while !seen.windows(wanted.len()).any(|window| window == wanted) {
            match stream.next().await.unwrap() {
                Some(CommandEvent::Stdout(bytes)) => seen.extend(bytes),
                Some(CommandEvent::Exited { .. }) | None => return false,
                Some(_) => {}
            }
        }
        true
    })
    .await;
    assert_eq!(
        found,
        Ok(true),
        "never saw {text:?} in {:?}",
        String::from_utf8_lossy(seen)
    );
}

#[tokio::test]
async fn a_terminal_is_an_interactive_bash_on_a_pty_that_resizes() {
    let daemon = TestDaemon::start(GUEST).await;
    let (_, envd) = daemon.sandbox("base").await;
    let size = |rows, cols| ollio_sandbox::wire::PtySize { rows, cols };
    let mut stream = envd.start_terminal(size(24, 80), None).await.unwrap();
    let Some(CommandEvent::Started { pid }) = stream.next().await.unwrap() else {
        panic!("no start event");
    };
    let mut seen = Vec::new();
    envd.send_terminal_input(pid, b"echo $((6*7))-$TERM; tty\n")
        .await
        .unwrap();
    read_until(&mut stream, &mut seen, "42-xterm-256color").await;
    read_until(&mut stream, &mut seen, "/dev/pts/").await;
    envd.resize_terminal(pid, size(30, 100)).await.unwrap();
    envd.send_terminal_input(pid, b"stty size\n").await.unwrap();
    read_until(&mut stream, &mut seen, "30 100").await;
    envd.send_terminal_input(pid, b"exit 3\n").await.unwrap();
    let exit = loop {
        match stream.next().await.unwrap() {
            Some(CommandEvent::Exited { exit_code, .. }) => break exit_code,
            Some(_) => {}
            None => panic!("the terminal ended without an exit"),
        }
    };
    assert_eq!(exit, 3);
    assert!(matches!(
        envd.resize_terminal(pid, size(10, 10)).await,
        Err(SandboxError::Missing(_) | SandboxError::Rpc { .. })
    ));
}

#[tokio::test]
async fn commands_can_be_signalled_and_time_out() {
    let daemon = TestDaemon::start(GUEST).await;
    let (_, envd) = daemon.sandbox("base").await;
    let mut stream = envd
        .start(&Command::new("sleep 30").timeout(Duration::ZERO))
        .await
        .unwrap();
    let Some(CommandEvent::Started { pid }) = stream.next().await.unwrap() else {
        panic!("no start event");
    };
    envd.send_signal(pid, Signal::Kill).await.unwrap();
    let Some(CommandEvent::Exited { exit_code, .. }) = stream.next().await.unwrap() else {
        panic!("no exit");
    };
    assert_eq!(exit_code, -1, "killed by a signal");

    let timed_out = envd
        .run(
            &Command::new("echo started; sleep 30").timeout(Duration::from_millis(700)),
            |_, _| {},
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&timed_out, SandboxError::Rpc { code, .. } if code == "deadline_exceeded"),
        "{timed_out:?}"
    );
    // The sandbox is still usable afterwards, and the sleeper is gone.
    let after = envd
        .run(&Command::new("pgrep -x sleep || echo none"), |_, _| {})
        .await
        .unwrap();
    assert_eq!(after.stdout, b"none\n");
}

#[tokio::test]
async fn envd_needs_the_sandbox_access_token() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, _) = daemon.sandbox("base").await;
    let response = reqwest::Client::new()
        .get(format!("http://{}/health", daemon.addr()))
        .header("E2b-Sandbox-Id", &sandbox.id)
        .header("X-Access-Token", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = reqwest::Client::new()
        .post(format!("http://{}/v2/sandboxes", daemon.addr()))
        .header("X-API-Key", "e2b_0000000000000000000000000000000000000000")
        .json(&serde_json::json!({"templateID": "base"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn the_static_template_serves_home_on_its_own_origin() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("static").await;
    assert_eq!(
        daemon.client.preview_url(&sandbox.id, 3000),
        format!(
            "http://3000-{}.localhost:{}",
            sandbox.id,
            daemon.addr().port()
        )
    );
    envd.write_file("index.html", b"<h1>Hello from the sandbox</h1>")
        .await
        .unwrap();
    let (client, origin) = daemon.preview_client(&sandbox.id, 3000);
    let page = client.get(format!("{origin}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    // Files change under the preview: the browser must ask again each time.
    assert_eq!(page.headers()["cache-control"], "no-cache");
    // The file as it is, after the preview's error reporter.
    let html = page.text().await.unwrap();
    assert!(html.starts_with("<script data-ollio-reporter>"), "{html}");
    assert!(
        html.ends_with("</script><h1>Hello from the sandbox</h1>"),
        "{html}"
    );

    // A port nothing listens on gets a page of ours, not a proxy error.
    let (client, origin) = daemon.preview_client(&sandbox.id, 5173);
    let closed = client.get(format!("{origin}/")).send().await.unwrap();
    assert_eq!(closed.status(), 502);
    assert!(closed
        .text()
        .await
        .unwrap()
        .contains("This app isn't running yet"));

    // An ended sandbox's preview says so.
    daemon.client.kill(&sandbox.id).await.unwrap();
    let (client, origin) = daemon.preview_client(&sandbox.id, 3000);
    let gone = client.get(format!("{origin}/")).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    assert!(gone.text().await.unwrap().contains("went to sleep"));
}

#[tokio::test]
async fn previews_pass_connection_upgrades_through() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("base").await;
    // A server inside the sandbox that switches protocols and then echoes,
    // as a WebSocket (live reload) server does after its handshake.
    envd.write_file(
        "upgrade.py",
        br#"import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8080)); s.listen(1); print("listening", flush=True)
c, _ = s.accept(); data = b""
while b"\r\n\r\n" not in data: data += c.recv(1024)
c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
while True:
    chunk = c.recv(1024)
    if not chunk: break
    c.sendall(chunk.upper())
"#,
    )
    .await
    .unwrap();
    let mut server = envd
        .start(&Command::new("python3 upgrade.py").timeout(Duration::from_secs(30)))
        .await
        .unwrap();
    loop {
        if let Some(CommandEvent::Stdout(bytes)) = server.next().await.unwrap() {
            if bytes.starts_with(b"listening") {
                break;
            }
        }
    }
    let mut tcp = tokio::net::TcpStream::connect(daemon.addr()).await.unwrap();
    let host = format!("8080-{}.localhost:{}", sandbox.id, daemon.addr().port());
    tcp.write_all(
        format!(
            "GET /live HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp.write_all(b"ping").await.unwrap();
    let mut echoed = [0u8; 4];
    tcp.read_exact(&mut echoed).await.unwrap();
    assert_eq!(&echoed, b"PING");
}

#[tokio::test]
async fn without_bubblewrap_sandboxes_work_confined_to_home_and_say_so() {
    use ollio_sandboxd::Isolation;

    let daemon = TestDaemon::start_with(GUEST, |config| config.isolation = Isolation::None).await;
    let (sandbox, envd) = daemon.sandbox("static").await;
    envd.write_file("index.html", b"<html><body><p>unisolated</p></body></html>")
        .await
        .unwrap();
    assert!(envd.read_file("../../../etc/hostname").await.is_err());
    assert!(envd.read_file("/etc/hostname").await.is_err());
    let pwd = envd.run(&Command::new("pwd"), |_, _| {}).await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&pwd.stdout).trim(),
        daemon.home_of(&sandbox.id).display().to_string()
    );
    let (client, origin) = daemon.preview_client(&sandbox.id, 3000);
    let page = client.get(format!("{origin}/")).send().await.unwrap();
    assert_eq!(
        page.headers().get("x-ollio-warning").unwrap(),
        "this sandbox is not isolated"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.starts_with("<html><script data-ollio-reporter>")
            && html.contains(r#"<body><div role="alert""#)
            && html.contains("without isolation"),
        "{html}"
    );
    assert!(html.ends_with("<p>unisolated</p></body></html>"));
}

#[tokio::test]
async fn preview_pages_carry_the_error_reporter_and_other_files_pass_as_they_are() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("static").await;
    let page = "<!doctype html><html><head><title>t</title><script src=\"app.js\"></script></head><body></body></html>";
    let script = "console.error('boom')";
    envd.write_file("index.html", page.as_bytes())
        .await
        .unwrap();
    envd.write_file("app.js", script.as_bytes()).await.unwrap();
    let (client, origin) = daemon.preview_client(&sandbox.id, 3000);
    let answer = client
        .get(format!("{origin}/"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert!(answer.headers().get("content-encoding").is_none());
    assert_eq!(answer.headers().get("x-ollio-reporter").unwrap(), "1");
    let html = answer.text().await.unwrap();
    let reporter = html
        .find("<script data-ollio-reporter>")
        .expect("the reporter");
    assert!(reporter < html.find("app.js").unwrap(), "{html}");
    assert!(html.contains("parent.postMessage"));
    assert!(html.ends_with("<body></body></html>"));
    let js = client
        .get(format!("{origin}/app.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(js, script);
}

#[tokio::test]
async fn a_sandbox_whose_agent_was_killed_from_inside_is_reaped() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("base").await;
    // Code in the sandbox may stop its own agent; the sandbox then ends.
    let _ = envd
        .run(
            &Command::new("kill -9 $(pgrep -f sandbox-guest)"),
            |_, _| {},
        )
        .await;
    for _ in 0..100 {
        if daemon.client.get(&sandbox.id).await == Err(SandboxError::NotFound) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the broken sandbox was not reaped");
}

#[tokio::test]
async fn leftover_folders_of_a_crashed_daemon_are_removed_at_start() {
    let data = tempfile::tempdir().unwrap();
    let leftover = data.path().join("sandboxes/i0123456789abcdef012/home");
    std::fs::create_dir_all(&leftover).unwrap();
    std::fs::write(leftover.join("file"), "old").unwrap();
    let config = ollio_sandboxd::DaemonConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        data.path().to_path_buf(),
        ollio_sandbox::ApiKey::generate(),
    );
    let daemon = ollio_sandboxd::start(config).await.unwrap();
    assert!(!leftover.exists());
    daemon.shutdown().await;
}

#[tokio::test]
async fn calls_sandboxd_does_not_offer_answer_unimplemented() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, _) = daemon.sandbox("base").await;
    let detail = daemon.client.get(&sandbox.id).await.unwrap();
    let response = reqwest::Client::new()
        .post(format!(
            "http://{}/filesystem.Filesystem/WatchDir",
            daemon.addr()
        ))
        .header("E2b-Sandbox-Id", &sandbox.id)
        .header("X-Access-Token", detail.envd_access_token.unwrap())
        .json(&serde_json::json!({"path": "/home/user"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 501);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unimplemented");
}

#[tokio::test]
async fn a_second_daemon_may_not_share_a_data_folder() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, _) = daemon.sandbox("base").await;
    let config = ollio_sandboxd::DaemonConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        daemon.data.path().to_path_buf(),
        ollio_sandbox::ApiKey::generate(),
    );
    let second = ollio_sandboxd::start(config).await;
    assert!(matches!(second, Err(ollio_sandboxd::DaemonError::Busy(_))));
    assert!(
        daemon.home_of(&sandbox.id).exists(),
        "the first daemon's sandbox was touched"
    );
}

#[tokio::test]
async fn a_raw_upload_over_the_limit_is_refused() {
    let daemon = TestDaemon::start(GUEST).await;
    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(format!("http://{}/v2/sandboxes", daemon.addr()))
        .header("X-API-Key", daemon.key.expose())
        .json(&serde_json::json!({"templateID": "base"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let upload = |size: usize| {
        http.post(format!("http://{}/files?path=raw.bin", daemon.addr()))
            .header("E2b-Sandbox-Id", created["sandboxID"].as_str().unwrap())
            .header(
                "X-Access-Token",
                created["envdAccessToken"].as_str().unwrap(),
            )
            .header("Content-Type", "application/octet-stream")
            .body(vec![7u8; size])
            .send()
    };
    let limit = test_limits().disk_bytes as usize;
    let response = upload(limit + (4 << 20)).await.unwrap();
    assert_eq!(response.status(), 413);
    // Refused by the body limit while reading, not after buffering it all.
    let body = response.text().await.unwrap();
    assert!(body.contains("length limit"), "{body}");
    assert!(!daemon
        .home_of(created["sandboxID"].as_str().unwrap())
        .join("raw.bin")
        .exists());
    assert_eq!(upload(1024).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_preview_sets_cookies_only_for_itself_and_answers_only_under_the_domain() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("base").await;
    let app = r#"
import http.server
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        for cookie in ["own=1; Path=/", "parent=2; Domain=localhost", "wide=3; Domain=.localhost; Path=/"]:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(b"the sandbox's app")
http.server.HTTPServer(("127.0.0.1", 8000), Handler).serve_forever()
"#;
    envd.write_file("app.py", app.as_bytes()).await.unwrap();
    envd.start(&Command::new("python3 app.py").timeout(Duration::ZERO))
        .await
        .unwrap();
    let (client, origin) = daemon.preview_client(&sandbox.id, 8000);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let page = loop {
        let page = client.get(format!("{origin}/")).send().await.unwrap();
        if page.status() == 200 {
            break page;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the app never answered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let cookies: Vec<_> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(cookies, ["own=1; Path=/"]);

    // The same sandbox and port under another domain is not a preview.
    let elsewhere = reqwest::Client::new()
        .get(format!("http://{}/", daemon.addr()))
        .header("Host", format!("8000-{}.evil.example", sandbox.id))
        .send()
        .await
        .unwrap();
    assert_ne!(elsewhere.status(), 200);
    assert!(!elsewhere
        .text()
        .await
        .unwrap()
        .contains("the sandbox's app"));
}
