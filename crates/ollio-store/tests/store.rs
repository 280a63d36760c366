//! The store's cases, each run on SQLite and on PostgreSQL.

use ollio_domain::calendar;
use ollio_store::{
    now_ms, Backend, EnqueueRefusal, JobState, MessageStatus, NewFile, NewVersion, Role, Store,
    StoreError,
};
use ollio_testkit::{
    fixtures::{file, message as new_message, project as new_project, project_name as name, user},
    on_both_databases, TestDb,
};

on_both_databases!(
    migrations_are_idempotent,
    emails_are_unique,
    projects_belong_to_their_owner,
    projects_list_most_recent_first,
    messages_keep_their_order_and_owner,
    a_project_s_tokens_add_up_its_turns,
    events_are_numbered_per_project_without_gaps,
    concurrent_appends_never_share_a_number,
    versions_count_up_and_keep_their_files,
    deleting_an_account_deletes_what_it_owns,
    text_round_trips_exactly,
    twenty_concurrent_spends_of_the_last_credit_give_one,
    credits_reset_each_month,
    login_failures_are_counted_per_key,
    parallel_sign_in_attempts_are_counted_one_at_a_time,
    a_turn_is_enqueued_all_or_nothing,
    a_job_has_one_worker_and_an_expired_lease_frees_it,
    retries_end_in_a_dead_job,
    only_the_owner_can_stop_a_turn,
    concurrent_workers_take_each_job_once,
    passage_vectors_are_the_owners_and_go_with_the_account,
);

/// How turns end: one transaction each, and the reconciler.
#[path = "store/turn_ends.rs"]
mod turn_ends;

/// Files the user saves in the editor: versions that fold.
#[path = "store/edits.rs"]
mod edits;

/// Training runs of ML model projects: queued with a turn or by Retrain.
#[path = "store/training_jobs.rs"]
mod training_jobs;

/// A SQLite database is readable by the server's user alone.
#[tokio::test]
async fn a_sqlite_file_is_the_server_s_alone() {
    use std::os::unix::fs::PermissionsExt;
    let db = ollio_testkit::db::sqlite().await;
    let ollio_store::DatabaseUrl::Sqlite {
        file: Some(file), ..
    } = &db.url
    else {
        panic!("a SQLite file");
    };
    db.store.ping().await.unwrap();
    for path in [file.clone(), file.with_extension("db-wal")] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{path:?}");
    }
}

async fn migrations_are_idempotent(db: TestDb) {
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
    let expected = match db.url.backend_name() {
        "sqlite" => Backend::Sqlite,
        _ => Backend::Postgres,
    };
    assert_eq!(db.store.backend(), expected);
    assert!(Store::known_migrations() >= 1);
}

async fn emails_are_unique(db: TestDb) {
    let store = &db.store;
    let created = store.create_user("ada@example.com", "h").await.unwrap();
    let again = store.create_user("ada@example.com", "h2").await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let found = store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, created);
    assert_eq!(store.user(&created.id).await.unwrap(), Some(created));
    assert_eq!(
        store.user_by_email("nobody@example.com").await.unwrap(),
        None
    );
}

async fn projects_belong_to_their_owner(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let project = new_project(store, &ada, "Login form").await;
    assert_eq!(project.owner, ada);
    assert_eq!(project.template, "static");

    // Bob sees nothing and changes nothing.
    assert_eq!(store.project(&bob, &project.id).await.unwrap(), None);
    assert!(store.projects(&bob).await.unwrap().is_empty());
    assert_eq!(
        store
            .rename_project(&bob, &project.id, &name("Mine now"))
            .await
            .unwrap(),
        None
    );
    assert!(!store.delete_project(&bob, &project.id).await.unwrap());
    assert_eq!(
        store
            .project(&ada, &project.id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "Login form"
    );

    // Ada can rename and delete.
    let renamed = store
        .rename_project(&ada, &project.id, &name("Dark login"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "Dark login");
    assert!(renamed.updated_at >= project.updated_at);
    assert!(store.delete_project(&ada, &project.id).await.unwrap());
    assert_eq!(store.project(&ada, &project.id).await.unwrap(), None);
    assert!(!store.delete_project(&ada, &project.id).await.unwrap());
}

async fn projects_list_most_recent_first(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let first = new_project(store, &ada, "First").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second = new_project(store, &ada, "Second").await;
    let names: Vec<_> = store
        .projects(&ada)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Second", "First"]);

    // Activity on the older project moves it to the top.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    new_message(
        store,
        &first.id,
        Role::User,
        "make it blue",
        MessageStatus::Done,
    )
    .await;
    let ids: Vec<_> = store
        .projects(&ada)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, [first.id, second.id]);
}

