//! The Code tab's palettes: Ctrl/Cmd+P, "Go to file", a dialog whose
//! textbox narrows the version's files by a fuzzy match (the letters typed,
//! in order, anywhere in the path; runs of them and hits in the file's own
//! name rank first), and Ctrl/Cmd+Shift+P, "Commands", the same over the
//! workspace's commands. The arrow keys move, Enter picks, Escape closes.

use leptos::prelude::*;

/// What "Commands" offers. Save and New file only where files can change
/// (the newest version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Save,
    NewFile,
    ToggleTerminal,
    ToggleTheme,
    DownloadZip,
    RestartPreview,
    SearchInFiles,
}

impl Command {
    pub const ALL: [Command; 7] = [
        Self::Save,
        Self::NewFile,
        Self::ToggleTerminal,
        Self::ToggleTheme,
        Self::DownloadZip,
        Self::RestartPreview,
        Self::SearchInFiles,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Save => "Save",
            Self::NewFile => "New file",
            Self::ToggleTerminal => "Toggle terminal",
            Self::ToggleTheme => "Toggle theme",
            Self::DownloadZip => "Download zip",
            Self::RestartPreview => "Restart preview",
            Self::SearchInFiles => "Search in files",
        }
    }

    /// Its keys, shown beside it.
    pub fn keys(self) -> &'static str {
        match self {
            Self::Save => "Ctrl+S",
            Self::ToggleTerminal => "Ctrl+`",
            Self::SearchInFiles => "Ctrl+Shift+F",
            _ => "",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|command| command.label() == label)
    }

    /// The commands offered where files can (`editable`) or cannot change.
    pub fn offered(editable: bool) -> Vec<String> {
        Self::ALL
            .into_iter()
            .filter(|command| editable || !matches!(command, Self::Save | Self::NewFile))
            .map(|command| command.label().to_owned())
            .collect()
    }
}

/// How many matches the list shows.
const SHOWN: usize = 50;

/// How well `query` matches `path`: `None` when its letters are not all in
/// it in order; higher is better.
pub fn fuzzy_score(query: &str, path: &str) -> Option<i64> {
    let query: Vec<char> = query
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if query.is_empty() {
        return Some(0);
    }
    let lower: Vec<char> = path.to_lowercase().chars().collect();
    let name_from = path
        .rfind('/')
        .map_or(0, |slash| path[..=slash].chars().count());
    let (mut score, mut at, mut last) = (0i64, 0usize, None::<usize>);
    for wanted in query {
        let found = (at..lower.len()).find(|&index| lower[index] == wanted)?;
        score += 1;
        if last.is_some_and(|last| last + 1 == found) {
            score += 5;
        }
        if found >= name_from {
            score += 3;
        }
        if found == name_from
            || lower
                .get(found.wrapping_sub(1))
                .is_some_and(|c| matches!(c, '/' | '.' | '-' | '_'))
        {
            score += 4;
        }
        last = Some(found);
        at = found + 1;
    }
    // Shorter paths win ties.
    Some(score * 100 - i64::try_from(lower.len()).unwrap_or(0))
}

/// The paths matching `query`, best first; ties keep their order in
/// `paths` (sorted files, or commands as listed).
pub fn ranked(query: &str, paths: &[String]) -> Vec<String> {
    let mut scored: Vec<(i64, &String)> = paths
        .iter()
        .filter_map(|path| fuzzy_score(query, path).map(|score| (score, path)))
        .collect();
    scored.sort_by_key(|scored| std::cmp::Reverse(scored.0));
    scored
        .into_iter()
        .take(SHOWN)
        .map(|(_, path)| path.clone())
        .collect()
}

#[component]
pub fn GoToFile(
    paths: StoredValue<Vec<String>>,
    open: RwSignal<bool>,
    on_pick: Callback<String>,
) -> impl IntoView {
    view! {
        <Picker id="files" label="Go to file" list_label="Files" empty="No file matches." items=paths open on_pick />
    }
}

