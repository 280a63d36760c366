//! `/`: for a signed-in user, the prompt box that starts a project and the
//! latest projects; for anyone else, the landing page.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use ollio_domain::Prompt;

use super::{
    attachments::{AttachButton, Attachments, StagedChips},
    forms::{typed, PromptCounter, PromptField},
    landing::Landing,
    resource,
    session::{use_session, PageSkeleton},
};
use crate::api::{
    projects::{list_projects, list_templates, model_setup, TemplateChoice},
    workspace::StartProject,
};

/// The prompt box that starts a project and opens it: an island. Without
/// JavaScript it is a plain form post, which the server answers with the
/// project page, or with this page and `error`.
#[island]
fn HomePrompt(
    prompt: String,
    error: Option<String>,
    templates: Vec<TemplateChoice>,
    /// No model to build with yet: Build waits for "Connect a model".
    no_model: bool,
) -> impl IntoView {
    let draft = RwSignal::new(prompt);
    let first = templates
        .first()
        .map_or_else(|| "static".to_owned(), |choice| choice.id.clone());
    let template = RwSignal::new(first);
    let start = ServerAction::<StartProject>::new();
    let problem = RwSignal::new(error);
    let attachments = Attachments::new();
    Effect::new(move |_| match start.value().get() {
        Some(Ok(started)) => open_project(&started.project),
        Some(Err(error)) => problem.set(Some(error.to_string())),
        None => {}
    });
    // Busy from the click until the project page replaces this one.
    let busy = move || start.pending().get() || matches!(start.value().get(), Some(Ok(_)));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if start.pending().get_untracked() {
            return;
        }
        if untrack(|| attachments.uploading()) {
            problem.set(Some(
                "Wait for the attached files to finish uploading.".to_owned(),
            ));
            return;
        }
        let prompt = draft.get_untracked();
        match Prompt::parse(&prompt) {
            Ok(_) => {
                problem.set(None);
                start.dispatch(StartProject {
                    prompt,
                    template: template.get_untracked(),
                    attachments: attachments.ids(),
                });
            }
            Err(error) => problem.set(Some(error.to_string())),
        }
    };
    view! {
        <form
            class="prompt-card"
            aria-label="Start a project"
            method="post"
            action=StartProject::url()
            on:submit=submit
            class:dropping=move || attachments.dragging()
            on:dragover=move |ev| attachments.on_dragover(ev)
            on:dragleave=move |ev| attachments.on_dragleave(ev)
            on:drop=move |ev| attachments.on_drop(ev)
            on:paste=move |ev| attachments.on_paste(ev)
        >
            <PromptField
                draft
                placeholder="A pomodoro timer with a progress ring…"
                described_by="prompt-count"
                autofocus=true
            />
            <div class="prompt-attachments">
                <AttachButton attachments disabled=Signal::derive(busy) />
                <StagedChips attachments />
            </div>
            <TemplatePicker templates template />
            <div class="prompt-footer">
                <span class="prompt-footer-space"></span>
                <PromptCounter id="prompt-count" text=draft />
                <button
                    type="submit"
                    class="button button-primary"
                    disabled=move || busy() || no_model
                    aria-describedby=no_model.then_some("connect-model-title")
                >
                    {move || if busy() { "Starting…" } else { "Build" }}
                </button>
            </div>
            {move || {
                problem
                    .get()
                    .map(|text| view! { <p class="notice notice-error" role="alert">{text}</p> })
            }}
            {move || {
                attachments
                    .problem
                    .get()
                    .map(|text| view! { <p class="notice notice-error" role="alert">{text}</p> })
            }}
        </form>
    }
}

