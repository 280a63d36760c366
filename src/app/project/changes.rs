//! The "Changes" view: the shown version's diff against the one before.

use leptos::prelude::*;

use super::use_ws;
use crate::api::changes::{version_changes, FileChange};
use crate::app::resource;

#[component]
pub fn ChangesView() -> impl IntoView {
    let ws = use_ws();
    let version = Memo::new(move |_| ws.version().map(|v| v.id));
    let changes = resource::load(
        move || version.get(),
        |version| async move {
            match version {
                Some(version) => version_changes(version).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <div class="changes" aria-label="Changes">
            <Suspense fallback=|| view! { <div class="skeleton skeleton-card tall"></div> }>
                {move || Suspend::new(async move {
                    match changes.await {
                        Ok(Some(changes)) => {
                            let title = match changes.previous {
                                Some(previous) => format!("Changes in version {} since version {}", changes.version, previous),
                                None => format!("Version {}: the first version", changes.version),
                            };
                            view! {
                                <div class="changes-head">
                                    <h2 class="rail-title">{title}</h2>
                                    <button type="button" class="button button-ghost button-small" on:click=move |_| ws.show_changes.set(false)>
                                        "Back to files"
                                    </button>
                                </div>
                                {if changes.files.is_empty() {
                                    view! { <p class="muted">"No file changed."</p> }.into_any()
                                } else {
                                    changes.files.into_iter().map(|file| view! { <FileDiff file /> }).collect_view().into_any()
                                }}
                            }
                            .into_any()
                        }
                        Ok(None) => view! { <p class="muted">"No version yet."</p> }.into_any(),
                        Err(error) => view! { <p class="notice notice-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
pub fn FileDiff(file: FileChange) -> impl IntoView {
    let summary = format!(
        "{} · {} · +{} −{}",
        file.path, file.change, file.added, file.removed
    );
    view! {
        <details class="file-diff" open>
            <summary>{summary}</summary>
            {if file.binary {
                view! { <p class="small muted">"A binary file: its bytes changed."</p> }.into_any()
            } else if file.too_large {
                view! { <p class="small muted">"Too large to show line by line."</p> }.into_any()
            } else {
                view! {
                    <div class="diff" role="region" aria-label=format!("Changes to {}", file.path) tabindex="0">
                        {file.hunks.into_iter().map(|hunk| view! {
                            <pre class="diff-hunk"><code>
                                {hunk.into_iter().map(|line| {
                                    let class = match line.sign.as_str() {
                                        "+" => "diff-line diff-add",
                                        "-" => "diff-line diff-del",
                                        _ => "diff-line",
                                    };
                                    let number = line.new.or(line.old).map(|n| n.to_string()).unwrap_or_default();
                                    view! {
                                        <span class=class>
                                            <span class="diff-number" aria-hidden="true">{number}</span>
                                            <span class="diff-sign">{line.sign}</span>
                                            {line.text}
                                        </span>
                                    }
                                }).collect_view()}
                            </code></pre>
                        }).collect_view()}
                    </div>
                }
                .into_any()
            }}
        </details>
    }
}
