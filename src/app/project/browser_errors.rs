//! Errors the preview's page hit in this browser: its reporter script (put
//! in by the preview proxy, see `ollio_sandboxd::preview_reporter`) posts
//! uncaught errors, unhandled rejections and `console.error` calls to this
//! page. They are taken only from the preview frame's own window, and
//! shown as a count on the Preview tab and in its "Logs", where "Fix
//! errors" sends them to the agent as a message.

// What reads the reports runs in the browser only.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

use leptos::prelude::*;
use ollio_domain::{errors_text, Prompt};

use super::use_ws;
use crate::{api::chat::send_message, app::toasts::use_toasts};

/// At most this many different errors are kept.
const KEEP: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserError {
    /// `error`, `unhandledrejection`, `console.error` or `resource`.
    pub kind: String,
    pub message: String,
    /// The script's path in the app (`/src/App.tsx`), when known.
    pub source: String,
    pub line: u32,
    pub column: u32,
    pub stack: String,
    /// How many times it happened.
    pub count: u32,
}

impl BrowserError {
    /// `/src/App.tsx:12:5`, or nothing.
    pub fn place(&self) -> Option<String> {
        if self.source.is_empty() {
            return None;
        }
        Some(match (self.line, self.column) {
            (0, _) => self.source.clone(),
            (line, 0) => format!("{}:{line}", self.source),
            (line, column) => format!("{}:{line}:{column}", self.source),
        })
    }
}

/// A script's address as its path in the app: no origin, no query (Vite
/// adds `?t=…`).
pub fn app_path(url: &str) -> String {
    let without_origin = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => url,
    };
    without_origin
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Adds `error` to `list`, counting it again if it is there already.
pub fn add(list: &mut Vec<BrowserError>, error: BrowserError) {
    if let Some(seen) = list
        .iter_mut()
        .find(|seen| seen.message == error.message && seen.place() == error.place())
    {
        seen.count += 1;
        return;
    }
    if list.len() < KEEP {
        list.push(error);
    }
}

/// The message "Fix errors" sends: each error as the browser said it, with
/// its place and stack, within a message's length.
pub fn fix_message(errors: &[BrowserError]) -> String {
    let mut text = format!(
        "The preview hit {} in the browser. Fix them:\n",
        errors_text(errors.len())
    );
    for (at, error) in errors.iter().enumerate() {
        let mut entry = format!("\n{}. [{}] {}", at + 1, error.kind, error.message);
        if let Some(place) = error.place() {
            entry.push_str(&format!(" (at {place})"));
        }
        if error.count > 1 {
            entry.push_str(&format!(" ×{}", error.count));
        }
        let stack = error
            .stack
            .lines()
            .take(6)
            .collect::<Vec<_>>()
            .join("\n   ");
        if !stack.trim().is_empty() {
            entry.push_str("\n   ");
            entry.push_str(&stack);
        }
        entry.push('\n');
        if text.chars().count() + entry.chars().count() > Prompt::MAX_CHARS - 40 {
            text.push_str(&format!("\n…and {} more.", errors.len() - at));
            break;
        }
        text.push_str(&entry);
    }
    text
}

/// Takes the preview's reports while the workspace is open. `frame` is the
/// preview's frame: a message from any other window is ignored. The frame
/// is sandboxed without `allow-same-origin`, so its messages come from an
/// opaque origin (`"null"`), or from the preview's own when opened so.
#[cfg(feature = "hydrate")]
pub fn listen(frame: NodeRef<leptos::html::Iframe>, preview_origin: Memo<Option<String>>) {
    use wasm_bindgen::{JsCast, JsValue};
    let ws = use_ws();
    let handle = window_event_listener(leptos::ev::message, move |event| {
        let Some(frame) = frame.get_untracked() else {
            return;
        };
        let Some(window) = frame.content_window() else {
            return;
        };
        let from_frame = event
            .source()
            .is_some_and(|source| js_sys::Object::is(&source, window.as_ref()));
        let origin = event.origin();
        let own_origin =
            origin == "null" || preview_origin.get_untracked().as_deref() == Some(origin.as_str());
        if !from_frame || !own_origin {
            return;
        }
        let data: JsValue = event.data();
        if !data.is_object() {
            return;
        }
        let data: &js_sys::Object = data.unchecked_ref();
        let text = |key: &str| {
            js_sys::Reflect::get(data, &JsValue::from_str(key))
                .ok()
                .and_then(|value| value.as_string())
                .unwrap_or_default()
        };
        let number = |key: &str| {
            js_sys::Reflect::get(data, &JsValue::from_str(key))
                .ok()
                .and_then(|value| value.as_f64())
                .map_or(0, |n| n.clamp(0.0, f64::from(u32::MAX)) as u32)
        };
        if text("ollio") != "preview-error" {
            return;
        }
        let limit = |mut value: String, max: usize| {
            if let Some((at, _)) = value.char_indices().nth(max) {
                value.truncate(at);
            }
            value
        };
        let error = BrowserError {
            kind: limit(text("kind"), 40),
            message: limit(text("message"), 2000),
            source: app_path(&limit(text("source"), 500)),
            line: number("line"),
            column: number("column"),
            stack: limit(text("stack"), 4000),
            count: 1,
        };
        if error.message.is_empty() {
            return;
        }
        ws.preview_errors.update(|list| add(list, error));
    });
    on_cleanup(move || handle.remove());
}

