//! Pieces every form in the app shares.

use leptos::prelude::*;

use crate::{
    domain::{Password, Prompt},
    error::AppError,
};

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
