//! The snippet sandbox: the walls around untrusted code, raised without
//! Docker on a plain Linux machine, for its runs and for its compiles
//! alike (rustc evaluates `include_str!`, `option_env!` and proc macros).
//!
//! kiln starts each run and each compile through a small helper binary
//! (`kiln-sandbox`, or `kiln run-sandboxed` where it is missing): a fresh,
//! single-threaded process that raises the walls and then becomes the
//! program (see [`enter`]). The walls:
//! - **environment**: emptied but for an allowlist;
//! - **network**: a network namespace with only its own loopback, brought
//!   up, so a snippet's own server and client work and nothing else is
//!   reachable, the builder's 127.0.0.1 and abstract sockets included;
//! - **files**: a root of its own in a mount namespace: the system
//!   read-only, a private `/tmp` of the run's disk size, the snippets
//!   folder read-only, and nothing else of the host (its home, the site,
//!   the cache, `/run` and every host socket); Landlock on top, or alone
//!   where namespaces are missing;
//! - **processes**: a PID namespace whose init ends with the program, so
//!   nothing a snippet starts outlives its run;
//! - **limits**: memory and processes per run in a cgroup of its own
//!   (cgroup v2 where delegated, v1 where kiln may write it), per process
//!   (rlimits) elsewhere; disk by the size of its `/tmp`; CPU time.
//!
//! A root builder's code never runs as root: in a user namespace it is
//! nobody outside (its compile keeps root's files, but sees only the
//! toolchain and its own folders); without one it becomes nobody. No
//! capability survives into the program. [`plan`] probes once per build
//! which walls this machine allows, and pages name exactly those.

#[cfg(target_os = "linux")]
mod cgroup;
#[cfg(target_os = "linux")]
mod enter;
mod helper;
#[cfg(not(target_os = "linux"))]
mod portable;
#[cfg(target_os = "linux")]
mod root;
#[cfg(any(target_os = "macos", test))]
mod seatbelt;
#[cfg(not(target_os = "linux"))]
use portable as cgroup;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{SandboxMode, SnippetConfig};

pub use cgroup::RunCgroup;
pub use helper::enter;
#[cfg(unix)]
use helper::{set_file_and_cpu_limits, set_rlimit};
#[cfg(not(target_os = "linux"))]
pub use portable::RUN_HOME;
#[cfg(target_os = "linux")]
pub use root::RUN_HOME;

/// The name of the hidden command that raises the walls.
pub const COMMAND: &str = "run-sandboxed";

/// How the helper starts its message when a wall fails (and it exits with
/// [`SANDBOX_FAILED`]).
pub const FAILURE_PREFIX: &str = "kiln: sandbox: ";

/// The exit code of the helper when a wall could not be raised.
pub const SANDBOX_FAILED: i32 = 125;

/// Tests only: `KILN_SANDBOX_DENY=namespaces` makes every namespace fail
/// as on a machine that forbids them.
const DENY_VARIABLE: &str = "KILN_SANDBOX_DENY";

/// The user a root builder's snippets run as: nobody.
#[cfg(unix)]
const NOBODY: u32 = 65534;

/// Gives `path` to nobody, who a root builder's runs are, so that a run
/// may write its own folder.
#[cfg(unix)]
pub fn give_to_nobody(path: &Path) -> std::io::Result<()> {
    let nobody = Some(rustix::process::Uid::from_raw(NOBODY));
    let group = Some(rustix::process::Gid::from_raw(NOBODY));
    rustix::fs::chown(path, nobody, group).map_err(std::io::Error::from)
}

/// Windows has no `nobody`: a run is the builder.
#[cfg(not(unix))]
pub fn give_to_nobody(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Whether kiln runs as root (whose snippets run as nobody).
pub fn is_root() -> bool {
    #[cfg(unix)]
    return rustix::process::geteuid().is_root();
    #[cfg(not(unix))]
    return false;
}

/// What the walls are around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Profile {
    /// A snippet's run.
    Run,
    /// rustc compiling snippets.
    Compile,
}

