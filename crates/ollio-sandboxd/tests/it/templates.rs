//! Templates as sandboxd builds and serves them: installed once into the
//! template cache, then under every sandbox of the template copy-on-write.
//! The builds reach the real npm registry, as they do on a user's machine.

use std::{
    hash::{Hash, Hasher},
    path::Path,
    sync::Mutex,
};

use ollio_sandbox::Command;
use ollio_sandboxd::template_images::BuildEvent;
use ollio_testkit::TestDaemon;

use crate::GUEST;

fn template(id: &str) -> &'static ollio_templates::Template {
    ollio_templates::find(id).unwrap()
}

fn starter(template: &ollio_templates::Template, path: &str) -> &'static [u8] {
    template
        .files
        .iter()
        .find(|file| file.path == path)
        .unwrap()
        .bytes
}

/// Every path under `root` with its kind, mode, owner, size and contents.
fn digest(root: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut pending = vec![root.to_path_buf()];
    let mut seen = Vec::new();
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        seen.push(path.clone());
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                pending.push(entry.unwrap().path());
            }
        }
    }
    seen.sort();
    for path in seen {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        path.hash(&mut hasher);
        (meta.mode(), meta.uid(), meta.len(), meta.mtime()).hash(&mut hasher);
        if meta.file_type().is_symlink() {
            std::fs::read_link(&path).unwrap().hash(&mut hasher);
        } else if meta.is_file() {
            std::fs::read(&path).unwrap().hash(&mut hasher);
        }
    }
    hasher.finish()
}

#[tokio::test]
async fn a_template_is_built_once_and_a_second_build_is_a_no_op() {
    let cache = tempfile::tempdir().unwrap();
    let daemon = TestDaemon::start_with(GUEST, |config| {
        config.template_cache = Some(cache.path().to_path_buf());
    })
    .await;
    let registry = &daemon.daemon.as_ref().unwrap().registry;
    let node = template("node-api");
    let events = Mutex::new(Vec::new());
    let record = |event: BuildEvent| events.lock().unwrap().push(event);

    let image = registry.image(node, &record).await.unwrap();
    {
        let events = events.lock().unwrap();
        assert!(matches!(
            events.first(),
            Some(BuildEvent::Started {
                template: "node-api"
            })
        ));
        assert!(matches!(events.last(), Some(BuildEvent::Built { .. })));
    }
    assert_eq!(image, cache.path().join("images").join(node.build_key()));
    assert!(image.join("node_modules/express/package.json").is_file());
    assert_eq!(
        std::fs::read(image.join("server.js")).unwrap(),
        starter(node, "server.js")
    );
    assert!(
        !image.join(".npm").exists(),
        "the package cache is not kept"
    );
    let before = digest(&image);

    events.lock().unwrap().clear();
    let again = registry.image(node, &record).await.unwrap();
    assert_eq!(again, image);
    assert!(
        events.lock().unwrap().is_empty(),
        "a built template is not built again: {:?}",
        events.lock().unwrap()
    );
    assert_eq!(digest(&image), before);
}

#[tokio::test]
async fn sandboxes_of_one_template_never_see_each_other_s_writes_and_the_image_stays() {
    let daemon = TestDaemon::start(GUEST).await;
    let node = template("node-api");
    let (first, one) = daemon.sandbox("node-api").await;
    let (second, two) = daemon.sandbox("node-api").await;
    assert_eq!(first.template_id, "node-api");
    let image = daemon
        .daemon
        .as_ref()
        .unwrap()
        .registry
        .images()
        .built(node)
        .expect("built on first use");
    let before = digest(&image);

    for envd in [&one, &two] {
        assert_eq!(
            envd.read_file("server.js").await.unwrap(),
            starter(node, "server.js")
        );
        let express = envd
            .run(
                &Command::new("node -e \"require('express'); console.log('found')\""),
                |_, _| {},
            )
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&express.stdout).trim(), "found");
    }

    // The first sandbox changes a starter file, adds one, removes an
    // installed package and writes inside node_modules.
    one.write_file("server.js", b"console.log('mine')")
        .await
        .unwrap();
    one.write_file("notes.txt", b"the first sandbox's")
        .await
        .unwrap();
    let changed = one
        .run(
            &Command::new(
                "rm -rf node_modules/express && mkdir node_modules/.vite && echo x >> package.json && echo done",
            ),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&changed.stdout).trim(),
        "done",
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    assert!(one
        .read_file("node_modules/express/package.json")
        .await
        .is_err());

    assert_eq!(
        two.read_file("server.js").await.unwrap(),
        starter(node, "server.js")
    );
    assert_eq!(
        two.read_file("package.json").await.unwrap(),
        starter(node, "package.json")
    );
    assert!(two.read_file("notes.txt").await.is_err());
    assert!(two
        .read_file("node_modules/express/package.json")
        .await
        .is_ok());
    assert!(two.stat("node_modules/.vite").await.is_err());
    assert_eq!(digest(&image), before, "the built template never changes");

    // A third sandbox starts from the template as it was built.
    let (_, three) = daemon.sandbox("node-api").await;
    assert_eq!(
        three.read_file("server.js").await.unwrap(),
        starter(node, "server.js")
    );
    drop(second);
}

#[tokio::test]
async fn the_disk_limit_counts_only_what_the_sandbox_wrote() {
    // The React template's node_modules alone is over the test limit (64 MB).
    let daemon = TestDaemon::start(GUEST).await;
    let (_, envd) = daemon.sandbox("react").await;
    let size = envd
        .run(&Command::new("du -sm node_modules | cut -f1"), |_, _| {})
        .await
        .unwrap();
    let megabytes: u64 = String::from_utf8_lossy(&size.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(megabytes > 64, "node_modules is {megabytes} MB");
    envd.write_file("src/big.bin", &vec![7u8; 4 << 20])
        .await
        .unwrap();
    let refused = envd
        .write_file("src/bigger.bin", &vec![7u8; 62 << 20])
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("disk limit"), "{refused}");
}

