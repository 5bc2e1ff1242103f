//! The snippet sandbox: the walls around an untrusted snippet's run,
//! raised without Docker on a plain Linux machine.
//!
//! kiln starts each run through itself (`kiln run-sandboxed … -- BINARY`):
//! a fresh, single-threaded process that raises the walls and then
//! `exec`s the snippet, so nothing is done between `fork` and `exec` of
//! the multi-threaded build. The walls:
//! - **environment**: emptied but for an allowlist (set by the caller);
//! - **network**: a new network namespace (inside a new user namespace
//!   where the kernel allows it) with only its own loopback, brought up,
//!   so a snippet's own server and client work and nothing else is
//!   reachable, the builder's 127.0.0.1 included;
//! - **files**: Landlock: the system read-only, the snippet's folder
//!   writable, nothing else (the builder's home, the site, the cache);
//! - **limits**: address space, processes (per user namespace), file size
//!   and CPU time.
//!
//! [`probe`] finds out once per build which walls this machine allows.

use std::ffi::{CString, OsString};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::exec::Sandboxed;
use crate::config::{SandboxMode, SnippetConfig};

/// Which walls a run had; stored with the run and shown on the page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Walls {
    /// No network but its own loopback.
    pub network: bool,
    /// Files outside its folder out of reach (Landlock).
    pub files: bool,
    /// Memory, processes, file size and CPU time bounded.
    pub limits: bool,
    /// The environment emptied but for an allowlist.
    pub environment: bool,
}

impl Walls {
    /// Every wall.
    pub fn all() -> Walls {
        Walls {
            network: true,
            files: true,
            limits: true,
            environment: true,
        }
    }

    /// `no network, own folder, limits` for readers.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.network {
            parts.push("no network");
        }
        if self.files {
            parts.push("own folder only");
        }
        if self.limits {
            parts.push("bounded memory and processes");
        }
        if self.environment {
            parts.push("clean environment");
        }
        parts.join(", ")
    }
}

/// The bounds of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limits {
    /// Address space, in bytes.
    pub memory: u64,
    /// Processes and threads.
    pub processes: u64,
    /// The largest file it may write, in bytes.
    pub file_size: u64,
    /// CPU seconds.
    pub cpu_seconds: u64,
}

/// The name of the hidden command that raises the walls.
pub const COMMAND: &str = "run-sandboxed";

/// How `kiln run-sandboxed` starts its message when a wall fails (and it
/// exits with [`super::exec::SANDBOX_FAILED`]).
pub const FAILURE_PREFIX: &str = "kiln: sandbox: ";

/// Tests only: `KILN_SANDBOX_DENY=namespaces` makes the namespace wall
/// fail as on a machine that forbids unprivileged namespaces.
const DENY_VARIABLE: &str = "KILN_SANDBOX_DENY";

/// What the probe found: the walls this machine allows, and why the
/// others are down.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub walls: Walls,
    pub missing: Vec<String>,
}

/// The command that raises the walls: the small `kiln-sandbox` binary
/// beside kiln's own, or kiln itself as `kiln run-sandboxed`.
pub fn helper() -> std::io::Result<std::process::Command> {
    let exe = std::env::current_exe()?;
    let small = exe.with_file_name("kiln-sandbox");
    Ok(if small.is_file() {
        std::process::Command::new(small)
    } else {
        let mut command = std::process::Command::new(exe);
        command.arg(COMMAND);
        command
    })
}

/// The command that runs `binary` (with `arg`) in `folder` inside the
/// walls of `sandboxed`: the helper, an environment of the allowed
/// variables only, `HOME` the folder. A root builder's snippet runs as
/// nobody, so the folder is given to nobody.
pub fn command(
    sandboxed: &Sandboxed<'_>,
    folder: &Path,
    binary: &Path,
    arg: Option<&str>,
) -> std::io::Result<std::process::Command> {
    let mut command = helper()?;
    if rustix::process::geteuid().is_root() {
        let nobody = Some(rustix::process::Uid::from_raw(NOBODY));
        let group = Some(rustix::process::Gid::from_raw(NOBODY));
        let _ = rustix::fs::chown(folder, nobody, group);
    }
    command
        .args(wrapper_args(
            sandboxed.walls,
            &sandboxed.limits,
            folder,
            binary,
            arg,
        ))
        .env_clear()
        .envs(sandboxed.env.iter().map(|(k, v)| (k, v)))
        .env("HOME", folder);
    Ok(command)
}

