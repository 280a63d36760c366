//! Sign-in throttling: after [`MAX_FAILURES`] failed sign-ins within
//! [`WINDOW_MS`] for one account, or from one address, further attempts are
//! refused until the oldest of those failures leaves the window. Each
//! attempt is counted before its password is checked, one at a time per
//! counter, so parallel guesses get [`MAX_FAILURES`] tries, not a burst; a
//! success takes its attempt back. Counts are kept in the database, so
//! every app server sees the same ones.

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

/// A sign-in attempt that was counted; see [`succeeded`].
pub struct Attempt(String);

/// Counts the attempt, or refuses it with the wait when a counter is full.
pub async fn begin(store: &Store, keys: &LoginKeys) -> Result<Attempt, AppError> {
    let now = now_ms();
    let full = match store
        .begin_login_attempt(&keys.all(), now, now - WINDOW_MS, MAX_FAILURES)
        .await?
    {
        Ok(attempt) => return Ok(Attempt(attempt)),
        Err(full) => full,
    };
    Err(refusal(&full, MAX_FAILURES, WINDOW_MS, now))
}

/// The refusal of an attempt whose counters (`full`, each holding at least
/// `max` times within `window`) are full: allowed again once all but
/// `max - 1` of a counter's times have left the window.
fn refusal(full: &[Vec<i64>], max: usize, window: i64, now: i64) -> AppError {
    let unlocks_at = full
        .iter()
        .filter_map(|times| times.get(times.len().checked_sub(max)?))
        .map(|oldest| oldest + window)
        .max()
        .unwrap_or(now);
    let retry_after_secs = u64::try_from(unlocks_at - now)
        .unwrap_or(0)
        .div_ceil(1000)
        .max(1);
    AppError::RateLimited { retry_after_secs }
}

/// A successful sign-in takes its attempt back and clears the account's
/// counter; the address's other failures stay, so one valid account cannot
/// be used to keep guessing others.
pub async fn succeeded(store: &Store, keys: &LoginKeys, attempt: Attempt) -> Result<(), AppError> {
    store.forget_login_attempt(&attempt.0).await?;
    store.clear_login_failures(&keys.account).await?;
    Ok(())
}

/// Counts a sign-up from `ip`, or refuses it with the wait once the
/// address has made `per_hour` accounts within the hour.
pub async fn signup(store: &Store, ip: Option<IpAddr>, per_hour: usize) -> Result<(), AppError> {
    let Some(ip) = ip else {
        return Ok(());
    };
    let key = format!("signup:{ip}");
    let now = now_ms();
    match store
        .begin_login_attempt(&[&key], now, now - HOUR_MS, per_hour)
        .await?
    {
        Ok(_) => Ok(()),
        Err(full) => Err(refusal(&full, per_hour, HOUR_MS, now)),
    }
}

const HOUR_MS: i64 = 60 * 60 * 1000;

/// Deletes attempts that have left every window, every `period`.
pub fn spawn_pruning(store: Store, period: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            if let Err(error) = store
                .prune_login_failures(now_ms() - WINDOW_MS.max(HOUR_MS))
                .await
            {
                tracing::warn!(%error, "could not prune old sign-in failures");
            }
        }
    });
}