async fn messages_keep_their_order_and_owner(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let project = new_project(store, &ada, "Timer").await;
    let asked = new_message(
        store,
        &project.id,
        Role::User,
        "a timer",
        MessageStatus::Done,
    )
    .await;
    let answer = new_message(
        store,
        &project.id,
        Role::Assistant,
        "",
        MessageStatus::Pending,
    )
    .await;
    assert!(store
        .set_message_status(
            &answer.id,
            MessageStatus::Failed,
            Some("the model timed out")
        )
        .await
        .unwrap());

    let messages = store.messages(&ada, &project.id).await.unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0], asked);
    assert_eq!(messages[1].role, Role::Assistant);
    assert_eq!(messages[1].status, MessageStatus::Failed);
    assert_eq!(messages[1].error.as_deref(), Some("the model timed out"));
    assert!(store.messages(&bob, &project.id).await.unwrap().is_empty());
}

/// What `/projects` shows: every turn's tokens in and out, per project, of
/// the owner's projects only.
async fn a_project_s_tokens_add_up_its_turns(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let busy = new_project(store, &ada, "Busy").await;
    // A project without turns is left out.
    let _idle = new_project(store, &ada, "Idle").await;
    let bobs = new_project(store, &bob, "Bob's").await;
    for (project, tokens_in, tokens_out) in [
        (&busy, 9_000, 400),
        (&busy, 3_000_000_000, 1_000),
        (&bobs, 5, 5),
    ] {
        let answer = new_message(
            store,
            &project.id,
            Role::Assistant,
            "",
            MessageStatus::Running,
        )
        .await;
        let end = ollio_store::MessageEnd {
            content: "done",
            status: MessageStatus::Done,
            error: None,
            model: Some("openai:m"),
            model_role: Some("build"),
            tokens_in,
            tokens_out,
        };
        assert!(store.finish_message(&answer.id, &end).await.unwrap());
    }
    let mut totals = store.project_tokens(&ada).await.unwrap();
    totals.sort();
    assert_eq!(totals, [(busy.id.clone(), 3_000_010_400)]);
    assert_eq!(
        store.project_tokens(&bob).await.unwrap(),
        [(bobs.id.clone(), 10)]
    );
}

