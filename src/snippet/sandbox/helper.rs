//! The helper's entry, the same on every system: it reads its arguments
//! and hands the request to the system's backend (Linux's namespaces and
//! Landlock, or the portable walls), with the limits every Unix run gets.

use std::ffi::OsString;

#[cfg(unix)]
use super::Limits;
use super::Request;
#[cfg(target_os = "linux")]
use super::enter::run;
#[cfg(not(target_os = "linux"))]
use super::portable::run;

/// `kiln-sandbox --request JSON [ARG…]` raises the walls this system has
/// and becomes (on Windows, runs) the request's program, with `ARG…` after
/// the request's own arguments; `--probe-inside` is the program of a
/// probe. Returns only on failure.
pub fn enter(args: &[OsString]) -> String {
    match args {
        [flag] if flag == "--probe-inside" => {
            #[cfg(unix)]
            let answer = serde_json::json!({ "uid": rustix::process::getuid().as_raw() });
            #[cfg(not(unix))]
            let answer = serde_json::json!({ "probe": "inside" });
            println!("{answer}");
            std::process::exit(0)
        }
        [flag, json, rest @ ..] if flag == "--request" => {
            match serde_json::from_slice::<Request>(json.as_encoded_bytes()) {
                Ok(mut request) => {
                    request.command.extend(rest.iter().cloned());
                    run(&request)
                }
                Err(e) => format!("unreadable request: {e}"),
            }
        }
        _ => "usage: kiln-sandbox --request JSON".to_owned(),
    }
}

/// Sets a resource limit of this process (soft and hard alike); an error
/// names the limit.
#[cfg(unix)]
pub(super) fn set_rlimit(
    resource: rustix::process::Resource,
    value: u64,
    name: &str,
) -> Result<(), String> {
    let limit = rustix::process::Rlimit {
        current: Some(value),
        maximum: Some(value),
    };
    rustix::process::setrlimit(resource, limit).map_err(|e| format!("{name}: {e}"))
}

/// The per-process limits of every Unix run: the size of a file it
/// writes, and CPU time, whose hard limit is a second above the soft one,
/// so the program gets `SIGXCPU` (which kiln names) rather than a bare
/// `SIGKILL`.
#[cfg(unix)]
pub(super) fn set_file_and_cpu_limits(limits: &Limits) -> Result<(), String> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    set_rlimit(Resource::Fsize, limits.disk, "disk")?;
    let cpu = Rlimit {
        current: Some(limits.cpu_seconds),
        maximum: Some(limits.cpu_seconds + 1),
    };
    setrlimit(Resource::Cpu, cpu).map_err(|e| format!("CPU time: {e}"))
}
