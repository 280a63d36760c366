//! The daemon's own folder, and the rule that keeps it root's alone when
//! the daemon runs as root.

use std::path::{Path, PathBuf};

use crate::DaemonError;

/// The daemon's own folder inside Ollio's data folder. Started as root,
/// `ollio serve` hands the data folder to its service user; the daemon's
/// files (key, lock, sandboxes, templates) stay in this folder, which only
/// root may change (see [`check_owned_by_root`]).
pub fn daemon_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("sandboxd")
}

/// As root, refuses a folder that another user could change: one not owned
/// by root, writable by its group or others, or a symbolic link in a folder
/// others may write (which could be swapped to point anywhere).
pub fn check_owned_by_root(dir: &Path) -> Result<(), DaemonError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let unsafe_dir = |why: &str| DaemonError::UnsafeFolder {
        path: dir.display().to_string(),
        why: why.to_owned(),
    };
    let writable_by_others =
        |meta: &std::fs::Metadata| meta.uid() != 0 || meta.permissions().mode() & 0o022 != 0;
    let meta = std::fs::metadata(dir).map_err(|source| DaemonError::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    if writable_by_others(&meta) {
        return Err(unsafe_dir("it is not root's alone"));
    }
    let link = std::fs::symlink_metadata(dir).is_ok_and(|meta| meta.file_type().is_symlink());
    let parent = dir
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let open_parent = std::fs::metadata(parent).map_or(true, |meta| {
        writable_by_others(&meta) && meta.permissions().mode() & 0o1000 == 0
    });
    if link && open_parent {
        return Err(unsafe_dir(
            "it is a symbolic link in a folder other users may change",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn as_root_only_a_folder_root_alone_may_change_is_used() {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: the rule applies to a daemon run as root");
            return;
        }
        let base = tempfile::tempdir().unwrap();
        let dir = daemon_dir(base.path());
        std::fs::create_dir(&dir).unwrap();
        set_mode(&dir, 0o755);
        check_owned_by_root(&dir).expect("root's own folder");

        set_mode(&dir, 0o775);
        let error = check_owned_by_root(&dir).unwrap_err().to_string();
        assert!(error.contains("not root's alone"), "{error}");

        set_mode(&dir, 0o755);
        std::os::unix::fs::chown(&dir, Some(65534), None).unwrap();
        let error = check_owned_by_root(&dir).unwrap_err().to_string();
        assert!(error.contains("not root's alone"), "{error}");

        // A link to a root-owned folder, planted where another user may write.
        let open = base.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::os::unix::fs::chown(&open, Some(65534), None).unwrap();
        let target = base.path().join("target");
        std::fs::create_dir(&target).unwrap();
        set_mode(&target, 0o755);
        let link = daemon_dir(&open);
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = check_owned_by_root(&link).unwrap_err().to_string();
        assert!(error.contains("symbolic link"), "{error}");
        // The same link where only root may write is the operator's choice.
        let closed = base.path().join("closed");
        std::fs::create_dir(&closed).unwrap();
        set_mode(&closed, 0o755);
        std::os::unix::fs::symlink(&target, daemon_dir(&closed)).unwrap();
        check_owned_by_root(&daemon_dir(&closed)).expect("root's own link");
    }
}
