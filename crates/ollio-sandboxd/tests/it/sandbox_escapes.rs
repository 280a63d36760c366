//! Each way out of a sandbox that must fail, one test per line of the
//! isolation promise. Every test stays bounded: the limits are small, and
//! each hog stops at a size that would not hurt this machine if a limit
//! were broken (the test then fails instead).

use std::time::Duration;

use ollio_sandbox::{Command, CommandOutput, Envd, SandboxError};
use ollio_testkit::{test_limits, TestDaemon};

use crate::GUEST;

async fn run(envd: &Envd, script: &str) -> CommandOutput {
    envd.run(
        &Command::new(script).timeout(Duration::from_secs(30)),
        |_, _| {},
    )
    .await
    .expect("the command ran")
}

/// Takes memory 16 MB at a time, at most 1 GB: four times the test limit.
const HOG: &str = "python3 -c \"chunks = []\nfor i in range(64): chunks.append(b'x' * (16 << 20)); print(i, flush=True)\"";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn the_host_files_are_out_of_reach() {
    let daemon = TestDaemon::start(GUEST).await;
    // Stand-ins for the app's database and data folder, beside the sandboxes.
    let data = std::fs::canonicalize(daemon.data.path()).unwrap();
    std::fs::write(data.join("ollio.db"), "SECRET-DATABASE").unwrap();
    let (_, envd) = daemon.sandbox("base").await;
    let db = data.join("ollio.db").display().to_string();
    let data_dir = data.display().to_string();
    for path in [
        db.as_str(),
        "/root/.bashrc",
        "/etc/shadow",
        data_dir.as_str(),
    ] {
        let output = run(&envd, &format!("cat '{path}' || ls -a '{path}'")).await;
        assert_ne!(
            output.exit_code,
            0,
            "{path} was readable: {}",
            text(&output.stdout)
        );
        assert!(!text(&output.stdout).contains("SECRET"));
        assert!(
            matches!(envd.read_file(path).await, Err(SandboxError::Missing(_))),
            "{path}"
        );
    }
    let output = run(&envd, "ls -a /root; ls /home").await;
    assert_eq!(
        text(&output.stdout).trim(),
        "user",
        "only the sandbox's own home is there"
    );
    for target in ["/usr/bin/evil", "/etc/passwd", "/evil"] {
        let output = run(&envd, &format!("echo x > {target}")).await;
        assert_ne!(output.exit_code, 0, "{target} was writable");
    }
    let output = run(&envd, &format!("echo x > '{db}'")).await;
    assert_ne!(output.exit_code, 0);
    assert_eq!(
        std::fs::read_to_string(data.join("ollio.db")).unwrap(),
        "SECRET-DATABASE"
    );
}

#[tokio::test]
async fn another_sandbox_is_out_of_reach() {
    let daemon = TestDaemon::start(GUEST).await;
    let (other, other_envd) = daemon.sandbox("base").await;
    other_envd
        .write_file("secret.txt", b"OTHER-SECRET")
        .await
        .unwrap();
    let (_, envd) = daemon.sandbox("base").await;
    let their_file = daemon
        .home_of(&other.id)
        .join("secret.txt")
        .display()
        .to_string();
    let output = run(
        &envd,
        &format!(
            "cat '{their_file}'; grep -rs OTHER-SECRET /home /tmp /run /var 2>/dev/null | head -1"
        ),
    )
    .await;
    assert!(!text(&output.stdout).contains("OTHER-SECRET"));
    assert!(matches!(
        envd.read_file(&their_file).await,
        Err(SandboxError::Missing(_))
    ));
    // Nor can it signal the other sandbox's processes: it cannot even see them.
    let mut sleeper = other_envd
        .start(&Command::new("sleep 20").timeout(Duration::from_secs(20)))
        .await
        .unwrap();
    let _ = sleeper.next().await;
    let output = run(&envd, "pkill -9 sleep; echo $?").await;
    assert_eq!(
        text(&output.stdout).trim(),
        "1",
        "no sleep process is visible"
    );
}

#[tokio::test]
async fn the_daemons_side_of_the_sandbox_cannot_be_redirected() {
    use ollio_sandboxd::Network;
    let daemon = TestDaemon::start_with(GUEST, |config| {
        config.network = Network::Registries(vec!["pypi.org".into()]);
    })
    .await;
    let (_, envd) = daemon.sandbox("base").await;
    // The run folder is read-only inside, and the socket the daemon talks to
    // the sandbox through is not in it: nothing can be swapped for a link
    // to another sandbox's socket or a host socket.
    let output = run(
        &envd,
        "ls -A /run/ollio; ln -sf /tmp/x /run/ollio/egress.sock && echo LINKED; \
         touch /run/ollio/guest.sock && echo WROTE; find /run /home /tmp /var -name guest.sock 2>/dev/null",
    )
    .await;
    let stdout = text(&output.stdout);
    assert_eq!(stdout.trim(), "egress.sock", "{stdout}");
    // And the daemon still reaches the sandbox afterwards.
    assert_eq!(
        text(&run(&envd, "echo still-here").await.stdout).trim(),
        "still-here"
    );
}

