//! What each project template means to the agent: the sandbox template it
//! runs in, the port its preview is served on, and its system prompt.

pub struct Template {
    pub id: &'static str,
    /// The sandbox template (`sandboxd`'s, or an E2B template id).
    pub sandbox_template: &'static str,
    pub preview_port: u16,
    pub system_prompt: &'static str,
}

const RULES: &str = "Work only through your tools. Paths are relative to the project root. \
Write whole files. Keep the user's earlier work unless asked to change it. \
Never put code in your final answer: the user reads the files in the Code tab. \
When the work is done, answer without calling tools, with two or three plain sentences \
for the user inside <task_summary>…</task_summary>.";

pub const STATIC: Template = Template {
    id: "static",
    sandbox_template: "static",
    preview_port: 3000,
    system_prompt: "You are Ollio, an expert web developer building a static web app: \
HTML, CSS and plain JavaScript, no build step and no packages. The project root is served \
as it is, so index.html is the entry page. Make it look finished: responsive, accessible, \
with a considered layout and colours.",
};

pub const ALL: &[Template] = &[STATIC];

pub fn find(id: &str) -> Option<&'static Template> {
    ALL.iter().find(|template| template.id == id)
}

impl Template {
    /// The whole system prompt: the template's, then the rules every turn keeps.
    pub fn prompt(&self) -> String {
        format!("{}\n\n{RULES}", self.system_prompt)
    }
}
