use std::collections::BTreeMap;

use ollio_domain::{ProjectId, TrainingJobId, UserId};
use ollio_store::{
    now_ms, EnqueueRefusal, EnqueuedTurn, JobState, MessageEnd, MessageStatus, NewVersion,
    RetrainRefusal, Store, TrainAfter, TrainingStatus, TRAIN_JOB,
};
use ollio_testkit::{
    fixtures::{file, project as new_project, user},
    on_both_databases, TestDb,
};

on_both_databases!(
    an_ml_turn_queues_its_training_and_a_failed_run_refunds_nothing,
    retrain_needs_a_version_an_idle_project_and_its_owner,
    a_deployed_run_keeps_its_metrics_and_ends_once,
    the_reconciler_ends_a_lost_run_without_a_refund,
);

async fn used(store: &Store, owner: &UserId) -> i64 {
    store.usage(owner, 5, now_ms()).await.unwrap().used
}

/// A turn of `owner`'s new project, completed with a version and, when
/// `train`, its training run queued; the turn's job is claimed and ended.
async fn trained_turn(store: &Store, owner: &UserId, name: &str, train: bool) -> EnqueuedTurn {
    let project = new_project(store, owner, name).await;
    let queued = store
        .enqueue_turn(owner, &project.id, "a model", 5, 2)
        .await
        .unwrap()
        .unwrap();
    let job = store
        .claim_job("w", 60_000, now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.id, queued.job.id);
    let version = NewVersion {
        project: project.id.clone(),
        message: Some(queued.turn.assistant_message.clone()),
        title: "Model".into(),
        template: "ml-model".into(),
        sandbox_id: None,
        preview_url: None,
        files: vec![file("train.py", "print(1)")],
        left_out: Vec::new(),
        check: None,
    };
    let end = MessageEnd {
        content: "Wrote it.",
        status: MessageStatus::Done,
        error: None,
        model: None,
        model_role: None,
        tokens_in: 0,
        tokens_out: 0,
    };
    let after = TrainAfter {
        owner,
        user_message: &queued.turn.user_message,
        max_attempts: 2,
    };
    store
        .complete_turn(
            &queued.turn.assistant_message,
            &version,
            &end,
            train.then_some(after),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .end_job(&job.id, "w", JobState::Done, None)
        .await
        .unwrap());
    queued
}

async fn message_status(
    store: &Store,
    owner: &UserId,
    project: &ProjectId,
    id: &ollio_domain::MessageId,
) -> MessageStatus {
    store
        .messages(owner, project)
        .await
        .unwrap()
        .into_iter()
        .find(|message| &message.id == id)
        .unwrap()
        .status
}

async fn an_ml_turn_queues_its_training_and_a_failed_run_refunds_nothing(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let queued = trained_turn(store, &ada, "Iris", true).await;
    let project = &queued.turn.project;
    let runs = store.training_jobs(&ada, project).await.unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let version = &store.versions(&ada, project).await.unwrap()[0];
    assert_eq!(
        (run.status, &run.version, run.progress, run.started_at),
        (TrainingStatus::Queued, &version.id, None, None)
    );
    // The run's message holds the project like a turn does.
    assert_eq!(
        message_status(store, &ada, project, &run.message).await,
        MessageStatus::Pending
    );
    assert_eq!(
        store
            .enqueue_turn(&ada, project, "more", 5, 2)
            .await
            .unwrap()
            .unwrap_err(),
        EnqueueRefusal::Busy
    );

    let job = store
        .claim_job("w", 60_000, now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.kind, TRAIN_JOB);
    let train = job.train().unwrap();
    assert_eq!(
        (&train.training_job, &train.version, &train.user_message),
        (&run.id, &version.id, &queued.turn.user_message)
    );
    assert_eq!(job.turn().unwrap(), train.turn());
    assert!(store
        .set_training_status(&run.id, TrainingStatus::Training)
        .await
        .unwrap());
    store
        .set_training_log_tail(&run.id, "Traceback: boom")
        .await
        .unwrap();
    assert_eq!(used(store, &ada).await, 1);
    assert!(store
        .fail_turn(&job, "w", "train.py exited with 1", true)
        .await
        .unwrap());
    let failed = store.training_job(&ada, &run.id).await.unwrap().unwrap();
    assert_eq!(failed.status, TrainingStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("train.py exited with 1"));
    assert_eq!(failed.log_tail.as_deref(), Some("Traceback: boom"));
    assert!(failed.started_at.is_some() && failed.finished_at.is_some());
    assert_eq!(used(store, &ada).await, 1, "a training run spent no credit");
    assert_eq!(
        message_status(store, &ada, project, &run.message).await,
        MessageStatus::Failed
    );

    // A turn of another template queues nothing.
    let plain = trained_turn(store, &ada, "Page", false).await;
    assert!(store
        .training_jobs(&ada, &plain.turn.project)
        .await
        .unwrap()
        .is_empty());
}

