//! Started as root, `ollio serve` keeps root only in the sandbox daemon's
//! own process and runs the web server and its workers as the service user
//! (`OLLIO_USER`, `ollio` by default). The turns of `agent_processes` run
//! through such a pair; these check the pair itself. Run as anyone else,
//! there is no root to split, and they say so and pass.

use std::{
    os::unix::fs::MetadataExt,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use super::cli::{ollio, run, serve, stderr_lines, wait_for_exit};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `Uid:` of `/proc/{pid}/status` (real, effective, saved, filesystem).
fn uids(status: &str) -> Vec<u32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .map(|ids| {
            ids.split_whitespace()
                .map(|id| id.parse().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

fn status_of(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/status")).ok()
}

/// The processes whose parent is `parent`.
fn children(parent: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            status_of(*pid).is_some_and(|status| {
                status.lines().any(|line| {
                    line.split_whitespace().collect::<Vec<_>>() == ["PPid:", &parent.to_string()]
                })
            })
        })
        .collect()
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
        .unwrap_or_default()
}

/// Whether `pid` is gone (or a zombie waiting for its reaper).
fn gone(pid: u32) -> bool {
    status_of(pid).is_none_or(|status| status.contains("State:\tZ"))
}

fn ollio_uid() -> u32 {
    let output = Command::new("id").args(["-u", "ollio"]).output().unwrap();
    assert!(
        output.status.success(),
        "there is no user `ollio`: scripts/test.sh creates it"
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn started_as_root_only_the_sandbox_daemon_keeps_root() {
    if !is_root() {
        eprintln!("skipped: not run as root, so there is no root to keep");
        return;
    }
    let uid = ollio_uid();
    let dir = tempfile::tempdir().unwrap();
    let (mut server, _addr) = serve(&mut ollio(dir.path()));
    let pid = server.id();

    // Every thread of the web server is the service user's, for good.
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    for task in tasks.flatten() {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap();
        assert_eq!(uids(&status), [uid; 4], "thread {:?}", task.file_name());
    }
    let server_status = status_of(pid).unwrap();
    assert!(
        server_status.contains("NoNewPrivs:\t1"),
        "the server could gain rights again"
    );

    // Its one child is the daemon, which alone is root.
    let daemons = children(pid);
    assert_eq!(daemons.len(), 1, "{daemons:?}");
    let daemon = daemons[0];
    assert!(
        cmdline(daemon).contains(" sandboxd --supervised"),
        "{}",
        cmdline(daemon)
    );
    assert_eq!(uids(&status_of(daemon).unwrap()), [0; 4]);

    // The data folder is the service user's, the daemon's folder root's.
    let data = dir.path().join("data");
    assert_eq!(std::fs::metadata(&data).unwrap().uid(), uid);
    assert_eq!(std::fs::metadata(data.join("ollio.db")).unwrap().uid(), uid);
    assert_eq!(std::fs::metadata(data.join("sandboxd")).unwrap().uid(), 0);

    // However the server ends, the daemon ends with it.
    server.kill().unwrap();
    server.wait().unwrap();
    let started = Instant::now();
    while !gone(daemon) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the sandbox daemon outlived its server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_web_server_stops_when_its_sandbox_daemon_dies() {
    if !is_root() {
        eprintln!("skipped: not run as root, so the daemon runs inside the server");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut command = ollio(dir.path());
    command
        .env("OLLIO_ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut server = command.spawn().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(server.stdout.take().unwrap()));
    assert!(lines.any(|line| line.unwrap().starts_with("Ollio is running")));
    let daemon = children(server.id())[0];
    let killed = Command::new("kill")
        .args(["-KILL", &daemon.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_for_exit(&mut server, Duration::from_secs(30))
        .expect("the server went on without its sandbox daemon");
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut stderr).unwrap();
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("ollio: the sandbox daemon stopped: it exited"),
        "{stderr}"
    );
}

#[test]
fn a_missing_service_user_is_named_in_one_line() {
    if !is_root() {
        eprintln!("skipped: only root becomes another user");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = run(ollio(dir.path()).env("OLLIO_USER", "no-such-ollio-user"));
    assert!(!output.status.success());
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("ollio: OLLIO_USER: there is no user `no-such-ollio-user`"),
        "{lines:?}"
    );
}

#[test]
fn a_data_folder_the_service_user_cannot_reach_is_named() {
    if !is_root() {
        eprintln!("skipped: only root becomes another user");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let closed = dir.path().join("closed");
    std::fs::create_dir(&closed).unwrap();
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
    let output = run(ollio(dir.path()).env("OLLIO_DATA_DIR", closed.join("data")));
    assert!(!output.status.success());
    // The daemon, started first, may have logged a line of its own.
    let lines: Vec<_> = stderr_lines(&output)
        .into_iter()
        .filter(|line| line.starts_with("ollio: "))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("ollio: OLLIO_DATA_DIR: the user `ollio`"),
        "{lines:?}"
    );
}
