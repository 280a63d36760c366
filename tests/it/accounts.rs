//! Accounts over HTTP, on SQLite and on PostgreSQL: sign-up, sign-in and out,
//! sessions and their cookie, protected pages, password change, deletion,
//! throttling, same-origin checks, the rate limit and credits.

use crate::support::{
    app::{TestApp, PASSWORD},
    memory::peak_kb,
};
use ollio_testkit::{on_both_databases, TestDb};
use reqwest::{header, StatusCode};

on_both_databases!(
    signing_up_signs_in_and_leads_to_projects,
    sign_up_checks_its_input_and_hides_who_exists,
    sign_in_and_out,
    the_session_cookie_is_locked_down_and_rotates,
    protected_pages_send_visitors_to_sign_in_and_back,
    anonymous_calls_are_refused_with_401,
    changing_the_password,
    deleting_the_account_deletes_its_data,
    five_failures_lock_an_account_for_fifteen_minutes,
    five_failures_from_one_address_lock_that_address,
    a_forged_forwarded_for_does_not_dodge_the_address_lock,
    parallel_guesses_get_five_tries,
    sign_ups_can_be_closed_and_are_throttled_per_address,
    open_event_streams_are_budgeted_per_account,
    cross_site_posts_are_refused,
    server_functions_are_rate_limited_per_user,
    credits_are_reported,
    a_plain_form_post_returns_to_its_page_with_the_error,
    a_changed_password_comes_back_to_settings_saying_so,
    a_session_lives_from_its_last_visit_not_its_sign_in,
);

async fn ada_spends_everything(app: &TestApp, email: &str, credits: i64) {
    let id = app.db.store.user_by_email(email).await.unwrap().unwrap().id;
    for _ in 0..credits {
        let spent = app
            .db
            .store
            .consume_credit(&id, credits, ollio_store::now_ms())
            .await;
        assert!(spent.unwrap().is_ok());
    }
}

fn error_message(body: &str) -> String {
    let value: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    value.to_string()
}

async fn signing_up_signs_in_and_leads_to_projects(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.visitor();
    let response = ada
        .post(
            "signup",
            &[("email", " Ada@Example.com "), ("password", PASSWORD)],
            &[("accept", "text/html")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()[header::LOCATION], "/projects");

    let (status, _, html) = ada.page("/projects").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Your projects"));
    assert!(html.contains("No projects yet"));
    assert!(html.contains("Sign out"));

    let (status, body) = ada.call("current_user", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"email\":\"ada@example.com\""), "{body}");
}

