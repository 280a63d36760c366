//! The chat side: the conversation, the running turn's live steps with
//! Stop, failures with Retry, and the message box. Assistant answers are
//! Markdown rendered safely on the server; code never shows here.

use leptos::{html, prelude::*};

use super::{
    check_report::FinishedWithErrors,
    model_picker::ModelPicker,
    steps::{steps, StepState},
    use_ws, Tab,
};
use ollio_domain::{tokens_text, turn_mode::role, Prompt, TurnMode};

use crate::{
    api::{
        chat::{cancel_turn, send_message},
        training::retrain,
        workspace::{MessageView, VersionView},
    },
    app::{
        attachments::{AttachButton, Attachments, SentChips, StagedChips},
        forms::PromptCounter,
        toasts::use_toasts,
    },
};

#[component]
pub fn ChatPanel() -> impl IntoView {
    let ws = use_ws();
    let log = NodeRef::<html::Ol>::new();
    // Keep the newest message in view as the conversation grows.
    Effect::new(move |_| {
        ws.page.with(|page| page.messages.len());
        ws.events.with(Vec::len);
        if let Some(log) = log.get() {
            log.set_scroll_top(log.scroll_height());
        }
    });
    view! {
        <section class="chat-panel" aria-label="Chat">
            <ol class="chat-log" node_ref=log aria-live="polite">
                <For
                    each=move || ws.page.with(|page| page.messages.clone())
                    key=|message| (message.id.clone(), message.status.clone(), message.content.len())
                    let:message
                >
                    <ChatMessage message />
                </For>
            </ol>
            <MessageBox />
        </section>
    }
}

#[component]
fn ChatMessage(message: MessageView) -> impl IntoView {
    if message.role == "user" {
        // A plan or a question says so; builds are the usual case.
        let mode = TurnMode::parse(Some(&message.mode))
            .ok()
            .filter(|mode| mode.reads_only())
            .map(|mode| view! { <span class="message-mode small">{mode.label()}</span> });
        return view! {
            <li class="message message-user">
                {mode}
                <p class="message-text">{message.content}</p>
                <SentChips files=message.attachments />
            </li>
        }
        .into_any();
    }
    let ws = use_ws();
    let version = ws.page.with_untracked(|page| {
        page.versions
            .iter()
            .find(|version| version.message.as_deref() == Some(message.id.as_str()))
            .cloned()
    });
    // A training run's message (an ML model's): Retrain runs it again.
    let trained = ws.page.with_untracked(|page| {
        page.training_runs
            .iter()
            .any(|run| run.message == message.id)
    });
    let body = match message.status.as_str() {
        "pending" | "running" => view! { <RunningTurn message=message.id.clone() /> }.into_any(),
        "failed" => view! { <FailedTurn message=message.clone() /> }.into_any(),
        "cancelled" if trained => view! {
            <p class="message-note">"Training stopped."</p>
            <RetrainButton />
        }
        .into_any(),
        "cancelled" => view! {
            <p class="message-note">"Stopped. What was written before the stop is kept in the sandbox."</p>
        }
        .into_any(),
        _ if message.model_role.as_deref() == Some(role::PLAN) => {
            view! { <PlanCard message=message.clone() /> }.into_any()
        }
        _ => {
            let retrain = trained.then(|| view! { <RetrainButton /> });
            view! {
                <div class="markdown" inner_html=message.html.clone()></div>
                {retrain}
            }
            .into_any()
        }
    };
    // Which model answered, and why (the project's or the default model
    // builds; a short follow-up may go to the quick-edit model; plans and
    // answers say so).
    let ran = message
        .model
        .clone()
        .map(|model| match &message.model_role {
            Some(role) => format!("{model} · {role}"),
            None => model,
        });
    // What the turn cost in tokens, once it has used any.
    let tokens = (message.tokens > 0).then(|| tokens_text(message.tokens));
    view! {
        <li class="message message-assistant">
            <span class="message-author small">
                "Ollio"
                {ran.map(|ran| view! { <span class="message-model muted">{ran}</span> })}
                {tokens.map(|tokens| view! { <span class="message-tokens muted">{tokens}</span> })}
            </span>
            {body}
            {version
                .clone()
                .filter(|version| version.check == Some(false))
                .map(|version| view! { <FinishedWithErrors version /> })}
            {version.map(|version| view! { <VersionChip version /> })}
        </li>
    }
    .into_any()
}

