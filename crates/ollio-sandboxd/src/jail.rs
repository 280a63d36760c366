//! Starting a sandbox's guest agent inside bubblewrap: read-only system
//! folders, nothing of the host's home or Ollio's data, fresh user, pid,
//! ipc, uts, cgroup and network namespaces, no capabilities, a clean
//! environment. When run as root, the jail also drops to a host uid of its
//! own, so no sandbox is root-owned on the host or shares a uid with another.

use std::{
    ffi::CString,
    os::unix::ffi::OsStrExt,
    path::{Path, PathBuf},
    process::Stdio,
};

use std::os::fd::{AsRawFd, RawFd};

use super::{guest::HOME, guest_protocol::LISTEN_FD};

/// Where the run folder (read-only; the registry proxy's socket) appears
/// inside the sandbox.
pub const RUN_DIR: &str = "/run/ollio";
const GUEST_EXE: &str = "/run/ollio-guest";
/// Where bubblewrap reads the seccomp filter from (see [`crate::seccomp`]).
const SECCOMP_FD: RawFd = LISTEN_FD + 1;
const SECCOMP_FD_ARG: &str = "4";
/// Where the sandbox's own writes over its template (the overlay's upper
/// layer) appear inside, read-only, so the guest counts only those against
/// the disk limit.
const LAYER_DIR: &str = "/run/ollio-layer";
/// System files a normal program needs; never `/etc` as a whole (it holds
/// `shadow`, and the host's configuration).
/// The sandbox's `/etc/profile`, read by every command (E2B's protocol runs
/// them in a login shell): Debian's, for the one user a sandbox has (uid
/// 1000), without running `id -u` to find out, which took a quarter of a
/// warm sandbox's first command.
const PROFILE: &str = r#"# /etc/profile of an Ollio sandbox: Debian's, for its one user (uid 1000).
PATH="/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"
export PATH

if [ "${PS1-}" ]; then
  if [ "${BASH-}" ] && [ "$BASH" != "/bin/sh" ]; then
    if [ -f /etc/bash.bashrc ]; then
      . /etc/bash.bashrc
    fi
  else
    PS1='$ '
  fi
fi

