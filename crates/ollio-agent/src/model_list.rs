//! The models a provider serves, read from the provider itself: OpenAI's
//! `GET /models` (which OpenAI-compatible services share), Anthropic's
//! `GET /v1/models` and Ollama's `GET /api/tags`. Settings' "Test
//! connection" shows them and the model pickers offer them.

use std::time::Duration;

use serde::Deserialize;

use super::chat_provider::{error_chain, SecretKey};

/// The most models kept from one provider (OpenRouter lists hundreds).
pub const MAX_MODELS: usize = 400;
const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Deserialize)]
struct Listing {
    #[serde(default)]
    data: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    models: Vec<Tag>,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
}

/// An OpenAI-compatible service's models, `base_url` up to its `/v1`.
pub async fn openai(
    http: &reqwest::Client,
    base_url: &str,
    key: Option<&SecretKey>,
) -> Result<Vec<String>, String> {
    let mut request = http.get(format!("{base_url}/models"));
    if let Some(key) = key {
        request = request.bearer_auth(key.expose());
    }
    let listing: Listing = fetch(request, base_url).await?;
    Ok(keep(listing.data.into_iter().map(|entry| entry.id)))
}

/// Anthropic's models.
pub async fn anthropic(
    http: &reqwest::Client,
    base_url: &str,
    key: &SecretKey,
) -> Result<Vec<String>, String> {
    let request = http
        .get(format!("{base_url}/v1/models?limit=1000"))
        .header("x-api-key", key.expose())
        .header("anthropic-version", "2023-06-01");
    let listing: Listing = fetch(request, base_url).await?;
    Ok(keep(listing.data.into_iter().map(|entry| entry.id)))
}

/// The models an Ollama server has pulled.
pub async fn ollama(
    http: &reqwest::Client,
    host: &str,
    timeout: Duration,
) -> Result<Vec<String>, String> {
    let tags: Tags = fetch(http.get(format!("{host}/api/tags")).timeout(timeout), host).await?;
    Ok(keep(tags.models.into_iter().map(|tag| tag.name)))
}

fn keep(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for name in names.map(|name| name.trim().to_owned()) {
        if !name.is_empty() && !kept.contains(&name) && kept.len() < MAX_MODELS {
            kept.push(name);
        }
    }
    kept
}

async fn fetch<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
    base_url: &str,
) -> Result<T, String> {
    let response = request.timeout(TIMEOUT).send().await.map_err(|error| {
        let chain = error_chain(&error);
        match super::url_guard::refusal_in(&chain) {
            Some(refusal) => refusal.to_owned(),
            None if error.is_timeout() => format!("{base_url} did not answer in time."),
            None => format!("{base_url} could not be reached: {chain}."),
        }
    })?;
    let status = response.status();
    if status.is_redirection() {
        return Err(format!(
            "{base_url} answered with a redirect ({status}): give the address it redirects to."
        ));
    }
    match status.as_u16() {
        401 | 403 => return Err("The provider refused the key: check it and save it again.".into()),
        404 => {
            return Err(format!(
                "{base_url} has no model list (404): check the base URL, which usually ends in /v1."
            ))
        }
        // Only the status: the body of whatever answered stays on the server.
        _ if !status.is_success() => return Err(format!("{base_url} answered {status}.")),
        _ => {}
    }
    response
        .json::<T>()
        .await
        .map_err(|error| format!("{base_url} did not answer with a model list: {error}."))
}

#[cfg(test)]
mod tests {
    use super::keep;

    #[test]
    fn names_are_kept_once_each_in_the_providers_order() {
        let names = ["b", " a ", "b", ""].map(str::to_owned);
        assert_eq!(keep(names.into_iter()), vec!["b", "a"]);
        let many = (0..1000).map(|n| format!("m{n}"));
        assert_eq!(keep(many).len(), super::MAX_MODELS);
    }
}
