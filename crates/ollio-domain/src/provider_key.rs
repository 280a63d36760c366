//! A user's own model-provider key as it may be stored: for a provider that
//! takes one, and one line of printable characters. The settings page and
//! the server check it the same way.

/// Providers a user may give a key for (Ollama runs without one).
pub const PROVIDERS: &[(&str, &str)] =
    &[("openai", "OpenAI-compatible"), ("anthropic", "Anthropic")];
/// The longest key accepted, in characters.
pub const MAX_KEY_CHARS: usize = 512;

/// Checks a key before it is stored: one line of printable characters.
pub fn check_key(provider: &str, key: &str) -> Result<String, String> {
    if !PROVIDERS.iter().any(|(id, _)| *id == provider) {
        return Err(format!(
            "`{provider}` is not a provider you can save a key for."
        ));
    }
    let key = key.trim();
    if key.is_empty() {
        return Err("Paste the key first.".into());
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

#[cfg(test)]
mod tests {
    use super::check_key;

    #[test]
    fn keys_are_checked_before_they_are_kept() {
        assert_eq!(check_key("openai", "  sk-abc123  ").unwrap(), "sk-abc123");
        assert!(check_key("ollama", "x")
            .unwrap_err()
            .contains("not a provider"));
        assert!(check_key("openai", " ").unwrap_err().contains("Paste"));
        assert!(check_key("anthropic", "sk ant")
            .unwrap_err()
            .contains("spaces"));
        assert!(check_key("openai", &"k".repeat(600))
            .unwrap_err()
            .contains("longer"));
    }
}
