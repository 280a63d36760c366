//! Ctrl/Cmd+P in the Code tab: "Go to file", a dialog whose textbox
//! narrows the version's files by a fuzzy match (the letters typed, in
//! order, anywhere in the path; runs of them and hits in the file's own
//! name rank first). The arrow keys move, Enter opens, Escape closes.

use leptos::prelude::*;

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

/// The paths matching `query`, best first.
pub fn ranked(query: &str, paths: &[String]) -> Vec<String> {
    let mut scored: Vec<(i64, &String)> = paths
        .iter()
        .filter_map(|path| fuzzy_score(query, path).map(|score| (score, path)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
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
            <div class="palette" role="dialog" aria-modal="true" aria-label="Go to file">
                <input
                    node_ref=input
                    type="text"
                    class="palette-input"
                    aria-label="Go to file"
                    placeholder="Go to file…"
                    role="combobox"
                    aria-expanded="true"
                    aria-controls="palette-list"
                    aria-activedescendant=move || format!("palette-item-{}", selected.get())
                    autocomplete="off"
                    spellcheck="false"
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        selected.set(0);
                    }
                    on:keydown=keys
                />
                <ul id="palette-list" class="palette-list" role="listbox" aria-label="Files">
                    {move || {
                        let list = matches.get();
                        if list.is_empty() {
                            return view! { <li class="muted small palette-empty">"No file matches."</li> }.into_any();
                        }
                        list.into_iter()
                            .enumerate()
                            .map(|(index, path)| {
                                let chosen = path.clone();
                                view! {
                                    <li
                                        id=format!("palette-item-{index}")
                                        role="option"
                                        class="palette-item"
                                        aria-selected=move || (selected.get() == index).to_string()
                                        on:mousedown=move |ev| {
                                            ev.prevent_default();
                                            pick(chosen.clone());
                                        }
                                    >
                                        {path}
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
