//! `kiln-sandbox ARGS -- PROGRAM [ARG]`: raises the walls of a snippet's
//! run and becomes the snippet (see `kiln::snippet`'s sandbox). A binary of
//! its own because it starts once per snippet run: it is small, so it
//! starts in a fraction of the time the whole `kiln` takes. `kiln
//! run-sandboxed` does the same where this binary is missing.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let message = kiln::snippet::enter_sandbox(&args);
    eprint!("{}{message}", kiln::snippet::SANDBOX_FAILURE_PREFIX);
    ExitCode::from(kiln::snippet::SANDBOX_FAILED as u8)
}
