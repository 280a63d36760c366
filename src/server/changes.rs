//! Line diffs between a version and the one before it (`similar`'s Myers
//! diff), grouped into hunks with three lines of context. Diffing runs on
//! the blocking pool under a deadline: past it, `similar` settles for a
//! diff that is correct but not the shortest, so two large, very different
//! files never hold a thread for long.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use similar::{ChangeTag, TextDiff};

use ollio_domain::{UserId, VersionId};
use ollio_store::Store;

use crate::{
    dto::changes::{ChangeSet, DiffLine, FileChange},
    error::AppError,
};

/// Files larger than this are listed as changed, not diffed.
const DIFF_LIMIT: usize = 256 * 1024;
const CONTEXT: usize = 3;
/// All of a version's diffs together get this long to be the shortest.
const DIFF_DEADLINE: Duration = Duration::from_secs(2);

/// `None` when the version does not exist or is not `owner`'s.
pub async fn of_version(
    store: &Store,
    owner: &UserId,
    version: &VersionId,
) -> Result<Option<ChangeSet>, AppError> {
    let Some(this) = store.version(owner, version).await? else {
        return Ok(None);
    };
    let previous = store
        .versions(owner, &this.project)
        .await?
        .into_iter()
        .filter(|other| other.version < this.version)
        .max_by_key(|other| other.version);
    let new = store.version_files(owner, version).await?;
    let old = match &previous {
        Some(previous) => store.version_files(owner, &previous.id).await?,
        None => Vec::new(),
    };
    let binary: std::collections::BTreeSet<String> = old
        .iter()
        .chain(&new)
        .filter(|f| f.binary)
        .map(|f| f.path.clone())
        .collect();
    let old: BTreeMap<String, String> = old.into_iter().map(|f| (f.path, f.content)).collect();
    let new: BTreeMap<String, String> = new.into_iter().map(|f| (f.path, f.content)).collect();
    let mut files =
        tokio::task::spawn_blocking(move || compare(&old, &new, Instant::now() + DIFF_DEADLINE))
            .await
            .map_err(super::request::internal)?;
    // A binary file's base64 is compared, never shown.
    for file in files.iter_mut().filter(|f| binary.contains(&f.path)) {
        *file = FileChange {
            binary: true,
            too_large: false,
            added: 0,
            removed: 0,
            hunks: Vec::new(),
            ..file.clone()
        };
    }
    Ok(Some(ChangeSet {
        version: this.version,
        previous: previous.map(|p| p.version),
        files,
    }))
}

/// The files that differ between `old` and `new` (path → content), by path;
/// past `deadline` the diffs are no longer the shortest.
pub fn compare(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
    deadline: Instant,
) -> Vec<FileChange> {
    let paths: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    paths
        .into_iter()
        .filter_map(|path| {
            let (before, after) = (old.get(path), new.get(path));
            if before == after {
                return None;
            }
            let change = match (before, after) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            Some(file_change(
                path,
                change,
                before.map_or("", String::as_str),
                after.map_or("", String::as_str),
                deadline,
            ))
        })
        .collect()
}

pub fn file_change(
    path: &str,
    change: &str,
    before: &str,
    after: &str,
    deadline: Instant,
) -> FileChange {
    let mut file = FileChange {
        path: path.to_owned(),
        change: change.to_owned(),
        added: 0,
        removed: 0,
        hunks: Vec::new(),
        too_large: before.len() + after.len() > DIFF_LIMIT,
        binary: false,
    };
    if file.too_large {
        return file;
    }
    let diff = TextDiff::configure()
        .deadline(deadline)
        .diff_lines(before, after);
    for group in diff.grouped_ops(CONTEXT) {
        let mut hunk = Vec::new();
        for op in group {
            for line in diff.iter_changes(&op) {
                let sign = match line.tag() {
                    ChangeTag::Insert => {
                        file.added += 1;
                        "+"
                    }
                    ChangeTag::Delete => {
                        file.removed += 1;
                        "-"
                    }
                    ChangeTag::Equal => " ",
                };
                hunk.push(DiffLine {
                    sign: sign.to_owned(),
                    old: line.old_index().map(|i| i + 1),
                    new: line.new_index().map(|i| i + 1),
                    text: line.value().trim_end_matches(['\n', '\r']).to_owned(),
                });
            }
        }
        file.hunks.push(hunk);
    }
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn changed_added_and_removed_files_are_listed_with_their_lines() {
        let old = files(&[
            ("index.html", "<h1>Hello</h1>\n<p>a</p>\n"),
            ("old.txt", "x\n"),
            ("same.css", "b\n"),
        ]);
        let new = files(&[
            ("index.html", "<h1>Bigger</h1>\n<p>a</p>\n"),
            ("new.js", "y\n"),
            ("same.css", "b\n"),
        ]);
        let changes = compare(&old, &new, Instant::now() + DIFF_DEADLINE);
        let listed: Vec<(&str, &str)> = changes
            .iter()
            .map(|c| (c.path.as_str(), c.change.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                ("index.html", "changed"),
                ("new.js", "added"),
                ("old.txt", "removed")
            ]
        );
        let html = &changes[0];
        assert_eq!((html.added, html.removed), (1, 1));
        let lines: Vec<String> = html.hunks[0]
            .iter()
            .map(|l| format!("{}{}", l.sign, l.text))
            .collect();
        assert_eq!(lines, ["-<h1>Hello</h1>", "+<h1>Bigger</h1>", " <p>a</p>"]);
        assert_eq!(html.hunks[0][0].old, Some(1));
        assert_eq!(html.hunks[0][1].new, Some(1));
    }

    #[test]
    fn past_the_deadline_a_diff_is_still_right() {
        // 4,000 lines, every other one changed: the shortest diff takes a
        // while to find; with the deadline gone, a correct one comes at once.
        let before: String = (0..4000).map(|i| format!("line {i}\n")).collect();
        let after: String = (0..4000)
            .map(|i| {
                if i % 2 == 0 {
                    format!("line {i}\n")
                } else {
                    format!("changed {i}\n")
                }
            })
            .collect();
        let changes = compare(
            &files(&[("a.txt", &before)]),
            &files(&[("a.txt", &after)]),
            Instant::now(),
        );
        let file = &changes[0];
        assert!(!file.too_large);
        assert_eq!(file.added - file.removed, 0);
        assert!(file.added >= 2000, "{}", file.added);
        // Applying the diff's lines gives the new file back.
        let rebuilt: String = file
            .hunks
            .iter()
            .flatten()
            .filter(|line| line.sign != "-")
            .map(|line| format!("{}\n", line.text))
            .collect();
        assert_eq!(rebuilt, after);
    }

    #[test]
    fn huge_files_are_not_diffed() {
        let big = "x".repeat(DIFF_LIMIT);
        let changes = compare(
            &files(&[("a", "1")]),
            &files(&[("a", &big)]),
            Instant::now(),
        );
        assert!(changes[0].too_large);
        assert!(changes[0].hunks.is_empty());
    }
}
