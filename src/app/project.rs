//! `/projects/{id}`: the workspace. Chat on the left (messages, the running
//! turn's steps, the message box); on the right the Code and Preview tabs
//! and the versions. On phones a switcher shows one side at a time.

// The Code Lab's and the Model tab's modules render in the browser only
// (lazy_part.rs): the server build compiles them (their tests run there)
// without calling them.
mod app_logs;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod ask_ai;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod ask_where;
mod browser_errors;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod changes;
mod chat;
mod check_report;
mod code_lab;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod code_tab;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod editor;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod explorer;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod file_tree;
#[cfg(feature = "hydrate")]
mod js_module;
mod lazy_part;
mod live;
mod model_picker;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod model_tab;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod openapi_example;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod palette;
mod preview_tab;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod search_panel;
pub mod steps;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod terminal_panel;
mod versions;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};

use super::{
    credits,
    not_found::NotFound,
    resource,
    session::{page_error, to_sign_in},
    toasts::{provide_toasts, use_toasts, Toaster},
};
use ollio_domain::TurnEvent;

use crate::{
    api::workspace::{project_view, ProjectPage, StepEvent, VersionView},
    error::AppError,
};

/// Reads the project on the server and hands it to the workspace island as
/// its props. A visitor who is not signed in is sent to sign in by the same
/// answer.
#[component]
pub fn ProjectRoute() -> impl IntoView {
    let params = use_params_map();
    let pathname = use_location().pathname;
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let page = resource::load(id, project_view);
    view! {
        <Suspense fallback=|| view! { <WorkspaceSkeleton /> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! {
                        <Title text=page.project.name.clone() />
                        <Workspace page />
                    }
                    .into_any(),
                    Err(AppError::NotFound) => view! { <NotFound /> }.into_any(),
                    Err(AppError::Unauthorized) => to_sign_in(&pathname.get_untracked()),
                    Err(error) => page_error(&error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn WorkspaceSkeleton() -> impl IntoView {
    view! {
        <div class="workspace" aria-busy="true" aria-label="Loading the project">
            <div class="chat-panel">
                <div class="skeleton skeleton-title"></div>
                <div class="skeleton skeleton-card"></div>
                <div class="skeleton skeleton-line"></div>
            </div>
            <div class="work-panel">
                <div class="skeleton skeleton-card tall"></div>
            </div>
        </div>
    }
}

/// Which side a phone shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Chat,
    Work,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Code,
    Preview,
    /// An ML model project's trained model and its API.
    Model,
}

/// Where the editor's cursor is: line and column (from 1), and the
/// selection (UTF-16 offsets, as the editor counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub line: u32,
    pub column: u32,
    pub from: u32,
    pub to: u32,
}

/// The workspace's shared state, given to its parts as context. (Some of
/// it is the Code Lab's, which the server does not render.)
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub struct Ws {
    pub project: StoredValue<String>,
    pub page: RwSignal<ProjectPage>,
    /// The running turn's steps so far, in this browser's clock.
    pub events: RwSignal<Vec<StepEvent>>,
    /// The end of the app's log while the project's app is not running
    /// after a turn (the Preview tab shows it instead of a blank frame).
    pub app_failed: RwSignal<Option<String>>,
    /// The running turn's preview, once its sandbox is ready.
    pub live_preview: RwSignal<Option<String>>,
    pub tab: RwSignal<Tab>,
    pub side: RwSignal<Side>,
    /// The version shown; `None` follows the newest.
    pub selected: RwSignal<Option<String>>,
    pub show_changes: RwSignal<bool>,
    /// This browser's clock, ticking while a turn runs.
    pub now: RwSignal<i64>,
    pub refreshes: RwSignal<u64>,
    /// What the preview's page reported in this browser since it loaded.
    pub preview_errors: RwSignal<Vec<browser_errors::BrowserError>>,
    /// The Code tab's unsaved edits, by path: kept while the tab's files
    /// are read again (a save, a new version).
    pub drafts: RwSignal<std::collections::BTreeMap<String, String>>,
    /// The file the Code tab has open.
    pub opened: RwSignal<Option<String>>,
    /// A line to open a file at (a search result).
    pub goto: RwSignal<Option<(String, u32)>>,
    /// Bumped by the "Save" command: the open file saves.
    pub save_now: RwSignal<u64>,
    /// Bumped by the "Restart preview" command: the Preview tab restarts.
    pub restart_preview: RwSignal<u64>,
    /// The shown version's sandbox, in words (the Preview tab follows it).
    pub sandbox_state: RwSignal<&'static str>,
    /// Whether the Terminal panel shows.
    pub terminal_open: RwSignal<bool>,
    /// What commands in the terminal changed, against the newest version.
    pub terminal_changes: RwSignal<Vec<crate::api::terminal::TerminalChange>>,
}

impl Ws {
    /// The version shown: the selected one, else the newest.
    pub fn version(&self) -> Option<VersionView> {
        self.page.with(|page| match self.selected.get() {
            Some(id) => page.versions.iter().find(|v| v.id == id).cloned(),
            None => page.versions.first().cloned(),
        })
    }

    pub fn newest(&self) -> Option<VersionView> {
        self.page.with(|page| page.versions.first().cloned())
    }

    pub fn running(&self) -> Option<String> {
        self.page.with(|page| page.running.clone())
    }

    /// Reads the project again (after a turn ended, a message was sent, a
    /// version restored…).
    pub fn refresh(&self) {
        self.refreshes.update(|n| *n += 1);
    }
}

pub fn use_ws() -> Ws {
    expect_context::<Ws>()
}

fn client_now() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(all(not(feature = "hydrate"), feature = "ssr"))]
    {
        ollio_store::now_ms()
    }
    #[cfg(not(any(feature = "hydrate", feature = "ssr")))]
    {
        0
    }
}

