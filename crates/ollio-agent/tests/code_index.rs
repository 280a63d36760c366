//! "Ask where…" against the scripted embeddings model: by meaning, a
//! question with no word in common with the code finds it ("sign in" is
//! the login code), where ranking by words finds nothing; each passage is
//! embedded once, so the next version embeds only what changed, and a
//! restarted server (the vectors are in the store) embeds nothing again.
//! Vectors are the owner's: another user's same files are embedded anew.

use ollio_agent::{
    code_index::{ask, CodeIndexes, RankedBy},
    config,
    embeddings::Embedder,
    model::ModelRef,
};
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

        let first = indexes
            .index(
                &ada,
                "v1",
                files("export function addToCart(item) { items.push(item) }\n"),
                Some(&embedder),
            )
            .await
            .unwrap();
        assert_eq!(first.embedded, 4, "{provider}: one passage per file");
        let (by, hits) = ask(&first, "where do people sign in?", Some(&embedder))
            .await
            .unwrap();
        assert_eq!(by, RankedBy::Meaning);
        assert_eq!(
            first.passages[hits[0].0].path, "src/session.js",
            "{provider}"
        );
        // By words, nothing in the code says "sign in".
        assert!(first.lexical("where do people sign in?").is_empty());
        let (_, hits) = ask(
            &first,
            "how is the price totalled at checkout",
            Some(&embedder),
        )
        .await
        .unwrap();
        assert_eq!(first.passages[hits[0].0].path, "src/cart.js", "{provider}");

        // The next version changes one file: only its passage is embedded.
        let second = indexes
            .index(
                &ada,
                "v2",
                files("export function addToCart(item, price) { total += price }\n"),
                Some(&embedder),
            )
            .await
            .unwrap();
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
        let again = restarted
            .index(
                &ada,
                "v2",
                files("export function addToCart(item, price) { total += price }\n"),
                Some(&embedder),
            )
            .await
            .unwrap();
        assert_eq!(again.embedded, 0, "{provider}");
        let (_, hits) = ask(&again, "where do people sign in?", Some(&embedder))
            .await
            .unwrap();
        assert_eq!(
            again.passages[hits[0].0].path, "src/session.js",
            "{provider}"
        );
        // Another user's same files are theirs to embed.
        let bobs = restarted
            .index(
                &bob,
                "v9",
                files("export function addToCart(item) { items.push(item) }\n"),
                Some(&embedder),
            )
            .await
            .unwrap();
        assert_eq!(bobs.embedded, 4, "{provider}");
        assert_eq!(
            embedding_inputs(&models) - before,
            4 + 2 + 1 + 1 + 4,
            "{provider}"
        );
    }
}
