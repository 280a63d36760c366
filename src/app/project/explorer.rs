//! The Code tab's explorer actions: "New file", "New folder", "Rename" and
//! "Delete" (which asks first), from the buttons above the file tree and
//! from a row's context menu. Each is a change on the server like a save
//! (`new_file`, `new_folder`, `rename_path`, `delete_path`): into the
//! sandbox, and a version.

use leptos::prelude::*;

use super::{use_ws, Ws};
use crate::{
    api::edits::{delete_path, new_file, new_folder, rename_path},
    app::toasts::{use_toasts, Toasts},
};

/// What the explorer asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A new file (or folder) named in the folder given.
    New {
        folder: bool,
        inside: String,
    },
    Rename(String),
    Delete(String),
}

impl Ask {
    fn title(&self) -> &'static str {
        match self {
            Self::New { folder: false, .. } => "New file",
            Self::New { folder: true, .. } => "New folder",
            Self::Rename(_) => "Rename",
            Self::Delete(_) => "Delete",
        }
    }
}

/// The buttons above the tree. `selected` is the tree's current row: its
/// path and whether it is a folder.
#[component]
pub fn ExplorerBar(
    selected: Signal<Option<(String, bool)>>,
    ask: RwSignal<Option<Ask>>,
) -> impl IntoView {
    let ws = use_ws();
    let busy = move || ws.running().is_some();
    let inside = move || match selected.get() {
        Some((path, true)) => path,
        Some((path, false)) => path
            .rsplit_once('/')
            .map(|(folder, _)| folder.to_owned())
            .unwrap_or_default(),
        None => String::new(),
    };
    let button = move |label: &'static str,
                       pick: Box<dyn Fn() -> Option<Ask> + Send + Sync>,
                       needs_row: bool| {
        view! {
            <button
                type="button"
                class="button button-ghost button-small"
                disabled=move || busy() || (needs_row && selected.get().is_none())
                on:click=move |_| ask.set(pick())
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="explorer-bar" role="toolbar" aria-label="Files">
            {button("New file", Box::new(move || Some(Ask::New { folder: false, inside: inside() })), false)}
            {button("New folder", Box::new(move || Some(Ask::New { folder: true, inside: inside() })), false)}
            {button("Rename", Box::new(move || selected.get().map(|(path, _)| Ask::Rename(path))), true)}
            {button("Delete", Box::new(move || selected.get().map(|(path, _)| Ask::Delete(path))), true)}
        </div>
    }
}

/// A row's context menu, at the pointer.
#[component]
pub fn ContextMenu(
    at: RwSignal<Option<(i32, i32, String, bool)>>,
    ask: RwSignal<Option<Ask>>,
) -> impl IntoView {
    let close = move || at.set(None);
    view! {
        {move || at.get().map(|(x, y, path, folder)| {
            let inside = if folder {
                path.clone()
            } else {
                path.rsplit_once('/').map(|(folder, _)| folder.to_owned()).unwrap_or_default()
            };
            let items = [
                ("New file", Ask::New { folder: false, inside: inside.clone() }),
                ("New folder", Ask::New { folder: true, inside }),
                ("Rename", Ask::Rename(path.clone())),
                ("Delete", Ask::Delete(path.clone())),
            ];
            view! {
                <div class="menu-backdrop" on:click=move |_| close() on:contextmenu=move |ev| { ev.prevent_default(); close(); }></div>
                <ul
                    class="context-menu"
                    role="menu"
                    aria-label=format!("Actions for {path}")
                    style=format!("left: {x}px; top: {y}px")
                    on:keydown=move |ev| if ev.key() == "Escape" { close() }
                >
                    {items.into_iter().map(|(label, chosen)| view! {
                        <li role="none">
                            <button
                                type="button"
                                role="menuitem"
                                class="menu-item"
                                on:click=move |_| {
                                    close();
                                    ask.set(Some(chosen.clone()));
                                }
                            >
                                {label}
                            </button>
                        </li>
                    }).collect_view()}
                </ul>
            }
        })}
    }
}

/// The question the explorer asks: a name for a new file or folder, a new
/// path for a rename, or whether to delete.
#[component]
pub fn AskDialog(ask: RwSignal<Option<Ask>>) -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        match ask.get() {
            Some(Ask::New { inside, .. }) if !inside.is_empty() => name.set(format!("{inside}/")),
            Some(Ask::Rename(path)) => name.set(path),
            _ => name.set(String::new()),
        }
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
    let submit = move || {
        let Some(question) = ask.get_untracked() else {
            return;
        };
        working.set(true);
        let typed = name.get_untracked();
        leptos::task::spawn_local(async move {
            run(ws, toasts, question, typed, ask).await;
            working.set(false);
        });
    };
    view! {
        {move || ask.get().map(|question| {
            let title = question.title();
            let deleting = match &question {
                Ask::Delete(path) => Some(path.clone()),
                _ => None,
            };
            view! {
                <div class="palette-backdrop" on:click=move |_| ask.set(None)></div>
                <form
                    class="palette ask-dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-label=title
                    on:submit=move |ev| {
                        ev.prevent_default();
                        submit();
                    }
                    on:keydown=move |ev| if ev.key() == "Escape" { ask.set(None) }
                >
                    <h2 class="ask-title">{title}</h2>
                    {match deleting {
                        Some(path) => view! {
                            <p>{format!("Delete {path}? A new version is made without it; older versions keep it.")}</p>
                        }.into_any(),
                        None => view! {
                            <div class="field">
                                <label for="ask-name">{if matches!(question, Ask::Rename(_)) { "New path" } else { "Name" }}</label>
                                <input
                                    id="ask-name"
                                    node_ref=input
                                    type="text"
                                    autocomplete="off"
                                    spellcheck="false"
                                    required
                                    prop:value=move || name.get()
                                    on:input=move |ev| name.set(event_target_value(&ev))
                                />
                            </div>
                        }.into_any(),
                    }}
                    <div class="ask-actions">
                        <button type="button" class="button button-ghost" on:click=move |_| ask.set(None)>"Cancel"</button>
                        <button
                            type="submit"
                            class=if matches!(question, Ask::Delete(_)) { "button button-danger" } else { "button button-primary" }
                            disabled=move || working.get()
                        >
                            {match question {
                                Ask::New { .. } => "Create",
                                Ask::Rename(_) => "Rename",
                                Ask::Delete(_) => "Delete",
                            }}
                        </button>
                    </div>
                </form>
            }
        })}
    }
}

