//! The daemon run without root, as on a developer's machine: no cgroups
//! and no host uid per sandbox. The process limit is then `RLIMIT_NPROC`,
//! set by each sandbox's agent inside the jail's own user namespace, where
//! the kernel counts only that sandbox's processes. (Run as root, this test
//! starts the daemon as `nobody`.)

use std::{
    io::{BufRead, BufReader},
    os::unix::process::CommandExt,
    process::{Command as Process, Stdio},
    time::Duration,
};

use ollio_sandbox::{ApiKey, Command, Endpoint, SandboxClient};

const DAEMON: &str = env!("CARGO_BIN_EXE_ollio-sandboxd");
/// `nobody`.
const UNPRIVILEGED: u32 = 65534;
const LIMIT: u64 = 64;

/// Starts sleepers until a start fails, at most `count`; prints how many
/// started and the errno that stopped it (0: none did). The sleepers stay.
fn spawn_loop(count: u32) -> String {
    format!(
        r#"python3 -c '
import subprocess
started, errno = 0, 0
try:
    for _ in range({count}):
        subprocess.Popen(["sleep", "10"])
        started += 1
except OSError as error:
    errno = error.errno
print(started, errno)
'"#
    )
}

#[tokio::test]
async fn without_root_a_spawn_loop_is_stopped_by_each_sandbox_s_own_process_limit() {
    let data = tempfile::tempdir().unwrap();
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        std::os::unix::fs::chown(data.path(), Some(UNPRIVILEGED), Some(UNPRIVILEGED)).unwrap();
    }
    let key = ApiKey::generate();
    let mut command = Process::new(DAEMON);
    command
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("OLLIO_DATA_DIR", data.path())
        .env("OLLIO_SANDBOXD_ADDR", "127.0.0.1:0")
        .env("OLLIO_SANDBOXD_API_KEY", key.expose())
        .env("OLLIO_SANDBOX_PROCESSES", LIMIT.to_string())
        .env("OLLIO_SANDBOX_NETWORK", "none")
        .env("OLLIO_SANDBOX_WARM", "0")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if root {
        // SAFETY: only system calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(UNPRIVILEGED) != 0
                    || libc::setuid(UNPRIVILEGED) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut daemon = Daemon(command.spawn().unwrap());
    let mut lines = BufReader::new(daemon.0.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the daemon says where it runs")
            .unwrap();
        if let Some(rest) = line.split("sandboxd is running at http://").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let base = format!("http://{addr}");
    let client = SandboxClient::new(Endpoint {
        api_url: base.clone(),
        sandbox_url: Some(base),
        domain: "localhost".into(),
        scheme: "http",
        api_key: key,
    });
    let sandbox = || async {
        let sandbox = client
            .create(&ollio_sandbox::wire::NewSandbox {
                template_id: "base".into(),
                ..Default::default()
            })
            .await
            .expect("a sandbox without root");
        client.envd(&sandbox)
    };
    let (first, second) = (sandbox().await, sandbox().await);
    let run = |envd: ollio_sandbox::Envd, script: String| async move {
        let output = envd
            .run(
                &Command::new(script).timeout(Duration::from_secs(120)),
                |_, _| {},
            )
            .await
            .unwrap();
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };

    let answer = run(first.clone(), spawn_loop(3000)).await;
    let (started, errno) = answer.split_once(' ').expect("count and errno");
    let started: u64 = started.parse().unwrap();
    println!("without root: {started} sleepers started before the limit ({LIMIT}) stopped them");
    assert_eq!(
        errno,
        libc::EAGAIN.to_string(),
        "stopped by the limit: {answer}"
    );
    assert!(
        started < LIMIT,
        "{started} sleepers under a limit of {LIMIT}"
    );

    // The first sandbox's sleepers still run; the second has its own count.
    let answer = run(second, spawn_loop(30)).await;
    assert_eq!(
        answer, "30 0",
        "the second sandbox is not counted with the first"
    );
}

/// The daemon's process, killed when the test ends however it ends.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
