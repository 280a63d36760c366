//! The guest's files: paths as the sandbox sees them (confined to the home
//! folder without a jail), reading and writing file contents, listings,
//! and how much the home folder holds.

use std::{
    path::{Component, Path, PathBuf},
    time::{Duration, Instant, UNIX_EPOCH},
};

use ollio_sandbox::wire::{rfc3339, EntryInfo, FileType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Guest, Lines, HOME};
use crate::{
    guest_protocol::{send, ErrorKind, GuestError, Reply},
    lock::locked,
};

impl Guest {
    /// Where a path the user gave points, as this process sees it: relative
    /// to the home folder unless absolute.
    pub(super) fn resolve(&self, path: &str) -> Result<PathBuf, GuestError> {
        if path.contains('\0') {
            return Err(GuestError::new(
                ErrorKind::Invalid,
                "a path may not contain NUL",
            ));
        }
        let home = &self.options.home;
        let raw = Path::new(path);
        if !self.options.confine {
            return Ok(if raw.is_absolute() {
                raw.to_path_buf()
            } else {
                home.join(raw)
            });
        }
        // Without a jail: map the sandbox's `/home/user` onto the real home
        // (and the app's log folder onto its own), refusing anything else.
        if let Ok(name) = raw.strip_prefix(super::supervisor::APP_DIR) {
            if name
                .components()
                .all(|part| matches!(part, Component::Normal(_)))
            {
                return Ok(self.options.app_dir.join(name));
            }
        }
        let relative = raw.strip_prefix(HOME).unwrap_or(raw);
        if relative.is_absolute() {
            return Err(GuestError::new(
                ErrorKind::PermissionDenied,
                format!("{path} is outside {HOME}"),
            ));
        }
        let mut resolved = home.clone();
        for component in relative.components() {
            match component {
                Component::Normal(part) => resolved.push(part),
                Component::CurDir => {}
                Component::ParentDir if resolved != *home => {
                    resolved.pop();
                }
                _ => {
                    return Err(GuestError::new(
                        ErrorKind::PermissionDenied,
                        format!("{path} is outside {HOME}"),
                    ))
                }
            }
        }
        Ok(resolved)
    }

    pub(super) async fn read(
        &self,
        path: &str,
        mut write: tokio::net::unix::OwnedWriteHalf,
    ) -> std::io::Result<()> {
        let opened = async {
            let resolved = self.resolve(path)?;
            let file = tokio::fs::File::open(&resolved)
                .await
                .map_err(|error| GuestError::io(path, &error))?;
            let meta = file
                .metadata()
                .await
                .map_err(|error| GuestError::io(path, &error))?;
            if meta.is_dir() {
                return Err(GuestError::new(
                    ErrorKind::Invalid,
                    format!("{path} is a directory"),
                ));
            }
            Ok((file, meta.len()))
        }
        .await;
        match opened {
            Err(error) => send(&mut write, &Reply::Failed(error)).await,
            Ok((file, size)) => {
                send(&mut write, &Reply::Size(size)).await?;
                tokio::io::copy(&mut file.take(size), &mut write).await?;
                write.shutdown().await
            }
        }
    }

    pub(super) async fn write(&self, path: &str, size: u64, body: &mut Lines) -> Reply {
        let outcome = async {
            let resolved = self.resolve(path)?;
            if self.usage(false).await.saturating_add(size) > self.options.disk_limit {
                return Err(GuestError::new(
                    ErrorKind::TooLarge,
                    format!(
                        "writing {path} would go over the sandbox's disk limit of {} MB",
                        self.options.disk_limit >> 20
                    ),
                ));
            }
            if let Some(parent) = resolved.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|error| GuestError::io(path, &error))?;
            }
            let mut file = tokio::fs::File::create(&resolved)
                .await
                .map_err(|error| GuestError::io(path, &error))?;
            let copied = tokio::io::copy(&mut (&mut *body).take(size), &mut file)
                .await
                .map_err(|error| GuestError::io(path, &error))?;
            file.flush()
                .await
                .map_err(|error| GuestError::io(path, &error))?;
            if copied != size {
                return Err(GuestError::new(ErrorKind::Io, "the upload was cut short"));
            }
            *locked(&self.usage) = None;
            entry(&resolved)
        }
        .await;
        match outcome {
            Ok(entry) => Reply::Entry(entry),
            Err(error) => {
                // Read what is left of the upload so the host gets the answer.
                let _ = tokio::io::copy(&mut (&mut *body).take(size), &mut tokio::io::sink()).await;
                Reply::Failed(error)
            }
        }
    }

    /// Bytes the sandbox wrote to its home folder, measured at most every
    /// two seconds unless `fresh`.
    pub(super) async fn usage(&self, fresh: bool) -> u64 {
        if !fresh {
            if let Some((at, bytes)) = *locked(&self.usage) {
                if at.elapsed() < Duration::from_secs(2) {
                    return bytes;
                }
            }
        }
        let root = self
            .options
            .usage_root
            .clone()
            .unwrap_or_else(|| self.options.home.clone());
        let baseline = self.options.usage_baseline;
        let bytes = tokio::task::spawn_blocking(move || disk_usage(&root))
            .await
            .unwrap_or(0)
            .saturating_sub(baseline);
        *locked(&self.usage) = Some((Instant::now(), bytes));
        bytes
    }
}