/// "Commands": `on_pick` gets the command chosen.
#[component]
pub fn Commands(editable: bool, open: RwSignal<bool>, on_pick: Callback<Command>) -> impl IntoView {
    let items = StoredValue::new(Command::offered(editable));
    let on_pick = Callback::new(move |label: String| {
        if let Some(command) = Command::from_label(&label) {
            on_pick.run(command);
        }
    });
    view! {
        <Picker id="commands" label="Commands" list_label="Commands" empty="No command matches." items open on_pick />
    }
}

/// A palette: a dialog with a combobox `label` over `items`, ranked by
/// [`ranked`]; `id` keeps its elements' ids apart from another palette's.
#[component]
fn Picker(
    id: &'static str,
    label: &'static str,
    list_label: &'static str,
    empty: &'static str,
    items: StoredValue<Vec<String>>,
    open: RwSignal<bool>,
    on_pick: Callback<String>,
) -> impl IntoView {
    let paths = items;
    let list_id = move || format!("palette-{id}-list");
    let item_id = move |index: usize| format!("palette-{id}-item-{index}");
    let query = RwSignal::new(String::new());
    let selected = RwSignal::new(0usize);
    let input = NodeRef::<leptos::html::Input>::new();
    let matches =
        Memo::new(move |_| query.with(|query| paths.with_value(|paths| ranked(query, paths))));
    Effect::new(move |_| {
        if open.get() {
            query.set(String::new());
            selected.set(0);
            if let Some(input) = input.get() {
                let _ = input.focus();
            }
        }
    });
    let pick = move |path: String| {
        open.set(false);
        on_pick.run(path);
    };
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        let count = matches.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                selected.update(|at| *at = (*at + 1) % count);
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                selected.update(|at| *at = (*at + count - 1) % count);
            }
            "Enter" => {
                ev.prevent_default();
                if let Some(path) =
                    matches.with_untracked(|list| list.get(selected.get_untracked()).cloned())
                {
                    pick(path);
                }
            }
            "Escape" => {
                ev.prevent_default();
                open.set(false);
            }
            _ => {}
        }
    };
    view! {
        <Show when=move || open.get()>
            <div class="palette-backdrop" on:click=move |_| open.set(false)></div>
            <div class="palette" role="dialog" aria-modal="true" aria-label=label>
                <input
                    node_ref=input
                    type="text"
                    class="palette-input"
                    aria-label=label
                    placeholder=format!("{label}…")
                    role="combobox"
                    aria-expanded="true"
                    aria-controls=list_id
                    aria-activedescendant=move || item_id(selected.get())
                    autocomplete="off"
                    spellcheck="false"
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        selected.set(0);
                    }
                    on:keydown=keys
                />
                <ul id=list_id class="palette-list" role="listbox" aria-label=list_label>
                    {move || {
                        let list = matches.get();
                        if list.is_empty() {
                            return view! { <li class="muted small palette-empty">{empty}</li> }.into_any();
                        }
                        list.into_iter()
                            .enumerate()
                            .map(|(index, path)| {
                                let chosen = path.clone();
                                let keys = Command::from_label(&path).map(Command::keys).filter(|keys| !keys.is_empty() && id == "commands");
                                view! {
                                    <li
                                        id=item_id(index)
                                        role="option"
                                        class="palette-item"
                                        aria-selected=move || (selected.get() == index).to_string()
                                        on:mousedown=move |ev| {
                                            ev.prevent_default();
                                            pick(chosen.clone());
                                        }
                                    >
                                        {path}
                                        {keys.map(|keys| view! { <kbd class="palette-keys">{keys}</kbd> })}
                                    </li>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }}
                </ul>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_in_order_match_and_names_rank_first() {
        let paths: Vec<String> = [
            "src/App.tsx",
            "src/main.tsx",
            "public/app-icon.svg",
            "index.html",
            "package.json",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(ranked("app", &paths)[0], "src/App.tsx");
        assert_eq!(ranked("mtsx", &paths), ["src/main.tsx"]);
        assert_eq!(ranked("idx", &paths), ["index.html"]);
        assert!(ranked("zz", &paths).is_empty());
        assert_eq!(ranked("", &paths).len(), paths.len());
        assert!(fuzzy_score("pj", "package.json") > fuzzy_score("pj", "public/js/x"));
    }
}
