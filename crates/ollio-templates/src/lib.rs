//! Ollio's app templates. Each lives in `templates/{id}/` at the top of the
//! repository and is read at build time (see `build.rs`): this crate is the
//! one source for the home page's picker, the agent's system prompt per
//! template and what sandboxd installs once and starts every sandbox from.

pub mod e2b;

/// One template, as its folder describes it.
#[derive(Debug)]
pub struct Template {
    pub id: &'static str,
    /// The picker's name for it ("React app").
    pub label: &'static str,
    pub description: &'static str,
    /// The port the app listens on inside the sandbox; the preview's port.
    pub port: u16,
    /// The path that answers once the app is up.
    pub ready_path: &'static str,
    /// The path the Preview tab opens ("/docs" for an API).
    pub preview_path: &'static str,
    /// Run once, in the template's folder, when the template is built.
    pub install: Option<&'static str>,
    /// The app's processes, each kept running by the sandbox's supervisor.
    pub start: &'static [&'static str],
    /// Package manifests: when one changes, its install runs, then the app
    /// restarts.
    pub packages: &'static [Package],
    /// The sandbox's own file server serves the project as it is.
    pub serve_static: bool,
    /// The app shows changed files by itself (Vite's HMR, Streamlit's
    /// rerun), so the preview is never reloaded for them.
    pub hot_reload: bool,
    /// The type check run after each turn (`tsc --noEmit`), in the
    /// project's folder; its errors read `file(line,col): error …`.
    pub check: Option<&'static str>,
    /// The model the project trains after each turn, if it is one.
    pub training: Option<Training>,
    /// The agent's system prompt for this template (`prompt.md`).
    pub prompt: &'static str,
    /// The starter files, lockfiles included, relative to the project root.
    pub files: &'static [File],
    /// Files the install command finds in [`SUPPORT_DIR`]; not the project's.
    pub support: &'static [File],
    /// A hash of the spec, the files and the support files: a built template
    /// is kept under it, so any change to them builds it anew.
    pub hash: &'static str,
}

#[derive(Debug)]
pub struct Package {
    /// The manifest, relative to the project root (`package.json`).
    pub file: &'static str,
    pub install: &'static str,
}

/// How a project of the template trains its model: after each turn the
/// packages are installed, `command` runs (it prints progress as JSON
/// lines), and what it saved under `artifacts` is kept with the version.
#[derive(Debug)]
pub struct Training {
    pub command: &'static str,
    /// The folder of the trained model, relative to the project root: kept
    /// in the blob store rather than in versions' files.
    pub artifacts: &'static str,
    /// A flat JSON object of numbers, inside `artifacts`.
    pub metrics: &'static str,
}

#[derive(Debug)]
pub struct File {
    pub path: &'static str,
    pub bytes: &'static [u8],
}

/// Where a template's support files are put while it is built.
pub const SUPPORT_DIR: &str = "/tmp/ollio-support";

include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// The template with this id.
pub fn find(id: &str) -> Option<&'static Template> {
    ALL.iter().find(|template| template.id == id)
}

/// The ids of every template, for messages.
pub fn ids() -> String {
    ALL.iter()
        .map(|template| format!("`{}`", template.id))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Template {
    /// Whether sandboxes start from a built image of it (starter files or
    /// packages), rather than an empty folder.
    pub fn needs_image(&self) -> bool {
        self.install.is_some() || !self.files.is_empty()
    }

    /// Its name in a sentence, the label without a trailing " app":
    /// "Preparing the React template".
    pub fn short_name(&self) -> &'static str {
        self.label.strip_suffix(" app").unwrap_or(self.label)
    }

    /// The folder name of its built copy: `{id}-{hash}`.
    pub fn build_key(&self) -> String {
        format!("{}-{}", self.id, self.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_templates_exist_with_their_labels_in_order() {
        let listed: Vec<(&str, &str)> = ALL.iter().map(|t| (t.id, t.label)).collect();
        assert_eq!(
            listed,
            [
                ("static", "Static web app"),
                ("react", "React app"),
                ("python-api", "Python API"),
                ("streamlit", "Data app (Streamlit)"),
                ("fullstack", "Full-stack app"),
                ("vue", "Vue app"),
                ("svelte", "Svelte app"),
                ("node-api", "Node API"),
                ("ml-model", "ML model"),
            ]
        );
    }

    #[test]
    fn entry_points_are_where_other_checks_look_for_them() {
        let has =
            |id: &str, path: &str| find(id).unwrap().files.iter().any(|file| file.path == path);
        assert!(has("react", "index.html") && has("react", "src/main.tsx"));
        assert!(has("python-api", "main.py"));
        assert!(has("streamlit", "app.py"));
        assert!(has("fullstack", "src/main.tsx") && has("fullstack", "api/main.py"));
        assert!(has("ml-model", "train.py") && has("ml-model", "app.py"));
        let training = find("ml-model").unwrap().training.as_ref().unwrap();
        assert!(training.command.ends_with("train.py"));
        assert_eq!(training.metrics, "artifacts/metrics.json");
        let trains: Vec<&str> = ALL
            .iter()
            .filter(|t| t.training.is_some())
            .map(|t| t.id)
            .collect();
        assert_eq!(trains, ["ml-model"]);
        let proxy = find("fullstack")
            .unwrap()
            .files
            .iter()
            .find(|file| file.path == "vite.config.ts")
            .unwrap();
        assert!(
            String::from_utf8_lossy(proxy.bytes).contains("\"/api\": \"http://127.0.0.1:8000\"")
        );
    }

    /// Both FastAPI templates carry the same offline-docs hook (a copy each,
    /// so that each folder is a whole build context for E2B's CLI).
    #[test]
    fn the_fastapi_templates_share_one_docs_hook() {
        let support = |id: &str| {
            find(id)
                .unwrap()
                .support
                .iter()
                .map(|file| (file.path, file.bytes))
                .collect::<Vec<_>>()
        };
        assert!(!support("python-api").is_empty());
        assert_eq!(support("ml-model"), support("python-api"));
    }

    #[test]
    fn dependencies_are_pinned_by_lockfiles() {
        for template in ALL {
            for package in template.packages {
                let lock = match package.file {
                    "package.json" => "package-lock.json",
                    "requirements.txt" => "requirements.txt",
                    other => panic!("{}: no lockfile rule for {other}", template.id),
                };
                let file = template
                    .files
                    .iter()
                    .find(|file| file.path == lock)
                    .unwrap_or_else(|| panic!("{} has no {lock}", template.id));
                if lock == "requirements.txt" {
                    for line in String::from_utf8_lossy(file.bytes).lines() {
                        assert!(
                            line.contains("=="),
                            "{}: requirements.txt pins {line:?} exactly",
                            template.id
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn static_keeps_its_prompt_and_serves_its_files() {
        let template = find("static").unwrap();
        assert!(template.serve_static && template.start.is_empty() && !template.needs_image());
        assert!(template.prompt.starts_with(
            "You are Ollio, an expert web developer building a static web app: HTML, CSS"
        ));
        assert!(template
            .prompt
            .ends_with("with a considered layout and colours."));
    }

    #[test]
    fn hashes_tell_templates_apart() {
        let mut hashes: Vec<&str> = ALL.iter().map(|t| t.hash).collect();
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), ALL.len());
        assert!(ALL.iter().all(|t| t.hash.len() == 16));
    }
}
