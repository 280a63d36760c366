//! Where the sandbox API lives and how to authenticate: the only thing that
//! differs between E2B cloud and the bundled `sandboxd`.

use super::wire::ENVD_PORT;

/// An E2B API key. Not `Serialize`; `Debug` shows only its prefix.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// A fresh key in E2B's `e2b_<40 hex>` shape.
    pub fn generate() -> Self {
        let random = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        Self(format!("e2b_{}", &random[..40]))
    }

    /// Whether the key has E2B's shape: `e2b_` then at least 32 hex digits.
    pub fn has_e2b_shape(&self) -> bool {
        self.0
            .strip_prefix("e2b_")
            .is_some_and(|hex| hex.len() >= 32 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares in time independent of where the keys differ.
    pub fn matches(&self, presented: &str) -> bool {
        let (ours, theirs) = (self.0.as_bytes(), presented.as_bytes());
        let mut difference = ours.len() ^ theirs.len();
        for (index, byte) in ours.iter().enumerate() {
            difference |= usize::from(byte ^ theirs.get(index).copied().unwrap_or(0));
        }
        difference == 0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey(e2b_…)")
    }
}

/// How to reach one sandbox API.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The control plane, e.g. `https://api.e2b.app`.
    pub api_url: String,
    /// Sends every envd call here (with the sandbox in headers) instead of to
    /// `https://49983-{id}.{domain}`. The SDK's `E2B_SANDBOX_URL`.
    pub sandbox_url: Option<String>,
    /// Sandbox hosts are `{port}-{id}.{domain}`.
    pub domain: String,
    /// `https` for E2B cloud, `http` for a local `sandboxd`.
    pub scheme: &'static str,
    pub api_key: ApiKey,
}

impl Endpoint {
    /// The envd base URL of a sandbox.
    pub fn envd_url(&self, sandbox_id: &str) -> String {
        match &self.sandbox_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => self.preview_url(sandbox_id, ENVD_PORT),
        }
    }

    /// `{scheme}://{port}-{id}.{domain}`: each port on its own origin.
    pub fn preview_url(&self, sandbox_id: &str, port: u16) -> String {
        format!("{}://{port}-{sandbox_id}.{}", self.scheme, self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_e2b_shape_and_hide_in_debug() {
        let key = ApiKey::generate();
        assert!(key.has_e2b_shape(), "{}", key.expose());
        assert_eq!(key.expose().len(), 44);
        assert!(!format!("{key:?}").contains(&key.expose()[4..]));
        assert!(key.matches(key.expose()));
        assert!(!key.matches("e2b_0000"));
        assert!(!ApiKey::new("sk-123").has_e2b_shape());
    }

    #[test]
    fn hosts_follow_e2b_naming() {
        let endpoint = Endpoint {
            api_url: "https://api.e2b.app".into(),
            sandbox_url: None,
            domain: "e2b.app".into(),
            scheme: "https",
            api_key: ApiKey::generate(),
        };
        assert_eq!(
            endpoint.preview_url("abc", 3000),
            "https://3000-abc.e2b.app"
        );
        assert_eq!(endpoint.envd_url("abc"), "https://49983-abc.e2b.app");
        let local = Endpoint {
            sandbox_url: Some("http://127.0.0.1:49983/".into()),
            ..endpoint
        };
        assert_eq!(local.envd_url("abc"), "http://127.0.0.1:49983");
    }
}
