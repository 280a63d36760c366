//! `/projects`: the signed-in user's projects, server-rendered; renaming,
//! choosing a model and deleting are plain forms that come back here, and
//! "Import project" (`import_form`) makes one from a zip or a folder.

use leptos::prelude::*;
use leptos_meta::Title;
use ollio_domain::tokens_text;

use super::{
    forms::{action_error, typed},
    import_form::ImportForm,
    resource,
    session::RequireUser,
};
use crate::api::projects::{
    list_models, list_projects, list_templates, DeleteProject, ProjectSummary, RenameProject,
    SetProjectModel,
};

#[component]
pub fn ProjectsPage() -> impl IntoView {
    view! {
        <Title text="Projects" />
        <RequireUser>
            <Projects />
        </RequireUser>
    }
}

#[component]
fn Projects() -> impl IntoView {
    let rename = ServerAction::<RenameProject>::new();
    let delete = ServerAction::<DeleteProject>::new();
    let choose = ServerAction::<SetProjectModel>::new();
    let projects = resource::load(|| (), |_| list_projects());
    let models = resource::load(|| (), |_| list_models());
    let templates = resource::load(|| (), |_| list_templates());
    view! {
        <section class="container page">
            <div class="page-head">
                <h1>"Your projects"</h1>
                <a class="button button-primary" href="/">"New project"</a>
            </div>
            {action_error(rename.value())}
            {action_error(delete.value())}
            {action_error(choose.value())}
            <Transition fallback=|| view! { <div class="skeleton skeleton-card"></div> }>
                {move || Suspend::new(async move {
                    let offered = models.await.unwrap_or_default();
                    match projects.await {
                        Ok(list) if list.is_empty() => view! { <EmptyProjects /> }.into_any(),
                        Ok(list) => view! {
                            <ul class="project-list" aria-label="Projects">
                                {list.into_iter().map(|project| view! { <ProjectRow project rename delete choose models=offered.clone() /> }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Err(error) => view! { <p class="notice notice-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Suspense fallback=|| view! { <div class="skeleton skeleton-card"></div> }>
                {move || Suspend::new(async move {
                    view! { <ImportForm templates=templates.await.unwrap_or_default() /> }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn EmptyProjects() -> impl IntoView {
    view! {
        <div class="empty-state">
            <h2>"No projects yet"</h2>
            <p class="muted">"Describe an app and Ollio builds it. Your projects will be listed here."</p>
            <a class="button button-primary" href="/">"Start your first project"</a>
        </div>
    }
}

#[component]
fn ProjectRow(
    project: ProjectSummary,
    rename: ServerAction<RenameProject>,
    delete: ServerAction<DeleteProject>,
    choose: ServerAction<SetProjectModel>,
    models: Vec<String>,
) -> impl IntoView {
    let ProjectSummary {
        id,
        name,
        template,
        model,
        updated,
        tokens,
    } = project;
    let input_id = format!("name-{id}");
    let model_id = format!("model-{id}");
    let question = format!("Delete “{name}” and all its versions?");
    // A refused rename of this project comes back open, with the typed name.
    let refused_name = (typed("renaming").as_deref() == Some(id.as_str()))
        .then(|| typed("name"))
        .flatten();
    let renaming = refused_name.is_some();
    let new_name = refused_name.unwrap_or_else(|| name.clone());
    let (rename_id, delete_id, model_project) = (id.clone(), id.clone(), id);
    let model_text = model.clone().unwrap_or_else(|| "default model".to_owned());
    let default_label = models.first().map_or_else(
        || "Default".to_owned(),
        |first| format!("Default ({first})"),
    );
    view! {
        <li class="project-row">
            <div class="project-main">
                <span class="project-name">{name}</span>
                <span class="muted small">{format!("{template} · {model_text} · updated {updated} · {}", tokens_text(tokens))}</span>
            </div>
            <div class="project-actions">
                <details class="inline-menu" open=renaming>
                    <summary class="button button-ghost">"Rename"</summary>
                    <ActionForm action=rename attr:class="inline-form">
                        <input type="hidden" name="id" value=rename_id />
                        <label class="visually-hidden" for=input_id.clone()>"New name"</label>
                        <input id=input_id name="name" value=new_name required maxlength="80" />
                        <button type="submit" class="button button-primary">"Save"</button>
                    </ActionForm>
                </details>
                <details class="inline-menu">
                    <summary class="button button-ghost">"Model"</summary>
                    <ActionForm action=choose attr:class="inline-form">
                        <input type="hidden" name="id" value=model_project />
                        <label class="visually-hidden" for=model_id.clone()>"Model"</label>
                        <select id=model_id name="model">
                            <option value="" selected=model.is_none()>{default_label}</option>
                            {models.into_iter().map(|offered| {
                                let selected = model.as_deref() == Some(offered.as_str());
                                view! { <option value=offered.clone() selected=selected>{offered.clone()}</option> }
                            }).collect_view()}
                        </select>
                        <button type="submit" class="button button-primary">"Use model"</button>
                    </ActionForm>
                </details>
                <details class="inline-menu">
                    <summary class="button button-ghost">"Delete"</summary>
                    <ActionForm action=delete attr:class="inline-form">
                        <input type="hidden" name="id" value=delete_id />
                        <span class="small">{question}</span>
                        <button type="submit" class="button button-danger">"Delete project"</button>
                    </ActionForm>
                </details>
            </div>
        </li>
    }
}
