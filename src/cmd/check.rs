//! `kiln check`.

use std::process::ExitCode;

use kiln::error::{Level, print_labelled, print_labelled_line};
use kiln::site::check_site;

use super::{SiteArgs, plural};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    site: SiteArgs,
}

pub fn run(args: Args) -> ExitCode {
    let report = check_site(&args.site.options());
    for problem in &report.problems {
        print_labelled_line(problem);
    }
    // Not problems: worth knowing, and what a build would leave out.
    for note in &report.notes {
        print_labelled(Level::Note, note);
    }
    for file in &report.left_out {
        let note = format!(
            "`{}` is linked from no page, so it is not published (keep it under `static/` to publish it anyway)",
            file.display()
        );
        print_labelled(Level::Note, &note);
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
