//! "Ask where…" against the scripted embeddings model: by meaning, a
//! question with no word in common with the code finds it ("sign in" is
//! the login code), where ranking by words finds nothing; each passage is
//! embedded once, so the next version embeds only what changed, and a
//! restarted server (the vectors are in the store) embeds nothing again.
//! Vectors are the owner's: another user's same files are embedded anew.

use std::sync::Arc;

use ollio_agent::{
    code_index::{ask, CodeIndexes, RankedBy, VersionIndex},
    config,
    embeddings::Embedder,
    model::ModelRef,
};
use ollio_domain::UserId;
use ollio_testkit::{fixtures::user, on_both_databases, ScriptedServer, TestDb};

on_both_databases!(passages_rank_by_meaning_and_each_is_embedded_once);

fn files(cart: &str) -> Vec<(String, String)> {
    [
        ("src/session.js", "export async function handleLogin(form) {\n  const account = await check(form.email, form.password);\n  return account;\n}\n"),
        ("src/cart.js", cart),
        ("style.css", "body { margin: 0; font-family: serif }\n"),
        ("README.md", "A bakery site. Run it with npm start.\n"),
    ]
    .into_iter()
    .map(|(path, text)| (path.to_owned(), text.to_owned()))
    .collect()
}

/// The cart of version 1, and version 2's, which changes only it.
const CART: &str = "export function addToCart(item) { items.push(item) }\n";
const PRICED_CART: &str = "export function addToCart(item, price) { total += price }\n";

/// `owner`'s version `id` of the files with `cart`, indexed.
async fn index(
    indexes: &CodeIndexes,
    owner: &UserId,
    id: &str,
    cart: &str,
    embedder: &Embedder,
) -> Arc<VersionIndex> {
    indexes
        .index(owner, id, files(cart), Some(embedder))
        .await
        .unwrap()
}

/// The path of the passage that answers `question` best, and how.
async fn best(index: &VersionIndex, question: &str, embedder: &Embedder) -> (RankedBy, String) {
    let (by, hits) = ask(index, question, Some(embedder)).await.unwrap();
    (by, index.passages[hits[0].0].path.clone())
}

fn embedding_inputs(models: &ScriptedServer) -> usize {
    models
        .requests()
        .iter()
        .filter_map(|request| request["input"].as_array().map(Vec::len))
        .sum()
}

async fn passages_rank_by_meaning_and_each_is_embedded_once(db: TestDb) {
    let ada = user(&db.store, "ada@example.com").await;
    let bob = user(&db.store, "bob@example.com").await;
    let models = ScriptedServer::for_tests().await;
    let base = models.openai_base_url();
    for (provider, vars) in [
        (
            "openai:scripted-embed",
            vec![
                ("OPENAI_BASE_URL", base.clone()),
                ("OPENAI_API_KEY", "sk-test".to_owned()),
            ],
        ),
        (
            "ollama:scripted-embed",
            vec![("OLLAMA_HOST", models.ollama_host())],
        ),
    ] {
        let config = config::from_lookup(&|name: &str| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| value.clone())
        })
        .unwrap();
        let model: ModelRef = provider.parse().unwrap();
        let embedder = Embedder::new(&config, &model).unwrap();
        let indexes = CodeIndexes::new(db.store.clone());
        let before = embedding_inputs(&models);

        let first = index(&indexes, &ada, "v1", CART, &embedder).await;
        assert_eq!(first.embedded, 4, "{provider}: one passage per file");
        assert_eq!(
            best(&first, "where do people sign in?", &embedder).await,
            (RankedBy::Meaning, "src/session.js".to_owned()),
            "{provider}"
        );
        // By words, nothing in the code says "sign in".
        assert!(first.lexical("where do people sign in?").is_empty());
        let (_, path) = best(&first, "how is the price totalled at checkout", &embedder).await;
        assert_eq!(path, "src/cart.js", "{provider}");

        // The next version changes one file: only its passage is embedded.
        let second = index(&indexes, &ada, "v2", PRICED_CART, &embedder).await;
        assert_eq!(second.embedded, 1, "{provider}");
        assert_eq!(
            indexes.cached("v1").map(|index| index.passages.len()),
            Some(4)
        );
        // Four for version 1, its two questions, one for version 2.
        assert_eq!(embedding_inputs(&models) - before, 4 + 2 + 1, "{provider}");

        // After a restart, version 2 is indexed again from the kept vectors
        // and ranks as before.
        let restarted = CodeIndexes::new(db.store.clone());
        assert!(restarted.cached("v2").is_none());
        let again = index(&restarted, &ada, "v2", PRICED_CART, &embedder).await;
        assert_eq!(again.embedded, 0, "{provider}");
        let (_, path) = best(&again, "where do people sign in?", &embedder).await;
        assert_eq!(path, "src/session.js", "{provider}");
        // Another user's same files are theirs to embed.
        let bobs = index(&restarted, &bob, "v9", CART, &embedder).await;
        assert_eq!(bobs.embedded, 4, "{provider}");
        assert_eq!(
            embedding_inputs(&models) - before,
            4 + 2 + 1 + 1 + 4,
            "{provider}"
        );
    }
}
