//! Which template an imported project is, from its files: a Vite app is
//! `react` (or `vue`, `svelte`, or with a FastAPI backend `fullstack`), a
//! FastAPI app `python-api`, a Streamlit app `streamlit`, an Express server
//! `node-api`, a page `static`. Anything else the user picks.

use ollio_store::NewFile;

/// The template id `files` look like, if any.
pub fn template_of(files: &[NewFile]) -> Option<&'static str> {
    let text = |path: &str| {
        files
            .iter()
            .find(|file| file.path == path && !file.binary)
            .map(|file| file.content.as_str())
    };
    let packages = text("package.json").map(npm_packages).unwrap_or_default();
    let has_package = |name: &str| packages.iter().any(|package| package == name);
    let requirements = text("requirements.txt")
        .map(pip_packages)
        .unwrap_or_default();
    let requires = |name: &str| requirements.iter().any(|package| package == name);
    if has_package("vite") {
        return Some(if requires("fastapi") {
            "fullstack"
        } else if has_package("vue") {
            "vue"
        } else if has_package("svelte") {
            "svelte"
        } else {
            "react"
        });
    }
    if requires("fastapi") {
        return Some("python-api");
    }
    if requires("streamlit") {
        return Some("streamlit");
    }
    if has_package("express") {
        return Some("node-api");
    }
    text("index.html").map(|_| "static")
}

/// The names in a `package.json`'s dependencies and devDependencies.
fn npm_packages(manifest: &str) -> Vec<String> {
    let Ok(manifest) = serde_json::from_str::<serde_json::Value>(manifest) else {
        return Vec::new();
    };
    ["dependencies", "devDependencies"]
        .iter()
        .filter_map(|key| manifest.get(key)?.as_object())
        .flat_map(|packages| packages.keys().cloned())
        .collect()
}

/// The package names a `requirements.txt` asks for (`fastapi[all]>=0.1`
/// is `fastapi`), lower case.
fn pip_packages(requirements: &str) -> Vec<String> {
    requirements
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty() && !line.starts_with('-'))
        .map(|line| {
            line.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::template_of;
    use ollio_store::NewFile;

    fn files(list: &[(&str, &str)]) -> Vec<NewFile> {
        list.iter()
            .map(|(path, text)| {
                NewFile::from_bytes((*path).into(), String::new(), text.as_bytes().to_vec())
            })
            .collect()
    }

    #[test]
    fn each_kind_of_project_is_told_by_its_manifests() {
        let vite = r#"{"dependencies":{"react":"19"},"devDependencies":{"vite":"8"}}"#;
        let vue = r#"{"dependencies":{"vue":"3"},"devDependencies":{"vite":"8"}}"#;
        let svelte = r#"{"devDependencies":{"vite":"8","svelte":"5"}}"#;
        let express = r#"{"dependencies":{"express":"5"}}"#;
        for (list, expected) in [
            (
                vec![("package.json", vite), ("index.html", "<div id=root>")],
                Some("react"),
            ),
            (vec![("package.json", vue)], Some("vue")),
            (vec![("package.json", svelte)], Some("svelte")),
            (
                vec![
                    ("package.json", vite),
                    ("requirements.txt", "fastapi==0.1\n"),
                ],
                Some("fullstack"),
            ),
            (
                vec![(
                    "requirements.txt",
                    "# api\nFastAPI[standard]>=0.110\nuvicorn\n",
                )],
                Some("python-api"),
            ),
            (
                vec![("requirements.txt", "streamlit==1.40\npandas")],
                Some("streamlit"),
            ),
            (
                vec![("package.json", express), ("server.js", "")],
                Some("node-api"),
            ),
            (
                vec![("index.html", "<h1>Hi</h1>"), ("style.css", "")],
                Some("static"),
            ),
            (vec![("main.go", "package main")], None),
            (vec![("package.json", "not json"), ("README.md", "")], None),
        ] {
            assert_eq!(template_of(&files(&list)), expected, "{list:?}");
        }
    }
}