#[tokio::test]
async fn dot_dot_and_symlinks_in_file_calls_stay_inside() {
    let daemon = TestDaemon::start(GUEST).await;
    let data = std::fs::canonicalize(daemon.data.path()).unwrap();
    std::fs::write(data.join("ollio.db"), "SECRET-DATABASE").unwrap();
    let (_, envd) = daemon.sandbox("base").await;
    let up = "../".repeat(12);
    let db_relative = format!("{up}{}", data.join("ollio.db").display());
    for path in [
        format!("{up}etc/shadow"),
        db_relative.clone(),
        format!("/home/user/{up}root"),
    ] {
        assert!(envd.read_file(&path).await.is_err(), "{path}");
    }
    // `..` above home reaches only the sandbox's own root.
    let root: Vec<String> = envd
        .list_dir(&up, 1)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.name)
        .collect();
    for host_only in ["root", "work", "srv", "boot"] {
        assert!(
            !root.contains(&host_only.to_owned()),
            "{host_only} in {root:?}"
        );
    }
    assert!(envd
        .list_dir(&format!("{up}{}", data.display()), 1)
        .await
        .is_err());

    // Symlinks made inside point into the sandbox's view, not the host's.
    let made = run(
        &envd,
        &format!(
            "ln -s /etc/shadow shadow && ln -s '{}' data && ln -s / top",
            data.display()
        ),
    )
    .await;
    assert_eq!(made.exit_code, 0);
    assert!(envd.read_file("shadow").await.is_err());
    assert!(envd.read_file("data/ollio.db").await.is_err());
    assert!(envd.list_dir("data", 1).await.is_err());
    let through_top = envd
        .read_file(&format!("top{}", data.join("ollio.db").display()))
        .await;
    assert!(through_top.is_err());
    // Writing through a link cannot create anything on the host either.
    let _ = envd
        .write_file(&format!("top{}/planted", data.display()), b"x")
        .await;
    assert!(!data.join("planted").exists());
}

#[tokio::test]
async fn host_processes_are_invisible() {
    let daemon = TestDaemon::start(GUEST).await;
    let (_, envd) = daemon.sandbox("base").await;
    let output = run(
        &envd,
        "ls /proc | grep -c '^[0-9]'; cat /proc/1/cmdline | tr '\\0' ' '",
    )
    .await;
    let stdout = text(&output.stdout);
    let count: u32 = stdout.lines().next().unwrap().trim().parse().unwrap();
    assert!(count < 10, "the sandbox sees {count} processes");
    assert!(!stdout.contains("ollio serve") && !stdout.contains("cargo"));
    let ours = std::process::id();
    let output = run(
        &envd,
        &format!("test -e /proc/{ours}/cmdline && cat /proc/{ours}/cmdline"),
    )
    .await;
    assert!(!text(&output.stdout).contains("sandbox_escapes"));
}

#[tokio::test]
async fn no_address_is_reachable_not_even_the_app() {
    let daemon = TestDaemon::start(GUEST).await;
    let app = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = app.local_addr().unwrap().port();
    let (_, envd) = daemon.sandbox("base").await;
    let targets = [
        format!("127.0.0.1/{port}"),
        format!("127.0.0.1/{}", daemon.addr().port()),
        "1.1.1.1/80".to_owned(),
        "10.0.0.1/80".to_owned(),
    ];
    for target in targets {
        let output = run(
            &envd,
            &format!("timeout 3 bash -c 'echo hi > /dev/tcp/{target}'"),
        )
        .await;
        assert_ne!(output.exit_code, 0, "{target} was reachable");
    }
    let output = run(
        &envd,
        "ls /sys/class/net 2>/dev/null || ip -o link 2>/dev/null || cat /proc/net/dev",
    )
    .await;
    assert!(!text(&output.stdout).contains("eth0"));
    // Nothing connected to the app's port.
    let accepted = tokio::time::timeout(Duration::from_millis(200), app.accept()).await;
    assert!(accepted.is_err(), "the sandbox reached the app");
}

#[tokio::test]
async fn a_fork_bomb_stops_at_the_process_limit() {
    fork_bomb_stops(TestDaemon::start(GUEST).await).await;
}

