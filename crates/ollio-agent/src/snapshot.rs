//! A project's files as a version keeps them: read back from the sandbox
//! after a turn, written into a new sandbox when the old one expired (over
//! the template's files, so its dependencies come back). Text and binary
//! files are kept up to limits; whatever is not kept is listed, with why.

use super::{
    listing::{self, Kind},
    tools::PROJECT_ROOT,
};
use futures_util::{stream, StreamExt};
use ollio_sandbox::{Envd, SandboxError};
use ollio_store::{LeftOut, LeftOutReason, NewFile, VersionFile};

/// A text file is kept up to this size (larger ones are generated data).
pub const MAX_TEXT_FILE: u64 = 512 * 1024;
/// A binary file (an image, a font, a trained model) up to this size.
pub const MAX_BINARY_FILE: u64 = 8 * 1024 * 1024;
/// All of a version's files together, at most.
pub const MAX_VERSION_BYTES: u64 = 48 * 1024 * 1024;
/// At most this many files are kept in one version (an import's limit too,
/// so a project imported whole stays whole after its next turn).
pub const MAX_FILES: usize = 5000;
/// Files read from the sandbox at once while a snapshot is taken.
const READ_AHEAD: usize = 8;
/// At most this many things are listed as left out.
pub const MAX_LEFT_OUT: usize = 200;
/// Files tools leave in the home folder that are nobody's project.
const TOOL_FILES: &[&str] = &[
    ".bash_history",
    ".python_history",
    ".node_repl_history",
    ".wget-hsts",
    ".lesshst",
    ".viminfo",
];

/// A project as a version keeps it: its files, and what it left out.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub files: Vec<NewFile>,
    pub left_out: Vec<LeftOut>,
}

impl Snapshot {
    fn leave_out(&mut self, path: &str, reason: LeftOutReason, size: Option<u64>) {
        if self.left_out.len() < MAX_LEFT_OUT {
            self.left_out.push(LeftOut {
                path: path.to_owned(),
                reason,
                size,
            });
        }
    }
}

/// Why a pruned folder (see `listing::PRUNED`) is not in versions.
pub fn why_pruned(path: &str) -> LeftOutReason {
    match path.rsplit('/').next().unwrap_or(path) {
        "node_modules" | ".venv" | "venv" => LeftOutReason::Dependencies,
        "dist" | "build" | ".next" | ".nuxt" | ".svelte-kit" | "target" => {
            LeftOutReason::BuildOutput
        }
        _ => LeftOutReason::Cache,
    }
}

/// The project's files under the root, sorted by path, text and binary;
/// dependency, build and cache folders (pruned in the sandbox, see
/// `listing`), the `artifacts` folder of a model (kept in the blob store)
/// and files over the limits are listed as left out instead.
///
/// The listing's sizes choose what to read; [`READ_AHEAD`] files are read
/// at once (a 5,000-file import is one request per file), and what was
/// read is checked again in order, as a file may have grown since.
pub async fn read_project(envd: &Envd, artifacts: Option<&str>) -> Result<Snapshot, SandboxError> {
    let entries = listing::list(envd, "", 12).await?;
    let mut snapshot = Snapshot::default();
    let mut wanted = Vec::new();
    let mut planned = 0u64;
    for entry in entries {
        let relative = entry.path.as_str();
        if let Some(folder) = artifacts {
            if relative == folder {
                snapshot.leave_out(relative, LeftOutReason::ModelArtifacts, None);
                continue;
            }
            if relative
                .strip_prefix(folder)
                .is_some_and(|rest| rest.starts_with('/'))
            {
                continue;
            }
        }
        match entry.kind {
            Kind::Pruned => {
                snapshot.leave_out(relative, why_pruned(relative), None);
                continue;
            }
            Kind::File => {}
            Kind::Dir | Kind::Other => continue,
        }
        if TOOL_FILES.contains(&relative) {
            continue;
        }
        if entry.size > MAX_BINARY_FILE {
            snapshot.leave_out(relative, LeftOutReason::TooLarge, Some(entry.size));
            continue;
        }
        if wanted.len() >= MAX_FILES {
            snapshot.leave_out(relative, LeftOutReason::TooManyFiles, Some(entry.size));
            continue;
        }
        if planned + entry.size > MAX_VERSION_BYTES {
            snapshot.leave_out(relative, LeftOutReason::VersionFull, Some(entry.size));
            continue;
        }
        planned += entry.size;
        wanted.push(entry.path);
    }
    let mut reads = stream::iter(wanted)
        .map(|relative| async move {
            // Capped, as the file may have grown since the listing.
            let path = format!("{PROJECT_ROOT}/{relative}");
            let part = envd.read_file_head(&path, MAX_BINARY_FILE as usize).await;
            (relative, part)
        })
        .buffered(READ_AHEAD);
    let mut total = 0u64;
    while let Some((relative, part)) = reads.next().await {
        let part = match part {
            Ok(part) => part,
            // Removed since the listing: not part of the version.
            Err(SandboxError::Missing(_)) => continue,
            Err(error) => return Err(error),
        };
        if part.cut {
            snapshot.leave_out(&relative, LeftOutReason::TooLarge, Some(part.size));
            continue;
        }
        if total + part.size > MAX_VERSION_BYTES {
            snapshot.leave_out(&relative, LeftOutReason::VersionFull, Some(part.size));
            continue;
        }
        let (bytes, size) = (part.bytes, part.size);
        let language = language_of(&relative).to_owned();
        let file = NewFile::from_bytes(relative, language, bytes);
        if !file.binary && size > MAX_TEXT_FILE {
            snapshot.leave_out(&file.path, LeftOutReason::TooLarge, Some(size));
            continue;
        }
        total += size;
        snapshot.files.push(file);
    }
    Ok(snapshot)
}

/// Writes a version's files into a sandbox; returns how many.
pub async fn write_project(envd: &Envd, files: &[VersionFile]) -> Result<usize, SandboxError> {
    if files.is_empty() {
        return Ok(0);
    }
    let upload: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|file| (format!("{PROJECT_ROOT}/{}", file.path), file.bytes()))
        .collect();
    envd.write_files(&upload).await?;
    Ok(files.len())
}

/// The language a file is highlighted as, from its name (the domain's).
pub use ollio_domain::file_path::language_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruned_folders_say_why() {
        assert_eq!(why_pruned("node_modules"), LeftOutReason::Dependencies);
        assert_eq!(why_pruned("api/.venv"), LeftOutReason::Dependencies);
        assert_eq!(why_pruned("dist"), LeftOutReason::BuildOutput);
        assert_eq!(why_pruned("src/__pycache__"), LeftOutReason::Cache);
        assert_eq!(why_pruned(".git"), LeftOutReason::Cache);
    }
}