/// The running turn's recorded steps, moved to this browser's clock.
fn local_events(page: &ProjectPage) -> Vec<StepEvent> {
    let offset = client_now() - page.now_ms;
    page.running_events
        .iter()
        .map(|step| StepEvent {
            seq: step.seq,
            at_ms: step.at_ms + offset,
            event: step.event.clone(),
        })
        .collect()
}

/// The whole workspace is one island, hydrated from the project as the
/// server read it; its parts share the [`Ws`] context. Toasts are its own.
#[island]
fn Workspace(page: ProjectPage) -> impl IntoView {
    provide_toasts();
    let toasts = use_toasts();
    let live_preview = page
        .running_events
        .iter()
        .rev()
        .find_map(|step| match &step.event {
            TurnEvent::SandboxReady { preview_url, .. } => Some(preview_url.clone()),
            _ => None,
        });
    let ws = Ws {
        app_failed: RwSignal::new(page.app_failed.clone()),
        project: StoredValue::new(page.project.id.clone()),
        events: RwSignal::new(local_events(&page)),
        live_preview: RwSignal::new(live_preview),
        now: RwSignal::new(page.now_ms),
        page: RwSignal::new(page),
        tab: RwSignal::new(Tab::Preview),
        side: RwSignal::new(Side::Chat),
        selected: RwSignal::new(None),
        show_changes: RwSignal::new(false),
        refreshes: RwSignal::new(0),
        preview_errors: RwSignal::new(Vec::new()),
        drafts: RwSignal::new(Default::default()),
        opened: RwSignal::new(None),
        goto: RwSignal::new(None),
        save_now: RwSignal::new(0),
        restart_preview: RwSignal::new(0),
        sandbox_state: RwSignal::new("Sandbox: checking…"),
        terminal_open: RwSignal::new(false),
        terminal_changes: RwSignal::new(Vec::new()),
    };
    provide_context(ws);
    follow_turns(ws, toasts);
    let name = move || ws.page.with(|page| page.project.name.clone());
    view! {
        <div class="workspace-bar">
            <a class="back-link small" href="/projects">"← Projects"</a>
            <h1 class="workspace-title">{name}</h1>
            <div class="side-switch" role="group" aria-label="Show">
                <button
                    type="button"
                    aria-pressed=move || (ws.side.get() == Side::Chat).to_string()
                    on:click=move |_| ws.side.set(Side::Chat)
                >
                    "Chat"
                </button>
                <button
                    type="button"
                    aria-pressed=move || (ws.side.get() == Side::Work).to_string()
                    on:click=move |_| ws.side.set(Side::Work)
                >
                    "Code & preview"
                </button>
            </div>
        </div>
        <div
            class="workspace"
            class:show-chat=move || ws.side.get() == Side::Chat
            class:show-work=move || ws.side.get() == Side::Work
        >
            <chat::ChatPanel />
            <section class="work-panel" aria-label="Code and preview">
                <WorkTabs />
            </section>
        </div>
        <Toaster />
    }
}