/// Which namespaces the helper makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Namespaces {
    None,
    /// Mount, PID and network namespaces without a user namespace: root
    /// may make them where user namespaces are forbidden.
    WithoutUser,
    /// User, mount, PID and network namespaces.
    Full,
}

/// What the helper is asked to do: the walls and the program.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub profile: Profile,
    pub namespaces: Namespaces,
    pub no_network: bool,
    /// The file wall: Landlock on Linux; on macOS, Seatbelt, which walls
    /// the network in too.
    pub landlock: bool,
    pub limits: Option<Limits>,
    /// Memory and processes are bounded by `cgroups`, not per process.
    pub per_run: bool,
    pub cgroups: Vec<PathBuf>,
    /// Folders (or files) readable at their own paths.
    pub read: Vec<PathBuf>,
    /// Folders writable at their own paths.
    pub write: Vec<PathBuf>,
    pub workdir: PathBuf,
    /// The size of the private `/tmp`, in bytes.
    pub tmp_size: u64,
    pub command: Vec<OsString>,
}

/// How far limits reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    #[default]
    None,
    /// Each process on its own (rlimits).
    Process,
    /// The whole run together (a cgroup).
    Run,
}

/// Which walls a run had; stored with the run and shown on the page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Walls {
    /// No network but its own loopback.
    pub network: bool,
    /// The host's files (and sockets) out of reach.
    pub files: bool,
    /// Nothing it starts outlives it.
    pub processes: bool,
    /// Memory, processes, disk and CPU time bounded.
    pub limits: Scope,
    /// The environment emptied but for an allowlist.
    pub environment: bool,
}

impl Walls {
    /// Every wall.
    pub fn all() -> Walls {
        Walls {
            network: true,
            files: true,
            processes: true,
            limits: Scope::Run,
            environment: true,
        }
    }

    /// `no network, own files only, …` for readers.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.network {
            parts.push("no network");
        }
        if self.files {
            parts.push("own files only");
        }
        if self.processes {
            parts.push("nothing outlives it");
        }
        match self.limits {
            Scope::Run => parts.push("limits per run"),
            Scope::Process => parts.push("limits per process"),
            Scope::None => {}
        }
        if self.environment {
            parts.push("clean environment");
        }
        if !self.files && !parts.is_empty() {
            parts.push("but the builder's rights to files");
        }
        parts.join(", ")
    }
}

/// The bounds of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limits {
    /// Memory, in bytes.
    pub memory: u64,
    /// Processes and threads.
    pub processes: u64,
    /// All the files it writes together, in bytes.
    pub disk: u64,
    /// CPU seconds.
    pub cpu_seconds: u64,
}

/// The command that raises the walls: the small `kiln-sandbox` binary
/// beside kiln's own, or kiln itself as `kiln run-sandboxed`.
fn helper() -> std::io::Result<(PathBuf, Vec<OsString>)> {
    let exe = std::env::current_exe()?;
    let small = exe.with_file_name("kiln-sandbox");
    Ok(if small.is_file() {
        (small, Vec::new())
    } else {
        (exe, vec![COMMAND.into()])
    })
}

/// The command that carries out `request` with exactly the variables
/// `env`.
pub fn command(
    request: &Request,
    env: &[(String, OsString)],
) -> std::io::Result<std::process::Command> {
    let (program, first) = helper()?;
    let mut command = std::process::Command::new(program);
    command
        .args(first)
        .arg("--request")
        .arg(serde_json::to_string(request).map_err(std::io::Error::other)?)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)));
    Ok(command)
}

