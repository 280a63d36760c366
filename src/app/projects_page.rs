//! `/projects`: the signed-in user's projects.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{forms::action_error, session::RequireUser};
use crate::projects::{list_projects, DeleteProject, ProjectSummary, RenameProject};

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
    let projects = Resource::new(
        move || (rename.version().get(), delete.version().get()),
        |_| list_projects(),
    );
    view! {
        <section class="container page">
            <div class="page-head">
                <h1>"Your projects"</h1>
                <a class="button button-primary" href="/">"New project"</a>
            </div>
            {action_error(rename.value())}
            {action_error(delete.value())}
            <Transition fallback=|| view! { <div class="skeleton skeleton-card"></div> }>
                {move || Suspend::new(async move {
                    match projects.await {
                        Ok(list) if list.is_empty() => view! { <EmptyProjects /> }.into_any(),
                        Ok(list) => view! {
                            <ul class="project-list" aria-label="Projects">
                                {list.into_iter().map(|project| view! { <ProjectRow project rename delete /> }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Err(error) => view! { <p class="notice notice-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
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
) -> impl IntoView {
    let ProjectSummary {
        id,
        name,
        template,
        updated,
    } = project;
    let input_id = format!("name-{id}");
    let question = format!("Delete “{name}” and all its versions?");
    let (rename_id, delete_id) = (id.clone(), id);
    let new_name = name.clone();
    view! {
        <li class="project-row">
            <div class="project-main">
                <span class="project-name">{name}</span>
                <span class="muted small">{format!("{template} · updated {updated}")}</span>
            </div>
            <div class="project-actions">
                <details class="inline-menu">
                    <summary class="button button-ghost">"Rename"</summary>
                    <ActionForm action=rename attr:class="inline-form">
                        <input type="hidden" name="id" value=rename_id />
                        <label class="visually-hidden" for=input_id.clone()>"New name"</label>
                        <input id=input_id name="name" value=new_name required maxlength="80" />
                        <button type="submit" class="button button-primary">"Save"</button>
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
