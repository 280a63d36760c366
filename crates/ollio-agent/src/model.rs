//! Models are named `provider:model`, e.g. `openai:gpt-4.1`,
//! `anthropic:claude-sonnet-4-5` or `ollama:qwen2.5-coder`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// Any OpenAI-compatible endpoint (`OPENAI_BASE_URL`).
    OpenAi,
    Anthropic,
    /// Ollama's OpenAI-compatible endpoint (`OLLAMA_HOST`).
    Ollama,
}

impl ProviderKind {
    pub fn id(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::Ollama => "ollama",
        }
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
    #[error("`{0}` is not a provider; there are openai, anthropic and ollama")]
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
        let provider = match provider.to_ascii_lowercase().as_str() {
            "openai" => ProviderKind::OpenAi,
            "anthropic" => ProviderKind::Anthropic,
            "ollama" => ProviderKind::Ollama,
            _ => return Err(ModelRefError::Provider(provider.to_owned())),
        };
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
            "mistral:large".parse::<ModelRef>(),
            Err(ModelRefError::Provider(_))
        ));
        assert!(matches!(
            "openai:".parse::<ModelRef>(),
            Err(ModelRefError::Shape(_))
        ));
    }
}
