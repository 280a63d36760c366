//! Whether a user can build at all: a default model the server runs with
//! its own keys, or a provider of the user's own. Without either, the
//! home page shows "Connect a model" instead of letting the first build fail.

use ollio_domain::UserId;

use super::state::AppState;
use crate::error::AppError;

/// `true` when `owner` has no model to build with.
pub async fn needs_model(state: &AppState, owner: &UserId) -> Result<bool, AppError> {
    let agent = &state.config.agent;
    let keys = state.store.provider_keys(owner).await?;
    let ready = match &agent.model {
        Some(model) => {
            agent.serves(model) || keys.iter().any(|key| key.provider == model.provider.id())
        }
        None => ollio_agent::providers::own_default(&keys).is_some(),
    };
    Ok(!ready)
}
