//! Paths of a project's files as a user may give them (the explorer, an
//! imported zip): relative, normalised, inside the project, and portable —
//! no name that Windows or a zip tool would turn into something else — and
//! the language a file is, from its name.

/// Names Windows keeps for devices, with or without an extension.
const RESERVED: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// Folders named but never descended into: dependencies, build output and
/// caches, which the template (or an install) makes again. A sandbox's
/// listing names them without going in; an import skips them.
pub const PRUNED: &[&str] = &[
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".cache",
    ".npm",
    ".git",
    "dist",
    "build",
    ".next",
    ".nuxt",
    ".svelte-kit",
    ".vite",
    ".turbo",
    "target",
];

/// The longest path accepted, in bytes.
pub const MAX_PATH: usize = 400;

/// `raw` as a project path (`a/b.txt`), or why it cannot be one: no
/// leading `/`, `~` or drive, no `\`, no `..` or `.` parts, no empty
/// parts, no characters Windows refuses (`<>:"|?*`, control characters),
/// no part ending in a dot or a space, no device names (`CON`, `nul.txt`).
pub fn portable_path(raw: &str) -> Result<String, String> {
    let path = raw.trim();
    if path.is_empty() {
        return Err("Give the file a name.".into());
    }
    if path.len() > MAX_PATH {
        return Err(format!("A path has at most {MAX_PATH} characters."));
    }
    if path.starts_with('/') || path.starts_with('~') || path.contains('\\') {
        return Err(format!(
            "{path:?} must be relative to the project, with / between folders."
        ));
    }
    let path = path.trim_end_matches('/');
    for part in path.split('/') {
        match part {
            "" => return Err(format!("{path:?} has an empty folder name.")),
            "." | ".." => {
                return Err(format!(
                    "{path:?} must stay inside the project (no . or ..)."
                ))
            }
            _ => {}
        }
        if let Some(bad) = part
            .chars()
            .find(|c| c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        {
            return Err(format!(
                "{part:?} holds {bad:?}, which Windows does not allow in a name."
            ));
        }
        if part.ends_with('.') || part.ends_with(' ') {
            return Err(format!(
                "{part:?} ends in a dot or a space, which Windows drops."
            ));
        }
        let stem = part.split('.').next().unwrap_or(part).to_ascii_lowercase();
        if RESERVED.contains(&stem.trim_end()) {
            return Err(format!("{part:?} is a name Windows keeps for a device."));
        }
    }
    Ok(path.to_owned())
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
    use super::*;

    #[test]
    fn paths_are_relative_inside_and_portable() {
        assert_eq!(portable_path(" src/app.js ").unwrap(), "src/app.js");
        assert_eq!(portable_path("assets/").unwrap(), "assets");
        for (bad, why) in [
            ("", "name"),
            ("/etc/passwd", "relative"),
            ("C:\\x", "relative"),
            ("~/x", "relative"),
            ("../evil", "inside"),
            ("a/./b", "inside"),
            ("a//b", "empty"),
            ("what?.txt", "Windows"),
            ("a:b", "Windows"),
            ("notes.", "dot"),
            ("CON", "device"),
            ("src/nul.txt", "device"),
            ("x\u{7}y", "Windows"),
        ] {
            let refusal = portable_path(bad).unwrap_err();
            assert!(refusal.contains(why), "{bad:?}: {refusal}");
        }
        assert!(portable_path(&"a".repeat(500)).is_err());
        assert!(portable_path("console.log").is_ok());
    }

    #[test]
    fn languages_come_from_the_extension() {
        assert_eq!(language_of("index.html"), "html");
        assert_eq!(language_of("src/App.TSX"), "tsx");
        assert_eq!(language_of("scripts/run.sh"), "shell");
        assert_eq!(language_of("README"), "text");
        assert_eq!(language_of("a.yml"), "yaml");
    }
}