async fn retrain_needs_a_version_an_idle_project_and_its_owner(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let empty = new_project(store, &ada, "Empty").await;
    assert_eq!(
        store.enqueue_retrain(&ada, &empty.id, 2).await.unwrap(),
        Err(RetrainRefusal::NoVersion)
    );
    let queued = trained_turn(store, &ada, "Iris", false).await;
    let project = &queued.turn.project;
    assert_eq!(
        store.enqueue_retrain(&bob, project, 2).await.unwrap(),
        Err(RetrainRefusal::NoProject)
    );
    let (job, first) = store
        .enqueue_retrain(&ada, project, 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (job.kind.as_str(), job.state),
        (TRAIN_JOB, JobState::Queued)
    );
    // Retrain has no user message: the run's own stands for it.
    assert_eq!(first.user_message, first.assistant_message);
    assert_eq!(
        store.enqueue_retrain(&ada, project, 2).await.unwrap(),
        Err(RetrainRefusal::Busy)
    );
    assert_eq!(used(store, &ada).await, 1, "retrain is free");
    // Another user sees none of it.
    assert!(store
        .training_job(&bob, &first.training_job)
        .await
        .unwrap()
        .is_none());
    assert!(store.training_jobs(&bob, project).await.unwrap().is_empty());
    assert!(store
        .cancel_turn(&bob, &first.assistant_message)
        .await
        .unwrap()
        .is_none());

    // Stop ends the run with its message; a second run lists first.
    store
        .cancel_turn(&ada, &first.assistant_message)
        .await
        .unwrap()
        .unwrap();
    let (_, second) = store
        .enqueue_retrain(&ada, project, 2)
        .await
        .unwrap()
        .unwrap();
    let runs = store.training_jobs(&ada, project).await.unwrap();
    let listed: Vec<(&TrainingJobId, TrainingStatus)> =
        runs.iter().map(|run| (&run.id, run.status)).collect();
    assert_eq!(
        listed,
        [
            (&second.training_job, TrainingStatus::Queued),
            (&first.training_job, TrainingStatus::Cancelled)
        ]
    );
    assert!(!store
        .set_training_status(&first.training_job, TrainingStatus::Training)
        .await
        .unwrap());
}

async fn a_deployed_run_keeps_its_metrics_and_ends_once(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let queued = trained_turn(store, &ada, "Iris", true).await;
    let job = store
        .claim_job("w", 60_000, now_ms())
        .await
        .unwrap()
        .unwrap();
    let train = job.train().unwrap();
    let id = &train.training_job;
    assert!(store
        .set_training_status(id, TrainingStatus::Installing)
        .await
        .unwrap());
    let started = store.training_job(&ada, id).await.unwrap().unwrap();
    assert!(started.started_at.is_some());
    let halfway: BTreeMap<String, f64> = [("loss".to_owned(), 0.5)].into();
    store
        .set_training_progress(id, Some(0.25), &halfway)
        .await
        .unwrap();
    let running = store.training_job(&ada, id).await.unwrap().unwrap();
    assert_eq!((running.progress, &running.metrics), (Some(0.25), &halfway));
    // A report without progress keeps the last one.
    store
        .set_training_progress(id, None, &halfway)
        .await
        .unwrap();
    assert_eq!(
        store
            .training_job(&ada, id)
            .await
            .unwrap()
            .unwrap()
            .progress,
        Some(0.25)
    );
    assert!(store
        .deployed_training(&ada, &train.version)
        .await
        .unwrap()
        .is_none());

    let metrics: BTreeMap<String, f64> = [
        ("accuracy".to_owned(), 0.9737),
        ("f1_macro".to_owned(), 0.97),
    ]
    .into();
    let url = "http://8000-abc.localhost:3000/";
    assert!(store
        .complete_training(&train, url, &metrics, "Trained.")
        .await
        .unwrap());
    let deployed = store.training_job(&ada, id).await.unwrap().unwrap();
    assert_eq!(deployed.status, TrainingStatus::Deployed);
    assert_eq!(deployed.progress, Some(1.0));
    assert_eq!(deployed.metrics, metrics);
    assert_eq!(deployed.deployment_url.as_deref(), Some(url));
    assert!(deployed.finished_at.is_some());
    assert_eq!(
        store
            .deployed_training(&ada, &train.version)
            .await
            .unwrap()
            .map(|run| run.id),
        Some(id.clone())
    );
    assert!(store
        .deployed_training(&user(store, "bob@example.com").await, &train.version)
        .await
        .unwrap()
        .is_none());
    // Once only; and a late failure changes nothing.
    assert!(!store
        .complete_training(&train, url, &BTreeMap::new(), "Again.")
        .await
        .unwrap());
    assert!(store.fail_turn(&job, "w", "late", true).await.unwrap());
    let after = store.training_job(&ada, id).await.unwrap().unwrap();
    assert_eq!(
        (after.status, after.metrics),
        (TrainingStatus::Deployed, metrics)
    );
    assert_eq!(
        message_status(store, &ada, &queued.turn.project, &train.assistant_message).await,
        MessageStatus::Done
    );
}

async fn the_reconciler_ends_a_lost_run_without_a_refund(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let queued = trained_turn(store, &ada, "Iris", true).await;
    // Out of tries with its worker dead: the lease runs out, the job dies.
    let mut job = store.claim_job("dead", 1, now_ms()).await.unwrap().unwrap();
    while job.attempts < job.max_attempts {
        store.reclaim_expired_jobs(now_ms() + 10).await.unwrap();
        job = store
            .claim_job("dead", 1, now_ms() + 10)
            .await
            .unwrap()
            .unwrap();
    }
    let reclaimed = store.reclaim_expired_jobs(now_ms() + 20).await.unwrap();
    assert_eq!(reclaimed[0].state, JobState::Dead);
    let touched = store.reconcile_turns().await.unwrap();
    assert_eq!(touched, std::slice::from_ref(&queued.turn.project));
    let run = &store
        .training_jobs(&ada, &queued.turn.project)
        .await
        .unwrap()[0];
    assert_eq!(run.status, TrainingStatus::Failed);
    assert_eq!(run.error.as_deref(), Some(ollio_store::INTERRUPTED));
    assert_eq!(used(store, &ada).await, 1, "nothing to give back");
}