/// A plan turn's answer: the plan, and "Build this plan", which starts a
/// build that is given the plan.
#[component]
fn PlanCard(message: MessageView) -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    let sending = RwSignal::new(false);
    let plan = message.id.clone();
    let build = move |_| {
        sending.set(true);
        let project = ws.project.get_value();
        let plan = plan.clone();
        leptos::task::spawn_local(async move {
            let sent = send_message(
                project,
                BUILD_PLAN.to_owned(),
                None,
                Some(TurnMode::Build.as_str().to_owned()),
                Some(plan),
            )
            .await;
            match sent {
                Ok(_) => {
                    ws.selected.set(None);
                    ws.refresh();
                }
                Err(error) => toasts.error(error.to_string()),
            }
            sending.set(false);
        });
    };
    let closed = move || {
        sending.get()
            || ws
                .page
                .with(|page| page.running.is_some() || page.usage.remaining <= 0)
    };
    view! {
        <section class="plan-card" aria-label="Plan">
            <h3 class="plan-card-title">"Plan"</h3>
            <div class="markdown" inner_html=message.html></div>
            <div class="plan-card-actions">
                <button
                    type="button"
                    class="button button-primary button-small"
                    disabled=closed
                    on:click=build
                >
                    "Build this plan"
                </button>
                <span class="small muted">"Costs one credit, like any message."</span>
            </div>
        </section>
    }
}

/// What the user's message says when they build a plan.
const BUILD_PLAN: &str = "Build this plan";

/// The version an answer made; selecting it shows its files and preview.
#[component]
fn VersionChip(version: VersionView) -> impl IntoView {
    let ws = use_ws();
    let id = version.id.clone();
    let label = format!("Version {} · {}", version.version, version.title);
    view! {
        <button
            type="button"
            class="version-chip"
            on:click=move |_| {
                ws.selected.set(Some(id.clone()));
                ws.show_changes.set(false);
                ws.tab.set(Tab::Preview);
                ws.side.set(super::Side::Work);
            }
        >
            {label}
        </button>
    }
}

