//! Memory, process-count and CPU limits for a whole sandbox through cgroups,
//! v1 (separate `memory`, `pids`, `cpu` hierarchies) or v2 (one unified
//! tree), whichever the host offers and lets us write. Without either,
//! sandboxes still get rlimits (see `jail`), and the daemon says so.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

const ROOT: &str = "/sys/fs/cgroup";

#[derive(Debug, Clone, Copy)]
pub struct CgroupLimits {
    pub memory_bytes: u64,
    pub pids: u64,
    /// CPU cores' worth of time per period, e.g. 1.0.
    pub cpus: f64,
}

/// The cgroup flavour available on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    V1,
    V2,
}

/// Finds a cgroup hierarchy we may create groups in.
pub fn detect() -> Option<Flavour> {
    detect_at(Path::new(ROOT))
}

fn detect_at(root: &Path) -> Option<Flavour> {
    // Several daemons may probe at once (tests run them side by side in one
    // process): each probe needs a name of its own, or one daemon's removal
    // makes another conclude that cgroups are not writable.
    static PROBES: AtomicU64 = AtomicU64::new(0);
    let writable = |dir: &Path| {
        dir.is_dir() && {
            let probe = dir.join(format!(
                "ollio-probe-{}-{}",
                std::process::id(),
                PROBES.fetch_add(1, Ordering::Relaxed)
            ));
            let made = fs::create_dir(&probe).is_ok();
            if made {
                let _ = fs::remove_dir(&probe);
            }
            made
        }
    };
    if ["memory", "pids"]
        .iter()
        .all(|name| writable(&root.join(name)))
    {
        return Some(Flavour::V1);
    }
    let controllers = fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
    if controllers.contains("memory") && controllers.contains("pids") && writable(root) {
        return Some(Flavour::V2);
    }
    None
}

/// One sandbox's groups. Dropping it does nothing: call [`Cgroup::remove`].
#[derive(Debug)]
pub struct Cgroup {
    dirs: Vec<PathBuf>,
}

impl Cgroup {
    /// Creates the groups for `name` and writes the limits.
    pub fn create(flavour: Flavour, name: &str, limits: CgroupLimits) -> std::io::Result<Self> {
        let root = Path::new(ROOT);
        let period: u64 = 100_000;
        let quota = (limits.cpus * period as f64).round().max(1_000.0) as u64;
        match flavour {
            Flavour::V1 => {
                let memory = root.join("memory").join(name);
                let pids = root.join("pids").join(name);
                let cpu = root.join("cpu").join(name);
                fs::create_dir_all(&memory)?;
                fs::create_dir_all(&pids)?;
                let mut dirs = vec![memory.clone(), pids.clone()];
                fs::write(
                    memory.join("memory.limit_in_bytes"),
                    limits.memory_bytes.to_string(),
                )?;
                // Swap would let a hog outlive the limit; refuse it where the knob exists.
                let _ = fs::write(memory.join("memory.swappiness"), "0");
                let _ = fs::write(
                    memory.join("memory.memsw.limit_in_bytes"),
                    limits.memory_bytes.to_string(),
                );
                fs::write(pids.join("pids.max"), limits.pids.to_string())?;
                if fs::create_dir_all(&cpu).is_ok() {
                    let _ = fs::write(cpu.join("cpu.cfs_period_us"), period.to_string());
                    let _ = fs::write(cpu.join("cpu.cfs_quota_us"), quota.to_string());
                    dirs.push(cpu);
                }
                Ok(Self { dirs })
            }
            Flavour::V2 => {
                let _ = fs::write(root.join("cgroup.subtree_control"), "+memory +pids +cpu");
                let dir = root.join(name);
                fs::create_dir_all(&dir)?;
                fs::write(dir.join("memory.max"), limits.memory_bytes.to_string())?;
                let _ = fs::write(dir.join("memory.swap.max"), "0");
                fs::write(dir.join("pids.max"), limits.pids.to_string())?;
                let _ = fs::write(dir.join("cpu.max"), format!("{quota} {period}"));
                Ok(Self { dirs: vec![dir] })
            }
        }
    }

    /// Whether the group gets the CPU as any other (`true`) or only what
    /// the others leave (a warm sandbox, not anyone's yet): `cpu.weight`
    /// on v2, `cpu.shares` on v1. Best effort.
    pub fn set_foreground(&self, foreground: bool) {
        for dir in &self.dirs {
            if dir.join("cpu.weight").exists() {
                let _ = fs::write(dir.join("cpu.weight"), if foreground { "100" } else { "1" });
            } else if dir.join("cpu.shares").exists() {
                let _ = fs::write(
                    dir.join("cpu.shares"),
                    if foreground { "1024" } else { "2" },
                );
            }
        }
    }

    /// The `cgroup.procs` files a new process writes its pid into.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs
            .iter()
            .map(|dir| dir.join("cgroup.procs"))
            .collect()
    }

    /// Kills every process in the groups and removes them.
    pub fn remove(&self) {
        for _ in 0..50 {
            let mut alive = false;
            for dir in &self.dirs {
                let _ = fs::write(dir.join("cgroup.kill"), "1");
                let pids = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                for pid in pids
                    .lines()
                    .filter_map(|line| line.trim().parse::<i32>().ok())
                {
                    alive = true;
                    // SAFETY: kill(2) sends a signal; no memory is involved.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                }
            }
            if !alive {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for dir in &self.dirs {
            let _ = fs::remove_dir(dir);
        }
    }

    /// Whether the memory limit killed something: the `oom_kill` count of
    /// v1's `memory.oom_control` or v2's `memory.events`.
    pub fn oom_killed(&self) -> bool {
        self.dirs.iter().any(|dir| {
            ["memory.oom_control", "memory.events"].iter().any(|file| {
                fs::read_to_string(dir.join(file))
                    .unwrap_or_default()
                    .lines()
                    .any(|line| line.starts_with("oom_kill ") && line.trim_end() != "oom_kill 0")
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemons_probing_at_once_all_find_the_hierarchy() {
        let root = tempfile::tempdir().unwrap();
        for name in ["memory", "pids"] {
            fs::create_dir(root.path().join(name)).unwrap();
        }
        let found: Vec<Option<Flavour>> = std::thread::scope(|scope| {
            let probes: Vec<_> = (0..16)
                .map(|_| {
                    scope.spawn(|| (0..50).map(|_| detect_at(root.path())).collect::<Vec<_>>())
                })
                .collect();
            probes
                .into_iter()
                .flat_map(|probe| probe.join().unwrap())
                .collect()
        });
        assert!(found.iter().all(|flavour| *flavour == Some(Flavour::V1)));
        assert_eq!(fs::read_dir(root.path().join("memory")).unwrap().count(), 0);
    }

    #[test]
    fn no_hierarchy_means_no_cgroups() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(detect_at(root.path()), None);
    }
}