/// The errors in the Preview tab's "Logs", with "Fix errors".
#[component]
pub fn BrowserErrors() -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    let sending = RwSignal::new(false);
    let fix = move |_| {
        let errors = ws.preview_errors.get_untracked();
        if errors.is_empty() || sending.get_untracked() {
            return;
        }
        sending.set(true);
        let project = ws.project.get_value();
        leptos::task::spawn_local(async move {
            match send_message(project, fix_message(&errors), None, None, None).await {
                Ok(_) => {
                    ws.preview_errors.set(Vec::new());
                    ws.selected.set(None);
                    ws.refresh();
                    toasts.show("Sent the errors to Ollio");
                }
                Err(error) => toasts.error(error.to_string()),
            }
            sending.set(false);
        });
    };
    let blocked = move || {
        ws.page
            .with(|page| page.running.is_some() || page.usage.remaining <= 0)
    };
    view! {
        <Show when=move || ws.preview_errors.with(|list| !list.is_empty())>
            <section class="browser-errors" aria-label="Errors in the browser">
                <header class="browser-errors-head">
                    <h2>
                        {move || format!("{} in the browser", errors_text(ws.preview_errors.with(Vec::len)))}
                    </h2>
                    <button
                        type="button"
                        class="button button-primary button-small"
                        disabled=move || sending.get() || blocked()
                        on:click=fix
                    >
                        "Fix errors"
                    </button>
                    <button
                        type="button"
                        class="button button-ghost button-small"
                        on:click=move |_| ws.preview_errors.set(Vec::new())
                    >
                        "Clear"
                    </button>
                </header>
                <ul class="browser-errors-list">
                    {move || {
                        ws.preview_errors
                            .get()
                            .into_iter()
                            .map(|error| {
                                let place = error.place();
                                let count = (error.count > 1).then(|| format!(" ×{}", error.count));
                                view! {
                                    <li>
                                        <code class="browser-error-message">{error.message.clone()}</code>
                                        {place.map(|place| view! { <span class="small muted">{format!(" {place}")}</span> })}
                                        {count.map(|count| view! { <span class="small muted">{count}</span> })}
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </section>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(message: &str, source: &str, line: u32) -> BrowserError {
        BrowserError {
            kind: "error".into(),
            message: message.into(),
            source: source.into(),
            line,
            column: 0,
            stack: String::new(),
            count: 1,
        }
    }

    #[test]
    fn addresses_become_app_paths() {
        assert_eq!(
            app_path("http://5173-abc.localhost:49983/src/App.tsx?t=1700"),
            "/src/App.tsx"
        );
        assert_eq!(app_path("https://x.example"), "/");
        assert_eq!(app_path(""), "");
    }

    #[test]
    fn the_same_error_is_counted_not_repeated() {
        let mut list = Vec::new();
        add(&mut list, error("Error: boom", "/src/App.tsx", 3));
        add(&mut list, error("Error: boom", "/src/App.tsx", 3));
        add(&mut list, error("Error: other", "", 0));
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].count, 2);
        for n in 0..100 {
            add(&mut list, error(&format!("e{n}"), "", 0));
        }
        assert_eq!(list.len(), KEEP);
    }

    #[test]
    fn the_fix_message_holds_each_error_and_fits_a_message() {
        let mut boom = error("Error: Board failed to render", "/src/App.tsx", 12);
        boom.stack = "Error: Board failed to render\n    at App (/src/App.tsx:12:9)".into();
        boom.count = 2;
        let text = fix_message(&[boom]);
        assert!(text.starts_with("The preview hit 1 error in the browser."));
        assert!(text.contains("1. [error] Error: Board failed to render (at /src/App.tsx:12) ×2"));
        assert!(text.contains("at App (/src/App.tsx:12:9)"));
        let many: Vec<_> = (0..50)
            .map(|n| error(&"x".repeat(300 + n), "/a.js", 1))
            .collect();
        let text = fix_message(&many);
        assert!(Prompt::parse(&text).is_ok());
        assert!(text.contains("more."));
    }
}