async fn sign_up_checks_its_input_and_hides_who_exists(db: TestDb) {
    let app = TestApp::start(db).await;
    let visitor = app.visitor();
    let (status, body) = visitor
        .call(
            "signup",
            &[("email", "not-an-email"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("doesn't look like an email address"),
        "{body}"
    );

    let (status, body) = visitor
        .call(
            "signup",
            &[("email", "ada@example.com"), ("password", "short")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("at least 10 characters"), "{body}");
    let (_, body) = visitor
        .call(
            "signup",
            &[("email", "ada@example.com"), ("password", "aaaaaaaaaaaaaa")],
        )
        .await;
    assert!(body.contains("too easy to guess"), "{body}");

    app.user("ada@example.com").await;
    let (status, body) = app
        .visitor()
        .call(
            "signup",
            &[
                ("email", "ADA@example.com"),
                ("password", "another fine password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = error_message(&body).to_lowercase();
    assert!(message.contains("sign in instead"), "{message}");
    assert!(
        !message.contains("exists")
            && !message.contains("taken")
            && !message.contains("registered")
    );
}

async fn sign_in_and_out(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let (status, _) = ada.call("logout", &[]).await;
    assert!(status.is_success() || status.is_redirection());
    assert_eq!(ada.call("current_user", &[]).await.1, "null");
    assert_eq!(ada.call("get_usage", &[]).await.0, StatusCode::UNAUTHORIZED);

    let (status, wrong) = ada
        .call(
            "login",
            &[
                ("email", "ada@example.com"),
                ("password", "not my password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, unknown) = ada
        .call(
            "login",
            &[("email", "bob@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        wrong, unknown,
        "a wrong password and an unknown email must read the same"
    );

    let (status, _) = ada
        .call(
            "login",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("next", "/settings"),
            ],
        )
        .await;
    assert!(status.is_success() || status.is_redirection());
    assert!(ada
        .call("current_user", &[])
        .await
        .1
        .contains("ada@example.com"));
}

fn session_cookie(response: &reqwest::Response) -> String {
    named_cookie(response, "ollio_session=")
}

fn named_cookie(response: &reqwest::Response, prefix: &str) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(prefix))
        .expect("a session cookie")
        .to_owned()
}

async fn the_session_cookie_is_locked_down_and_rotates(db: TestDb) {
    let url = db.url.clone();
    let app = TestApp::start(db).await;
    let visitor = app.visitor();
    let signup = visitor
        .post(
            "signup",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
            &[],
        )
        .await;
    let first = session_cookie(&signup);
    assert!(first.contains("HttpOnly"), "{first}");
    assert!(first.contains("SameSite=Lax"), "{first}");
    assert!(first.contains("Path=/"), "{first}");
    assert!(!first.contains("Secure"), "{first}");
    // 30 days of inactivity.
    assert!(
        first.contains("Max-Age=2592000") || first.contains("Expires="),
        "{first}"
    );

    let login = visitor
        .post(
            "login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
            &[],
        )
        .await;
    let second = session_cookie(&login);
    let id = |cookie: &str| cookie.split(';').next().unwrap_or_default().to_owned();
    assert_ne!(
        id(&first),
        id(&second),
        "signing in must start a new session id"
    );

    // The old id is worthless now.
    let old = reqwest::Client::new()
        .post(visitor.url("/api/current_user"))
        .header(header::COOKIE, id(&first))
        .send()
        .await
        .unwrap();
    assert_eq!(old.text().await.unwrap(), "null");

    // Served as https, the cookie is Secure.
    let secure_app = TestApp::start_with(
        match url.backend_name() {
            "sqlite" => ollio_testkit::db::sqlite().await,
            _ => ollio_testkit::db::postgres().await,
        },
        &[("OLLIO_PUBLIC_URL", "https://ollio.example")],
    )
    .await;
    let visitor = secure_app.visitor();
    let signup = visitor
        .post(
            "signup",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
            &[],
        )
        .await;
    // Over https it is a `__Host-` cookie: Secure, the whole site, no Domain.
    let cookie = named_cookie(&signup, "__Host-ollio_session=");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
}

async fn protected_pages_send_visitors_to_sign_in_and_back(db: TestDb) {
    let app = TestApp::start(db).await;
    let visitor = app.visitor();
    for path in [
        "/projects",
        "/settings",
        "/projects/01a20a1f-c221-7608-8aee-931980000000",
    ] {
        let (status, location, _) = visitor.page(path).await;
        assert!(status.is_redirection(), "{path}: {status}");
        assert_eq!(location.unwrap_or_default(), format!("/login?next={path}"));
    }
    let (status, _, html) = visitor.page("/login?next=/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("value=\"/settings\""),
        "the sign-in form carries next"
    );

    app.user("ada@example.com").await;
    let ada = app.visitor();
    let response = ada
        .post(
            "login",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("next", "/settings"),
            ],
            &[("accept", "text/html")],
        )
        .await;
    assert_eq!(response.headers()[header::LOCATION], "/settings");
    let (status, _, html) = ada.page("/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Change password"));

    // next can never lead off the site.
    let evil = ada
        .post(
            "login",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
            &[("accept", "text/html")],
        )
        .await;
    assert_eq!(evil.headers()[header::LOCATION], "/projects");
}

async fn anonymous_calls_are_refused_with_401(db: TestDb) {
    let app = TestApp::start(db).await;
    let visitor = app.visitor();
    for (name, args) in [
        ("get_usage", vec![]),
        ("list_projects", vec![]),
        (
            "change_password",
            vec![
                ("current_password", PASSWORD),
                ("new_password", "a new password"),
            ],
        ),
        ("delete_account", vec![("confirm_email", "ada@example.com")]),
        ("rename_project", vec![("id", "x"), ("name", "y")]),
        ("delete_project", vec![("id", "x")]),
    ] {
        let (status, body) = visitor.call(name, &args).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
        assert_eq!(body, "\"Unauthorized\"", "{name}");
    }
}

async fn changing_the_password(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    // Ada is signed in on a second device too.
    let phone = app.visitor();
    let (status, _) = phone
        .call(
            "login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert!(status.is_success() || status.is_redirection());
    assert!(phone
        .call("current_user", &[])
        .await
        .1
        .contains("ada@example.com"));
    let ada_id = app
        .db
        .store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let project = app
        .db
        .store
        .create_project(
            &ada_id,
            &ollio_testkit::fixtures::project_name("Shop"),
            "static",
        )
        .await
        .unwrap();
    let events = format!("/api/projects/{}/events", project.id);
    let stream_status = |visitor: &crate::support::app::Visitor| {
        let url = visitor.url(&events);
        let client = visitor.client.clone();
        async move { client.get(url).send().await.unwrap().status() }
    };
    assert_eq!(stream_status(&phone).await, StatusCode::OK);
    let (status, body) = ada
        .call(
            "change_password",
            &[
                ("current_password", "wrong password!"),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("current password is not right"), "{body}");
    let (status, _) = ada
        .call(
            "change_password",
            &[("current_password", PASSWORD), ("new_password", "short")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = ada
        .call(
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Still signed in, on a fresh session; every other session has ended.
    assert!(ada
        .call("current_user", &[])
        .await
        .1
        .contains("ada@example.com"));
    assert_eq!(phone.call("current_user", &[]).await.1, "null");
    // The routes outside server functions ask the same question.
    assert_eq!(stream_status(&phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(stream_status(&ada).await, StatusCode::OK);

    let other = app.visitor();
    let (status, _) = other
        .call(
            "login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = other
        .call(
            "login",
            &[
                ("email", "ada@example.com"),
                ("password", "a brand new password"),
            ],
        )
        .await;
    assert!(status.is_success() || status.is_redirection());
}

async fn deleting_the_account_deletes_its_data(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let ada_id = app
        .db
        .store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let project = app
        .db
        .store
        .create_project(
            &ada_id,
            &ollio_domain::ProjectName::parse("Doomed").unwrap(),
            "static",
        )
        .await
        .unwrap();

    let (status, body) = ada
        .call(
            "delete_account",
            &[("confirm_email", "someone@example.com")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(app.db.store.user(&ada_id).await.unwrap().is_some());

    let (status, _) = ada
        .call("delete_account", &[("confirm_email", "ADA@example.com")])
        .await;
    assert!(status.is_success() || status.is_redirection());
    assert!(app.db.store.user(&ada_id).await.unwrap().is_none());
    assert!(app
        .db
        .store
        .project(&ada_id, &project.id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(ada.call("current_user", &[]).await.1, "null");
    let (status, _) = app
        .visitor()
        .call(
            "login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Sends a sign-in from the address `ip` (through the one proxy the app trusts).
async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> reqwest::Response {
    let visitor = app.visitor();
    visitor
        .post(
            "login",
            &[("email", email), ("password", password)],
            &[("x-forwarded-for", ip)],
        )
        .await
}

async fn five_failures_lock_an_account_for_fifteen_minutes(db: TestDb) {
    let app = TestApp::start_with(db, &[("OLLIO_TRUSTED_PROXIES", "1")]).await;
    app.user("ada@example.com").await;
    app.user("bob@example.com").await;
    for attempt in 1..=5 {
        let response = login_from(&app, "203.0.113.1", "ada@example.com", "guess guess").await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {attempt}"
        );
    }
    // Now even the right password, from elsewhere, is refused for a while.
    let response = login_from(&app, "203.0.113.9", "ada@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((890..=900).contains(&retry_after), "{retry_after}");
    let body = response.text().await.unwrap();
    assert!(body.contains("RateLimited"), "{body}");
    // Another account from that other address is not affected.
    assert!(login_from(&app, "203.0.113.9", "bob@example.com", PASSWORD)
        .await
        .status()
        .is_success());
}

async fn five_failures_from_one_address_lock_that_address(db: TestDb) {
    let app = TestApp::start_with(db, &[("OLLIO_TRUSTED_PROXIES", "1")]).await;
    app.user("ada@example.com").await;
    let emails = [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
        "e@example.com",
    ];
    for email in emails {
        let response = login_from(&app, "198.51.100.7", email, "guess guess").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let locked = login_from(&app, "198.51.100.7", "ada@example.com", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = login_from(&app, "198.51.100.8", "ada@example.com", PASSWORD).await;
    assert!(elsewhere.status().is_success());
}

/// Behind one proxy, only the hop it appended is the client's address:
/// entries the client wrote itself, left of it, change nothing.
async fn a_forged_forwarded_for_does_not_dodge_the_address_lock(db: TestDb) {
    let app = TestApp::start_with(db, &[("OLLIO_TRUSTED_PROXIES", "1")]).await;
    app.user("ada@example.com").await;
    for index in 0..5 {
        let forged = format!("10.0.{index}.1, 198.51.100.20");
        let email = format!("guess{index}@example.com");
        let response = login_from(&app, &forged, &email, "guess guess").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let locked = login_from(&app, "10.9.9.9, 198.51.100.20", "ada@example.com", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Thirty wrong passwords for one account at once, from thirty addresses:
/// five are checked, the rest refused before any hashing.
async fn parallel_guesses_get_five_tries(db: TestDb) {
    let app = TestApp::start_with(db, &[("OLLIO_TRUSTED_PROXIES", "1")]).await;
    app.user("ada@example.com").await;
    let guesses = (0..30).map(|index| {
        let app = &app;
        async move {
            let address = format!("192.0.2.{index}");
            login_from(app, &address, "ada@example.com", "guess guess")
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses
        .iter()
        .filter(|status| **status == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    let refused = statuses
        .iter()
        .filter(|status| **status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (5, 25), "{statuses:?}");
}

async fn sign_ups_can_be_closed_and_are_throttled_per_address(db: TestDb) {
    let url = db.url.clone();
    let app = TestApp::start_with(
        db,
        &[
            ("OLLIO_TRUSTED_PROXIES", "1"),
            ("OLLIO_SIGNUPS_PER_HOUR", "2"),
        ],
    )
    .await;
    let sign_up = |email: &'static str, address: &'static str| {
        let visitor = app.visitor();
        async move {
            visitor
                .post(
                    "signup",
                    &[("email", email), ("password", PASSWORD)],
                    &[("x-forwarded-for", address)],
                )
                .await
                .status()
        }
    };
    assert!(sign_up("a@example.com", "198.51.100.1").await.is_success());
    assert!(sign_up("b@example.com", "198.51.100.1").await.is_success());
    assert_eq!(
        sign_up("c@example.com", "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert!(sign_up("c@example.com", "198.51.100.2").await.is_success());

    let closed = TestApp::start_with(
        match url.backend_name() {
            "sqlite" => ollio_testkit::db::sqlite().await,
            _ => ollio_testkit::db::postgres().await,
        },
        &[("OLLIO_SIGNUPS", "closed")],
    )
    .await;
    let (status, body) = closed
        .visitor()
        .call(
            "signup",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("Sign-ups are closed on this server"),
        "{body}"
    );
    assert!(closed
        .db
        .store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .is_none());
    // The page says so before anyone types, and offers no form to fill in.
    let page = closed.get("/signup").await.text().await.unwrap();
    assert!(
        page.contains("Sign-ups are closed on this server"),
        "{page}"
    );
    assert!(!page.contains(r#"id="signup-email""#), "{page}");
    assert!(page.contains(r#"href="/login""#), "{page}");
    let open_page = app.get("/signup").await.text().await.unwrap();
    assert!(open_page.contains(r#"id="signup-email""#));
    assert!(!open_page.contains("Sign-ups are closed"));
}

async fn open_event_streams_are_budgeted_per_account(db: TestDb) {
    let app = TestApp::start_with(db, &[("OLLIO_STREAMS_PER_USER", "2")]).await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let project = |email: &'static str| {
        let store = app.db.store.clone();
        async move {
            let owner = store.user_by_email(email).await.unwrap().unwrap().id;
            store
                .create_project(
                    &owner,
                    &ollio_testkit::fixtures::project_name("Shop"),
                    "static",
                )
                .await
                .unwrap()
                .id
        }
    };
    let (adas, bobs) = (
        project("ada@example.com").await,
        project("bob@example.com").await,
    );
    let open = |visitor: &crate::support::app::Visitor, project: &ollio_domain::ProjectId| {
        let request = visitor
            .client
            .get(visitor.url(&format!("/api/projects/{project}/events")));
        async move { request.send().await.unwrap() }
    };
    let first = open(&ada, &adas).await;
    let second = open(&ada, &adas).await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = open(&ada, &adas).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key(header::RETRY_AFTER));
    // Another account has streams of its own.
    assert_eq!(open(&bob, &bobs).await.status(), StatusCode::OK);
}

/// 120 sign-ins at once, each checked (their addresses and accounts
/// differ). Unbounded, each check holds argon2's 19 MiB at the same time:
/// 2.4 GB. Hashing waits its turn, so the peak stays near what a few
/// hashes and the requests take (about 0.6 GB here, with the allocator's
/// per-thread caches), and does not grow with the flood.
#[tokio::test]
async fn a_flood_of_sign_ins_hashes_a_few_at_a_time() {
    let app = TestApp::start_with(
        ollio_testkit::db::sqlite().await,
        &[("OLLIO_TRUSTED_PROXIES", "1")],
    )
    .await;
    let before = peak_kb(true);
    let sign_ins = (0..120).map(|index| {
        let app = &app;
        async move {
            let address = format!("192.0.2.{index}");
            let email = format!("nobody{index}@example.com");
            login_from(app, &address, &email, "guess guess")
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(sign_ins).await;
    let grown = peak_kb(false).saturating_sub(before);
    println!("120 parallel sign-ins: peak memory +{grown} KB");
    assert!(statuses
        .iter()
        .all(|status| *status == StatusCode::UNPROCESSABLE_ENTITY));
    assert!(grown < 1200 * 1024, "peak memory grew by {grown} KB");
}

async fn cross_site_posts_are_refused(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", "http://3000-sandbox.localhost:49983"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let response = ada
            .post(
                "delete_account",
                &[("confirm_email", "ada@example.com")],
                &[(name, value)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    assert!(
        ada.call("current_user", &[])
            .await
            .1
            .contains("ada@example.com"),
        "the account survived"
    );
    let same = ada
        .client
        .post(ada.url("/api/get_usage"))
        .header("origin", format!("http://{}", app.addr))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::OK);
}

async fn server_functions_are_rate_limited_per_user(db: TestDb) {
    let app = TestApp::start_with(db, &[("OLLIO_RATE_LIMIT", "5")]).await;
    let ada = app.user("ada@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(ada.call("get_usage", &[]).await.0);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let limited = ada
        .client
        .post(ada.url("/api/get_usage"))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key(header::RETRY_AFTER));
    // Another user has a budget of their own.
    let bob = app.user("bob@example.com").await;
    assert_eq!(bob.call("get_usage", &[]).await.0, StatusCode::OK);
}

async fn credits_are_reported(db: TestDb) {
    let app = TestApp::start_with(db, &[("OLLIO_FREE_CREDITS", "3")]).await;
    let ada = app.user("ada@example.com").await;
    let (status, body) = ada.call("get_usage", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let usage: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(usage["limit"], 3);
    assert_eq!(usage["used"], 0);
    assert_eq!(usage["remaining"], 3);
    let resets_on = usage["resets_on"].as_str().unwrap();
    assert!(resets_on.starts_with("1 "), "{resets_on}");

    let (_, _, html) = ada.page("/settings").await;
    assert!(html.contains("You have used 0 of 3 credits this month."));
    // Out of credits, the page says so and when they come back.
    ada_spends_everything(&app, "ada@example.com", 3).await;
    let (_, _, html) = ada.page("/settings").await;
    assert!(
        html.contains("You are out of credits. They reset on "),
        "settings"
    );
    assert!(html.contains("0 credits"), "header");
    assert!(html.contains("3 credits"), "the header shows the credits");
}

/// ... with the email typed (never the password), for the form to show again.
async fn a_plain_form_post_returns_to_its_page_with_the_error(db: TestDb) {
    let app = TestApp::start(db).await;
    let visitor = app.visitor();
    let response = visitor
        .post(
            "login",
            &[
                ("email", "nobody@example.com"),
                ("password", "wrong password"),
            ],
            &[
                ("accept", "text/html"),
                ("referer", &visitor.url("/login?next=%2Fprojects")),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        location.starts_with("/login?next=%2Fprojects&") && location.contains("__err="),
        "{location}"
    );
    // Neither the email nor the password is in the address (request logs
    // and the browser's history keep it): the email rides in a cookie for
    // this page alone, for a minute.
    assert!(
        !location.contains("nobody") && !location.contains("wrong"),
        "{location}"
    );
    let typed = named_cookie(&response, "ollio_typed=");
    assert!(
        typed.starts_with("ollio_typed=email=nobody%40example.com;"),
        "{typed}"
    );
    for attribute in ["Path=/login", "Max-Age=60", "HttpOnly", "SameSite=Lax"] {
        assert!(typed.contains(attribute), "{typed}");
    }
    let (status, _, html) = visitor.page(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("don&#x27;t match an account") || html.contains("don't match an account")
    );
    assert!(html.contains(r#"value="nobody@example.com""#), "{html}");
    assert!(html.contains(r#"name="next" value="/projects""#), "{html}");
}

/// The settings page's password form is a plain post: a changed password
/// comes back to the page, which says so.
async fn a_changed_password_comes_back_to_settings_saying_so(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user("ada@example.com").await;
    let (_, _, before) = ada.page("/settings").await;
    assert!(!before.contains("Your password was changed."));
    let response = ada
        .post(
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new password"),
            ],
            &[("accept", "text/html"), ("referer", &ada.url("/settings"))],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        response.headers()[header::LOCATION],
        ollio::api::account::PASSWORD_CHANGED
    );
    let (status, _, html) = ada.page(ollio::api::account::PASSWORD_CHANGED).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Your password was changed."), "{html}");
}

/// A session lasts `IDLE_DAYS` from the last visit: the first signed-in
/// request of a day saves it again, with a fresh expiry and cookie; later
/// requests that day write nothing.
async fn a_session_lives_from_its_last_visit_not_its_sign_in(db: TestDb) {
    use tower_sessions::{cookie::time, session::Id, SessionStore};
    let app = TestApp::start(db).await;
    let visitor = app.visitor();
    let signup = visitor
        .post(
            "signup",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
            &[],
        )
        .await;
    let cookie = session_cookie(&signup);
    let pair = cookie.split(';').next().unwrap().to_owned();
    let id: Id = pair.split_once('=').unwrap().1.parse().unwrap();
    let sessions = &app.state.sessions;

    // As if signed in 29 days ago and last seen three days ago.
    let mut record = sessions.load(&id).await.unwrap().unwrap();
    let today = ollio_store::now_ms() / 86_400_000;
    assert_eq!(record.data["seen_day"], today);
    record.data.insert("seen_day".into(), (today - 3).into());
    record.expiry_date = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    sessions.save(&record).await.unwrap();

    let call = || {
        reqwest::Client::new()
            .post(visitor.url("/api/current_user"))
            .header(header::COOKIE, &pair)
            .send()
    };
    let visit = call().await.unwrap();
    assert!(visit.status().is_success());
    let renewed = session_cookie(&visit);
    assert!(renewed.starts_with(&pair), "the same session: {renewed}");
    assert!(renewed.contains("Max-Age=2592000"), "{renewed}");
    let record = sessions.load(&id).await.unwrap().unwrap();
    assert!(
        record.expiry_date > time::OffsetDateTime::now_utc() + time::Duration::days(29),
        "{:?}",
        record.expiry_date
    );
    assert_eq!(record.data["seen_day"], today);

    let again = call().await.unwrap();
    assert!(again.status().is_success());
    assert!(
        again.headers().get(header::SET_COOKIE).is_none(),
        "a second visit the same day saved the session again"
    );
}
