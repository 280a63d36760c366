use std::fmt;

use serde::{Deserialize, Serialize};

/// An email address in canonical form: trimmed and lower-cased, so that one
/// address can never hold two accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter your email address.")]
    Empty,
    #[error("That doesn't look like an email address: it needs a name, an @ and a domain, like ada@example.com.")]
    Malformed,
    #[error("That email address is too long.")]
    TooLong,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = email.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let local_ok = !local.is_empty()
            && !local.contains('@')
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(c));
        if !(domain_ok && local_ok) {
            return Err(EmailError::Malformed);
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password a user typed. Never serialised, and `Debug` hides it, so it
/// cannot end up in a log or a response by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Use at least {min} characters for your password.")]
    TooShort { min: usize },
    #[error("Use at most {max} characters for your password.")]
    TooLong { max: usize },
    #[error("That password is too easy to guess: avoid repeating one character or using a well-known password.")]
    TooWeak,
}

/// Passwords long enough to pass the length rule but tried first by attackers.
const COMMON: [&str; 12] = [
    "1234567890",
    "12345678910",
    "0123456789",
    "qwertyuiop",
    "password123",
    "password1234",
    "passwordpassword",
    "iloveyou123",
    "qwerty123456",
    "abcdefghij",
    "1q2w3e4r5t",
    "letmein1234",
];

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 256;

    /// Checks a new password. Existing passwords are checked against their hash
    /// only, through [`Password::unchecked`].
    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(PasswordError::TooShort {
                min: Self::MIN_CHARS,
            });
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        let mut distinct: Vec<char> = raw.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 3 || COMMON.contains(&raw.to_lowercase().as_str()) {
            return Err(PasswordError::TooWeak);
        }
        Ok(Self(raw.to_owned()))
    }

    /// A password typed to sign in or to confirm: compared with a stored hash,
    /// never held to the rules for new ones (they may have changed).
    pub fn unchecked(raw: &str) -> Self {
        Self(raw.to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_canonical() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        assert_eq!(
            Email::parse("a.b+tag@sub.example.co").unwrap().as_str(),
            "a.b+tag@sub.example.co"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        assert_eq!(Email::parse(" "), Err(EmailError::Empty));
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@exa mple.com",
            "ada@.com",
            "ada@example..com",
            "a<b>@example.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Malformed), "{bad}");
        }
        assert_eq!(
            Email::parse(&format!("{}@example.com", "a".repeat(250))),
            Err(EmailError::TooLong)
        );
    }

    #[test]
    fn passwords_follow_the_rules() {
        assert!(Password::parse("correct horse battery").is_ok());
        assert_eq!(
            Password::parse("short"),
            Err(PasswordError::TooShort { min: 10 })
        );
        assert_eq!(
            Password::parse(&"ab".repeat(200)),
            Err(PasswordError::TooLong { max: 256 })
        );
        assert_eq!(Password::parse("aaaaaaaaaaaa"), Err(PasswordError::TooWeak));
        assert_eq!(Password::parse("Password123"), Err(PasswordError::TooWeak));
        // Characters, not bytes: ten accented letters are enough.
        assert!(Password::parse("éàüöçñøåæß").is_ok());
    }

    #[test]
    fn passwords_never_print() {
        let password = Password::parse("correct horse battery").unwrap();
        assert_eq!(format!("{password:?}"), "Password(***)");
    }
}
