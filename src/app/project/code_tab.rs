//! The Code tab: the version's file tree, open-file tabs, and the open file
//! in the editor (the newest version's, to change and save as a version;
//! an older version's read-only); Copy and Download zip.

use std::collections::BTreeSet;

use leptos::prelude::*;

use super::{
    ask_ai::AskAi,
    editor::Editor,
    explorer::{Ask, AskDialog, ContextMenu, ExplorerBar},
    file_tree::{parent, rows, Row},
    palette::{Command, Commands, GoToFile},
    search_panel::SearchPanel,
    use_ws, Ws,
};
use crate::{
    api::{
        edits::save_file,
        workspace::{highlighted_file, version_tree, FileEntry, LeftOutView},
    },
    app::toasts::{use_toasts, Toasts},
};

/// The file opened first: the entry page if there is one.
fn first_file(files: &[FileEntry]) -> Option<String> {
    ["index.html", "README.md", "main.py", "src/main.rs"]
        .iter()
        .find(|wanted| files.iter().any(|file| file.path == **wanted))
        .map(|found| (*found).to_owned())
        .or_else(|| files.first().map(|file| file.path.clone()))
}

/// No resource is created here: serialized resources made inside the
/// page's suspended parts can be made twice on the server and then no longer
/// line up with the browser's while it hydrates. The newest version's files
/// come with the page; an older version's are fetched by the browser.
#[component]
pub fn CodeTab() -> impl IntoView {
    let ws = use_ws();
    // The newest version's files are part of what is shown: the user's
    // changes fold into one version, whose files then change.
    let shown = Memo::new(move |_| {
        let version = ws.version().map(|version| version.id);
        let newest = version.is_some() && version == ws.newest().map(|newest| newest.id);
        let files = newest.then(|| ws.page.with(|page| page.files.clone()));
        (version, newest, files)
    });
    let left_out = move || ws.version().map(|v| v.left_out).unwrap_or_default();
    move || match shown.get() {
        (Some(version), true, files) => {
            files_or_empty(files.unwrap_or_default(), version, untrack(left_out), true)
        }
        (Some(version), false, _) => {
            view! { <OlderFiles version left_out=untrack(left_out) /> }.into_any()
        }
        (None, _, _) => files_or_empty(Vec::new(), String::new(), Vec::new(), false),
    }
}

fn files_or_empty(
    files: Vec<FileEntry>,
    version: String,
    left_out: Vec<LeftOutView>,
    editable: bool,
) -> AnyView {
    if !files.is_empty() {
        return view! { <CodeBrowser files version left_out editable /> }.into_any();
    }
    let ws = use_ws();
    view! {
        <div class="empty-state">
            <h2>"No files yet"</h2>
            <p class="muted">
                {move || if ws.running().is_some() {
                    "Ollio is writing them. They appear here when the turn is done."
                } else {
                    "Send a message and Ollio writes the app's files."
                }}
            </p>
        </div>
    }
    .into_any()
}

