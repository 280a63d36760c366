//! Built templates ("images"): a template's starter files with its packages
//! installed, made once in a build sandbox that can reach the package
//! registries, then kept read-only under `{cache}/images/{id}-{hash}`. Every
//! sandbox of that template starts from it copy-on-write (see `jail`), so a
//! React sandbox with its `node_modules` starts as fast as an empty one.
//!
//! The cache is `OLLIO_TEMPLATE_CACHE`, or `{data}/templates`. Its
//! `images/` folder is the daemon user's alone: sandboxes reach an image
//! only through their overlay, whose lower layers the kernel never writes.
//! Builds take a file lock per image, so daemons and `ollio templates build`
//! can share one cache.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use ollio_templates::Template;

/// How long one template's install may take.
pub const BUILD_PATIENCE: Duration = Duration::from_secs(20 * 60);
/// Folders an install leaves behind that no sandbox needs: package caches.
const CACHES: &[&str] = &[".npm", ".cache"];

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the template cache {path}: {source}")]
    Cache {
        path: String,
        source: std::io::Error,
    },
    #[error("the build sandbox for `{template}` did not start: {message}")]
    Start { template: String, message: String },
    #[error("`{template}`: {message}")]
    Files { template: String, message: String },
    #[error("`{template}`'s install failed (exit code {exit_code}): {tail}")]
    Install {
        template: String,
        exit_code: i32,
        tail: String,
    },
    #[error("`{template}`'s install took longer than {minutes} minutes")]
    TooLong { template: String, minutes: u64 },
}

/// What a build tells whoever waits on it.
#[derive(Debug, Clone)]
pub enum BuildEvent {
    /// The template is being built (the first use, or its files changed).
    Started { template: &'static str },
    /// A line the install printed.
    Output(String),
    Built {
        template: &'static str,
        elapsed: Duration,
        bytes: u64,
    },
}

pub type Progress<'a> = &'a (dyn Fn(BuildEvent) + Send + Sync);

/// The images folder of a template cache.
#[derive(Debug, Clone)]
pub struct TemplateImages {
    dir: PathBuf,
}

impl TemplateImages {
    pub fn new(cache: &Path) -> Self {
        Self {
            dir: cache.join("images"),
        }
    }

    /// Where the built `template` is (or will be).
    pub fn path(&self, template: &Template) -> PathBuf {
        self.dir.join(template.build_key())
    }

    /// The built image, if it is there.
    pub fn built(&self, template: &Template) -> Option<PathBuf> {
        let path = self.path(template);
        path.is_dir().then_some(path)
    }

    /// Makes the folder, the daemon user's alone.
    pub fn prepare(&self) -> Result<(), BuildError> {
        use std::os::unix::fs::PermissionsExt;
        let made = std::fs::create_dir_all(&self.dir).and_then(|()| {
            std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
        });
        made.map_err(|source| self.error(source))
    }

    fn error(&self, source: std::io::Error) -> BuildError {
        BuildError::Cache {
            path: self.dir.display().to_string(),
            source,
        }
    }

    /// Waits for the lock on `template`'s image: one build at a time, in
    /// this process or another.
    pub async fn lock(&self, template: &Template) -> Result<std::fs::File, BuildError> {
        let path = self.dir.join(format!("{}.lock", template.build_key()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| self.error(source))?;
        let locked = tokio::task::spawn_blocking(move || {
            use std::os::fd::AsRawFd;
            // SAFETY: flock on a descriptor we own; released when it closes.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                Ok(file)
            } else {
                Err(std::io::Error::last_os_error())
            }
        })
        .await
        .map_err(|error| self.error(std::io::Error::other(error)))?;
        locked.map_err(|source| self.error(source))
    }

    /// Keeps a finished build's home folder as `template`'s image: caches
    /// removed, files made usable by every sandbox's uid (through the
    /// overlay; nothing else reaches them), then moved into place at once.
    pub fn keep(&self, template: &Template, home: &Path) -> Result<u64, BuildError> {
        let partial = self.dir.join(format!("{}.partial", template.build_key()));
        let _ = crate::registry::remove_tree(&partial);
        if std::fs::rename(home, &partial).is_err() {
            // Another file system: copy, keeping links and modes.
            copy_tree(home, &partial).map_err(|source| self.error(source))?;
        }
        for cache in CACHES {
            let _ = crate::registry::remove_tree(&partial.join(cache));
        }
        open_to_sandboxes(&partial).map_err(|source| self.error(source))?;
        let bytes = crate::guest::disk_usage(&partial);
        std::fs::rename(&partial, self.path(template)).map_err(|source| self.error(source))?;
        Ok(bytes)
    }
}

/// `cp -a --reflink=auto FROM/. TO`: a template copied where no overlay can
/// be mounted (no root, or no isolation), and images moved across file
/// systems.
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg("--reflink=auto")
        .arg(from.join("."))
        .arg(to)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("cp -a ended with {status}")))
    }
}

/// Owned by the daemon's user, readable and writable by all: each sandbox
/// has a uid of its own, and writes through its overlay (the kernel copies a
/// file up into the sandbox's layer before changing it).
fn open_to_sandboxes(root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // SAFETY: geteuid has no preconditions.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    each_path(root, |path, meta| {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
        if meta.file_type().is_symlink() {
            return Ok(());
        }
        let executable = meta.is_dir() || meta.mode() & 0o111 != 0;
        let mode = if executable { 0o777 } else { 0o666 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    })
}

/// Hands a template copied into a sandbox's home to the sandbox's uid.
pub fn hand_over(root: &Path, uid: u32) -> std::io::Result<()> {
    each_path(root, |path, _| {
        std::os::unix::fs::lchown(path, Some(uid), Some(uid))
    })
}

/// Calls `visit` on `root` and everything under it, never following links.
fn each_path(
    root: &Path,
    mut visit: impl FnMut(&Path, &std::fs::Metadata) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path)?;
        visit(&path, &meta)?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                pending.push(entry?.path());
            }
        }
    }
    Ok(())
}

/// Prints a build's progress on standard error, for `ollio templates build`.
pub fn print_progress(event: BuildEvent) {
    match event {
        BuildEvent::Started { template } => eprintln!("==> Building the `{template}` template"),
        BuildEvent::Output(line) => eprintln!("    {line}"),
        BuildEvent::Built {
            template,
            elapsed,
            bytes,
        } => eprintln!(
            "==> `{template}` built in {:.1} s ({} MB)",
            elapsed.as_secs_f64(),
            bytes >> 20
        ),
    }
}
