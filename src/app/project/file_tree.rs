//! A version's files as a tree: folders first, then files, each level
//! sorted. Shown flat (visible rows with their depth) so the keyboard can
//! walk it: arrows move, Right opens a folder, Left closes it or goes up.

use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The file's path, or the folder's path without a trailing slash.
    pub path: String,
    pub name: String,
    pub depth: usize,
    pub folder: bool,
}

/// The rows to show for `paths`, with the folders in `closed` folded.
pub fn rows(paths: &[String], closed: &BTreeSet<String>) -> Vec<Row> {
    let mut sorted: Vec<&String> = paths.iter().collect();
    // Folders before files at every level: compare segment by segment,
    // a segment with more below it (a folder) first.
    sorted.sort_by(|a, b| {
        let (a_parts, b_parts): (Vec<&str>, Vec<&str>) =
            (a.split('/').collect(), b.split('/').collect());
        for (i, (x, y)) in a_parts.iter().zip(b_parts.iter()).enumerate() {
            let x_folder = i + 1 < a_parts.len();
            let y_folder = i + 1 < b_parts.len();
            if x != y || x_folder != y_folder {
                return y_folder
                    .cmp(&x_folder)
                    .then_with(|| x.to_lowercase().cmp(&y.to_lowercase()))
                    .then_with(|| x.cmp(y));
            }
        }
        a_parts.len().cmp(&b_parts.len())
    });
    let mut rows = Vec::new();
    let mut shown_folders: BTreeSet<String> = BTreeSet::new();
    for path in sorted {
        let parts: Vec<&str> = path.split('/').collect();
        let mut hidden = false;
        for depth in 0..parts.len() - 1 {
            let folder = parts[..=depth].join("/");
            if !hidden && shown_folders.insert(folder.clone()) {
                rows.push(Row {
                    path: folder.clone(),
                    name: parts[depth].to_owned(),
                    depth,
                    folder: true,
                });
            }
            if closed.contains(&folder) {
                hidden = true;
                break;
            }
        }
        if !hidden {
            rows.push(Row {
                path: path.clone(),
                name: parts[parts.len() - 1].to_owned(),
                depth: parts.len() - 1,
                folder: false,
            });
        }
    }
    rows
}

/// The folder that holds `path` ("" at the top).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|row| {
                format!(
                    "{}{}{}",
                    "  ".repeat(row.depth),
                    row.name,
                    if row.folder { "/" } else { "" }
                )
            })
            .collect()
    }

    #[test]
    fn folders_come_first_and_nest() {
        let paths: Vec<String> = [
            "index.html",
            "src/app.js",
            "src/lib/util.js",
            "README.md",
            "assets/logo.svg",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        assert_eq!(
            names(&rows(&paths, &BTreeSet::new())),
            [
                "assets/",
                "  logo.svg",
                "src/",
                "  lib/",
                "    util.js",
                "  app.js",
                "index.html",
                "README.md"
            ]
        );
    }

    #[test]
    fn a_closed_folder_hides_what_is_inside() {
        let paths: Vec<String> = ["src/a.js", "src/lib/b.js", "z.txt"]
            .iter()
            .map(|p| p.to_string())
            .collect();
        let closed = BTreeSet::from(["src".to_owned()]);
        assert_eq!(names(&rows(&paths, &closed)), ["src/", "z.txt"]);
        let closed = BTreeSet::from(["src/lib".to_owned()]);
        assert_eq!(
            names(&rows(&paths, &closed)),
            ["src/", "  lib/", "  a.js", "z.txt"]
        );
        assert_eq!(parent("src/lib/b.js"), "src/lib");
        assert_eq!(parent("z.txt"), "");
    }
}
