//! What each project template means to the agent: its system prompt (the
//! template's `prompt.md`, then the rules every turn keeps), and which
//! sandbox template a project of it runs in. The templates themselves are
//! `templates/{id}/` folders, read by `ollio-templates`.

use std::collections::BTreeMap;

pub use ollio_templates::Template;

const RULES: &str = "Work only through your tools. Paths are relative to the project root. \
Create files whole with write_files; change an existing file with edit_file (exact passages \
that occur once) rather than writing it again. Keep the user's earlier work unless asked to \
change it. \
Never put code in your final answer: the user reads the files in the Code tab. \
When the work is done, answer without calling tools, with two or three plain sentences \
for the user inside <task_summary>…</task_summary>.";

/// What a plan turn keeps to (the scripted model server knows a plan
/// request by its first words).
pub const PLAN_RULES: &str = "This turn plans a change and makes none: files cannot be written \
and commands cannot run. Read what you need with list_files and read_files. Then answer, \
without calling tools, with a plan in Markdown under three headings: `## Goal` (one or two \
sentences), `## Files` (each file to add or change, a line each on what changes in it) and \
`## Steps` (numbered, in the order to do them). No code: the build that follows writes it.";

/// What an ask turn keeps to.
pub const ASK_RULES: &str = "This turn answers the user's question about the project and \
changes nothing: files cannot be written and commands cannot run. Read what you need with \
list_files and read_files, then answer, without calling tools, in a few plain sentences or a \
short list, naming the files (and lines) you mean. No code blocks: the chat does not show them.";

/// The system prompt of a turn that only reads: the template's, so the
/// model knows what the app is made of, then the mode's rules.
pub fn read_only_prompt(template: &Template, mode: ollio_domain::TurnMode) -> String {
    let rules = match mode {
        ollio_domain::TurnMode::Ask => ASK_RULES,
        _ => PLAN_RULES,
    };
    format!("{}\n\n{rules}", template.prompt)
}

pub fn find(id: &str) -> Option<&'static Template> {
    ollio_templates::find(id)
}

/// The whole system prompt: the template's, then the rules every turn keeps.
pub fn system_prompt(template: &Template) -> String {
    format!("{}\n\n{RULES}", template.prompt)
}

/// Where a sandbox of `template` is previewed: its port's preview origin,
/// and the template's preview path (an API's docs page) when it has one.
pub fn preview_url(
    client: &ollio_sandbox::SandboxClient,
    sandbox_id: &str,
    template: &Template,
) -> String {
    let origin = client.preview_url(sandbox_id, template.port);
    match template.preview_path {
        "/" | "" => origin,
        path => format!("{origin}{path}"),
    }
}

/// Which sandbox template each project template runs in: sandboxd knows
/// them by their own ids; on E2B cloud they are `ollio-{id}` (built from
/// `templates/{id}/e2b.Dockerfile`), unless `OLLIO_E2B_TEMPLATES` names
/// others (`react=my-react,python-api=abc123`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SandboxTemplates {
    #[default]
    Local,
    E2b(BTreeMap<String, String>),
}

impl SandboxTemplates {
    pub fn sandbox_template(&self, template: &Template) -> String {
        match self {
            Self::Local => template.id.to_owned(),
            Self::E2b(names) => names
                .get(template.id)
                .cloned()
                .unwrap_or_else(|| format!("ollio-{}", template.id)),
        }
    }

    /// Reads `OLLIO_E2B_TEMPLATES`: `id=name` pairs, comma-separated.
    pub fn parse_e2b(raw: Option<&str>) -> Result<Self, String> {
        let mut names = BTreeMap::new();
        for pair in raw.unwrap_or_default().split(',').map(str::trim) {
            if pair.is_empty() {
                continue;
            }
            let Some((id, name)) = pair.split_once('=') else {
                return Err(format!("`{pair}` is not `template=e2b-template`"));
            };
            let (id, name) = (id.trim(), name.trim());
            if find(id).is_none() {
                return Err(format!(
                    "there is no template `{id}`; there are {}",
                    ollio_templates::ids()
                ));
            }
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!("`{name}` is not an E2B template name or id"));
            }
            names.insert(id.to_owned(), name.to_owned());
        }
        Ok(Self::E2b(names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_static_prompt_is_as_it_was_and_every_prompt_keeps_the_rules() {
        let prompt = system_prompt(find("static").unwrap());
        assert!(prompt.starts_with("You are Ollio, an expert web developer building a static web app: HTML, CSS and plain JavaScript, no build step and no packages. The project root is served as it is, so index.html is the entry page."));
        for template in ollio_templates::ALL {
            assert!(system_prompt(template).ends_with(RULES));
        }
        assert!(system_prompt(find("react").unwrap()).contains("already running"));
    }

    #[test]
    fn e2b_names_are_ollio_dash_id_unless_overridden() {
        let react = find("react").unwrap();
        let api = find("python-api").unwrap();
        assert_eq!(SandboxTemplates::Local.sandbox_template(react), "react");
        let e2b = SandboxTemplates::parse_e2b(Some("react=my-react, python-api = abc123")).unwrap();
        assert_eq!(e2b.sandbox_template(react), "my-react");
        assert_eq!(e2b.sandbox_template(api), "abc123");
        assert_eq!(
            SandboxTemplates::parse_e2b(None)
                .unwrap()
                .sandbox_template(find("streamlit").unwrap()),
            "ollio-streamlit"
        );
        assert!(SandboxTemplates::parse_e2b(Some("nope=x"))
            .unwrap_err()
            .contains("no template `nope`"));
        assert!(SandboxTemplates::parse_e2b(Some("react")).is_err());
    }
}
