use super::{new_id, Backend, Store, StoreError};

impl Store {
    /// Counts a sign-in attempt under each of `keys` before its password is
    /// checked, unless a key already holds `max` attempts since `since`:
    /// then nothing is recorded, and the times under the full keys come
    /// back (for the wait). Attempts under one key are counted one at a
    /// time (an advisory lock on PostgreSQL; SQLite's single writer), so
    /// parallel guesses get `max` tries, not a burst. `Ok` carries the
    /// attempt's id, for [`Store::forget_login_attempt`].
    pub async fn begin_login_attempt(
        &self,
        keys: &[&str],
        now: i64,
        since: i64,
        max: usize,
    ) -> Result<Result<String, Vec<Vec<i64>>>, StoreError> {
        let attempt = new_id();
        let mut tx = self.pool.begin().await?;
        if self.backend() == Backend::Postgres {
            let mut sorted = keys.to_vec();
            sorted.sort_unstable();
            for key in sorted {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // On SQLite this first write takes the database's write lock.
        for key in keys {
            sqlx::query("INSERT INTO login_failures (key, at, attempt) VALUES ($1, $2, $3)")
                .bind(*key)
                .bind(now)
                .bind(&attempt)
                .execute(&mut *tx)
                .await?;
        }
        let mut full = Vec::new();
        for key in keys {
            let mut times: Vec<i64> = sqlx::query_scalar(
                "SELECT at FROM login_failures WHERE key = $1 AND at >= $2 AND (attempt IS NULL OR attempt <> $3) ORDER BY at",
            )
            .bind(*key)
            .bind(since)
            .bind(&attempt)
            .fetch_all(&mut *tx)
            .await?;
            if times.len() >= max {
                times.shrink_to_fit();
                full.push(times);
            }
        }
        if !full.is_empty() {
            // Dropping the transaction records nothing.
            return Ok(Err(full));
        }
        tx.commit().await?;
        Ok(Ok(attempt))
    }

    /// Takes back an attempt that succeeded: it counts against nothing.
    pub async fn forget_login_attempt(&self, attempt: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE attempt = $1")
            .bind(attempt)
            .execute(&self.pool)
            .await?;
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
