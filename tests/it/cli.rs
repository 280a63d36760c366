//! The `ollio` binary itself: its help, its one-line errors, `migrate`, and a
//! graceful shutdown that lets requests in flight finish.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_ollio");

/// The binary, run in `dir` with none of the developer's Ollio settings.
/// `dir` is opened to others: run as root, `ollio serve` works as its
/// service user in `dir/data`.
pub(crate) fn ollio(dir: &Path) -> Command {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = Command::new(BIN);
    command.current_dir(dir);
    for var in [
        "DATABASE_URL",
        "OLLIO_ADDR",
        "OLLIO_DATA_DIR",
        "RUST_LOG",
        "OLLIO_SANDBOX",
        "OLLIO_SANDBOXD_API_KEY",
        "OLLIO_USER",
    ] {
        command.env_remove(var);
    }
    command.env("OLLIO_DATA_DIR", dir.join("data"));
    // The bundled sandbox daemon takes any free port, so tests never collide.
    command.env("OLLIO_SANDBOXD_ADDR", "127.0.0.1:0");
    command
}

pub(crate) fn run(command: &mut Command) -> Output {
    command.output().expect("run ollio")
}

pub(crate) fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn help_lists_the_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(ollio(dir.path()).arg("--help"));
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("serve"), "{help}");
    assert!(help.contains("migrate"), "{help}");
    assert!(help.contains("sandboxd"), "{help}");
    assert!(
        !help.contains("sandbox-guest"),
        "the guest is internal: {help}"
    );
    assert!(help.contains("DATABASE_URL"), "{help}");
}

#[test]
fn a_bad_setting_ends_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("DATABASE_URL", "foo://x"),
        ("DATABASE_URL", "mysql://root@localhost/db"),
        ("OLLIO_ADDR", "localhost"),
        ("RUST_LOG", "ollio=shouting"),
        ("OLLIO_SANDBOX", "docker"),
        ("OLLIO_SANDBOXD_API_KEY", "not-a-key"),
        ("OLLIO_SANDBOX_MEMORY_MB", "lots"),
        ("OLLIO_USER", "root"),
    ] {
        let output = run(ollio(dir.path()).env(var, value));
        assert!(!output.status.success(), "{var}={value} was accepted");
        let lines = stderr_lines(&output);
        assert_eq!(lines.len(), 1, "{var}={value}: {lines:?}");
        assert!(
            lines[0].starts_with(&format!("ollio: {var}: ")),
            "{lines:?}"
        );
    }
}

#[test]
fn a_malformed_env_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "DATABASE_URL='unterminated\n").unwrap();
    let output = run(ollio(dir.path()).arg("migrate"));
    assert!(!output.status.success());
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("ollio: .env: "), "{lines:?}");
}

#[test]
fn the_env_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=sqlite://from-env-file/ollio.db\n",
    )
    .unwrap();
    let output = run(ollio(dir.path()).arg("migrate"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("from-env-file/ollio.db").exists());
}

#[test]
fn migrate_creates_the_database_file_and_its_folders() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/deeper/ollio.db");
    let url = format!("sqlite://{}", file.display());
    for _ in 0..2 {
        let output = run(ollio(dir.path()).arg("migrate").env("DATABASE_URL", &url));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("up to date"));
    }
    assert!(file.exists());
}

#[test]
fn the_default_database_lives_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(ollio(dir.path()).arg("migrate"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("data/ollio.db").exists());
}

/// Starts `ollio serve` on a free port; returns the child and its address.
pub(crate) fn serve(command: &mut Command) -> (Child, String) {
    let mut child = command
        .env("OLLIO_ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ollio");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().expect("ollio printed its address").unwrap();
        if let Some(url) = line.strip_prefix("Ollio is running at http://") {
            break url.to_owned();
        }
    };
    (child, addr)
}

pub(crate) fn wait_for_exit(
    child: &mut Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn a_busy_address_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = run(ollio(dir.path()).env("OLLIO_ADDR", &addr));
    assert!(!output.status.success());
    let lines: Vec<_> = stderr_lines(&output)
        .into_iter()
        .filter(|l| l.starts_with("ollio: "))
        .collect();
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with(&format!("ollio: OLLIO_ADDR: cannot listen on {addr}")),
        "{lines:?}"
    );
}

#[test]
fn sigterm_lets_requests_in_flight_finish() {
    const SIZE: usize = 48 << 20;
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("big.bin"), vec![7u8; SIZE]).unwrap();
    let (mut child, addr) = serve(ollio(dir.path()).env("LEPTOS_SITE_ROOT", &site));

    // Start a download and read only its beginning.
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut first = vec![0u8; 64 << 10];
    stream.read_exact(&mut first).unwrap();

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "ollio exited with a download in flight"
    );
    assert!(
        TcpStream::connect(&addr).is_err(),
        "ollio still accepts new connections"
    );

    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    let response = [first, rest].concat();
    let header_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers")
        + 4;
    assert!(response.starts_with(b"HTTP/1.1 200"));
    assert_eq!(
        response.len() - header_end,
        SIZE,
        "the download was cut short"
    );

    let exit = wait_for_exit(&mut child, Duration::from_secs(10))
        .expect("ollio stopped after the download");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn sandboxd_refuses_to_run_without_bubblewrap() {
    let dir = tempfile::tempdir().unwrap();
    // No PATH: bwrap cannot be found.
    let output = run(ollio(dir.path())
        .arg("sandboxd")
        .env("PATH", "/nonexistent"));
    assert!(!output.status.success());
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("ollio: bubblewrap"), "{lines:?}");
    assert!(lines[0].contains("--unsafe-no-isolation"), "{lines:?}");
}

#[test]
fn sandboxd_runs_alone_and_keeps_its_key_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut child = ollio(dir.path())
        .arg("sandboxd")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sandboxd");
    let stdout = child.stdout.take().unwrap();
    let line = BufReader::new(stdout).lines().next().unwrap().unwrap();
    assert!(
        line.starts_with("sandboxd is running at http://127.0.0.1:"),
        "{line}"
    );
    let key_file = dir.path().join("data/sandboxd/sandboxd.key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert!(key.starts_with("e2b_") && key.len() == 44, "{key}");
    assert!(!line.contains(&key), "the key was printed");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the key file is readable by others");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = wait_for_exit(&mut child, Duration::from_secs(10)).expect("sandboxd stopped");
    assert!(status.success());
}

#[test]
fn without_isolation_every_page_carries_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = serve(ollio(dir.path()).args(["serve", "--unsafe-no-isolation"]));
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(
            b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        page.contains(r#"data-sandbox="unisolated""#),
        "{}",
        &page[..page.len().min(2000)]
    );
}
