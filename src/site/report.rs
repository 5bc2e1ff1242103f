//! `--report FILE.json`: every snippet of the site with where it is, how
//! it fared, how long it ran, whether the cache answered, and what made
//! it, for CI to keep or publish.

use std::path::Path;

use serde::Serialize;

use super::Site;
use crate::error::Error;
use crate::snippet::{Origin, Outcome, Placed, Walls};

#[derive(Serialize)]
struct Report<'a> {
    kiln: &'static str,
    articles: usize,
    snippets: Vec<SnippetEntry<'a>>,
}

#[derive(Serialize)]
struct SnippetEntry<'a> {
    article: String,
    line: usize,
    /// The snippet file, or `null` for a block in the article.
    file: Option<&'a str>,
    flags: Vec<&'static str>,
    /// `passed`, `failed`, `skipped` or `unavailable`.
    outcome: &'static str,
    status: &'a str,
    problem: Option<&'a str>,
    duration_ms: Option<u64>,
    cached: bool,
    toolchain: &'a str,
    ran_at: Option<&'a str>,
    /// The walls the run had (`null`: not sandboxed).
    walls: Option<&'a Walls>,
    /// The variables of `snippets.env` it could see.
    saw: &'a [String],
    crates: Vec<Crate<'a>>,
}

#[derive(Serialize)]
struct Crate<'a> {
    name: &'a str,
    version: &'a str,
}

/// Writes the report of a prepared site's snippets to `path`, ordered by
/// article and line.
pub fn write_report(path: &Path, site: &Site) -> Result<(), Error> {
    let mut snippets = Vec::new();
    for (index, article) in site.content.articles.iter().enumerate() {
        let mut placed: Vec<_> = site.runs.in_article(index).into_iter().flatten().collect();
        placed.sort_by_key(|(event, _)| **event);
        for (_, placed) in placed {
            let Placed::Embed(embed) = placed else {
                continue;
            };
            snippets.push(SnippetEntry {
                article: article.source.display().to_string(),
                line: embed.snippet.line,
                file: match &embed.snippet.origin {
                    Origin::Linked { path } => Some(path),
                    Origin::Inline => None,
                },
                flags: embed.snippet.options.flags(),
                outcome: match embed.verdict.outcome {
                    Outcome::Passed => "passed",
                    Outcome::Failed => "failed",
                    Outcome::Skipped => "skipped",
                },
                status: &embed.verdict.status,
                problem: embed.verdict.problem.as_deref(),
                duration_ms: embed.run.execution.as_ref().map(|e| e.millis),
                cached: embed.cached,
                toolchain: &embed.run.toolchain,
                ran_at: embed.run.ran_at.as_deref(),
                walls: embed.run.walls.as_ref(),
                saw: &embed.run.saw,
                crates: embed
                    .crates
                    .iter()
                    .map(|(name, version)| Crate { name, version })
                    .collect(),
            });
        }
    }
    let report = Report {
        kiln: env!("CARGO_PKG_VERSION"),
        articles: site.content.articles.len(),
        snippets,
    };
    let fail = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let json = serde_json::to_vec_pretty(&report).map_err(|e| fail(std::io::Error::other(e)))?;
    std::fs::write(path, json).map_err(fail)
}
