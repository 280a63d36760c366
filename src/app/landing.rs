//! The landing page: what Ollio is, and a prompt box. A visitor's prompt goes
//! through sign-up: a good one leads to `/signup`, which comes back to the
//! home page's prompt box with it filled in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map, params::ParamsMap};

use ollio_domain::encode_query_value;

use super::forms::{PromptCounter, PromptField};
use ollio_domain::Prompt;

const EXAMPLES: [&str; 4] = [
    "A dark login form",
    "A pomodoro timer with a progress ring",
    "A landing page for a bakery",
    "A markdown notes app",
];

/// The prompt to show in the box: what was submitted, else an example picked.
fn prefill(query: &ParamsMap) -> String {
    query
        .get("prompt")
        .or_else(|| query.get("idea"))
        .unwrap_or_default()
}

/// Sign-up, coming back to the home page with `prompt` in its box.
pub fn signup_with(prompt: &str) -> String {
    let home = format!("/?prompt={}", encode_query_value(prompt));
    format!("/signup?next={}", encode_query_value(&home))
}

/// A link that puts an example into the prompt box, with or without JavaScript.
fn example_href(text: &str) -> String {
    format!("/?idea={}", encode_query_value(text))
}

#[component]
pub fn Landing() -> impl IntoView {
    let query = use_query_map();
    let draft = query.with_untracked(prefill);
    // A submitted prompt: a good one goes on to sign-up, a bad one is
    // explained under the box.
    let outcome = query
        .with_untracked(|q| q.get("prompt"))
        .map(|raw| Prompt::parse(&raw).map(|prompt| prompt.as_str().to_owned()));

    view! {
        <Title text="" />
        <section class="hero" aria-labelledby="hero-title">
            <div class="container hero-inner">
                <p class="eyebrow">"AI app builder · open and self-hostable"</p>
                <h1 id="hero-title">"Describe an app. Watch it run."</h1>
                <p class="lead">
                    "Ollio's agent writes the files, runs the commands in an isolated sandbox and starts your app. "
                    "Read every file, use the live preview, and keep asking for changes."
                </p>
                <form method="get" action="/" class="prompt-card" aria-label="Start a project">
                    <LandingPromptBox draft />
                    {outcome
                        .map(|result| match result {
                            Ok(prompt) => view! { <Redirect path=signup_with(&prompt) /> }.into_any(),
                            Err(error) => {
                                view! {
                                    <p class="notice notice-error" role="alert">
                                        {error.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                        })}
                </form>
                <div class="examples">
                    <span class="muted small">"Try:"</span>
                    <ul class="chips" aria-label="Example prompts">
                        {EXAMPLES
                            .iter()
                            .map(|text| {
                                view! {
                                    <li>
                                        <a class="chip" href=example_href(text)>
                                            {*text}
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </div>
            </div>
        </section>

        <section id="how" class="section" aria-labelledby="how-title">
            <div class="container">
                <h2 id="how-title">"How it works"</h2>
                <ol class="steps">
                    <li class="card">
                        <span class="step-number" aria-hidden="true">"1"</span>
                        <h3>"Describe it"</h3>
                        <p>"Say what you want in plain words: a form, a dashboard, a small API."</p>
                    </li>
                    <li class="card">
                        <span class="step-number" aria-hidden="true">"2"</span>
                        <h3>"Watch it build"</h3>
                        <p>
                            "Each step shows as it happens: files written, commands run, the app started."
                        </p>
                    </li>
                    <li class="card">
                        <span class="step-number" aria-hidden="true">"3"</span>
                        <h3>"Use it, change it"</h3>
                        <p>
                            "Try the live preview, read every file, ask for changes. Every answer is a version you can reopen."
                        </p>
                    </li>
                </ol>
            </div>
        </section>

        <section id="self-host" class="section section-alt" aria-labelledby="self-host-title">
            <div class="container split">
                <div>
                    <h2 id="self-host-title">"Yours to run"</h2>
                    <p>
                        "Ollio is one Rust program. It runs on your machine with one command, keeps its data in a SQLite file, "
                        "and scales out to PostgreSQL when you need it."
                    </p>
                </div>
                <ul class="feature-list">
                    <li>
                        <strong>"Isolated by default. "</strong>
                        "Generated code runs in a sandbox, and previews live on their own origin."
                    </li>
                    <li>
                        <strong>"Honest about what ran. "</strong>
                        "Every command and its result is shown, never hidden behind a spinner."
                    </li>
                    <li>
                        <strong>"Bring your model. "</strong>
                        "OpenAI-compatible servers, Anthropic, or a local model through Ollama."
                    </li>
                </ul>
            </div>
        </section>
    }
}

/// The prompt box with its length counter: an island, so the counter
/// follows what is typed. The form around it is plain HTML.
#[island]
fn LandingPromptBox(draft: String) -> impl IntoView {
    let draft = RwSignal::new(draft);
    view! {
        <PromptField
            draft
            placeholder="A dark login form with a remember-me checkbox…"
            described_by="prompt-help prompt-count"
        />
        <div class="prompt-footer">
            <p id="prompt-help" class="muted small">
                "Plain words are enough. You can refine it later in the chat."
            </p>
            <PromptCounter id="prompt-count" text=draft />
            <button type="submit" class="button button-primary">
                "Build"
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_goes_through_sign_up_and_back() {
        assert_eq!(
            signup_with("A dark form & more"),
            "/signup?next=/%3Fprompt%3DA%2Bdark%2Bform%2B%2526%2Bmore"
        );
    }

    #[test]
    fn example_links_encode_their_text() {
        assert_eq!(
            example_href("A dark login form"),
            "/?idea=A+dark+login+form"
        );
        assert_eq!(example_href("a&b=c"), "/?idea=a%26b%3Dc");
    }
}
