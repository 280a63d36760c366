//! An uploaded project, a `.zip` or a folder's files, as the files of a
//! version. Paths are checked as the explorer checks them
//! (`file_path::portable_path`: nothing outside the project, no name a zip
//! tool or Windows would change); dependency, build and cache folders are
//! skipped and listed as a snapshot lists them; and the limits keep a
//! hostile upload from costing the server its memory: the size before and
//! after unpacking, the count, the compression ratio (a zip bomb), links.
//! Sizes a zip declares are checked before anything is unpacked, and what
//! unpacking gives is never read past what was declared.

use std::{
    collections::BTreeSet,
    io::{Cursor, Read},
};

use ollio_agent::{
    listing::PRUNED,
    snapshot::{why_pruned, MAX_BINARY_FILE, MAX_LEFT_OUT, MAX_TEXT_FILE, MAX_VERSION_BYTES},
};
use ollio_domain::{
    file_path::{language_of, portable_path},
    size_text,
};
use ollio_store::{LeftOut, LeftOutReason, NewFile};

const MB: u64 = 1024 * 1024;
/// A `.zip` is at most this big.
pub const MAX_COMPRESSED: u64 = 50 * MB;
/// The files kept, unpacked, at most this big together.
pub const MAX_UNPACKED: u64 = 200 * MB;
/// At most this many files are kept (skipped folders' files not counted):
/// as many as a version keeps, so the next turn's snapshot keeps them all.
pub use ollio_agent::snapshot::MAX_FILES;
/// At most this many entries of any kind, skipped ones too.
pub const MAX_ENTRIES: usize = 100_000;
/// Deflate packs source code 3 to 10 times; a file packed tighter than
/// this is made to explode, not to be imported.
pub const MAX_RATIO: u64 = 100;
/// Files smaller than this unpack to too little to matter, however packed.
const RATIO_FROM: u64 = MB;
/// Files an OS leaves beside a project, never part of it.
const LITTER: [&str; 3] = [".DS_Store", "Thumbs.db", "desktop.ini"];

/// Why an upload is not imported, in words for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("There is nothing to import: choose a .zip file or a folder.")]
    Nothing,
    #[error("That file is not a zip archive Ollio can read.")]
    NotZip,
    #[error("The zip is {}; an import is at most {} compressed.", size_text(*.0), size_text(MAX_COMPRESSED))]
    TooBig(u64),
    #[error("The files come to {} unpacked; an import is at most {}.", size_text(*.0), size_text(MAX_UNPACKED))]
    TooBigUnpacked(u64),
    #[error("The import holds {0} files; at most {MAX_FILES} can be imported (dependency folders such as node_modules are skipped and not counted).")]
    TooManyFiles(usize),
    #[error("{0:?} is packed more than {MAX_RATIO} times tighter than code ever is, as zip bombs are; it was not unpacked.")]
    Bomb(String),
    #[error("{0:?} is a symbolic link; an import holds files and folders only.")]
    Link(String),
    #[error("{0:?} cannot be imported: {1}")]
    BadPath(String, String),
    #[error("{0:?} is in the import twice.")]
    Twice(String),
}

/// What an upload gives: the files a version keeps, what was left out and
/// why, and the one folder everything was in (stripped from the paths;
/// its name names the project).
#[derive(Debug, Default)]
pub struct Unpacked {
    pub files: Vec<NewFile>,
    pub left_out: Vec<LeftOut>,
    pub folder: Option<String>,
}

/// One file of an upload before it is read: its path as sent, its size as
/// declared, and where it is (the zip's entry, or the folder's file).
struct Entry {
    path: String,
    size: u64,
    at: usize,
}

/// A zip's files.
pub fn from_zip(bytes: &[u8]) -> Result<Unpacked, Refused> {
    let total = bytes.len() as u64;
    if total > MAX_COMPRESSED {
        return Err(Refused::TooBig(total));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| Refused::NotZip)?;
    if archive.len() > MAX_ENTRIES {
        return Err(Refused::TooManyFiles(archive.len()));
    }
    let mut entries = Vec::new();
    for at in 0..archive.len() {
        // The central directory's record only: nothing is unpacked yet.
        let entry = archive.by_index_raw(at).map_err(|_| Refused::NotZip)?;
        let path = entry.name().to_owned();
        if entry.is_symlink() {
            return Err(Refused::Link(path));
        }
        if entry.is_dir() {
            checked(path.trim_end_matches('/'))?;
            continue;
        }
        let size = entry.size();
        if size >= RATIO_FROM && size / entry.compressed_size().max(1) > MAX_RATIO {
            return Err(Refused::Bomb(path));
        }
        entries.push(Entry { path, size, at });
    }
    let packed: u64 = entries.iter().map(|entry| entry.size).sum();
    let plan = plan(entries)?;
    // Across all files too: many small files each under the cut-off.
    if packed >= RATIO_FROM && packed / total.max(1) > MAX_RATIO {
        return Err(Refused::Bomb("The zip".into()));
    }
    plan.read(|entry| {
        let mut file = archive.by_index(entry.at).map_err(|_| Refused::NotZip)?;
        let mut bytes = Vec::with_capacity(entry.size as usize);
        // One byte past the declared size tells a lying header.
        file.by_ref()
            .take(entry.size + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| Refused::NotZip)?;
        if bytes.len() as u64 != entry.size {
            return Err(Refused::Bomb(entry.path.clone()));
        }
        Ok(bytes)
    })
}

