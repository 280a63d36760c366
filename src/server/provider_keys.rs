//! Users' own provider keys: checked, sealed with the server's secret key
//! (bound to their owner and provider), and kept with only their last four
//! characters in the clear.

use ollio_domain::{provider_key::check_key, UserId};
use ollio_store::{secrets::provider_key_context, ProviderKeyInfo};

use super::{request::internal, state::AppState};
use crate::error::AppError;

/// Saves `owner`'s `key` for `provider`, replacing any earlier one.
pub async fn save(
    state: &AppState,
    owner: &UserId,
    provider: &str,
    key: &str,
) -> Result<ProviderKeyInfo, AppError> {
    let key = check_key(provider, key).map_err(AppError::invalid)?;
    let secrets = state
        .secrets
        .as_ref()
        .ok_or_else(|| internal("save_provider_key: no secret key is loaded"))?;
    let sealed = secrets.seal(&key, &provider_key_context(owner, provider));
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
        .save_provider_key(owner, provider, &sealed, &hint)
        .await?)
}