/// The radio group labelled "Template": a card per template, named by its
/// label and described by its description. Arrow keys move between them,
/// as in any radio group.
#[component]
fn TemplatePicker(templates: Vec<TemplateChoice>, template: RwSignal<String>) -> impl IntoView {
    let chosen = template.get_untracked();
    view! {
        <div class="template-picker" role="radiogroup" aria-labelledby="template-legend">
            <span id="template-legend" class="template-legend small muted">"Template"</span>
            <div class="template-cards">
                {templates
                    .into_iter()
                    .map(|choice| {
                        let name = format!("template-{}-name", choice.id);
                        let about = format!("template-{}-about", choice.id);
                        let id = choice.id.clone();
                        view! {
                            <label class="template-card">
                                <input
                                    type="radio"
                                    name="template"
                                    value=choice.id.clone()
                                    checked=choice.id == chosen
                                    aria-labelledby=name.clone()
                                    aria-describedby=about.clone()
                                    on:change=move |_| template.set(id.clone())
                                />
                                <span class="template-name" id=name>{choice.label}</span>
                                <span class="template-description small muted" id=about>
                                    {choice.description}
                                </span>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}

/// Shown before a first build when no model can run it: where to add a
/// key, and what the server's operator can set instead.
#[component]
fn ConnectModel() -> impl IntoView {
    view! {
        <section class="setup-card" aria-labelledby="connect-model-title">
            <h2 id="connect-model-title">"Connect a model"</h2>
            <p>
                "Ollio builds with an AI model, and none is set up for you yet. Add a provider in \
                Settings (OpenAI, Anthropic, OpenRouter, Groq, DeepSeek, Together, Mistral, Gemini \
                or a server of your own), test its connection, then build. Keys are sealed and \
                never shown again."
            </p>
            <a class="button button-primary" href="/settings">"Open Settings"</a>
            <details class="setup-options">
                <summary>"Or, for whoever runs this server"</summary>
                <p class="small">"Start Ollio with a default model and its provider's key:"</p>
                <ul class="small">
                    <li><code>"OLLIO_MODEL=openai:gpt-4.1"</code>" with "<code>"OPENAI_API_KEY"</code>" (any OpenAI-compatible service: set "<code>"OPENAI_BASE_URL"</code>" too)"</li>
                    <li><code>"OLLIO_MODEL=anthropic:claude-sonnet-4-5"</code>" with "<code>"ANTHROPIC_API_KEY"</code></li>
                    <li><code>"OLLIO_MODEL=ollama:qwen2.5-coder"</code>" with a local Ollama ("<code>"OLLAMA_HOST"</code>")"</li>
                    <li><code>"OLLIO_ALLOW_PRIVATE_MODEL_URLS=true"</code>" lets users' own provider URLs reach the local network (a LAN Ollama or LM Studio)"</li>
                </ul>
            </details>
        </section>
    }
}

/// Opens a project's page (a full page load: pages are server-rendered).
fn open_project(id: &str) {
    #[cfg(feature = "hydrate")]
    let _ = window().location().set_href(&format!("/projects/{id}"));
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

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
    // A prompt sent back with a refusal (a cookie), or carried over from the
    // landing page through sign-up (`?prompt=`, the landing's GET form).
    let prompt = typed("prompt")
        .or_else(|| {
            leptos_router::hooks::use_query_map().with_untracked(|query| query.get("prompt"))
        })
        .unwrap_or_default();
    // A plain form post that failed comes back with its error in the URL,
    // which the action reads.
    let error = ServerAction::<StartProject>::new()
        .value()
        .get_untracked()
        .and_then(Result::err)
        .map(|error| error.to_string());
    let projects = resource::load(|| (), |_| list_projects());
    let templates = resource::load(|| (), |_| list_templates());
    let setup = resource::load(|| (), |_| model_setup());
    view! {
        <Title text="Build" />
        <section class="container page home">
            <Suspense fallback=|| view! { <div class="skeleton skeleton-prompt"></div> }>
                {move || {
                    let (prompt, error) = (prompt.clone(), error.clone());
                    Suspend::new(async move {
                        let templates = templates.await.unwrap_or_default();
                        let no_model = setup.await.unwrap_or(false);
                        view! {
                            {no_model.then(|| view! { <ConnectModel /> })}
                            <HomePrompt prompt error templates no_model />
                        }
                    })
                }}
            </Suspense>
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
