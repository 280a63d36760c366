//! "Ask where…" under the Search panel: a question in plain words ("where
//! is the login handled?") answered with the passages of the version that
//! fit it best, by meaning (an embeddings model) or by words (BM25). Each
//! hit opens its file at its first line.

use leptos::prelude::*;

use crate::api::search::{ask_where, AskView};

#[component]
pub fn AskWhere(version: StoredValue<String>, on_open: Callback<(String, u32)>) -> impl IntoView {
    let question = RwSignal::new(String::new());
    let asking = RwSignal::new(false);
    let answer = RwSignal::new(None::<Result<AskView, String>>);
    let ask = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = question.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        asking.set(true);
        leptos::task::spawn_local(async move {
            let found = ask_where(version.get_value(), text).await;
            answer.set(Some(found.map_err(|error| error.to_string())));
            asking.set(false);
        });
    };
    view! {
        <section class="ask-where" aria-label="Ask where">
            <form class="search-form" on:submit=ask>
                <input
                    type="search"
                    aria-label="Ask where…"
                    placeholder="Ask where… (where is the login handled?)"
                    autocomplete="off"
                    prop:value=move || question.get()
                    on:input=move |ev| question.set(event_target_value(&ev))
                />
            </form>
            <div class="search-results" aria-live="polite" aria-busy=move || asking.get().to_string()>
                {move || match answer.get() {
                    None if asking.get() => view! { <p class="muted small">"Reading the version's files…"</p> }.into_any(),
                    None => ().into_any(),
                    Some(Err(error)) => view! { <p class="notice notice-error small" role="alert">{error}</p> }.into_any(),
                    Some(Ok(found)) if found.hits.is_empty() => view! {
                        <p class="muted small">{format!("Nothing fits that question ({}). Try other words.", found.by)}</p>
                    }.into_any(),
                    Some(Ok(found)) => view! {
                        <p class="small muted">{format!("Ranked {}", found.by)}</p>
                        <ol class="ask-hits">
                            {found.hits.into_iter().map(|hit| {
                                let (path, start) = (hit.path.clone(), hit.start);
                                view! {
                                    <li>
                                        <button type="button" class="search-line ask-hit small" on:click=move |_| on_open.run((path.clone(), start))>
                                            <span class="search-path">{format!("{}:{}–{}", hit.path, hit.start, hit.end)}</span>
                                            <pre class="ask-preview">{hit.preview}</pre>
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                    }.into_any(),
                }}
            </div>
        </section>
    }
}
