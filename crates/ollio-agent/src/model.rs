//! Models are named `provider:model`, e.g. `openai:gpt-4.1`,
//! `anthropic:claude-sonnet-4-5`, `ollama:qwen2.5-coder` or
//! `groq:llama-3.3-70b-versatile` (a provider a user added).

use std::fmt;

use ollio_domain::provider_key::{self, ProviderInfo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// Any OpenAI-compatible endpoint (`OPENAI_BASE_URL`).
    OpenAi,
    Anthropic,
    /// Ollama's own API (`OLLAMA_HOST`).
    Ollama,
    /// Hosted services a user adds with their own key (see
    /// `ollio_domain::provider_key::PROVIDERS`).
    OpenRouter,
    Groq,
    DeepSeek,
    Together,
    Mistral,
    Gemini,
    /// The OpenAI-compatible server at a user's own base URL.
    Custom,
}

impl ProviderKind {
    pub const ALL: [Self; 10] = [
        Self::OpenAi,
        Self::Anthropic,
        Self::Ollama,
        Self::OpenRouter,
        Self::Groq,
        Self::DeepSeek,
        Self::Together,
        Self::Mistral,
        Self::Gemini,
        Self::Custom,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::Ollama => "ollama",
            Self::OpenRouter => "openrouter",
            Self::Groq => "groq",
            Self::DeepSeek => "deepseek",
            Self::Together => "together",
            Self::Mistral => "mistral",
            Self::Gemini => "gemini",
            Self::Custom => "custom",
        }
    }

    /// How a user adds it in settings; `None` for Ollama.
    pub fn info(self) -> Option<&'static ProviderInfo> {
        provider_key::provider(self.id())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelRef {
    pub provider: ProviderKind,
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelRefError {
    #[error("`{0}` is not written provider:model, e.g. openai:gpt-4.1")]
    Shape(String),
    #[error("`{0}` is not a provider; there are openai, anthropic, ollama, openrouter, groq, deepseek, together, mistral, gemini and custom")]
    Provider(String),
}

impl std::str::FromStr for ModelRef {
    type Err = ModelRefError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        let (provider, model) = raw
            .split_once(':')
            .filter(|(provider, model)| !provider.is_empty() && !model.trim().is_empty())
            .ok_or_else(|| ModelRefError::Shape(raw.to_owned()))?;
        let named = provider.to_ascii_lowercase();
        let provider = ProviderKind::ALL
            .into_iter()
            .find(|kind| kind.id() == named)
            .ok_or_else(|| ModelRefError::Provider(provider.to_owned()))?;
        Ok(Self {
            provider,
            model: model.trim().to_owned(),
        })
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider.id(), self.model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_parse_and_print_as_provider_colon_model() {
        let model: ModelRef = "ollama:qwen2.5-coder:7b".parse().unwrap();
        assert_eq!(model.provider, ProviderKind::Ollama);
        assert_eq!(model.model, "qwen2.5-coder:7b");
        assert_eq!(model.to_string(), "ollama:qwen2.5-coder:7b");
        assert!(matches!(
            "gpt-4.1".parse::<ModelRef>(),
            Err(ModelRefError::Shape(_))
        ));
        assert!(matches!(
            "mistrial:large".parse::<ModelRef>(),
            Err(ModelRefError::Provider(_))
        ));
        for kind in ProviderKind::ALL {
            let model: ModelRef = format!("{}:m", kind.id()).parse().unwrap();
            assert_eq!(model.provider, kind);
            assert_eq!(kind.info().is_none(), kind == ProviderKind::Ollama);
        }
        assert!(matches!(
            "openai:".parse::<ModelRef>(),
            Err(ModelRefError::Shape(_))
        ));
    }
}
