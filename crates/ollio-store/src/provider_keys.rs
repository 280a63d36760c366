//! Providers users add in settings: their keys stored sealed (see
//! `server::secrets`), their own base URL if any, and the models the
//! provider listed when its connection was last tested.

use sqlx::Row;

use super::{now_ms, Store, StoreError};
use ollio_domain::UserId;

/// A stored provider as settings show it: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderKeyInfo {
    pub provider: String,
    /// The key's last four characters (empty when it has no key).
    pub hint: String,
    pub created_at: i64,
    /// The user's own base URL (the `custom` provider).
    pub base_url: Option<String>,
    /// The models the provider listed at the last successful test.
    pub models: Vec<String>,
    /// When that test was.
    pub tested_at: Option<i64>,
}

/// What a turn opens to use a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedProvider {
    pub sealed: String,
    pub base_url: Option<String>,
}

const COLUMNS: &str = "provider, hint, created_at, base_url, models, tested_at";

fn info(row: &sqlx::any::AnyRow) -> Result<ProviderKeyInfo, sqlx::Error> {
    let models: Option<String> = row.try_get("models")?;
    Ok(ProviderKeyInfo {
        provider: row.try_get("provider")?,
        hint: row.try_get("hint")?,
        created_at: row.try_get("created_at")?,
        base_url: row.try_get("base_url")?,
        models: models
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect(),
        tested_at: row.try_get("tested_at")?,
    })
}

impl Store {
    /// Stores (or replaces) the user's sealed key and base URL for
    /// `provider`; the models listed before are forgotten until the next
    /// test.
    pub async fn save_provider_key(
        &self,
        user: &UserId,
        provider: &str,
        sealed: &str,
        hint: &str,
        base_url: Option<&str>,
    ) -> Result<ProviderKeyInfo, StoreError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO provider_keys (user_id, provider, sealed, hint, created_at, base_url) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_id, provider) DO UPDATE SET sealed = $3, hint = $4, created_at = $5, base_url = $6, models = NULL, tested_at = NULL",
        )
        .bind(user.as_str())
        .bind(provider)
        .bind(sealed)
        .bind(hint)
        .bind(now)
        .bind(base_url)
        .execute(&self.pool)
        .await?;
        Ok(ProviderKeyInfo {
            provider: provider.to_owned(),
            hint: hint.to_owned(),
            created_at: now,
            base_url: base_url.map(str::to_owned),
            models: Vec::new(),
            tested_at: None,
        })
    }

    /// Keeps the models `provider` listed for the user just now.
    pub async fn record_provider_models(
        &self,
        user: &UserId,
        provider: &str,
        models: &[String],
    ) -> Result<Option<ProviderKeyInfo>, StoreError> {
        let listed: Vec<&str> = models
            .iter()
            .map(|model| model.trim())
            .filter(|model| !model.is_empty() && !model.contains(['\n', '\r']))
            .collect();
        sqlx::query(
            "UPDATE provider_keys SET models = $3, tested_at = $4 WHERE user_id = $1 AND provider = $2",
        )
        .bind(user.as_str())
        .bind(provider)
        .bind(listed.join("\n"))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(self
            .provider_keys(user)
            .await?
            .into_iter()
            .find(|key| key.provider == provider))
    }

    /// The user's stored providers, by id.
    pub async fn provider_keys(&self, user: &UserId) -> Result<Vec<ProviderKeyInfo>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM provider_keys WHERE user_id = $1 ORDER BY provider"
        ))
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(info).collect::<Result<_, _>>()?)
    }

    /// The user's sealed key (and URL) for `provider`, for a turn to open.
    pub async fn sealed_provider_key(
        &self,
        user: &UserId,
        provider: &str,
    ) -> Result<Option<SealedProvider>, StoreError> {
        let row = sqlx::query(
            "SELECT sealed, base_url FROM provider_keys WHERE user_id = $1 AND provider = $2",
        )
        .bind(user.as_str())
        .bind(provider)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok::<_, sqlx::Error>(SealedProvider {
                sealed: row.try_get("sealed")?,
                base_url: row.try_get("base_url")?,
            })
        })
        .transpose()
        .map_err(Into::into)
    }

    pub async fn delete_provider_key(
        &self,
        user: &UserId,
        provider: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM provider_keys WHERE user_id = $1 AND provider = $2")
            .bind(user.as_str())
            .bind(provider)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
