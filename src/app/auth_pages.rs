//! `/signup` and `/login`: server-rendered pages whose forms post to the
//! account server functions, which answer with a redirect (onwards, or back
//! with the error for the form to show).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::forms::{action_error, typed, NewPasswordField};
use crate::{
    api::account::{Login, Signup},
    dto::account::SIGNUPS_CLOSED,
};

/// Where to go after signing in, from `?next=`.
fn next_param() -> Signal<String> {
    let query = use_query_map();
    Signal::derive(move || query.with(|q| q.get("next")).unwrap_or_default())
}

/// The `?next=` to carry from one auth page to the other.
fn with_next(path: &str, next: &str) -> String {
    if next.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?next={}", ollio_domain::encode_query_value(next))
    }
}

/// The prompt a visitor typed on the landing page, carried in `next`.
fn waiting_prompt(next: &str) -> Option<String> {
    let query = next.strip_prefix("/?")?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("prompt="))
        .map(ollio_domain::decode_query_value)
        .filter(|prompt| !prompt.trim().is_empty())
}

/// Whether this server takes new accounts (`OLLIO_SIGNUPS`); the page is
/// rendered on the server, which knows.
fn signups_open() -> bool {
    #[cfg(feature = "ssr")]
    {
        crate::server::request::provided_state().is_none_or(|state| state.config.signups_open)
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

/// The sign-up page's way to the sign-in page, keeping `next`.
#[component]
fn HaveAnAccount(next: Signal<String>) -> impl IntoView {
    view! {
        <p class="auth-switch">
            "Already have an account? "
            <a href=move || with_next("/login", &next.get())>"Sign in"</a>
        </p>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let next = next_param();
    // With sign-ups closed there is no form to fill in, only the way back.
    let body = if signups_open() {
        view! { <SignupForm next=next /> }.into_any()
    } else {
        view! { <p class="notice notice-info" role="status">{SIGNUPS_CLOSED}</p> }.into_any()
    };
    view! {
        <Title text="Sign up" />
        <section class="auth-page">
            <div class="auth-card">
                <h1>"Create your account"</h1>
                {body}
                <HaveAnAccount next=next />
            </div>
        </section>
    }
}

#[component]
fn SignupForm(next: Signal<String>) -> impl IntoView {
    let signup = ServerAction::<Signup>::new();
    view! {
        <p class="muted">"Every account gets free monthly credits. Describe an app, watch it run."</p>
        {move || waiting_prompt(&next.get()).map(|prompt| view! {
            <p class="notice notice-info" role="status">
                "Create your account and your prompt is ready to build: “"{prompt}"”"
            </p>
        })}
        <ActionForm action=signup attr:class="form-stack">
            <input type="hidden" name="next" value=move || next.get() />
            <div class="field">
                <label for="signup-email">"Email"</label>
                <input id="signup-email" name="email" type="email" autocomplete="email" value=typed("email") required />
            </div>
            <NewPasswordField id="signup-password" name="password" label="Password" />
            {action_error(signup.value())}
            <button type="submit" class="button button-primary button-block">"Sign up"</button>
        </ActionForm>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let next = next_param();
    view! {
        <Title text="Sign in" />
        <section class="auth-page">
            <div class="auth-card">
                <h1>"Welcome back"</h1>
                <p class="muted">"Sign in to your projects."</p>
                <ActionForm action=login attr:class="form-stack">
                    <input type="hidden" name="next" value=move || next.get() />
                    <div class="field">
                        <label for="login-email">"Email"</label>
                        <input id="login-email" name="email" type="email" autocomplete="email" value=typed("email") required />
                    </div>
                    <div class="field">
                        <label for="login-password">"Password"</label>
                        <input id="login-password" name="password" type="password" autocomplete="current-password" required />
                    </div>
                    {action_error(login.value())}
                    <button type="submit" class="button button-primary button-block">"Sign in"</button>
                </ActionForm>
                <p class="auth-switch">
                    "New to Ollio? "
                    <a href=move || with_next("/signup", &next.get())>"Create an account"</a>
                </p>
            </div>
        </section>
    }
}
