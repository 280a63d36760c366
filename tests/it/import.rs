//! "Import project" over HTTP, on SQLite and PostgreSQL: a zip or a
//! folder's files become a project whose version 1 holds them, with the
//! template detected or picked; refusals say why and create nothing; a
//! page's plain form post is sent on to the project or back to its form
//! with the reason; only a signed-in user imports.

use std::io::{Cursor, Write};

use crate::support::app::{TestApp, Visitor};
use ollio_domain::{ProjectId, UserId};
use ollio_store::{LeftOutReason, Store};
use ollio_testkit::{on_both_databases, TestDb};
use reqwest::{
    multipart::{Form, Part},
    StatusCode,
};
use serde_json::Value;
use zip::{write::SimpleFileOptions, ZipWriter};

on_both_databases!(
    an_imported_zip_is_a_project_whose_version_one_is_its_files,
    a_folder_imports_and_a_picked_template_wins,
    refused_imports_say_why_and_create_nothing,
    a_page_post_goes_to_the_project_or_back_to_the_form,
);

const ADA: &str = "ada@example.com";
const VITE_PACKAGE: &str = r#"{"name":"kanban","type":"module","dependencies":{"react":"19.3.1"},"devDependencies":{"vite":"8.3.8"}}"#;

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut zip = ZipWriter::new(Cursor::new(&mut bytes));
    for (path, text) in files {
        zip.start_file(*path, SimpleFileOptions::default()).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    bytes
}

fn zip_form(name: &str, zip: Vec<u8>, template: &str) -> Form {
    Form::new()
        .text("template", template.to_owned())
        .part("archive", Part::bytes(zip).file_name(name.to_owned()))
}

/// Posts `form` as "Import project" does; the status and the body.
async fn import(visitor: &Visitor, form: Form) -> (StatusCode, String) {
    let response = visitor
        .client
        .post(visitor.url("/api/projects/import"))
        .multipart(form)
        .send()
        .await
        .expect("import request");
    (response.status(), response.text().await.unwrap_or_default())
}

async fn ada_s_projects(store: &Store) -> (UserId, Vec<ProjectId>) {
    let owner = store.user_by_email(ADA).await.unwrap().unwrap().id;
    let projects = store.projects(&owner).await.unwrap();
    (
        owner,
        projects.into_iter().map(|project| project.id).collect(),
    )
}

async fn an_imported_zip_is_a_project_whose_version_one_is_its_files(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user(ADA).await;
    let zip = zip_of(&[
        ("kanban/package.json", VITE_PACKAGE),
        ("kanban/index.html", "<div id=\"root\"></div>"),
        ("kanban/src/main.tsx", "console.log('board')"),
        ("kanban/node_modules/react/index.js", "module.exports = {}"),
    ]);
    let (status, body) = import(&ada, zip_form("kanban.zip", zip, "")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["template"], "react", "{body}");
    assert_eq!(answer["name"], "kanban", "{body}");
    assert_eq!(answer["version"], 1, "{body}");

    let store = &app.db.store;
    let (owner, projects) = ada_s_projects(store).await;
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].as_str(), answer["id"].as_str().unwrap());
    let versions = store.versions(&owner, &projects[0]).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].title, "Imported kanban");
    assert_eq!(versions[0].template, "react");
    assert_eq!(versions[0].left_out.len(), 1);
    assert_eq!(versions[0].left_out[0].path, "node_modules");
    assert_eq!(versions[0].left_out[0].reason, LeftOutReason::Dependencies);
    let files = store.version_files(&owner, &versions[0].id).await.unwrap();
    let paths: Vec<_> = files.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(paths, ["index.html", "package.json", "src/main.tsx"]);
    assert_eq!(files[2].content, "console.log('board')");

    // Bob sees none of it.
    let bob = app.user("bob@example.com").await;
    let (_, listed) = bob.call("list_projects", &[]).await;
    assert_eq!(listed, "[]");
}

