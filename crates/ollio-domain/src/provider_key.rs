//! The model providers a user may add in settings, and a key or base URL
//! as it may be stored for one. The settings page and the server check
//! them the same way.

/// Which wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OpenAI's chat completions (`/v1/chat/completions`, `/v1/models`).
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
}

/// Where a provider's requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The server's own endpoint for it (`OPENAI_BASE_URL`,
    /// `ANTHROPIC_BASE_URL`), with the user's key.
    Server,
    /// A hosted service at this base URL (up to and including its `/v1`).
    Hosted(&'static str),
    /// The base URL the user gives (checked against private addresses).
    Users,
}

/// A provider a user may add: its id (the `provider` in `provider:model`),
/// its name, and how it is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderInfo {
    pub id: &'static str,
    pub name: &'static str,
    pub protocol: Protocol,
    pub endpoint: Endpoint,
}

impl ProviderInfo {
    /// Whether it runs without a key (a local server at the user's URL).
    pub fn key_optional(&self) -> bool {
        self.endpoint == Endpoint::Users
    }
}

const fn openai_at(id: &'static str, name: &'static str, url: &'static str) -> ProviderInfo {
    ProviderInfo {
        id,
        name,
        protocol: Protocol::OpenAi,
        endpoint: Endpoint::Hosted(url),
    }
}

/// The providers a user may add, as settings lists them (Ollama on the
/// server's machine runs without being added).
pub const PROVIDERS: &[ProviderInfo] = &[
    ProviderInfo {
        id: "openai",
        name: "OpenAI",
        protocol: Protocol::OpenAi,
        endpoint: Endpoint::Server,
    },
    ProviderInfo {
        id: "anthropic",
        name: "Anthropic",
        protocol: Protocol::Anthropic,
        endpoint: Endpoint::Server,
    },
    openai_at("openrouter", "OpenRouter", "https://openrouter.ai/api/v1"),
    openai_at("groq", "Groq", "https://api.groq.com/openai/v1"),
    openai_at("deepseek", "DeepSeek", "https://api.deepseek.com/v1"),
    openai_at("together", "Together", "https://api.together.xyz/v1"),
    openai_at("mistral", "Mistral", "https://api.mistral.ai/v1"),
    openai_at(
        "gemini",
        "Gemini",
        "https://generativelanguage.googleapis.com/v1beta/openai",
    ),
    ProviderInfo {
        id: "custom",
        name: "OpenAI-compatible",
        protocol: Protocol::OpenAi,
        endpoint: Endpoint::Users,
    },
];

/// The provider `id` names, if a user may add it.
pub fn provider(id: &str) -> Option<&'static ProviderInfo> {
    PROVIDERS.iter().find(|info| info.id == id)
}

/// The longest key accepted, in characters.
pub const MAX_KEY_CHARS: usize = 512;
/// The longest base URL accepted, in characters.
pub const MAX_URL_CHARS: usize = 300;

/// Checks a key before it is stored: one line of printable characters
/// (none at all for a provider at the user's own URL, which may need none).
pub fn check_key(provider: &ProviderInfo, key: &str) -> Result<String, String> {
    let key = key.trim();
    if key.is_empty() {
        return if provider.key_optional() {
            Ok(String::new())
        } else {
            Err("Paste the key first.".into())
        };
    }
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(format!(
            "That is longer than any API key ({MAX_KEY_CHARS} characters at most)."
        ));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A key has no spaces or line breaks: copy it again.".into());
    }
    Ok(key.to_owned())
}

/// Checks the base URL a user gives: `http://` or `https://`, a host, no
/// user name or password, no query; kept without its trailing `/`. Where
/// it points is checked when it is used (see the agent's `url_guard`).
pub fn check_base_url(raw: &str) -> Result<String, String> {
    let url = raw.trim().trim_end_matches('/');
    if url.is_empty() {
        return Err("Give the provider's base URL, e.g. https://llm.example.com/v1.".into());
    }
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "A base URL has at most {MAX_URL_CHARS} characters."
        ));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("The base URL starts with http:// or https://.")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        return Err("The base URL has no host.".into());
    }
    if host.contains('@') {
        return Err("Give the key in its own field, not in the URL.".into());
    }
    if rest.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("The base URL has no query, fragment or spaces.".into());
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_before_they_are_kept() {
        let openai = provider("openai").unwrap();
        assert_eq!(check_key(openai, "  sk-abc123  ").unwrap(), "sk-abc123");
        assert!(provider("ollama").is_none());
        assert!(check_key(openai, " ").unwrap_err().contains("Paste"));
        assert!(check_key(provider("anthropic").unwrap(), "sk ant")
            .unwrap_err()
            .contains("spaces"));
        assert!(check_key(openai, &"k".repeat(600))
            .unwrap_err()
            .contains("longer"));
        // A server at the user's own URL may take no key.
        assert_eq!(check_key(provider("custom").unwrap(), "").unwrap(), "");
    }

    #[test]
    fn every_provider_the_issue_names_is_offered() {
        let names: Vec<&str> = PROVIDERS.iter().map(|info| info.name).collect();
        for name in [
            "OpenAI",
            "Anthropic",
            "OpenRouter",
            "Groq",
            "DeepSeek",
            "Together",
            "Mistral",
            "Gemini",
            "OpenAI-compatible",
        ] {
            assert!(names.contains(&name), "{name} is missing");
        }
        for info in PROVIDERS {
            if let Endpoint::Hosted(url) = info.endpoint {
                assert_eq!(check_base_url(url).unwrap(), url);
            }
        }
    }

    #[test]
    fn base_urls_are_checked_before_they_are_kept() {
        assert_eq!(
            check_base_url(" http://192.168.1.5:1234/v1/ ").unwrap(),
            "http://192.168.1.5:1234/v1"
        );
        assert!(check_base_url("").unwrap_err().contains("base URL"));
        assert!(check_base_url("ftp://x/v1").unwrap_err().contains("http"));
        assert!(check_base_url("https:///v1").unwrap_err().contains("host"));
        assert!(check_base_url("https://me:pw@llm.example.com/v1")
            .unwrap_err()
            .contains("key in its own field"));
        assert!(check_base_url("https://llm.example.com/v1?x=1")
            .unwrap_err()
            .contains("query"));
    }
}
