//! `/settings`: usage, model providers, password, and deleting the account.
//! Server-rendered; every form is a plain post that comes back here (a
//! changed password with `?changed=password`, errors with `?__err=`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    forms::{action_error, NewPasswordField},
    resource,
    session::{use_session, RequireUser},
};
use crate::api::{
    account::{ChangePassword as ChangePasswordFn, DeleteAccount as DeleteAccountFn, Viewer},
    provider_keys::{
        list_provider_keys, DeleteProviderKey as DeleteProviderKeyFn, Endpoint, ProviderInfo,
        ProviderKeyView, SaveProviderKey as SaveProviderKeyFn,
        TestProviderKey as TestProviderKeyFn, PROVIDERS,
    },
    usage::UsageView,
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <RequireUser>
            <Settings />
        </RequireUser>
    }
}

#[component]
fn Settings() -> impl IntoView {
    let session = use_session();
    let viewer = move || session.viewer.get().and_then(Result::ok).flatten();
    view! {
        <section class="container page narrow">
            <h1>"Settings"</h1>
            {move || viewer().map(|viewer: Viewer| view! {
                <p class="muted">"Signed in as " <strong>{viewer.email}</strong></p>
                <Usage usage=viewer.usage />
            })}
            <ModelKeys />
            <ChangePassword />
            <DeleteAccount />
        </section>
    }
}