async fn a_folder_imports_and_a_picked_template_wins(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user(ADA).await;
    let file = |path: &str, text: &str| Part::text(text.to_owned()).file_name(path.to_owned());
    // As a browser sends a chosen folder: each file named with its path.
    let folder = Form::new()
        .text("template", "")
        .part("files", file("site/index.html", "<h1>Hello</h1>"))
        .part("files", file("site/css/style.css", "h1 { color: red }"))
        .part("files", file("site/.git/HEAD", "ref: refs/heads/main"));
    let (status, body) = import(&ada, folder).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (answer["template"].as_str(), answer["name"].as_str()),
        (Some("static"), Some("site"))
    );

    // Files that fit no template import once the user picks one.
    let go = || zip_of(&[("main.go", "package main"), ("go.mod", "module x")]);
    let (status, body) = import(&ada, zip_form("tool.zip", go(), "")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("Pick its template"), "{body}");
    let (status, body) = import(&ada, zip_form("tool.zip", go(), "node-api")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (answer["template"].as_str(), answer["name"].as_str()),
        (Some("node-api"), Some("tool"))
    );
    let (_, projects) = ada_s_projects(&app.db.store).await;
    assert_eq!(projects.len(), 2);
}

async fn refused_imports_say_why_and_create_nothing(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user(ADA).await;
    let evil = zip_of(&[("index.html", "<p>hi</p>"), ("../evil", "gotcha")]);
    for (form, said) in [
        (zip_form("evil.zip", evil, ""), "stay inside the project"),
        (
            zip_form("x.zip", b"PK not really".to_vec(), ""),
            "not a zip archive",
        ),
        (
            zip_form("x.zip", zip_of(&[("index.html", "")]), "no-such"),
            "no template called",
        ),
        (Form::new().text("template", ""), "nothing to import"),
        (
            zip_form("both.zip", zip_of(&[("index.html", "")]), "")
                .part("files", Part::text("x").file_name("a/index.html")),
            "not both",
        ),
    ] {
        let (status, body) = import(&ada, form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{said}: {body}");
        assert!(body.contains(said), "{said}: {body}");
    }
    let (_, projects) = ada_s_projects(&app.db.store).await;
    assert!(projects.is_empty(), "a refused import left {projects:?}");

    // Nobody signed in imports nothing.
    let (status, _) = import(
        &app.visitor(),
        zip_form("a.zip", zip_of(&[("index.html", "")]), ""),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn a_page_post_goes_to_the_project_or_back_to_the_form(db: TestDb) {
    let app = TestApp::start(db).await;
    let ada = app.user(ADA).await;
    let post = |form: Form| {
        ada.client
            .post(ada.url("/api/projects/import"))
            .header(reqwest::header::ACCEPT, "text/html")
            .multipart(form)
            .send()
    };
    let response = post(zip_form(
        "page.zip",
        zip_of(&[("index.html", "<p>x</p>")]),
        "",
    ))
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, projects) = ada_s_projects(&app.db.store).await;
    let location = response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap();
    assert_eq!(location, format!("/projects/{}", projects[0].as_str()));

    let evil = zip_of(&[("../evil", "gotcha")]);
    let response = post(zip_form("evil.zip", evil, "static")).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[reqwest::header::LOCATION],
        "/projects#import"
    );
    // The form shows why, with the template that was picked.
    let (_, _, page) = ada.page("/projects").await;
    assert!(
        page.contains("cannot be imported") && page.contains("stay inside the project"),
        "{page}"
    );
    assert!(
        page.contains(r#"<option value="static" selected"#),
        "{page}"
    );
    // An import that succeeds next lets go of that reason.
    let response = post(zip_form(
        "page.zip",
        zip_of(&[("index.html", "<p>y</p>")]),
        "",
    ))
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, _, page) = ada.page("/projects").await;
    assert!(!page.contains("cannot be imported"), "{page}");

    let nobody = app.visitor();
    let response = nobody
        .client
        .post(nobody.url("/api/projects/import"))
        .header(reqwest::header::ACCEPT, "text/html")
        .multipart(zip_form("a.zip", zip_of(&[("index.html", "")]), ""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[reqwest::header::LOCATION],
        "/login?next=%2Fprojects"
    );
}
