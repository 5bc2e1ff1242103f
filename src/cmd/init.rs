//! `kiln init`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kiln::scaffold::init_site;

use super::fail;

#[derive(clap::Args)]
pub struct Args {
    /// The folder of the new knowledge base (made if missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The site's title [default: asked on a terminal, else the folder's name].
    #[arg(long)]
    title: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    let title = args.title.unwrap_or_else(|| ask_title(&args.dir));
    let done = match init_site(&args.dir, &title) {
        Ok(done) => done,
        Err(e) => return fail(&e),
    };
    let named = |path: &Path| path.strip_prefix(".").unwrap_or(path).display().to_string();
    for path in &done.written {
        println!("wrote {}", named(path));
    }
    for path in &done.kept {
        println!("kept {} (already there)", named(path));
    }
    let cd = if args.dir == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", shown(&args.dir))
    };
    println!("next: `{cd}kiln serve` to write with a live preview, `kiln build` to make `public/`");
    ExitCode::SUCCESS
}

/// The title typed on a terminal, or the folder's name.
fn ask_title(dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let name = absolute
        .file_name()
        .map(|n| n.to_string_lossy().replace(['-', '_'], " "))
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "Knowledge base".to_owned());
    if !std::io::stdin().is_terminal() {
        return name;
    }
    eprint!("Title of the knowledge base [{name}]: ");
    let mut typed = String::new();
    match std::io::stdin().read_line(&mut typed) {
        Ok(_) if !typed.trim().is_empty() => typed.trim().to_owned(),
        _ => name,
    }
}

/// A path as a shell command would take it.
fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    if text.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
        format!("'{}'", text.replace('\'', "'\\''"))
    } else {
        text
    }
}
