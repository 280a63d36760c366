//! Compressed static files, kept. The router compresses what it serves, and
//! brotli of a multi-megabyte WASM (a debug build is over 10 MB) costs
//! seconds of CPU on every page load; this keeps each compressed answer for
//! `/pkg/*`, keyed by path, accepted encodings and the file's size and
//! modification time, so a rebuilt file is compressed afresh.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::SystemTime,
};

use axum::{
    body::{to_bytes, Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::Response,
};

/// Answers larger than this are passed on, not kept.
const LARGEST: usize = 64 * 1024 * 1024;
/// At most this many answers are kept (a few files, a few encodings).
const ENTRIES: usize = 32;

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    path: String,
    accept: String,
    len: u64,
    modified: Option<SystemTime>,
}

struct Kept {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone)]
pub struct AssetCache {
    site_root: PathBuf,
    kept: Arc<Mutex<HashMap<Key, Arc<Kept>>>>,
}

impl AssetCache {
    pub fn new(site_root: impl Into<PathBuf>) -> Self {
        Self {
            site_root: site_root.into(),
            kept: Arc::default(),
        }
    }

    /// The key for a request of `path`, if it names a file under `pkg/`.
    fn key(&self, path: &str, headers: &HeaderMap) -> Option<Key> {
        let relative = path.strip_prefix("/pkg/")?;
        if relative.is_empty()
            || relative
                .split('/')
                .any(|part| part == ".." || part.is_empty())
        {
            return None;
        }
        let meta = std::fs::metadata(self.site_root.join("pkg").join(relative)).ok()?;
        Some(Key {
            path: path.to_owned(),
            accept: headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

pub async fn keep_compressed(
    State(cache): State<AssetCache>,
    request: Request,
    next: Next,
) -> Response {
    // Conditional requests are left to the file server (they may get a 304).
    let conditional = request.headers().contains_key(header::IF_NONE_MATCH)
        || request.headers().contains_key(header::IF_MODIFIED_SINCE);
    let key = (request.method() == Method::GET && !conditional)
        .then(|| cache.key(request.uri().path(), request.headers()))
        .flatten();
    let Some(key) = key else {
        return next.run(request).await;
    };
    let found = cache
        .kept
        .lock()
        .ok()
        .and_then(|kept| kept.get(&key).cloned());
    if let Some(kept) = found {
        return answer(&kept);
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, LARGEST).await {
        Ok(body) => body,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    let kept = Arc::new(Kept {
        status: parts.status,
        headers: parts.headers,
        body,
    });
    if let Ok(mut all) = cache.kept.lock() {
        // A file rebuilt leaves its old answers behind: drop those first.
        all.retain(|old, _| {
            old.path != key.path || old.len == key.len && old.modified == key.modified
        });
        if all.len() >= ENTRIES {
            all.clear();
        }
        all.insert(key, kept.clone());
    }
    answer(&kept)
}

fn answer(kept: &Kept) -> Response {
    let mut response = Response::new(Body::from(kept.body.clone()));
    *response.status_mut() = kept.status;
    *response.headers_mut() = kept.headers.clone();
    response
}
