//! A version's artifacts through both blob stores: the local folder, and a
//! real S3-speaking server on loopback (moto's, from PyPI; scripts/test.sh
//! installs it and sets `OLLIO_TEST_MOTO`).

use std::{
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use ollio_domain::{AttachmentId, VersionId};
use ollio_store::blobs::{BlobError, Blobs};

/// A binary artifact with every byte value, a little over a megabyte.
fn model_bytes() -> Vec<u8> {
    (0..(1 << 20) + 7)
        .map(|i: u32| (i * 7 % 256) as u8)
        .collect()
}

/// Puts, reads, replaces and refuses artifacts as a version's pipeline would.
async fn round_trip(blobs: &Blobs) {
    let v1 = VersionId::from_raw("v1-0000");
    let v2 = VersionId::from_raw("v2-0000");
    let model = model_bytes();
    let files = vec![
        (
            "artifacts/metrics.json".to_owned(),
            br#"{"accuracy":0.93}"#.to_vec(),
        ),
        ("artifacts/model.joblib".to_owned(), model.clone()),
    ];
    blobs.put_artifacts(&v1, &files, 10 << 20).await.unwrap();
    assert_eq!(blobs.artifacts(&v1).await.unwrap(), files);
    assert!(blobs.artifacts(&v2).await.unwrap().is_empty());

    // A new training run replaces the set: nothing of the old one stays.
    let retrained = vec![("artifacts/model.joblib".to_owned(), vec![1, 2, 3])];
    blobs
        .put_artifacts(&v1, &retrained, 10 << 20)
        .await
        .unwrap();
    assert_eq!(blobs.artifacts(&v1).await.unwrap(), retrained);

    // Too much is refused whole, and what was kept stays.
    let too_big = vec![("artifacts/huge.bin".to_owned(), model)];
    let refused = blobs
        .put_artifacts(&v1, &too_big, 1 << 20)
        .await
        .unwrap_err();
    assert!(matches!(refused, BlobError::TooLarge { .. }), "{refused}");
    assert_eq!(blobs.artifacts(&v1).await.unwrap(), retrained);
    let escaping = vec![("../../etc/passwd".to_owned(), vec![0])];
    let refused = blobs
        .put_artifacts(&v2, &escaping, 1 << 20)
        .await
        .unwrap_err();
    assert!(matches!(refused, BlobError::BadPath { .. }), "{refused}");

    blobs.delete_artifacts(&v1).await.unwrap();
    assert!(blobs.artifacts(&v1).await.unwrap().is_empty());

    // An attached file's bytes, kept apart from any version's.
    let attached = AttachmentId::from_raw("a1-0000");
    blobs
        .put_attachment(&attached, &model_bytes())
        .await
        .unwrap();
    assert_eq!(blobs.attachment(&attached).await.unwrap(), model_bytes());
    blobs.delete_attachment(&attached).await.unwrap();
    assert!(blobs.attachment(&attached).await.is_err());
    // Deleting twice is no error (a retried cleanup).
    blobs.delete_attachment(&attached).await.unwrap();
}

#[tokio::test]
async fn artifacts_round_trip_through_the_local_store() {
    let data = tempfile::tempdir().unwrap();
    let blobs = Blobs::open(None, data.path(), []).unwrap();
    assert!(blobs.location.ends_with("/blobs"), "{}", blobs.location);
    round_trip(&blobs).await;
    // They live in the data folder, under the version.
    let v3 = VersionId::from_raw("v3-0000");
    let files = vec![("artifacts/a.txt".to_owned(), b"kept".to_vec())];
    blobs.put_artifacts(&v3, &files, 1 << 20).await.unwrap();
    let on_disk = data.path().join("blobs/artifacts/v3-0000/artifacts/a.txt");
    assert_eq!(std::fs::read(on_disk).unwrap(), b"kept");
}

#[test]
fn a_blob_url_that_is_not_s3_is_named() {
    let data = tempfile::tempdir().unwrap();
    let error = Blobs::open(Some("gs://bucket/x"), data.path(), []).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("OLLIO_BLOB_URL: `gs://bucket/x` is not"),
        "{error}"
    );
    let error = Blobs::open(Some("s3:///x"), data.path(), []).unwrap_err();
    assert!(error.to_string().contains("names no bucket"), "{error}");
}

/// moto's S3 server on a free loopback port, killed when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Moto {
    let server = std::env::var("OLLIO_TEST_MOTO").expect(
        "OLLIO_TEST_MOTO is not set: run the suite with scripts/test.sh, which installs moto's server",
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "moto_server never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Moto { child, port }
}

#[tokio::test]
async fn artifacts_round_trip_through_an_s3_store() {
    let moto = start_moto();
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let http = reqwest::Client::new();
    let created = http
        .put(format!("{endpoint}/ollio-test"))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    let vars = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("NOT_AWS", "ignored"),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()));
    let data = tempfile::tempdir().unwrap();
    let blobs = Blobs::open(Some("s3://ollio-test/team/ollio"), data.path(), vars).unwrap();
    round_trip(&blobs).await;

    // The objects are the bucket's, under the prefix, as S3 itself lists them.
    let v4 = VersionId::from_raw("v4-0000");
    let files = vec![("artifacts/metrics.json".to_owned(), b"{}".to_vec())];
    blobs.put_artifacts(&v4, &files, 1 << 20).await.unwrap();
    let listing = http
        .get(format!(
            "{endpoint}/ollio-test?list-type=2&prefix=team/ollio/"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listing.contains("<Key>team/ollio/artifacts/v4-0000/artifacts/metrics.json</Key>"),
        "{listing}"
    );
    assert!(
        std::fs::read_dir(data.path()).unwrap().next().is_none(),
        "nothing was written to the data folder"
    );
}