async fn events_are_numbered_per_project_without_gaps(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let one = new_project(store, &ada, "One").await;
    let two = new_project(store, &ada, "Two").await;
    let message = new_message(store, &one.id, Role::Assistant, "", MessageStatus::Running).await;
    let other = new_message(store, &two.id, Role::Assistant, "", MessageStatus::Running).await;

    for step in 1..=5 {
        let event = store
            .append_event(&one.id, &message.id, "step", &format!("{{\"n\":{step}}}"))
            .await
            .unwrap();
        assert_eq!(event.seq, step);
    }
    assert_eq!(
        store
            .append_event(&two.id, &other.id, "step", "{}")
            .await
            .unwrap()
            .seq,
        1
    );

    let after_two = store.events_after(&ada, &one.id, 2, 100).await.unwrap();
    assert_eq!(
        after_two.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [3, 4, 5]
    );
    assert_eq!(after_two[0].payload, "{\"n\":3}");
    assert_eq!(after_two[0].message, message.id);
    let limited = store.events_after(&ada, &one.id, 0, 2).await.unwrap();
    assert_eq!(limited.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert!(store
        .events_after(&bob, &one.id, 0, 100)
        .await
        .unwrap()
        .is_empty());
}

async fn concurrent_appends_never_share_a_number(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let project = new_project(store, &ada, "Busy").await;
    let message = new_message(
        store,
        &project.id,
        Role::Assistant,
        "",
        MessageStatus::Running,
    )
    .await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (store, project, message) = (store.clone(), project.id.clone(), message.id.clone());
            tokio::spawn(async move {
                store
                    .append_event(&project, &message, "output", "{}")
                    .await
                    .unwrap()
                    .seq
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
}

async fn versions_count_up_and_keep_their_files(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let project = new_project(store, &ada, "Site").await;
    let message = new_message(
        store,
        &project.id,
        Role::Assistant,
        "done",
        MessageStatus::Done,
    )
    .await;
    let new = |title: &str, files: Vec<NewFile>| NewVersion {
        project: project.id.clone(),
        message: Some(message.id.clone()),
        title: title.into(),
        template: "static".into(),
        sandbox_id: Some("sbx1".into()),
        preview_url: Some("http://3000-sbx1.localhost:49983".into()),
        files,
        left_out: Vec::new(),
        check: None,
    };
    let v1 = store
        .create_version(new(
            "First page",
            vec![file("style.css", "h1{}"), file("index.html", "<h1>Hi</h1>")],
        ))
        .await
        .unwrap();
    let v2 = store
        .create_version(new(
            "Bigger heading",
            vec![file("index.html", "<h1>Hello</h1>")],
        ))
        .await
        .unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));

    let listed = store.versions(&ada, &project.id).await.unwrap();
    assert_eq!(listed.iter().map(|f| f.version).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(listed[1], v1);

    let files = store.version_files(&ada, &v1.id).await.unwrap();
    assert_eq!(
        files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        ["index.html", "style.css"]
    );
    assert_eq!(files[0].size, 11);
    assert!(store.versions(&bob, &project.id).await.unwrap().is_empty());
    assert!(store.version_files(&bob, &v1.id).await.unwrap().is_empty());

    let duplicate = store
        .create_version(new("Twice", vec![file("a.html", "1"), file("a.html", "2")]))
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(_))),
        "{duplicate:?}"
    );
    // The failed version left nothing behind, not even its number.
    assert_eq!(store.versions(&ada, &project.id).await.unwrap().len(), 2);
    assert_eq!(
        store
            .create_version(new("Third", vec![]))
            .await
            .unwrap()
            .version,
        3
    );
}

async fn deleting_an_account_deletes_what_it_owns(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let project = new_project(store, &ada, "Gone soon").await;
    let kept = new_project(store, &bob, "Stays").await;
    let message = new_message(store, &project.id, Role::User, "hi", MessageStatus::Done).await;
    store
        .append_event(&project.id, &message.id, "step", "{}")
        .await
        .unwrap();
    let version = store
        .create_version(NewVersion {
            project: project.id.clone(),
            message: Some(message.id.clone()),
            title: "v1".into(),
            template: "static".into(),
            sandbox_id: None,
            preview_url: None,
            files: vec![file("index.html", "x")],
            left_out: Vec::new(),
            check: None,
        })
        .await
        .unwrap();

    assert!(store.delete_user(&ada).await.unwrap());
    assert_eq!(store.user(&ada).await.unwrap(), None);
    assert!(store.projects(&ada).await.unwrap().is_empty());
    assert!(store.messages(&ada, &project.id).await.unwrap().is_empty());
    assert!(store
        .events_after(&ada, &project.id, 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .version_files(&ada, &version.id)
        .await
        .unwrap()
        .is_empty());
    // A new account reusing the email starts empty; the other user is untouched.
    let again = user(store, "ada@example.com").await;
    assert!(store.projects(&again).await.unwrap().is_empty());
    assert_eq!(store.projects(&bob).await.unwrap(), vec![kept]);
}

async fn text_round_trips_exactly(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let project = new_project(store, &ada, "Ünïcødé ✨ 日本").await;
    let tricky = "quote ' double \" backslash \\ tab\t newline\n emoji 🦀 nul-free".repeat(3);
    let big = "x".repeat(1 << 20);
    let message = store
        .create_message(&project.id, Role::User, &tricky, MessageStatus::Done)
        .await
        .unwrap();
    let version = store
        .create_version(NewVersion {
            project: project.id.clone(),
            message: Some(message.id),
            title: "t".into(),
            template: "static".into(),
            sandbox_id: None,
            preview_url: None,
            files: vec![file("big.txt", &big), file("dir/ä.md", &tricky)],
            left_out: Vec::new(),
            check: None,
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .project(&ada, &project.id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "Ünïcødé ✨ 日本"
    );
    assert_eq!(
        store.messages(&ada, &project.id).await.unwrap()[0].content,
        tricky
    );
    let files = store.version_files(&ada, &version.id).await.unwrap();
    assert_eq!(files[0].content.len(), 1 << 20);
    assert_eq!(files[1].content, tricky);
    assert_eq!(files[1].size, i64::try_from(tricky.len()).unwrap());
}

async fn twenty_concurrent_spends_of_the_last_credit_give_one(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let now = now_ms();
    // Three credits, two spent: one left.
    for _ in 0..2 {
        store.consume_credit(&ada, 3, now).await.unwrap().unwrap();
    }
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (store, ada) = (store.clone(), ada.clone());
            tokio::spawn(async move { store.consume_credit(&ada, 3, now).await.unwrap().is_ok() })
        })
        .collect();
    let mut successes = 0;
    for task in tasks {
        successes += usize::from(task.await.unwrap());
    }
    assert_eq!(successes, 1);
    let usage = store.usage(&ada, 3, now).await.unwrap();
    assert_eq!((usage.used, usage.remaining()), (3, 0));
}

async fn credits_reset_each_month(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let mid_november = 1_795_336_800_000; // 2026-11-22
    let first = store
        .consume_credit(&ada, 2, mid_november)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.used, 1);
    assert_eq!(calendar::format_date(first.period_start), "1 November 2026");
    assert_eq!(calendar::format_date(first.resets_at()), "1 December 2026");
    store
        .consume_credit(&ada, 2, mid_november)
        .await
        .unwrap()
        .unwrap();
    let refused = store
        .consume_credit(&ada, 2, mid_november)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.remaining(), 0);

    let december = calendar::next_month_start(mid_november) + 1;
    let fresh = store.usage(&ada, 2, december).await.unwrap();
    assert_eq!(
        (
            fresh.used,
            calendar::format_date(fresh.period_start).as_str()
        ),
        (0, "1 December 2026")
    );
}