/// A folder's files, each with its path in the folder (as browsers send a
/// chosen folder's files: `my-app/src/main.ts`).
pub fn from_folder(files: Vec<(String, Vec<u8>)>) -> Result<Unpacked, Refused> {
    let entries = files
        .iter()
        .enumerate()
        .map(|(at, (path, bytes))| Entry {
            path: path.clone(),
            size: bytes.len() as u64,
            at,
        })
        .collect();
    let mut files = files;
    plan(entries)?.read(|entry| Ok(std::mem::take(&mut files[entry.at].1)))
}

/// Whether a file at `path` (as sent) is skipped before it is read: in a
/// dependency, build or cache folder, or an OS's litter. Uploads of a
/// folder check this as each file arrives, so skipped ones cost no memory.
pub fn skipped(path: &str) -> bool {
    let mut parts = path.split(['/', '\\']).filter(|part| !part.is_empty());
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    LITTER.contains(&name) || parts.any(|part| PRUNED.contains(&part) || part == "__MACOSX")
}

fn checked(path: &str) -> Result<String, Refused> {
    portable_path(path).map_err(|why| Refused::BadPath(path.to_owned(), why))
}

/// The files to read, their paths without the one folder around them all,
/// and what is left out.
struct Plan {
    keep: Vec<Entry>,
    left_out: Vec<LeftOut>,
    folder: Option<String>,
}

fn plan(entries: Vec<Entry>) -> Result<Plan, Refused> {
    let mut keep = Vec::new();
    let mut pruned = BTreeSet::new();
    for mut entry in entries {
        entry.path = checked(&entry.path)?;
        if let Some(folder) = pruned_folder(&entry.path) {
            pruned.insert(folder);
            continue;
        }
        if !skipped(&entry.path) {
            keep.push(entry);
        }
    }
    if keep.is_empty() {
        return Err(Refused::Nothing);
    }
    if keep.len() > MAX_FILES {
        return Err(Refused::TooManyFiles(keep.len()));
    }
    let unpacked: u64 = keep.iter().map(|entry| entry.size).sum();
    if unpacked > MAX_UNPACKED {
        return Err(Refused::TooBigUnpacked(unpacked));
    }
    let folder = common_folder(&keep);
    if let Some(folder) = &folder {
        let cut = folder.len() + 1;
        for entry in &mut keep {
            entry.path.drain(..cut);
        }
    }
    let mut seen = BTreeSet::new();
    for entry in &keep {
        if !seen.insert(entry.path.as_str()) {
            return Err(Refused::Twice(entry.path.clone()));
        }
    }
    keep.sort_by(|a, b| a.path.cmp(&b.path));
    let strip = |path: String| match &folder {
        Some(folder) => path
            .strip_prefix(&format!("{folder}/"))
            .map_or(path.clone(), str::to_owned),
        None => path,
    };
    let left_out = pruned
        .into_iter()
        .map(strip)
        .filter(|path| !path.is_empty())
        .map(|path| LeftOut {
            reason: why_pruned(&path),
            path,
            size: None,
        })
        .collect();
    Ok(Plan {
        keep,
        left_out,
        folder,
    })
}

