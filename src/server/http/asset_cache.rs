//! The browser's files (`/pkg/*`: the WASM, its JS and the CSS), compressed
//! once at the best level and kept.
//!
//! The router's compression layer works per response at a fast level; for
//! the files every page loads that leaves a fifth of the bytes on the table
//! (a release WASM: 454 KB brotli at the fast level, 374 KB at the best), and
//! a development WASM (3 MB) would cost CPU on every page load.
//! Here each file is compressed once per encoding, keyed by path, size and
//! modification time (a rebuilt file is compressed afresh), on a blocking
//! thread, and concurrent first requests wait for the same work. Headers
//! still come from the file server; only the body is swapped.

use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::SystemTime,
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::Response,
};
use tokio::sync::OnceCell;

/// Files up to this size get the slowest, smallest compression (brotli 11
/// takes about 2 s per MB); larger ones (the development WASM, 3 MB; the
/// release one is 1.2 MB) a fast level. A debug server, whose files are
/// development builds several times larger, keeps the best level for small
/// files only: its Code Lab chunk (1.7 MB) would otherwise take it seconds
/// on a busy machine while the page waits.
const BEST_UP_TO: u64 = if cfg!(debug_assertions) {
    256 * 1024
} else {
    2 * 1024 * 1024
};
/// Files larger than this are served as they are.
const LARGEST: u64 = 64 * 1024 * 1024;
/// At most this many compressed bodies are kept (a few files, two encodings).
const ENTRIES: usize = 32;
/// Compressed first at start-up, so the first visitor does not wait for
/// them; every other file (the WASM chunks a page loads once it is idle,
/// the editor's and the terminal's bundles) follows, chunks first.
const WARM: [&str; 4] = ["ollio.wasm", "ollio.js", "ollio.css", "__wasm_split.js"];

