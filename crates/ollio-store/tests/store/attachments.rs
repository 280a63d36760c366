use ollio_domain::{attachment, AttachmentId};
use ollio_store::{now_ms, AttachRefusal, EnqueueRefusal, Store, MAX_STAGED};
use ollio_testkit::{
    fixtures::{project as new_project, user},
    on_both_databases, TestDb,
};

on_both_databases!(
    attachments_wait_staged_then_go_with_their_message,
    a_refused_message_leaves_its_attachments_staged_and_its_credit,
    old_staged_attachments_are_let_go,
);

async fn stage(store: &Store, owner: &ollio_domain::UserId, name: &str) -> AttachmentId {
    let file = attachment::check(name, b"a,b\n1,2\n").unwrap();
    store.stage_attachment(owner, &file).await.unwrap().0.id
}

async fn attachments_wait_staged_then_go_with_their_message(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let project = new_project(store, &ada, "Sales").await;
    let first = stage(store, &ada, "sales.csv").await;
    let second = stage(store, &ada, "costs.csv").await;

    let staged = store.staged_attachments(&ada).await.unwrap();
    let names: Vec<_> = staged.iter().map(|a| a.file.name.as_str()).collect();
    assert_eq!(names, ["sales.csv", "costs.csv"]);
    assert_eq!(staged[0].file.size, 8);
    assert!(staged.iter().all(|a| a.message.is_none()));
    // Bob sees none of them, and cannot remove them.
    assert!(store.staged_attachments(&bob).await.unwrap().is_empty());
    assert!(store.attachment(&bob, &first).await.unwrap().is_none());
    assert!(!store.delete_staged_attachment(&bob, &first).await.unwrap());

    // Sent in the order given: the second first.
    let queued = store
        .enqueue_turn_with(
            &ada,
            &project.id,
            "a chart",
            &[second.clone(), first.clone()],
            5,
            2,
        )
        .await
        .unwrap()
        .unwrap();
    let carried = store
        .message_attachments(&ada, &queued.turn.user_message)
        .await
        .unwrap();
    let ids: Vec<_> = carried.iter().map(|a| a.id.clone()).collect();
    assert_eq!(ids, [second.clone(), first.clone()]);
    assert!(store.staged_attachments(&ada).await.unwrap().is_empty());
    assert!(store
        .message_attachments(&bob, &queued.turn.user_message)
        .await
        .unwrap()
        .is_empty());
    let in_project = store.project_attachments(&ada, &project.id).await.unwrap();
    assert_eq!(in_project.len(), 2);
    assert_eq!(
        in_project[0].message.as_ref(),
        Some(&queued.turn.user_message)
    );
    assert!(store
        .project_attachments(&bob, &project.id)
        .await
        .unwrap()
        .is_empty());
    // A sent file stays with its message: it is not staged to remove.
    assert!(!store.delete_staged_attachment(&ada, &first).await.unwrap());
    assert!(store.attachment(&ada, &first).await.unwrap().is_some());
    assert_eq!(store.owner_attachment_ids(&ada).await.unwrap().len(), 2);

    // Deleting the project takes its messages' attachments along.
    store.delete_project(&ada, &project.id).await.unwrap();
    assert!(store.attachment(&ada, &first).await.unwrap().is_none());
}

async fn a_refused_message_leaves_its_attachments_staged_and_its_credit(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let project = new_project(store, &ada, "Sales").await;
    let mine = stage(store, &ada, "sales.csv").await;
    let bobs = stage(store, &bob, "bobs.csv").await;
    let again = stage(store, &ada, "sales.csv").await;
    let used = |store: &Store| {
        let store = store.clone();
        let ada = ada.clone();
        async move { store.usage(&ada, 5, now_ms()).await.unwrap().used }
    };

    let cases: [(&[AttachmentId], AttachRefusal); 3] = [
        // Bob's file cannot ride on Ada's message.
        (&[mine.clone(), bobs.clone()], AttachRefusal::Missing),
        (
            &[mine.clone(), AttachmentId::from_raw("no-such-file")],
            AttachRefusal::Missing,
        ),
        (
            &[mine.clone(), again.clone()],
            AttachRefusal::SameName("sales.csv".into()),
        ),
    ];
    for (ids, expected) in cases {
        let refused = store
            .enqueue_turn_with(&ada, &project.id, "a chart", ids, 5, 2)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(refused, EnqueueRefusal::Attachments(expected));
        assert_eq!(used(store).await, 0, "a refused message spent a credit");
        assert!(store.messages(&ada, &project.id).await.unwrap().is_empty());
    }
    let six: Vec<AttachmentId> = (0..6)
        .map(|i| AttachmentId::from_raw(format!("f{i}")))
        .collect();
    let refused = store
        .enqueue_turn_with(&ada, &project.id, "a chart", &six, 5, 2)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused, EnqueueRefusal::Attachments(AttachRefusal::TooMany));
    assert_eq!(
        refused_text(&refused),
        "Attach at most 5 files to one message."
    );

    // Everything is still staged: nothing linked, nothing lost.
    assert_eq!(store.staged_attachments(&ada).await.unwrap().len(), 2);
    assert_eq!(store.staged_attachments(&bob).await.unwrap().len(), 1);
    // Sent once, a file cannot be sent again.
    store
        .enqueue_turn_with(
            &ada,
            &project.id,
            "a chart",
            std::slice::from_ref(&mine),
            5,
            2,
        )
        .await
        .unwrap()
        .unwrap();
    let other = new_project(store, &ada, "Other").await;
    let refused = store
        .enqueue_turn_with(&ada, &other.id, "again", &[mine], 5, 2)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused, EnqueueRefusal::Attachments(AttachRefusal::Missing));
}

fn refused_text(refusal: &EnqueueRefusal) -> String {
    match refusal {
        EnqueueRefusal::Attachments(why) => why.to_string(),
        other => format!("{other:?}"),
    }
}

async fn old_staged_attachments_are_let_go(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let mut ids = Vec::new();
    for i in 0..MAX_STAGED {
        ids.push(stage(store, &ada, &format!("f{i}.csv")).await);
    }
    let file = attachment::check("newest.csv", b"x\n").unwrap();
    let (newest, dropped) = store.stage_attachment(&ada, &file).await.unwrap();
    // The oldest goes; the newest and the rest stay.
    assert_eq!(dropped, [ids[0].clone()]);
    let staged = store.staged_attachments(&ada).await.unwrap();
    assert_eq!(staged.len(), MAX_STAGED);
    assert_eq!(staged.last().unwrap().id, newest.id);
    assert!(store.attachment(&ada, &ids[0]).await.unwrap().is_none());
}
