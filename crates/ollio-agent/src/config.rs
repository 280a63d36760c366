//! The agent part of the configuration: which models (`OLLIO_MODEL`,
//! `OLLIO_EDIT_MODEL`, `OLLIO_PLAN_MODEL`), the providers' endpoints and keys under their own
//! usual names, and the limits of turns and workers.

use std::time::Duration;

use crate::{
    chat_provider::SecretKey,
    model::{ModelRef, ProviderKind},
};
use ollio_domain::config::{flag, number, ConfigError};

pub const OPENAI_DEFAULT_URL: &str = "https://api.openai.com/v1";
pub const ANTHROPIC_DEFAULT_URL: &str = "https://api.anthropic.com";
pub const OLLAMA_DEFAULT_HOST: &str = "http://127.0.0.1:11434";

#[derive(Debug, Clone)]
pub struct ProviderEndpoint {
    pub base_url: String,
    pub key: Option<SecretKey>,
    /// Whether the endpoint was configured at all (a key or a URL).
    pub configured: bool,
}

#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// `OLLIO_MODEL`; when unset, the first provider with a key decides.
    pub model: Option<ModelRef>,
    /// `OLLIO_EDIT_MODEL`: a faster model for small follow-up edits.
    pub edit_model: Option<ModelRef>,
    /// `OLLIO_PLAN_MODEL`: the model that writes plans (Plan mode); the
    /// project's model, else `OLLIO_MODEL`, when unset.
    pub plan_model: Option<ModelRef>,
    /// `OLLIO_EMBEDDING_MODEL`: `openai:…` or `ollama:…`, for "Ask where…"
    /// by meaning; without one it ranks by words (BM25).
    pub embedding_model: Option<ModelRef>,
    pub openai: ProviderEndpoint,
    pub anthropic: ProviderEndpoint,
    /// `OLLAMA_HOST`, without `/api`.
    pub ollama_host: String,
    /// `OLLIO_ALLOW_PRIVATE_MODEL_URLS`: whether a user's own provider URL
    /// may reach private and loopback addresses (a model on the LAN).
    pub allow_private_model_urls: bool,
    /// `OLLIO_TEXT_PROTOCOL_MODELS`: `provider:model` names without tool
    /// calling, which get the text protocol instead.
    pub text_protocol_models: Vec<ModelRef>,
    /// `OLLIO_MAX_STEPS`: model requests with tools in one turn.
    pub max_steps: u32,
    /// `OLLIO_FIX_ATTEMPTS`: rounds in one turn in which the model fixes
    /// what the check after its work found (0: the check only reports).
    pub fix_attempts: u32,
    /// `OLLIO_CONTEXT_TOKENS`: the context window of a model that
    /// `OLLIO_MODEL_CONTEXT` does not size.
    pub context_tokens: u64,
    /// `OLLIO_MODEL_CONTEXT`: `provider:model=tokens`, comma-separated.
    pub model_context: Vec<(ModelRef, u64)>,
    /// `OLLIO_TURN_TOKENS`: tokens one turn may use, read and written
    /// (wrap up at 80%, stop with the work saved at 100%).
    pub turn_tokens: u64,
    /// `OLLIO_TURN_TIMEOUT_SECS`: a turn's wall-clock limit.
    pub turn_timeout: Duration,
    /// `OLLIO_WORKERS`: turns run at once by this process (0: none here,
    /// `ollio worker` processes run them).
    pub workers: usize,
    /// `OLLIO_JOB_LEASE_SECS`: how long a worker's claim on a job lasts
    /// without a heartbeat.
    pub job_lease: Duration,
    /// `OLLIO_JOB_ATTEMPTS`: tries of one turn before it is given up.
    pub job_attempts: i64,
    /// `OLLIO_TRAIN_TIMEOUT`: how long `train.py` may run (`1800`, `90s`,
    /// `30m`, `2h`; plain numbers are seconds).
    pub train_timeout: Duration,
    /// `OLLIO_ARTIFACT_MB`: the trained model's files one version may keep.
    pub artifact_bytes: u64,
}