/// The encodings served, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    /// The best encoding `accept` (an `Accept-Encoding` value) allows.
    pub fn preferred(accept: &str) -> Option<Self> {
        let allowed = |name: &str| {
            accept.split(',').any(|item| {
                let mut parts = item.split(';').map(str::trim);
                let token = parts.next().unwrap_or_default();
                let refused = parts.any(|param| {
                    param
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                token.eq_ignore_ascii_case(name) && !refused
            })
        };
        [Self::Brotli, Self::Gzip]
            .into_iter()
            .find(|encoding| allowed(encoding.token()))
    }

    fn token(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
        }
    }

    /// `plain` compressed; `best` picks the smallest output over speed.
    pub fn compress(self, plain: &[u8], best: bool) -> std::io::Result<Vec<u8>> {
        match self {
            Self::Brotli => {
                let quality = if best { 11 } else { 5 };
                let mut out = Vec::with_capacity(plain.len() / 4);
                {
                    let mut writer =
                        brotli::CompressorWriter::new(&mut out, 64 * 1024, quality, 22);
                    writer.write_all(plain)?;
                }
                Ok(out)
            }
            Self::Gzip => {
                let level = if best { 9 } else { 6 };
                let mut writer = flate2::write::GzEncoder::new(
                    Vec::with_capacity(plain.len() / 4),
                    flate2::Compression::new(level),
                );
                writer.write_all(plain)?;
                writer.finish()
            }
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    relative: String,
    encoding: Encoding,
    len: u64,
    modified: Option<SystemTime>,
}

/// One file's compressed body; `None` when compressing did not make it
/// smaller (or the file could not be read), so it is served as it is.
type Kept = Arc<OnceCell<Option<Bytes>>>;

#[derive(Clone)]
pub struct AssetCache {
    pkg: PathBuf,
    kept: Arc<Mutex<HashMap<Key, Kept>>>,
}

impl AssetCache {
    /// Keeps compressed files from `site_root/pkg`, and starts compressing the
    /// main ones in the background when a runtime is running.
    pub fn new(site_root: impl AsRef<Path>) -> Self {
        let cache = Self {
            pkg: site_root.as_ref().join("pkg"),
            kept: Arc::default(),
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let warm = cache.clone();
            runtime.spawn(async move {
                for name in warm.warm_order() {
                    if let Some(key) = warm.key(&name, Encoding::Brotli) {
                        warm.compressed(key).await;
                    }
                }
            });
        }
        cache
    }

    /// The files to compress at start-up: [`WARM`], then the other files
    /// in `pkg/`, the `.wasm` chunks before the rest.
    fn warm_order(&self) -> Vec<String> {
        let mut rest: Vec<String> = std::fs::read_dir(&self.pkg)
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| !WARM.contains(&name.as_str()))
            .collect();
        rest.sort_by_key(|name| (!name.ends_with(".wasm"), name.clone()));
        WARM.iter()
            .map(|name| (*name).to_owned())
            .chain(rest)
            .collect()
    }

    /// The key for `relative` (a path under `pkg/`), if it names a file.
    fn key(&self, relative: &str, encoding: Encoding) -> Option<Key> {
        if relative.is_empty()
            || relative
                .split('/')
                .any(|part| part.is_empty() || part == ".." || part == ".")
        {
            return None;
        }
        let meta = std::fs::metadata(self.pkg.join(relative)).ok()?;
        (meta.is_file() && meta.len() <= LARGEST).then(|| Key {
            relative: relative.to_owned(),
            encoding,
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }

    /// The compressed body for `key`, compressing it the first time.
    async fn compressed(&self, key: Key) -> Option<Bytes> {
        let cell = {
            let mut kept = self.kept.lock().ok()?;
            if !kept.contains_key(&key) {
                // A rebuilt file leaves its old bodies behind: drop those first.
                kept.retain(|old, _| {
                    old.relative != key.relative
                        || old.len == key.len && old.modified == key.modified
                });
                if kept.len() >= ENTRIES {
                    kept.clear();
                }
            }
            kept.entry(key.clone()).or_default().clone()
        };
        let path = self.pkg.join(&key.relative);
        cell.get_or_init(|| async move {
            tokio::task::spawn_blocking(move || {
                let plain = std::fs::read(&path).ok()?;
                // Read what the key describes, or leave it to the file server.
                if plain.len() as u64 != key.len {
                    return None;
                }
                let packed = key.encoding.compress(&plain, key.len <= BEST_UP_TO).ok()?;
                (packed.len() < plain.len()).then(|| Bytes::from(packed))
            })
            .await
            .ok()
            .flatten()
        })
        .await
        .clone()
    }
}

pub async fn keep_compressed(
    State(cache): State<AssetCache>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    // Conditional and range requests are left to the file server.
    let plain_request = request.method() != Method::GET
        || headers.contains_key(header::IF_NONE_MATCH)
        || headers.contains_key(header::IF_MODIFIED_SINCE)
        || headers.contains_key(header::RANGE);
    let key = request
        .uri()
        .path()
        .strip_prefix("/pkg/")
        .filter(|_| !plain_request)
        .zip(accepted(headers))
        .and_then(|(relative, encoding)| cache.key(relative, encoding));
    let Some(key) = key else {
        return next.run(request).await;
    };
    let encoding = key.encoding;
    let Some(body) = cache.compressed(key).await else {
        return next.run(request).await;
    };
    // The file server answers with the plain file's headers; its body is
    // replaced by the kept one.
    request.headers_mut().insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    let response = next.run(request).await;
    if response.status() != StatusCode::OK
        || response.headers().contains_key(header::CONTENT_ENCODING)
    {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let headers = &mut parts.headers;
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(encoding.token()),
    );
    let varies = headers
        .get_all(header::VARY)
        .iter()
        .any(|value| value.as_bytes().eq_ignore_ascii_case(b"accept-encoding"));
    if !varies {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    Response::from_parts(parts, Body::from(body))
}

fn accepted(headers: &HeaderMap) -> Option<Encoding> {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .and_then(Encoding::preferred)
}

#[cfg(test)]
mod tests {
    use super::{AssetCache, Encoding};

    #[test]
    fn the_first_load_warms_first_then_the_chunks_then_the_rest() {
        let site = std::env::temp_dir().join(format!("ollio-warm-{}", std::process::id()));
        let pkg = site.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        for name in [
            "terminal.js",
            "split_code_lab.wasm",
            "ollio.css",
            "chunk_3.wasm",
            "ollio.wasm",
            "editor.js",
            "ollio.js",
            "__wasm_split.js",
        ] {
            std::fs::write(pkg.join(name), name).unwrap();
        }
        // Outside a runtime: nothing starts compressing.
        let order = AssetCache::new(&site).warm_order();
        std::fs::remove_dir_all(&site).unwrap();
        assert_eq!(
            order,
            [
                "ollio.wasm",
                "ollio.js",
                "ollio.css",
                "__wasm_split.js",
                "chunk_3.wasm",
                "split_code_lab.wasm",
                "editor.js",
                "terminal.js"
            ]
        );
    }

    #[test]
    fn brotli_is_preferred_and_a_zero_weight_refuses() {
        assert_eq!(
            Encoding::preferred("gzip, deflate, br, zstd"),
            Some(Encoding::Brotli)
        );
        assert_eq!(Encoding::preferred("gzip"), Some(Encoding::Gzip));
        assert_eq!(Encoding::preferred("br;q=0, GZIP"), Some(Encoding::Gzip));
        assert_eq!(Encoding::preferred("br;q=0.5"), Some(Encoding::Brotli));
        assert_eq!(Encoding::preferred("identity"), None);
        assert_eq!(Encoding::preferred("brotli, gzipped"), None);
    }

    #[test]
    fn compressed_bodies_round_trip() {
        let plain = "a page's script, ".repeat(2000);
        for encoding in [Encoding::Brotli, Encoding::Gzip] {
            for best in [true, false] {
                let packed = encoding.compress(plain.as_bytes(), best).unwrap();
                assert!(packed.len() < plain.len() / 20, "{encoding:?} {best}");
                let mut unpacked = Vec::new();
                match encoding {
                    Encoding::Brotli => {
                        brotli::BrotliDecompress(&mut packed.as_slice(), &mut unpacked).unwrap()
                    }
                    Encoding::Gzip => std::io::Read::read_to_end(
                        &mut flate2::read::GzDecoder::new(packed.as_slice()),
                        &mut unpacked,
                    )
                    .map(drop)
                    .unwrap(),
                }
                assert_eq!(unpacked, plain.as_bytes());
            }
        }
    }
}
