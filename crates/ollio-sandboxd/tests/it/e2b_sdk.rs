//! E2B's official Python SDK (pinned in scripts/test.sh, installed from PyPI
//! into a venv the test script makes) drives the bundled `sandboxd`: create,
//! files, streamed commands, a non-zero exit, a timeout, kill.

use ollio_testkit::TestDaemon;

use crate::GUEST;

#[tokio::test]
async fn the_official_python_sdk_works_against_sandboxd() {
    let python = std::env::var("OLLIO_TEST_E2B_PYTHON").expect(
        "OLLIO_TEST_E2B_PYTHON must name a Python with the e2b SDK; scripts/test.sh sets it up",
    );
    let daemon = TestDaemon::start(GUEST).await;
    let url = format!("http://{}", daemon.addr());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/e2b_sdk/conformance.py"
    );
    let output = tokio::process::Command::new(python)
        .arg(script)
        .env("E2B_API_URL", &url)
        .env("E2B_SANDBOX_URL", &url)
        .env("E2B_API_KEY", daemon.key.expose())
        .env("E2B_DOMAIN", format!("localhost:{}", daemon.addr().port()))
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("conformance ok"),
        "the SDK failed against sandboxd:\n{stdout}\n{stderr}"
    );
    assert!(
        daemon.daemon.as_ref().unwrap().registry.list().is_empty(),
        "the SDK's kill left a sandbox behind"
    );
}