if [ -d /etc/profile.d ]; then
  for i in /etc/profile.d/*.sh; do
    if [ -r $i ]; then
      . $i
    fi
  done
  unset i
fi
"#;

const ETC_FILES: &[&str] = &[
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "ssl",
    "ca-certificates",
    "ca-certificates.conf",
    "localtime",
    "nsswitch.conf",
    "mime.types",
    "profile.d",
    "bash.bashrc",
    "inputrc",
    "host.conf",
    "os-release",
    "debian_version",
    "gai.conf",
];

/// How sandboxes are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    Bubblewrap,
    /// `--unsafe-no-isolation`: plain processes, paths confined lexically.
    None,
}

/// Per-process limits every sandbox process starts with.
#[derive(Debug, Clone, Copy)]
pub struct Rlimits {
    /// `RLIMIT_NPROC`: only set when the sandbox has a uid of its own.
    pub processes: Option<u64>,
    /// `RLIMIT_FSIZE`: the largest file.
    pub file_bytes: u64,
    pub open_files: u64,
    /// `RLIMIT_DATA`: each process's heap, when no memory cgroup caps the
    /// sandbox as a whole.
    pub data_bytes: Option<u64>,
}

pub struct JailSpec<'a> {
    /// The sandbox's folder on the host: `home/`, `run/`, `etc/` and the
    /// host-only `host/` inside.
    pub root: &'a Path,
    pub guest_exe: &'a Path,
    /// Drop to this host uid (and gid) before starting; needs root.
    pub host_uid: Option<u32>,
    pub rlimits: Rlimits,
    pub cgroup_procs: Vec<PathBuf>,
    pub serve_static: Option<u16>,
    pub disk_limit: u64,
    /// Relay `127.0.0.1:3128` inside to the host's registry proxy.
    pub egress: bool,
    /// A built template to mount under the home folder copy-on-write
    /// (overlayfs, mounted as root in a mount namespace of the jail's own,
    /// so it goes when the sandbox does). `None`: a plain folder.
    pub lower: Option<&'a Path>,
    /// Bytes already in the home folder that the disk limit does not count
    /// (a template copied in where no overlay can be mounted).
    pub usage_baseline: u64,
    /// The template whose app the guest keeps running.
    pub app: Option<&'static str>,
    /// `RLIMIT_NPROC` the guest sets on itself inside the jail's user
    /// namespace, where the kernel counts only the sandbox's processes
    /// against it (see [`counts_processes_per_namespace`]).
    pub max_processes: Option<u64>,
}

impl JailSpec<'_> {
    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    pub fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    /// The overlay's upper layer: what the sandbox wrote over its template.
    fn upper(&self) -> PathBuf {
        self.root.join("upper")
    }

    fn work(&self) -> PathBuf {
        self.root.join("work")
    }

    /// Never mounted into the sandbox: the guest's socket lives here, so
    /// nothing inside can swap it for a link to another socket.
    pub fn host_dir(&self) -> PathBuf {
        self.root.join("host")
    }

    pub fn guest_socket(&self) -> PathBuf {
        self.host_dir().join(super::guest_protocol::SOCKET_NAME)
    }

    /// Binds the guest's socket; the listening descriptor goes to the guest
    /// through [`JailSpec::command`].
    pub fn bind_guest_socket(&self) -> std::io::Result<std::os::unix::net::UnixListener> {
        std::os::unix::net::UnixListener::bind(self.guest_socket())
    }

    /// Makes the folders and the sandbox's own `/etc/passwd` and `/etc/group`.
    pub fn prepare(&self) -> std::io::Result<()> {
        let etc = self.root.join("etc");
        for dir in [self.home(), self.run_dir(), etc.clone(), self.host_dir()] {
            std::fs::create_dir_all(dir)?;
        }
        if self.lower.is_some() {
            std::fs::create_dir_all(self.upper())?;
            std::fs::create_dir_all(self.work())?;
        }
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(self.host_dir(), std::fs::Permissions::from_mode(0o700))?;
        }
        std::fs::write(
            etc.join("passwd"),
            "root:x:0:0:root:/root:/usr/sbin/nologin\nuser:x:1000:1000:user:/home/user:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        )?;
        std::fs::write(
            etc.join("group"),
            "root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n",
        )?;
        std::fs::write(etc.join("hostname"), "sandbox\n")?;
        std::fs::write(
            etc.join("hosts"),
            "127.0.0.1 localhost sandbox\n::1 localhost\n",
        )?;
        std::fs::write(etc.join("profile"), PROFILE)?;
        if let Some(uid) = self.host_uid {
            // Only the home folder is the sandbox's; `run/` stays the host's.
            // Over a template, the upper layer's root is the home's root.
            let own = if self.lower.is_some() {
                self.upper()
            } else {
                self.home()
            };
            std::os::unix::fs::chown(own, Some(uid), Some(uid))?;
        }
        Ok(())
    }

    /// The command that starts the guest agent under `isolation`, serving
    /// on `listener` (from [`JailSpec::bind_guest_socket`]).
    pub fn command(
        &self,
        isolation: Isolation,
        listener: RawFd,
    ) -> std::io::Result<tokio::process::Command> {
        let mut seccomp = None;
        let mut command = match isolation {
            Isolation::Bubblewrap => {
                seccomp = Some(seccomp_pipe()?);
                self.bubblewrap()
            }
            Isolation::None => {
                let mut command = tokio::process::Command::new(self.guest_exe);
                command
                    .arg("sandbox-guest")
                    .arg("--run-dir")
                    .arg(self.run_dir())
                    .arg("--home")
                    .arg(self.home())
                    .arg("--confine")
                    .arg("--app-dir")
                    .arg(self.root.join("app"))
                    .current_dir(self.home());
                command
            }
        };
        command
            .args(self.guest_flags())
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        self.before_exec(&mut command, listener, seccomp);
        Ok(command)
    }

    fn guest_flags(&self) -> Vec<String> {
        let mut flags = vec![
            "--listen-fd".to_owned(),
            LISTEN_FD.to_string(),
            "--disk-limit".to_owned(),
            self.disk_limit.to_string(),
        ];
        if let Some(port) = self.serve_static {
            flags.extend(["--serve-static".to_owned(), port.to_string()]);
        }
        if self.egress {
            flags.push("--egress".to_owned());
        }
        if self.lower.is_some() {
            flags.extend(["--usage-root".to_owned(), LAYER_DIR.to_owned()]);
        }
        if let Some(app) = self.app {
            flags.extend(["--app".to_owned(), app.to_owned()]);
        }
        if let Some(processes) = self.max_processes {
            flags.extend(["--max-processes".to_owned(), processes.to_string()]);
        }
        if self.usage_baseline > 0 {
            flags.extend([
                "--usage-baseline".to_owned(),
                self.usage_baseline.to_string(),
            ]);
        }
        flags
    }

    fn bubblewrap(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new("bwrap");
        let path = |p: &Path| p.as_os_str().to_owned();
        command.args([
            "--unshare-user",
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--disable-userns",
            "--uid",
            "1000",
            "--gid",
            "1000",
            "--hostname",
            "sandbox",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--seccomp",
            SECCOMP_FD_ARG,
            "--clearenv",
            "--ro-bind",
            "/usr",
            "/usr",
        ]);
        for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            let host = Path::new("/").join(top);
            match std::fs::read_link(&host) {
                Ok(target) => {
                    command.arg("--symlink").arg(target).arg(&host);
                }
                Err(_) if host.is_dir() => {
                    command.arg("--ro-bind").arg(&host).arg(&host);
                }
                Err(_) => {}
            }
        }
        for name in ETC_FILES {
            let host = Path::new("/etc").join(name);
            if host.exists() {
                command.arg("--ro-bind").arg(&host).arg(&host);
            }
        }
        let etc = self.root.join("etc");
        for name in ["passwd", "group", "hostname", "hosts", "profile"] {
            command
                .arg("--ro-bind")
                .arg(path(&etc.join(name)))
                .arg(format!("/etc/{name}"));
        }
        command
            .args([
                "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp",
            ])
            .arg("--bind")
            .arg(path(&self.home()))
            .arg(HOME)
            .arg("--ro-bind")
            .arg(path(&self.run_dir()))
            .arg(RUN_DIR)
            .arg("--ro-bind")
            .arg(path(self.guest_exe))
            .arg(GUEST_EXE)
            .args(
                self.lower
                    .map(|_| ["--ro-bind".into(), path(&self.upper()), LAYER_DIR.into()])
                    .into_iter()
                    .flatten(),
            )
            // The root bubblewrap built is a tmpfs; nothing but home and
            // the temporary folders needs to be writable.
            .args(["--remount-ro", "/"])
            .args([
                "--chdir", HOME, "--setenv", "HOME", HOME, "--setenv", "PATH",
            ])
            .arg("/usr/local/bin:/usr/bin:/bin")
            .args(["--", GUEST_EXE, "sandbox-guest", "--run-dir", RUN_DIR])
            .args(["--home", HOME]);
        command
    }

    /// Puts the guest's listening socket on [`LISTEN_FD`], joins the
    /// cgroups, sets the rlimits and drops to the sandbox's uid in the
    /// child, between fork and exec. Everything is prepared up front: only
    /// system calls happen after the fork.
    fn before_exec(
        &self,
        command: &mut tokio::process::Command,
        listener: RawFd,
        seccomp: Option<std::os::fd::OwnedFd>,
    ) {
        let procs: Vec<CString> = self
            .cgroup_procs
            .iter()
            .filter_map(|file| CString::new(file.as_os_str().as_bytes()).ok())
            .collect();
        let limits = self.rlimits;
        let uid = self.host_uid;
        let overlay = self.lower.map(|lower| {
            let options = format!(
                "lowerdir={},upperdir={},workdir={}",
                lower.display(),
                self.upper().display(),
                self.work().display()
            );
            (
                CString::new(self.home().as_os_str().as_bytes()).unwrap_or_default(),
                CString::new(options).unwrap_or_default(),
            )
        });
        // SAFETY: the closure only makes async-signal-safe system calls on
        // data prepared before the fork.
        unsafe {
            command.pre_exec(move || {
                // Each descriptor goes to its fixed number through a copy
                // above both, so neither can overwrite the other; dup2
                // leaves the result open across exec.
                let mut passes = vec![(listener, LISTEN_FD)];
                if let Some(filter) = &seccomp {
                    passes.push((filter.as_raw_fd(), SECCOMP_FD));
                }
                for (from, to) in passes {
                    let spare = libc::fcntl(from, libc::F_DUPFD_CLOEXEC, 10);
                    if spare < 0 || libc::dup2(spare, to) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                if let Some((target, options)) = &overlay {
                    // A mount namespace of the jail's own, private, so the
                    // overlay is seen by nothing else and ends with it.
                    if libc::unshare(libc::CLONE_NEWNS) != 0
                        || libc::mount(
                            c"none".as_ptr(),
                            c"/".as_ptr(),
                            std::ptr::null(),
                            libc::MS_REC | libc::MS_PRIVATE,
                            std::ptr::null(),
                        ) != 0
                        || libc::mount(
                            c"overlay".as_ptr(),
                            target.as_ptr(),
                            c"overlay".as_ptr(),
                            libc::MS_NOSUID | libc::MS_NODEV,
                            options.as_ptr().cast(),
                        ) != 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                // No transparent huge pages for the jail and its agent: a
                // 2 MB page for a few KB touched doubled an idle sandbox's
                // memory. (The agent gives them back to what it starts.)
                // Best effort.
                libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
                for file in &procs {
                    let fd = libc::open(file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                    libc::close(fd);
                    if written != 1 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                let set = |resource, value: u64| {
                    let limit = libc::rlimit {
                        rlim_cur: value,
                        rlim_max: value,
                    };
                    if libc::setrlimit(resource, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                };
                set(libc::RLIMIT_FSIZE, limits.file_bytes)?;
                set(libc::RLIMIT_NOFILE, limits.open_files)?;
                set(libc::RLIMIT_CORE, 0)?;
                if let Some(processes) = limits.processes {
                    set(libc::RLIMIT_NPROC, processes)?;
                }
                if let Some(bytes) = limits.data_bytes {
                    set(libc::RLIMIT_DATA, bytes)?;
                }
                if let Some(uid) = uid {
                    if libc::setgroups(0, std::ptr::null()) != 0
                        || libc::setgid(uid) != 0
                        || libc::setuid(uid) != 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
    }
}

/// A pipe holding the seccomp filter, for bubblewrap to read to its end.
fn seccomp_pipe() -> std::io::Result<std::os::fd::OwnedFd> {
    use std::io::Write;
    let program = crate::seccomp::program().map_err(std::io::Error::other)?;
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills both descriptors, which are then owned here.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let (read, write) = unsafe {
        use std::os::fd::FromRawFd;
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    };
    // A few KB: it fits in the pipe's buffer, so this never blocks.
    let mut write = write;
    write.write_all(program)?;
    Ok(read)
}

/// The running kernel's release, as `uname -r` prints it.
pub fn kernel_release() -> String {
    // SAFETY: uname fills the zeroed struct; its fields are NUL-terminated.
    unsafe {
        let mut name: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut name) != 0 {
            return String::new();
        }
        std::ffi::CStr::from_ptr(name.release.as_ptr())
            .to_string_lossy()
            .into_owned()
    }
}

/// Whether `release` counts `RLIMIT_NPROC` per user namespace (Linux 5.14's
/// ucounts), so a limit set inside a jail holds for that jail alone.
pub fn counts_processes_per_namespace(release: &str) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= (5, 14)
}

/// Whether bubblewrap can be found.
pub fn bubblewrap_available() -> bool {
    std::process::Command::new("bwrap")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
