//! `kiln build`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kiln::error::{CAUSED_BY, Level, chain, print_labelled};
use kiln::site::{BuildOptions, Summary, build_site};

use super::{SiteArgs, duration, plural};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    site: SiteArgs,
    /// Where to write the site [default: <ROOT>/public]
    #[arg(long)]
    output: Option<PathBuf>,
    /// Serve the site from this URL or path instead of `base_url`.
    #[arg(long)]
    base_url: Option<String>,
    /// Compile and run every snippet again, ignoring the cache.
    #[arg(long)]
    fresh: bool,
    /// Rewrite the golden `snippets/NAME.stdout` files with what the
    /// snippets print now.
    #[arg(long)]
    bless: bool,
    /// Publish every article that builds: leave out each one whose front
    /// matter cannot be read, publish failing snippets with the failure
    /// shown, and exit 0 (also `keep_going = true` in `kiln.toml`).
    #[arg(long)]
    keep_going: bool,
}

pub fn run(args: Args) -> ExitCode {
    let build = build_site(&BuildOptions {
        output: args.output,
        base_url: args.base_url,
        fresh: args.fresh,
        bless: args.bless,
        keep_going: args.keep_going,
        ..args.site.options()
    });
    for warning in &build.warnings {
        print_labelled(Level::Warning, &warning.to_string());
    }
    for error in &build.kept_going {
        let kept = if error.leaves_article_out() {
            "the article is left out"
        } else {
            "published with the failure shown"
        };
        let message = format!("kept going ({kept}): {}", chain(error, CAUSED_BY));
        print_labelled(Level::Warning, &message);
    }
    match build.result {
        Ok(summary) => {
            let s = &summary.snippets;
            if s.snippets > 0 {
                println!("{}", snippet_line(s));
            }
            println!("{}", summary_line(&summary));
            if let Some(stale) = summary.stale {
                remove_in_background(&stale);
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for error in &errors.0 {
                print_labelled(Level::Error, &chain(error, CAUSED_BY));
            }
            let message = format!("{errors}; the output folder was left as it was");
            print_labelled(Level::Error, &message);
            ExitCode::FAILURE
        }
    }
}

/// `built 10000 articles (1 rendered, 9999 unchanged), 10072 pages and 0
/// files into `public` in 1.20s; search: 1 of 10 bundles indexed`.
pub fn summary_line(summary: &Summary) -> String {
    let unchanged = summary.articles - summary.rendered;
    let articles = match (summary.rendered, unchanged) {
        (_, 0) => String::new(),
        (0, unchanged) => format!(" ({unchanged} unchanged)"),
        (rendered, unchanged) => format!(" ({rendered} rendered, {unchanged} unchanged)"),
    };
    let search = match summary.search {
        None => String::new(),
        Some((0, _)) => "; search index unchanged".to_owned(),
        Some((1, 1)) => "; search index built".to_owned(),
        Some((indexed, bundles)) if indexed == bundles => {
            format!("; search index built in {bundles} bundles")
        }
        Some((indexed, bundles)) => format!("; search: {indexed} of {bundles} bundles re-indexed"),
    };
    let left_out = match summary.left_out {
        0 => String::new(),
        n => format!(" ({n} broken article{} left out)", plural(n)),
    };
    let files_left_out = match summary.files_left_out {
        0 => String::new(),
        n => format!(" ({n} more that no page links to left out)"),
    };
    let what = format!(
        "{} article{}{articles}{left_out}, {} page{} and {} file{}{files_left_out}",
        summary.articles,
        plural(summary.articles),
        summary.pages,
        plural(summary.pages),
        summary.assets,
        plural(summary.assets),
    );
    let time = duration(summary.elapsed);
    if summary.unchanged {
        format!(
            "`{}` is up to date: built {what} in {time}, and none changed{search}",
            summary.output.display()
        )
    } else {
        format!(
            "built {what} into `{}` in {time}{search}",
            summary.output.display()
        )
    }
}

#[derive(clap::Args)]
pub struct RemoveStaleArgs {
    path: PathBuf,
}

/// Deletes a previous site that `build` moved aside; only ever a folder
/// kiln itself moved aside.
pub fn remove_stale(args: RemoveStaleArgs) -> ExitCode {
    let name = args.path.file_name().unwrap_or_default().to_string_lossy();
    if name.contains(".staging-") {
        let _ = std::fs::remove_dir_all(&args.path);
    }
    ExitCode::SUCCESS
}

/// Deletes the previous site in a detached process, so that `build` returns
/// as soon as the new site is in place; deleting ten thousand pages takes
/// about a second. Falls back to deleting it here.
fn remove_in_background(path: &Path) {
    let spawned = std::env::current_exe().and_then(|exe| {
        std::process::Command::new(exe)
            .arg("remove-stale")
            .arg(path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
    });
    if spawned.is_err() {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// `snippets: 12 (11 cached, 1 ignored), compiled in 0 rustc invocations,
/// 0 failed, 3 ms`, with Python's processes where the site has Python
/// snippets.
fn snippet_line(s: &kiln::snippet::SnippetStats) -> String {
    use kiln::snippet::Language;
    let ignored = if s.ignored > 0 {
        format!(", {} ignored", s.ignored)
    } else {
        String::new()
    };
    let python = s.languages.contains(&Language::Python);
    let mut work = Vec::new();
    if s.languages.contains(&Language::Rust) || !python {
        let cargo = if s.cargo_ran {
            " (dependencies built by cargo)"
        } else {
            ""
        };
        work.push(format!(
            "compiled in {} rustc invocation{}{cargo}",
            s.rustc_invocations,
            plural(s.rustc_invocations)
        ));
    }
    if python {
        let pip = if s.pip_ran {
            " (packages installed by pip)"
        } else {
            ""
        };
        work.push(format!(
            "{} Python process{}{pip}",
            s.python_processes,
            if s.python_processes == 1 { "" } else { "es" }
        ));
    }
    format!(
        "snippets: {} ({} cached{ignored}), {}, {} failed, {}",
        s.snippets,
        s.cached,
        work.join(", "),
        s.failed,
        duration(s.elapsed)
    )
}
