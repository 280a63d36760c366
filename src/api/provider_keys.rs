//! Providers users add in settings: their keys saved sealed on the server,
//! used for their turns instead of the server's keys, and never sent back
//! (the browser only ever sees which providers have a key, and its last
//! four characters); "Test connection" reads the provider's models.

use leptos::prelude::*;

pub use crate::dto::provider_keys::ProviderKeyView;
use crate::error::AppError;
pub use ollio_domain::provider_key::{Endpoint, ProviderInfo, MAX_KEY_CHARS, PROVIDERS};

#[server(prefix = "/api", endpoint = "list_provider_keys")]
pub async fn list_provider_keys() -> Result<Vec<ProviderKeyView>, AppError> {
    use crate::server::{auth, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let keys = request::state()?.store.provider_keys(&user.id).await?;
        Ok(keys.into_iter().map(ProviderKeyView::from).collect())
    })
    .await
}

/// Saves the key (and, for an OpenAI-compatible server of the user's own,
/// its `base_url`) for `provider`.
#[server(prefix = "/api", endpoint = "save_provider_key")]
pub async fn save_provider_key(
    provider: String,
    key: String,
    base_url: Option<String>,
) -> Result<ProviderKeyView, AppError> {
    use crate::server::{auth, provider_keys, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let saved = provider_keys::save(
            &request::state()?,
            &user.id,
            &provider,
            &key,
            base_url.as_deref(),
        )
        .await?;
        Ok(saved.into())
    })
    .await
}

/// "Test connection": reads the models the saved `provider` serves.
#[server(prefix = "/api", endpoint = "test_provider_key")]
pub async fn test_provider_key(provider: String) -> Result<ProviderKeyView, AppError> {
    use crate::server::{auth, provider_keys, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let tested = provider_keys::test(&request::state()?, &user.id, &provider).await?;
        Ok(tested.into())
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_provider_key")]
pub async fn delete_provider_key(provider: String) -> Result<(), AppError> {
    use crate::server::{auth, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let store = request::state()?.store;
        if store.delete_provider_key(&user.id, &provider).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    })
    .await
}