/// Runs the probe in a child of kiln's own (`kiln-sandbox --probe`),
/// which tries every wall on itself and reports.
pub fn probe() -> Probe {
    let fallback = |why: String| Probe {
        walls: Walls {
            environment: true,
            ..Walls::default()
        },
        missing: vec![why],
    };
    let mut command = match helper() {
        Ok(command) => command,
        Err(e) => return fallback(format!("cannot find kiln's own binary: {e}")),
    };
    let output = command
        .arg("--probe")
        .stdin(std::process::Stdio::null())
        .output();
    match output {
        Ok(output) if output.status.success() => serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| fallback(format!("the probe's answer was unreadable: {e}"))),
        Ok(output) => fallback(format!(
            "the probe failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(e) => fallback(format!("cannot start the probe: {e}")),
    }
}

/// How this build's runs are walled in: decided once, before the first
/// run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The walls every run gets (`None`: sandbox off).
    pub walls: Option<Walls>,
    /// The variables snippets see.
    pub env: Vec<(String, OsString)>,
    /// The names of `snippets.env` that were set, for the page.
    pub saw: Vec<String>,
    pub file_size: u64,
    pub cpu_seconds: u64,
}

/// The variables every sandboxed snippet sees, when the builder has them.
fn always_passed(name: &str) -> bool {
    matches!(name, "PATH" | "LANG" | "TZ") || name.starts_with("LC_")
}

/// Decides the walls: probes the machine (unless the sandbox is off),
/// and under `required` refuses when a wall cannot stand. Under
/// `best-effort` it says once which walls are down.
pub fn plan(config: &SnippetConfig) -> Result<Plan, String> {
    let mut plan = Plan {
        walls: None,
        env: Vec::new(),
        saw: Vec::new(),
        file_size: config.file_size,
        cpu_seconds: config.cpu_time.as_secs().max(1),
    };
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
    let probe = probe();
    if !probe.missing.is_empty() {
        let down = probe.missing.join("; ");
        if config.sandbox == SandboxMode::Required {
            return Err(format!(
                "`snippets.sandbox` is `required`, but {down}; run where unprivileged namespaces and Landlock are allowed, or set `snippets.sandbox = \"best-effort\"`"
            ));
        }
        let up = probe.walls.describe();
        eprintln!("sandbox: {down}; walls up: {up}");
    }
    plan.walls = Some(probe.walls);
    Ok(plan)
}

/// What of the sandbox's settings changes a run, for snippet keys: the
/// mode, the bounds, and the passed variables with their values.
pub fn fingerprint(config: &SnippetConfig) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(
        format!(
            "{:?}|{}|{}",
            config.sandbox,
            config.file_size,
            config.cpu_time.as_secs()
        )
        .as_bytes(),
    );
    let mut names = config.env.clone();
    names.sort();
    for name in names {
        hasher.update(name.as_bytes()).update(b"=");
        if let Some(value) = std::env::var_os(&name) {
            hasher.update(value.as_encoded_bytes());
        }
        hasher.update(b"\0");
    }
    hasher.finalize().to_hex().to_string()
}

/// The arguments of the helper for one run: the walls to raise (each must
/// go up, or the run fails), then `--` and the command.
pub fn wrapper_args(
    walls: &Walls,
    limits: &Limits,
    folder: &Path,
    binary: &Path,
    arg: Option<&str>,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    if walls.network {
        args.push("--no-network".into());
    }
    if walls.files {
        args.push("--confine".into());
        args.push(folder.into());
    }
    if walls.limits {
        args.push("--limits".into());
        args.push(
            format!(
                "{},{},{},{}",
                limits.memory, limits.processes, limits.file_size, limits.cpu_seconds
            )
            .into(),
        );
    }
    args.push("--".into());
    args.push(binary.into());
    args.extend(arg.map(OsString::from));
    args
}

