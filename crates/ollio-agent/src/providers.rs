//! From a `provider:model` name to a provider speaking its wire protocol,
//! with the configured endpoint and key, or the user's own (settings); and
//! the models users may pick, Ollama's included when it answers.

use std::{sync::Arc, time::Duration};

use ollio_domain::provider_key::{Endpoint, Protocol};

use super::{
    anthropic::Anthropic,
    chat_provider::{ChatProvider, SecretKey},
    model::{ModelRef, ProviderKind},
    model_list,
    ollama::Ollama,
    openai::OpenAiCompatible,
    url_guard,
};
use crate::config::AgentConfig;

/// The model a user's own providers stand for when the server has no
/// default: OpenAI's or Anthropic's usual model for their key, else the
/// first model a tested provider listed.
pub fn own_default(keys: &[ollio_store::ProviderKeyInfo]) -> Option<ModelRef> {
    keys.iter()
        .find_map(|key| crate::config::default_model_for(&key.provider))
        .or_else(|| {
            keys.iter().find_map(|key| {
                let model = key.models.first()?;
                format!("{}:{model}", key.provider).parse().ok()
            })
        })
}

/// The models a user's tested providers listed, `provider:model`.
pub fn own_models(keys: &[ollio_store::ProviderKeyInfo]) -> Vec<ModelRef> {
    keys.iter()
        .flat_map(|key| {
            key.models
                .iter()
                .filter_map(|model| format!("{}:{model}", key.provider).parse().ok())
        })
        .collect()
}

/// What a user saved for a provider in settings.
#[derive(Debug, Clone, Default)]
pub struct UserProvider {
    /// `None` for a server at the user's URL that takes no key.
    pub key: Option<SecretKey>,
    /// The user's own base URL (the `custom` provider).
    pub base_url: Option<String>,
}

#[derive(Clone)]
pub struct Providers {
    config: Arc<AgentConfig>,
    http: reqwest::Client,
    /// For users' own URLs: see [`url_guard`].
    user_http: reqwest::Client,
}

impl Providers {
    pub fn new(config: AgentConfig) -> Self {
        let user_http = url_guard::client(config.allow_private_model_urls);
        Self {
            config: Arc::new(config),
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            user_http,
        }
    }

    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// The provider that serves `model`, or why there is none.
    pub fn for_model(&self, model: &ModelRef) -> Result<Arc<dyn ChatProvider>, String> {
        self.for_model_with_key(model, None)
    }

    /// Like [`Providers::for_model`], with what the user saved for the
    /// model's provider (their key, their URL) instead of the server's.
    pub fn for_model_with_key(
        &self,
        model: &ModelRef,
        user: Option<UserProvider>,
    ) -> Result<Arc<dyn ChatProvider>, String> {
        if model.provider == ProviderKind::Ollama {
            return Ok(Arc::new(Ollama::new(
                self.http.clone(),
                self.config.ollama_host.clone(),
                self.config.context_window(model),
            )));
        }
        let info = model
            .provider
            .info()
            .ok_or_else(|| format!("{} has no endpoint", model.provider.id()))?;
        let (base_url, key, guarded) = match (info.endpoint, user) {
            (Endpoint::Server, Some(user)) => (self.server_url(model.provider), user.key, false),
            (Endpoint::Server, None) => {
                let endpoint = match model.provider {
                    ProviderKind::Anthropic => &self.config.anthropic,
                    _ => &self.config.openai,
                };
                if !self.config.serves(model) {
                    return Err(match model.provider {
                        ProviderKind::Anthropic => {
                            "no Anthropic key is configured: set ANTHROPIC_API_KEY, or add your own key in Settings".into()
                        }
                        _ => "no OpenAI-compatible endpoint is configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for other services), or add your own key in Settings".into(),
                    });
                }
                (endpoint.base_url.clone(), endpoint.key.clone(), false)
            }
            (Endpoint::Hosted(url), Some(user)) => (url.to_owned(), user.key, false),
            (
                Endpoint::Users,
                Some(UserProvider {
                    key,
                    base_url: Some(url),
                }),
            ) => (url, key, !self.config.allow_private_model_urls),
            (_, _) => {
                return Err(format!(
                    "{} runs with your own account: add it in Settings",
                    info.name
                ))
            }
        };
        let http = if guarded || info.endpoint == Endpoint::Users {
            self.user_http.clone()
        } else {
            self.http.clone()
        };
        Ok(match info.protocol {
            Protocol::Anthropic => Arc::new(Anthropic::new(
                http,
                base_url,
                key.ok_or("no Anthropic key is configured")?,
            )),
            Protocol::OpenAi => {
                let provider = OpenAiCompatible::new(http, base_url, key);
                Arc::new(if guarded {
                    provider.guarded()
                } else {
                    provider
                })
            }
        })
    }

    /// The server's base URL for a provider it has an endpoint for.
    fn server_url(&self, provider: ProviderKind) -> String {
        match provider {
            ProviderKind::Anthropic => self.config.anthropic.base_url.clone(),
            _ => self.config.openai.base_url.clone(),
        }
    }

    /// The models `provider` serves with what the user saved for it, read
    /// from the provider ("Test connection").
    pub async fn list_models(
        &self,
        provider: ProviderKind,
        user: &UserProvider,
    ) -> Result<Vec<String>, String> {
        let info = provider
            .info()
            .ok_or("Ollama's models are listed without a key")?;
        let base_url = match info.endpoint {
            Endpoint::Server => self.server_url(provider),
            Endpoint::Hosted(url) => url.to_owned(),
            Endpoint::Users => {
                let url = user
                    .base_url
                    .clone()
                    .ok_or("Give the provider's base URL first.")?;
                url_guard::check(&url, self.config.allow_private_model_urls).await?;
                url
            }
        };
        let http = if info.endpoint == Endpoint::Users {
            &self.user_http
        } else {
            &self.http
        };
        let models = match info.protocol {
            Protocol::Anthropic => {
                let key = user.key.as_ref().ok_or("Save the key first.")?;
                model_list::anthropic(http, &base_url, key).await?
            }
            Protocol::OpenAi => model_list::openai(http, &base_url, user.key.as_ref()).await?,
        };
        if models.is_empty() {
            return Err(format!("{base_url} answered, but lists no models."));
        }
        Ok(models)
    }

    /// The models users may pick: the configured ones, then whatever the
    /// local Ollama serves, if it answers within a second.
    pub async fn available_models(&self) -> Vec<ModelRef> {
        let mut models = self.config.configured_models();
        let ollama =
            model_list::ollama(&self.http, &self.config.ollama_host, Duration::from_secs(1))
                .await
                .unwrap_or_default();
        for name in ollama {
            let model = ModelRef {
                provider: ProviderKind::Ollama,
                model: name,
            };
            if !models.contains(&model) {
                models.push(model);
            }
        }
        models
    }
}
