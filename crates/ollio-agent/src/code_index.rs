//! "Ask where…" in the Code tab: a question in plain words ("where is the
//! login handled?") ranked against a version's passages (windows of lines
//! of its text files). By meaning when an embeddings model is configured
//! (`embeddings`), else by words with BM25 (the `bm25` crate, with a
//! tokenizer for code: `handleLogin` is `handle` and `login`).
//!
//! A version is indexed once (kept in memory for the next question). Its
//! passages' vectors are kept in the store by the owner and the SHA-256 of
//! their text, so the next version (mostly its parent's files) embeds only
//! the passages that changed, and a restart or another server process
//! embeds nothing again.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use bm25::{Embedder as WordEmbedder, EmbedderBuilder, Scorer, Tokenizer};
use ollio_domain::UserId;
use ollio_store::Store;
use sha2::{Digest, Sha256};

use super::embeddings::{cosine, Embedder};

/// Lines in one passage, and how far the next one starts.
const WINDOW: usize = 40;
const STEP: usize = 30;
/// Hits answered.
pub const SHOWN: usize = 10;
/// Words a question is made of that say nothing about code.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "how", "i", "in",
    "is", "it", "my", "of", "on", "or", "the", "this", "to", "what", "when", "where", "which",
    "who", "why", "with",
];

/// A window of a file's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    pub path: String,
    /// The first and last line, from 1.
    pub start: u32,
    pub end: u32,
    pub text: String,
}

impl Passage {
    /// What the index reads: the path's words too (`auth/login.js`).
    fn indexed(&self) -> String {
        format!("{}\n{}", self.path, self.text)
    }

    /// What its vector is kept by: the SHA-256 of what was embedded, in hex.
    fn hash(&self) -> String {
        Sha256::digest(self.indexed().as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

/// The passages of the file `path`.
pub fn passages(path: &str, content: &str) -> Vec<Passage> {
    let lines: Vec<&str> = content.lines().collect();
    let mut passages = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        let end = (start + WINDOW).min(lines.len());
        passages.push(Passage {
            path: path.to_owned(),
            start: start as u32 + 1,
            end: end as u32,
            text: lines[start..end].join("\n"),
        });
        if end == lines.len() {
            break;
        }
        start += STEP;
    }
    passages
}

/// Words of code and of questions alike: split at anything not a letter
/// or digit and at camelCase humps, lower case, common endings taken off
/// (`handled`, `handles`, `handle` are one word), stop words dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct CodeTokenizer;

impl Tokenizer for CodeTokenizer {
    fn tokenize(&self, text: &str) -> Vec<String> {
        let mut words = Vec::new();
        for part in text.split(|c: char| !c.is_alphanumeric()) {
            let mut word = String::new();
            let mut previous_lower = false;
            for c in part.chars() {
                if c.is_uppercase() && previous_lower && !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                previous_lower = c.is_lowercase() || c.is_ascii_digit();
                word.extend(c.to_lowercase());
            }
            if !word.is_empty() {
                words.push(word);
            }
        }
        words
            .into_iter()
            .filter(|word| word.chars().count() > 1 && !STOP_WORDS.contains(&word.as_str()))
            .map(|word| stem(&word))
            .collect()
    }
}

fn stem(word: &str) -> String {
    for ending in ["ing", "ed", "es", "s", "e"] {
        if let Some(stem) = word.strip_suffix(ending) {
            if stem.chars().count() >= 3 {
                return stem.to_owned();
            }
        }
    }
    word.to_owned()
}

/// A version's passages, indexed for words, and by meaning when vectors
/// were made for them.
pub struct VersionIndex {
    pub passages: Vec<Passage>,
    words: Words,
    vectors: Option<Vec<Vec<f32>>>,
    /// Passages embedded to build this index (the others were known).
    pub embedded: usize,
}

/// The passages' BM25 index, built with the version's index.
struct Words {
    embedder: WordEmbedder<u32, CodeTokenizer>,
    scorer: Scorer<usize>,
}

impl Words {
    fn new(passages: &[Passage]) -> Self {
        let corpus: Vec<String> = passages.iter().map(Passage::indexed).collect();
        let texts: Vec<&str> = corpus.iter().map(String::as_str).collect();
        let embedder = EmbedderBuilder::<u32, CodeTokenizer>::with_tokenizer_and_fit_to_corpus(
            CodeTokenizer,
            &texts,
        )
        .build();
        let mut scorer = Scorer::<usize>::new();
        for (at, text) in texts.iter().enumerate() {
            scorer.upsert(&at, embedder.embed(text));
        }
        Self { embedder, scorer }
    }
}

/// How the hits were ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankedBy {
    Meaning,
    Words,
}

impl VersionIndex {
    /// The passages best answering `question`, best first, with scores.
    pub fn lexical(&self, question: &str) -> Vec<(usize, f32)> {
        self.words
            .scorer
            .matches(&self.words.embedder.embed(question))
            .into_iter()
            .take(SHOWN)
            .map(|hit| (hit.id, hit.score))
            .collect()
    }