/// `kiln run-sandboxed ARGS`: raises the walls the arguments ask for and
/// `exec`s the command, or with `--probe` reports which walls it could
/// raise. Returns only on failure, with the message.
pub fn enter(args: &[OsString]) -> String {
    let mut args = args.iter();
    let mut no_network = false;
    let mut confine: Option<PathBuf> = None;
    let mut limits: Option<Limits> = None;
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--probe") => {
                let probe = probe_here();
                return match serde_json::to_string(&probe) {
                    Ok(json) => {
                        println!("{json}");
                        std::process::exit(0);
                    }
                    Err(e) => e.to_string(),
                };
            }
            Some("--no-network") => no_network = true,
            Some("--confine") => confine = args.next().map(PathBuf::from),
            Some("--limits") => {
                limits = args.next().and_then(|a| parse_limits(a.to_str()?));
                if limits.is_none() {
                    return "`--limits` wants MEMORY,PROCESSES,FILE_SIZE,CPU_SECONDS".to_owned();
                }
            }
            Some("--") => break,
            _ => return format!("unknown argument `{}`", arg.to_string_lossy()),
        }
    }
    let command: Vec<&OsString> = args.collect();
    let Some(program) = command.first() else {
        return "no command to run after `--`".to_owned();
    };
    let own_user_namespace = match isolate(no_network) {
        Ok(made) => made,
        Err(e) if no_network => return format!("the network wall failed: {e}"),
        // Without the network wall the namespace only helps the limits.
        Err(_) => false,
    };
    if let Some(limits) = &limits
        && let Err(e) = set_limits(limits, own_user_namespace)
    {
        return format!("the limits failed: {e}");
    }
    if let Some(folder) = &confine
        && let Err(e) = confine_files(folder, Path::new(program))
    {
        return format!("the file wall failed: {e}");
    }
    let error = exec(&command);
    format!("cannot run `{}`: {error}", program.to_string_lossy())
}

fn parse_limits(text: &str) -> Option<Limits> {
    let mut parts = text.split(',').map(|p| p.parse::<u64>().ok());
    Some(Limits {
        memory: parts.next()??,
        processes: parts.next()??,
        file_size: parts.next()??,
        cpu_seconds: parts.next()??,
    })
}

/// Tries every wall on this (throwaway) process.
fn probe_here() -> Probe {
    let mut probe = Probe::default();
    probe.walls.environment = true;
    let own_user_namespace = match isolate(true) {
        Ok(made) => {
            probe.walls.network = true;
            made
        }
        Err(e) => {
            probe
                .missing
                .push(format!("no network namespace here ({e})"));
            false
        }
    };
    // Setting each limit to what it is now proves they can be set.
    let current = |resource| {
        rustix::process::getrlimit(resource)
            .current
            .unwrap_or(u64::MAX)
    };
    use rustix::process::Resource;
    let limits = Limits {
        memory: current(Resource::As),
        processes: current(Resource::Nproc),
        file_size: current(Resource::Fsize),
        cpu_seconds: current(Resource::Cpu),
    };
    match set_limits(&limits, own_user_namespace) {
        Ok(()) => {
            probe.walls.limits = true;
            if !own_user_namespace {
                probe
                    .missing
                    .push("no process limit (it needs a user namespace)".to_owned());
            }
        }
        Err(e) => probe.missing.push(format!("no limits ({e})")),
    }
    let here = std::env::temp_dir();
    match confine_files(&here, &here) {
        Ok(()) => probe.walls.files = true,
        Err(e) => probe.missing.push(format!("no file wall ({e})")),
    }
    probe
}

/// The user a root builder's snippets run as: nobody.
const NOBODY: u32 = 65534;