pub(super) fn list(dir: &Path, depth: u32) -> Result<Vec<EntryInfo>, GuestError> {
    let shown = dir.display().to_string();
    let meta = std::fs::metadata(dir).map_err(|error| GuestError::io(&shown, &error))?;
    if !meta.is_dir() {
        return Err(GuestError::new(
            ErrorKind::Invalid,
            format!("{shown} is not a directory"),
        ));
    }
    let mut entries = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), 1)];
    while let Some((folder, level)) = pending.pop() {
        let read = std::fs::read_dir(&folder)
            .map_err(|error| GuestError::io(&folder.display().to_string(), &error))?;
        for item in read.flatten() {
            let path = item.path();
            let Ok(info) = entry(&path) else { continue };
            if info.kind == FileType::Directory && level < depth {
                pending.push((path, level + 1));
            }
            entries.push(info);
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

/// Describes one path without following a final symlink.
pub(super) fn entry(path: &Path) -> Result<EntryInfo, GuestError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let shown = path.display().to_string();
    let meta = std::fs::symlink_metadata(path).map_err(|error| GuestError::io(&shown, &error))?;
    let kind = if meta.file_type().is_symlink() {
        FileType::Symlink
    } else if meta.is_dir() {
        FileType::Directory
    } else {
        FileType::File
    };
    let mode = meta.permissions().mode();
    let modified_ms = meta
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map(|since| since.as_millis() as i64);
    let name_of = |id: u32| match id {
        1000 => "user".to_owned(),
        0 => "root".to_owned(),
        other => other.to_string(),
    };
    Ok(EntryInfo {
        name: path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "/".into()),
        kind,
        path: shown,
        size: meta.len(),
        mode: mode & 0o7777,
        permissions: permissions(kind, mode),
        owner: name_of(meta.uid()),
        group: name_of(meta.gid()),
        modified_time: modified_ms.map(rfc3339),
        symlink_target: std::fs::read_link(path)
            .ok()
            .map(|target| target.display().to_string()),
    })
}

fn permissions(kind: FileType, mode: u32) -> String {
    let mut text = String::with_capacity(10);
    text.push(match kind {
        FileType::Directory => 'd',
        FileType::Symlink => 'l',
        _ => '-',
    });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 0o7;
        text.push(if bits & 4 != 0 { 'r' } else { '-' });
        text.push(if bits & 2 != 0 { 'w' } else { '-' });
        text.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    text
}

/// Bytes of all regular files under `root`, not following symlinks.
pub fn disk_usage(root: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0u64;
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(read) = std::fs::read_dir(&folder) else {
            continue;
        };
        for item in read.flatten() {
            let Ok(meta) = item.metadata() else { continue };
            if meta.is_dir() {
                pending.push(item.path());
            } else {
                total = total.saturating_add(meta.blocks() * 512);
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::guest::tests::guest;

    #[test]
    fn without_a_jail_paths_stay_in_home() {
        let guest = guest(true);
        assert_eq!(
            guest.resolve("a/b.txt").unwrap(),
            Path::new("/srv/sbx/home/a/b.txt")
        );
        assert_eq!(
            guest.resolve("/home/user/a/../b").unwrap(),
            Path::new("/srv/sbx/home/b")
        );
        for escape in ["../x", "/etc/passwd", "a/../../x", "/home/user/../../etc"] {
            assert!(guest.resolve(escape).is_err(), "{escape} escaped");
        }
    }

    #[test]
    fn in_a_jail_paths_are_taken_as_given() {
        let guest = guest(false);
        assert_eq!(
            guest.resolve("/etc/passwd").unwrap(),
            Path::new("/etc/passwd")
        );
        assert_eq!(guest.resolve("x").unwrap(), Path::new("/srv/sbx/home/x"));
    }

    #[test]
    fn permissions_read_like_ls() {
        assert_eq!(permissions(FileType::File, 0o644), "-rw-r--r--");
        assert_eq!(permissions(FileType::Directory, 0o755), "drwxr-xr-x");
    }
}