async fn login_failures_are_counted_per_key(db: TestDb) {
    let store = &db.store;
    let begin = |keys: &'static [&'static str], at: i64| async move {
        store.begin_login_attempt(keys, at, 0, 3).await.unwrap()
    };
    begin(&["account:a", "ip:1"], 1_000).await.unwrap();
    begin(&["account:a", "ip:2"], 2_000).await.unwrap();
    assert_eq!(
        store.login_failures_since("account:a", 0).await.unwrap(),
        [1_000, 2_000]
    );
    assert_eq!(
        store
            .login_failures_since("account:a", 1_500)
            .await
            .unwrap(),
        [2_000]
    );
    assert_eq!(
        store.login_failures_since("ip:1", 0).await.unwrap(),
        [1_000]
    );
    // A third fills the account's count; a fourth is refused and recorded
    // nowhere, with the times it must wait on.
    let third = begin(&["account:a", "ip:3"], 3_000).await.unwrap();
    let refused = begin(&["account:a", "ip:4"], 4_000).await.unwrap_err();
    assert_eq!(refused, [vec![1_000, 2_000, 3_000]]);
    assert!(store
        .login_failures_since("ip:4", 0)
        .await
        .unwrap()
        .is_empty());
    // A success takes its own attempt back, under every key.
    store.forget_login_attempt(&third).await.unwrap();
    assert!(store
        .login_failures_since("ip:3", 0)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .login_failures_since("account:a", 0)
            .await
            .unwrap()
            .len(),
        2
    );

    store.clear_login_failures("account:a").await.unwrap();
    assert!(store
        .login_failures_since("account:a", 0)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.prune_login_failures(1_500).await.unwrap(), 1);
    assert!(store
        .login_failures_since("ip:1", 0)
        .await
        .unwrap()
        .is_empty());
}