/// Enters a new user namespace (and, with `network_wall`, a new network
/// namespace with its loopback up). In its own user namespace a run's
/// processes are counted apart, so the process limit holds. Returns
/// whether the user namespace was made: root may get the network wall
/// without one.
///
/// A root builder's snippet becomes `nobody` outside the namespace (root
/// is exempt from the process limit, and should not run untrusted code).
/// Only a process outside the namespace may map root to another user, so
/// here this process forks: the child enters the namespaces, the parent
/// writes its maps, waits for it, and ends as it ends.
fn isolate(network_wall: bool) -> Result<bool, String> {
    if std::env::var(DENY_VARIABLE).as_deref() == Ok("namespaces") {
        return Err(format!("denied by `{DENY_VARIABLE}`"));
    }
    let (uid, gid) = (
        rustix::process::getuid().as_raw(),
        rustix::process::getgid().as_raw(),
    );
    let flags = libc::CLONE_NEWUSER | if network_wall { libc::CLONE_NEWNET } else { 0 };
    let user_ns = if uid == 0 {
        enter_as_nobody(flags)?
    } else {
        // SAFETY: unshare changes only this single-threaded process.
        let entered = unsafe { libc::unshare(flags) } == 0;
        if entered {
            write_maps("self", &format!("{uid} {uid} 1"), &format!("{gid} {gid} 1"))?;
        }
        entered
    };
    if !user_ns && network_wall {
        // SAFETY: as above.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return Err(format!("unshare: {}", std::io::Error::last_os_error()));
        }
    }
    if network_wall {
        loopback_up()?;
    }
    Ok(user_ns)
}

/// `setgroups`, `uid_map` and `gid_map` of the process `pid` (or `self`).
fn write_maps(pid: &str, uid_map: &str, gid_map: &str) -> Result<(), String> {
    let write = |file: &str, text: &str| {
        std::fs::write(format!("/proc/{pid}/{file}"), text).map_err(|e| format!("{file}: {e}"))
    };
    write("setgroups", "deny")?;
    write("uid_map", uid_map)?;
    write("gid_map", gid_map)
}

/// Root's way into a user namespace as nobody (see [`isolate`]): returns
/// in the child, inside; the parent never returns.
fn enter_as_nobody(flags: libc::c_int) -> Result<bool, String> {
    let os_error = || std::io::Error::last_os_error().to_string();
    let mut ready = [0 as libc::c_int; 2];
    let mut mapped = [0 as libc::c_int; 2];
    // SAFETY: pipe fills the two-element arrays.
    if unsafe { libc::pipe(ready.as_mut_ptr()) != 0 || libc::pipe(mapped.as_mut_ptr()) != 0 } {
        return Err(format!("pipe: {}", os_error()));
    }
    // SAFETY: this process is single-threaded, so the child may do anything.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(format!("fork: {}", os_error()));
    }
    if child == 0 {
        // SAFETY: unshare, then a one-byte handshake over the pipes.
        let entered = unsafe { libc::unshare(flags) } == 0;
        let mut byte = [u8::from(entered)];
        unsafe {
            libc::write(ready[1], byte.as_ptr().cast(), 1);
            libc::read(mapped[0], byte.as_mut_ptr().cast(), 1);
        }
        if !entered {
            return Ok(false);
        }
        if byte[0] != 1 {
            return Err("the parent could not map the user namespace".to_owned());
        }
        // Take on the mapped ids: root inside, nobody outside.
        // SAFETY: plain id changes of this single-threaded process.
        let changed = unsafe { libc::setresgid(0, 0, 0) == 0 && libc::setresuid(0, 0, 0) == 0 };
        return if changed {
            Ok(true)
        } else {
            Err(format!("becoming nobody: {}", os_error()))
        };
    }
    let mut byte = [0u8];
    // SAFETY: a one-byte read from the child's pipe.
    unsafe { libc::read(ready[0], byte.as_mut_ptr().cast(), 1) };
    let mapped_ok = byte[0] == 1
        && write_maps(
            &child.to_string(),
            &format!("0 {NOBODY} 1"),
            &format!("0 {NOBODY} 1"),
        )
        .is_ok();
    let answer = [u8::from(mapped_ok)];
    // SAFETY: a one-byte write to the child's pipe, then waiting for it.
    unsafe { libc::write(mapped[1], answer.as_ptr().cast(), 1) };
    let mut status = 0;
    while unsafe { libc::waitpid(child, &mut status, 0) } < 0
        && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
    {}
    // End as the child ended, so that kiln sees its exit or its signal.
    if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        // SAFETY: restore the default action and send the signal to self.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::kill(libc::getpid(), signal);
        }
    }
    std::process::exit(libc::WEXITSTATUS(status))
}

