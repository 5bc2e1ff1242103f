//! `check`: renders a prepared site without writing it and reports every
//! problem: front matter, templates (of every page, lists included),
//! snippets (through the cache), internal links, `#fragment`s, images and
//! thumbnails.

use std::path::Path;

use rayon::prelude::*;

use super::list::{list_pages, merged_bundles, newest_first, rank_of, term_values};
use super::page::{PageCache, make_page, pages_fingerprint};
use super::values::{ArticleValues, SiteValues};
use super::{BuildOptions, Prepared, Problems, Site, prepare};
use crate::error::{Error, Warning, chain};
use crate::link::check_links;
use crate::render::Outline;
use crate::route::OwnPage;

/// What `kiln check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Every problem, errors and warnings alike, each naming file and line,
    /// in the order of files and lines.
    pub problems: Vec<String>,
    pub articles: usize,
    pub links: usize,
    pub snippets: usize,
}

/// Checks the site at `options.root`. Every problem is collected; nothing
/// is written but the snippet cache.
pub fn check_site(options: &BuildOptions) -> CheckReport {
    let mut report = CheckReport::default();
    let (prepared, mut problems) = prepare(options);
    if let Some(prepared) = prepared {
        inspect(prepared, &mut report, &mut problems);
    }
    let Problems { errors, warnings } = problems;
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

/// Renders every page (templates too) and checks every link.
fn inspect(prepared: Prepared, report: &mut CheckReport, problems: &mut Problems) {
    report.articles = prepared.site.content.articles.len();
    report.snippets = prepared.site.snippet_stats.snippets;
    let inspection = render_and_check(prepared);
    report.links = inspection.links;
    problems.errors.extend(inspection.errors);
    problems.errors.extend(inspection.broken);
}

/// What rendering a site without writing it found.
pub(super) struct Inspection {
    /// Pages that could not be rendered (template errors).
    pub errors: Vec<Error>,
    /// Broken links, images and thumbnails.
    pub broken: Vec<Error>,
    /// How many links were checked.
    pub links: usize,
}

/// Renders every page (articles, the index, tag, author, search and 404
/// pages), templates too, writing nothing, and checks every link.
pub(super) fn render_and_check(prepared: Prepared) -> Inspection {
    let Prepared { site, bodies } = prepared;
    let values = SiteValues::new(&site.config, site.routes.base_path());
    // The pages `build` would write, taken from (or rendered into) the
    // same page cache.
    let cache = PageCache::new(&site.store);
    let fingerprint = pages_fingerprint(&site);
    let pages: Vec<Result<(ArticleValues, Outline), Error>> = bodies
        .par_iter()
        .enumerate()
        .map(|(i, body)| {
            make_page(&site, &values, i, body, (&cache, &fingerprint), false)
                .map(|(p, _)| (p.values, p.outline))
        })
        .collect();
    let mut errors = Vec::new();
    let mut summaries = Vec::with_capacity(pages.len());
    let mut outlines = Vec::with_capacity(pages.len());
    for page in pages {
        match page {
            Ok((summary, outline)) => {
                summaries.push(summary);
                outlines.push(outline);
            }
            Err(e) => {
                errors.push(e);
                outlines.push(Outline::default());
            }
        }
    }
    if errors.is_empty() {
        errors.extend(render_lists(&site, &values, &summaries));
    }
    let (broken, links) = check_links(&site.root, &site.content, &site.routes, &outlines);
    // What a check used is kept as long as what a build used.
    site.store.record_uses();
    Inspection {
        errors,
        broken,
        links,
    }
}

/// Renders every list page as `build` makes it, writing nothing; returns
/// the template errors.
fn render_lists(site: &Site, values: &SiteValues, summaries: &[ArticleValues]) -> Vec<Error> {
    let rank = rank_of(&newest_first(site));
    let merged = merged_bundles(site, summaries.len());
    let tags = term_values(site, OwnPage::Tags);
    let authors = term_values(site, OwnPage::Authors);
    let lists = list_pages(site, values, summaries, (&tags, &authors), &rank, &merged);
    lists
        .par_iter()
        .filter_map(|list| site.templates.render(list.template, &list.values).err())
        .collect()
}
