//! Under an answer whose check still found errors after its fixing
//! rounds: "Finished with errors", the errors, and "Restore version N" for
//! the newest earlier version whose check passed.

use leptos::prelude::*;

use super::{use_ws, versions::restore};
use crate::{api::workspace::VersionView, app::toasts::use_toasts};

#[component]
pub fn FinishedWithErrors(version: VersionView) -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    let restoring = RwSignal::new(false);
    // Versions are newest first: the first older one that passed.
    let good = ws.page.with_untracked(|page| {
        page.versions
            .iter()
            .find(|other| other.version < version.version && other.check == Some(true))
            .map(|other| (other.id.clone(), other.version))
    });
    let offer = good.map(|(id, number)| {
        view! {
            <button
                type="button"
                class="button button-ghost button-small"
                disabled=move || restoring.get() || ws.running().is_some()
                on:click=move |_| restore(ws, toasts, id.clone(), number, restoring)
            >
                {format!("Restore version {number}")}
            </button>
        }
    });
    view! {
        <div class="check-report" role="status">
            <p class="check-report-title">"Finished with errors"</p>
            <ul class="check-report-list">
                {version
                    .problems
                    .iter()
                    .map(|problem| view! { <li><code>{problem.clone()}</code></li> })
                    .collect_view()}
            </ul>
            {offer}
        </div>
    }
}