/// Sends the answered question; on success the files are read again and
/// the dialog closes, on failure it stays with the reason shown.
async fn run(ws: Ws, toasts: Toasts, question: Ask, typed: String, ask: RwSignal<Option<Ask>>) {
    let project = ws.project.get_value();
    let typed = typed.trim().to_owned();
    let done = match &question {
        Ask::New { folder: false, .. } => new_file(project, typed.clone()).await,
        Ask::New { folder: true, .. } => new_folder(project, typed.clone()).await,
        Ask::Rename(from) => rename_path(project, from.clone(), typed.clone()).await,
        Ask::Delete(path) => delete_path(project, path.clone()).await,
    };
    match done {
        Ok(version) => {
            ws.drafts.update(|drafts| match &question {
                Ask::Rename(from) => {
                    if let Some(text) = drafts.remove(from) {
                        drafts.insert(typed.clone(), text);
                    }
                }
                Ask::Delete(path) => drafts
                    .retain(|draft, _| draft != path && !draft.starts_with(&format!("{path}/"))),
                Ask::New { .. } => {}
            });
            match &question {
                Ask::New { folder: false, .. } | Ask::Rename(_) => ws.opened.set(Some(typed)),
                _ => {}
            }
            ask.set(None);
            toasts.show(format!("Version {}: {}", version.version, version.title));
            ws.selected.set(None);
            ws.refresh();
        }
        Err(error) => toasts.error(error.to_string()),
    }
}