/// How this build's compiles and runs are walled in: decided once, before
/// the first compile.
#[derive(Debug)]
pub struct Plan {
    /// The walls every run gets (`None`: sandbox off).
    pub walls: Option<Walls>,
    /// The variables snippets see.
    pub env: Vec<(String, OsString)>,
    /// The names of `snippets.env` that were set, for the page.
    pub saw: Vec<String>,
    pub cpu_seconds: u64,
    namespaces: Namespaces,
    landlock: bool,
    cgroups: Option<cgroup::Cgroups>,
    /// The snippets folder, readable by runs and compiles.
    snippets: Option<PathBuf>,
}

/// The variables every sandboxed snippet sees, when the builder has them.
fn always_passed(name: &str) -> bool {
    matches!(name, "PATH" | "LANG" | "TZ" | "SOURCE_DATE_EPOCH") || name.starts_with("LC_")
}

/// Decides the walls: probes the machine (unless the sandbox is off), and
/// under `required` refuses when a wall cannot stand. Under `best-effort`
/// it says once which walls are down and what that means.
pub fn plan(config: &SnippetConfig, root: &Path) -> Result<Plan, String> {
    // Readable by compiles and runs, unless it leads outside the site.
    let snippets = std::path::absolute(root.join(super::SNIPPET_DIR))
        .ok()
        .filter(|p| p.is_dir() && crate::boundary::Boundary::new(root).contains(p));
    let mut plan = Plan {
        walls: None,
        env: Vec::new(),
        saw: Vec::new(),
        cpu_seconds: config.cpu_time.as_secs().max(1),
        namespaces: Namespaces::None,
        landlock: false,
        cgroups: None,
        snippets,
    };
    // Run folders an interrupted build left behind.
    for prefix in ["kiln-run-", "kiln-probe-"] {
        crate::output::remove_leftovers(&std::env::temp_dir(), prefix);
    }
    if config.sandbox == SandboxMode::Off {
        return Ok(plan);
    }
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let listed = config.env.iter().any(|n| n == name);
        if always_passed(name) || listed {
            plan.env.push((name.to_owned(), value));
        }
        if listed {
            plan.saw.push(name.to_owned());
        }
    }
    plan.env.sort();
    plan.saw.sort();
    #[cfg(not(target_os = "linux"))]
    use portable::probe;
    let (probe, cgroups) = rayon::join(probe, cgroup::Cgroups::detect);
    let mut missing = probe.missing;
    let mut walls = probe.walls;
    match cgroups {
        Ok(cgroups) => {
            walls.limits = Scope::Run;
            plan.cgroups = Some(cgroups);
        }
        // Windows has no per-process limits to fall back on either.
        Err(why) if walls.limits == Scope::None => missing.push(format!("no limits ({why})")),
        Err(why) => missing.push(format!("limits per process only ({why})")),
    }
    if !missing.is_empty() {
        let down = missing.join("; ");
        if config.sandbox == SandboxMode::Required {
            return Err(format!(
                "`snippets.sandbox` is `required`, but {down}; run where unprivileged namespaces, Landlock and cgroups are allowed, or set `snippets.sandbox = \"best-effort\"`"
            ));
        }
        eprintln!("sandbox: {down}; walls up: {}", walls.describe());
    }
    plan.namespaces = probe.namespaces;
    plan.landlock = probe.landlock;
    plan.walls = Some(walls);
    Ok(plan)
}

impl Plan {
    /// A run's request: `program` inside `walls`, in `folder` where the
    /// run has no root of its own.
    pub fn run_request(
        &self,
        walls: &Walls,
        limits: Limits,
        program: &super::exec::Program,
        folder: &Path,
        cgroup: Option<&RunCgroup>,
    ) -> Request {
        let isolated = self.namespaces != Namespaces::None;
        let mut read = program.read.clone();
        read.extend(self.snippets.clone());
        // A path inside another one is readable with it (and a folder
        // bound read-only can take no mount inside it).
        read.sort();
        read.dedup();
        let outer = read.clone();
        read.retain(|path| !outer.iter().any(|o| o != path && path.starts_with(o)));
        Request {
            profile: Profile::Run,
            namespaces: self.namespaces,
            no_network: walls.network,
            landlock: self.landlock,
            limits: Some(limits),
            per_run: cgroup.is_some(),
            cgroups: cgroup.map(|c| c.paths().to_vec()).unwrap_or_default(),
            read,
            write: if isolated {
                Vec::new()
            } else {
                vec![folder.to_owned()]
            },
            workdir: self.home(folder),
            tmp_size: limits.disk,
            command: std::iter::once(program.path.clone().into_os_string())
                .chain(program.args.iter().cloned())
                .collect(),
        }
    }