#[tokio::test]
async fn without_cgroups_the_process_rlimit_still_stops_a_fork_bomb() {
    fork_bomb_stops(TestDaemon::start_with(GUEST, |config| config.use_cgroups = false).await).await;
}

#[tokio::test]
async fn without_cgroups_a_memory_hog_still_stops() {
    let daemon = TestDaemon::start_with(GUEST, |config| config.use_cgroups = false).await;
    let (_, envd) = daemon.sandbox("base").await;
    // Each process's heap is capped instead: the hog fails to allocate.
    let output = run(&envd, HOG).await;
    assert_ne!(output.exit_code, 0, "{}", text(&output.stdout));
    let printed = text(&output.stdout).lines().count() as u64;
    assert!(printed * 16 < 256 + 32, "it got to {} MB", printed * 16);
}

async fn fork_bomb_stops(daemon: TestDaemon) {
    let (_, envd) = daemon.sandbox("base").await;
    envd.write_file(
        "forks.py",
        br#"import os, time
started = 0
for _ in range(3000):
    try:
        pid = os.fork()
    except OSError as error:
        print("stopped", started, error.errno, flush=True)
        break
    if pid == 0:
        time.sleep(3)
        os._exit(0)
    started += 1
else:
    print("all", started, flush=True)
"#,
    )
    .await
    .unwrap();
    let output = run(&envd, "python3 forks.py").await;
    let stdout = text(&output.stdout);
    let mut words = stdout.split_whitespace();
    assert_eq!(words.next(), Some("stopped"), "{stdout}");
    let started: u64 = words.next().unwrap().parse().unwrap();
    assert!(
        started < test_limits().processes,
        "{started} processes started"
    );
}

#[tokio::test]
async fn a_memory_hog_is_killed() {
    let daemon = TestDaemon::start(GUEST).await;
    let (_, envd) = daemon.sandbox("base").await;
    let output = run(&envd, HOG).await;
    assert_eq!(
        output.exit_code,
        -1,
        "{} {:?} {}",
        text(&output.stdout),
        output.error,
        text(&output.stderr)
    );
    let error = output.error.unwrap_or_default();
    assert!(error.contains("out of memory"), "{error}");
    let printed = text(&output.stdout).lines().count() as u64;
    assert!(printed * 16 < 256 + 32, "it got to {} MB", printed * 16);
}

#[tokio::test]
async fn an_endless_loop_is_killed_at_its_timeout() {
    let daemon = TestDaemon::start(GUEST).await;
    let (_, envd) = daemon.sandbox("base").await;
    let error = envd
        .run(
            &Command::new("while :; do :; done # endless-42").timeout(Duration::from_secs(1)),
            |_, _| {},
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SandboxError::Rpc { code, .. } if code == "deadline_exceeded"),
        "{error:?}"
    );
    // `endless-4[2]` matches the loop's command line but not this one's.
    let left = run(&envd, "ps -eo args | grep -c 'endless-4[2]' || true").await;
    assert_eq!(text(&left.stdout).trim(), "0", "the loop still runs");
}

#[tokio::test]
async fn a_two_gigabyte_file_stops_at_the_disk_limit() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("base").await;
    let output = run(&envd, "head -c 2G /dev/zero > big; echo status $?").await;
    let written = std::fs::metadata(daemon.home_of(&sandbox.id).join("big"))
        .unwrap()
        .len();
    assert!(
        written <= test_limits().disk_bytes,
        "{written} bytes were written"
    );
    assert!(!text(&output.stdout).contains("status 0"), "{output:?}");
    // An upload over the limit is refused with a clear error.
    let upload = envd
        .write_file(
            "upload.bin",
            &vec![0u8; (test_limits().disk_bytes + 1) as usize],
        )
        .await;
    assert!(
        matches!(&upload, Err(SandboxError::Rejected(message)) if message.contains("disk limit")),
        "{upload:?}"
    );
}

