//! Reads every `templates/{id}/` folder and writes `catalog.rs`: one
//! `Template` literal per folder with its starter files embedded, so a bad
//! `template.toml` fails the build, not a user's sandbox, and the binary
//! carries its templates wherever it runs.
//!
//! A folder holds `template.toml`, `prompt.md` (the agent's system prompt),
//! `files/` (the starter files, lockfiles included), optionally `support/`
//! (files the install command finds in `/tmp/ollio-support`, not part of the
//! project) and the E2B definition (`e2b.Dockerfile`, `e2b.toml`), which
//! only E2B's CLI reads.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    id: String,
    label: String,
    description: String,
    /// Where the template sits in the picker.
    order: u32,
    port: u16,
    ready_path: String,
    preview_path: Option<String>,
    install: Option<String>,
    #[serde(default)]
    start: Start,
    #[serde(default)]
    packages: Vec<Package>,
    #[serde(default)]
    serve_static: bool,
    /// The app shows changed files without a page reload (HMR).
    #[serde(default)]
    hot_reload: bool,
    training: Option<Training>,
    /// The type check run after each turn (`tsc --noEmit`), in the
    /// project's folder; its output lists errors as `file(line,col): …`.
    check: Option<String>,
}

/// A model the project trains after each turn (`[training]`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Training {
    command: String,
    artifacts: String,
    metrics: String,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Start {
    #[default]
    Nothing,
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Package {
    file: String,
    install: String,
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .join("../../templates");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|error| panic!("reading {}: {error}", root.display()))
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    let mut templates: Vec<(u32, String)> = folders.iter().map(|dir| template(dir)).collect();
    templates.sort_by_key(|(order, _)| *order);
    let mut out = String::from("pub static ALL: &[Template] = &[\n");
    for (_, literal) in templates {
        out.push_str(&literal);
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("catalog.rs");
    std::fs::write(dest, out).expect("writing catalog.rs");
}

fn template(dir: &Path) -> (u32, String) {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let toml_path = dir.join("template.toml");
    let text = std::fs::read_to_string(&toml_path)
        .unwrap_or_else(|error| panic!("templates/{name}: reading template.toml: {error}"));
    let spec: Spec = toml::from_str(&text)
        .unwrap_or_else(|error| panic!("templates/{name}/template.toml: {error}"));
    assert_eq!(
        spec.id, name,
        "templates/{name}: the id must be the folder's name"
    );
    assert!(
        spec.id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "templates/{name}: ids are lowercase letters, digits and dashes"
    );
    assert!(
        spec.ready_path.starts_with('/'),
        "templates/{name}: ready_path starts with /"
    );
    let start = match spec.start {
        Start::Nothing => Vec::new(),
        Start::One(command) => vec![command],
        Start::Many(commands) => commands,
    };
    assert!(
        spec.serve_static == start.is_empty(),
        "templates/{name}: a template either serves its files (serve_static) or has a start command"
    );
    let prompt = std::fs::read_to_string(dir.join("prompt.md"))
        .unwrap_or_else(|error| panic!("templates/{name}: reading prompt.md: {error}"));
    let files = tree(&dir.join("files"));
    let support = tree(&dir.join("support"));
    for package in &spec.packages {
        assert!(
            files.iter().any(|(path, _)| *path == package.file),
            "templates/{name}: packages names {}, which is not among its files",
            package.file
        );
    }

    // The hash covers what the built image is made of: the spec (its
    // install command), the starter files and the support files, not the
    // prompt or the E2B definition.
    // The type check runs in the project, not while the image is built:
    // its line is left out, so changing it builds nothing again.
    let image_spec: String = text
        .lines()
        .filter(|line| !line.starts_with("check ="))
        .map(|line| format!("{line}\n"))
        .collect();
    let mut hash = Sha256::new();
    hash.update(image_spec.as_bytes());
    for (tag, set) in [("files", &files), ("support", &support)] {
        for (path, full) in set.iter() {
            let bytes = std::fs::read(full).expect("a readable template file");
            hash.update(format!("{tag}/{path}\0{}\0", bytes.len()).as_bytes());
            hash.update(&bytes);
        }
    }
    let digest: String = hash
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();

    let mut out = String::new();
    let opt = |value: &Option<String>| match value {
        Some(text) => format!("Some({text:?})"),
        None => "None".to_owned(),
    };
    writeln!(out, "    Template {{").unwrap();
    writeln!(out, "        id: {:?},", spec.id).unwrap();
    writeln!(out, "        label: {:?},", spec.label).unwrap();
    writeln!(out, "        description: {:?},", spec.description).unwrap();
    writeln!(out, "        port: {},", spec.port).unwrap();
    writeln!(out, "        ready_path: {:?},", spec.ready_path).unwrap();
    writeln!(
        out,
        "        preview_path: {:?},",
        spec.preview_path.as_deref().unwrap_or("/")
    )
    .unwrap();
    writeln!(out, "        install: {},", opt(&spec.install)).unwrap();
    writeln!(out, "        start: &{start:?},").unwrap();
    writeln!(out, "        packages: &[").unwrap();
    for package in &spec.packages {
        writeln!(
            out,
            "            Package {{ file: {:?}, install: {:?} }},",
            package.file, package.install
        )
        .unwrap();
    }
    writeln!(out, "        ],").unwrap();
    writeln!(out, "        serve_static: {},", spec.serve_static).unwrap();
    writeln!(out, "        hot_reload: {},", spec.hot_reload).unwrap();
    writeln!(out, "        check: {},", opt(&spec.check)).unwrap();
    match &spec.training {
        Some(training) => {
            assert!(
                training
                    .metrics
                    .starts_with(&format!("{}/", training.artifacts)),
                "templates/{name}: the metrics file is one of the artifacts"
            );
            writeln!(
                out,
                "        training: Some(Training {{ command: {:?}, artifacts: {:?}, metrics: {:?} }}),",
                training.command, training.artifacts, training.metrics
            )
            .unwrap();
        }
        None => writeln!(out, "        training: None,").unwrap(),
    }
    writeln!(out, "        prompt: {:?},", prompt.trim()).unwrap();
    for (field, set) in [("files", &files), ("support", &support)] {
        writeln!(out, "        {field}: &[").unwrap();
        for (path, full) in set.iter() {
            writeln!(
                out,
                "            File {{ path: {path:?}, bytes: include_bytes!({:?}) }},",
                full.display().to_string()
            )
            .unwrap();
        }
        writeln!(out, "        ],").unwrap();
    }
    writeln!(out, "        hash: {digest:?},").unwrap();
    writeln!(out, "    }},").unwrap();
    (spec.order, out)
}

/// Every file under `dir` (none if it does not exist), as (path relative to
/// `dir` with `/`, full path), sorted.
fn tree(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a readable folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("under dir");
                let relative: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                found.push((relative.join("/"), path));
            }
        }
    }
    found.sort();
    found
}