    /// The folder a run starts in and calls home.
    pub fn home(&self, folder: &Path) -> PathBuf {
        if self.namespaces == Namespaces::None {
            folder.to_owned()
        } else {
            PathBuf::from(RUN_HOME)
        }
    }

    /// Where temporary files go: the private `/tmp`, or without a root of
    /// its own, `folder` (the only place it may write).
    pub fn tmp_dir(&self, folder: &Path) -> PathBuf {
        if self.namespaces == Namespaces::None {
            folder.to_owned()
        } else {
            PathBuf::from("/tmp")
        }
    }

    /// A per-run cgroup with `limits`, where this machine has them.
    pub fn cgroup(&self, limits: &Limits) -> Option<std::io::Result<RunCgroup>> {
        self.cgroups.as_ref().map(|c| c.create(limits))
    }

    /// A compile's request: `command` in `work` (writable), with the
    /// toolchain and `read` readable, and nothing else of the host.
    pub fn compile_request(
        &self,
        command: Vec<OsString>,
        work: &Path,
        read: &[PathBuf],
    ) -> Request {
        let mut readable = read.to_vec();
        readable.extend(self.snippets.clone());
        Request {
            profile: Profile::Compile,
            namespaces: self.namespaces,
            no_network: self.namespaces != Namespaces::None,
            landlock: self.landlock,
            limits: None,
            per_run: false,
            cgroups: Vec::new(),
            read: readable,
            write: vec![work.to_owned()],
            workdir: work.to_owned(),
            tmp_size: 1 << 30,
            command,
        }
    }
}

/// What the probe found: the walls this machine allows, why the others
/// are down, and how runs should ask for them.
#[derive(Debug, Clone)]
struct Probe {
    walls: Walls,
    missing: Vec<String>,
    namespaces: Namespaces,
    /// The file wall: Landlock on Linux, Seatbelt on macOS.
    landlock: bool,
}

/// Tries the walls, strongest first, on a throwaway run of the helper
/// itself (`--probe-inside`): the first that works is this build's.
#[cfg(target_os = "linux")]
fn probe() -> Probe {
    let root = is_root();
    let mut tries = vec![(Namespaces::Full, true), (Namespaces::Full, false)];
    if root {
        tries.extend([
            (Namespaces::WithoutUser, true),
            (Namespaces::WithoutUser, false),
        ]);
    }
    tries.extend([(Namespaces::None, true), (Namespaces::None, false)]);
    let mut errors: Vec<((Namespaces, bool), String)> = Vec::new();
    let reason = |errors: &[((Namespaces, bool), String)], wanted: (Namespaces, bool)| {
        errors
            .iter()
            .find(|(tried, _)| *tried == wanted)
            .map(|(_, why)| why.clone())
            .unwrap_or_default()
    };
    let mut missing = Vec::new();
    for (namespaces, landlock) in tries {
        if let Err(why) = try_walls(namespaces, landlock) {
            errors.push(((namespaces, landlock), why));
            continue;
        }
        let isolated = namespaces != Namespaces::None;
        if !isolated {
            missing.push(format!(
                "no namespaces here ({}): no network wall, no root of its own (host sockets and `/tmp` reachable), and processes may outlive their run",
                reason(&errors, (Namespaces::Full, false))
            ));
            if !landlock {
                missing.push(format!(
                    "no file wall ({})",
                    reason(&errors, (Namespaces::None, true))
                ));
            }
        }
        return Probe {
            walls: Walls {
                network: isolated,
                files: isolated || landlock,
                processes: isolated,
                limits: Scope::Process,
                environment: true,
            },
            missing,
            namespaces,
            landlock,
        };
    }
    missing.push("the sandbox's helper does not start here".to_owned());
    Probe {
        walls: Walls {
            environment: true,
            ..Walls::default()
        },
        missing,
        namespaces: Namespaces::None,
        landlock: false,
    }
}

