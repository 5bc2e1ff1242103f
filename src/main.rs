use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use kiln::check::check_site;
use kiln::config::Config;
use kiln::error::{CAUSED_BY, chain};
use kiln::scaffold::{NewArticle, new_article};
use kiln::serve::{ServeOptions, serve};
use kiln::site::{BuildOptions, build_site};

/// kiln builds a knowledge base of Markdown articles into a static site, and
/// compiles and runs the Rust snippets the articles link to.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into `public/`.
    Build {
        /// The site root: the folder holding `content/`.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Where to write the site [default: <ROOT>/public]
        #[arg(long)]
        output: Option<PathBuf>,
        /// Also publish articles marked `draft: true`.
        #[arg(long)]
        drafts: bool,
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
    },
    /// Check the site without writing it: front matter, templates, snippets,
    /// internal links, anchors, images. Exits 1 if anything is wrong.
    Check {
        /// The site root: the folder holding `content/`.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Also check articles marked `draft: true`.
        #[arg(long)]
        drafts: bool,
    },
    /// Write a new article (and, with --snippet, a Rust snippet it runs).
    New {
        /// The article's title; its file name is made from it.
        title: String,
        /// Comma-separated tags.
        #[arg(long, value_delimiter = ',')]
        tags: Vec<String>,
        /// Also write `snippets/<slug>.rs`, linked from the article.
        #[arg(long)]
        snippet: bool,
        /// The site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Build, serve on http://127.0.0.1:1111/, and rebuild and reload the
    /// browser when a source changes.
    Serve {
        /// The site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The port; 0 picks a free one.
        #[arg(long, default_value_t = 1111)]
        port: u16,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Open the site in a browser.
        #[arg(long)]
        open: bool,
        /// Also publish articles marked `draft: true`.
        #[arg(long)]
        drafts: bool,
    },
    /// Deletes a previous site that `build` moved aside (used by `build`
    /// itself, in the background).
    #[command(hide = true)]
    RemoveStale { path: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::RemoveStale { path } => {
            // Only ever a folder kiln itself moved aside.
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.contains(".staging-") {
                let _ = std::fs::remove_dir_all(&path);
            }
            ExitCode::SUCCESS
        }
        Command::New {
            title,
            tags,
            snippet,
            root,
        } => {
            let root = site_root(root);
            let config = match Config::load(&root) {
                Ok(config) => config,
                Err(e) => return fail(&e),
            };
            let tags = tags
                .into_iter()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect();
            match new_article(
                &root,
                &config,
                &NewArticle {
                    title,
                    tags,
                    snippet,
                },
            ) {
                Ok(written) => {
                    for path in &written {
                        println!("wrote {}", path.display());
                    }
                    println!("preview it with `kiln serve` (or `cargo run -- serve`)");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Serve {
            root,
            port,
            bind,
            open,
            drafts,
        } => {
            let root = site_root(root);
            let config = match Config::load(&root) {
                Ok(config) => config,
                Err(e) => return fail(&e),
            };
            let output = root.join(&config.snippets.cache_dir).join("serve");
            let options = ServeOptions {
                build: BuildOptions {
                    root,
                    output: Some(output),
                    drafts,
                    base_url: Some("/".to_owned()),
                    fresh: false,
                    bless: false,
                    pages: Some(std::sync::Arc::default()),
                },
                bind,
                port,
                open,
            };
            match serve(options) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Command::Check { root, drafts } => {
            let report = check_site(&BuildOptions {
                root: site_root(root),
                output: None,
                drafts,
                base_url: None,
                fresh: false,
                bless: false,
                pages: None,
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
        Command::Build {
            root,
            output,
            drafts,
            base_url,
            fresh,
            bless,
        } => {
            let build = build_site(&BuildOptions {
                root: site_root(root),
                output,
                drafts,
                base_url,
                fresh,
                bless,
                pages: None,
            });
            for warning in &build.warnings {
                eprintln!("warning: {warning}");
            }
            match build.result {
                Ok(summary) => {
                    let s = &summary.snippets;
                    if s.snippets > 0 {
                        println!(
                            "snippets: {} ({} cached), compiled in {} rustc invocation{}, {} failed, {:.2?}",
                            s.snippets,
                            s.cached,
                            s.rustc_invocations,
                            plural(s.rustc_invocations),
                            s.failed,
                            s.elapsed
                        );
                    }
                    println!(
                        "built {} article{}, {} page{} and {} file{} into `{}` in {:.2?}",
                        summary.articles,
                        plural(summary.articles),
                        summary.pages,
                        plural(summary.pages),
                        summary.assets,
                        plural(summary.assets),
                        display_dir(&summary.output),
                        summary.elapsed
                    );
                    if let Some(stale) = summary.stale {
                        remove_in_background(&stale);
                    }
                    ExitCode::SUCCESS
                }
                Err(errors) => {
                    for error in &errors.0 {
                        eprintln!("error: {}", chain(error, CAUSED_BY));
                    }
                    eprintln!("error: {errors}; the output folder was left as it was");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Deletes the previous site in a detached process, so that `build` returns
/// as soon as the new site is in place; deleting ten thousand pages takes
/// about a second. Falls back to deleting it here.
fn remove_in_background(path: &std::path::Path) {
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

fn fail(error: &dyn std::error::Error) -> ExitCode {
    eprintln!("error: {}", chain(error, CAUSED_BY));
    ExitCode::FAILURE
}

/// `.` as an empty path, so that messages say `content/a.md`, not
/// `./content/a.md`.
fn site_root(root: PathBuf) -> PathBuf {
    if root.as_os_str() == "." {
        PathBuf::new()
    } else {
        root
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn display_dir(path: &std::path::Path) -> String {
    path.display().to_string()
}
