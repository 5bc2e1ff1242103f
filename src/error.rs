//! Error and warning types shared by every stage.
//!
//! Every error names the file it is about, and the line and column where
//! they are known. A build collects all of its errors into [`Errors`] so that
//! an author sees every problem at once.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A position in a source file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
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

    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },

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

    #[error("{}: `{name}` is not valid UTF-8", path.display())]
    NotUtf8 { path: PathBuf, name: &'static str },

    #[error("{}: the page URL `{url}` is also produced by `{}`", path.display(), other.display())]
    DuplicateUrl {
        path: PathBuf,
        other: PathBuf,
        url: String,
    },

    #[error("{}: the page URL `{url}` is kiln's own (its `{section}` pages); choose another `slug` or file name", path.display())]
    ReservedUrl {
        path: PathBuf,
        url: String,
        section: String,
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

    #[error("{}:{line}: {message}", path.display())]
    BrokenLink {
        path: PathBuf,
        line: usize,
        message: String,
    },

    #[error("{message}")]
    Other { message: String },
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}
