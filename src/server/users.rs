//! Account operations behind the server functions in `crate::api::account`:
//! sign-up, sign-in, password change, deletion.

use ollio_domain::{Email, Password};
use ollio_store::{StoreError, User};

use super::{
    auth::{self, PasswordHash},
    client_ip, request, throttle,
};
use crate::error::AppError;

/// Said for a taken email, so the answer does not confirm the account exists.
pub const SIGNUP_REFUSED: &str =
    "We couldn't create an account with that email. If you already have one, sign in instead, or check the address.";
/// Said for every failed sign-in, whichever part was wrong.
pub const LOGIN_REFUSED: &str =
    "That email and password don't match an account. Check them and try again.";

pub use crate::dto::account::SIGNUPS_CLOSED;

pub async fn signup(email: &str, password: &str) -> Result<User, AppError> {
    let state = request::state()?;
    if !state.config.signups_open {
        return Err(AppError::invalid(SIGNUPS_CLOSED));
    }
    let email = Email::parse(email).map_err(AppError::invalid)?;
    let password = Password::parse(password).map_err(AppError::invalid)?;
    throttle::signup(
        &state.store,
        client_ip::current(),
        state.config.signups_per_hour,
    )
    .await?;
    let hash = auth::hash_password(&password).await?;
    let user = match state
        .store
        .create_user(email.as_str(), hash.as_stored())
        .await
    {
        Ok(user) => user,
        Err(StoreError::Conflict(_)) => return Err(AppError::invalid(SIGNUP_REFUSED)),
        Err(error) => return Err(error.into()),
    };
    auth::sign_in(&user).await?;
    tracing::info!(user = %user.id, "account created");
    Ok(user)
}

pub async fn login(email: &str, password: &str) -> Result<User, AppError> {
    let store = request::state()?.store;
    let Ok(email) = Email::parse(email) else {
        return Err(AppError::invalid(LOGIN_REFUSED));
    };
    let keys = throttle::LoginKeys::new(&email, client_ip::current());
    let attempt = throttle::begin(&store, &keys).await?;
    let password = Password::unchecked(password);
    let found = store.password_hash_by_email(email.as_str()).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), PasswordHash::from_stored(hash)),
        None => (None, auth::dummy_hash().await),
    };
    let matches = auth::verify_password(&password, &hash).await?;
    match user.filter(|_| matches) {
        Some(user) => {
            throttle::succeeded(&store, &keys, attempt).await?;
            auth::sign_in(&user).await?;
            Ok(user)
        }
        // Counted already, before the check.
        None => Err(AppError::invalid(LOGIN_REFUSED)),
    }
}

pub async fn change_password(user: &User, current: &str, new: &str) -> Result<(), AppError> {
    let store = request::state()?.store;
    let stored = store
        .password_hash(&user.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if !auth::verify_password(
        &Password::unchecked(current),
        &PasswordHash::from_stored(stored),
    )
    .await?
    {
        return Err(AppError::invalid("Your current password is not right."));
    }
    let new = Password::parse(new).map_err(AppError::invalid)?;
    let hash = auth::hash_password(&new).await?;
    let epoch = store
        .set_password_hash(&user.id, hash.as_stored())
        .await?
        .ok_or(AppError::Unauthorized)?;
    // Every other session of the account ended with the old epoch; this one
    // goes on under a new id, so a copy of its old cookie stops working too.
    let user = User {
        session_epoch: epoch,
        ..user.clone()
    };
    auth::sign_in(&user).await?;
    Ok(())
}

/// Deletes the account and everything it owns, once the user has typed the
/// account's email to confirm.
pub async fn delete_account(user: &User, confirmation: &str) -> Result<(), AppError> {
    if confirmation.trim().to_lowercase() != user.email {
        return Err(AppError::invalid(
            "Type your account's email address exactly to confirm.",
        ));
    }
    let state = request::state()?;
    if let Some(workers) = &state.workers {
        workers.forget_projects(&user.id, None).await?;
    }
    for project in state.store.projects(&user.id).await? {
        super::projects::forget_models(&state, &user.id, &project.id).await?;
    }
    let attached = state.store.owner_attachment_ids(&user.id).await?;
    super::attachments::forget(&state, &attached).await;
    state.store.delete_user(&user.id).await?;
    auth::sign_out().await?;
    tracing::info!(user = %user.id, "account deleted");
    Ok(())
}
