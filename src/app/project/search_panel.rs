//! The Code tab's "Search" panel (Ctrl/Cmd+Shift+F): the version's files
//! searched on the server as plain text, with case, whole-word and regex
//! options; results grouped by file, each line opening the file there.
//! Under it, "Ask where…" (`ask_where`).

use leptos::prelude::*;

use super::ask_where::AskWhere;
use crate::api::search::{search_files, SearchView};

#[component]
pub fn SearchPanel(
    version: StoredValue<String>,
    on_open: Callback<(String, u32)>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let case_sensitive = RwSignal::new(false);
    let whole_word = RwSignal::new(false);
    let regex = RwSignal::new(false);
    let searching = RwSignal::new(false);
    let answer = RwSignal::new(None::<Result<SearchView, String>>);
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
    let run = move || {
        let text = query.get_untracked();
        if text.is_empty() {
            return;
        }
        searching.set(true);
        let (case, word, pattern) = (
            case_sensitive.get_untracked(),
            whole_word.get_untracked(),
            regex.get_untracked(),
        );
        leptos::task::spawn_local(async move {
            let found = search_files(version.get_value(), text, case, word, pattern).await;
            answer.set(Some(found.map_err(|error| error.to_string())));
            searching.set(false);
        });
    };
    let option = move |label: &'static str, signal: RwSignal<bool>| {
        view! {
            <label class="search-option small">
                <input
                    type="checkbox"
                    prop:checked=move || signal.get()
                    on:change=move |ev| {
                        signal.set(event_target_checked(&ev));
                        run();
                    }
                />
                {label}
            </label>
        }
    };
    view! {
        <div class="search-panel" role="search" aria-label="Search in files">
            <form
                class="search-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    run();
                }
            >
                <input
                    node_ref=input
                    id="code-search-input"
                    type="search"
                    aria-label="Search in files"
                    placeholder="Search in files…"
                    autocomplete="off"
                    spellcheck="false"
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev))
                />
                <div class="search-options">
                    {option("Match case", case_sensitive)}
                    {option("Whole word", whole_word)}
                    {option("Regex", regex)}
                </div>
            </form>
            <div class="search-results" aria-live="polite" aria-busy=move || searching.get().to_string()>
                {move || match answer.get() {
                    None => view! { <p class="muted small">"Press Enter to search this version's files."</p> }.into_any(),
                    Some(Err(error)) => view! { <p class="notice notice-error small" role="alert">{error}</p> }.into_any(),
                    Some(Ok(found)) if found.total == 0 => view! { <p class="muted small">"Nothing found."</p> }.into_any(),
                    Some(Ok(found)) => {
                        let files = found.files.len();
                        let summary = format!(
                            "{}{} {} in {files} {}",
                            found.total,
                            if found.truncated { "+" } else { "" },
                            if found.total == 1 { "line" } else { "lines" },
                            if files == 1 { "file" } else { "files" },
                        );
                        view! {
                            <p class="small muted">{summary}</p>
                            {found.files.into_iter().map(|file| {
                                let count = file.lines.len();
                                view! {
                                    <section class="search-file" aria-label=file.path.clone()>
                                        <h3 class="search-path small">{file.path.clone()}<span class="muted">{format!(" {count}")}</span></h3>
                                        <ul class="search-lines">
                                            {file.lines.into_iter().map(|line| {
                                                let (path, at) = (file.path.clone(), line.line);
                                                view! {
                                                    <li>
                                                        <button type="button" class="search-line small" on:click=move |_| on_open.run((path.clone(), at))>
                                                            <span class="search-number muted">{line.line}</span>
                                                            <span class="search-text">{line.before}<mark>{line.hit}</mark>{line.after}</span>
                                                        </button>
                                                    </li>
                                                }
                                            }).collect_view()}
                                        </ul>
                                    </section>
                                }
                            }).collect_view()}
                        }.into_any()
                    }
                }}
            </div>
            <AskWhere version on_open />
        </div>
    }
}
