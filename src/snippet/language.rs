//! The languages kiln runs snippets in, and what differs between them in
//! how a snippet is written: its fence, its file, its comments.

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum Language {
    #[default]
    Rust,
    Python,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Rust, Language::Python];

    /// The language of a fence's first word (`rust`, `python`, `py`).
    pub fn of_fence(word: &str) -> Option<Language> {
        match word {
            "rust" => Some(Language::Rust),
            "python" | "python3" | "py" => Some(Language::Python),
            _ => None,
        }
    }

    /// The language of a linked snippet file, by its extension.
    pub fn of_file(path: &str) -> Option<Language> {
        Language::ALL
            .into_iter()
            .find(|l| path.ends_with(&format!(".{}", l.extension())))
    }

    /// Its name for readers: `Rust`, `Python`.
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "Rust",
            Language::Python => "Python",
        }
    }

    /// The fence word and highlighting token: `rust`, `python`.
    pub fn token(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
        }
    }

    /// A snippet file's extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Language::Rust => "rs",
            Language::Python => "py",
        }
    }

    /// What starts a line comment.
    pub fn comment(self) -> &'static str {
        match self {
            Language::Rust => "//",
            Language::Python => "#",
        }
    }

    /// What judges the code before it runs, for the panel's label
    /// (`rustc said`).
    pub fn checker(self) -> &'static str {
        match self {
            Language::Rust => "rustc",
            Language::Python => "Python",
        }
    }
}