/// Fifty guesses at once at one account: five are counted, the rest refused.
async fn parallel_sign_in_attempts_are_counted_one_at_a_time(db: TestDb) {
    let store = &db.store;
    let tasks: Vec<_> = (0..50)
        .map(|index| {
            let store = store.clone();
            tokio::spawn(async move {
                let address = format!("ip:{index}");
                store
                    .begin_login_attempt(&["account:a", &address], now_ms(), 0, 5)
                    .await
                    .unwrap()
                    .is_ok()
            })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        allowed += usize::from(task.await.unwrap());
    }
    assert_eq!(allowed, 5);
    assert_eq!(
        store
            .login_failures_since("account:a", 0)
            .await
            .unwrap()
            .len(),
        5
    );
}

async fn a_turn_is_enqueued_all_or_nothing(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let project = new_project(store, &ada, "Shop").await;
    assert_eq!(
        store
            .enqueue_turn(&bob, &project.id, "hi", 5, 3)
            .await
            .unwrap()
            .unwrap_err(),
        EnqueueRefusal::NoProject
    );
    let accepted = store
        .enqueue_turn(&ada, &project.id, "a shop", 2, 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(accepted.usage.used, 1);
    assert_eq!(accepted.job.state, JobState::Queued);
    assert_eq!(accepted.job.turn().unwrap(), accepted.turn);
    let messages = store.messages(&ada, &project.id).await.unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(
        (messages[0].role, messages[0].content.as_str()),
        (Role::User, "a shop")
    );
    assert_eq!(
        (messages[1].role, messages[1].status),
        (Role::Assistant, MessageStatus::Pending)
    );
    // One turn at a time per project.
    assert_eq!(
        store
            .enqueue_turn(&ada, &project.id, "more", 2, 3)
            .await
            .unwrap()
            .unwrap_err(),
        EnqueueRefusal::Busy
    );
    store
        .set_message_status(&accepted.turn.assistant_message, MessageStatus::Done, None)
        .await
        .unwrap();
    store
        .enqueue_turn(&ada, &project.id, "more", 2, 3)
        .await
        .unwrap()
        .unwrap();
    store
        .set_message_status(&messages[1].id, MessageStatus::Done, None)
        .await
        .unwrap();
    let all = store.messages(&ada, &project.id).await.unwrap();
    for message in &all {
        if message.status == MessageStatus::Pending {
            store
                .set_message_status(&message.id, MessageStatus::Done, None)
                .await
                .unwrap();
        }
    }
    // Out of credits: refused, and nothing recorded.
    let refused = store
        .enqueue_turn(&ada, &project.id, "again", 2, 3)
        .await
        .unwrap();
    assert!(matches!(refused, Err(EnqueueRefusal::OutOfCredits(usage)) if usage.remaining() == 0));
    assert_eq!(store.messages(&ada, &project.id).await.unwrap().len(), 4);
}

async fn a_job_has_one_worker_and_an_expired_lease_frees_it(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let project = new_project(store, &ada, "Shop").await;
    let queued = store
        .enqueue_turn(&ada, &project.id, "x", 5, 3)
        .await
        .unwrap()
        .unwrap();
    let now = now_ms();
    let taken = store.claim_job("w1", 1_000, now).await.unwrap().unwrap();
    assert_eq!(
        (taken.id.as_str(), taken.attempts),
        (queued.job.id.as_str(), 1)
    );
    assert!(store.claim_job("w2", 1_000, now).await.unwrap().is_none());
    assert!(store.heartbeat_job(&taken.id, "w1", 1_000).await.unwrap());
    assert!(!store.heartbeat_job(&taken.id, "w2", 1_000).await.unwrap());
    // Nothing has expired yet.
    assert!(store.reclaim_expired_jobs(now).await.unwrap().is_empty());
    // w1 dies; its lease runs out and the job is taken again.
    let reclaimed = store.reclaim_expired_jobs(now_ms() + 5_000).await.unwrap();
    assert_eq!(reclaimed.len(), 1);
    assert_eq!(reclaimed[0].state, JobState::Queued);
    let again = store
        .claim_job("w2", 1_000, now_ms() + 5_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempts, 2);
    assert!(!store
        .end_job(&again.id, "w1", JobState::Done, None)
        .await
        .unwrap());
    assert!(!store.heartbeat_job(&again.id, "w1", 1_000).await.unwrap());
    assert!(store
        .end_job(&again.id, "w2", JobState::Done, None)
        .await
        .unwrap());
    assert_eq!(
        store.job(&again.id).await.unwrap().unwrap().state,
        JobState::Done
    );
}

async fn retries_end_in_a_dead_job(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let project = new_project(store, &ada, "Shop").await;
    store
        .enqueue_turn(&ada, &project.id, "x", 5, 2)
        .await
        .unwrap()
        .unwrap();
    let now = now_ms();
    let first = store.claim_job("w", 1_000, now).await.unwrap().unwrap();
    let state = store
        .retry_job(&first.id, "w", now + 50, "429")
        .await
        .unwrap();
    assert_eq!(state, Some(JobState::Queued));
    // Not due yet.
    assert!(store.claim_job("w", 1_000, now).await.unwrap().is_none());
    let second = store
        .claim_job("w", 1_000, now + 50)
        .await
        .unwrap()
        .unwrap();
    let state = store
        .retry_job(&second.id, "w", now + 100, "503")
        .await
        .unwrap();
    assert_eq!(state, Some(JobState::Dead));
    let dead = store.job(&second.id).await.unwrap().unwrap();
    assert_eq!(dead.last_error.as_deref(), Some("503"));
    assert!(store
        .claim_job("w", 1_000, now + 10_000)
        .await
        .unwrap()
        .is_none());
}

async fn only_the_owner_can_stop_a_turn(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let project = new_project(store, &ada, "Shop").await;
    let queued = store
        .enqueue_turn(&ada, &project.id, "x", 5, 3)
        .await
        .unwrap()
        .unwrap();
    let taken = store
        .claim_job("w", 60_000, now_ms())
        .await
        .unwrap()
        .unwrap();
    let message = &queued.turn.assistant_message;
    assert!(store.cancel_turn(&bob, message).await.unwrap().is_none());
    assert!(store.heartbeat_job(&taken.id, "w", 60_000).await.unwrap());
    let cancelled = store.cancel_turn(&ada, message).await.unwrap().unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    // The worker learns at its next heartbeat.
    assert!(!store.heartbeat_job(&taken.id, "w", 60_000).await.unwrap());
    assert!(store.cancel_turn(&ada, message).await.unwrap().is_none());
}

async fn concurrent_workers_take_each_job_once(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let mut expected = Vec::new();
    for index in 0..12 {
        let project = new_project(store, &ada, &format!("App {index}")).await;
        let queued = store
            .enqueue_turn(&ada, &project.id, "x", 50, 3)
            .await
            .unwrap()
            .unwrap();
        expected.push(queued.job.id);
    }
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut taken = Vec::new();
                while let Some(job) = store
                    .claim_job(&format!("w{worker}"), 60_000, now_ms())
                    .await
                    .unwrap()
                {
                    taken.push(job.id);
                }
                taken
            })
        })
        .collect();
    let mut taken = Vec::new();
    for worker in workers {
        taken.extend(worker.await.unwrap());
    }
    taken.sort();
    expected.sort();
    assert_eq!(taken, expected);
}

