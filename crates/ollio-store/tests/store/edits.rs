use ollio_store::{Edit, EditRefusal, MessageStatus, NewVersion, Role, Store};
use ollio_testkit::{
    fixtures::{file, message as new_message, project as new_project, user},
    on_both_databases, TestDb,
};

on_both_databases!(
    saves_fold_into_one_version_until_a_turn_comes_between,
    a_save_during_a_turn_is_refused_and_changes_nothing,
    new_files_renames_and_deletes_are_versions_too,
);

async fn new_files_renames_and_deletes_are_versions_too(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let project = new_project(store, &ada, "Site").await;
    let edit = |edit: Edit| store.apply_edit(&ada, &project.id, edit);
    let first = edit(Edit::Create(file("src/app.js", "let a;")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.title, "Edited src/app.js");
    // A taken path is refused; so is renaming or deleting what is not there.
    for (refused, why) in [
        (Edit::Create(file("src/app.js", "")), EditRefusal::Exists),
        (Edit::Create(file("src", "")), EditRefusal::Exists),
        (Edit::Delete("nope.txt".into()), EditRefusal::Missing),
        (
            Edit::Rename {
                from: "nope".into(),
                to: "x".into(),
            },
            EditRefusal::Missing,
        ),
    ] {
        assert_eq!(edit(refused).await.unwrap().unwrap_err(), why);
    }
    // A folder's name is matched as a folder: `src_old` is not in `src`.
    edit(Edit::Create(file("src_old/x.txt", "x")))
        .await
        .unwrap()
        .unwrap();
    edit(Edit::Create(file("src/util.ts", "export {}")))
        .await
        .unwrap()
        .unwrap();
    // A folder moves with everything in it, each file's language from its
    // new name.
    let moved = edit(Edit::Rename {
        from: "src".into(),
        to: "lib/code".into(),
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(moved.id, first.id, "changes fold into one version");
    assert_eq!(moved.title, "Edited 4 files");
    let files = store.version_files(&ada, &moved.id).await.unwrap();
    let paths: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.path.as_str(), f.language.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("lib/code/app.js", "javascript"),
            ("lib/code/util.ts", "typescript"),
            ("src_old/x.txt", "text"),
        ]
    );
    // Not onto a taken path.
    edit(Edit::Create(file("README.md", "# Hi")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        edit(Edit::Rename {
            from: "README.md".into(),
            to: "lib/code/app.js".into()
        })
        .await
        .unwrap()
        .unwrap_err(),
        EditRefusal::Exists
    );
    edit(Edit::Delete("src_old".into())).await.unwrap().unwrap();
    let gone = edit(Edit::Delete("lib".into())).await.unwrap().unwrap();
    let left: Vec<String> = store
        .version_files(&ada, &gone.id)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(left, ["README.md"]);
    // A single change of its own names itself.
    let answer = new_message(
        store,
        &project.id,
        Role::Assistant,
        "done",
        MessageStatus::Done,
    )
    .await;
    store
        .create_version(NewVersion {
            project: project.id.clone(),
            message: Some(answer.id),
            title: "Turn".into(),
            template: "static".into(),
            sandbox_id: None,
            preview_url: None,
            files: vec![file("a.css", "a{}")],
            left_out: Vec::new(),
            check: None,
        })
        .await
        .unwrap();
    let renamed = edit(Edit::Rename {
        from: "a.css".into(),
        to: "b.css".into(),
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(renamed.title, "Renamed a.css to b.css");
    let deleted = store
        .apply_edit(&ada, &project.id, Edit::Delete("b.css".into()))
        .await
        .unwrap()
        .unwrap();
    // The same path again: still one change, named by the last.
    assert_eq!(
        (deleted.id, deleted.title.as_str()),
        (renamed.id, "Deleted b.css")
    );
}

async fn files_of(
    store: &Store,
    owner: &ollio_domain::UserId,
    version: &ollio_domain::VersionId,
) -> Vec<(String, String)> {
    store
        .version_files(owner, version)
        .await
        .unwrap()
        .into_iter()
        .map(|file| (file.path, file.content))
        .collect()
}

async fn saves_fold_into_one_version_until_a_turn_comes_between(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let project = new_project(store, &ada, "Site").await;
    let answer = new_message(
        store,
        &project.id,
        Role::Assistant,
        "done",
        MessageStatus::Done,
    )
    .await;
    let turn = |title: &str| NewVersion {
        project: project.id.clone(),
        message: Some(answer.id.clone()),
        title: title.into(),
        template: "static".into(),
        sandbox_id: Some("sbx1".into()),
        preview_url: Some("http://3000-sbx1.localhost:49983".into()),
        files: vec![file("index.html", "<h1>Hi</h1>"), file("style.css", "h1{}")],
        left_out: Vec::new(),
        check: Some(Vec::new()),
    };
    store.create_version(turn("First page")).await.unwrap();

    // The first save: a new version, the other files kept, the preview's
    // sandbox carried on, not checked.
    let first = store
        .save_edit(&ada, &project.id, file("index.html", "<h1>Hello</h1>"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.version, first.title.as_str()),
        (2, "Edited index.html")
    );
    assert_eq!(first.edited, ["index.html"]);
    assert_eq!(first.sandbox_id.as_deref(), Some("sbx1"));
    assert_eq!(first.check, None);
    assert_eq!(
        files_of(store, &ada, &first.id).await,
        [
            ("index.html".to_owned(), "<h1>Hello</h1>".to_owned()),
            ("style.css".to_owned(), "h1{}".to_owned())
        ]
    );
    // The file list read before is not kept past the next save.
    assert_eq!(
        store
            .known_version_file_list(&ada, &first.id)
            .await
            .unwrap()
            .len(),
        2
    );

    // The next saves fold in: the same version, "Edited 2 files".
    let again = store
        .save_edit(&ada, &project.id, file("index.html", "<h1>Hello!</h1>"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.id.clone(), again.title.as_str()),
        (first.id.clone(), "Edited index.html")
    );
    let folded = store
        .save_edit(&ada, &project.id, file("notes/todo.md", "- ship"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(folded.id, first.id);
    assert_eq!(folded.title, "Edited 2 files");
    assert_eq!(folded.edited, ["index.html", "notes/todo.md"]);
    assert_eq!(
        store
            .known_version_file_list(&ada, &first.id)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        files_of(store, &ada, &first.id).await[0],
        ("index.html".to_owned(), "<h1>Hello!</h1>".to_owned())
    );
    assert_eq!(store.versions(&ada, &project.id).await.unwrap().len(), 2);

    // A turn's version comes between: the next save is a version of its own.
    store.create_version(turn("Second page")).await.unwrap();
    let after = store
        .save_edit(&ada, &project.id, file("style.css", "h1{color:red}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.version, after.title.as_str()),
        (4, "Edited style.css")
    );
    // The earlier edit version is as it was.
    let versions = store.versions(&ada, &project.id).await.unwrap();
    assert_eq!(versions.len(), 4);
    assert!(versions
        .iter()
        .any(|v| v.id == first.id && v.title == "Edited 2 files"));

    // Nobody saves into another's project.
    assert_eq!(
        store
            .save_edit(&bob, &project.id, file("index.html", "<h1>Bob</h1>"))
            .await
            .unwrap()
            .unwrap_err(),
        EditRefusal::NotFound
    );
    assert_eq!(store.versions(&ada, &project.id).await.unwrap().len(), 4);
}

async fn a_save_during_a_turn_is_refused_and_changes_nothing(db: TestDb) {
    let store = &db.store;
    let ada = user(store, "ada@example.com").await;
    let project = new_project(store, &ada, "Site").await;
    let running = new_message(
        store,
        &project.id,
        Role::Assistant,
        "",
        MessageStatus::Running,
    )
    .await;
    assert_eq!(
        store
            .save_edit(&ada, &project.id, file("index.html", "<h1>Mine</h1>"))
            .await
            .unwrap()
            .unwrap_err(),
        EditRefusal::Busy
    );
    assert!(store.versions(&ada, &project.id).await.unwrap().is_empty());
    // Once the turn has ended, the same save is kept: version 1 of an empty project.
    store
        .set_message_status(&running.id, MessageStatus::Done, None)
        .await
        .unwrap();
    let saved = store
        .save_edit(&ada, &project.id, file("index.html", "<h1>Mine</h1>"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (saved.version, saved.title.as_str()),
        (1, "Edited index.html")
    );
}
