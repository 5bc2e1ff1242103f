//! A cgroup per run, so that memory and processes are counted for the run
//! as a whole: cgroup v2 where this process's cgroup is delegated to it
//! (as under `systemd-run --user --scope`), the v1 `memory` and `pids`
//! controllers where they are mounted and kiln may write them (as root on
//! a v1 machine).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Limits;

const ROOT: &str = "/sys/fs/cgroup";

/// This build's parent cgroups, one per hierarchy; removed when dropped.
#[derive(Debug)]
pub struct Cgroups {
    v2: bool,
    /// v2: one folder; v1: the `memory` and the `pids` folder.
    parents: Vec<PathBuf>,
    next: AtomicUsize,
}

/// One run's cgroups: everything in them is killed, and they are removed,
/// when dropped.
#[derive(Debug)]
pub struct RunCgroup {
    v2: bool,
    dirs: Vec<PathBuf>,
}

/// The path of this process's cgroup in the hierarchy whose controllers
/// line of `/proc/self/cgroup` is `controllers` (`""` for v2).
fn own_cgroup(controllers: &str) -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, names, path) = (parts.next()?, parts.next()?, parts.next()?);
        let wanted = if controllers.is_empty() {
            names.is_empty()
        } else {
            names.split(',').any(|n| n == controllers)
        };
        wanted.then(|| PathBuf::from(path.trim_start_matches('/')))
    })
}

fn make_parent(base: &Path) -> std::io::Result<PathBuf> {
    remove_stale(base);
    let dir = base.join(format!("kiln-{}", std::process::id()));
    match std::fs::create_dir(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(dir),
    }
}

/// Removes the cgroups of kiln builds that are gone (an interrupted build
/// leaves its folders behind).
fn remove_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("kiln-")) else {
            continue;
        };
        if Path::new("/proc").join(pid).exists() {
            continue;
        }
        if let Ok(runs) = std::fs::read_dir(entry.path()) {
            for run in runs.flatten().filter(|r| r.path().is_dir()) {
                let _ = std::fs::remove_dir(run.path());
            }
        }
        let _ = std::fs::remove_dir(entry.path());
    }
}

impl Cgroups {
    /// The cgroups this machine lets kiln make, or why there are none.
    pub fn detect() -> Result<Cgroups, String> {
        let unified = Path::new(ROOT).join("cgroup.controllers");
        if unified.exists() {
            let base = Path::new(ROOT).join(own_cgroup("").ok_or("no cgroup v2 path")?);
            let enabled =
                std::fs::read_to_string(base.join("cgroup.subtree_control")).unwrap_or_default();
            let has = |c: &str| enabled.split_whitespace().any(|e| e == c);
            if !(has("memory") && has("pids"))
                && std::fs::write(base.join("cgroup.subtree_control"), "+memory +pids").is_err()
            {
                return Err(format!(
                    "the cgroup `{}` does not delegate `memory` and `pids`",
                    base.display()
                ));
            }
            let parent = make_parent(&base).map_err(|e| format!("`{}`: {e}", base.display()))?;
            let _ = std::fs::write(parent.join("cgroup.subtree_control"), "+memory +pids");
            return Ok(Cgroups {
                v2: true,
                parents: vec![parent],
                next: AtomicUsize::new(0),
            });
        }
        let mut parents = Vec::new();
        for controller in ["memory", "pids"] {
            let base = Path::new(ROOT).join(controller);
            let own = own_cgroup(controller)
                .ok_or_else(|| format!("no `{controller}` cgroup controller"))?;
            let base = base.join(own);
            let parent = make_parent(&base).map_err(|e| {
                format!(
                    "cannot make a `{controller}` cgroup in `{}`: {e}",
                    base.display()
                )
            })?;
            parents.push(parent);
        }
        Ok(Cgroups {
            v2: false,
            parents,
            next: AtomicUsize::new(0),
        })
    }

    /// A run's cgroups with its memory and process limits.
    pub fn create(&self, limits: &Limits) -> std::io::Result<RunCgroup> {
        let name = format!("r{}", self.next.fetch_add(1, Ordering::Relaxed));
        let mut run = RunCgroup {
            v2: self.v2,
            dirs: Vec::new(),
        };
        for parent in &self.parents {
            let dir = parent.join(&name);
            std::fs::create_dir(&dir)?;
            run.dirs.push(dir);
        }
        let set =
            |dir: &Path, file: &str, value: u64| std::fs::write(dir.join(file), value.to_string());
        if self.v2 {
            let dir = &run.dirs[0];
            set(dir, "memory.max", limits.memory)?;
            let _ = set(dir, "memory.swap.max", 0);
            set(dir, "pids.max", limits.processes)?;
        } else {
            set(&run.dirs[0], "memory.limit_in_bytes", limits.memory)?;
            let _ = set(&run.dirs[0], "memory.memsw.limit_in_bytes", limits.memory);
            set(&run.dirs[1], "pids.max", limits.processes)?;
        }
        Ok(run)
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        for parent in &self.parents {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

impl RunCgroup {
    pub fn paths(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Whether the kernel killed a process of the run for its memory.
    pub fn out_of_memory(&self) -> bool {
        let (file, key) = if self.v2 {
            ("memory.events", "oom_kill")
        } else {
            ("memory.oom_control", "oom_kill")
        };
        counter(&self.dirs[0].join(file), key) > 0
    }

    /// Whether the run was refused a process for its limit.
    pub fn out_of_processes(&self) -> bool {
        let dir = self.dirs.last().unwrap_or(&self.dirs[0]);
        counter(&dir.join("pids.events"), "max") > 0
    }
}

fn counter(file: &Path, key: &str) -> u64 {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(key)?.trim().parse().ok())
        .unwrap_or(0)
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        if self.v2 {
            let _ = std::fs::write(self.dirs[0].join("cgroup.kill"), "1");
        }
        for _ in 0..100 {
            let mut alive = false;
            for dir in &self.dirs {
                let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                for pid in procs.lines().filter_map(|p| p.trim().parse::<i32>().ok()) {
                    alive = true;
                    // SAFETY: SIGKILL to a process of this run's cgroup.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            if !alive {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        for dir in &self.dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }
}