/// Asks `path` of the sandbox's app until it answers 200, for at most a
/// minute; the body.
async fn answered(daemon: &TestDaemon, id: &str, port: u16, path: &str) -> String {
    let (client, origin) = daemon.preview_client(id, port);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(format!("{origin}{path}")).send().await {
            if response.status().is_success() {
                return response.text().await.unwrap();
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the app never answered {path}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Reads the app's log until it holds `wanted`, for at most a minute.
async fn log_with(envd: &ollio_sandbox::Envd, wanted: &str) -> String {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let log = envd
            .read_file("/tmp/ollio/app.log")
            .await
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        if log.contains(wanted) {
            return log;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the log never said {wanted:?}:\n{log}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_app_starts_with_the_sandbox_and_restarts_after_it_crashes() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("node-api").await;
    let health = answered(&daemon, &sandbox.id, 3000, "/health").await;
    assert_eq!(health, r#"{"status":"ok"}"#);
    let log = log_with(&envd, "listening on port 3000").await;
    assert!(
        log.contains("[ollio] Starting `node --watch server.js`"),
        "{log}"
    );

    let crashed = envd
        .run(
            &Command::new("pkill -KILL -x node && echo killed"),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&crashed.stdout).trim(), "killed");
    let log = log_with(&envd, "exited with code").await;
    assert!(log.contains("restarting it in"), "{log}");
    log_with(&envd, "listening on port 3000\n[ollio] `node").await;
    // Up again, and counted.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let status = envd.read_file("/tmp/ollio/status.json").await.unwrap();
        let status: serde_json::Value = serde_json::from_slice(&status).unwrap();
        if status["state"] == "running" && status["restarts"] == 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        answered(&daemon, &sandbox.id, 3000, "/health").await,
        r#"{"status":"ok"}"#
    );
}

#[tokio::test]
async fn a_changed_package_manifest_installs_then_restarts_the_app() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("node-api").await;
    answered(&daemon, &sandbox.id, 3000, "/health").await;
    let manifest = String::from_utf8_lossy(starter(template("node-api"), "package.json")).replace(
        "\"private\": true,",
        "\"private\": true,\n  \"description\": \"changed\",",
    );
    envd.write_file("package.json", manifest.as_bytes())
        .await
        .unwrap();
    log_with(&envd, "package.json changed: installing packages").await;
    // Installed or not (this daemon's sandboxes reach no registry), the app
    // comes back.
    let log = log_with(&envd, "restarting the app").await;
    assert!(
        log.matches("[ollio] Starting `node --watch server.js`")
            .count()
            >= 1,
        "{log}"
    );
    log_with(&envd, "restarting the app\n[ollio] Starting").await;
    assert_eq!(
        answered(&daemon, &sandbox.id, 3000, "/health").await,
        r#"{"status":"ok"}"#
    );
}

#[tokio::test]
async fn without_network_an_install_fails_naming_the_setting() {
    // The test daemon's sandboxes have OLLIO_SANDBOX_NETWORK=none.
    let daemon = TestDaemon::start(GUEST).await;
    let (_, node) = daemon.sandbox("node-api").await;
    let npm = node
        .run(
            &Command::new("npm install --no-audit --no-fund --cache /tmp/.npm left-pad"),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_ne!(npm.exit_code, 0);
    let said = String::from_utf8_lossy(&npm.stderr);
    assert!(said.contains("OLLIO_SANDBOX_NETWORK=none"), "{said}");

    let (_, python) = daemon.sandbox("python-api").await;
    let pip = python
        .run(
            &Command::new(".venv/bin/pip install --no-cache-dir left-pad"),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_ne!(pip.exit_code, 0);
    let said = String::from_utf8_lossy(&pip.stdout) + String::from_utf8_lossy(&pip.stderr);
    assert!(said.contains("OLLIO_SANDBOX_NETWORK=none"), "{said}");
}

/// The ML model template as the agent finds it: the API is up at once and
/// says it has no model; its starter `train.py` trains with scikit-learn
/// from the image, printing progress as JSON lines and its metrics; then
/// `/predict` answers from the saved artifacts without a restart.
#[tokio::test]
async fn an_ml_model_sandbox_trains_its_starter_and_then_predicts() {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("ml-model").await;
    let health = answered(&daemon, &sandbox.id, 8000, "/health").await;
    assert_eq!(health, r#"{"status":"ok","model_loaded":false}"#);
    let (client, origin) = daemon.preview_client(&sandbox.id, 8000);
    let flower = serde_json::json!({
        "sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3
    });
    let untrained = client
        .post(format!("{origin}/predict"))
        .json(&flower)
        .send()
        .await
        .unwrap();
    assert_eq!(untrained.status(), 503);

    let trained = envd
        .run(&Command::new(".venv/bin/python train.py"), |_, _| {})
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&trained.stdout);
    assert_eq!(trained.exit_code, 0, "{stdout}");
    let progress: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    assert_eq!(progress.last().unwrap()["progress"], 1.0, "{stdout}");
    let metrics = envd.read_file("artifacts/metrics.json").await.unwrap();
    let metrics: serde_json::Value = serde_json::from_slice(&metrics).unwrap();
    assert!(metrics["accuracy"].as_f64().unwrap() > 0.8, "{metrics}");

    let answer: serde_json::Value = client
        .post(format!("{origin}/predict"))
        .json(&flower)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["label"], "virginica", "{answer}");
}
