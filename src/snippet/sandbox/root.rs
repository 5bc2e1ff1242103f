//! A root of one's own for a compile or a run, built by the PID
//! namespace's init inside a fresh mount namespace: the system read-only,
//! a few devices, a fresh `/proc`, a private `/tmp` of the run's size, and
//! the request's own folders at their usual paths, on a tmpfs that then
//! becomes `/`. The old root is detached.

use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::{Namespaces, Profile, Request};

pub(super) type Result<T> = std::result::Result<T, String>;

/// Where the run's home and working folder is inside its own root.
pub const RUN_HOME: &str = "/tmp/kiln-run";

pub(super) fn os_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

pub(super) fn cstring(path: impl AsRef<OsStr>) -> Result<CString> {
    CString::new(path.as_ref().as_bytes()).map_err(|_| "a path holds a NUL byte".to_owned())
}

/// The system folders of a root of one's own, by profile. Compiles get no
/// `/etc` but its `alternatives` (where `cc` may point).
pub(super) fn system_paths(profile: Profile) -> &'static [&'static str] {
    match profile {
        Profile::Run => &[
            "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
        ],
        Profile::Compile => &[
            "/usr",
            "/bin",
            "/sbin",
            "/lib",
            "/lib32",
            "/lib64",
            "/libx32",
            "/etc/alternatives",
        ],
    }
}

pub(super) const DEVICES: [&str; 5] = ["null", "zero", "full", "random", "urandom"];

