//! The Preview tab's "Logs": the end of the app's log (what its processes
//! print, and the supervisor's `[ollio]` lines), read again every second
//! while the panel is open. It follows the end unless the user scrolled up.

use leptos::prelude::*;

use crate::api::preview::{app_log, AppLogView};

/// How often the log is read again while the panel is open.
#[cfg(feature = "hydrate")]
const EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// How the supervisor's own lines begin.
const MARK: &str = "[ollio]";

#[component]
pub fn AppLogs(
    /// The version whose app is shown; `None` before the first.
    version: Signal<Option<String>>,
    on_close: Callback<()>,
) -> impl IntoView {
    let log = RwSignal::new(None::<Result<AppLogView, String>>);
    let tick = RwSignal::new(0u32);
    // Whether the view keeps to the end as lines come.
    let follow = RwSignal::new(true);
    let body = NodeRef::<leptos::html::Pre>::new();

    Effect::new(move |_| {
        tick.get();
        let Some(shown) = version.get() else {
            log.set(None);
            return;
        };
        leptos::task::spawn_local(async move {
            let answer = app_log(shown.clone()).await.map_err(|e| e.to_string());
            // The panel may have closed, or another version been chosen.
            if version.try_get_untracked().flatten().as_deref() != Some(shown.as_str()) {
                return;
            }
            if log.try_with_untracked(|now| now.as_ref() != Some(&answer)) == Some(true) {
                log.try_set(Some(answer));
            }
            #[cfg(feature = "hydrate")]
            set_timeout(
                move || {
                    tick.try_update(|n| *n += 1);
                },
                EVERY,
            );
        });
    });

    // Keep to the end after new lines, unless the user scrolled up.
    Effect::new(move |_| {
        log.track();
        if follow.get_untracked() {
            if let Some(pre) = body.get() {
                pre.set_scroll_top(pre.scroll_height());
            }
        }
    });
    let on_scroll = move |_| {
        if let Some(pre) = body.get_untracked() {
            let from_end = pre.scroll_height() - pre.scroll_top() - pre.client_height();
            follow.set(from_end < 24);
        }
    };

    let lines = move || {
        log.with(|log| match log {
            Some(Ok(view)) if view.state == "running" && view.text.is_empty() => {
                vec![view! { <span class="muted">"Nothing yet: the app has not printed anything."</span> }.into_any()]
            }
            Some(Ok(view)) if view.state == "running" => view
                .text
                .lines()
                .map(|line| {
                    let class = if line.starts_with(MARK) { "log-line log-mark" } else { "log-line" };
                    view! { <span class=class>{line.to_owned()}"\n"</span> }.into_any()
                })
                .collect(),
            Some(Ok(view)) if view.state == "failed" => vec![view! {
                <span class="log-problem">{view.reason.clone().unwrap_or_default()}</span>
            }
            .into_any()],
            Some(Ok(_)) => vec![view! {
                <span class="muted">"The app is not running: its sandbox is asleep."</span>
            }
            .into_any()],
            Some(Err(error)) => vec![view! {
                <span class="log-problem">{format!("The log could not be read: {error}")}</span>
            }
            .into_any()],
            None if version.with(Option::is_none) => vec![view! {
                <span class="muted">"Nothing has run yet: describe your app in the chat."</span>
            }
            .into_any()],
            None => vec![view! { <span class="muted">"Reading the log…"</span> }.into_any()],
        })
    };
    let live = move || log.with(|log| matches!(log, Some(Ok(view)) if view.state == "running"));

    view! {
        <section id="preview-logs" class="preview-logs" aria-label="Logs">
            <header class="preview-logs-head">
                <h2>"Logs"</h2>
                <span class="log-live" class:is-live=live>
                    {move || if live() { "live" } else { "not running" }}
                </span>
                <button
                    type="button"
                    class="button button-ghost button-small"
                    on:click=move |_| on_close.run(())
                >
                    "Hide logs"
                </button>
            </header>
            <pre
                node_ref=body
                class="app-log preview-logs-body"
                role="log"
                aria-label="The app's log"
                tabindex="0"
                on:scroll=on_scroll
            >
                {lines}
            </pre>
        </section>
    }
}
