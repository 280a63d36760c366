use sqlx::{any::AnyRow, Row};

use super::{conflict_as, new_id, now_ms, Store, StoreError};
use ollio_domain::UserId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub created_at: i64,
    /// Moves on when the password changes; sessions of an older epoch end.
    pub session_epoch: i64,
}

fn user(row: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId::from_raw(row.try_get::<String, _>("id")?),
        email: row.try_get("email")?,
        created_at: row.try_get("created_at")?,
        session_epoch: row.try_get("session_epoch")?,
    })
}

impl Store {
    /// Creates an account. `email` must already be normalised by the caller;
    /// a second account with the same email is a [`StoreError::Conflict`].
    pub async fn create_user(&self, email: &str, password_hash: &str) -> Result<User, StoreError> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO users (id, email, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4)
             RETURNING id, email, created_at, session_epoch",
        )
        .bind(new_id())
        .bind(email)
        .bind(password_hash)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(conflict_as("an account with this email"))?;
        Ok(user(&row)?)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let row =
            sqlx::query("SELECT id, email, created_at, session_epoch FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.as_ref().map(user).transpose()?)
    }

    pub async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let row =
            sqlx::query("SELECT id, email, created_at, session_epoch FROM users WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.as_ref().map(user).transpose()?)
    }

    /// The stored password hash (PHC string) of the account with `email`.
    pub async fn password_hash_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        let row =
            sqlx::query("SELECT id, email, created_at, session_epoch, password_hash FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(row) => Ok(Some((user(&row)?, row.try_get("password_hash")?))),
            None => Ok(None),
        }
    }

    pub async fn password_hash(&self, id: &UserId) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Sets a new password and moves the account's session epoch on (every
    /// session of the old epoch ends); returns the new epoch, `None` when
    /// there is no such account.
    pub async fn set_password_hash(
        &self,
        id: &UserId,
        password_hash: &str,
    ) -> Result<Option<i64>, StoreError> {
        let epoch: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET password_hash = $1, updated_at = $2, session_epoch = session_epoch + 1
             WHERE id = $3 RETURNING session_epoch",
        )
        .bind(password_hash)
        .bind(now_ms())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(epoch)
    }

    /// Deletes the account and, through the schema's cascades, everything it owns.
    pub async fn delete_user(&self, id: &UserId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
