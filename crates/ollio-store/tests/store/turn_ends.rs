use ollio_domain::{ProjectId, UserId};
use ollio_store::{
    now_ms, EnqueuedTurn, JobState, Message, MessageEnd, MessageStatus, NewVersion, Role, Store,
    INTERRUPTED, LOST,
};
use ollio_testkit::{
    fixtures::{file, project as new_project, user},
    on_both_databases, TestDb,
};

on_both_databases!(
    a_failed_turn_ends_once_and_refunds_once,
    stop_ends_the_message_at_once_without_a_worker,
    a_turn_is_completed_once_and_never_after_stop,
    the_reconciler_finishes_what_a_crash_left,
);

async fn turn(store: &Store, owner: &UserId, name: &str) -> EnqueuedTurn {
    let project = new_project(store, owner, name).await;
    store
        .enqueue_turn(owner, &project.id, "build it", 5, 2)
        .await
        .unwrap()
        .unwrap()
}

async fn answer(store: &Store, owner: &UserId, turn: &EnqueuedTurn) -> Message {
    store
        .messages(owner, &turn.turn.project)
        .await
        .unwrap()
        .into_iter()
        .find(|message| message.id == turn.turn.assistant_message)
        .unwrap()
}

async fn kinds(store: &Store, owner: &UserId, project: &ProjectId) -> Vec<String> {
    store
        .events_after(owner, project, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.kind)
        .collect()
}

async fn used(store: &Store, owner: &UserId) -> i64 {
    store.usage(owner, 5, now_ms()).await.unwrap().used
}

fn done<'a>(summary: &'a str) -> MessageEnd<'a> {
    MessageEnd {
        content: summary,
        status: MessageStatus::Done,
        error: None,
        model: Some("openai:x"),
        model_role: None,
        tokens_in: 1,
        tokens_out: 1,
    }
}

fn version(turn: &EnqueuedTurn) -> NewVersion {
    NewVersion {
        project: turn.turn.project.clone(),
        message: Some(turn.turn.assistant_message.clone()),
        title: "App".into(),
        template: "static".into(),
        sandbox_id: None,
        preview_url: None,
        files: vec![file("index.html", "<h1>Hi</h1>")],
        left_out: Vec::new(),
        check: None,
    }
}

async fn a_failed_turn_ends_once_and_refunds_once(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let queued = turn(store, &ada, "Shop").await;
    assert_eq!(used(store, &ada).await, 1);
    let job = store
        .claim_job("w", 60_000, now_ms())
        .await
        .unwrap()
        .unwrap();

    // Only the worker holding the job ends it.
    assert!(!store.fail_turn(&job, "other", "boom", true).await.unwrap());
    assert_eq!(
        answer(store, &ada, &queued).await.status,
        MessageStatus::Pending
    );
    assert!(store
        .fail_turn(&job, "w", "The model failed: boom.", true)
        .await
        .unwrap());
    let failed = answer(store, &ada, &queued).await;
    assert_eq!(
        (failed.status, failed.error.as_deref()),
        (MessageStatus::Failed, Some("The model failed: boom."))
    );
    assert_eq!(used(store, &ada).await, 0, "the credit came back");
    let dead = store.job(&job.id).await.unwrap().unwrap();
    assert_eq!((dead.state, dead.lease_owner), (JobState::Dead, None));

    // Again, and the reconciler after it: nothing more happens.
    assert!(!store.fail_turn(&job, "w", "again", true).await.unwrap());
    assert!(store.reconcile_turns().await.unwrap().is_empty());
    assert_eq!(used(store, &ada).await, 0);
    assert_eq!(kinds(store, &ada, &queued.turn.project).await, ["failed"]);
    // A failed message is not brought back by a late status change.
    assert!(!store
        .set_message_status(&queued.turn.assistant_message, MessageStatus::Pending, None)
        .await
        .unwrap());
    assert_eq!(
        answer(store, &ada, &queued).await.status,
        MessageStatus::Failed
    );
}

async fn stop_ends_the_message_at_once_without_a_worker(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let queued = turn(store, &ada, "Shop").await;
    // A worker takes the job, then its process dies: nobody heartbeats.
    let job = store
        .claim_job("dead", 60_000, now_ms())
        .await
        .unwrap()
        .unwrap();
    let message = &queued.turn.assistant_message;
    assert!(store.cancel_turn(&bob, message).await.unwrap().is_none());
    assert_eq!(
        answer(store, &ada, &queued).await.status,
        MessageStatus::Pending
    );

    let cancelled = store.cancel_turn(&ada, message).await.unwrap().unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(
        answer(store, &ada, &queued).await.status,
        MessageStatus::Cancelled
    );
    assert_eq!(
        kinds(store, &ada, &queued.turn.project).await,
        ["cancelled"]
    );
    assert_eq!(used(store, &ada).await, 1, "a stopped turn is not refunded");
    assert!(!store.heartbeat_job(&job.id, "dead", 60_000).await.unwrap());
    assert!(store.cancel_turn(&ada, message).await.unwrap().is_none());
    // The project takes a new message at once.
    store
        .enqueue_turn(&ada, &queued.turn.project, "again", 5, 2)
        .await
        .unwrap()
        .unwrap();
}

