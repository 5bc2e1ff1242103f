//! `check`: makes every file of a prepared site, as `build` does, into
//! nothing, and reports every problem: front matter, templates (of every
//! page and generated file: lists, feed, sitemap, redirects),
//! snippets (through the cache), internal links, `#fragment`s, images and
//! thumbnails.

use std::path::Path;

use super::registry::make_site;
use super::{BuildOptions, Mode, Prepared, Problems, prepare};
use crate::error::{Warning, chain};
use crate::output::Discard;

/// What `kiln check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Every problem, errors and warnings alike, each naming file and line,
    /// in the order of files and lines.
    pub problems: Vec<String>,
    pub articles: usize,
    pub links: usize,
    pub snippets: usize,
    /// The files of the content folder no page links to: not published,
    /// and no problem.
    pub left_out: Vec<std::path::PathBuf>,
    /// Worth knowing, no problem: a language shown as plain text, a link
    /// that works only without regard to case.
    pub notes: Vec<String>,
}

/// Checks the site at `options.root`. Every problem is collected; nothing
/// is written but the snippet cache.
pub fn check_site(options: &BuildOptions) -> CheckReport {
    let mut report = CheckReport::default();
    let (prepared, mut problems) = prepare(options);
    if let Some(prepared) = prepared {
        inspect(prepared, &mut report, &mut problems);
    }
    let Problems {
        errors,
        warnings,
        notes,
        ..
    } = problems;
    report.notes = notes.iter().map(ToString::to_string).collect();
    let mut sorted: Vec<((Option<&Path>, usize), String)> = errors
        .iter()
        .map(|e| (e.location(), format!("error: {}", chain(e, ": "))))
        .chain(
            warnings
                .iter()
                .map(|w: &Warning| ((Some(w.path.as_path()), w.line), format!("warning: {w}"))),
        )
        .collect();
    sorted.sort();
    report.problems = sorted.into_iter().map(|(_, text)| text).collect();
    report
}

/// Makes every file (templates too) into nothing, and checks every link.
fn inspect(prepared: Prepared, report: &mut CheckReport, problems: &mut Problems) {
    let Prepared { site, bodies } = prepared;
    report.articles = site.content.articles.len();
    report.snippets = site.snippet_stats.snippets;
    let (links, made) = make_site(&site, &bodies, &Discard, (Mode::Check, problems));
    report.links = links;
    report.left_out = made.map(|m| m.left_out).unwrap_or_default();
    // What a check used is kept as long as what a build used.
    site.store.record_uses();
}