    /// By meaning, against `query` (the question's vector).
    fn semantic(&self, query: &[f32]) -> Option<Vec<(usize, f32)>> {
        let vectors = self.vectors.as_ref()?;
        let mut scored: Vec<(usize, f32)> = vectors
            .iter()
            .enumerate()
            .map(|(at, vector)| (at, cosine(vector, query)))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(SHOWN);
        Some(scored)
    }
}

/// Versions' indexes in this process; their passages' vectors in the store.
#[derive(Clone)]
pub struct CodeIndexes {
    store: Store,
    versions: Arc<Mutex<HashMap<String, Arc<VersionIndex>>>>,
}

/// Versions kept indexed at once (past it, they are all let go).
const KEPT_VERSIONS: usize = 64;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl CodeIndexes {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            versions: Arc::default(),
        }
    }

    /// `version`'s index, if it was made.
    pub fn cached(&self, version: &str) -> Option<Arc<VersionIndex>> {
        lock(&self.versions).get(version).cloned()
    }

    /// Indexes `owner`'s `version` (an id) holding the text `files` (path,
    /// text): only passages none of the owner's versions had are embedded.
    pub async fn index(
        &self,
        owner: &UserId,
        version: &str,
        files: Vec<(String, String)>,
        embedder: Option<&Embedder>,
    ) -> Result<Arc<VersionIndex>, String> {
        let passages: Vec<Passage> = files
            .into_iter()
            .flat_map(|(path, text)| passages(&path, &text))
            .collect();
        let (vectors, embedded) = match embedder {
            None => (None, 0),
            Some(embedder) => {
                let (vectors, embedded) = self.vectors(owner, &passages, embedder).await?;
                (Some(vectors), embedded)
            }
        };
        let index = Arc::new(VersionIndex {
            words: Words::new(&passages),
            passages,
            vectors,
            embedded,
        });
        let mut versions = lock(&self.versions);
        if versions.len() >= KEPT_VERSIONS {
            versions.clear();
        }
        versions.insert(version.to_owned(), index.clone());
        Ok(index)
    }

    /// A vector for each of `passages`, in order, and how many of them had
    /// to be embedded (the rest were kept).
    async fn vectors(
        &self,
        owner: &UserId,
        passages: &[Passage],
        embedder: &Embedder,
    ) -> Result<(Vec<Vec<f32>>, usize), String> {
        let model = embedder.name();
        let unkept = |error| format!("The passages' vectors could not be read or kept: {error}");
        let hashes: Vec<String> = passages.iter().map(Passage::hash).collect();
        let mut known = self
            .store
            .passage_vectors(owner, &model, &hashes)
            .await
            .map_err(unkept)?;
        // A passage found twice in one version is embedded once.
        let mut seen = std::collections::HashSet::new();
        let missing: Vec<usize> = (0..passages.len())
            .filter(|at| !known.contains_key(&hashes[*at]) && seen.insert(&hashes[*at]))
            .collect();
        let inputs: Vec<String> = missing.iter().map(|at| passages[*at].indexed()).collect();
        let made = embedder
            .embed(&inputs)
            .await
            .map_err(|error| format!("The embeddings model could not be asked: {error}"))?;
        let made: Vec<(String, Vec<f32>)> = missing
            .iter()
            .map(|at| hashes[*at].clone())
            .zip(made)
            .collect();
        if !made.is_empty() {
            self.store
                .keep_passage_vectors(owner, &model, &made)
                .await
                .map_err(unkept)?;
        }
        let embedded = made.len();
        known.extend(made);
        let vectors = hashes
            .iter()
            .map(|hash| known.get(hash).cloned().unwrap_or_default())
            .collect();
        Ok((vectors, embedded))
    }
}

/// `question` asked of `index`: the best passages, best first, and how
/// they were ranked.
pub async fn ask(
    index: &VersionIndex,
    question: &str,
    embedder: Option<&Embedder>,
) -> Result<(RankedBy, Vec<(usize, f32)>), String> {
    if let Some(embedder) = embedder {
        let query = embedder
            .embed(&[question.to_owned()])
            .await
            .map_err(|error| format!("The embeddings model could not be asked: {error}"))?;
        if let Some(hits) = query.first().and_then(|query| index.semantic(query)) {
            return Ok((RankedBy::Meaning, hits));
        }
    }
    Ok((RankedBy::Words, index.lexical(question)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(files: &[(&str, &str)]) -> VersionIndex {
        let passages: Vec<Passage> = files
            .iter()
            .flat_map(|(path, text)| passages(path, text))
            .collect();
        VersionIndex {
            words: Words::new(&passages),
            passages,
            vectors: None,
            embedded: 0,
        }
    }

    #[test]
    fn code_words_are_split_and_stemmed_like_questions() {
        let words = CodeTokenizer.tokenize("function handleLogin(userName) { parseHTTPResponse }");
        assert_eq!(
            words,
            [
                "function",
                "handl",
                "login",
                "user",
                "nam",
                "pars",
                "httprespons"
            ]
        );
        assert_eq!(
            CodeTokenizer.tokenize("Where is the login handled?"),
            ["login", "handl"]
        );
    }

    #[test]
    fn passages_are_windows_of_lines() {
        let text: String = (1..=100).map(|n| format!("line {n}\n")).collect();
        let windows = passages("a.txt", &text);
        let spans: Vec<(u32, u32)> = windows.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(spans, [(1, 40), (31, 70), (61, 100)]);
        assert!(passages("empty.txt", "").is_empty());
    }

    #[test]
    fn the_file_that_handles_the_login_ranks_first_by_words() {
        let index = index(&[
            ("style.css", "body { margin: 0 }\n.login-box { padding: 1rem }\n"),
            ("src/auth.js", "export async function handleLogin(form) {\n  const user = await check(form.email, form.password);\n  return user;\n}\n"),
            ("README.md", "A bakery site. Run it with npm start.\n"),
            ("src/cart.js", "export function addToCart(item) { items.push(item) }\n"),
        ]);
        let hits = index.lexical("where is the login handled?");
        assert_eq!(index.passages[hits[0].0].path, "src/auth.js");
        assert_eq!(
            index.passages[hits[1].0].path, "style.css",
            "a mention of login, not its handling"
        );
        assert!(hits
            .iter()
            .all(|hit| index.passages[hit.0].path != "README.md"));
        assert!(index.lexical("nothing matches zebra").is_empty());
    }
}
