//! Accounts: the server functions behind sign-up, sign-in, sign-out, the
//! settings page, and "who is signed in". Thin: parse, call
//! `server::users`, answer.

use leptos::prelude::*;

pub use crate::dto::account::Viewer;
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "signup")]
pub async fn signup(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::server::{request, users};
    request::respond(async {
        users::signup(&email, &password).await?;
        leptos_axum::redirect(&ollio_domain::safe_next(next.as_deref()));
        Ok(())
    })
    .await
    .inspect_err(|error| request::back_with_typed(error, &[("email", &email)]))
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::server::{request, users};
    request::respond(async {
        users::login(&email, &password).await?;
        leptos_axum::redirect(&ollio_domain::safe_next(next.as_deref()));
        Ok(())
    })
    .await
    .inspect_err(|error| request::back_with_typed(error, &[("email", &email)]))
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::{auth, request};
    request::respond(async move {
        auth::sign_out().await?;
        leptos_axum::redirect("/");
        Ok(())
    })
    .await
}

/// The signed-in user, or `None`: the one call that is fine anonymously.
#[server(prefix = "/api", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<Viewer>, AppError> {
    use crate::server::{auth, credits, request};
    request::respond(async move {
        let Some(user) = auth::current_user().await? else {
            return Ok(None);
        };
        let usage = credits::usage_of(&request::state()?, &user.id).await?;
        Ok(Some(Viewer {
            email: user.email,
            usage: usage.into(),
        }))
    })
    .await
}

/// Where the settings form lands after a changed password: the page says so.
pub const PASSWORD_CHANGED: &str = "/settings?changed=password";

#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::server::{auth, request, users};
    request::respond(async move {
        let user = auth::require_user().await?;
        users::change_password(&user, &current_password, &new_password).await?;
        if request::is_native_form_post() {
            leptos_axum::redirect(PASSWORD_CHANGED);
        }
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_account")]
pub async fn delete_account(confirm_email: String) -> Result<(), AppError> {
    use crate::server::{auth, request, users};
    request::respond(async move {
        let user = auth::require_user().await?;
        users::delete_account(&user, &confirm_email).await?;
        leptos_axum::redirect("/");
        Ok(())
    })
    .await
}