async fn a_turn_is_completed_once_and_never_after_stop(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let queued = turn(store, &ada, "Shop").await;
    let message = &queued.turn.assistant_message;
    let saved = store
        .complete_turn(message, &version(&queued), &done("Built it."), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.version, 1);
    let answered = answer(store, &ada, &queued).await;
    assert_eq!(
        (answered.status, answered.content.as_str()),
        (MessageStatus::Done, "Built it.")
    );
    // A second try of the same turn saves nothing and changes nothing.
    assert!(store
        .complete_turn(message, &version(&queued), &done("Built it twice."), None)
        .await
        .unwrap()
        .is_none());
    assert_eq!(answer(store, &ada, &queued).await.content, "Built it.");
    assert_eq!(
        store
            .versions(&ada, &queued.turn.project)
            .await
            .unwrap()
            .len(),
        1
    );
    // Nor does a failure that comes after (the last try giving up).
    let job = store
        .claim_job("w", 60_000, now_ms())
        .await
        .unwrap()
        .unwrap();
    assert!(store.fail_turn(&job, "w", "late", true).await.unwrap());
    let answered = answer(store, &ada, &queued).await;
    assert_eq!(
        (answered.status, answered.error),
        (MessageStatus::Done, None)
    );
    assert_eq!(
        used(store, &ada).await,
        1,
        "no refund for a turn that was done"
    );

    // Stopped before its end: the end saves no version.
    let other = turn(store, &ada, "Blog").await;
    store
        .cancel_turn(&ada, &other.turn.assistant_message)
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .complete_turn(
            &other.turn.assistant_message,
            &version(&other),
            &done("Too late."),
            None
        )
        .await
        .unwrap()
        .is_none());
    assert!(store
        .versions(&ada, &other.turn.project)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        answer(store, &ada, &other).await.status,
        MessageStatus::Cancelled
    );
}

async fn the_reconciler_finishes_what_a_crash_left(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;

    // A job out of tries whose worker died: marked dead, the process gone
    // before its message was failed.
    let dead = turn(store, &ada, "Dead").await;
    store
        .claim_job("w", 1_000, now_ms())
        .await
        .unwrap()
        .unwrap();
    store
        .retry_job(&dead.job.id, "w", now_ms(), "503")
        .await
        .unwrap();
    store
        .claim_job("w", 1_000, now_ms())
        .await
        .unwrap()
        .unwrap();
    let reclaimed = store.reclaim_expired_jobs(now_ms() + 5_000).await.unwrap();
    assert_eq!(reclaimed[0].state, JobState::Dead);
    assert_eq!(
        answer(store, &ada, &dead).await.status,
        MessageStatus::Pending
    );

    // A project being deleted: its job cancelled, the deletion cut off.
    let cancelled = turn(store, &ada, "Cancelled").await;
    store
        .cancel_project_jobs(&ada, Some(&cancelled.turn.project))
        .await
        .unwrap();

    // A message whose job is gone.
    let lost_project = new_project(store, &ada, "Lost").await;
    let lost = store
        .create_message(
            &lost_project.id,
            Role::Assistant,
            "",
            MessageStatus::Pending,
        )
        .await
        .unwrap();

    // A turn still queued is left alone.
    let waiting = turn(store, &ada, "Waiting").await;

    assert_eq!(used(store, &ada).await, 3);
    let mut touched = store.reconcile_turns().await.unwrap();
    touched.sort();
    let mut expected = vec![
        dead.turn.project.clone(),
        cancelled.turn.project.clone(),
        lost_project.id.clone(),
    ];
    expected.sort();
    assert_eq!(touched, expected);

    let failed = answer(store, &ada, &dead).await;
    assert_eq!(
        (failed.status, failed.error.as_deref()),
        (MessageStatus::Failed, Some(INTERRUPTED))
    );
    assert_eq!(kinds(store, &ada, &dead.turn.project).await, ["failed"]);
    assert_eq!(
        answer(store, &ada, &cancelled).await.status,
        MessageStatus::Cancelled
    );
    let gone = store
        .messages(&ada, &lost_project.id)
        .await
        .unwrap()
        .into_iter()
        .find(|message| message.id == lost.id)
        .unwrap();
    assert_eq!(
        (gone.status, gone.error.as_deref()),
        (MessageStatus::Failed, Some(LOST))
    );
    assert_eq!(
        answer(store, &ada, &waiting).await.status,
        MessageStatus::Pending
    );
    assert_eq!(
        used(store, &ada).await,
        2,
        "the dead turn's credit came back, once"
    );

    // Run again (another process, the next start): nothing more.
    assert!(store.reconcile_turns().await.unwrap().is_empty());
    assert_eq!(used(store, &ada).await, 2);
    assert_eq!(kinds(store, &ada, &dead.turn.project).await, ["failed"]);
}
