//! Credits: what a user may still spend this month.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    pub limit: i64,
    pub used: i64,
    pub remaining: i64,
    /// When the credits reset, as a date ("1 December 2026").
    pub resets_on: String,
}

#[server(prefix = "/api", endpoint = "get_usage")]
pub async fn get_usage() -> Result<UsageView, AppError> {
    use crate::server::{api, auth};
    api::respond(async move { usage_of(&auth::require_user().await?).await }).await
}

#[cfg(feature = "ssr")]
pub async fn usage_of(user: &crate::server::store::User) -> Result<UsageView, AppError> {
    use crate::server::{api, store::now_ms};
    let state = api::state()?;
    let usage = state
        .store
        .usage(&user.id, state.config.free_credits, now_ms())
        .await?;
    Ok(UsageView::from(usage))
}

#[cfg(feature = "ssr")]
impl From<crate::server::store::Usage> for UsageView {
    fn from(usage: crate::server::store::Usage) -> Self {
        Self {
            limit: usage.limit,
            used: usage.used,
            remaining: usage.remaining(),
            resets_on: crate::domain::calendar::format_date(usage.resets_at()),
        }
    }
}

/// What to tell a user who has no credits left.
#[cfg(feature = "ssr")]
pub fn out_of_credits(usage: crate::server::store::Usage) -> AppError {
    let view = UsageView::from(usage);
    AppError::OutOfCredits {
        limit: view.limit,
        resets_on: view.resets_on,
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::server::store::Usage;

    #[test]
    fn running_out_names_the_reset_date() {
        let usage = Usage {
            limit: 50,
            used: 50,
            period_start: 1_793_491_200_000, // 2026-11-01
        };
        assert_eq!(
            out_of_credits(usage).to_string(),
            "You have used all 50 credits for this month. They reset on 1 December 2026."
        );
        assert_eq!(UsageView::from(usage).remaining, 0);
    }
}