#[component]
fn RunningTurn(message: String) -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    let stopping = RwSignal::new(false);
    let stop = move |_| {
        stopping.set(true);
        let message = message.clone();
        leptos::task::spawn_local(async move {
            if let Err(error) = cancel_turn(message).await {
                toasts.error(error.to_string());
                stopping.set(false);
            }
        });
    };
    let list = move || ws.events.with(|events| steps(events, true));
    view! {
        <div class="turn" aria-busy="true">
            <ol class="steps-list" aria-label="Steps">
                {move || {
                    let now = ws.now.get();
                    list()
                        .into_iter()
                        .map(|step| {
                            let state = step.state;
                            let duration = step.duration_text(now);
                            view! {
                                <li
                                    class="step"
                                    class:step-running=state == StepState::Running
                                    class:step-done=state == StepState::Done
                                    class:step-failed=state == StepState::Failed
                                >
                                    <span class="step-icon" aria-hidden="true">
                                        {match state {
                                            StepState::Running => view! { <span class="spinner"></span> }.into_any(),
                                            StepState::Done => "✓".into_any(),
                                            StepState::Failed => "!".into_any(),
                                        }}
                                    </span>
                                    <span class="step-label">{step.label}</span>
                                    {step.detail.map(|detail| view! { <span class="step-detail small muted">{detail}</span> })}
                                    <span class="step-time small muted">{duration}</span>
                                    {step.progress.map(|progress| view! {
                                        <progress class="step-progress" max="1" value=progress aria-label="Training progress"></progress>
                                    })}
                                    {(!step.metrics.is_empty()).then(|| view! { <MetricsTable metrics=step.metrics.clone() /> })}
                                    {step.diff.clone().map(|diff| view! { <StepDiff diff /> })}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ol>
            <button
                type="button"
                class="button button-ghost button-small"
                disabled=move || stopping.get()
                on:click=stop
            >
                {move || if stopping.get() { "Stopping…" } else { "Stop" }}
            </button>
        </div>
    }
}

/// A file edit's change, folded: added lines green, removed ones red.
#[component]
fn StepDiff(diff: String) -> impl IntoView {
    let lines: Vec<(&'static str, String)> = diff
        .lines()
        .map(|line| {
            let class = if line.starts_with("+++") || line.starts_with("---") {
                "diff-file"
            } else if line.starts_with('+') {
                "diff-added"
            } else if line.starts_with('-') {
                "diff-removed"
            } else if line.starts_with("@@") {
                "diff-hunk"
            } else {
                "diff-same"
            };
            (class, line.to_owned())
        })
        .collect();
    view! {
        <details class="step-diff">
            <summary class="small">"The change"</summary>
            <pre>
                {lines
                    .into_iter()
                    .map(|(class, line)| view! { <span class=class>{line}"\n"</span> })
                    .collect_view()}
            </pre>
        </details>
    }
}

/// The latest metrics of a training run, as it trains.
#[component]
fn MetricsTable(metrics: Vec<(String, String)>) -> impl IntoView {
    view! {
        <table class="metrics-table small">
            <caption class="visually-hidden">"Latest metrics"</caption>
            <thead>
                <tr>
                    <th scope="col">"Metric"</th>
                    <th scope="col">"Value"</th>
                </tr>
            </thead>
            <tbody>
                {metrics
                    .into_iter()
                    .map(|(name, value)| view! {
                        <tr>
                            <th scope="row">{name}</th>
                            <td>{value}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// "Retrain": the project's latest version trained again, without a model
/// call or a credit.
#[component]
fn RetrainButton() -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    let sending = RwSignal::new(false);
    let start = move |_| {
        sending.set(true);
        let project = ws.project.get_value();
        leptos::task::spawn_local(async move {
            match retrain(project).await {
                Ok(_) => ws.refresh(),
                Err(error) => toasts.error(error.to_string()),
            }
            sending.set(false);
        });
    };
    view! {
        <button
            type="button"
            class="button button-ghost button-small"
            disabled=move || sending.get() || ws.running().is_some()
            on:click=start
        >
            "Retrain"
        </button>
    }
}

#[component]
fn FailedTurn(message: MessageView) -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    // A failed training run shows the end of its log, and offers Retrain.
    let run = ws.page.with_untracked(|page| {
        page.training_runs
            .iter()
            .find(|run| run.message == message.id)
            .cloned()
    });
    if let Some(run) = run {
        let reason = message
            .error
            .clone()
            .unwrap_or_else(|| "The training failed.".to_owned());
        return view! {
            <div class="notice notice-error turn-failed" role="alert">
                <p>{reason}</p>
                {run.log_tail.filter(|tail| !tail.is_empty()).map(|tail| view! {
                    <details class="log-tail">
                        <summary>"The end of the log"</summary>
                        <pre>{tail}</pre>
                    </details>
                })}
                <RetrainButton />
            </div>
        }
        .into_any();
    }
    // Retry sends the message this turn answered again, in its mode (and
    // with its plan).
    let request = ws.page.with_untracked(|page| {
        let at = page.messages.iter().position(|m| m.id == message.id)?;
        page.messages[..at]
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .cloned()
    });
    let retrying = RwSignal::new(false);
    let retry = move |_| {
        let Some(request) = request.clone() else {
            return;
        };
        retrying.set(true);
        let project = ws.project.get_value();
        leptos::task::spawn_local(async move {
            let sent = send_message(
                project,
                request.content,
                None,
                Some(request.mode),
                request.plan,
            )
            .await;
            match sent {
                Ok(_) => ws.refresh(),
                Err(error) => toasts.error(error.to_string()),
            }
            retrying.set(false);
        });
    };
    let reason = message
        .error
        .clone()
        .unwrap_or_else(|| "The turn failed.".to_owned());
    view! {
        <div class="notice notice-error turn-failed" role="alert">
            <p>{reason}</p>
            <button
                type="button"
                class="button button-small"
                disabled=move || retrying.get() || ws.running().is_some()
                on:click=retry
            >
                "Retry"
            </button>
        </div>
    }
    .into_any()
}

#[component]
fn MessageBox() -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    let draft = RwSignal::new(String::new());
    let mode = RwSignal::new(TurnMode::Build);
    let sending = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let attachments = Attachments::new();
    // Why the box is closed, if it is.
    let blocked = move || {
        ws.page.with(|page| {
            if page.usage.remaining <= 0 {
                Some(format!(
                    "You have used all {} credits for this month. They reset on {}.",
                    page.usage.limit, page.usage.resets_on
                ))
            } else if page.running.is_some() {
                Some(
                    "Ollio is working on your last message. Wait for it, or press Stop.".to_owned(),
                )
            } else {
                None
            }
        })
    };
    let send = move || {
        if sending.get_untracked() || untrack(blocked).is_some() {
            return;
        }
        if untrack(|| attachments.uploading()) {
            problem.set(Some(
                "Wait for the attached files to finish uploading.".to_owned(),
            ));
            return;
        }
        let content = draft.get_untracked();
        if let Err(error) = Prompt::parse(&content) {
            problem.set(Some(error.to_string()));
            return;
        }
        let chosen = mode.get_untracked();
        if chosen.reads_only() && untrack(|| attachments.ids()).is_some() {
            problem.set(Some(
                "Files can be attached in Build mode only: remove them, or switch to Build."
                    .to_owned(),
            ));
            return;
        }
        problem.set(None);
        sending.set(true);
        let project = ws.project.get_value();
        let files = attachments.ids();
        leptos::task::spawn_local(async move {
            let sent = send_message(
                project,
                content,
                files,
                Some(chosen.as_str().to_owned()),
                None,
            )
            .await;
            match sent {
                Ok(_) => {
                    attachments.clear();
                    draft.set(String::new());
                    ws.selected.set(None);
                    ws.refresh();
                }
                // The draft stays, so nothing typed is lost.
                Err(error) => {
                    problem.set(Some(error.to_string()));
                    toasts.error(error.to_string());
                }
            }
            sending.set(false);
        });
    };
    view! {
        <form
            class="message-box"
            class:dropping=move || attachments.dragging()
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
            on:dragover=move |ev| attachments.on_dragover(ev)
            on:dragleave=move |ev| attachments.on_dragleave(ev)
            on:drop=move |ev| attachments.on_drop(ev)
        >
            <label class="visually-hidden" for="message">"Message"</label>
            <textarea
                id="message"
                name="message"
                rows="3"
                placeholder=move || match mode.get() {
                    TurnMode::Build => "Ask for a change…",
                    TurnMode::Plan => "Describe what to plan; nothing is changed yet…",
                    TurnMode::Ask => "Ask about the project; nothing is changed…",
                }
                aria-describedby="message-count message-blocked"
                disabled=move || blocked().is_some()
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:paste=move |ev| attachments.on_paste(ev)
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    // Enter sends; Shift+Enter starts a new line.
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        send();
                    }
                }
            ></textarea>
            <StagedChips attachments />
            <div class="message-box-options">
                <ModeControl mode disabled=Signal::derive(move || blocked().is_some()) />
                <ModelPicker disabled=Signal::derive(move || blocked().is_some()) />
            </div>
            <div class="message-box-footer">
                <AttachButton
                    attachments
                    disabled=Signal::derive(move || blocked().is_some() || mode.get().reads_only())
                />
                <span id="message-blocked" class="small muted">
                    {move || blocked().unwrap_or_else(|| "Enter sends, Shift+Enter adds a line.".to_owned())}
                </span>
                <PromptCounter id="message-count" text=draft />
                <button
                    type="submit"
                    class="button button-primary"
                    disabled=move || blocked().is_some() || sending.get()
                >
                    "Send"
                </button>
            </div>
            {move || problem.get().map(|text| view! { <p class="notice notice-error" role="alert">{text}</p> })}
            {move || attachments.problem.get().map(|text| view! { <p class="notice notice-error" role="alert">{text}</p> })}
        </form>
    }
}

/// "Mode", beside the message box: Build (the default) changes the app;
/// Plan and Ask only read it.
#[component]
fn ModeControl(mode: RwSignal<TurnMode>, disabled: Signal<bool>) -> impl IntoView {
    view! {
        <span class="mode-control">
            <label class="small" for="message-mode">"Mode"</label>
            <select
                id="message-mode"
                name="mode"
                class="mode-select"
                title="Build changes the app; Plan writes a plan first; Ask answers questions. Plan and Ask change nothing."
                disabled=move || disabled.get()
                on:change=move |ev| {
                    if let Ok(chosen) = TurnMode::parse(Some(&event_target_value(&ev))) {
                        mode.set(chosen);
                    }
                }
            >
                {TurnMode::ALL
                    .into_iter()
                    .map(|option| view! {
                        <option value=option.as_str() selected=move || mode.get() == option>
                            {option.label()}
                        </option>
                    })
                    .collect_view()}
            </select>
        </span>
    }
}
