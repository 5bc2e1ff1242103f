//! The walls where Linux's are missing, behind the same interface: the
//! helper's side (`enter`), the probe, and cgroups (which only Linux has).
//!
//! - macOS: a Seatbelt profile through `sandbox-exec` (for a run: reads of
//!   the system and the request's folders only, writes to the run's own
//!   folder only, no network but loopback; for a compile: no network, no
//!   writes but its folder, no reads of `/Users` but the toolchain's and
//!   the snippets' folders), plus rlimits. Nothing stops a process from
//!   outliving its run but the kill of its process group.
//! - Other Unix systems: rlimits only.
//! - Windows: a clean environment, and a Job Object that ends whatever the
//!   run started.
//!
//! Each run's page names exactly the walls it had.

use std::path::PathBuf;

use super::{Limits, Probe, Request, Scope, Walls};

/// Where a run starts: its own folder (no system here gives it a root of
/// its own, so this is never used as a path inside one).
pub const RUN_HOME: &str = "/tmp/kiln-run";

/// cgroups are Linux's.
#[derive(Debug)]
pub struct Cgroups;

/// A run's cgroup: none here.
#[derive(Debug)]
pub struct RunCgroup;

impl Cgroups {
    pub fn detect() -> Result<Cgroups, String> {
        Err(format!("no cgroups on {}", std::env::consts::OS))
    }

    pub fn create(&self, _limits: &Limits) -> std::io::Result<RunCgroup> {
        Err(std::io::Error::other("no cgroups here"))
    }
}

impl RunCgroup {
    pub fn paths(&self) -> &[PathBuf] {
        &[]
    }

    pub fn out_of_memory(&self) -> bool {
        false
    }

    pub fn out_of_processes(&self) -> bool {
        false
    }
}

/// Whether this system has a file and network wall (`Request::landlock`
/// asks for it): Seatbelt on macOS.
const SYSTEM_WALL: bool = cfg!(target_os = "macos");

/// The walls this machine allows, tried on a throwaway run of the helper.
pub(super) fn probe() -> Probe {
    let mut missing = Vec::new();
    let walled = SYSTEM_WALL && {
        match super::try_walls(super::Namespaces::None, true) {
            Ok(()) => true,
            Err(why) => {
                missing.push(format!(
                    "no Seatbelt profile ({why}): no file or network wall"
                ));
                false
            }
        }
    };
    if !SYSTEM_WALL {
        missing.push(format!(
            "{} has no file or network wall kiln can raise",
            std::env::consts::OS
        ));
    }
    // On Windows the run is a Job Object, which ends with it whatever it
    // started (`exec` wraps it in one).
    if !cfg!(windows) {
        missing.push(format!(
            "no PID namespace on {}: a process that leaves the run's group may outlive it",
            std::env::consts::OS
        ));
    }
    Probe {
        walls: Walls {
            network: walled,
            files: walled,
            processes: cfg!(windows),
            limits: if cfg!(unix) {
                Scope::Process
            } else {
                Scope::None
            },
            environment: true,
        },
        missing,
        namespaces: super::Namespaces::None,
        landlock: walled,
    }
}

/// Raises the walls `request` asks for and becomes its program; returns
/// only on failure.
pub(super) fn run(request: &Request) -> String {
    let Some((program, args)) = request.command.split_first() else {
        return "no program".to_owned();
    };
    #[cfg(unix)]
    if let Some(limits) = &request.limits
        && let Err(e) = set_limits(limits)
    {
        return format!("the limits failed: {e}");
    }
    #[cfg(target_os = "macos")]
    let mut command = if request.landlock {
        let mut seatbelt = std::process::Command::new("/usr/bin/sandbox-exec");
        seatbelt
            .arg("-p")
            .arg(super::seatbelt::profile(request))
            .arg(program);
        seatbelt
    } else {
        std::process::Command::new(program)
    };
    #[cfg(not(target_os = "macos"))]
    let mut command = std::process::Command::new(program);
    command.args(args).current_dir(&request.workdir);
    become_program(command)
}

/// Replaces this process with `command`.
#[cfg(unix)]
fn become_program(mut command: std::process::Command) -> String {
    use std::os::unix::process::CommandExt;
    format!("cannot start the program: {}", command.exec())
}

/// Runs `command` to its end and leaves with its exit code (Windows has no
/// `exec`).
#[cfg(not(unix))]
fn become_program(mut command: std::process::Command) -> String {
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => format!("cannot start the program: {e}"),
    }
}

/// Per-process limits: file size and CPU time, and address space where
/// the system takes it (macOS does not enforce one; there memory is left
/// unbounded rather than the run refused).
#[cfg(unix)]
fn set_limits(limits: &Limits) -> Result<(), String> {
    super::set_file_and_cpu_limits(limits)?;
    let _ = super::set_rlimit(rustix::process::Resource::As, limits.memory, "memory");
    Ok(())
}
