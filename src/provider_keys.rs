//! Users' own model-provider keys: saved sealed on the server, used for
//! their turns instead of the server's keys, and never sent back: the
//! browser only ever sees which providers have a key, and its last four
//! characters.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Providers a user may give a key for (Ollama runs without one).
pub const PROVIDERS: &[(&str, &str)] =
    &[("openai", "OpenAI-compatible"), ("anthropic", "Anthropic")];
/// The longest key accepted, in characters.
pub const MAX_KEY_CHARS: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderKeyView {
    pub provider: String,
    /// "…abcd": the key's last four characters.
    pub hint: String,
    /// When it was saved ("22 Nov 2026, 09:05 UTC").
    pub saved: String,
}

/// Checks a key before it is stored: one line of printable characters.
pub fn check_key(provider: &str, key: &str) -> Result<String, String> {
    if !PROVIDERS.iter().any(|(id, _)| *id == provider) {
        return Err(format!(
            "`{provider}` is not a provider you can save a key for."
        ));
    }
    let key = key.trim();
    if key.is_empty() {
        return Err("Paste the key first.".into());
    }
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(format!(
            "That is longer than any API key ({MAX_KEY_CHARS} characters at most)."
        ));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A key has no spaces or line breaks: copy it again.".into());
    }
    Ok(key.to_owned())
}

#[cfg(feature = "ssr")]
impl From<crate::server::store::ProviderKeyInfo> for ProviderKeyView {
    fn from(info: crate::server::store::ProviderKeyInfo) -> Self {
        Self {
            provider: info.provider,
            hint: format!("…{}", info.hint),
            saved: crate::domain::calendar::format_date_time(info.created_at),
        }
    }
}

#[server(prefix = "/api", endpoint = "list_provider_keys")]
pub async fn list_provider_keys() -> Result<Vec<ProviderKeyView>, AppError> {
    use crate::server::{api, auth};
    api::respond(async move {
        let user = auth::require_user().await?;
        let keys = api::state()?.store.provider_keys(&user.id).await?;
        Ok(keys.into_iter().map(ProviderKeyView::from).collect())
    })
    .await
}

#[server(prefix = "/api", endpoint = "save_provider_key")]
pub async fn save_provider_key(provider: String, key: String) -> Result<ProviderKeyView, AppError> {
    use crate::server::{api, auth, secrets::provider_key_context};
    api::respond(async move {
        let user = auth::require_user().await?;
        let key = check_key(&provider, &key).map_err(AppError::invalid)?;
        let state = api::state()?;
        let secrets = state
            .secrets
            .clone()
            .ok_or_else(|| api::internal("save_provider_key: no secret key is loaded"))?;
        let sealed = secrets.seal(&key, &provider_key_context(&user.id, &provider));
        let hint: String = key
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let info = state
            .store
            .save_provider_key(&user.id, &provider, &sealed, &hint)
            .await?;
        Ok(info.into())
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_provider_key")]
pub async fn delete_provider_key(provider: String) -> Result<(), AppError> {
    use crate::server::{api, auth};
    api::respond(async move {
        let user = auth::require_user().await?;
        if api::state()?
            .store
            .delete_provider_key(&user.id, &provider)
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::check_key;

    #[test]
    fn keys_are_checked_before_they_are_kept() {
        assert_eq!(check_key("openai", "  sk-abc123  ").unwrap(), "sk-abc123");
        assert!(check_key("ollama", "x")
            .unwrap_err()
            .contains("not a provider"));
        assert!(check_key("openai", " ").unwrap_err().contains("Paste"));
        assert!(check_key("anthropic", "sk ant")
            .unwrap_err()
            .contains("spaces"));
        assert!(check_key("openai", &"k".repeat(600))
            .unwrap_err()
            .contains("longer"));
    }
}
