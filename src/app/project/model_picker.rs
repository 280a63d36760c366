//! "Runs on", beside the message box: the model this project's turns use,
//! one of those the server offers, or the default. Changing it takes effect
//! from the next message. (Not labelled "Model": every accessible name
//! holding "mode" would be taken for the "Mode" control beside it.)

use leptos::prelude::*;

use super::use_ws;
use crate::{
    api::projects::{list_models, set_project_model},
    app::toasts::use_toasts,
};

#[component]
pub fn ModelPicker(disabled: Signal<bool>) -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    // The offered models, read once the page is interactive.
    let offered = RwSignal::new(Vec::<String>::new());
    let saving = RwSignal::new(false);
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            match list_models().await {
                Ok(models) => offered.set(models),
                Err(error) => toasts.error(format!("The models could not be listed: {error}")),
            }
        });
    });
    let current = move || {
        ws.page
            .with(|page| page.project.model.clone().unwrap_or_default())
    };
    let choose = move |model: String| {
        saving.set(true);
        let project = ws.project.get_value();
        leptos::task::spawn_local(async move {
            match set_project_model(project, model).await {
                Ok(project) => {
                    let name = project
                        .model
                        .clone()
                        .unwrap_or_else(|| "the default model".into());
                    ws.page.update(|page| page.project = project);
                    toasts.show(format!("The next message goes to {name}."));
                }
                Err(error) => toasts.error(error.to_string()),
            }
            saving.set(false);
        });
    };
    view! {
        <span class="mode-control">
            <label class="small" for="message-model">"Runs on"</label>
            <select
                id="message-model"
                class="mode-select model-select"
                disabled=move || disabled.get() || saving.get() || offered.with(Vec::is_empty)
                on:change=move |ev| choose(event_target_value(&ev))
            >
                {move || {
                    let chosen = current();
                    let models = offered.get();
                    let default = models.first().map_or_else(
                        || "Default".to_owned(),
                        |first| format!("Default ({first})"),
                    );
                    // The project's own model, even if no longer offered.
                    let mut listed = models;
                    if !chosen.is_empty() && !listed.contains(&chosen) {
                        listed.push(chosen.clone());
                    }
                    let is_default = chosen.is_empty();
                    view! {
                        <option value="" selected=is_default>{default}</option>
                        {listed
                            .into_iter()
                            .map(|model| {
                                let selected = model == chosen;
                                view! { <option value=model.clone() selected=selected>{model.clone()}</option> }
                            })
                            .collect_view()}
                    }
                }}
            </select>
        </span>
    }
}