fn mount(
    source: Option<&Path>,
    target: &Path,
    kind: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> Result<()> {
    let source = source.map(cstring).transpose()?;
    let target_c = cstring(target)?;
    let kind = kind.map(cstring).transpose()?;
    let data = data.map(cstring).transpose()?;
    let ptr = |c: &Option<CString>| c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: NUL-terminated strings (or NULL) alive for the call.
    let result = unsafe {
        libc::mount(
            ptr(&source),
            target_c.as_ptr(),
            ptr(&kind),
            flags,
            ptr(&data).cast(),
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(os_error(&format!("mounting `{}`", target.display())))
    }
}

/// Binds `source` (an open `O_PATH` descriptor) at `target`, read-only
/// unless `writable`.
fn bind(source: &OwnedFd, target: &Path, writable: bool) -> Result<()> {
    let from = PathBuf::from(format!("/proc/self/fd/{}", source.as_raw_fd()));
    mount(
        Some(&from),
        target,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
    )?;
    let mut flags = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_NOSUID;
    if !writable {
        flags |= libc::MS_RDONLY;
    }
    mount(None, target, None, flags, None)
}

fn open_path(path: &Path) -> Result<OwnedFd> {
    rustix::fs::open(
        path,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Makes `target` (below the new root) a folder or an empty file to bind
/// onto, as `source` is one or the other.
fn mount_point(target: &Path, directory: bool) -> Result<()> {
    let parent = target.parent().unwrap_or(target);
    std::fs::create_dir_all(parent).map_err(|e| format!("`{}`: {e}", parent.display()))?;
    let made = if directory {
        std::fs::create_dir_all(target)
    } else {
        std::fs::write(target, b"")
    };
    made.map_err(|e| format!("`{}`: {e}", target.display()))
}

/// Builds the run's own root on a tmpfs and moves into it: the system
/// read-only, a few devices, a fresh `/proc` of the PID namespace, a
/// private `/tmp` of the run's size, and the request's own folders at
/// their usual paths. The old root is detached: nothing else of the host
/// is reachable, its sockets included.
/// What a root of one's own is built from, opened before the process
/// gives up its own id.
pub(super) struct Sources<'a> {
    /// The system folders, or the links they are.
    system: Vec<(&'a Path, std::result::Result<OwnedFd, PathBuf>)>,
    /// The request's own folders and files: (path, writable, descriptor,
    /// is a folder).
    own: Vec<(&'a Path, bool, OwnedFd, bool)>,
}

/// Opens every folder and file the root of `request` will hold.
pub(super) fn open_sources(request: &Request) -> Result<Sources<'_>> {
    let mut system = Vec::new();
    for path in system_paths(request.profile).iter().map(Path::new) {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(path).map_err(|e| e.to_string())?;
                system.push((path, Err(target)));
            }
            Ok(_) => system.push((path, Ok(open_path(path)?))),
            Err(_) => {}
        }
    }
    let covered = |path: &Path| {
        system
            .iter()
            .any(|(dir, fd)| fd.is_ok() && path.starts_with(dir))
    };
    let mut own = Vec::new();
    for (path, writable) in request
        .read
        .iter()
        .map(|p| (p.as_path(), false))
        .chain(request.write.iter().map(|p| (p.as_path(), true)))
    {
        if !covered(path) {
            own.push((path, writable, open_path(path)?, path.is_dir()));
        }
    }
    Ok(Sources { system, own })
}

pub(super) fn build_root(
    request: &Request,
    sources: &Sources<'_>,
    (namespaces, builder_root): (Namespaces, bool),
) -> Result<()> {
    mount(
        None,
        Path::new("/"),
        None,
        libc::MS_REC | libc::MS_PRIVATE,
        None,
    )?;
    let new_root = Path::new("/tmp");
    mount(
        Some(Path::new("tmpfs")),
        new_root,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some("size=16m,mode=0755"),
    )?;
    let inside = |path: &Path| new_root.join(path.strip_prefix("/").unwrap_or(path));
    furnish_system(&sources.system, new_root)?;
    let tmp = inside(Path::new("/tmp"));
    mount_point(&tmp, true)?;
    mount(
        Some(Path::new("tmpfs")),
        &tmp,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(&format!("size={},mode=1777", request.tmp_size.max(4096))),
    )?;
    if request.profile == Profile::Run {
        let home = inside(Path::new(RUN_HOME));
        std::fs::create_dir(&home).map_err(|e| e.to_string())?;
        if builder_root && namespaces == Namespaces::WithoutUser {
            // The run becomes nobody itself: its home is nobody's.
            super::give_to_nobody(&home).map_err(|e| e.to_string())?;
        }
    }
    for (path, writable, fd, directory) in &sources.own {
        mount_point(&inside(path), *directory)?;
        bind(fd, &inside(path), *writable)?;
    }
    let proc = inside(Path::new("/proc"));
    mount_point(&proc, true)?;
    mount(
        Some(Path::new("proc")),
        &proc,
        Some("proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )?;
    pivot(new_root)
}

/// The system folders (bound read-only, or the links they are), the
/// devices, and the usual links of `/dev`, below `new_root`.
fn furnish_system(
    system: &[(&Path, std::result::Result<OwnedFd, PathBuf>)],
    new_root: &Path,
) -> Result<()> {
    let inside = |path: &Path| new_root.join(path.strip_prefix("/").unwrap_or(path));
    for (path, source) in system {
        match source {
            Ok(fd) => {
                mount_point(&inside(path), true)?;
                bind(fd, &inside(path), false)?;
            }
            Err(link) => {
                std::os::unix::fs::symlink(link, inside(path)).map_err(|e| e.to_string())?
            }
        }
    }
    for device in DEVICES {
        let target = inside(&Path::new("/dev").join(device));
        mount_point(&target, false)?;
        bind(&open_path(&Path::new("/dev").join(device))?, &target, true)?;
    }
    for (link, to) in [
        ("dev/shm", "/tmp"),
        ("dev/fd", "/proc/self/fd"),
        ("dev/stdin", "/proc/self/fd/0"),
        ("dev/stdout", "/proc/self/fd/1"),
        ("dev/stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(to, new_root.join(link)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Makes `new_root` the root, detaches the old one, and makes the root
/// itself read-only.
fn pivot(new_root: &Path) -> Result<()> {
    let old = new_root.join(".old");
    mount_point(&old, true)?;
    let (root_c, old_c) = (cstring(new_root)?, cstring(&old)?);
    // SAFETY: two NUL-terminated paths alive for the call.
    if unsafe { libc::syscall(libc::SYS_pivot_root, root_c.as_ptr(), old_c.as_ptr()) } != 0 {
        return Err(os_error("pivot_root"));
    }
    std::env::set_current_dir("/").map_err(|e| e.to_string())?;
    let old_c = cstring("/.old")?;
    // SAFETY: a NUL-terminated path alive for the call.
    if unsafe { libc::umount2(old_c.as_ptr(), libc::MNT_DETACH) } != 0 {
        return Err(os_error("detaching the old root"));
    }
    let _ = std::fs::remove_dir("/.old");
    mount(
        None,
        Path::new("/"),
        None,
        libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
        None,
    )
}
