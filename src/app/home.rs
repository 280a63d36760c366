//! `/`: for a signed-in user, the prompt box that starts a project and the
//! latest projects; for anyone else, the landing page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::{
    escape::textarea_text,
    forms::PromptCounter,
    landing::Landing,
    resource,
    session::{use_session, PageSkeleton},
};
use crate::{
    domain::Prompt,
    projects::{list_projects, TEMPLATES},
    workspace::StartProject,
};

#[component]
pub fn HomeRoute() -> impl IntoView {
    let session = use_session();
    view! {
        // Not the landing page as the fallback: its prompt redirect would
        // run while the fallback is built.
        <Suspense fallback=|| view! { <PageSkeleton /> }>
            {move || Suspend::new(async move {
                match session.viewer.await {
                    Ok(Some(_)) => view! { <Home /> }.into_any(),
                    _ => view! { <Landing /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// How many projects the home page lists.
const RECENT: usize = 6;

#[component]
fn Home() -> impl IntoView {
    let query = use_query_map();
    let draft = RwSignal::new(query.with_untracked(|q| q.get("prompt").unwrap_or_default()));
    let template = RwSignal::new(TEMPLATES[0].id.to_owned());
    let start = ServerAction::<StartProject>::new();
    let problem = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    Effect::new(move |_| match start.value().get() {
        Some(Ok(started)) => navigate(
            &format!("/projects/{}", started.project),
            Default::default(),
        ),
        Some(Err(error)) => problem.set(Some(error.to_string())),
        None => {}
    });
    let build = move || {
        let prompt = draft.get_untracked();
        match Prompt::parse(&prompt) {
            Ok(_) => {
                problem.set(None);
                start.dispatch(StartProject {
                    prompt,
                    template: template.get_untracked(),
                });
            }
            Err(error) => problem.set(Some(error.to_string())),
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        build();
    };
    let projects = resource::load(|| (), |_| list_projects());
    view! {
        <Title text="Build" />
        <section class="container page home">
            <form class="prompt-card" aria-label="Start a project" on:submit=submit>
                <label class="prompt-label" for="prompt">
                    "What do you want to build?"
                </label>
                <textarea
                    id="prompt"
                    name="prompt"
                    rows="4"
                    autofocus
                    placeholder="A pomodoro timer with a progress ring…"
                    aria-describedby="prompt-count"
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        // Ctrl/Cmd+Enter builds from anywhere in the box.
                        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                            ev.prevent_default();
                            build();
                        }
                    }
                >
                    {textarea_text(&draft.get_untracked())}
                </textarea>
                <div class="prompt-footer">
                    <label class="template-pick">
                        <span class="small muted">"Template"</span>
                        <select
                            name="template"
                            aria-describedby="template-about"
                            on:change=move |ev| template.set(event_target_value(&ev))
                        >
                            {TEMPLATES
                                .iter()
                                .map(|choice| {
                                    view! {
                                        <option value=choice.id>{choice.label}</option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <span id="template-about" class="small muted template-about">
                        {move || {
                            template.with(|id| {
                                TEMPLATES
                                    .iter()
                                    .find(|choice| choice.id == id)
                                    .map_or("", |choice| choice.description)
                            })
                        }}
                    </span>
                    <PromptCounter id="prompt-count" text=draft />
                    <button
                        type="submit"
                        class="button button-primary"
                        disabled=move || start.pending().get()
                    >
                        {move || if start.pending().get() { "Starting…" } else { "Build" }}
                    </button>
                </div>
                {move || {
                    problem
                        .get()
                        .map(|text| view! { <p class="notice notice-error" role="alert">{text}</p> })
                }}
            </form>
            <div class="page-head home-projects-head">
                <h2>"Recent projects"</h2>
                <a href="/projects">"All projects"</a>
            </div>
            <Transition fallback=|| view! { <div class="skeleton skeleton-card"></div> }>
                {move || Suspend::new(async move {
                    match projects.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"Your projects will be listed here."</p>
                        }
                        .into_any(),
                        Ok(list) => view! {
                            <ul class="recent-projects" aria-label="Recent projects">
                                {list
                                    .into_iter()
                                    .take(RECENT)
                                    .map(|project| view! {
                                        <li>
                                            <a class="card recent-project" href=format!("/projects/{}", project.id)>
                                                <span class="project-name">{project.name}</span>
                                                <span class="muted small">{format!("updated {}", project.updated)}</span>
                                            </a>
                                        </li>
                                    })
                                    .collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Err(error) => view! {
                            <p class="notice notice-error" role="alert">{error.to_string()}</p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