#[component]
fn WorkTabs() -> impl IntoView {
    let ws = use_ws();
    let trains = ws.page.with_untracked(|page| page.trains);
    let tabs: &'static [Tab] = if trains {
        &[Tab::Code, Tab::Preview, Tab::Model]
    } else {
        &[Tab::Code, Tab::Preview]
    };
    let pick = move |tab: Tab| {
        ws.tab.set(tab);
        #[cfg(feature = "hydrate")]
        focus_by_id(match tab {
            Tab::Code => "tab-code",
            Tab::Preview => "tab-preview",
            Tab::Model => "tab-model",
        });
    };
    // Arrow keys move along the tabs (wrapping), Home and End to the ends.
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        let at = tabs
            .iter()
            .position(|tab| *tab == ws.tab.get_untracked())
            .unwrap_or(0);
        let next = match ev.key().as_str() {
            "ArrowRight" => (at + 1) % tabs.len(),
            "ArrowLeft" => (at + tabs.len() - 1) % tabs.len(),
            "Home" => 0,
            "End" => tabs.len() - 1,
            _ => return,
        };
        ev.prevent_default();
        pick(tabs[next]);
    };
    view! {
        <div class="work-head">
            <div class="tabs" role="tablist" aria-label="Workspace" on:keydown=keys>
                <TabButton tab=Tab::Code id="tab-code" panel="panel-code" label="Code" pick />
                <TabButton
                    tab=Tab::Preview
                    id="tab-preview"
                    panel="panel-preview"
                    label="Preview"
                    pick
                    badge=Signal::derive(move || ws.preview_errors.with(Vec::len))
                />
                {trains.then(|| view! {
                    <TabButton tab=Tab::Model id="tab-model" panel="panel-model" label="Model" pick />
                })}
            </div>
            <versions::VersionBanner />
        </div>
        <div class="work-body">
            <versions::VersionList />
            <TabPanel tab=Tab::Code id="panel-code" tab_id="tab-code">
                <code_lab::CodeLab />
            </TabPanel>
            <TabPanel tab=Tab::Preview id="panel-preview" tab_id="tab-preview">
                <preview_tab::PreviewTab />
            </TabPanel>
            {trains.then(|| view! {
                <TabPanel tab=Tab::Model id="panel-model" tab_id="tab-model">
                    <model_tab::ModelPart />
                </TabPanel>
            })}
        </div>
    }
}

/// A tab's panel, shown while its tab is picked.
#[component]
fn TabPanel(tab: Tab, id: &'static str, tab_id: &'static str, children: Children) -> impl IntoView {
    let ws = use_ws();
    view! {
        <div
            id=id
            class="tab-panel"
            role="tabpanel"
            aria-labelledby=tab_id
            hidden=move || ws.tab.get() != tab
        >
            {children()}
        </div>
    }
}

#[component]
fn TabButton(
    tab: Tab,
    id: &'static str,
    panel: &'static str,
    label: &'static str,
    pick: impl Fn(Tab) + Copy + Send + Sync + 'static,
    /// A count shown beside the label (the preview's errors), when above 0.
    #[prop(optional)]
    badge: Option<Signal<usize>>,
) -> impl IntoView {
    let ws = use_ws();
    let selected = move || ws.tab.get() == tab;
    let badge = move || {
        let count = badge.map_or(0, |badge| badge.get());
        (count > 0).then(|| {
            let said = ollio_domain::errors_text(count);
            view! {
                <span class="tab-badge" title=said.clone()>
                    <span aria-hidden="true">{count}</span>
                    <span class="visually-hidden">{format!(", {said}")}</span>
                </span>
            }
        })
    };
    view! {
        <button
            id=id
            type="button"
            role="tab"
            aria-controls=panel
            aria-selected=move || selected().to_string()
            tabindex=move || if selected() { "0" } else { "-1" }
            on:click=move |_| pick(tab)
        >
            {label}
            {badge}
        </button>
    }
}

/// Moves keyboard focus to the element with `id`.
#[cfg(feature = "hydrate")]
pub fn focus_by_id(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(element) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id(id))
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

