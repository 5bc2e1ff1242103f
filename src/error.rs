//! Error and warning types shared by every stage.
//!
//! Every error names the file it is about, and the line and column where
//! they are known. A build collects all of its errors into [`Errors`] so that
//! an author sees every problem at once.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A position in a source file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// `:3:1` for a known position, nothing otherwise.
fn position_suffix(position: &Option<Position>) -> String {
    position.map(|p| format!(":{p}")).unwrap_or_default()
}

/// One problem that stops a build.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}:{}:{}: {message}", path.display(), at.line, at.column)]
    FrontMatter {
        path: PathBuf,
        at: Position,
        message: String,
    },

    #[error("{}{}: {message}", path.display(), position_suffix(at))]
    Config {
        path: PathBuf,
        at: Option<Position>,
        message: String,
    },

    #[error("the site root `{}` is no folder: `kiln init {}` starts a knowledge base there", path.display(), path.display())]
    NoRoot { path: PathBuf },

    #[error("no `{}` folder: a kiln site keeps its articles there (run `kiln new \"Title\"` to start one)", path.display())]
    NoContent { path: PathBuf },

    #[error("`{}`: every Markdown file ({count}) is left out by `ignore` in `kiln.toml` or a `.gitignore`; `*` stays within a folder (`docs/*.md` does not reach `docs/x.kp/knowledge.md`), `**` crosses folders", path.display())]
    AllIgnored { path: PathBuf, count: usize },

    #[error(
        "`--base-url` is `{value}`; expected an absolute URL such as `https://example.org/kb/` or a path such as `/kb/`"
    )]
    BaseUrl { value: String },

    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "{}: a symbolic link that leads outside the site, to `{}`; kiln reads nothing outside the site root (copy what it needs into the site instead)",
        path.display(),
        target.display()
    )]
    Outside { path: PathBuf, target: PathBuf },

    #[error("{}: `{name}` is not valid UTF-8", path.display())]
    NotUtf8 { path: PathBuf, name: &'static str },

    #[error("{}: the file changed while kiln was building the site: build again", path.display())]
    Changed { path: PathBuf },

    #[error("{}: the page URL `{url}` is also produced by `{}`", path.display(), other.display())]
    DuplicateUrl {
        path: PathBuf,
        other: PathBuf,
        url: String,
    },

    #[error("{}: the page URL `{url}` is kiln's own ({what}); choose another `slug` or file name", path.display())]
    ReservedUrl {
        path: PathBuf,
        url: String,
        /// Which of kiln's pages, such as "its `/tags/` pages".
        what: String,
    },

    #[error("template `{name}`: {message}")]
    Template { name: String, message: String },

    #[error("{}:{line}: {snippet}: {message}", article.display())]
    Snippet {
        article: PathBuf,
        line: usize,
        /// "snippet `snippets/x.rs`" or "inline snippet".
        snippet: String,
        message: String,
    },

    #[error("{}:{line}: a formula's TeX cannot be read: {message}; it is shown as an error in place", path.display())]
    Math {
        path: PathBuf,
        line: usize,
        message: String,
    },

    #[error("{}:{line}: {message}", path.display())]
    BrokenLink {
        path: PathBuf,
        line: usize,
        message: String,
    },

    #[error("cannot run `{rustc}` to compile snippets; install Rust, or set `RUSTC` to a rustc")]
    NoRustc {
        rustc: String,
        #[source]
        source: io::Error,
    },

    #[error("`{rustc} -vV` failed: {stderr}")]
    RustcVersion { rustc: String, stderr: String },

    #[error(
        "cannot run the Python interpreter `{interpreter}` for Python snippets; install Python 3, or set `snippets.python.interpreter` in `kiln.toml`"
    )]
    NoPython {
        interpreter: String,
        #[source]
        source: io::Error,
    },

    #[error("the Python interpreter `{interpreter}` cannot say what it is: {stderr}")]
    PythonVersion { interpreter: String, stderr: String },

    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Dependencies {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },

    #[error("sandbox: {message}")]
    Sandbox { message: String },

    #[error("the search index failed: {message}")]
    Search { message: String },

    #[error("the title is empty; run `kiln new \"My article\"`")]
    EmptyTitle,

    #[error("`{}` already exists; kiln new never overwrites a file (choose another title, or edit that file)", path.display())]
    Exists { path: PathBuf },

    #[error("{what}")]
    Serve {
        /// What failed, such as "cannot listen on 127.0.0.1:1111".
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// Whether it concerns one article alone, so that a build that keeps
    /// going can publish the rest: its front matter or its file (the
    /// article is left out), or one of its snippets (the article is
    /// published with the failure in its panel).
    pub fn concerns_one_article(&self) -> bool {
        match self {
            Error::FrontMatter { .. } | Error::Snippet { .. } => true,
            Error::Read { path, .. } | Error::NotUtf8 { path, .. } => {
                path.extension().is_some_and(|e| e == "md")
            }
            _ => false,
        }
    }

    /// Whether a build that keeps going leaves its article out (rather
    /// than publishing it with the problem shown).
    pub fn leaves_article_out(&self) -> bool {
        self.concerns_one_article() && !matches!(self, Error::Snippet { .. })
    }

    /// The file an error is about and its line, where it has them, for
    /// sorting a report by place.
    pub fn location(&self) -> (Option<&Path>, usize) {
        match self {
            Error::FrontMatter { path, at, .. } => (Some(path), at.line),
            Error::Config { path, at, .. } => (Some(path), at.map_or(0, |p| p.line)),
            Error::Snippet { article, line, .. } => (Some(article), *line),
            Error::BrokenLink { path, line, .. } | Error::Math { path, line, .. } => {
                (Some(path), *line)
            }
            Error::Dependencies { path, line, .. } => (Some(path), line.unwrap_or(0)),
            Error::Read { path, .. }
            | Error::Write { path, .. }
            | Error::NotUtf8 { path, .. }
            | Error::Changed { path }
            | Error::Outside { path, .. }
            | Error::DuplicateUrl { path, .. }
            | Error::ReservedUrl { path, .. }
            | Error::NoContent { path }
            | Error::NoRoot { path }
            | Error::AllIgnored { path, .. }
            | Error::Exists { path } => (Some(path), 0),
            Error::Template { .. }
            | Error::BaseUrl { .. }
            | Error::NoRustc { .. }
            | Error::RustcVersion { .. }
            | Error::NoPython { .. }
            | Error::PythonVersion { .. }
            | Error::Search { .. }
            | Error::Sandbox { .. }
            | Error::EmptyTitle
            | Error::Serve { .. } => (None, 0),
        }
    }
}

