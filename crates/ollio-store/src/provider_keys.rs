//! Users' own model-provider keys, stored sealed (see `server::secrets`).

use sqlx::Row;

use super::{now_ms, Store, StoreError};
use ollio_domain::UserId;

/// A stored key as settings show it: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderKeyInfo {
    pub provider: String,
    /// The key's last four characters.
    pub hint: String,
    pub created_at: i64,
}

impl Store {
    /// Stores (or replaces) the user's sealed key for `provider`.
    pub async fn save_provider_key(
        &self,
        user: &UserId,
        provider: &str,
        sealed: &str,
        hint: &str,
    ) -> Result<ProviderKeyInfo, StoreError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO provider_keys (user_id, provider, sealed, hint, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id, provider) DO UPDATE SET sealed = $3, hint = $4, created_at = $5",
        )
        .bind(user.as_str())
        .bind(provider)
        .bind(sealed)
        .bind(hint)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(ProviderKeyInfo {
            provider: provider.to_owned(),
            hint: hint.to_owned(),
            created_at: now,
        })
    }

    /// The user's stored keys, by provider.
    pub async fn provider_keys(&self, user: &UserId) -> Result<Vec<ProviderKeyInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT provider, hint, created_at FROM provider_keys WHERE user_id = $1 ORDER BY provider",
        )
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await?;
        let keys = rows
            .iter()
            .map(|row| {
                Ok::<_, sqlx::Error>(ProviderKeyInfo {
                    provider: row.try_get("provider")?,
                    hint: row.try_get("hint")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(keys)
    }

    /// The user's sealed key for `provider`, for a turn to open.
    pub async fn sealed_provider_key(
        &self,
        user: &UserId,
        provider: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT sealed FROM provider_keys WHERE user_id = $1 AND provider = $2",
        )
        .bind(user.as_str())
        .bind(provider)
        .fetch_optional(&self.pool)
        .await?)
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
