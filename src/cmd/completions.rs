//! `kiln completions`.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The shell to complete in, such as `bash`, `zsh` or `fish`.
    shell: clap_complete::Shell,
}

/// Prints the completion script of `command` for the shell asked for.
pub fn run(args: Args, mut command: clap::Command) -> ExitCode {
    clap_complete::generate(args.shell, &mut command, "kiln", &mut std::io::stdout());
    ExitCode::SUCCESS
}
