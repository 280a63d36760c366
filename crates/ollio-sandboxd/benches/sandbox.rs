//! Sandbox figures for the bundled `sandboxd` (bubblewrap): how long from
//! "create" to the first command's exit, and from writing 20 files to the
//! preview serving them. Prints median and p95; run with
//! `cargo bench -p ollio-sandboxd --bench sandbox`. The target is a median
//! create-to-exit of at most 50 ms on a 2-core machine.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use ollio_sandbox::{wire::NewSandbox, ApiKey, Command, SandboxClient};
use ollio_sandboxd::{self as sandboxd, DaemonConfig};
use ollio_testkit::figures::summary;

const CREATE_RUNS: usize = 40;
const PREVIEW_RUNS: usize = 15;

#[tokio::main]
async fn main() {
    let data = tempfile::tempdir().expect("data folder");
    let mut config = DaemonConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        data.path().to_path_buf(),
        ApiKey::generate(),
    );
    config.guest_exe = PathBuf::from(env!("CARGO_BIN_EXE_ollio-sandboxd"));
    let daemon = sandboxd::start(config)
        .await
        .expect("sandboxd starts (is bubblewrap installed?)");
    let client = SandboxClient::new(daemon.endpoint.clone());
    let base = NewSandbox {
        template_id: "base".into(),
        ..NewSandbox::default()
    };

    // Warm-up: the first start pages the binaries in.
    let warm = client.create(&base).await.unwrap();
    client.kill(&warm.id).await.unwrap();

    let mut create = Vec::new();
    for _ in 0..CREATE_RUNS {
        let started = Instant::now();
        let sandbox = client.create(&base).await.unwrap();
        let output = client
            .envd(&sandbox)
            .run(&Command::new("true"), |_, _| {})
            .await
            .unwrap();
        assert_eq!(output.exit_code, 0);
        create.push(started.elapsed());
        client.kill(&sandbox.id).await.unwrap();
    }

    let mut preview = Vec::new();
    let http = reqwest::Client::new();
    for run in 0..PREVIEW_RUNS {
        let sandbox = client
            .create(&NewSandbox {
                template_id: "static".into(),
                ..NewSandbox::default()
            })
            .await
            .unwrap();
        let envd = client.envd(&sandbox);
        let files: Vec<(String, Vec<u8>)> = (0..20)
            .map(|index| {
                (
                    format!("site/page{index}.html"),
                    format!("<h1>page {index} of run {run}</h1>").into_bytes(),
                )
            })
            .collect();
        let url = client.preview_url(&sandbox.id, 3000);
        let host = url.trim_start_matches("http://").to_owned();
        let last = format!("http://{}/site/page19.html", daemon.addr);
        let expected = format!("<h1>page 19 of run {run}</h1>");
        let started = Instant::now();
        envd.write_files(&files).await.unwrap();
        loop {
            let response = http.get(&last).header("host", &host).send().await.unwrap();
            if response.status() == 200 && response.text().await.unwrap() == expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        preview.push(started.elapsed());
        client.kill(&sandbox.id).await.unwrap();
    }

    println!(
        "sandboxd with bubblewrap, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    summary("create + first command exits", create);
    summary("write 20 files until the preview serves them", preview);
    daemon.shutdown().await;
}
