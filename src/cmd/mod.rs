//! One module per command: its arguments and `run`, which prints what
//! happened and returns the exit code.

pub mod build;
pub mod check;
pub mod new;
pub mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use kiln::error::{CAUSED_BY, chain};

/// Prints an error with its causes and returns failure.
pub fn fail(error: &dyn std::error::Error) -> ExitCode {
    eprintln!("error: {}", chain(error, CAUSED_BY));
    ExitCode::FAILURE
}

/// `.` as an empty path, so that messages say `content/a.md`, not
/// `./content/a.md`.
pub fn site_root(root: PathBuf) -> PathBuf {
    if root.as_os_str() == "." {
        PathBuf::new()
    } else {
        root
    }
}

/// `s` for any count but one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