/// Keeps the page current: the event stream while it works, refetching
/// with backoff while it does not; the project read again when a turn ends.
fn follow_turns(ws: Ws, toasts: super::toasts::Toasts) {
    // Reading the project again. Reads overlap (a turn's events each ask
    // for one while the page does not know of the turn), and their answers
    // can come back in any order: one older than the latest applied is
    // dropped, or a stale "still running" could hide the turn's end.
    let applied = StoredValue::new(0u64);
    Effect::new(move |previous: Option<u64>| {
        let count = ws.refreshes.get();
        if previous.is_some() {
            let id = ws.project.get_value();
            leptos::task::spawn_local(async move {
                let answer = project_view(id).await;
                if count < applied.get_value() {
                    return;
                }
                applied.set_value(count);
                match answer {
                    Ok(page) => {
                        // Credits may have changed: the header shows them too.
                        credits::publish(page.usage.clone());
                        // Steps the stream brought after this read stay.
                        let mut events = local_events(&page);
                        ws.events.with_untracked(|live| {
                            events.extend(live.iter().filter(|e| e.seq > page.last_seq).cloned())
                        });
                        ws.events.set(events);
                        if page.running.is_none() {
                            ws.app_failed.set(page.app_failed.clone());
                            ws.live_preview.set(None);
                        }
                        ws.page.set(page);
                    }
                    Err(error) => toasts.error(error.to_string()),
                }
            });
        }
        count
    });
    #[cfg(feature = "hydrate")]
    {
        use live::{backoff_ms, follow, Live};
        use std::{cell::RefCell, rc::Rc};

        // The clock for running steps.
        let tick = set_interval_with_handle(
            move || {
                if ws.page.with_untracked(|page| page.running.is_some()) {
                    ws.now.set(client_now());
                }
            },
            std::time::Duration::from_millis(250),
        )
        .ok();
        on_cleanup(move || {
            if let Some(tick) = tick {
                tick.clear();
            }
        });

        let stream: Rc<RefCell<Option<live::Following>>> = Rc::default();
        let failures = Rc::new(std::cell::Cell::new(0u32));
        let open = Rc::new(RefCell::new(None::<Box<dyn Fn()>>));
        let start = {
            let stream = stream.clone();
            let failures = failures.clone();
            let open_again = open.clone();
            move || {
                let after = ws.page.with_untracked(|page| page.last_seq);
                let failures = failures.clone();
                let open_again = open_again.clone();
                let handler = move |live: Live| match live {
                    Live::Event { seq, event } => {
                        failures.set(0);
                        ws.page
                            .update(|page| page.last_seq = page.last_seq.max(seq));
                        on_event(ws, toasts, seq, event);
                    }
                    Live::Lost => {
                        // Refetch after a backoff, then open the stream again.
                        let tries = failures.get() + 1;
                        failures.set(tries);
                        let open_again = open_again.clone();
                        set_timeout(
                            move || {
                                ws.refresh();
                                if let Some(open) = open_again.borrow().as_ref() {
                                    open();
                                }
                            },
                            std::time::Duration::from_millis(u64::from(backoff_ms(tries))),
                        );
                    }
                };
                let following = follow(&ws.project.get_value(), after, handler);
                *stream.borrow_mut() = following;
            }
        };
        *open.borrow_mut() = Some(Box::new(start.clone()));
        start();
        let keep = send_wrapper::SendWrapper::new((stream, open));
        on_cleanup(move || {
            let (stream, open) = keep.take();
            stream.borrow_mut().take();
            open.borrow_mut().take();
        });
    }
}

#[cfg(feature = "hydrate")]
fn on_event(ws: Ws, toasts: super::toasts::Toasts, seq: i64, event: TurnEvent) {
    // A stream opened again after a page read may bring a step once more.
    if ws
        .events
        .with_untracked(|events| events.iter().any(|e| e.seq == seq))
    {
        return;
    }
    let known = ws.page.with_untracked(|page| page.running.is_some());
    if let TurnEvent::SandboxReady { preview_url, .. } = &event {
        ws.live_preview.set(Some(preview_url.clone()));
    }
    match &event {
        TurnEvent::AppFailed { log_tail } => ws.app_failed.set(Some(log_tail.clone())),
        TurnEvent::AppStarting | TurnEvent::AppReady => ws.app_failed.set(None),
        _ => {}
    }
    // A trained model's API is deployed: the Preview tab opens on its docs.
    if let TurnEvent::ModelDeployed { url, .. } = &event {
        ws.live_preview.set(Some(format!("{url}/docs")));
        ws.tab.set(Tab::Preview);
        ws.side.set(Side::Work);
    }
    match &event {
        // A plan or an answer has no title: it made no version.
        TurnEvent::Summary { title, .. } if title.is_empty() => {
            toasts.show("Ollio answered; nothing in the project was changed.")
        }
        TurnEvent::Summary { title, .. } => toasts.show(format!("New version ready: {title}")),
        TurnEvent::ModelDeployed { .. } => toasts.show("The model is trained; its API is live."),
        TurnEvent::TrainingFailed { .. } => {
            toasts.error("The training failed. The reason is in the chat.")
        }
        TurnEvent::Failed { .. } => toasts.error("The turn failed. The reason is in the chat."),
        TurnEvent::Cancelled => toasts.show("Stopped."),
        _ => {}
    }
    let last = event.is_last();
    if !matches!(event, TurnEvent::Output { .. }) {
        ws.events.update(|events| {
            events.push(StepEvent {
                seq,
                at_ms: client_now(),
                event,
            })
        });
        ws.now.set(client_now());
    }
    // A turn ended, or one this page did not know of began (another tab).
    if last || !known {
        ws.selected.set(None);
        ws.refresh();
    }
}
