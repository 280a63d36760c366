//! Pieces every form in the app shares.

use leptos::prelude::*;

use super::escape::textarea_text;
use ollio_domain::{Password, Prompt};

use crate::error::AppError;

/// The error an action ended with, as an alert.
pub fn action_error<T: 'static>(
    value: impl Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        value.get().and_then(Result::err).map(|error| {
            view! {
                <p class="notice notice-error" role="alert">
                    {error.to_string()}
                </p>
            }
        })
    }
}

/// What a refused plain form post had in its field `name`, for the form to
/// show again: the server sends it back to the page in a short-lived cookie
/// (`server::request::back_with_typed`). Read while the server renders the
/// page; forms are rendered there.
pub fn typed(name: &str) -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<axum::http::request::Parts>()?;
        parts
            .headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix("ollio_typed="))
            .flat_map(|typed| typed.split('&'))
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| ollio_domain::decode_query_value(value))
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = name;
        None
    }
}

/// A field for choosing a password, with the length rule shown beside it.
#[component]
pub fn NewPasswordField(
    id: &'static str,
    name: &'static str,
    label: &'static str,
) -> impl IntoView {
    let hint = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=name
                type="password"
                autocomplete="new-password"
                minlength=Password::MIN_CHARS
                aria-describedby=hint.clone()
                required
            />
            <p id=hint class="hint">
                {format!("At least {} characters.", Password::MIN_CHARS)}
            </p>
        </div>
    }
}

/// "What do you want to build?" and its box, bound to `draft`. Ctrl/Cmd+Enter
/// sends the form from anywhere in the box.
#[component]
pub fn PromptField(
    draft: RwSignal<String>,
    placeholder: &'static str,
    /// The ids of what explains the box (its counter, a hint).
    described_by: &'static str,
    #[prop(optional)] autofocus: bool,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    keep_typed_before_hydration(draft);
    view! {
        <label class="prompt-label" for="prompt">
            "What do you want to build?"
        </label>
        <textarea
            id="prompt"
            name="prompt"
            rows="4"
            autofocus=autofocus
            placeholder=placeholder
            aria-describedby=described_by
            prop:value=move || draft.get()
            on:input=move |ev| draft.set(event_target_value(&ev))
            on:keydown=submit_on_ctrl_enter
        >
            {textarea_text(&draft.get_untracked())}
        </textarea>
    }
}

/// What was typed into the server-rendered box before its island came alive
/// becomes `draft`: hydrating sets the box's value from `draft`, which would
/// otherwise wipe it (and a click on Build then sends an empty prompt).
#[cfg(feature = "hydrate")]
fn keep_typed_before_hydration(draft: RwSignal<String>) {
    use wasm_bindgen::JsCast;
    let typed = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("prompt"))
        .and_then(|element| element.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
        .map(|area| area.value());
    if let Some(typed) = typed.filter(|typed| *typed != draft.get_untracked()) {
        draft.set(typed);
    }
}

fn submit_on_ctrl_enter(ev: leptos::ev::KeyboardEvent) {
    if ev.key() != "Enter" || !(ev.ctrl_key() || ev.meta_key()) {
        return;
    }
    ev.prevent_default();
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let form = ev
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
            .and_then(|area| area.form());
        if let Some(form) = form {
            // Like a click on the form's button: its submit handler runs.
            let _ = form.request_submit();
        }
    }
}

/// "123 / 4000" beside a prompt box, marked when over the limit.
#[component]
pub fn PromptCounter(id: &'static str, text: RwSignal<String>) -> impl IntoView {
    let length = move || text.with(|text| text.trim().chars().count());
    view! {
        <span id=id class="counter small" class:over-limit=move || { length() > Prompt::MAX_CHARS }>
            {length}
            " / "
            {Prompt::MAX_CHARS}
        </span>
    }
}
