//! Sign-in throttling: after [`MAX_FAILURES`] failed sign-ins within
//! [`WINDOW_MS`] for one account, or from one address, further attempts are
//! refused until the oldest of those failures leaves the window. Failures are
//! kept in the database, so every app server sees the same counts.

use std::net::IpAddr;

use ollio_domain::Email;
use ollio_store::{now_ms, Store};

use crate::error::AppError;

pub const MAX_FAILURES: usize = 5;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// The counters one sign-in attempt is checked against.
pub struct LoginKeys {
    account: String,
    address: Option<String>,
}

impl LoginKeys {
    pub fn new(email: &Email, ip: Option<IpAddr>) -> Self {
        Self {
            account: format!("account:{email}"),
            address: ip.map(|ip| format!("ip:{ip}")),
        }
    }

    fn all(&self) -> Vec<&str> {
        std::iter::once(self.account.as_str())
            .chain(self.address.as_deref())
            .collect()
    }
}

/// Refuses the attempt with the wait if any counter is full.
pub async fn check(store: &Store, keys: &LoginKeys) -> Result<(), AppError> {
    let now = now_ms();
    let mut wait_ms = 0;
    for key in keys.all() {
        let failures = store.login_failures_since(key, now - WINDOW_MS).await?;
        if failures.len() >= MAX_FAILURES {
            // Allowed again once all but MAX_FAILURES - 1 have expired.
            let unlocks_at = failures[failures.len() - MAX_FAILURES] + WINDOW_MS;
            wait_ms = wait_ms.max(unlocks_at - now);
        }
    }
    if wait_ms > 0 {
        let retry_after_secs = u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000);
        return Err(AppError::RateLimited { retry_after_secs });
    }
    Ok(())
}

pub async fn record_failure(store: &Store, keys: &LoginKeys) -> Result<(), AppError> {
    store.record_login_failure(&keys.all(), now_ms()).await?;
    Ok(())
}

/// A successful sign-in clears the account's counter; the address's stays,
/// so one valid account cannot be used to keep guessing others.
pub async fn record_success(store: &Store, keys: &LoginKeys) -> Result<(), AppError> {
    store.clear_login_failures(&keys.account).await?;
    Ok(())
}

/// Deletes failures that have left the window, every `period`.
pub fn spawn_pruning(store: Store, period: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            if let Err(error) = store.prune_login_failures(now_ms() - WINDOW_MS).await {
                tracing::warn!(%error, "could not prune old sign-in failures");
            }
        }
    });
}