#[component]
fn OlderFiles(version: String, left_out: Vec<LeftOutView>) -> impl IntoView {
    let id = version.clone();
    let files = LocalResource::new(move || version_tree(id.clone()));
    view! {
        <Suspense fallback=|| view! { <CodeSkeleton /> }>
            {move || {
                let (version, left_out) = (version.clone(), left_out.clone());
                Suspend::new(async move {
                    match files.await {
                        Ok(list) => files_or_empty(list, version, left_out, false),
                        Err(error) => view! { <p class="notice notice-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn CodeSkeleton() -> impl IntoView {
    view! {
        <div class="code-layout" aria-busy="true">
            <div class="file-tree"><div class="skeleton skeleton-line"></div><div class="skeleton skeleton-line short"></div></div>
            <div class="code-main"><div class="skeleton skeleton-card tall"></div></div>
        </div>
    }
}

#[component]
fn CodeBrowser(
    files: Vec<FileEntry>,
    version: String,
    left_out: Vec<LeftOutView>,
    /// The newest version's files: edited and saved; older ones read-only.
    editable: bool,
) -> impl IntoView {
    let ws = use_ws();
    let files = StoredValue::new(files);
    let version = StoredValue::new(version);
    // The newest version's files read again (after a save, a turn): the
    // file open before stays open. An older version opens at its entry page.
    let first = untrack(|| ws.opened.get())
        .filter(|_| editable)
        .filter(|path| files.with_value(|files| files.iter().any(|file| file.path == *path)))
        .or_else(|| files.with_value(|files| first_file(files)));
    #[cfg(feature = "hydrate")]
    let _ = leptos::prelude::window_event_listener(leptos::ev::beforeunload, move |ev| {
        // Leaving with unsaved changes asks first.
        if ws.drafts.with_untracked(|drafts| !drafts.is_empty()) {
            ev.prevent_default();
            ev.set_return_value("You have unsaved changes.");
        }
    });
    let open = RwSignal::new(first.iter().cloned().collect::<Vec<_>>());
    let active = RwSignal::new(first);
    let closed = RwSignal::new(BTreeSet::<String>::new());
    // The open file is the browser's to load (see CodeView); the page
    // arrives, and hydrates, with a placeholder in its place.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let focused = RwSignal::new(0usize);
    let paths = files.with_value(|files| {
        files
            .iter()
            .map(|file| file.path.clone())
            .collect::<Vec<_>>()
    });
    let paths = StoredValue::new(paths);
    // The version's files, and those commands in the terminal added.
    let tree_paths = Memo::new(move |_| {
        let mut list = paths.get_value();
        if editable {
            ws.terminal_changes.with(|changes| {
                for change in changes {
                    if change.kind == "added" && !list.contains(&change.path) {
                        list.push(change.path.clone());
                    }
                }
            });
        }
        list
    });
    let visible =
        Memo::new(move |_| closed.with(|closed| tree_paths.with(|paths| rows(paths, closed))));
    let change_of = move |path: &str| {
        ws.terminal_changes.with(|changes| {
            changes
                .iter()
                .find(|change| change.path == path)
                .map(|change| change.kind.clone())
        })
    };
    // A memo, so the editor is not made again each time the list is read.
    let active_added = Memo::new(move |_| {
        active
            .get()
            .is_some_and(|path| change_of(&path).as_deref() == Some("added"))
    });
    let saving_changes = RwSignal::new(false);
    let toasts = use_toasts();
    // The row Rename and Delete act on: the tree's focused one.
    let tree_selection = Signal::derive(move || {
        visible.with(|rows| {
            rows.get(focused.get())
                .map(|row| (row.path.clone(), row.folder))
        })
    });

    let open_file = move |path: String| {
        open.update(|open| {
            if !open.contains(&path) {
                open.push(path.clone());
            }
        });
        ws.goto.set(None);
        active.set(Some(path));
    };
    // A search result: the file, at its line.
    let open_at = Callback::new(move |(path, line): (String, u32)| {
        open_file(path.clone());
        ws.goto.set(Some((path, line)));
    });
    let search_open = RwSignal::new(false);
    let ask = RwSignal::new(None::<Ask>);
    let menu = RwSignal::new(None::<(i32, i32, String, bool)>);
    let palette_open = RwSignal::new(false);
    let commands_open = RwSignal::new(false);
    let zip = move || format!("/api/versions/{}/zip", version.get_value());
    let run = Callback::new(move |command: Command| match command {
        Command::Save => ws.save_now.update(|n| *n += 1),
        Command::NewFile => ask.set(Some(Ask::New {
            folder: false,
            inside: String::new(),
        })),
        Command::SearchInFiles => search_open.set(true),
        Command::ToggleTerminal => ws.terminal_open.update(|open| *open = !*open),
        Command::ToggleTheme => click_selector(".theme-toggle"),
        Command::DownloadZip => click_selector(".code-actions a[download]"),
        Command::RestartPreview => {
            ws.tab.set(super::Tab::Preview);
            ws.restart_preview.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if search_open.get() {
            #[cfg(feature = "hydrate")]
            super::focus_by_id("code-search-input");
        }
    });
    #[cfg(feature = "hydrate")]
    let _ = leptos::prelude::window_event_listener(leptos::ev::keydown, move |ev| {
        // Ctrl/Cmd+P: go to file; Ctrl/Cmd+Shift+P: commands;
        // Ctrl/Cmd+Shift+F: search in files.
        if !(ev.ctrl_key() || ev.meta_key()) || ev.alt_key() {
            return;
        }
        match (ev.key().to_lowercase().as_str(), ev.shift_key()) {
            ("p", shift) => {
                ev.prevent_default();
                ws.tab.set(super::Tab::Code);
                commands_open.set(shift);
                palette_open.set(!shift);
            }
            ("f", true) => {
                ev.prevent_default();
                ws.tab.set(super::Tab::Code);
                search_open.set(true);
            }
            _ => {}
        }
    });
    Effect::new(move |_| {
        if editable {
            ws.opened.set(active.get());
        }
    });
    let close_file = move |path: String| {
        open.update(|open| open.retain(|p| *p != path));
        if active.get_untracked().as_deref() == Some(path.as_str()) {
            active.set(open.with_untracked(|open| open.last().cloned()));
        }
    };
    let toggle = move |folder: String| {
        closed.update(|closed| {
            if !closed.remove(&folder) {
                closed.insert(folder);
            }
        })
    };
    let activate = move |row: &Row| {
        if row.folder {
            toggle(row.path.clone());
        } else {
            open_file(row.path.clone());
        }
    };
    let tree_keys = move |ev: leptos::ev::KeyboardEvent| {
        let list = visible.get_untracked();
        if list.is_empty() {
            return;
        }
        let at = focused.get_untracked().min(list.len() - 1);
        let row = &list[at];
        let next = match ev.key().as_str() {
            "ArrowDown" => Some((at + 1).min(list.len() - 1)),
            "ArrowUp" => Some(at.saturating_sub(1)),
            "Home" => Some(0),
            "End" => Some(list.len() - 1),
            "ArrowRight" if row.folder && closed.with_untracked(|c| c.contains(&row.path)) => {
                toggle(row.path.clone());
                Some(at)
            }
            "ArrowRight" if row.folder => Some((at + 1).min(list.len() - 1)),
            "ArrowLeft" if row.folder && !closed.with_untracked(|c| c.contains(&row.path)) => {
                toggle(row.path.clone());
                Some(at)
            }
            "ArrowLeft" => {
                let up = parent(&row.path);
                list.iter()
                    .position(|r| r.folder && r.path == up)
                    .or(Some(at))
            }
            "Enter" | " " => {
                activate(row);
                Some(at)
            }
            // F2 renames, Delete deletes (asking first), as in other editors.
            "F2" if editable => {
                ask.set(Some(Ask::Rename(row.path.clone())));
                Some(at)
            }
            "Delete" if editable => {
                ask.set(Some(Ask::Delete(row.path.clone())));
                Some(at)
            }
            _ => None,
        };
        if let Some(next) = next {
            ev.prevent_default();
            focused.set(next);
            #[cfg(feature = "hydrate")]
            super::focus_by_id(&format!("tree-row-{next}"));
        }
    };
    let tab_keys = move |ev: leptos::ev::KeyboardEvent| {
        let list = open.get_untracked();
        let Some(current) = active
            .get_untracked()
            .and_then(|a| list.iter().position(|p| *p == a))
        else {
            return;
        };
        let next = match ev.key().as_str() {
            "ArrowRight" => (current + 1) % list.len(),
            "ArrowLeft" => (current + list.len() - 1) % list.len(),
            "Home" => 0,
            "End" => list.len() - 1,
            _ => return,
        };
        ev.prevent_default();
        active.set(Some(list[next].clone()));
        #[cfg(feature = "hydrate")]
        super::focus_by_id(&format!("file-tab-{next}"));
    };
    view! {
        <GoToFile paths open=palette_open on_pick=Callback::new(move |path: String| open_file(path)) />
        <Commands editable open=commands_open on_pick=run />
        <AskDialog ask />
        <ContextMenu at=menu ask />
        <div class="code-layout">
            {move || search_open.get().then(|| view! { <SearchPanel version on_open=open_at /> })}
            <div class="tree-column" hidden=move || search_open.get()>
            {editable.then(|| view! { <ExplorerBar selected=tree_selection ask /> })}
            {move || {
                let count = ws.terminal_changes.with(Vec::len);
                (editable && count > 0).then(|| view! {
                    <div class="terminal-changed small">
                        <span>{if count == 1 { "1 file changed in the terminal".to_owned() } else { format!("{count} files changed in the terminal") }}</span>
                        <button
                            type="button"
                            class="button button-primary button-small"
                            disabled=move || saving_changes.get()
                            on:click=move |_| super::terminal_panel::save_changes(ws, toasts, saving_changes)
                        >
                            "Save changes"
                        </button>
                    </div>
                })
            }}
            <ul class="file-tree" role="tree" aria-label="Files" on:keydown=tree_keys>
                <For each=move || visible.get().into_iter().enumerate() key=|(i, row)| (*i, row.path.clone(), row.folder) let:item>
                    {
                        let (index, row) = item;
                        let expanded = row.folder.then(|| {
                            let path = row.path.clone();
                            move || (!closed.with(|c| c.contains(&path))).to_string()
                        });
                        let path = row.path.clone();
                        let selected = move || (!row.folder && active.get().as_deref() == Some(path.as_str())).to_string();
                        let clicked = row.clone();
                        view! {
                            <li
                                id=format!("tree-row-{index}")
                                role="treeitem"
                                class="tree-row"
                                class:tree-folder=row.folder
                                prop:ariaLevel=(row.depth + 1).to_string()
                                aria-expanded=expanded
                                aria-selected=selected
                                tabindex=move || if focused.get() == index { "0" } else { "-1" }
                                style=format!("--depth: {}", row.depth)
                                on:click=move |_| {
                                    focused.set(index);
                                    activate(&clicked);
                                }
                                on:contextmenu={
                                    let (path, folder) = (row.path.clone(), row.folder);
                                    move |ev: leptos::ev::MouseEvent| {
                                        if editable {
                                            ev.prevent_default();
                                            focused.set(index);
                                            menu.set(Some((ev.client_x(), ev.client_y(), path.clone(), folder)));
                                        }
                                    }
                                }
                            >
                                <span class="tree-icon" aria-hidden="true">{if row.folder { "▸" } else { "·" }}</span>
                                {row.name.clone()}
                                {
                                    let path = row.path.clone();
                                    move || change_of(&path).filter(|_| editable).map(|kind| {
                                        let letter = match kind.as_str() { "added" => "A", "deleted" => "D", _ => "M" };
                                        view! {
                                            <span class=format!("change-mark change-{kind}") title=format!("{kind} in the terminal") aria-label=kind.clone()>{letter}</span>
                                        }
                                    })
                                }
                            </li>
                        }
                    }
                </For>
            </ul>
            </div>
            <div class="code-main">
                <div class="code-toolbar">
                    <div class="file-tabs" role="tablist" aria-label="Open files" on:keydown=tab_keys>
                        <For each=move || open.get().into_iter().enumerate() key=|(i, path)| (*i, path.clone()) let:item>
                            {
                                let (index, path) = item;
                                let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
                                let (this, close_path) = (path.clone(), path.clone());
                                let is_active = Memo::new(move |_| active.get().as_deref() == Some(this.as_str()));
                                let pick = path.clone();
                                view! {
                                    <span class="file-tab" class:active=move || is_active.get()>
                                        <button
                                            id=format!("file-tab-{index}")
                                            type="button"
                                            role="tab"
                                            title=path.clone()
                                            aria-selected=move || is_active.get().to_string()
                                            tabindex=move || if is_active.get() { "0" } else { "-1" }
                                            on:click=move |_| open_file(pick.clone())
                                        >
                                            {name.clone()}
                                            {
                                                let dirty_path = path.clone();
                                                move || ws.drafts.with(|drafts| drafts.contains_key(&dirty_path)).then(|| view! {
                                                    <span class="unsaved-dot" title="Unsaved changes" aria-label="unsaved changes">"●"</span>
                                                })
                                            }
                                        </button>
                                        <button
                                            type="button"
                                            class="icon-button"
                                            aria-label=format!("Close {path}")
                                            on:click=move |_| close_file(close_path.clone())
                                        >
                                            "×"
                                        </button>
                                    </span>
                                }
                            }
                        </For>
                    </div>
                    <div class="code-actions">
                        <button
                            type="button"
                            class="button button-ghost button-small"
                            title="Commands (Ctrl+Shift+P)"
                            on:click=move |_| commands_open.set(true)
                        >
                            "Commands"
                        </button>
                        <button
                            type="button"
                            class="button button-ghost button-small"
                            title="Go to file (Ctrl+P)"
                            on:click=move |_| palette_open.set(true)
                        >
                            "Go to file"
                        </button>
                        <button
                            type="button"
                            class="button button-ghost button-small"
                            aria-pressed=move || search_open.get().to_string()
                            title="Search in files (Ctrl+Shift+F)"
                            on:click=move |_| search_open.update(|open| *open = !*open)
                        >
                            "Search"
                        </button>
                        <button
                            type="button"
                            class="button button-ghost button-small"
                            aria-pressed=move || ws.terminal_open.get().to_string()
                            title="A shell in the project's sandbox (Ctrl+`)"
                            on:click=move |_| ws.terminal_open.update(|open| *open = !*open)
                        >
                            "Terminal"
                        </button>
                        <a class="button button-ghost button-small" href=zip download>
                            "Download zip"
                        </a>
                    </div>
                </div>
                {move || match (active.get(), mounted.get()) {
                    (Some(path), true) if active_added.get() => view! {
                        <p class="notice small code-empty">{format!("{path} was made in the terminal. Save changes to keep it in a version and open it here.")}</p>
                    }.into_any(),
                    (Some(path), true) => {
                        let line = ws.goto.get().filter(|(at, _)| *at == path).map(|(_, line)| line);
                        view! { <CodeView version=version.get_value() path editable line /> }.into_any()
                    }
                    (Some(_), false) => view! { <div class="skeleton skeleton-card tall"></div> }.into_any(),
                    (None, _) => view! { <p class="muted code-empty">"Pick a file to read it."</p> }.into_any(),
                }}
                <LeftOutList left_out />
            </div>
        </div>
    }
}

#[component]
fn CodeView(version: String, path: String, editable: bool, line: Option<u32>) -> impl IntoView {
    // Loaded by the browser only: the Preview tab shows first, and a
    // file can be large.
    let file = LocalResource::new(move || highlighted_file(version.clone(), path.clone()));
    view! {
        <Transition fallback=|| view! { <div class="skeleton skeleton-card tall"></div> }>
            {move || Suspend::new(async move {
                match file.await {
                    Ok(file) if file.binary => view! { <BinaryView file /> }.into_any(),
                    Ok(file) => view! { <FileEditor path=file.path language=file.language content=file.content editable line /> }.into_any(),
                    Err(error) => view! { <p class="notice notice-error" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One text file in the editor, with Save and a status bar: its language,
/// the cursor's line and column, and whether it is saved.
#[component]
fn FileEditor(
    path: String,
    language: String,
    content: String,
    editable: bool,
    line: Option<u32>,
) -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    let saving = RwSignal::new(false);
    let cursor = RwSignal::new(super::Cursor {
        line: 1,
        column: 1,
        ..Default::default()
    });
    let asking = RwSignal::new(false);
    let saved = StoredValue::new(content.clone());
    let text = ws
        .drafts
        .with_untracked(|drafts| drafts.get(&path).cloned())
        .unwrap_or(content.clone());
    let dirty = {
        let path = path.clone();
        Memo::new(move |_| ws.drafts.with(|drafts| drafts.contains_key(&path)))
    };
    let on_change = {
        let path = path.clone();
        Callback::new(move |text: String| {
            ws.drafts.update(|drafts| {
                if saved.with_value(|saved| *saved == text) {
                    drafts.remove(&path);
                } else {
                    drafts.insert(path.clone(), text);
                }
            })
        })
    };
    let save = {
        let path = path.clone();
        move || save_draft(ws, toasts, path.clone(), saving)
    };
    let on_save = Callback::new({
        let save = save.clone();
        move |()| {
            if editable {
                save();
            }
        }
    });
    // The "Save" command: this is the open file.
    Effect::new({
        let save = save.clone();
        move |seen: Option<u64>| {
            let now = ws.save_now.get();
            if seen.is_some_and(|seen| seen != now) && editable {
                save();
            }
            now
        }
    });
    let on_cursor = Callback::new(move |at: super::Cursor| cursor.set(at));
    let on_ask = Callback::new(move |()| {
        if editable {
            asking.set(true);
        }
    });
    let current_text = {
        let path = path.clone();
        Signal::derive(move || {
            ws.drafts
                .with(|drafts| drafts.get(&path).cloned())
                .unwrap_or_else(|| saved.get_value())
        })
    };
    let busy = move || ws.running().is_some();
    view! {
        <div class="code-head">
            <span class="code-path small muted">{path.clone()}</span>
            <span class="code-language small">{language.clone()}</span>
            {editable.then(|| view! {
                <button
                    type="button"
                    class="button button-primary button-small"
                    disabled=move || saving.get() || !dirty.get()
                    title=move || if busy() { "Ollio is working on this project: save when the turn ends" } else { "Save (Ctrl+S)" }
                    on:click={
                        let save = save.clone();
                        move |_| save()
                    }
                >
                    {move || if saving.get() { "Saving…" } else { "Save" }}
                </button>
            })}
            {editable.then(|| view! {
                <button
                    type="button"
                    class="button button-small"
                    title="Ask AI to change the selected code (Ctrl+K)"
                    aria-pressed=move || asking.get().to_string()
                    on:click=move |_| asking.update(|open| *open = !*open)
                >
                    "Ask AI"
                </button>
            })}
            <CopyButton path=path.clone() content />
        </div>
        {editable.then(|| view! { <AskAi path=path.clone() text=current_text cursor open=asking /> })}
        {(!editable).then(|| view! {
            <p class="notice small code-read-only">"An older version, read only. Restore it to change it."</p>
        })}
        <div class="code-view code-editor" role="region" aria-label=path.clone() data-language=language.clone()>
            <Editor path=path.clone() text read_only=!editable line on_change on_save on_cursor on_ask />
        </div>
        <div class="status-bar small muted" aria-label="Status">
            <span>{language}</span>
            <span>{move || { let at = cursor.get(); format!("Ln {}, Col {}", at.line, at.column) }}</span>
            <span>{move || if !editable { "Read only" } else if dirty.get() { "Unsaved changes" } else { "Saved" }}</span>
            <span>{move || if busy() { "Ollio is working" } else { ws.sandbox_state.get() }}</span>
        </div>
    }
}

/// Clicks the element `selector` finds (the header's theme toggle, the
/// Download zip link), as the command standing for it.
fn click_selector(selector: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(element) = document()
            .query_selector(selector)
            .ok()
            .flatten()
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        {
            element.click();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

/// Saves `path`'s unsaved text as a version; the text stays a draft if
/// the save is refused (a turn running), so nothing typed is lost.
fn save_draft(ws: Ws, toasts: Toasts, path: String, saving: RwSignal<bool>) {
    let Some(text) = ws
        .drafts
        .with_untracked(|drafts| drafts.get(&path).cloned())
    else {
        return;
    };
    if saving.get_untracked() {
        return;
    }
    saving.set(true);
    leptos::task::spawn_local(async move {
        match save_file(ws.project.get_value(), path.clone(), text.clone()).await {
            Ok(version) => {
                ws.drafts.update(|drafts| {
                    if drafts.get(&path) == Some(&text) {
                        drafts.remove(&path);
                    }
                });
                toasts.show(format!(
                    "Saved as version {}: {}",
                    version.version, version.title
                ));
                ws.selected.set(None);
                ws.refresh();
            }
            Err(error) => toasts.error(error.to_string()),
        }
        saving.set(false);
    });
}

/// The browser's type for an image the Code tab can show, from its name.
fn image_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "bmp" => "image/bmp",
        _ => return None,
    })
}

/// A binary file: an image as itself, anything else described.
#[component]
fn BinaryView(file: crate::api::workspace::HighlightedFile) -> impl IntoView {
    let size = ollio_domain::size_text(u64::try_from(file.size).unwrap_or(0));
    let shown = image_type(&file.path).map(|mime| {
        view! {
            <img class="binary-image" src=format!("data:{mime};base64,{}", file.content) alt=file.path.clone() />
        }
    });
    let what = if shown.is_some() {
        "An image"
    } else {
        "A binary file"
    };
    view! {
        <div class="code-head">
            <span class="code-path small muted">{file.path.clone()}</span>
            <span class="code-language small">"binary"</span>
        </div>
        <div class="code-view binary-view" role="region" aria-label=file.path.clone() tabindex="0">
            {shown}
            <p class="small muted">
                {format!("{what} of {size}, kept with the version. Download the zip to get it.")}
            </p>
        </div>
    }
}

/// What the version did not keep, and why, under the open file.
#[component]
fn LeftOutList(left_out: Vec<LeftOutView>) -> impl IntoView {
    (!left_out.is_empty()).then(|| {
        let count = left_out.len();
        view! {
            <details class="left-out">
                <summary>{format!("Left out of this version ({count})")}</summary>
                <ul>
                    {left_out
                        .into_iter()
                        .map(|left| view! {
                            <li><code>{left.path}</code>" — "{left.reason}</li>
                        })
                        .collect_view()}
                </ul>
            </details>
        }
    })
}

/// Copies `content` (a file, or a URL) to the clipboard, with a toast
/// either way ("Copied {path}").
#[component]
pub fn CopyButton(path: String, content: String) -> impl IntoView {
    let toasts = use_toasts();
    let copy = move |_| {
        let (path, content) = (path.clone(), content.clone());
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let copied = match web_sys::window().map(|w| w.navigator().clipboard()) {
                Some(clipboard) => {
                    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&content))
                        .await
                        .is_ok()
                }
                None => false,
            };
            if copied {
                toasts.show(format!("Copied {path}"));
            } else {
                toasts.error(
                    "The browser did not allow copying. Select the text and copy it instead.",
                );
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (path, content, toasts);
    };
    view! {
        <button type="button" class="button button-ghost button-small" on:click=copy>
            "Copy"
        </button>
    }
}
