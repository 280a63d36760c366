use super::{Store, StoreError};

impl Store {
    /// Records a failed sign-in under each of `keys` (the account, the address).
    pub async fn record_login_failure(&self, keys: &[&str], now: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for key in keys {
            sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                .bind(*key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The times of the failures under `key` since `since`, oldest first.
    pub async fn login_failures_since(
        &self,
        key: &str,
        since: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT at FROM login_failures WHERE key = $1 AND at >= $2 ORDER BY at",
        )
        .bind(key)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Forgets the failures under `key` (after a successful sign-in).
    pub async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes failures older than `before`; run now and then.
    pub async fn prune_login_failures(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