impl AgentConfig {
    /// The models users may pick from, the default first.
    pub fn configured_models(&self) -> Vec<ModelRef> {
        let mut models: Vec<ModelRef> = Vec::new();
        for model in [&self.model, &self.edit_model, &self.plan_model]
            .into_iter()
            .flatten()
        {
            if !models.contains(model) {
                models.push(model.clone());
            }
        }
        models
    }

    /// `model`'s context window in tokens.
    pub fn context_window(&self, model: &ModelRef) -> u64 {
        self.model_context
            .iter()
            .find(|(sized, _)| sized == model)
            .map_or(self.context_tokens, |(_, tokens)| *tokens)
    }

    /// Whether the server can run `model` with its own keys (or needs none:
    /// Ollama).
    pub fn serves(&self, model: &ModelRef) -> bool {
        match model.provider {
            ProviderKind::OpenAi => self.openai.configured,
            ProviderKind::Anthropic => self.anthropic.key.is_some(),
            ProviderKind::Ollama => true,
            // Only with a user's own key or URL.
            _ => false,
        }
    }

    pub fn tool_calling(&self, model: &ModelRef) -> bool {
        !self.text_protocol_models.contains(model)
    }

    /// Whether attached images go to `model` as image input: OpenAI's
    /// image parts and Anthropic's image blocks do; Ollama's models and
    /// models on the text protocol are sent text only.
    pub fn takes_images(&self, model: &ModelRef) -> bool {
        self.tool_calling(model) && model.provider != ProviderKind::Ollama
    }
}

/// The model a provider's key alone stands for: OpenAI's and Anthropic's
/// current general models.
pub fn default_model_for(provider: &str) -> Option<ModelRef> {
    match provider {
        "openai" => "openai:gpt-4.1".parse().ok(),
        "anthropic" => "anthropic:claude-sonnet-4-5".parse().ok(),
        _ => None,
    }
}

pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<AgentConfig, ConfigError> {
    let endpoint = |url_var: &'static str, key_var: &str, default: &str| {
        let url = get(url_var);
        let key = get(key_var).map(|key| SecretKey::new(key.trim()));
        let configured = url.is_some() || key.is_some();
        let base_url = match url {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                url.trim().trim_end_matches('/').to_owned()
            }
            Some(url) => {
                return Err(ConfigError::new(
                    url_var,
                    format!("`{url}` is not an http:// or https:// URL"),
                ))
            }
            None => default.to_owned(),
        };
        Ok(ProviderEndpoint {
            base_url,
            key,
            configured,
        })
    };
    let openai = endpoint("OPENAI_BASE_URL", "OPENAI_API_KEY", OPENAI_DEFAULT_URL)?;
    let anthropic = endpoint(
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_API_KEY",
        ANTHROPIC_DEFAULT_URL,
    )?;
    let ollama_host = match get("OLLAMA_HOST") {
        Some(host) => {
            let host = host.trim().trim_end_matches('/');
            if host.starts_with("http://") || host.starts_with("https://") {
                host.to_owned()
            } else {
                // Ollama itself accepts a bare host:port.
                format!("http://{host}")
            }
        }
        None => OLLAMA_DEFAULT_HOST.to_owned(),
    };
    let model_var = |var: &'static str| -> Result<Option<ModelRef>, ConfigError> {
        get(var)
            .map(|raw| {
                raw.parse()
                    .map_err(|error| ConfigError::new(var, format!("{error}")))
            })
            .transpose()
    };
    let model = match model_var("OLLIO_MODEL")? {
        Some(model) => Some(model),
        None if openai.key.is_some() || openai.configured => default_model_for("openai"),
        None if anthropic.key.is_some() => default_model_for("anthropic"),
        None => None,
    };
    let edit_model = model_var("OLLIO_EDIT_MODEL")?;
    let plan_model = model_var("OLLIO_PLAN_MODEL")?;
    let embedding_model = model_var("OLLIO_EMBEDDING_MODEL")?;
    if let Some(model) = &embedding_model {
        if !matches!(model.provider, ProviderKind::OpenAi | ProviderKind::Ollama) {
            return Err(ConfigError::new(
                "OLLIO_EMBEDDING_MODEL",
                "embeddings come from an openai: or ollama: model (OpenAI-compatible /v1/embeddings, or Ollama)",
            ));
        }
    }
    let text_protocol_models = match get("OLLIO_TEXT_PROTOCOL_MODELS") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                name.parse().map_err(|error| {
                    ConfigError::new("OLLIO_TEXT_PROTOCOL_MODELS", format!("{error}"))
                })
            })
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let model_context = match get("OLLIO_MODEL_CONTEXT") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let wrong = |why: String| ConfigError::new("OLLIO_MODEL_CONTEXT", why);
                let (name, tokens) = pair
                    .rsplit_once('=')
                    .ok_or_else(|| wrong(format!("`{pair}` is not `provider:model=tokens`")))?;
                let model: ModelRef = name
                    .trim()
                    .parse()
                    .map_err(|error| wrong(format!("{error}")))?;
                let tokens: u64 = tokens
                    .trim()
                    .parse()
                    .ok()
                    .filter(|tokens| *tokens >= 2_000)
                    .ok_or_else(|| {
                        wrong(format!(
                            "`{tokens}` is not a number of tokens (2000 or more)"
                        ))
                    })?;
                Ok((model, tokens))
            })
            .collect::<Result<_, ConfigError>>()?,
        None => Vec::new(),
    };
    Ok(AgentConfig {
        model,
        edit_model,
        plan_model,
        embedding_model,
        openai,
        anthropic,
        ollama_host,
        allow_private_model_urls: flag(get, crate::url_guard::ALLOW_VAR)?,
        text_protocol_models,
        max_steps: number(get, "OLLIO_MAX_STEPS", 20, 1)?,
        fix_attempts: number(get, "OLLIO_FIX_ATTEMPTS", 2, 0)?,
        turn_tokens: number(get, "OLLIO_TURN_TOKENS", 400_000u64, 1_000)?,
        context_tokens: number(
            get,
            "OLLIO_CONTEXT_TOKENS",
            crate::context::DEFAULT_CONTEXT_TOKENS,
            2_000,
        )?,
        model_context,
        turn_timeout: Duration::from_secs(number(get, "OLLIO_TURN_TIMEOUT_SECS", 900, 10)?),
        workers: number(get, "OLLIO_WORKERS", 4, 0)?,
        job_lease: Duration::from_secs(number(get, "OLLIO_JOB_LEASE_SECS", 30, 2)?),
        job_attempts: number(get, "OLLIO_JOB_ATTEMPTS", 3, 1)?,
        train_timeout: duration(get, "OLLIO_TRAIN_TIMEOUT", 30 * 60, 10)?,
        artifact_bytes: number(get, "OLLIO_ARTIFACT_MB", 200u64, 1)? * 1024 * 1024,
    })
}

