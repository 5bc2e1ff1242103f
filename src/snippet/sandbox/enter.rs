//! The helper's side: a fresh, single-threaded process that raises the
//! walls a [`Request`] asks for on itself and then becomes the program.
//!
//! With namespaces, the helper clones a child into new user, mount, PID
//! and network namespaces. That child is the PID namespace's init: it
//! builds a root of its own (the system read-only, a private `/tmp` of the
//! run's size, the few folders the request names), starts the program,
//! reaps, and exits when the program does, at which point the kernel ends
//! every process the program left behind. The helper mirrors the
//! program's end, so kiln sees its exit status or signal.

use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::root::{DEVICES, Result, build_root, cstring, open_sources, os_error, system_paths};
use super::{DENY_VARIABLE, FAILURE_PREFIX, NOBODY, Namespaces, Profile, Request, SANDBOX_FAILED};

/// Raises the walls `request` asks for and becomes its program; returns
/// only on failure.
pub(super) fn run(request: &Request) -> String {
    // SAFETY: asks for SIGKILL when kiln's thread that started us ends.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    // Everything the run starts is counted in its cgroups.
    for dir in &request.cgroups {
        if let Err(e) = std::fs::write(dir.join("cgroup.procs"), "0") {
            return format!("the limits failed: joining `{}`: {e}", dir.display());
        }
    }
    if request.namespaces != Namespaces::None
        && std::env::var(DENY_VARIABLE).as_deref() == Ok("namespaces")
    {
        return format!("namespaces denied by `{DENY_VARIABLE}`");
    }
    match request.namespaces {
        Namespaces::None => become_program(request, Namespaces::None),
        namespaces => spawn_init(request, namespaces),
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| format!("pipe: {e}"))
}

fn write_byte(fd: &OwnedFd, byte: u8) {
    let _ = rustix::io::write(fd, &[byte]);
}

fn read_exact(fd: &OwnedFd, buf: &mut [u8]) -> bool {
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::read(fd, &mut buf[got..]) {
            Ok(0) => return false,
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return false,
        }
    }
    true
}

/// Clones the PID namespace's init, maps its user, waits for it, and ends
/// as the program ended.
fn spawn_init(request: &Request, namespaces: Namespaces) -> String {
    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWPID;
    if namespaces == Namespaces::Full {
        flags |= libc::CLONE_NEWUSER;
    }
    if request.no_network {
        flags |= libc::CLONE_NEWNET;
    }
    let builder_root = rustix::process::getuid().is_root();
    let (Ok((ready_r, ready_w)), Ok((status_r, status_w))) = (pipe(), pipe()) else {
        return "cannot make pipes".to_owned();
    };
    // SAFETY: a fork-like clone (no new stack) of this single-threaded
    // process; the child continues below with its own copy of memory.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    } as libc::pid_t;
    if pid < 0 {
        return os_error("cannot make namespaces");
    }
    if pid == 0 {
        drop((ready_w, status_r));
        let mut byte = [0u8];
        let message = if !read_exact(&ready_r, &mut byte) || byte[0] != 1 {
            "the user namespace could not be mapped".to_owned()
        } else {
            init(request, status_w, (namespaces, builder_root))
        };
        eprint!("{FAILURE_PREFIX}{message}");
        // SAFETY: ends this process at once.
        unsafe { libc::_exit(SANDBOX_FAILED) };
    }
    drop((ready_r, status_w));
    let mapped = match namespaces {
        Namespaces::Full => write_maps(pid, request.profile),
        _ => Ok(()),
    };
    write_byte(&ready_w, u8::from(mapped.is_ok()));
    let status = wait_for(pid);
    if let Err(e) = mapped {
        return e;
    }
    let mut bytes = [0u8; 4];
    let status = if read_exact(&status_r, &mut bytes) {
        i32::from_ne_bytes(bytes)
    } else {
        status
    };
    mirror(status)
}

fn wait_for(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: waiting for our own child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
        && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
    {}
    status
}

/// Ends this process as a wait status says: the same exit code, or the
/// same signal.
fn mirror(status: i32) -> ! {
    if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        // SAFETY: restore the default action and send the signal to self.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::kill(libc::getpid(), signal);
        }
        std::process::exit(128 + signal)
    }
    std::process::exit(libc::WEXITSTATUS(status))
}

/// The child's user and group maps. A root builder's run is nobody
/// outside (root inside, without capabilities once it runs); its compile
/// keeps root, to read a toolchain under `/root`, inside a root of its
/// own that holds nothing else. Anyone else stays who they are.
fn write_maps(pid: libc::pid_t, profile: Profile) -> Result<()> {
    let (uid, gid) = (
        rustix::process::getuid().as_raw(),
        rustix::process::getgid().as_raw(),
    );
    let write = |file: &str, text: &str| {
        std::fs::write(format!("/proc/{pid}/{file}"), text).map_err(|e| format!("{file}: {e}"))
    };
    if uid == 0 {
        let outside = if profile == Profile::Run { NOBODY } else { 0 };
        write("uid_map", &format!("0 {outside} 1"))?;
        write("gid_map", &format!("0 {outside} 1"))
    } else {
        write("setgroups", "deny")?;
        write("uid_map", &format!("{uid} {uid} 1"))?;
        write("gid_map", &format!("{gid} {gid} 1"))
    }
}

