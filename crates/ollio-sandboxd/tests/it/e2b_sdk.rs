//! E2B's official Python SDK (pinned in scripts/test.sh, installed from PyPI
//! into a venv the test script makes) drives the bundled `sandboxd`: create,
//! files, streamed commands, a non-zero exit, a timeout, kill; a pty
//! (`sandbox.pty.create`, `send_stdin`, `resize`); and a
//! template's sandbox whose app the SDK reaches through the preview host.

use ollio_testkit::TestDaemon;

use crate::GUEST;

/// Runs `tests/it/e2b_sdk/{script}` with the SDK pointed at `daemon` and
/// asserts that it printed `{done}`.
async fn run_sdk_script(daemon: &TestDaemon, script: &str, done: &str) {
    let python = std::env::var("OLLIO_TEST_E2B_PYTHON").expect(
        "OLLIO_TEST_E2B_PYTHON must name a Python with the e2b SDK; scripts/test.sh sets it up",
    );
    let addr = daemon.addr();
    let url = format!("http://{addr}");
    let path = format!("{}/tests/it/e2b_sdk/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = tokio::process::Command::new(python)
        .arg(path)
        .env("E2B_API_URL", &url)
        .env("E2B_SANDBOX_URL", &url)
        .env("E2B_API_KEY", daemon.key.expose())
        .env("E2B_DOMAIN", format!("localhost:{}", addr.port()))
        .env("OLLIO_DAEMON", addr.to_string())
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(done),
        "{script} failed against sandboxd:\n{stdout}\n{stderr}"
    );
    assert!(
        daemon.daemon.as_ref().unwrap().registry.list().is_empty(),
        "the SDK's kill left a sandbox behind"
    );
}

#[tokio::test]
async fn the_official_python_sdk_works_against_sandboxd() {
    let daemon = TestDaemon::start(GUEST).await;
    run_sdk_script(&daemon, "conformance.py", "conformance ok").await;
}

#[tokio::test]
async fn the_python_sdk_opens_a_pty_types_into_it_and_resizes_it() {
    let daemon = TestDaemon::start(GUEST).await;
    run_sdk_script(&daemon, "pty.py", "pty ok").await;
}

#[tokio::test]
async fn the_python_sdk_reaches_a_python_api_sandbox_s_docs_through_the_preview_host() {
    let daemon = TestDaemon::start(GUEST).await;
    run_sdk_script(&daemon, "python_api.py", "python-api ok").await;
}
