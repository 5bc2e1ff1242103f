//! The `kiln` command line: parses the arguments and hands each command to
//! its module in `cmd/`.

mod cmd;

/// mimalloc: a build allocates and frees millions of small strings across
/// threads (rendering, highlighting, search indexing), where glibc's
/// allocator spent a fifth of all CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

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
    Build(cmd::build::Args),
    /// Check the site without writing it: front matter, templates, snippets,
    /// internal links, anchors, images. Exits 1 if anything is wrong.
    Check(cmd::check::Args),
    /// Start a knowledge base: `kiln.toml`, a first article with a snippet,
    /// `.gitignore` and a publishing workflow (nothing is overwritten).
    Init(cmd::init::Args),
    /// Write a new article (and, with --snippet, a Rust snippet it runs).
    New(cmd::new::Args),
    /// Build, serve on http://127.0.0.1:1111/, and rebuild and reload the
    /// browser when a source changes.
    Serve(cmd::serve::Args),
    /// Print a shell's completion script, as in
    /// `kiln completions bash > ~/.local/share/bash-completion/completions/kiln`.
    Completions(cmd::completions::Args),
    /// Deletes a previous site that `build` moved aside (used by `build`
    /// itself, in the background).
    #[command(hide = true)]
    RemoveStale(cmd::build::RemoveStaleArgs),
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // A snippet's sandbox: raises the walls and becomes the snippet, as
    // quickly as it can (no argument parser).
    if args
        .get(1)
        .is_some_and(|a| a == kiln::snippet::SANDBOX_COMMAND)
    {
        let message = kiln::snippet::enter_sandbox(&args[2..]);
        eprint!("{}{message}", kiln::snippet::SANDBOX_FAILURE_PREFIX);
        return ExitCode::from(kiln::snippet::SANDBOX_FAILED as u8);
    }
    match Cli::parse_from(args).command {
        Command::Build(args) => cmd::build::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Init(args) => cmd::init::run(args),
        Command::New(args) => cmd::new::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Completions(args) => cmd::completions::run(args, Cli::command()),
        Command::RemoveStale(args) => cmd::build::remove_stale(args),
    }
}
