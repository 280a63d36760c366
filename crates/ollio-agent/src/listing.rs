//! The project's files as the agent and versions see them, listed inside
//! the sandbox by `find`, which names dependency, build and cache folders
//! (`node_modules`, `.venv`, `dist`…) without going into them. A React
//! project's 80 MB `node_modules` therefore never crosses the wire, and a
//! turn never fails on a listing too big to send.

use ollio_sandbox::{Command, Envd, SandboxError};

use super::tools::PROJECT_ROOT;

/// Folders named but never descended into (the domain's list, which an
/// import dropped into the browser skips too).
pub use ollio_domain::file_path::PRUNED;
/// Entries one listing reports at most.
pub const MAX_ENTRIES: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// A folder in [`PRUNED`]: listed, not gone into.
    Pruned,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the folder listed, with `/`.
    pub path: String,
    pub kind: Kind,
    pub size: u64,
}

/// Everything under `folder` (relative to the project root; empty for the
/// root) down to `depth` levels, sorted by path.
pub async fn list(envd: &Envd, folder: &str, depth: u32) -> Result<Vec<Entry>, SandboxError> {
    let root = if folder.is_empty() {
        PROJECT_ROOT.to_owned()
    } else {
        format!("{PROJECT_ROOT}/{}", folder.trim_matches('/'))
    };
    let output = envd
        .run(&Command::new(find_command(&root, depth)), |_, _| {})
        .await?;
    if output.exit_code != 0 {
        let said = String::from_utf8_lossy(&output.stderr);
        return Err(if said.contains("No such file") {
            SandboxError::Missing(folder.to_owned())
        } else {
            SandboxError::Rejected(format!("listing {folder:?}: {}", said.trim()))
        });
    }
    let mut entries = parse(&output.stdout);
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

/// `find` printing `type<TAB>size<TAB>path<NUL>` for each entry, pruning
/// [`PRUNED`] folders (printed with type `P`).
fn find_command(root: &str, depth: u32) -> String {
    let names: Vec<String> = PRUNED
        .iter()
        .map(|name| format!("-name '{name}'"))
        .collect();
    format!(
        "cd '{root}' && find . -mindepth 1 -maxdepth {depth} \\( -type d \\( {} \\) -printf 'P\\t0\\t%P\\0' -prune \\) -o -printf '%y\\t%s\\t%P\\0' | head -z -n {MAX_ENTRIES}",
        names.join(" -o "),
    )
}

fn parse(stdout: &[u8]) -> Vec<Entry> {
    stdout
        .split(|byte| *byte == 0)
        .filter(|record| !record.is_empty())
        .filter_map(|record| {
            let text = String::from_utf8_lossy(record);
            let mut parts = text.splitn(3, '\t');
            let kind = match parts.next()? {
                "f" => Kind::File,
                "d" => Kind::Dir,
                "P" => Kind::Pruned,
                _ => Kind::Other,
            };
            let size = parts.next()?.parse().unwrap_or(0);
            let path = parts.next()?.to_owned();
            Some(Entry { path, kind, size })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_output_parses_and_pruned_folders_are_marked() {
        let out = b"f\t12\tindex.html\0P\t0\tnode_modules\0d\t4096\tsrc\0f\t30\tsrc/a b.tsx\0l\t7\tlink\0";
        let entries = parse(out);
        assert_eq!(entries.len(), 5);
        assert_eq!(entries[1].kind, Kind::Pruned);
        assert_eq!(entries[3].path, "src/a b.tsx");
        assert_eq!(entries[3].size, 30);
        assert_eq!(entries[4].kind, Kind::Other);
    }

    #[test]
    fn the_command_prunes_every_named_folder() {
        let command = find_command("/home/user", 6);
        for name in PRUNED {
            assert!(command.contains(&format!("-name '{name}'")), "{name}");
        }
        assert!(command.contains("-maxdepth 6"));
    }
}
