//! Credits: what a user may still spend this month, and what to tell one
//! who has none left.

use ollio_domain::UserId;
use ollio_store::{now_ms, StoreError, Usage};

use super::state::AppState;
use crate::{dto::usage::UsageView, error::AppError};

/// `owner`'s credits this month (the row is made on first use).
pub async fn usage_of(state: &AppState, owner: &UserId) -> Result<Usage, StoreError> {
    state
        .store
        .usage(owner, state.config.free_credits, now_ms())
        .await
}

/// What to tell a user who has no credits left.
pub fn out_of_credits(usage: Usage) -> AppError {
    let view = UsageView::from(usage);
    AppError::OutOfCredits {
        limit: view.limit,
        resets_on: view.resets_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
