//! Finds every snippet of the site: paragraphs that are only a link to a
//! `snippets/*.rs` or `snippets/*.py` file, fenced `rust` blocks, and the
//! fenced `python` blocks that are to run.

use std::path::Path;

use rayon::prelude::*;

use super::doctest::{prepare, split_hidden_lines};
use super::options::{inline_options, linked_options};
use super::{Language, Origin, SNIPPET_DIR, Snippet, doctest::PreparedCode};
use crate::boundary::Boundary;
use crate::config::{Inline, SnippetConfig};
use crate::content::Article;
use crate::error::Error;
use crate::markdown::{Candidate, Scan};
use crate::route::{Routes, Target};

/// Every snippet found, and the problems of those that could not be read.
#[derive(Debug, Default)]
pub struct Collected {
    pub snippets: Vec<Snippet>,
    /// Linked snippets that could not be read, as (article, event): their
    /// paragraphs are still snippets, not links to check.
    pub unavailable: Vec<(usize, usize)>,
    pub errors: Vec<Error>,
}

/// Finds every snippet in the site and prepares its code. A link to a
/// snippet file that does not exist, or bad options, is an error for that
/// snippet; the others are collected all the same.
pub fn collect_snippets(
    root: &Path,
    articles: &[Article],
    scans: &[std::sync::Arc<Scan>],
    routes: &Routes,
    config: &SnippetConfig,
) -> Collected {
    let boundary = Boundary::new(root);
    let found: Vec<Collected> = articles
        .par_iter()
        .zip(scans)
        .enumerate()
        .map(|(index, (article, scan))| {
            collect_in_article((root, &boundary), index, article, scan, routes, config)
        })
        .collect();
    let mut all = Collected::default();
    for mut one in found {
        all.snippets.append(&mut one.snippets);
        all.unavailable.append(&mut one.unavailable);
        all.errors.append(&mut one.errors);
    }
    all
}

fn collect_in_article(
    (root, boundary): (&Path, &Boundary),
    index: usize,
    article: &Article,
    scan: &Scan,
    routes: &Routes,
    config: &SnippetConfig,
) -> Collected {
    let mut found = Collected::default();
    for candidate in &scan.candidates {
        match candidate {
            Candidate::LinkParagraph { event, line, dest } => {
                let (i, line) = (*event, *line);
                let Some((path, language)) = linked_snippet(dest, article, routes) else {
                    continue;
                };
                let read = read_snippet((root, boundary), &path).and_then(|source| {
                    linked_options(&source, language, config)
                        .map(|(options, display)| (source, options, display))
                });
                match read {
                    Ok((source, options, display)) => {
                        let code = prepared(language, source, path.clone(), 0);
                        found.snippets.push(Snippet {
                            article: index,
                            event: i,
                            line,
                            origin: Origin::Linked { path },
                            display,
                            code,
                            options,
                        });
                    }
                    Err(message) => {
                        found.unavailable.push((index, i));
                        found.errors.push(Error::Snippet {
                            article: article.source.clone(),
                            line,
                            snippet: format!("snippet `{path}`"),
                            message,
                        });
                    }
                }
            }
            Candidate::Fence {
                language,
                event,
                line,
                info,
                code,
            } => {
                if !runs_inline(*language, info, config) {
                    // Shown as plain code, as the site (or the fence) asks.
                    continue;
                }
                let (i, line) = (*event, *line);
                // rustdoc's hidden lines are Rust's: `# ` is a comment in
                // Python.
                let (shown, compiled) = match language {
                    Language::Rust => split_hidden_lines(code),
                    Language::Python => (code.clone(), code.clone()),
                };
                match inline_options(info, &shown, config) {
                    Ok((options, display)) => {
                        let file = article_file(article, routes);
                        let code = prepared(*language, compiled, file, line);
                        found.snippets.push(Snippet {
                            article: index,
                            event: i,
                            line,
                            origin: Origin::Inline,
                            display,
                            code,
                            options,
                        });
                    }
                    // Shown as plain code: the block is no snippet kiln can run.
                    Err(message) => found.errors.push(Error::Snippet {
                        article: article.source.clone(),
                        line,
                        snippet: "inline snippet".to_owned(),
                        message,
                    }),
                }
            }
        }
    }
    found
}

/// The article's file as rustc is told it: `content/…`, so that a
/// diagnostic or a panic in an inline block names the article and line.
fn article_file(article: &Article, routes: &Routes) -> String {
    format!("{}{}", routes.content_prefix(), article.rel)
}

/// A linked snippet's source, or why it cannot be had (a link that leads
/// outside the site is not read).
fn read_snippet((root, boundary): (&Path, &Boundary), path: &str) -> Result<String, String> {
    let file = root.join(path);
    if let Err(Error::Outside { target, .. }) = boundary.resolve(&file) {
        return Err(format!(
            "`{path}` is a symbolic link that leads outside the site, to `{}`; kiln reads nothing outside the site root (copy the file into `snippets/` instead)",
            target.display()
        ));
    }
    match std::fs::read(&file) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| "the file is not valid UTF-8".to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("the linked file `{path}` does not exist"))
        }
        Err(e) => Err(format!("cannot read `{path}`: {e}")),
    }
}

/// The snippet file a lone link leads to and its language, if it is a
/// `snippets/….rs` or `.py` file.
fn linked_snippet(dest: &str, article: &Article, routes: &Routes) -> Option<(String, Language)> {
    let resolved = routes.resolve(article.rel_dir(), dest)?;
    match resolved.target {
        Target::Other(path) if path.starts_with(&format!("{SNIPPET_DIR}/")) => {
            let language = Language::of_file(&path)?;
            Some((path, language))
        }
        _ => None,
    }
}

/// The code its language's runner is given, told it comes from `file`
/// after line `offset`: Rust's with rustdoc's implicit `main`, Python's as
/// written.
fn prepared(language: Language, code: String, file: String, offset: usize) -> PreparedCode {
    match language {
        Language::Rust => prepare(&code, file, offset),
        Language::Python => PreparedCode::plain(code, file, offset),
    }
}

/// Whether a fenced block in `language` is a snippet to run: Rust's when
/// `snippets.inline` is `run`; Python's when its fence says `run` or
/// `snippets.python.inline` is `run`.
fn runs_inline(language: Language, info: &str, config: &SnippetConfig) -> bool {
    match language {
        Language::Rust => config.inline == Inline::Run,
        Language::Python => {
            config.python.inline == Inline::Run
                || crate::markdown::fence_words(info)
                    .skip(1)
                    .any(|w| w == "run")
        }
    }
}
