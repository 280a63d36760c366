//! Sealing users' provider keys at rest with the server's secret key
//! (`OLLIO_SECRET_KEY`, or one generated into the data folder): ChaCha20-
//! Poly1305 with a fresh nonce per seal, and the owner and provider as
//! associated data, so a sealed key copied to another user's row or
//! another provider does not open.

use std::path::Path;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    ChaCha20Poly1305, Key, Nonce,
};

const NONCE_LEN: usize = 12;
/// Where a generated secret key is kept, inside the data folder.
pub const KEY_FILE: &str = "secret.key";

/// What a user's sealed provider key is bound to: its owner and provider.
pub fn provider_key_context(owner: &ollio_domain::UserId, provider: &str) -> String {
    format!("provider-key:{owner}:{provider}")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "OLLIO_SECRET_KEY: must be 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`"
    )]
    BadKey,
    #[error("cannot keep the secret key in {path}: {message}")]
    KeyFile { path: String, message: String },
    #[error("a sealed value could not be opened (another secret key, or tampered with)")]
    Unreadable,
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

impl SecretBox {
    /// From 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<Self, SecretError> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SecretError::BadKey);
        }
        let bytes: Vec<u8> = (0..32)
            .map(|i| {
                u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|_| SecretError::BadKey)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
        })
    }

    /// `OLLIO_SECRET_KEY` when given; otherwise the key in
    /// `{data_dir}/secret.key`, generated there (mode 0600) on first use.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Self, SecretError> {
        if let Some(hex) = configured {
            return Self::from_hex(hex);
        }
        let path = data_dir.join(KEY_FILE);
        let failed = |error: std::io::Error| SecretError::KeyFile {
            path: path.display().to_string(),
            message: error.to_string(),
        };
        match std::fs::read_to_string(&path) {
            Ok(existing) => Self::from_hex(&existing),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                use std::{io::Write, os::unix::fs::OpenOptionsExt};
                std::fs::create_dir_all(data_dir).map_err(failed)?;
                let key = ChaCha20Poly1305::generate_key(&mut OsRng);
                let hex: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(failed)?;
                file.write_all(hex.as_bytes()).map_err(failed)?;
                Self::from_hex(&hex)
            }
            Err(error) => Err(failed(error)),
        }
    }

    /// Seals `plain`, bound to `context` (e.g. the owner and provider).
    pub fn seal(&self, plain: &str, context: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("sealing in memory cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        BASE64.encode(bytes)
    }

    /// Opens what [`SecretBox::seal`] sealed under the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SecretError> {
        let bytes = BASE64.decode(sealed).map_err(|_| SecretError::Unreadable)?;
        if bytes.len() <= NONCE_LEN {
            return Err(SecretError::Unreadable);
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Unreadable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn sealed_values_open_only_in_their_context() {
        let secrets = SecretBox::from_hex(KEY).unwrap();
        let sealed = secrets.seal("sk-very-secret", "user-1:openai");
        assert!(!sealed.contains("sk-very-secret"));
        assert_ne!(
            sealed,
            secrets.seal("sk-very-secret", "user-1:openai"),
            "fresh nonces"
        );
        assert_eq!(
            secrets.open(&sealed, "user-1:openai").unwrap(),
            "sk-very-secret"
        );
        assert_eq!(
            secrets.open(&sealed, "user-2:openai"),
            Err(SecretError::Unreadable)
        );
        let other = SecretBox::from_hex(&KEY.replace("00", "ff")).unwrap();
        assert_eq!(
            other.open(&sealed, "user-1:openai"),
            Err(SecretError::Unreadable)
        );
        assert_eq!(
            secrets.open("not base64!", "x"),
            Err(SecretError::Unreadable)
        );
    }

    #[test]
    fn a_generated_key_is_kept_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = SecretBox::load(None, dir.path()).unwrap();
        let sealed = first.seal("k", "c");
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = SecretBox::load(None, dir.path()).unwrap();
        assert_eq!(again.open(&sealed, "c").unwrap(), "k");
        assert_eq!(
            SecretBox::load(Some("short"), dir.path()).unwrap_err(),
            SecretError::BadKey
        );
        assert!(!format!("{first:?}").contains('0'));
    }
}
