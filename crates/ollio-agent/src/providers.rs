//! From a `provider:model` name to a provider speaking its wire protocol,
//! with the configured endpoint and key; and the models users may pick,
//! Ollama's included when it answers.

use std::{sync::Arc, time::Duration};

use super::{
    anthropic::Anthropic,
    chat_provider::{ChatProvider, SecretKey},
    model::{ModelRef, ProviderKind},
    openai::OpenAiCompatible,
};
use crate::config::AgentConfig;

#[derive(Clone)]
pub struct Providers {
    config: Arc<AgentConfig>,
    http: reqwest::Client,
}

impl Providers {
    pub fn new(config: AgentConfig) -> Self {
        Self {
            config: Arc::new(config),
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// The provider that serves `model`, or why there is none.
    pub fn for_model(&self, model: &ModelRef) -> Result<Arc<dyn ChatProvider>, String> {
        self.for_model_with_key(model, None)
    }

    /// Like [`Providers::for_model`], with the user's own key (from
    /// settings) instead of the server's, when there is one.
    pub fn for_model_with_key(
        &self,
        model: &ModelRef,
        user_key: Option<SecretKey>,
    ) -> Result<Arc<dyn ChatProvider>, String> {
        match model.provider {
            ProviderKind::OpenAi => {
                let endpoint = &self.config.openai;
                if let Some(key) = user_key {
                    return Ok(Arc::new(OpenAiCompatible::new(
                        self.http.clone(),
                        endpoint.base_url.clone(),
                        Some(key),
                    )));
                }
                if !endpoint.configured {
                    return Err(
                        "no OpenAI-compatible endpoint is configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for other services)"
                            .into(),
                    );
                }
                Ok(Arc::new(OpenAiCompatible::new(
                    self.http.clone(),
                    endpoint.base_url.clone(),
                    endpoint.key.clone(),
                )))
            }
            ProviderKind::Anthropic => {
                let endpoint = &self.config.anthropic;
                let key = user_key
                    .or_else(|| endpoint.key.clone())
                    .ok_or("no Anthropic key is configured: set ANTHROPIC_API_KEY")?;
                Ok(Arc::new(Anthropic::new(
                    self.http.clone(),
                    endpoint.base_url.clone(),
                    key,
                )))
            }
            ProviderKind::Ollama => Ok(Arc::new(OpenAiCompatible::new(
                self.http.clone(),
                format!("{}/v1", self.config.ollama_host),
                None,
            ))),
        }
    }

    /// The models users may pick: the configured ones, then whatever the
    /// local Ollama serves, if it answers within a second.
    pub async fn available_models(&self) -> Vec<ModelRef> {
        let mut models = self.config.configured_models();
        for model in self.ollama_models().await {
            if !models.contains(&model) {
                models.push(model);
            }
        }
        models
    }

    async fn ollama_models(&self) -> Vec<ModelRef> {
        #[derive(serde::Deserialize)]
        struct Listing {
            #[serde(default)]
            data: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            id: String,
        }
        let url = format!("{}/v1/models", self.config.ollama_host);
        let answer = self
            .http
            .get(url)
            .timeout(Duration::from_secs(1))
            .send()
            .await;
        let Ok(response) = answer else {
            return Vec::new();
        };
        let Ok(listing) = response.json::<Listing>().await else {
            return Vec::new();
        };
        listing
            .data
            .into_iter()
            .map(|entry| ModelRef {
                provider: ProviderKind::Ollama,
                model: entry.id,
            })
            .collect()
    }
}