/// Brings `lo` of the current network namespace up.
fn loopback_up() -> Result<(), String> {
    // SAFETY: plain socket and ioctl calls on a zeroed, correctly sized
    // `ifreq` whose name is NUL-terminated.
    unsafe {
        let socket = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if socket < 0 {
            return Err(format!("socket: {}", std::io::Error::last_os_error()));
        }
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        let mut result = libc::ioctl(socket, libc::SIOCGIFFLAGS, &mut request);
        if result == 0 {
            request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            result = libc::ioctl(socket, libc::SIOCSIFFLAGS, &request);
        }
        let error = std::io::Error::last_os_error();
        libc::close(socket);
        if result != 0 {
            return Err(format!("bringing up the loopback: {error}"));
        }
    }
    Ok(())
}

/// Sets the resource limits. The process limit counts per user, so it is
/// set only inside a new user namespace (`own_user_namespace`), where it
/// counts this run's processes alone.
fn set_limits(limits: &Limits, own_user_namespace: bool) -> Result<(), String> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let set = |resource: Resource, value: u64, name: &str| {
        setrlimit(
            resource,
            Rlimit {
                current: Some(value),
                maximum: Some(value),
            },
        )
        .map_err(|e| format!("{name}: {e}"))
    };
    set(Resource::As, limits.memory, "memory")?;
    set(Resource::Fsize, limits.file_size, "file size")?;
    set(Resource::Cpu, limits.cpu_seconds, "CPU time")?;
    if own_user_namespace {
        set(Resource::Nproc, limits.processes, "processes")?;
    }
    Ok(())
}

/// Landlock: the system read-only (and runnable), `folder` and the
/// snippet's binary usable, nothing else.
fn confine_files(folder: &Path, binary: &Path) -> Result<(), String> {
    use landlock::{
        ABI, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr, RulesetCreatedAttr,
        RulesetStatus, path_beneath_rules,
    };
    let abi = ABI::V1;
    let system = [
        "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc", "/opt", "/proc", "/sys",
        "/dev",
    ];
    let devices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/tty"];
    let binary_dir = binary.parent().unwrap_or(binary);
    let status = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(system, AccessFs::from_read(abi))))
        .and_then(|r| r.add_rules(path_beneath_rules(devices, AccessFs::from_all(abi))))
        .and_then(|r| r.add_rules(path_beneath_rules([binary_dir], AccessFs::from_read(abi))))
        .and_then(|r| r.add_rules(path_beneath_rules([folder], AccessFs::from_all(abi))))
        .and_then(|r| r.restrict_self())
        .map_err(|e| e.to_string())?;
    match status.ruleset {
        RulesetStatus::FullyEnforced => Ok(()),
        other => Err(format!("Landlock is not enforced here ({other:?})")),
    }
}

/// Replaces this process with `command`; returns only on failure.
fn exec(command: &[&OsString]) -> std::io::Error {
    use std::os::unix::ffi::OsStrExt;
    let args: Result<Vec<CString>, _> =
        command.iter().map(|a| CString::new(a.as_bytes())).collect();
    let Ok(args) = args else {
        return std::io::Error::other("an argument holds a NUL byte");
    };
    let mut pointers: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    pointers.push(std::ptr::null());
    // SAFETY: NUL-terminated strings in a NULL-terminated array, alive
    // for the call; execv returns only on failure.
    unsafe { libc::execv(pointers[0], pointers.as_ptr()) };
    std::io::Error::last_os_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_round_trip_through_arguments() {
        let limits = Limits {
            memory: 1 << 31,
            processes: 256,
            file_size: 1 << 28,
            cpu_seconds: 60,
        };
        let args = wrapper_args(
            &Walls::all(),
            &limits,
            Path::new("/tmp/x"),
            Path::new("/tmp/b"),
            Some("s1"),
        );
        let text: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            text,
            [
                "--no-network",
                "--confine",
                "/tmp/x",
                "--limits",
                "2147483648,256,268435456,60",
                "--",
                "/tmp/b",
                "s1"
            ]
        );
        assert_eq!(parse_limits(&text[4]), Some(limits));
        assert_eq!(
            Walls::all().describe(),
            "no network, own folder only, bounded memory and processes, clean environment"
        );
    }
}
