//! The rate limit on server functions: a keyed limiter, per user id (per
//! address when signed out), whose idle keys are forgotten every minute. A
//! leaf: the app's state keeps it, the HTTP guard checks it.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Server-function calls per user (or per address for anonymous callers).
pub type Limiter = DefaultKeyedRateLimiter<String>;

pub fn limiter(per_minute: u32) -> Arc<Limiter> {
    let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    let limiter = Arc::new(RateLimiter::keyed(Quota::per_minute(rate)));
    // Forget idle keys now and then, so memory stays bounded.
    let weak = Arc::downgrade(&limiter);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match weak.upgrade() {
                Some(limiter) => limiter.retain_recent(),
                None => break,
            }
        }
    });
    limiter
}
