//! `kiln check`.

use std::path::PathBuf;
use std::process::ExitCode;

use kiln::site::{BuildOptions, check_site};

use super::{plural, site_root};

#[derive(clap::Args)]
pub struct Args {
    /// The site root: the folder holding `content/`.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Also check articles marked `draft: true`.
    #[arg(long)]
    drafts: bool,
    /// Also publish Knowledge Repo posts marked `private: true`.
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

pub fn run(args: Args) -> ExitCode {
    let report = check_site(&BuildOptions {
        drafts: args.drafts,
        private: args.private,
        offline: args.offline,
        report: args.report,
        ..BuildOptions::new(site_root(args.root))
    });
    for problem in &report.problems {
        eprintln!("{problem}");
    }
    let n = report.problems.len();
    println!(
        "checked {} article{}, {} link{} and {} snippet{}: {}",
        report.articles,
        plural(report.articles),
        report.links,
        plural(report.links),
        report.snippets,
        plural(report.snippets),
        match n {
            0 => "no problems".to_owned(),
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        }
    );
    if n == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