#[component]
pub fn Usage(usage: UsageView) -> impl IntoView {
    let percent = if usage.limit > 0 {
        (usage.used * 100 / usage.limit).clamp(0, 100)
    } else {
        100
    };
    view! {
        <section class="panel" id="usage" aria-labelledby="usage-title">
            <h2 id="usage-title">"Usage"</h2>
            <p>
                {format!("You have used {} of {} credits this month.", usage.used, usage.limit)}
                " Each build or change costs one credit."
            </p>
            <div
                class="meter"
                role="meter"
                aria-label="Credits used"
                aria-valuemin="0"
                aria-valuemax=usage.limit
                aria-valuenow=usage.used
            >
                <div class="meter-fill" style=format!("width: {percent}%")></div>
            </div>
            {if usage.remaining == 0 {
                view! {
                    <p class="notice notice-error" role="status">
                        {format!(
                            "You are out of credits. They reset on {}.",
                            usage.resets_on,
                        )}
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <p class="muted small">
                        {format!("{} left · resets on {}", usage.remaining, usage.resets_on)}
                    </p>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn ChangePassword() -> impl IntoView {
    let action = ServerAction::<ChangePasswordFn>::new();
    let done = use_query_map().with_untracked(|q| q.get("changed").as_deref() == Some("password"));
    view! {
        <section class="panel" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <ActionForm action=action attr:class="form-stack">
                <div class="field">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" name="current_password" type="password" autocomplete="current-password" required />
                </div>
                <NewPasswordField id="new-password" name="new_password" label="New password" />
                {action_error(action.value())}
                {done.then(|| view! {
                    <p class="notice notice-success" role="status">"Your password was changed."</p>
                })}
                <div>
                    <button type="submit" class="button button-primary">
                        "Change password"
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn DeleteAccount() -> impl IntoView {
    let action = ServerAction::<DeleteAccountFn>::new();
    view! {
        <section class="panel panel-danger" aria-labelledby="delete-title">
            <h2 id="delete-title">"Delete account"</h2>
            <p>
                "This deletes your account with all its projects, messages, versions and sandboxes. It cannot be undone."
            </p>
            <ActionForm action=action attr:class="form-stack">
                <div class="field">
                    <label for="confirm-email">"Type your email address to confirm"</label>
                    <input id="confirm-email" name="confirm_email" type="email" autocomplete="off" required />
                </div>
                {action_error(action.value())}
                <div>
                    <button type="submit" class="button button-danger">
                        "Delete account"
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

/// The providers the user added: their keys saved sealed, shown only by
/// their last four characters, used for the user's turns instead of the
/// server's; "Test connection" reads the models each serves, which the
/// model pickers then offer.
#[component]
fn ModelKeys() -> impl IntoView {
    let save = ServerAction::<SaveProviderKeyFn>::new();
    let test = ServerAction::<TestProviderKeyFn>::new();
    let remove = ServerAction::<DeleteProviderKeyFn>::new();
    let keys = resource::load(|| (), |_| list_provider_keys());
    view! {
        <section class="panel" aria-labelledby="keys-title">
            <h2 id="keys-title">"Model providers"</h2>
            <p class="muted">
                "Use your own provider account for your builds: add its key, test the connection, then pick one of its models beside the message box. Keys are stored encrypted, never shown again and never put in a sandbox."
            </p>
            {action_error(save.value())}
            {action_error(test.value())}
            {action_error(remove.value())}
            <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading your providers…"</p> }>
                {move || keys.get().map(|listed| match listed {
                    Ok(saved) => PROVIDERS
                        .iter()
                        .map(|info| {
                            let current = saved.iter().find(|key| key.provider == info.id).cloned();
                            view! { <ProviderRow info=info current=current save=save test=test remove=remove /> }
                        })
                        .collect_view()
                        .into_any(),
                    Err(error) => view! {
                        <p class="notice notice-error" role="alert">{error.to_string()}</p>
                    }
                        .into_any(),
                })}
            </Transition>
        </section>
    }
}

/// How many of a provider's models the row names before "and N more".
const NAMED_MODELS: usize = 6;

#[component]
fn ProviderRow(
    info: &'static ProviderInfo,
    current: Option<ProviderKeyView>,
    save: ServerAction<SaveProviderKeyFn>,
    test: ServerAction<TestProviderKeyFn>,
    remove: ServerAction<DeleteProviderKeyFn>,
) -> impl IntoView {
    let id = info.id;
    let name = info.name;
    let own_url = info.endpoint == Endpoint::Users;
    let input_id = format!("key-{id}");
    let url_id = format!("key-{id}-url");
    let label = format!("{name} API key");
    let status = match &current {
        Some(key) if key.hint.is_empty() => format!("Saved on {}, without a key", key.saved),
        Some(key) => format!("Saved {} on {}", key.hint, key.saved),
        None if info.endpoint == Endpoint::Server => {
            "Not set: the server's key is used.".to_owned()
        }
        None => "Not added.".to_owned(),
    };
    let tested = current.as_ref().and_then(|key| {
        let when = key.tested.clone()?;
        let count = key.models.len();
        let mut named = key
            .models
            .iter()
            .take(NAMED_MODELS)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if count > NAMED_MODELS {
            named = format!("{named} and {} more", count - NAMED_MODELS);
        }
        let noun = if count == 1 { "model" } else { "models" };
        Some(format!("Connected on {when}: {count} {noun} ({named})."))
    });
    let all_models = current
        .as_ref()
        .filter(|key| key.models.len() > NAMED_MODELS)
        .map(|key| key.models.join(", "));
    let saved_url = current
        .as_ref()
        .and_then(|key| key.base_url.clone())
        .unwrap_or_default();
    let shown_url = (!saved_url.is_empty()).then(|| saved_url.clone());
    view! {
        <div class="key-row" role="group" aria-label=name>
            <ActionForm action=save attr:class="key-form">
                <input type="hidden" name="provider" value=id />
                {own_url.then(|| view! {
                    <div class="field">
                        <label for=url_id.clone()>"Base URL"</label>
                        <input
                            id=url_id.clone()
                            name="base_url"
                            type="url"
                            inputmode="url"
                            placeholder="https://llm.example.com/v1"
                            value=saved_url.clone()
                            autocomplete="off"
                            spellcheck="false"
                            required
                        />
                    </div>
                })}
                <div class="field">
                    <label for=input_id.clone()>{label}</label>
                    <input
                        id=input_id
                        name="key"
                        type="password"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder=if own_url { "Optional for a local server" } else { "" }
                        required=!own_url
                    />
                </div>
                <button type="submit" class="button button-ghost">
                    "Save key"
                </button>
            </ActionForm>
            <div class="key-status">
                <p class="muted small">
                    {status}
                    {shown_url.map(|url| view! { " · " <code>{url}</code> })}
                </p>
                {current.as_ref().map(|_| view! {
                    <div class="key-actions">
                        <ActionForm action=test attr:class="key-test">
                            <input type="hidden" name="provider" value=id />
                            <button type="submit" class="button button-ghost button-small">
                                "Test connection"
                            </button>
                        </ActionForm>
                        <ActionForm action=remove attr:class="key-remove">
                            <input type="hidden" name="provider" value=id />
                            <button type="submit" class="button button-ghost button-small">
                                {format!("Remove {name} key")}
                            </button>
                        </ActionForm>
                    </div>
                })}
            </div>
            {tested.map(|text| view! { <p class="notice notice-success small" role="status">{text}</p> })}
            {all_models.map(|names| view! {
                <details class="model-names small">
                    <summary>"Every model it serves"</summary>
                    <p>{names}</p>
                </details>
            })}
        </div>
    }
}
