//! The E2B template definition of each template (`e2b.Dockerfile` and
//! `e2b.toml` in its folder), made from its `template.toml`, so that E2B's
//! CLI builds the image sandboxd builds: the same starter files, lockfiles
//! and install command, the app started the same way, its log where Ollio
//! reads it. A test keeps the files in the folders equal to these.

use super::{Template, SUPPORT_DIR};

/// The name Ollio asks E2B for (`OLLIO_E2B_TEMPLATES` may say otherwise).
pub fn template_name(template: &Template) -> String {
    format!("ollio-{}", template.id)
}

fn needs_node(template: &Template) -> bool {
    template
        .files
        .iter()
        .any(|file| file.path == "package.json")
}

fn needs_python(template: &Template) -> bool {
    template
        .files
        .iter()
        .any(|file| file.path == "requirements.txt")
}

/// `e2b.Dockerfile`.
pub fn dockerfile(template: &Template) -> String {
    let base = if needs_node(template) {
        "node:20-bookworm-slim"
    } else {
        "debian:bookworm-slim"
    };
    let mut out = format!(
        "# E2B's image of Ollio's `{id}` template, made from templates/{id}/template.toml\n\
         # (edit that, then run `cargo test -p ollio-templates` with OLLIO_WRITE_E2B=1).\n\
         # Build it with E2B's CLI from this folder: `e2b template build`.\n\
         FROM {base}\n",
        id = template.id
    );
    let mut packages = vec!["ca-certificates", "curl"];
    if needs_python(template) {
        packages.extend(["python3", "python3-venv"]);
    }
    out.push_str(&format!(
        "RUN apt-get update && apt-get install -y --no-install-recommends {} && rm -rf /var/lib/apt/lists/*\n",
        packages.join(" ")
    ));
    out.push_str("WORKDIR /home/user\n");
    if !template.files.is_empty() {
        out.push_str("COPY files/ /home/user/\n");
    }
    if !template.support.is_empty() {
        out.push_str(&format!("COPY support/ {SUPPORT_DIR}/\n"));
    }
    if let Some(install) = template.install {
        out.push_str(&format!("RUN {install}\n"));
    }
    out.push_str("RUN mkdir -p /tmp/ollio && chown -R 1000:1000 /home/user /tmp/ollio\n");
    out
}

/// The start command E2B runs when a sandbox starts: every process in the
/// background but the last, all writing to the app's log. E2B reaches apps
/// that listen on every address, where sandboxd's guest connects to
/// 127.0.0.1 inside.
pub fn start_command(template: &Template) -> Option<String> {
    if template.start.is_empty() {
        return template.serve_static.then(|| {
            format!(
                "cd /home/user && python3 -m http.server {} --bind 0.0.0.0 >> /tmp/ollio/app.log 2>&1",
                template.port
            )
        });
    }
    let processes: Vec<String> = template
        .start
        .iter()
        .map(|command| {
            format!(
                "PORT={} HOST=0.0.0.0 {} >> /tmp/ollio/app.log 2>&1",
                template.port,
                command.replace("127.0.0.1", "0.0.0.0")
            )
        })
        .collect();
    Some(format!("cd /home/user && {}", processes.join(" & ")))
}

/// `e2b.toml`.
pub fn config(template: &Template) -> String {
    let mut out = format!(
        "# E2B's template config for Ollio's `{id}` template, made from\n\
         # templates/{id}/template.toml; `e2b template build` reads it.\n\
         template_name = \"{name}\"\n\
         dockerfile = \"e2b.Dockerfile\"\n\
         cpu_count = 1\n\
         memory_mb = 1024\n",
        id = template.id,
        name = template_name(template)
    );
    if let Some(start) = start_command(template) {
        out.push_str(&format!("start_cmd = {start:?}\n"));
    }
    out.push_str(&format!(
        "ready_cmd = \"curl -fsS -o /dev/null http://127.0.0.1:{}{}\"\n",
        template.port, template.ready_path
    ));
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The folders' E2B files are these functions' output. With
    /// OLLIO_WRITE_E2B=1 the test writes them instead of comparing.
    #[test]
    fn every_folder_holds_its_e2b_definition() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates");
        let write = std::env::var_os("OLLIO_WRITE_E2B").is_some();
        for template in crate::ALL {
            let dir = root.join(template.id);
            for (name, wanted) in [
                ("e2b.Dockerfile", dockerfile(template)),
                ("e2b.toml", config(template)),
            ] {
                let path = dir.join(name);
                if write {
                    std::fs::write(&path, &wanted).unwrap();
                    continue;
                }
                let found = std::fs::read_to_string(&path).unwrap_or_default();
                assert_eq!(
                    found, wanted,
                    "templates/{}/{name} is out of date: run OLLIO_WRITE_E2B=1 cargo test -p ollio-templates",
                    template.id
                );
            }
        }
    }

    #[test]
    fn the_full_stack_image_has_node_and_python_and_starts_both() {
        let template = crate::find("fullstack").unwrap();
        let file = dockerfile(template);
        assert!(file.starts_with("# E2B") && file.contains("FROM node:20-bookworm-slim"));
        assert!(file.contains("python3-venv"));
        let start = start_command(template).unwrap();
        assert!(start.contains("vite") && start.contains("uvicorn api.main:app"));
        assert_eq!(template_name(template), "ollio-fullstack");
    }
}
