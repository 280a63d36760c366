use sqlx::{any::AnyRow, Row};

use super::{Store, StoreError};
use ollio_domain::{calendar, UserId};

/// A user's credits for the current calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub limit: i64,
    pub used: i64,
    /// First millisecond of the month these credits belong to.
    pub period_start: i64,
}

impl Usage {
    pub fn remaining(&self) -> i64 {
        (self.limit - self.used).max(0)
    }

    /// When the credits next reset: the start of the following month.
    pub fn resets_at(&self) -> i64 {
        calendar::next_month_start(self.period_start)
    }
}

pub(super) fn usage_row(row: &AnyRow) -> Result<Usage, sqlx::Error> {
    Ok(Usage {
        limit: row.try_get("credits_limit")?,
        used: row.try_get("credits_used")?,
        period_start: row.try_get("period_start")?,
    })
}

impl Store {
    /// Creates the user's usage row on first use (with `default_limit`
    /// credits) and starts a fresh period once a new month has begun. Both
    /// steps are single idempotent statements, safe to race.
    pub(super) async fn prepare_usage(
        &self,
        user: &UserId,
        default_limit: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let period = calendar::month_start(now);
        sqlx::query(
            "INSERT INTO usage (user_id, credits_limit, credits_used, period_start) VALUES ($1, $2, 0, $3)
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user.as_str())
        .bind(default_limit)
        .bind(period)
        .execute(&self.pool)
        .await?;
        sqlx::query("UPDATE usage SET credits_used = 0, period_start = $1 WHERE user_id = $2 AND period_start < $1")
            .bind(period)
            .bind(user.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn usage(
        &self,
        user: &UserId,
        default_limit: i64,
        now: i64,
    ) -> Result<Usage, StoreError> {
        self.prepare_usage(user, default_limit, now).await?;
        let row = sqlx::query(
            "SELECT credits_limit, credits_used, period_start FROM usage WHERE user_id = $1",
        )
        .bind(user.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(usage_row(&row)?)
    }

    /// Spends one credit. `Ok(Err(usage))` when none is left. The check and
    /// the spend are one conditional UPDATE, so concurrent callers can never
    /// spend more than the limit.
    pub async fn consume_credit(
        &self,
        user: &UserId,
        default_limit: i64,
        now: i64,
    ) -> Result<Result<Usage, Usage>, StoreError> {
        self.prepare_usage(user, default_limit, now).await?;
        let row = sqlx::query(
            "UPDATE usage SET credits_used = credits_used + 1
             WHERE user_id = $1 AND credits_used < credits_limit
             RETURNING credits_limit, credits_used, period_start",
        )
        .bind(user.as_str())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Ok(usage_row(&row)?)),
            None => Ok(Err(self.usage(user, default_limit, now).await?)),
        }
    }
}
