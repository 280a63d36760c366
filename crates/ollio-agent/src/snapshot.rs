//! A project's files as a version keeps them: read back from the sandbox
//! after a turn, written into a new sandbox when the old one expired.

use super::{
    listing::{self, Kind},
    tools::PROJECT_ROOT,
};
use ollio_sandbox::{Envd, SandboxError};
use ollio_store::{NewFile, VersionFile};

/// Larger files (built bundles, images) are not kept in versions.
pub const MAX_FILE: u64 = 512 * 1024;
/// At most this many files are kept in one version.
pub const MAX_FILES: usize = 1000;

/// The project's text files under the root, sorted by path; dependency,
/// build and cache folders (pruned in the sandbox, see `listing`), hidden
/// folders, large and binary files are left out.
pub async fn read_project(envd: &Envd) -> Result<Vec<NewFile>, SandboxError> {
    let entries = listing::list(envd, "", 12).await?;
    let mut files = Vec::new();
    for entry in entries {
        if entry.kind != Kind::File || entry.size > MAX_FILE || files.len() >= MAX_FILES {
            continue;
        }
        let relative = entry.path.as_str();
        let hidden = relative
            .split('/')
            .rev()
            .skip(1)
            .any(|folder| folder.starts_with('.'));
        if hidden {
            continue;
        }
        let bytes = match envd.read_file(&format!("{PROJECT_ROOT}/{relative}")).await {
            Ok(bytes) => bytes,
            // Removed since the listing: not part of the version.
            Err(SandboxError::Missing(_)) => continue,
            Err(error) => return Err(error),
        };
        let Ok(content) = String::from_utf8(bytes) else {
            continue;
        };
        files.push(NewFile {
            path: relative.to_owned(),
            language: language_of(relative).to_owned(),
            content,
        });
    }
    Ok(files)
}

/// Writes a version's files into a sandbox; returns how many.
pub async fn write_project(envd: &Envd, files: &[VersionFile]) -> Result<usize, SandboxError> {
    if files.is_empty() {
        return Ok(0);
    }
    let upload: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|file| {
            (
                format!("{PROJECT_ROOT}/{}", file.path),
                file.content.clone().into_bytes(),
            )
        })
        .collect();
    envd.write_files(&upload).await?;
    Ok(files.len())
}

/// The language a file is highlighted as, from its name.
pub fn language_of(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if name == "dockerfile" {
        return "dockerfile";
    }
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html" | "htm") => "html",
        Some("css") => "css",
        Some("js" | "mjs" | "cjs") => "javascript",
        Some("jsx") => "jsx",
        Some("ts" | "mts" | "cts") => "typescript",
        Some("tsx") => "tsx",
        Some("json") => "json",
        Some("py") => "python",
        Some("rs") => "rust",
        Some("md" | "markdown") => "markdown",
        Some("toml") => "toml",
        Some("yaml" | "yml") => "yaml",
        Some("sh" | "bash") => "shell",
        Some("svg" | "xml") => "xml",
        _ => "text",
    }
}

#[cfg(test)]
mod tests {
    use super::language_of;

    #[test]
    fn languages_come_from_the_extension() {
        assert_eq!(language_of("index.html"), "html");
        assert_eq!(language_of("src/App.TSX"), "tsx");
        assert_eq!(language_of("scripts/run.sh"), "shell");
        assert_eq!(language_of("README"), "text");
        assert_eq!(language_of("a.yml"), "yaml");
    }
}