/// The PID namespace's init: takes on its ids, raises the network and
/// file walls, starts the program and reaps until it ends.
fn init(
    request: &Request,
    status: OwnedFd,
    (namespaces, builder_root): (Namespaces, bool),
) -> String {
    // SAFETY: as in `run`; the helper is this process's parent.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    // Opened while this process still has the builder's own id: a root
    // builder's run is nobody from the next step on, and nobody may not
    // reach the site's folders by their paths.
    let sources = match open_sources(request) {
        Ok(sources) => sources,
        Err(e) => return format!("the file wall failed: {e}"),
    };
    // A root builder's child takes on the mapped root of its namespace
    // (nobody outside, for a run). It cannot ask `getuid()` whether it is
    // root: its outside id is not mapped inside, and reads as nobody.
    if namespaces == Namespaces::Full && builder_root {
        // SAFETY: plain id changes of this single-threaded process.
        let changed = unsafe {
            libc::setgroups(0, std::ptr::null()) == 0
                && libc::setresgid(0, 0, 0) == 0
                && libc::setresuid(0, 0, 0) == 0
        };
        if !changed {
            return os_error("taking on the mapped user");
        }
    }
    if request.no_network
        && let Err(e) = loopback_up()
    {
        return format!("the network wall failed: {e}");
    }
    if let Err(e) = build_root(request, &sources, (namespaces, builder_root)) {
        return format!("the file wall failed: {e}");
    }
    // SAFETY: fork of this single-threaded process.
    let program = unsafe { libc::fork() };
    if program < 0 {
        return os_error("fork");
    }
    if program == 0 {
        drop(status);
        let message = become_program(request, namespaces);
        eprint!("{FAILURE_PREFIX}{message}");
        // SAFETY: ends this process at once.
        unsafe { libc::_exit(SANDBOX_FAILED) };
    }
    loop {
        let mut wait_status = 0;
        // SAFETY: reaping children, as an init does.
        let pid = unsafe { libc::waitpid(-1, &mut wait_status, 0) };
        if pid == program {
            let _ = rustix::io::write(&status, &wait_status.to_ne_bytes());
            // Our exit ends every process left in the namespace.
            // SAFETY: ends this process at once.
            unsafe { libc::_exit(0) };
        }
        if pid < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            // SAFETY: as above.
            unsafe { libc::_exit(SANDBOX_FAILED) };
        }
    }
}

/// Sets the limits, gives up root and every capability, raises Landlock
/// where asked, and `exec`s the program. Returns only on failure.
fn become_program(request: &Request, namespaces: Namespaces) -> String {
    let isolated = namespaces != Namespaces::None;
    if let Some(limits) = &request.limits
        && let Err(e) = set_limits(limits, request.per_run, namespaces == Namespaces::Full)
    {
        return format!("the limits failed: {e}");
    }
    let root = rustix::process::getuid().is_root();
    let to_nobody = namespaces != Namespaces::Full && root && request.profile == Profile::Run;
    // What nobody may not reach by its path (a site in a private folder)
    // is opened first: the program, and Landlock's folders.
    let program = match request.command.first() {
        Some(path) if to_nobody => match rustix::fs::open(
            path,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        ) {
            Ok(fd) => Some(fd),
            Err(e) => return format!("cannot open `{}`: {e}", path.to_string_lossy()),
        },
        _ => None,
    };
    let rules = match request.landlock.then(|| file_rules(request, isolated)) {
        Some(Ok(rules)) => Some(rules),
        Some(Err(e)) => return format!("the file wall failed: {e}"),
        None => None,
    };
    if to_nobody {
        // No user namespace to map root away: become nobody directly.
        // SAFETY: plain id changes of this single-threaded process.
        let dropped = unsafe {
            libc::setgroups(0, std::ptr::null()) == 0
                && libc::setresgid(NOBODY, NOBODY, NOBODY) == 0
                && libc::setresuid(NOBODY, NOBODY, NOBODY) == 0
        };
        if !dropped {
            return os_error("becoming nobody");
        }
    }
    drop_capabilities();
    if let Some(rules) = rules
        && let Err(e) = confine_files(rules)
    {
        return format!("the file wall failed: {e}");
    }
    // SAFETY: a flag on this process alone.
    unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    if let Err(e) = std::env::set_current_dir(&request.workdir) {
        return format!("cannot enter `{}`: {e}", request.workdir.display());
    }
    let error = exec(&request.command, program.as_ref());
    format!(
        "cannot run `{}`: {error}",
        request
            .command
            .first()
            .map(|p| p.to_string_lossy())
            .unwrap_or_default()
    )
}