impl Plan {
    /// Reads the kept files with `read`, within a version's limits (as a
    /// snapshot keeps a sandbox's files: what is over is left out, listed).
    fn read(
        self,
        mut read: impl FnMut(&Entry) -> Result<Vec<u8>, Refused>,
    ) -> Result<Unpacked, Refused> {
        let mut unpacked = Unpacked {
            files: Vec::with_capacity(self.keep.len()),
            left_out: self.left_out,
            folder: self.folder,
        };
        let mut total = 0u64;
        let leave_out = |left_out: &mut Vec<LeftOut>, path: &str, reason: LeftOutReason, size| {
            if left_out.len() < MAX_LEFT_OUT {
                left_out.push(LeftOut {
                    path: path.to_owned(),
                    reason,
                    size: Some(size),
                });
            }
        };
        for entry in &self.keep {
            if entry.size > MAX_BINARY_FILE {
                leave_out(
                    &mut unpacked.left_out,
                    &entry.path,
                    LeftOutReason::TooLarge,
                    entry.size,
                );
                continue;
            }
            if total + entry.size > MAX_VERSION_BYTES {
                leave_out(
                    &mut unpacked.left_out,
                    &entry.path,
                    LeftOutReason::VersionFull,
                    entry.size,
                );
                continue;
            }
            let language = language_of(&entry.path).to_owned();
            let file = NewFile::from_bytes(entry.path.clone(), language, read(entry)?);
            if !file.binary && entry.size > MAX_TEXT_FILE {
                leave_out(
                    &mut unpacked.left_out,
                    &entry.path,
                    LeftOutReason::TooLarge,
                    entry.size,
                );
                continue;
            }
            total += entry.size;
            unpacked.files.push(file);
        }
        Ok(unpacked)
    }
}

/// The first folder of `path` that is skipped as dependencies, a build or
/// a cache (`app/node_modules` of `app/node_modules/x/y.js`).
fn pruned_folder(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let at = parts[..parts.len() - 1]
        .iter()
        .position(|part| PRUNED.contains(part))?;
    Some(parts[..=at].join("/"))
}

