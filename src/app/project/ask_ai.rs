//! "Ask AI" (Ctrl/Cmd+K) in the editor: an instruction for the selected
//! code (nothing selected: the whole file), the quick-edit model's
//! proposal shown as a diff, and "Accept" (a version, "AI edit: …") or
//! "Reject". A proposal costs one credit.

use leptos::prelude::*;

use super::{changes::FileDiff, use_ws, Cursor};
use crate::{
    api::refine::{accept_refine, refine_selection, RefineProposal},
    app::toasts::use_toasts,
};

/// Where "Ask AI" is.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Asking,
    Waiting,
    Proposed(RefineProposal),
    Saving(RefineProposal),
}

#[component]
pub fn AskAi(
    path: String,
    /// The file's text as the editor has it now.
    text: Signal<String>,
    cursor: RwSignal<Cursor>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    let stage = RwSignal::new(Stage::Asking);
    let instruction = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let path = StoredValue::new(path);
    Effect::new(move |_| {
        if open.get() {
            stage.set(Stage::Asking);
            error.set(None);
            #[cfg(feature = "hydrate")]
            super::focus_by_id("ask-ai-instruction");
        }
    });
    let selected = move || {
        let Cursor { from, to, .. } = cursor.get();
        from != to
    };
    let ask = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Cursor { from, to, .. } = cursor.get_untracked();
        let text = text.get_untracked();
        // Nothing selected: the whole file.
        let (from, to) = if from == to {
            (0, text.encode_utf16().count())
        } else {
            (from.min(to) as usize, from.max(to) as usize)
        };
        let asked = instruction.get_untracked();
        stage.set(Stage::Waiting);
        error.set(None);
        leptos::task::spawn_local(async move {
            let answer = refine_selection(
                ws.project.get_value(),
                path.get_value(),
                text,
                from,
                to,
                asked,
            )
            .await;
            // The header's credits follow (the page's figures are read again).
            ws.refresh();
            match answer {
                Ok(proposal) => stage.set(Stage::Proposed(proposal)),
                Err(failure) => {
                    error.set(Some(failure.to_string()));
                    stage.set(Stage::Asking);
                }
            }
        });
    };
    let accept = move |proposal: RefineProposal| {
        stage.set(Stage::Saving(proposal.clone()));
        leptos::task::spawn_local(async move {
            let saved = accept_refine(
                ws.project.get_value(),
                path.get_value(),
                proposal.proposed.clone(),
                instruction.get_untracked(),
            )
            .await;
            match saved {
                Ok(version) => {
                    ws.drafts.update(|drafts| {
                        drafts.remove(&path.get_value());
                    });
                    toasts.show(format!(
                        "Saved as version {}: {}",
                        version.version, version.title
                    ));
                    instruction.set(String::new());
                    open.set(false);
                    ws.refresh();
                }
                Err(failure) => {
                    error.set(Some(failure.to_string()));
                    stage.set(Stage::Proposed(proposal));
                }
            }
        });
    };
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            open.set(false);
        }
    };
    view! {
        <Show when=move || open.get()>
            <section class="ask-ai" aria-label="Ask AI" on:keydown=keys>
                {move || error.get().map(|error| view! { <p class="notice notice-error small" role="alert">{error}</p> })}
                {move || match stage.get() {
                    Stage::Asking | Stage::Waiting => view! {
                        <form class="ask-ai-form" on:submit=ask>
                            <label for="ask-ai-instruction" class="small">
                                {move || if selected() { "Instruction for the selected code" } else { "Instruction for the whole file (nothing is selected)" }}
                            </label>
                            <div class="ask-ai-row">
                                <input
                                    id="ask-ai-instruction"
                                    type="text"
                                    aria-label="Instruction"
                                    placeholder="Make it…"
                                    maxlength="2000"
                                    required
                                    prop:value=move || instruction.get()
                                    on:input=move |ev| instruction.set(event_target_value(&ev))
                                />
                                <button type="submit" class="button button-primary button-small" disabled=move || stage.get() == Stage::Waiting>
                                    {move || if stage.get() == Stage::Waiting { "Asking…" } else { "Ask AI" }}
                                </button>
                                <button type="button" class="button button-ghost button-small" on:click=move |_| open.set(false)>"Cancel"</button>
                            </div>
                            <p class="hint">"The quick-edit model proposes a change you can accept or reject. One credit."</p>
                        </form>
                    }.into_any(),
                    Stage::Proposed(proposal) | Stage::Saving(proposal) => {
                        let saving = matches!(stage.get_untracked(), Stage::Saving(_));
                        let chosen = proposal.clone();
                        view! {
                            <div class="ask-ai-proposal" role="region" aria-label="Proposed change">
                                <FileDiff file=proposal.diff.clone() />
                                <div class="ask-ai-row">
                                    <button type="button" class="button button-primary button-small" disabled=saving on:click=move |_| accept(chosen.clone())>
                                        {if saving { "Saving…" } else { "Accept" }}
                                    </button>
                                    <button type="button" class="button button-ghost button-small" disabled=saving on:click=move |_| open.set(false)>"Reject"</button>
                                </div>
                            </div>
                        }.into_any()
                    }
                }}
            </section>
        </Show>
    }
}
