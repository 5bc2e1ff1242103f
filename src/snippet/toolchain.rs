//! Which rustc compiles snippets, and its version for cache keys.
//!
//! `rustc -vV` is itself a rustc process, so its answer is cached against a
//! fingerprint of the toolchain files: a warm build starts no rustc at all.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::store::{Record, Store};

#[derive(Debug, Clone)]
pub struct Toolchain {
    /// `$RUSTC`, or `rustc` from `PATH`.
    pub rustc: OsString,
    /// `$RUSTC_WRAPPER`, such as `sccache`.
    pub wrapper: Option<OsString>,
    /// The output of `rustc -vV`.
    pub version: String,
    /// `rustc --print sysroot`: the toolchain's own folder.
    pub sysroot: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct VersionRecord {
    fingerprint: String,
    version: String,
    sysroot: PathBuf,
}

impl Toolchain {
    pub fn detect(store: &Store) -> Result<Toolchain, Error> {
        let rustc = chosen_rustc();
        let wrapper = std::env::var_os("RUSTC_WRAPPER").filter(|w| !w.is_empty());
        let fingerprint = fingerprint(&rustc);
        let record_path = store.record(Record::Toolchain);
        if let Some(fingerprint) = &fingerprint
            && let Some(record) = store.load_json::<VersionRecord>(&record_path)
            && &record.fingerprint == fingerprint
        {
            return Ok(Toolchain {
                rustc,
                wrapper,
                version: record.version,
                sysroot: record.sysroot,
            });
        }
        // One run of the given rustc finds its toolchain; the toolchain's
        // own compiler then says its version.
        let run = |program: &OsString, args: &[&str]| {
            let output = Command::new(program)
                .args(args)
                .output()
                .map_err(|source| Error::NoRustc {
                    rustc: program.to_string_lossy().into_owned(),
                    source,
                })?;
            if !output.status.success() {
                return Err(Error::RustcVersion {
                    rustc: program.to_string_lossy().into_owned(),
                    stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
                });
            }
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        };
        let sysroot = PathBuf::from(run(&rustc, &["--print", "sysroot"])?.trim());
        let own = sysroot.join("bin/rustc");
        let version = if own.is_file() {
            run(&own.into_os_string(), &["-vV"])?
        } else {
            run(&rustc, &["-vV"])?
        };
        if let Some(fingerprint) = fingerprint {
            store.store_json(
                &record_path,
                &VersionRecord {
                    fingerprint,
                    version: version.clone(),
                    sysroot: sysroot.clone(),
                },
            )?;
        }
        Ok(Toolchain {
            rustc,
            wrapper,
            version,
            sysroot,
        })
    }

    /// A field of `rustc -vV`, such as `release` (`1.95.0`).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.version
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
            .map(str::trim)
    }

    /// `rustc 1.95.0`, for readers.
    pub fn describe(&self) -> String {
        format!(
            "rustc {}",
            self.field("release").unwrap_or("(unknown version)")
        )
    }

    /// Text rustc or a program printed, with the standard library's
    /// `/rustc/<commit hash>/` paths named by the release instead.
    pub fn tidy(&self, text: &str) -> String {
        match (self.field("commit-hash"), self.field("release")) {
            (Some(hash), Some(release)) if !hash.is_empty() => {
                text.replace(&format!("/rustc/{hash}/"), &format!("/rustc/{release}/"))
            }
            _ => text.to_owned(),
        }
    }

    /// What runs rustc inside the sandbox, and what it must read besides
    /// the toolchain: the compiler itself where `RUSTC` is not set (no
    /// rustup proxy, no wrapper: a wrapper's server and cache are outside
    /// the walls); a custom `RUSTC` with its own folder, and rustup's
    /// folders for the `rustc` it may call.
    pub fn sandboxed(&self) -> (PathBuf, Vec<PathBuf>, Vec<(String, std::ffi::OsString)>) {
        let custom = std::env::var_os("RUSTC").filter(|r| !r.is_empty());
        let Some(program) = custom.and_then(|r| find_program(Path::new(&r))) else {
            return (
                self.sysroot.join("bin/rustc"),
                vec![self.sysroot.clone()],
                Vec::new(),
            );
        };
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let rustup = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".rustup"));
        let cargo = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".cargo"));
        let program = std::path::absolute(&program).unwrap_or(program);
        let mut read = vec![self.sysroot.clone()];
        read.extend(program.parent().map(Path::to_owned));
        read.extend(
            [rustup.clone(), cargo.join("bin")]
                .into_iter()
                .filter(|p| p.exists()),
        );
        let mut env = vec![
            ("RUSTUP_HOME".to_owned(), rustup.into_os_string()),
            ("CARGO_HOME".to_owned(), cargo.into_os_string()),
        ];
        env.extend(
            std::env::var_os("RUSTUP_TOOLCHAIN").map(|t| ("RUSTUP_TOOLCHAIN".to_owned(), t)),
        );
        (program, read, env)
    }

    /// A command that runs rustc, through the wrapper if there is one.
    pub fn command(&self) -> Command {
        match &self.wrapper {
            Some(wrapper) => {
                let mut command = Command::new(wrapper);
                command.arg(&self.rustc);
                command
            }
            None => Command::new(&self.rustc),
        }
    }
}

/// What identifies the toolchain without running it: the rustc file, and
/// rustup's choice of toolchain. `None` if rustc cannot be found.
/// `$RUSTC`, or `rustc`.
fn chosen_rustc() -> OsString {
    std::env::var_os("RUSTC")
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "rustc".into())
}

/// What identifies the toolchain that would compile snippets now, from
/// its files alone (no rustc is started).
pub fn current_fingerprint() -> Option<String> {
    fingerprint(&chosen_rustc())
}

fn fingerprint(rustc: &OsString) -> Option<String> {
    let path = find_program(Path::new(rustc))?;
    let mut parts = vec![describe_file(&path)];
    if let Ok(canonical) = path.canonicalize() {
        parts.push(describe_file(&canonical));
    }
    parts.push(format!("{:?}", std::env::var_os("RUSTUP_TOOLCHAIN")));
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".rustup")));
    if let Some(home) = rustup_home {
        parts.push(describe_file(&home.join("settings.toml")));
        parts.push(describe_file(&home.join("toolchains")));
        if let Ok(entries) = std::fs::read_dir(home.join("toolchains")) {
            let mut names: Vec<String> = entries
                .flatten()
                .map(|e| describe_file(&e.path().join("bin/rustc")))
                .collect();
            names.sort();
            parts.extend(names);
        }
    }
    Some(parts.join("|"))
}

/// A file's path, size and modification time, to tell when it changed.
pub(super) fn describe_file(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let modified = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            format!("{}:{}:{modified}", path.display(), meta.len())
        }
        Err(_) => format!("{}:missing", path.display()),
    }
}

/// The file a program name runs, searching `PATH` for a bare name.
pub(super) fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_owned());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