/// A duration in seconds, or with a unit (`90s`, `30m`, `2h`), of at
/// least `min` seconds.
fn duration(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default_secs: u64,
    min_secs: u64,
) -> Result<Duration, ConfigError> {
    let Some(raw) = get(var) else {
        return Ok(Duration::from_secs(default_secs));
    };
    let text = raw.trim();
    let (digits, unit) = match text.char_indices().last() {
        Some((at, 's')) => (&text[..at], 1),
        Some((at, 'm')) => (&text[..at], 60),
        Some((at, 'h')) => (&text[..at], 3600),
        _ => (text, 1),
    };
    match digits.trim().parse::<u64>() {
        Ok(value) if value.saturating_mul(unit) >= min_secs => {
            Ok(Duration::from_secs(value.saturating_mul(unit)))
        }
        _ => Err(ConfigError::new(
            var,
            format!("`{raw}` is not a duration of at least {min_secs} seconds (like 1800, 90s, 30m or 2h)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<AgentConfig, ConfigError> {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        from_lookup(&get)
    }

    #[test]
    fn defaults_follow_the_keys_present() {
        let none = config(&[]).unwrap();
        assert!(none.model.is_none());
        assert_eq!(none.ollama_host, OLLAMA_DEFAULT_HOST);
        assert_eq!((none.max_steps, none.workers), (20, 4));
        assert_eq!(none.fix_attempts, 2);
        assert_eq!(
            config(&[("OLLIO_FIX_ATTEMPTS", "0")]).unwrap().fix_attempts,
            0
        );
        assert!(config(&[("OLLIO_FIX_ATTEMPTS", "many")]).is_err());
        assert_eq!(none.turn_tokens, 400_000);
        assert_eq!(
            config(&[("OLLIO_TURN_TOKENS", "2000")])
                .unwrap()
                .turn_tokens,
            2000
        );
        assert!(config(&[("OLLIO_TURN_TOKENS", "10")]).is_err());
        let sized = config(&[
            ("OLLIO_CONTEXT_TOKENS", "64000"),
            (
                "OLLIO_MODEL_CONTEXT",
                "ollama:qwen2.5-coder=32768, openai:gpt-4.1=1000000",
            ),
        ])
        .unwrap();
        let model = |name: &str| name.parse::<ModelRef>().unwrap();
        assert_eq!(sized.context_window(&model("ollama:qwen2.5-coder")), 32_768);
        assert_eq!(sized.context_window(&model("openai:gpt-4.1")), 1_000_000);
        assert_eq!(sized.context_window(&model("openai:other")), 64_000);
        assert_eq!(
            none.context_window(&model("openai:other")),
            crate::context::DEFAULT_CONTEXT_TOKENS
        );
        assert!(config(&[("OLLIO_MODEL_CONTEXT", "ollama:x")]).is_err());
        assert!(config(&[("OLLIO_MODEL_CONTEXT", "ollama:x=many")]).is_err());
        assert_eq!(none.train_timeout, Duration::from_secs(1800));
        assert_eq!(none.artifact_bytes, 200 * 1024 * 1024);
        let openai = config(&[("OPENAI_API_KEY", "sk-x")]).unwrap();
        assert_eq!(openai.model.unwrap().to_string(), "openai:gpt-4.1");
        let anthropic = config(&[("ANTHROPIC_API_KEY", "sk-ant")]).unwrap();
        assert_eq!(
            anthropic.model.unwrap().to_string(),
            "anthropic:claude-sonnet-4-5"
        );
        let ollama = config(&[
            ("OLLIO_MODEL", "ollama:qwen2.5-coder"),
            ("OLLAMA_HOST", "box:11434"),
        ])
        .unwrap();
        assert_eq!(ollama.ollama_host, "http://box:11434");
    }

    #[test]
    fn bad_values_name_their_variable() {
        let error = config(&[("OLLIO_MODEL", "gpt-4.1")]).unwrap_err();
        assert_eq!(error.var, "OLLIO_MODEL");
        let error = config(&[("OPENAI_BASE_URL", "api.openai.com")]).unwrap_err();
        assert_eq!(error.var, "OPENAI_BASE_URL");
        let error = config(&[("OLLIO_MAX_STEPS", "0")]).unwrap_err();
        assert_eq!(error.var, "OLLIO_MAX_STEPS");
        let error = config(&[("OLLIO_TEXT_PROTOCOL_MODELS", "ollama:x, nope")]).unwrap_err();
        assert_eq!(error.var, "OLLIO_TEXT_PROTOCOL_MODELS");
        for bad in ["5", "ten", "3d", "0m"] {
            let error = config(&[("OLLIO_TRAIN_TIMEOUT", bad)]).unwrap_err();
            assert_eq!(error.var, "OLLIO_TRAIN_TIMEOUT", "{bad}");
        }
        let error = config(&[("OLLIO_ARTIFACT_MB", "0")]).unwrap_err();
        assert_eq!(error.var, "OLLIO_ARTIFACT_MB");
    }

    #[test]
    fn the_training_limit_takes_a_unit() {
        for (raw, secs) in [("1800", 1800), ("90s", 90), ("30m", 1800), ("2h", 7200)] {
            let config = config(&[("OLLIO_TRAIN_TIMEOUT", raw)]).unwrap();
            assert_eq!(config.train_timeout, Duration::from_secs(secs), "{raw}");
        }
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let config = config(&[("OPENAI_API_KEY", "sk-very-secret")]).unwrap();
        assert!(!format!("{config:?}").contains("sk-very-secret"));
    }
}
