//! The Model tab of an ML model project: the shown version's training run
//! (its status, progress and metrics), its API's URL with Copy and Open,
//! a "Try it" form that posts JSON to `/predict` through the preview's
//! origin (prefilled from the API's own `/openapi.json`), and each metric
//! across the project's versions (SVG drawn on the server).

use leptos::prelude::*;

use super::{code_tab::CopyButton, openapi_example::predict_example, use_ws};
use ollio_domain::{number_text, TurnEvent};

use crate::api::{
    preview::{preview_status, start_preview},
    training::{model_panel, ModelPanelView, ModelRunView},
};

/// Looks for the API's schema before "Try it" starts empty.
const EXAMPLE_TRIES: usize = 60;

/// A status in words.
fn status_text(status: &str) -> &'static str {
    match status {
        "queued" => "Waiting to train",
        "installing" => "Installing packages",
        "training" => "Training",
        "deploying" => "Deploying the API",
        "deployed" => "Deployed",
        "failed" => "Training failed",
        "cancelled" => "Stopped",
        _ => "Unknown",
    }
}

/// `http://8000-x.localhost:49983` of `http://8000-x.localhost:49983/docs`.
fn origin_of(url: &str) -> String {
    match url.find("://") {
        Some(scheme) => match url[scheme + 3..].find('/') {
            Some(path) => url[..scheme + 3 + path].to_owned(),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// What the Model tab shows besides the charts.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Loading,
    Failed(String),
    Empty,
    Runs,
}

/// The Model tab, in its own WASM chunk (see [`super::lazy_part`]).
#[component]
pub fn ModelPart() -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    {
        super::lazy_part::placeholder("Model tab")
    }
    #[cfg(feature = "hydrate")]
    {
        super::lazy_part::loaded_later(super::Tab::Model, "Model tab", model_tab_view)
    }
}

/// The chunk's entry (`/pkg/split_model_tab.wasm`).
#[cfg(feature = "hydrate")]
#[leptos::wasm_split::wasm_split(model_tab, wasm_split_path = ::leptos::wasm_split, fallible)]
fn model_tab_view() -> super::lazy_part::Loaded {
    Ok(view! { <ModelTab /> }.into_any())
}

#[component]
fn ModelTab() -> impl IntoView {
    let ws = use_ws();
    let panel = RwSignal::new(None::<Result<ModelPanelView, String>>);
    // Read when the tab is open, again when a turn or run ends or a step
    // of the run begins.
    let steps_seen = Memo::new(move |_| {
        ws.events.with(|events| {
            events
                .iter()
                .filter(|e| matches!(e.event, TurnEvent::TrainingStep { .. }))
                .count()
        })
    });
    let (asked, applied) = (StoredValue::new(0u64), StoredValue::new(0u64));
    Effect::new(move |_| {
        ws.refreshes.get();
        steps_seen.get();
        if ws.tab.get() != super::Tab::Model {
            return;
        }
        let project = ws.project.get_value();
        asked.update_value(|n| *n += 1);
        let this = asked.get_value();
        leptos::task::spawn_local(async move {
            let answer = model_panel(project)
                .await
                .map_err(|error| error.to_string());
            // Reads overlap; an answer older than the one shown is dropped.
            if this < applied.get_value() {
                return;
            }
            applied.set_value(this);
            panel.set(Some(answer));
        });
    });
    // What the tab shows, apart from the run: re-reads of the same runs
    // keep the run's card (and what was typed in Try it) as it is.
    let state = Memo::new(move |_| {
        panel.with(|panel| match panel {
            None => Shown::Loading,
            Some(Err(error)) => Shown::Failed(error.clone()),
            Some(Ok(found)) if found.runs.is_empty() => Shown::Empty,
            Some(Ok(_)) => Shown::Runs,
        })
    });
    // The run of the version shown, else the newest.
    let shown_run = Memo::new(move |_| {
        let version = ws.version().map(|v| v.id);
        panel.with(|panel| {
            let runs = panel.as_ref()?.as_ref().ok()?;
            runs.runs
                .iter()
                .find(|run| Some(&run.run.version_id) == version.as_ref())
                .or_else(|| runs.runs.first())
                .cloned()
        })
    });
    let charts = move || {
        panel.with(|panel| {
            panel
                .as_ref()
                .and_then(|panel| panel.as_ref().ok())
                .map(|panel| panel.charts_svg.clone())
                .unwrap_or_default()
        })
    };
    view! {
        <div class="model-tab">
            {move || match state.get() {
                Shown::Loading => view! { <p class="muted" aria-busy="true">"Reading the model…"</p> }.into_any(),
                Shown::Failed(error) => view! { <p class="notice notice-error" role="alert">{error}</p> }.into_any(),
                Shown::Empty => view! {
                    <p class="muted">"No model yet. Describe the model you want in the chat: Ollio writes it, trains it and deploys its API."</p>
                }
                .into_any(),
                Shown::Runs => view! { <RunCard run=shown_run /> }.into_any(),
            }}
            {move || {
                let svg = charts();
                (!svg.is_empty()).then(|| view! {
                    <section class="model-section" aria-labelledby="model-charts">
                        <h3 id="model-charts">"Metrics by version"</h3>
                        // Drawn on the server, names escaped (render/metric_chart.rs).
                        <div class="metric-charts" inner_html=svg></div>
                    </section>
                })
            }}
        </div>
    }
}

#[component]
fn RunCard(run: Memo<Option<ModelRunView>>) -> impl IntoView {
    let ws = use_ws();
    // The live progress of a run in progress, from its events.
    let live = move || {
        ws.events.with(|events| {
            events.iter().rev().find_map(|e| match &e.event {
                TurnEvent::TrainingProgress { progress, .. } => *progress,
                _ => None,
            })
        })
    };
    view! {
        {move || run.get().map(|shown| {
            let ModelRunView { run: job, version } = shown;
            let status = job.status.clone();
            let active = !matches!(status.as_str(), "deployed" | "failed" | "cancelled");
            let progress = if active { live().or(job.progress) } else { job.progress };
            let metrics: Vec<(String, String)> = job
                .metrics
                .iter()
                .map(|(name, value)| (name.clone(), number_text(*value)))
                .collect();
            let deployed = status == "deployed";
            view! {
                <section class="model-section" aria-labelledby="model-status">
                    <div class="model-head">
                        <h3 id="model-status">{format!("Version {version}")}</h3>
                        <span class=format!("model-status model-status-{status}") role="status">
                            {status_text(&status)}
                        </span>
                    </div>
                    {(active && progress.is_some()).then(|| view! {
                        <progress class="step-progress" max="1" value=progress.unwrap_or_default() aria-label="Training progress"></progress>
                    })}
                    {job.error.clone().map(|error| view! { <p class="notice notice-error">{error}</p> })}
                    {(!metrics.is_empty()).then(|| view! {
                        <table class="metrics-table">
                            <caption class="visually-hidden">"Metrics"</caption>
                            <thead><tr><th scope="col">"Metric"</th><th scope="col">"Value"</th></tr></thead>
                            <tbody>
                                {metrics.into_iter().map(|(name, value)| view! {
                                    <tr><th scope="row">{name}</th><td>{value}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    })}
                </section>
                {deployed.then(|| view! { <ApiCard version=job.version_id.clone() stored=job.deployment_url.clone() /> })}
            }
        })}
    }
}

/// The deployed API: its URL (Copy, Open) and "Try it".
#[component]
fn ApiCard(version: String, stored: Option<String>) -> impl IntoView {
    let ws = use_ws();
    // Where the API answers now: the shown version's preview. The newest
    // version's is looked at (the Preview tab offers to wake it); an older
    // one's is started, with its own trained model, as the Preview tab does.
    let live = RwSignal::new(None::<Option<String>>);
    let newest = ws.newest().is_some_and(|newest| newest.id == version);
    Effect::new({
        let version = version.clone();
        move |_| {
            let version = version.clone();
            leptos::task::spawn_local(async move {
                let answer = if newest {
                    preview_status(version).await
                } else {
                    start_preview(version).await
                };
                let url = match answer {
                    Ok(view) if view.state == "running" => view.url.map(|url| origin_of(&url)),
                    _ => None,
                };
                live.set(Some(url));
            });
        }
    });
    view! {
        {move || match live.get() {
            None => view! { <p class="muted" aria-busy="true">"Looking for the API…"</p> }.into_any(),
            Some(None) => view! {
                <section class="model-section">
                    <p class="muted">
                        "The API is asleep: its sandbox ended. Open the Preview tab to start it again (the trained model comes back with it)."
                    </p>
                    {stored.clone().map(|url| view! { <p class="small muted">"It was at " <code>{url}</code></p> })}
                </section>
            }
            .into_any(),
            Some(Some(url)) => view! { <LiveApi url /> }.into_any(),
        }}
    }
}

#[component]
fn LiveApi(url: String) -> impl IntoView {
    let request = RwSignal::new(String::new());
    let answer = RwSignal::new(None::<Result<String, String>>);
    let sending = RwSignal::new(false);
    // The example request from the API's own schema.
    Effect::new({
        let url = url.clone();
        move |_| {
            let url = url.clone();
            leptos::task::spawn_local(async move {
                // A sandbox just started for an older version may take a
                // moment to answer: ask again, a second apart, for a while.
                for _ in 0..EXAMPLE_TRIES {
                    if let Some(example) = fetch_example(&url).await {
                        if request
                            .try_get_untracked()
                            .is_some_and(|typed| typed.is_empty())
                        {
                            request.set(example);
                        }
                        return;
                    }
                    // Gone from the page: nobody is waiting.
                    if request.try_get_untracked().is_none() {
                        return;
                    }
                    #[cfg(feature = "hydrate")]
                    super::live::sleep_ms(1000).await;
                }
            });
        }
    });
    let send = {
        let url = url.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let body = request.get_untracked();
            if let Err(error) = serde_json::from_str::<serde_json::Value>(&body) {
                answer.set(Some(Err(format!(
                    "The request is not valid JSON: {error}."
                ))));
                return;
            }
            sending.set(true);
            let url = url.clone();
            leptos::task::spawn_local(async move {
                answer.set(Some(post_predict(&url, body).await));
                sending.set(false);
            });
        }
    };
    let docs = format!("{url}/docs");
    view! {
        <section class="model-section" aria-labelledby="model-api">
            <h3 id="model-api">"Prediction API"</h3>
            <div class="model-url">
                <code>{url.clone()}</code>
                <CopyButton path="the API's URL".to_owned() content=url.clone() />
                <a class="button button-ghost button-small" href=docs target="_blank" rel="noopener noreferrer">
                    "Open"
                </a>
            </div>
            <form class="form-stack try-it" on:submit=send>
                <h3>"Try it"</h3>
                <div class="field">
                    <label for="try-request">"Request to POST /predict (JSON)"</label>
                    <textarea
                        id="try-request"
                        rows="7"
                        spellcheck="false"
                        prop:value=move || request.get()
                        on:input=move |ev| request.set(event_target_value(&ev))
                    ></textarea>
                </div>
                <button type="submit" class="button button-primary" disabled=move || sending.get()>
                    {move || if sending.get() { "Sending…" } else { "Send" }}
                </button>
            </form>
            {move || answer.get().map(|answer| match answer {
                Ok(text) => view! {
                    <div class="try-answer" role="status">
                        <p class="small muted">"The API answered:"</p>
                        <pre>{text}</pre>
                    </div>
                }
                .into_any(),
                Err(error) => view! { <p class="notice notice-error" role="alert">{error}</p> }.into_any(),
            })}
        </section>
    }
}

/// The example request from `{url}/openapi.json`.
async fn fetch_example(url: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let response = gloo_net::http::Request::get(&format!("{url}/openapi.json"))
            .send()
            .await
            .ok()?;
        let spec: serde_json::Value = response.json().await.ok()?;
        predict_example(&spec)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (url, predict_example);
        None
    }
}

/// Posts `body` to `{url}/predict`: the answer pretty-printed, or why not.
async fn post_predict(url: &str, body: String) -> Result<String, String> {
    #[cfg(feature = "hydrate")]
    {
        let response = gloo_net::http::Request::post(&format!("{url}/predict"))
            .header("Content-Type", "application/json")
            .body(body)
            .map_err(|error| format!("The request could not be made: {error}."))?
            .send()
            .await
            .map_err(|error| format!("The API could not be reached: {error}."))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let pretty = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|json| serde_json::to_string_pretty(&json).ok())
            .unwrap_or(text);
        if (200..300).contains(&status) {
            Ok(pretty)
        } else {
            Err(format!("The API answered {status}: {pretty}"))
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (url, body);
        Err("The browser sends this.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_drop_the_path() {
        assert_eq!(
            origin_of("http://8000-x.localhost:49983/docs"),
            "http://8000-x.localhost:49983"
        );
        assert_eq!(origin_of("https://a.example"), "https://a.example");
        assert_eq!(status_text("deployed"), "Deployed");
    }
}