#[tokio::test]
async fn many_files_from_a_detached_writer_stop_at_the_disk_limit() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("base").await;
    // Each file is small, and the writer leaves its command's process group;
    // at most 320 MB (five times the limit) even if nothing stops it.
    let script = "setsid sh -c 'i=0; while [ $i -lt 320 ]; do head -c 1048576 /dev/zero > part$i; \
                  i=$((i+1)); sleep 0.02; done; touch finished' >/dev/null 2>&1 < /dev/null & echo started";
    assert_eq!(text(&run(&envd, script).await.stdout).trim(), "started");
    let home = daemon.home_of(&sandbox.id);
    // Commands are refused while over the limit, so watch from the host:
    // stopped means no new file for three seconds (the watcher's period is two).
    let files = || std::fs::read_dir(&home).unwrap().count();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (mut seen, mut since) = (files(), std::time::Instant::now());
    while since.elapsed() < Duration::from_secs(3) {
        assert!(
            std::time::Instant::now() < deadline,
            "the writer still runs"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        if files() != seen {
            (seen, since) = (files(), std::time::Instant::now());
        }
    }
    assert!(
        !home.join("finished").exists(),
        "the writer was never stopped"
    );
    let written: u64 = std::fs::read_dir(&home)
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .sum();
    // The watcher looks every two seconds: at 50 MB/s it may overshoot by ~100 MB.
    assert!(
        written < test_limits().disk_bytes + (160 << 20),
        "{written} bytes"
    );
    // Over the limit, new commands are refused until files are removed.
    let refused = envd
        .run(
            &Command::new("true").timeout(Duration::from_secs(5)),
            |_, _| {},
        )
        .await;
    assert!(refused.is_err() || refused.unwrap().exit_code != 0);
}

#[tokio::test]
async fn with_registries_allowed_only_registries_are_reachable() {
    use ollio_sandboxd::Network;

    let daemon = TestDaemon::start_with(GUEST, |config| {
        config.network = Network::Registries(vec!["pypi.org".into()]);
    })
    .await;
    let (sandbox, envd) = daemon.sandbox("base").await;
    // The proxy's socket is the sandbox's own: mode 0600, its uid only.
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let socket = daemon
            .home_of(&sandbox.id)
            .parent()
            .unwrap()
            .join("run/egress.sock");
        let meta = std::fs::metadata(&socket).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{socket:?}");
        let home = std::fs::metadata(daemon.home_of(&sandbox.id)).unwrap();
        assert_eq!(meta.uid(), home.uid(), "owned by the sandbox's uid");
    }
    let fetch = |url: &str| {
        format!(
            "python3 -c \"import urllib.request as r; print(r.urlopen('{url}', timeout=20).status)\""
        )
    };
    // The registry answers through the proxy (this machine reaches PyPI).
    let allowed = run(&envd, &fetch("https://pypi.org/simple/e2b/")).await;
    assert_eq!(
        text(&allowed.stdout).trim(),
        "200",
        "{}",
        text(&allowed.stderr)
    );
    // Anything else is refused by the proxy...
    let refused = run(&envd, &fetch("https://example.com/")).await;
    assert_ne!(refused.exit_code, 0);
    assert!(
        text(&refused.stderr).contains("403"),
        "{}",
        text(&refused.stderr)
    );
    // ...and there is still no direct route out.
    let direct = run(
        &envd,
        "timeout 3 bash -c 'echo > /dev/tcp/151.101.0.223/443'",
    )
    .await;
    assert_ne!(direct.exit_code, 0);
}

/// The probe: each refused call with arguments the kernel itself would
/// reject (see the script's notes).
const SECCOMP_PROBE: &str = include_str!("seccomp/probe.py");

// The probe's system call numbers are x86-64's.
#[cfg(target_arch = "x86_64")]
#[tokio::test]
async fn the_seccomp_filter_refuses_what_no_sandbox_needs() {
    let daemon = TestDaemon::start(GUEST).await;
    let (_, envd) = daemon.sandbox("base").await;
    envd.write_files(&[("probe.py".into(), SECCOMP_PROBE.as_bytes().to_vec())])
        .await
        .unwrap();
    let output = run(&envd, "python3 probe.py").await;
    assert_eq!(output.exit_code, 0, "{}", text(&output.stderr));
    let inside: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(inside["seccomp mode"], 2, "a filter is installed");
    assert_eq!(inside["allowed: personality query"], 0);
    assert_eq!(inside["allowed: getpid"], 0);
    let refused: Vec<_> = inside
        .iter()
        .filter(|(name, _)| !name.starts_with("allowed") && *name != "seccomp mode")
        .collect();
    assert!(refused.len() >= 20);
    for (name, errno) in &refused {
        assert_eq!(**errno, libc::EPERM, "{name} was not refused: {inside:?}");
    }

    // The same probe outside the jail, as root, gets the kernel's own
    // answers: so the EPERMs above are the filter's.
    if unsafe { libc::geteuid() } == 0 {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("probe.py");
        std::fs::write(&script, SECCOMP_PROBE).unwrap();
        let host = std::process::Command::new("python3")
            .arg(&script)
            .output()
            .unwrap();
        let outside: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&host.stdout).unwrap();
        for (name, _) in &refused {
            assert_ne!(
                outside[name.as_str()],
                libc::EPERM,
                "{name} outside: {outside:?}"
            );
        }
    }
}
