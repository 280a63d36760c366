//! Providers users add in settings: their keys checked and sealed with the
//! server's secret key (bound to their owner and provider) and kept with
//! only their last four characters in the clear; their own base URL; and
//! "Test connection", which reads the provider's model list.

use ollio_agent::{
    chat_provider::SecretKey,
    model::ProviderKind,
    providers::{Providers, UserProvider},
};
use ollio_domain::{
    provider_key::{check_base_url, check_key, provider, Endpoint},
    UserId,
};
use ollio_store::{secrets::provider_key_context, ProviderKeyInfo};

use super::{request::internal, state::AppState};
use crate::error::AppError;

/// Saves `owner`'s `key` (and, for their own server, `base_url`) for
/// `provider`, replacing any earlier one.
pub async fn save(
    state: &AppState,
    owner: &UserId,
    provider_id: &str,
    key: &str,
    base_url: Option<&str>,
) -> Result<ProviderKeyInfo, AppError> {
    let info = provider(provider_id).ok_or_else(|| {
        AppError::invalid(format!("`{provider_id}` is not a provider you can add."))
    })?;
    let key = check_key(info, key).map_err(AppError::invalid)?;
    let base_url = match info.endpoint {
        Endpoint::Users => {
            Some(check_base_url(base_url.unwrap_or_default()).map_err(AppError::invalid)?)
        }
        _ => None,
    };
    let secrets = state
        .secrets
        .as_ref()
        .ok_or_else(|| internal("save_provider_key: no secret key is loaded"))?;
    let sealed = secrets.seal(&key, &provider_key_context(owner, info.id));
    let hint: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Ok(state
        .store
        .save_provider_key(owner, info.id, &sealed, &hint, base_url.as_deref())
        .await?)
}

/// Reads the models `owner`'s saved `provider` serves, with their key and
/// URL, and keeps them for the model pickers. A failure says why (the key
/// refused, the URL unreachable or private) and changes nothing.
pub async fn test(
    state: &AppState,
    owner: &UserId,
    provider_id: &str,
) -> Result<ProviderKeyInfo, AppError> {
    let kind = ProviderKind::ALL
        .into_iter()
        .find(|kind| kind.id() == provider_id && kind.info().is_some())
        .ok_or(AppError::NotFound)?;
    let saved = state
        .store
        .sealed_provider_key(owner, kind.id())
        .await?
        .ok_or(AppError::NotFound)?;
    let secrets = state
        .secrets
        .as_ref()
        .ok_or_else(|| internal("test_provider_key: no secret key is loaded"))?;
    let key = secrets
        .open(&saved.sealed, &provider_key_context(owner, kind.id()))
        .map_err(|_| AppError::invalid("Your saved key can no longer be read: save it again."))?;
    let user = UserProvider {
        key: (!key.is_empty()).then(|| SecretKey::new(key)),
        base_url: saved.base_url,
    };
    let models = providers(state)
        .list_models(kind, &user)
        .await
        .map_err(|reason| AppError::invalid(format!("The connection failed: {reason}")))?;
    state
        .store
        .record_provider_models(owner, kind.id(), &models)
        .await?
        .ok_or(AppError::NotFound)
}

/// The workers' providers, or the configuration's where this process has
/// no agent of its own.
fn providers(state: &AppState) -> Providers {
    match &state.workers {
        Some(workers) => workers.engine().providers.clone(),
        None => Providers::new(state.config.agent.clone()),
    }
}
