//! Credits: what a user may still spend this month.

use leptos::prelude::*;

pub use crate::dto::usage::UsageView;
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "get_usage")]
pub async fn get_usage() -> Result<UsageView, AppError> {
    use crate::server::{auth, credits, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        Ok(credits::usage_of(&request::state()?, &user.id)
            .await?
            .into())
    })
    .await
}
