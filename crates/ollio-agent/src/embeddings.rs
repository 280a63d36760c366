//! Text embeddings for the Code tab's "Ask where…": the model named by
//! `OLLIO_EMBEDDING_MODEL`, over OpenAI's `/v1/embeddings` (and every
//! OpenAI-compatible service, at `OPENAI_BASE_URL`) or Ollama's
//! `/api/embed` (at `OLLAMA_HOST`). The server's endpoints only.

use std::time::Duration;

use serde::Deserialize;

use super::{
    chat_provider::{ProviderError, SecretKey},
    config::AgentConfig,
    model::{ModelRef, ProviderKind},
};

const TIMEOUT: Duration = Duration::from_secs(60);
/// Inputs sent in one request.
pub const BATCH: usize = 64;

/// Where embeddings come from.
#[derive(Clone)]
pub struct Embedder {
    http: reqwest::Client,
    model: String,
    /// OpenAI's protocol at this base URL with this key, else Ollama's at
    /// `ollama`.
    openai: Option<(String, Option<SecretKey>)>,
    ollama: String,
}

#[derive(Deserialize)]
struct OpenAiAnswer {
    data: Vec<OpenAiEmbedding>,
}

#[derive(Deserialize)]
struct OpenAiEmbedding {
    embedding: Vec<f32>,
    #[serde(default)]
    index: usize,
}

#[derive(Deserialize)]
struct OllamaAnswer {
    embeddings: Vec<Vec<f32>>,
}

impl Embedder {
    /// The embedder `model` names, on the server's endpoints.
    pub fn new(config: &AgentConfig, model: &ModelRef) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let openai = match model.provider {
            ProviderKind::Ollama => None,
            ProviderKind::OpenAi => {
                Some((config.openai.base_url.clone(), config.openai.key.clone()))
            }
            other => {
                return Err(format!(
                    "embeddings come from openai: or ollama: models, not {}:",
                    other.id()
                ))
            }
        };
        Ok(Self {
            http,
            model: model.model.clone(),
            openai,
            ollama: config.ollama_host.clone(),
        })
    }

    /// The name it is shown by (`openai:text-embedding-3-small`).
    pub fn name(&self) -> String {
        let provider = if self.openai.is_some() {
            "openai"
        } else {
            "ollama"
        };
        format!("{provider}:{}", self.model)
    }

    /// One vector per input, in order.
    pub async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, ProviderError> {
        let mut vectors = Vec::with_capacity(inputs.len());
        for batch in inputs.chunks(BATCH) {
            vectors.extend(self.embed_batch(batch).await?);
        }
        Ok(vectors)
    }

    async fn embed_batch(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, ProviderError> {
        let body = serde_json::json!({ "model": self.model, "input": inputs });
        let request = match &self.openai {
            Some((base, key)) => {
                let request = self
                    .http
                    .post(format!("{}/embeddings", base.trim_end_matches('/')))
                    .json(&body);
                match key {
                    Some(key) => request.bearer_auth(key.expose()),
                    None => request,
                }
            }
            None => self
                .http
                .post(format!("{}/api/embed", self.ollama.trim_end_matches('/')))
                .json(&body),
        };
        let response = request
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|error| ProviderError::from_transport(&error))?;
        if !response.status().is_success() {
            return Err(ProviderError::from_response(response).await);
        }
        let text = response
            .text()
            .await
            .map_err(|error| ProviderError::from_transport(&error))?;
        let vectors = if self.openai.is_some() {
            let mut answer: OpenAiAnswer = serde_json::from_str(&text)
                .map_err(|error| ProviderError::Protocol(format!("embeddings: {error}")))?;
            answer.data.sort_by_key(|entry| entry.index);
            answer
                .data
                .into_iter()
                .map(|entry| entry.embedding)
                .collect()
        } else {
            serde_json::from_str::<OllamaAnswer>(&text)
                .map_err(|error| ProviderError::Protocol(format!("embeddings: {error}")))?
                .embeddings
        };
        if vectors.len() != inputs.len() {
            return Err(ProviderError::Protocol(format!(
                "{} embeddings for {} inputs",
                vectors.len(),
                inputs.len()
            )));
        }
        Ok(vectors)
    }
}

/// How alike two vectors point: 1 the same way, 0 unrelated.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}