/// No capability survives the `exec`, even for a uid 0: root's special
/// treatment is switched off and locked, and the bounding and ambient sets
/// are emptied. Where the process has no capabilities to give up (an
/// ordinary user), the calls fail harmlessly.
fn drop_capabilities() {
    const SECBIT_NOROOT: libc::c_ulong = 1 << 0;
    const SECBIT_NOROOT_LOCKED: libc::c_ulong = 1 << 1;
    const SECBIT_NO_SETUID_FIXUP: libc::c_ulong = 1 << 2;
    const SECBIT_NO_SETUID_FIXUP_LOCKED: libc::c_ulong = 1 << 3;
    // SAFETY: prctl calls that change only this process.
    unsafe {
        libc::prctl(
            libc::PR_SET_SECUREBITS,
            SECBIT_NOROOT
                | SECBIT_NOROOT_LOCKED
                | SECBIT_NO_SETUID_FIXUP
                | SECBIT_NO_SETUID_FIXUP_LOCKED,
        );
        for capability in 0..64 {
            libc::prctl(libc::PR_CAPBSET_DROP, capability);
        }
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
    }
}

/// Brings `lo` of the current network namespace up.
fn loopback_up() -> Result<()> {
    // SAFETY: plain socket and ioctl calls on a zeroed, correctly sized
    // `ifreq` whose name is NUL-terminated.
    unsafe {
        let socket = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if socket < 0 {
            return Err(os_error("socket"));
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

/// The resource limits. Where the run has cgroups (`per_run`), they bound
/// its memory and processes as a whole; otherwise address space per
/// process, and processes per user where the run has a user namespace of
/// its own (`own_users`). CPU time is per process either way; its hard
/// limit is a second above the soft one, so the program gets `SIGXCPU`
/// (which kiln names) rather than a bare `SIGKILL`.
fn set_limits(limits: &super::Limits, per_run: bool, own_users: bool) -> Result<()> {
    use rustix::process::Resource;
    super::set_file_and_cpu_limits(limits)?;
    if !per_run {
        super::set_rlimit(Resource::As, limits.memory, "memory")?;
        if own_users {
            super::set_rlimit(Resource::Nproc, limits.processes, "processes")?;
        }
    }
    Ok(())
}

/// Landlock: inside a root of its own, everything readable and `/tmp` (and
/// a compile's folder) writable; without one, the system readable and only
/// the request's folders reachable.
fn file_rules(request: &Request, isolated: bool) -> Result<landlock::RulesetCreated> {
    use landlock::{
        ABI, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr, RulesetCreatedAttr,
        path_beneath_rules,
    };
    let abi = ABI::V1;
    let readable: Vec<PathBuf> = if isolated {
        vec![PathBuf::from("/")]
    } else {
        system_paths(request.profile)
            .iter()
            .map(PathBuf::from)
            .chain(["/proc", "/dev"].map(PathBuf::from))
            .chain(request.read.iter().cloned())
            .collect()
    };
    let mut writable: Vec<PathBuf> = request.write.clone();
    writable.push(request.workdir.clone());
    if isolated {
        writable.push(PathBuf::from("/tmp"));
    }
    let devices = DEVICES.map(|d| Path::new("/dev").join(d));
    Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(&readable, AccessFs::from_read(abi))))
        .and_then(|r| r.add_rules(path_beneath_rules(&devices, AccessFs::from_all(abi))))
        .and_then(|r| r.add_rules(path_beneath_rules(&writable, AccessFs::from_all(abi))))
        .map_err(|e| e.to_string())
}

/// Puts this process under the Landlock `rules`.
fn confine_files(rules: landlock::RulesetCreated) -> Result<()> {
    let status = rules.restrict_self().map_err(|e| e.to_string())?;
    match status.ruleset {
        landlock::RulesetStatus::FullyEnforced => Ok(()),
        other => Err(format!("Landlock is not enforced here ({other:?})")),
    }
}

/// Replaces this process with `command` (by its open descriptor
/// `program` where there is one); returns only on failure.
fn exec(command: &[OsString], program: Option<&OwnedFd>) -> std::io::Error {
    let args: Result<Vec<CString>> = command.iter().map(cstring).collect();
    let Ok(args) = args else {
        return std::io::Error::other("an argument holds a NUL byte");
    };
    if args.is_empty() {
        return std::io::Error::other("no program");
    }
    let mut pointers: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    pointers.push(std::ptr::null());
    let Some(program) = program else {
        // SAFETY: NUL-terminated strings in a NULL-terminated array, alive
        // for the call; execv returns only on failure.
        unsafe { libc::execv(pointers[0], pointers.as_ptr()) };
        return std::io::Error::last_os_error();
    };
    let env: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut pair = k.into_encoded_bytes();
            pair.push(b'=');
            pair.extend(v.into_encoded_bytes());
            CString::new(pair).ok()
        })
        .collect();
    let mut env_pointers: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    env_pointers.push(std::ptr::null());
    // SAFETY: an open descriptor and NULL-terminated arrays of
    // NUL-terminated strings, alive for the call; returns only on failure.
    unsafe {
        libc::fexecve(
            program.as_raw_fd(),
            pointers.as_ptr(),
            env_pointers.as_ptr(),
        )
    };
    std::io::Error::last_os_error()
}