/// The one folder every file is in, if there is one (`my-app` for a zip
/// of the folder `my-app`).
fn common_folder(entries: &[Entry]) -> Option<String> {
    let first = entries.first()?.path.split_once('/')?.0;
    entries
        .iter()
        .all(|entry| {
            entry
                .path
                .strip_prefix(first)
                .is_some_and(|rest| rest.starts_with('/'))
        })
        .then(|| first.to_owned())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::{write::SimpleFileOptions, CompressionMethod, ZipWriter};

    use super::*;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut zip = ZipWriter::new(Cursor::new(&mut bytes));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (path, content) in files {
            zip.start_file(*path, options).unwrap();
            zip.write_all(content).unwrap();
        }
        zip.finish().unwrap();
        bytes
    }

    fn paths(unpacked: &Unpacked) -> Vec<&str> {
        unpacked
            .files
            .iter()
            .map(|file| file.path.as_str())
            .collect()
    }

    #[test]
    fn a_zip_of_a_folder_is_its_files_without_dependencies() {
        let zip = zip_of(&[
            ("my-app/package.json", b"{}"),
            ("my-app/src/main.tsx", b"console.log(1)"),
            ("my-app/node_modules/react/index.js", b"module.exports = {}"),
            (
                "my-app/public/logo.png",
                &[0x89, b'P', b'N', b'G', 0, 0, 0xff],
            ),
            ("__MACOSX/my-app/._package.json", b"junk"),
            ("my-app/.DS_Store", b"junk"),
        ]);
        let unpacked = from_zip(&zip).unwrap();
        assert_eq!(
            paths(&unpacked),
            ["package.json", "public/logo.png", "src/main.tsx"]
        );
        assert_eq!(unpacked.folder.as_deref(), Some("my-app"));
        assert!(unpacked.files[1].binary);
        assert_eq!(unpacked.files[2].language, "tsx");
        let left: Vec<_> = unpacked
            .left_out
            .iter()
            .map(|l| (l.path.as_str(), l.reason))
            .collect();
        assert_eq!(left, [("node_modules", LeftOutReason::Dependencies)]);
    }

    #[test]
    fn a_zip_bomb_is_refused_before_it_is_unpacked() {
        let zeros = vec![0u8; 20 * MB as usize];
        let zip = zip_of(&[("index.html", b"<h1>hi</h1>"), ("zeros.bin", &zeros)]);
        assert!(zip.len() < MB as usize, "deflate packs zeros tightly");
        assert_eq!(
            from_zip(&zip).unwrap_err(),
            Refused::Bomb("zeros.bin".into())
        );
        // Many files each under the cut-off, together packed as tightly.
        let half = vec![0u8; (MB - 1) as usize];
        let many: Vec<(String, &[u8])> = (0..8)
            .map(|n| (format!("part{n}.txt"), half.as_slice()))
            .collect();
        let many: Vec<(&str, &[u8])> = many.iter().map(|(p, b)| (p.as_str(), *b)).collect();
        assert_eq!(
            from_zip(&zip_of(&many)).unwrap_err(),
            Refused::Bomb("The zip".into())
        );
    }

    #[test]
    fn a_header_that_lies_about_its_size_is_not_read_past() {
        let mut zip = zip_of(&[("a.txt", b"aaaaaaaaaaaaaaaa")]);
        // The central directory's uncompressed size (offset 24 in its
        // record) and the local header's (offset 22) say 4 bytes.
        let central = zip.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
        zip[central + 24..central + 28].copy_from_slice(&4u32.to_le_bytes());
        zip[22..26].copy_from_slice(&4u32.to_le_bytes());
        assert!(matches!(
            from_zip(&zip).unwrap_err(),
            Refused::Bomb(_) | Refused::NotZip
        ));
    }

    #[test]
    fn traversal_absolute_paths_and_windows_names_are_refused() {
        for (bad, said) in [
            ("../evil", "stay inside the project"),
            ("app/../../evil", "stay inside the project"),
            ("/etc/passwd", "relative to the project"),
            ("C:/Windows/x", "Windows does not allow"),
            ("app\\evil.txt", "relative to the project"),
            ("aux.txt", "device"),
            ("notes. ", "dot or a space"),
        ] {
            let error = from_zip(&zip_of(&[("index.html", b"x"), (bad, b"x")])).unwrap_err();
            match &error {
                Refused::BadPath(path, why) => {
                    assert_eq!(path, bad);
                    assert!(why.contains(said), "{bad}: {why}");
                    assert!(error.to_string().contains("cannot be imported"));
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_symbolic_link_is_refused() {
        let mut bytes = Vec::new();
        let mut zip = ZipWriter::new(Cursor::new(&mut bytes));
        zip.start_file("index.html", SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"<p>hi</p>").unwrap();
        zip.add_symlink("secrets", "/etc/shadow", SimpleFileOptions::default())
            .unwrap();
        zip.finish().unwrap();
        assert_eq!(
            from_zip(&bytes).unwrap_err(),
            Refused::Link("secrets".into())
        );
    }

    #[test]
    fn counts_and_sizes_have_limits() {
        let names: Vec<String> = (0..=MAX_FILES).map(|n| format!("f{n}.txt")).collect();
        let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), b"x" as &[u8])).collect();
        let error = from_zip(&zip_of(&many)).unwrap_err();
        assert_eq!(error, Refused::TooManyFiles(MAX_FILES + 1));
        assert!(error.to_string().contains("at most 5000"));
        // Exactly the limit is fine; skipped dependencies are not counted.
        let mut at_limit = many[..MAX_FILES].to_vec();
        at_limit.push(("node_modules/a.js", b"x"));
        assert_eq!(from_zip(&zip_of(&at_limit)).unwrap().files.len(), MAX_FILES);

        let error = from_zip(&vec![0u8; MAX_COMPRESSED as usize + 1]).unwrap_err();
        assert!(matches!(error, Refused::TooBig(_)));
        assert!(error.to_string().contains("at most 50.0 MB"), "{error}");
        assert_eq!(from_zip(b"not a zip").unwrap_err(), Refused::NotZip);
        assert_eq!(
            from_zip(&zip_of(&[("node_modules/x.js", b"x")])).unwrap_err(),
            Refused::Nothing
        );
    }

    #[test]
    fn the_unpacked_total_is_checked_from_the_folder_sizes() {
        // A folder is read as it arrives; the plan refuses by size alone.
        let big = Entry {
            path: "a.bin".into(),
            size: MAX_UNPACKED + 1,
            at: 0,
        };
        assert!(matches!(plan(vec![big]), Err(Refused::TooBigUnpacked(_))));
    }

    #[test]
    fn a_folder_keeps_its_files_and_leaves_out_what_a_version_cannot_hold() {
        let big = vec![b'a'; MAX_TEXT_FILE as usize + 1];
        let unpacked = from_folder(vec![
            ("site/index.html".into(), b"<h1>Hi</h1>".to_vec()),
            ("site/data/big.csv".into(), big),
            ("site/.git/HEAD".into(), b"ref".to_vec()),
        ])
        .unwrap();
        assert_eq!(paths(&unpacked), ["index.html"]);
        assert_eq!(unpacked.folder.as_deref(), Some("site"));
        let left: Vec<_> = unpacked
            .left_out
            .iter()
            .map(|l| (l.path.as_str(), l.reason))
            .collect();
        assert_eq!(
            left,
            [
                (".git", LeftOutReason::Cache),
                ("data/big.csv", LeftOutReason::TooLarge)
            ]
        );
        let twice = from_folder(vec![("a.txt".into(), vec![]), ("a.txt".into(), vec![])]);
        assert_eq!(twice.unwrap_err(), Refused::Twice("a.txt".into()));
        assert!(skipped("app/node_modules/x/y.js") && skipped("Thumbs.db") && !skipped("src/a.js"));
    }
}