/// One probe: the helper raises `namespaces` (and Landlock) around itself.
fn try_walls(namespaces: Namespaces, landlock: bool) -> Result<(), String> {
    let (program, _) = helper().map_err(|e| format!("cannot find kiln's own binary: {e}"))?;
    let folder = tempfile::Builder::new()
        .prefix(&format!("kiln-probe-{}-", std::process::id()))
        .tempdir()
        .map_err(|e| e.to_string())?;
    if is_root() {
        let _ = give_to_nobody(folder.path());
    }
    let isolated = namespaces != Namespaces::None;
    let mut command: Vec<OsString> = vec![program.clone().into()];
    if !program.ends_with("kiln-sandbox") {
        command.push(COMMAND.into());
    }
    command.push("--probe-inside".into());
    let request = Request {
        profile: Profile::Run,
        namespaces,
        no_network: isolated,
        landlock,
        limits: None,
        per_run: false,
        cgroups: Vec::new(),
        read: vec![program],
        write: if isolated {
            Vec::new()
        } else {
            vec![folder.path().to_owned()]
        },
        workdir: if isolated {
            PathBuf::from(RUN_HOME)
        } else {
            folder.path().to_owned()
        },
        tmp_size: 1 << 20,
        command,
    };
    let env: Vec<(String, OsString)> = std::env::var_os(DENY_VARIABLE)
        .map(|v| (DENY_VARIABLE.to_owned(), v))
        .into_iter()
        .collect();
    let output = self::command(&request, &env)
        .and_then(|mut c| c.stdin(std::process::Stdio::null()).output())
        .map_err(|e| format!("cannot start the sandbox's helper: {e}"))?;
    if output.status.success() && output.stdout.starts_with(b"{") {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(stderr.trim().trim_start_matches(FAILURE_PREFIX).to_owned())
}

/// What of the sandbox's settings changes a run, for snippet keys: the
/// mode, the bounds, and the passed variables with their values.
#[derive(Debug, Serialize)]
pub struct SandboxKey {
    mode: SandboxMode,
    disk: u64,
    cpu_seconds: u64,
    /// Each passed variable's name and value (as bytes; `None` unset).
    env: Vec<(String, Option<Vec<u8>>)>,
}

impl SandboxKey {
    pub fn of(config: &SnippetConfig) -> SandboxKey {
        let mut env: Vec<(String, Option<Vec<u8>>)> = config
            .env
            .iter()
            .map(|name| {
                let value = std::env::var_os(name).map(|v| v.into_encoded_bytes());
                (name.clone(), value)
            })
            .collect();
        env.sort();
        SandboxKey {
            mode: config.sandbox,
            disk: config.disk,
            cpu_seconds: config.cpu_time.as_secs(),
            env,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walls_describe_themselves() {
        assert_eq!(
            Walls::all().describe(),
            "no network, own files only, nothing outlives it, limits per run, clean environment"
        );
        let some = Walls {
            files: true,
            limits: Scope::Process,
            environment: true,
            ..Walls::default()
        };
        assert_eq!(
            some.describe(),
            "own files only, limits per process, clean environment"
        );
        let bare = Walls {
            limits: Scope::Process,
            environment: true,
            ..Walls::default()
        };
        assert_eq!(
            bare.describe(),
            "limits per process, clean environment, but the builder's rights to files"
        );
    }
}
