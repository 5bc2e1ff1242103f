//! One module per command: its arguments and `run`, which prints what
//! happened and returns the exit code.

pub mod build;
pub mod check;
pub mod completions;
pub mod init;
pub mod new;
pub mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use kiln::error::{CAUSED_BY, chain};
use kiln::site::BuildOptions;

/// What `build` and `check` share: which site, what of it, and how.
#[derive(clap::Args)]
pub struct SiteArgs {
    /// The site root: the folder holding `content/` and `kiln.toml`.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Also take articles marked `draft: true`.
    #[arg(long)]
    drafts: bool,
    /// Also take Knowledge Repo posts marked `private: true`.
    #[arg(long)]
    private: bool,
    /// Build the snippets' dependencies (`snippets/Cargo.toml`) without
    /// the network, from what cargo already has.
    #[arg(long)]
    offline: bool,
    /// Also write every snippet's outcome, duration, cache use and
    /// toolchain to this JSON file.
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
}

impl SiteArgs {
    /// The build options these arguments ask for, the rest by default.
    pub fn options(self) -> BuildOptions {
        BuildOptions {
            drafts: self.drafts,
            private: self.private,
            offline: self.offline,
            report: self.report,
            ..BuildOptions::new(site_root(self.root))
        }
    }
}

/// Prints an error with its causes and returns failure.
pub fn fail(error: &dyn std::error::Error) -> ExitCode {
    kiln::error::print_labelled(kiln::error::Level::Error, &chain(error, CAUSED_BY));
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

/// A time as every summary writes it: `8 ms` below a second, `1.26 s`
/// from there.
pub fn duration(time: std::time::Duration) -> String {
    if time.as_secs() == 0 {
        format!("{} ms", time.as_millis())
    } else {
        format!("{:.2} s", time.as_secs_f64())
    }
}

/// `s` for any count but one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
