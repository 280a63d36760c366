//! Users' own model-provider keys: saved sealed on the server, used for
//! their turns instead of the server's keys, and never sent back: the
//! browser only ever sees which providers have a key, and its last four
//! characters.

use leptos::prelude::*;

pub use crate::dto::provider_keys::ProviderKeyView;
use crate::error::AppError;
pub use ollio_domain::provider_key::{MAX_KEY_CHARS, PROVIDERS};

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

#[server(prefix = "/api", endpoint = "save_provider_key")]
pub async fn save_provider_key(provider: String, key: String) -> Result<ProviderKeyView, AppError> {
    use crate::server::{auth, provider_keys, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let saved = provider_keys::save(&request::state()?, &user.id, &provider, &key).await?;
        Ok(saved.into())
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