/// An error and its causes, joined by `separator` (such as
/// `"\n  caused by: "`).
pub fn chain(error: &dyn std::error::Error, separator: &str) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(separator);
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The separator `kiln` prints between an error and each of its causes.
pub const CAUSED_BY: &str = "\n  caused by: ";

/// Every error of one build, in the order of the files they are about.
#[derive(Debug)]
pub struct Errors(pub Vec<Error>);

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            1 => write!(f, "the build failed with 1 error"),
            n => write!(f, "the build failed with {n} errors"),
        }
    }
}

impl std::error::Error for Errors {}

impl From<Error> for Errors {
    fn from(error: Error) -> Self {
        Errors(vec![error])
    }
}

/// A problem worth telling the author that does not stop the build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            // About a file or folder as a whole.
            0 => write!(f, "{}: {}", self.path.display(), self.message),
            line => write!(f, "{}:{line}: {}", self.path.display(), self.message),
        }
    }
}

/// How much a line printed for the user weighs: its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Note,
}

/// Prints `label: message` to standard error (a note to standard output),
/// the label coloured on a terminal; plain when piped, or with `NO_COLOR`
/// set (anstream decides, as cargo and clap do).
pub fn print_labelled(level: Level, message: &str) {
    use anstyle::{AnsiColor, Style};
    let (label, colour) = match level {
        Level::Error => ("error", AnsiColor::Red),
        Level::Warning => ("warning", AnsiColor::Yellow),
        Level::Note => ("note", AnsiColor::Cyan),
    };
    let style = Style::new().bold().fg_color(Some(colour.into()));
    match level {
        Level::Note => anstream::println!("{style}{label}:{style:#} {message}"),
        _ => anstream::eprintln!("{style}{label}:{style:#} {message}"),
    }
}

/// Prints a line that starts with its label (`error: …`, `warning: …`),
/// as [`print_labelled`] would.
pub fn print_labelled_line(line: &str) {
    match line.split_once(": ") {
        Some(("error", rest)) => print_labelled(Level::Error, rest),
        Some(("warning", rest)) => print_labelled(Level::Warning, rest),
        Some(("note", rest)) => print_labelled(Level::Note, rest),
        _ => anstream::eprintln!("{line}"),
    }
}
