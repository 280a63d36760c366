//! Who the web server runs as. Started as root, `ollio serve` keeps root
//! only in the sandbox daemon's own process ([`super::daemon_process`]) and
//! becomes the service user, `OLLIO_USER` (`ollio` by default), before it
//! opens the database or answers a request; `ollio worker` does the same.
//! Started as anyone else, nothing changes: there is nothing to give up.
//!
//! The user gets the data folder and the web server's files in it (the
//! SQLite database, the key that seals provider keys); the daemon's folder
//! inside it (`sandboxd/`) stays root's.

use std::{
    ffi::CString,
    path::{Path, PathBuf},
};

use super::config::{Config, DatabaseUrl};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceUserError {
    #[error("OLLIO_USER: there is no user `{0}` to run the web server as (started as root, Ollio keeps root only for the sandbox daemon); create it with `useradd --system --no-create-home --shell /usr/sbin/nologin {0}`, or name another user")]
    Missing(String),
    #[error("OLLIO_USER: `{0}` has uid 0; name a user other than root")]
    IsRoot(String),
    #[error("cannot hand {path} to the user `{user}`: {source}")]
    Chown {
        path: String,
        user: String,
        source: std::io::Error,
    },
    #[error("cannot become the user `{user}`: {source}")]
    Switch {
        user: String,
        source: std::io::Error,
    },
    #[error("OLLIO_DATA_DIR: the user `{user}`, which the web server runs as, cannot reach {path} (a folder above it is closed to other users); choose a data folder it can reach, such as /var/lib/ollio/data")]
    Unreachable { user: String, path: String },
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

impl ServiceUser {
    /// The user to become: none unless this process is root.
    pub fn wanted(config: &Config) -> Result<Option<Self>, ServiceUserError> {
        if !is_root() {
            return Ok(None);
        }
        let user = Self::lookup(&config.service_user)?;
        if user.uid == 0 {
            return Err(ServiceUserError::IsRoot(user.name));
        }
        Ok(Some(user))
    }

    /// Looks `name` up in the user database.
    pub fn lookup(name: &str) -> Result<Self, ServiceUserError> {
        let missing = || ServiceUserError::Missing(name.to_owned());
        let c_name = CString::new(name).map_err(|_| missing())?;
        let mut buffer = vec![0 as libc::c_char; 16 * 1024];
        // SAFETY: a zeroed passwd is a valid out-parameter; the buffer
        // outlives the call and its length is passed along.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let status = unsafe {
            libc::getpwnam_r(
                c_name.as_ptr(),
                &mut entry,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut found,
            )
        };
        if status != 0 || found.is_null() {
            return Err(missing());
        }
        Ok(Self {
            name: name.to_owned(),
            uid: entry.pw_uid,
            gid: entry.pw_gid,
        })
    }

    /// Gives the user the data folder and the web server's files in it.
    /// Files are changed without following links, so a link planted in the
    /// folder by an earlier run cannot hand root's files over.
    pub fn take_files(&self, config: &Config) -> Result<(), ServiceUserError> {
        let chown = |path: &Path, follow: bool| {
            let result = if follow {
                std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            } else {
                std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))
            };
            match result {
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other.map_err(|source| ServiceUserError::Chown {
                    path: path.display().to_string(),
                    user: self.name.clone(),
                    source,
                }),
            }
        };
        chown(&config.data_dir, true)?;
        for file in web_files(config) {
            chown(&file, false)?;
        }
        Ok(())
    }

    /// Becomes the user for good, in every thread: no supplementary groups,
    /// its group and uid (real, effective and saved), and no way to gain
    /// privileges again through set-uid programs.
    pub fn assume(&self) -> Result<(), ServiceUserError> {
        let failed = |source| ServiceUserError::Switch {
            user: self.name.clone(),
            source,
        };
        let check = |status: libc::c_int| {
            if status == 0 {
                Ok(())
            } else {
                Err(failed(std::io::Error::last_os_error()))
            }
        };
        // SAFETY: plain system calls on this process's credentials; glibc
        // applies each to every thread.
        unsafe {
            check(libc::setgroups(0, std::ptr::null()))?;
            check(libc::setgid(self.gid))?;
            check(libc::setuid(self.uid))?;
            check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
            if libc::setuid(0) == 0 || libc::geteuid() != self.uid || libc::getegid() != self.gid {
                return Err(failed(std::io::Error::other(
                    "root's rights were still there after the switch",
                )));
            }
        }
        Ok(())
    }

    /// After [`Self::assume`]: the data folder must be within reach.
    pub fn check_reach(&self, config: &Config) -> Result<(), ServiceUserError> {
        match std::fs::read_dir(&config.data_dir) {
            Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
                Err(ServiceUserError::Unreachable {
                    user: self.name.clone(),
                    path: std::path::absolute(&config.data_dir)
                        .unwrap_or_else(|_| config.data_dir.clone())
                        .display()
                        .to_string(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// The web server's own files: the SQLite database (with its journal
/// files) and the sealing key.
fn web_files(config: &Config) -> Vec<PathBuf> {
    let mut files = vec![config.data_dir.join(ollio_store::secrets::KEY_FILE)];
    if let DatabaseUrl::Sqlite {
        file: Some(file), ..
    } = &config.database_url
    {
        files.push(file.clone());
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = file.clone().into_os_string();
            name.push(suffix);
            files.push(name.into());
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_user_is_named_with_the_command_that_creates_it() {
        let error = ServiceUser::lookup("no-such-ollio-user").unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("OLLIO_USER: there is no user `no-such-ollio-user`"));
        assert!(text.contains("useradd --system"), "{text}");
    }

    #[test]
    fn root_is_found_with_uid_0() {
        let root = ServiceUser::lookup("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
    }

    #[test]
    fn the_database_and_its_journals_are_the_web_servers() {
        let config =
            Config::from_lookup(|name| (name == "OLLIO_DATA_DIR").then(|| "/srv/ollio".to_owned()))
                .unwrap();
        let files: Vec<String> = web_files(&config)
            .iter()
            .map(|file| file.display().to_string())
            .collect();
        assert_eq!(
            files,
            [
                "/srv/ollio/secret.key",
                "/srv/ollio/ollio.db",
                "/srv/ollio/ollio.db-wal",
                "/srv/ollio/ollio.db-shm",
                "/srv/ollio/ollio.db-journal",
            ]
        );
    }
}
