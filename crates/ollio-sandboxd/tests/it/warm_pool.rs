//! The warm pool: ready sandboxes per template used lately, made in the
//! background, each handed out once.

use std::{collections::BTreeMap, time::Duration};

use ollio_sandbox::{wire::NewSandbox, Command};
use ollio_testkit::TestDaemon;

use crate::GUEST;

/// Waits until the daemon's warm pools hold `count` ready sandboxes.
async fn warm(daemon: &TestDaemon, count: usize) {
    let registry = &daemon.daemon.as_ref().unwrap().registry;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while registry.warm_count() != count || warm_sandboxes(daemon) != count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the pool never held {count}: {} counted, {} folders",
            registry.warm_count(),
            warm_sandboxes(daemon)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sandbox folders on disk that are not running sandboxes: the warm ones.
fn warm_sandboxes(daemon: &TestDaemon) -> usize {
    let registry = &daemon.daemon.as_ref().unwrap().registry;
    let folders = std::fs::read_dir(registry.config().sandboxes_dir())
        .map(|entries| entries.count())
        .unwrap_or(0);
    folders - registry.list().len()
}

fn request(template: &str, project: &str) -> NewSandbox {
    NewSandbox {
        template_id: template.into(),
        metadata: BTreeMap::from([("project".to_owned(), project.to_owned())]),
        ..NewSandbox::default()
    }
}

#[tokio::test]
async fn warm_sandboxes_are_handed_out_once_with_their_app_running() {
    let daemon = TestDaemon::start_with(GUEST, |config| config.warm_per_template = 1).await;
    let client = &daemon.client;
    // The first of a template is made on the spot; the pool fills after.
    let first = client.create(&request("node-api", "a")).await.unwrap();
    warm(&daemon, 1).await;

    let second = client.create(&request("node-api", "b")).await.unwrap();
    assert_ne!(second.id, first.id);
    // Handed out, not shared: the pool makes another.
    warm(&daemon, 1).await;
    let third = client.create(&request("node-api", "c")).await.unwrap();
    assert!(third.id != first.id && third.id != second.id);

    // Each is its requester's, with its metadata, listed as running.
    let listed = client.list().await.unwrap();
    assert_eq!(listed.len(), 3, "warm sandboxes are not listed");
    let detail = client.get(&second.id).await.unwrap();
    assert_eq!(detail.metadata["project"], "b");

    // The warm one's app was already up, and its files are its own.
    let envd = client.envd(&second);
    let health = envd
        .run(
            &Command::new(
                "for _ in $(seq 100); do node -e \"fetch('http://127.0.0.1:3000/health').then(r=>r.text()).then(t=>{console.log(t);process.exit(0)}).catch(()=>process.exit(1))\" && exit 0; sleep 0.1; done; exit 1",
            ),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&health.stdout).trim(),
        r#"{"status":"ok"}"#
    );
    envd.write_file("mine.txt", b"b's").await.unwrap();
    assert!(client.envd(&third).read_file("mine.txt").await.is_err());

    // Another template has a pool of its own once asked for.
    client.create(&request("static", "d")).await.unwrap();
    warm(&daemon, 2).await;

    // Killing everything leaves no warm sandbox behind either.
    daemon.daemon.as_ref().unwrap().registry.kill_all().await;
    assert_eq!(daemon.daemon.as_ref().unwrap().registry.warm_count(), 0);
    assert_eq!(warm_sandboxes(&daemon), 0);
}

#[tokio::test]
async fn a_request_with_variables_for_an_app_gets_a_sandbox_made_for_it() {
    let daemon = TestDaemon::start_with(GUEST, |config| config.warm_per_template = 1).await;
    let client = &daemon.client;
    client.create(&request("node-api", "a")).await.unwrap();
    warm(&daemon, 1).await;
    let mut with_vars = request("node-api", "b");
    with_vars.env_vars = BTreeMap::from([("GREETING".to_owned(), "hi".to_owned())]);
    client.create(&with_vars).await.unwrap();
    // The warm one is still there: its app started without GREETING.
    assert_eq!(daemon.daemon.as_ref().unwrap().registry.warm_count(), 1);
}
