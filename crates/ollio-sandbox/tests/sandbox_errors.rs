//! How the sandbox client treats a misbehaving service: a scripted HTTP
//! server answers with the failures E2B's API can give, and the client must
//! turn them into clear errors, retrying only what may succeed later.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::{http::StatusCode, response::IntoResponse, routing::any, Router};
use ollio_sandbox::{wire::NewSandbox, ApiKey, Endpoint, RetryPolicy, SandboxClient, SandboxError};

/// One scripted answer: status, extra headers, body.
type Answer = (StatusCode, Vec<(&'static str, &'static str)>, &'static str);

/// Serves `answers` in turn (the last one again once they run out) and
/// counts the requests.
async fn scripted(answers: Vec<Answer>) -> (SandboxClient, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let answers = Arc::new(answers);
    let app = Router::new().fallback(any(move || {
        let answers = answers.clone();
        let seen = seen.clone();
        async move {
            let index = seen.fetch_add(1, Ordering::SeqCst).min(answers.len() - 1);
            let (status, headers, body) = answers[index].clone();
            let mut response = (status, body).into_response();
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
                .headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            response
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let endpoint = Endpoint {
        api_url: format!("http://{addr}"),
        sandbox_url: Some(format!("http://{addr}")),
        domain: "example.test".into(),
        scheme: "https",
        api_key: ApiKey::new("e2b_bad"),
    };
    let retry = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
    };
    (SandboxClient::with_retry(endpoint, retry), count)
}

fn base() -> NewSandbox {
    NewSandbox {
        template_id: "base".into(),
        ..NewSandbox::default()
    }
}

const CREATED: &str = r#"{"templateID":"base","sandboxID":"isb1","clientID":"c","envdVersion":"0.5.7","envdAccessToken":"t","domain":"example.test"}"#;

#[tokio::test]
async fn a_bad_key_is_unauthorized_and_not_retried() {
    let (client, count) = scripted(vec![(
        StatusCode::UNAUTHORIZED,
        vec![],
        r#"{"code":401,"message":"Invalid API key"}"#,
    )])
    .await;
    assert_eq!(
        client.create(&base()).await.unwrap_err(),
        SandboxError::Unauthorized
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_missing_sandbox_is_not_found() {
    let (client, count) = scripted(vec![(
        StatusCode::NOT_FOUND,
        vec![],
        r#"{"code":404,"message":"sandbox not found"}"#,
    )])
    .await;
    assert_eq!(
        client.get("isb1").await.unwrap_err(),
        SandboxError::NotFound
    );
    assert_eq!(
        client.kill("isb1").await.unwrap_err(),
        SandboxError::NotFound
    );
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_time_asked() {
    let (client, count) = scripted(vec![
        (
            StatusCode::TOO_MANY_REQUESTS,
            vec![("retry-after", "1")],
            "{}",
        ),
        (StatusCode::CREATED, vec![], CREATED),
    ])
    .await;
    let started = Instant::now();
    let sandbox = client.create(&base()).await.unwrap();
    assert_eq!(sandbox.id, "isb1");
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After was not honoured"
    );
}

#[tokio::test]
async fn endless_rate_limits_end_in_a_rate_limited_error() {
    let (client, count) = scripted(vec![(
        StatusCode::TOO_MANY_REQUESTS,
        vec![("retry-after", "0")],
        "{}",
    )])
    .await;
    assert!(matches!(
        client.list().await.unwrap_err(),
        SandboxError::RateLimited { .. }
    ));
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let (client, count) = scripted(vec![
        (StatusCode::INTERNAL_SERVER_ERROR, vec![], "{}"),
        (StatusCode::BAD_GATEWAY, vec![], "oops"),
        (StatusCode::CREATED, vec![], CREATED),
    ])
    .await;
    assert_eq!(client.create(&base()).await.unwrap().id, "isb1");
    assert_eq!(count.load(Ordering::SeqCst), 3);

    let (client, count) = scripted(vec![(
        StatusCode::SERVICE_UNAVAILABLE,
        vec![],
        r#"{"code":503,"message":"down for maintenance"}"#,
    )])
    .await;
    let error = client.create(&base()).await.unwrap_err();
    assert!(
        matches!(&error, SandboxError::Unavailable(message) if message.contains("down for maintenance")),
        "{error:?}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = SandboxClient::with_retry(
        Endpoint {
            api_url: format!("http://{addr}"),
            sandbox_url: None,
            domain: "example.test".into(),
            scheme: "https",
            api_key: ApiKey::new("e2b_x"),
        },
        RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(10),
            request_timeout: Duration::from_secs(5),
        },
    );
    assert!(matches!(
        client.list().await.unwrap_err(),
        SandboxError::Unavailable(_)
    ));
}

#[tokio::test]
async fn envd_errors_keep_their_connect_code() {
    let (client, _) = scripted(vec![
        (StatusCode::CREATED, vec![], CREATED),
        (
            StatusCode::NOT_FOUND,
            vec![],
            r#"{"code":"not_found","message":"path not found"}"#,
        ),
        (
            StatusCode::CONFLICT,
            vec![],
            r#"{"code":"already_exists","message":"exists"}"#,
        ),
        (
            StatusCode::BAD_GATEWAY,
            vec![],
            r#"{"code":502,"message":"The sandbox was not found","sandboxId":"isb1"}"#,
        ),
    ])
    .await;
    let sandbox = client.create(&base()).await.unwrap();
    let envd = client.envd(&sandbox);
    assert!(
        matches!(envd.stat("x").await.unwrap_err(), SandboxError::Missing(m) if m == "path not found")
    );
    assert!(
        matches!(envd.make_dir("x").await.unwrap_err(), SandboxError::Rpc { code, .. } if code == "already_exists")
    );
    assert_eq!(envd.health().await.unwrap_err(), SandboxError::NotFound);
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried_a_bounded_number_of_times() {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let app = Router::new().fallback(any(move || {
        let seen = seen.clone();
        async move {
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = SandboxClient::with_retry(
        Endpoint {
            api_url: format!("http://{addr}"),
            sandbox_url: None,
            domain: "example.test".into(),
            scheme: "https",
            api_key: ApiKey::new("e2b_x"),
        },
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(10),
            request_timeout: Duration::from_millis(200),
        },
    );
    assert_eq!(client.list().await.unwrap_err(), SandboxError::Timeout);
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_command_is_not_sent_twice_after_a_server_error() {
    let (client, count) = scripted(vec![
        (StatusCode::CREATED, vec![], CREATED),
        (StatusCode::INTERNAL_SERVER_ERROR, vec![], "{}"),
        (StatusCode::INTERNAL_SERVER_ERROR, vec![], "{}"),
    ])
    .await;
    let sandbox = client.create(&base()).await.unwrap();
    let envd = client.envd(&sandbox);
    let started = envd
        .start(&ollio_sandbox::Command::new("echo once >> log"))
        .await;
    assert!(started.is_err());
    // The create and one try of the command: it may have run, so no second.
    assert_eq!(count.load(Ordering::SeqCst), 2);
}