/// Files attached to messages: staged, then sent with one.
#[path = "store/attachments.rs"]
mod attachments;

async fn passage_vectors_are_the_owners_and_go_with_the_account(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let model = "openai:text-embedding-3-small";
    // More hashes than one query takes.
    let hashes: Vec<String> = (0..450).map(|n| format!("{n:064x}")).collect();
    let kept: Vec<(String, Vec<f32>)> = hashes
        .iter()
        .step_by(2)
        .enumerate()
        .map(|(n, hash)| (hash.clone(), vec![n as f32, -0.5, 1e-3]))
        .collect();
    store
        .keep_passage_vectors(&ada, model, &kept)
        .await
        .unwrap();
    // Keeping one again changes nothing.
    store
        .keep_passage_vectors(&ada, model, &[(hashes[0].clone(), vec![9.0])])
        .await
        .unwrap();

    let found = store.passage_vectors(&ada, model, &hashes).await.unwrap();
    assert_eq!(found.len(), 225);
    assert_eq!(found[&hashes[0]], vec![0.0, -0.5, 1e-3]);
    assert_eq!(found[&hashes[448]], vec![224.0, -0.5, 1e-3]);
    assert!(!found.contains_key(&hashes[1]));
    // Another model's, another user's: none.
    assert!(store
        .passage_vectors(&ada, "ollama:nomic-embed-text", &hashes)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .passage_vectors(&bob, model, &hashes)
        .await
        .unwrap()
        .is_empty());

    assert!(store.delete_user(&ada).await.unwrap());
    assert_eq!(db.count("SELECT COUNT(*) FROM passage_vectors").await, 0);
}
