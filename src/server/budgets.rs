//! What one account may use at once or per hour, beyond credits: open
//! event streams (`OLLIO_STREAMS_PER_USER`), preview starts and restores
//! per hour (`OLLIO_PREVIEW_STARTS_PER_HOUR`, `OLLIO_RESTORES_PER_HOUR`).
//! Live sandboxes are counted where they are made (`SandboxMaker`). The
//! counts are this process's: each app server holds its own.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex},
};

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

use ollio_domain::UserId;

use crate::error::AppError;

/// The defaults of the settings above.
pub const DEFAULT_STREAMS: usize = 10;
pub const DEFAULT_PREVIEW_STARTS_PER_HOUR: u32 = 60;
pub const DEFAULT_RESTORES_PER_HOUR: u32 = 60;

/// How long a refused stream is told to wait before it asks again.
const STREAM_RETRY_SECS: u64 = 5;

#[derive(Clone)]
pub struct Budgets {
    streams_per_user: usize,
    streams: Arc<Mutex<HashMap<UserId, usize>>>,
    preview_starts: Arc<DefaultKeyedRateLimiter<UserId>>,
    restores: Arc<DefaultKeyedRateLimiter<UserId>>,
}

impl Budgets {
    pub fn new(
        streams_per_user: usize,
        preview_starts_per_hour: u32,
        restores_per_hour: u32,
    ) -> Self {
        let hourly = |count: u32| {
            Arc::new(RateLimiter::keyed(Quota::per_hour(
                NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN),
            )))
        };
        Self {
            streams_per_user,
            streams: Arc::default(),
            preview_starts: hourly(preview_starts_per_hour),
            restores: hourly(restores_per_hour),
        }
    }

    /// A place for one more open event stream of `user`, held until the
    /// slot drops (the stream ends); refused when all are taken.
    pub fn open_stream(&self, user: &UserId) -> Result<StreamSlot, AppError> {
        let mut streams = self.streams.lock().map_err(|_| AppError::Internal)?;
        let open = streams.entry(user.clone()).or_default();
        if *open >= self.streams_per_user {
            return Err(AppError::RateLimited {
                retry_after_secs: STREAM_RETRY_SECS,
            });
        }
        *open += 1;
        Ok(StreamSlot {
            streams: self.streams.clone(),
            user: user.clone(),
        })
    }

    /// Counts a preview start of `user`, or refuses it with the wait.
    pub fn preview_start(&self, user: &UserId) -> Result<(), AppError> {
        spend(&self.preview_starts, user)
    }

    /// Counts a restore of `user`, or refuses it with the wait.
    pub fn restore(&self, user: &UserId) -> Result<(), AppError> {
        spend(&self.restores, user)
    }
}

fn spend(limiter: &DefaultKeyedRateLimiter<UserId>, user: &UserId) -> Result<(), AppError> {
    limiter.check_key(user).map_err(|not_until| {
        let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
        AppError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        }
    })
}

/// One open event stream, counted until dropped.
pub struct StreamSlot {
    streams: Arc<Mutex<HashMap<UserId, usize>>>,
    user: UserId,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut streams) = self.streams.lock() {
            if let Some(open) = streams.get_mut(&self.user) {
                *open = open.saturating_sub(1);
                if *open == 0 {
                    streams.remove(&self.user);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_counted_until_they_end() {
        let budgets = Budgets::new(2, 1, 1);
        let ada = UserId::from_raw("ada");
        let first = budgets.open_stream(&ada).unwrap();
        let _second = budgets.open_stream(&ada).unwrap();
        assert!(budgets.open_stream(&ada).is_err());
        assert!(budgets.open_stream(&UserId::from_raw("bob")).is_ok());
        drop(first);
        assert!(budgets.open_stream(&ada).is_ok());
    }

    #[test]
    fn hourly_budgets_refuse_with_the_wait() {
        let budgets = Budgets::new(1, 2, 1);
        let ada = UserId::from_raw("ada");
        budgets.preview_start(&ada).unwrap();
        budgets.preview_start(&ada).unwrap();
        let refused = budgets.preview_start(&ada).unwrap_err();
        assert!(
            matches!(refused, AppError::RateLimited { retry_after_secs } if retry_after_secs > 60)
        );
        budgets.restore(&ada).unwrap();
        assert!(budgets.restore(&ada).is_err());
    }
}
