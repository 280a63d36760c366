//! The versions: a list labelled "Versions" (arrow keys move the
//! selection), and for the version shown, "Restore this version" and
//! "Changes".

use leptos::prelude::*;

use super::{use_ws, Tab, Ws};
use crate::{
    api::workspace::restore_version,
    app::toasts::{use_toasts, Toasts},
};

/// "Checked" or "N errors" beside a version, when it was checked.
fn check_badge(check: Option<bool>, problems: usize) -> Option<impl IntoView> {
    let (class, text, title) = match check? {
        true => (
            "version-check version-check-passed",
            "Checked".to_owned(),
            "The check passed".to_owned(),
        ),
        false => (
            "version-check version-check-failed",
            ollio_domain::errors_text(problems.max(1)),
            "The check found errors".to_owned(),
        ),
    };
    Some(view! { <span class=class title=title>{text}</span> })
}

#[component]
pub fn VersionList() -> impl IntoView {
    let ws = use_ws();
    let selected_id = move || ws.version().map(|v| v.id);
    let select = move |id: String| {
        ws.selected.set(Some(id));
    };
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        let ids: Vec<String> = ws
            .page
            .with_untracked(|page| page.versions.iter().map(|v| v.id.clone()).collect());
        if ids.is_empty() {
            return;
        }
        let at = untrack(selected_id)
            .and_then(|id| ids.iter().position(|v| *v == id))
            .unwrap_or(0);
        // The list is newest first: Down goes to an older version.
        let next = match ev.key().as_str() {
            "ArrowDown" => (at + 1).min(ids.len() - 1),
            "ArrowUp" => at.saturating_sub(1),
            "Home" => 0,
            "End" => ids.len() - 1,
            _ => return,
        };
        ev.prevent_default();
        select(ids[next].clone());
    };
    view! {
        <section class="versions">
            <h2 id="versions-title" class="rail-title">"Versions"</h2>
            {move || {
                if ws.page.with(|page| page.versions.is_empty()) {
                    view! { <p class="small muted">"Each answer becomes a version."</p> }.into_any()
                } else {
                    view! {
                        <ul
                            class="version-list"
                            role="listbox"
                            aria-labelledby="versions-title"
                            tabindex="0"
                            aria-activedescendant=move || selected_id().map(|id| format!("version-{id}"))
                            on:keydown=keys
                        >
                            <For
                                each=move || ws.page.with(|page| page.versions.clone())
                                key=|version| version.id.clone()
                                let:version
                            >
                                {
                                    let id = version.id.clone();
                                    let this = version.id.clone();
                                    let is_selected = move || selected_id().as_deref() == Some(this.as_str());
                                    view! {
                                        <li
                                            id=format!("version-{id}")
                                            role="option"
                                            class="version-item"
                                            aria-selected=move || is_selected().to_string()
                                            on:click=move |_| select(id.clone())
                                        >
                                            <span class="version-number">{format!("Version {}", version.version)}</span>
                                            <span class="version-title">{version.title.clone()}</span>
                                            <span class="version-time small muted">{version.created.clone()}</span>
                                            {check_badge(version.check, version.problems.len())}
                                        </li>
                                    }
                                }
                            </For>
                        </ul>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

/// Restores version `number` (`id`) as the newest, saying how it went;
/// `restoring` is set while it runs.
pub(super) fn restore(ws: Ws, toasts: Toasts, id: String, number: i64, restoring: RwSignal<bool>) {
    restoring.set(true);
    leptos::task::spawn_local(async move {
        match restore_version(id).await {
            Ok(restored) => {
                toasts.show(format!(
                    "Version {number} restored as version {}",
                    restored.version
                ));
                ws.selected.set(None);
                ws.show_changes.set(false);
                ws.refresh();
            }
            Err(error) => toasts.error(error.to_string()),
        }
        restoring.set(false);
    });
}

/// What can be done with the version shown.
#[component]
pub fn VersionBanner() -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    let restoring = RwSignal::new(false);
    let on_restore = move |_| {
        if let Some(version) = untrack(|| ws.version()) {
            restore(ws, toasts, version.id, version.version, restoring);
        }
    };
    view! {
        {move || {
            let version = ws.version()?;
            let newest = ws.newest().map(|v| v.id) == Some(version.id.clone());
            Some(view! {
                <div class="version-actions">
                    <span class="small">
                        {format!("Version {}", version.version)}
                        {if newest { " (latest)" } else { "" }}
                    </span>
                    {(version.version > 1).then(|| view! {
                        <button
                            type="button"
                            class="button button-ghost button-small"
                            aria-pressed=move || ws.show_changes.get().to_string()
                            on:click=move |_| {
                                ws.show_changes.update(|shown| *shown = !*shown);
                                ws.tab.set(Tab::Code);
                            }
                        >
                            "Changes"
                        </button>
                    })}
                    {(!newest).then(|| view! {
                        <button
                            type="button"
                            class="button button-primary button-small"
                            disabled=move || restoring.get() || ws.running().is_some()
                            on:click=on_restore
                        >
                            "Restore this version"
                        </button>
                        <button
                            type="button"
                            class="button button-ghost button-small"
                            on:click=move |_| {
                                ws.selected.set(None);
                                ws.show_changes.set(false);
                            }
                        >
                            "Back to latest"
                        </button>
                    })}
                </div>
            })
        }}
    }
}
