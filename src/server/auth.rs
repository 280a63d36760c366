//! Who is signed in: password hashing, and the one way every server function
//! and page loader gets the current user ([`current_user`] / [`require_user`]).

use std::fmt;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use tower_sessions::Session;

use ollio_domain::{Password, UserId};
use ollio_store::{Store, User};

use super::request;
use crate::error::AppError;

/// The session key holding the signed-in user's id.
pub const USER_KEY: &str = "user_id";
/// The account's session epoch when this session began (absent: 0).
const EPOCH_KEY: &str = "epoch";
/// The day (days since 1970) the session was last saved. A session is
/// saved, and its cookie sent again, only when it changes; saving it on a
/// signed-in request once a day keeps it alive for [`super::sessions::IDLE_DAYS`]
/// after the last visit rather than after the sign-in.
pub const SEEN_DAY_KEY: &str = "seen_day";

/// An argon2id hash in PHC string form. Neither serialisable nor printable,
/// so it can only travel between the password functions and the store.
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_stored(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// Hashes and checks at once at most, process-wide: each takes argon2's
/// 19 MiB for tens of milliseconds, so a flood of sign-ins queues here
/// instead of taking gigabytes.
pub const MAX_HASHING: usize = 4;

/// Runs one hash or check off the async threads, under the semaphore.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_HASHING);
    let _slot = SLOTS.acquire().await.map_err(request::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(request::internal)
}

/// Hashes with argon2id (the crate's default parameters) off the async
/// threads: a hash takes tens of milliseconds by design.
pub async fn hash_password(password: &Password) -> Result<PasswordHash, AppError> {
    let password = password.clone();
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| PasswordHash(hash.to_string()))
    })
    .await?
    .map_err(request::internal)
}

/// Checks `password` against `hash`; a malformed hash never matches.
pub async fn verify_password(password: &Password, hash: &PasswordHash) -> Result<bool, AppError> {
    let (password, phc) = (password.clone(), hash.0.clone());
    hashing(move || {
        argon2::PasswordHash::new(&phc)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.expose().as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
}

/// A valid hash of no one's password: signing in to an unknown account costs
/// as much time as a known one, so timing does not reveal which emails exist.
pub async fn dummy_hash() -> PasswordHash {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let phc = DUMMY
        .get_or_init(|| async {
            let password = Password::unchecked("not a real password, only for timing");
            hash_password(&password)
                .await
                .map(|hash| hash.0)
                .unwrap_or_default()
        })
        .await;
    PasswordHash(phc.clone())
}

/// The user id stored in `session`, without loading the user.
pub async fn session_user_id(session: &Session) -> Option<String> {
    session.get::<String>(USER_KEY).await.ok().flatten()
}

async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(request::internal)
}

/// The signed-in user, if any. A session whose user was deleted, or began
/// before the password last changed, is ended.
pub async fn current_user() -> Result<Option<User>, AppError> {
    let session = session().await?;
    session_user(&request::state()?.store, &session).await
}

/// [`current_user`] for routes outside server functions (the event stream,
/// the zip), which hold the session themselves.
pub async fn session_user(store: &Store, session: &Session) -> Result<Option<User>, AppError> {
    let Some(id) = session
        .get::<String>(USER_KEY)
        .await
        .map_err(request::internal)?
    else {
        return Ok(None);
    };
    let user = store.user(&UserId::from_raw(id)).await?;
    let epoch = session
        .get::<i64>(EPOCH_KEY)
        .await
        .map_err(request::internal)?
        .unwrap_or(0);
    // Deleted, or the password changed since this session began.
    let user = user.filter(|user| user.session_epoch == epoch);
    if user.is_none() {
        session.flush().await.map_err(request::internal)?;
        return Ok(None);
    }
    let today = ollio_store::now_ms() / 86_400_000;
    let seen = session
        .get::<i64>(SEEN_DAY_KEY)
        .await
        .map_err(request::internal)?;
    if seen != Some(today) {
        session
            .insert(SEEN_DAY_KEY, today)
            .await
            .map_err(request::internal)?;
    }
    Ok(user)
}

/// The signed-in user, or [`AppError::Unauthorized`].
pub async fn require_user() -> Result<User, AppError> {
    current_user().await?.ok_or(AppError::Unauthorized)
}

/// Starts a session for `user` under a new session id, so an id planted
/// before sign-in (session fixation) is worthless.
pub async fn sign_in(user: &User) -> Result<(), AppError> {
    let session = session().await?;
    session.cycle_id().await.map_err(request::internal)?;
    session
        .insert(USER_KEY, user.id.as_str())
        .await
        .map_err(request::internal)?;
    session
        .insert(EPOCH_KEY, user.session_epoch)
        .await
        .map_err(request::internal)?;
    session
        .insert(SEEN_DAY_KEY, ollio_store::now_ms() / 86_400_000)
        .await
        .map_err(request::internal)?;
    Ok(())
}

/// Ends the current session, server side and in the browser.
pub async fn sign_out() -> Result<(), AppError> {
    session().await?.flush().await.map_err(request::internal)
}
