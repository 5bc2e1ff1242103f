//! `kiln check`: the whole site's health in one pass, writing nothing to
//! the output folder. Front matter, templates, snippets (through the cache),
//! internal links, `#fragment`s, images and thumbnails.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rayon::prelude::*;

use crate::config::Config;
use crate::content::{Document, load_content_partially};
use crate::error::{Error, Warning, chain};
use crate::highlight::Highlighter;
use crate::render::{RenderContext, RenderedArticle, render_article};
use crate::route::{Routes, Target};
use crate::search::SEARCH_DIR;
use crate::site::{BuildOptions, lock_site};
use crate::snippet::{RunOptions, SnippetRuns, collect_snippets, run_snippets};
use crate::template::Templates;

/// What `kiln check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Every problem, errors and warnings alike, each naming file and line.
    pub problems: Vec<String>,
    pub articles: usize,
    pub links: usize,
    pub snippets: usize,
}

/// Checks the site at `options.root`. Every problem is collected; nothing
/// is written but the snippet cache.
pub fn check_site(options: &BuildOptions) -> CheckReport {
    let mut report = CheckReport::default();
    let mut errors: Vec<Error> = Vec::new();
    let mut warnings: Vec<Warning> = Vec::new();
    run_checks(options, &mut report, &mut errors, &mut warnings);
    let mut problems: Vec<(String, String)> = errors
        .iter()
        .map(|e| {
            (
                sort_key(&e.to_string()),
                format!("error: {}", chain(e, ": ")),
            )
        })
        .chain(
            warnings
                .iter()
                .map(|w| (sort_key(&w.to_string()), format!("warning: {w}"))),
        )
        .collect();
    problems.sort();
    report.problems = problems.into_iter().map(|(_, text)| text).collect();
    report
}

/// Problems sort by file, then by line number.
fn sort_key(text: &str) -> String {
    let mut parts = text.splitn(3, ':');
    let file = parts.next().unwrap_or_default();
    let line: usize = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
    format!("{file}\u{0}{line:010}")
}

fn run_checks(
    options: &BuildOptions,
    report: &mut CheckReport,
    errors: &mut Vec<Error>,
    warnings: &mut Vec<Warning>,
) {
    let root = &options.root;
    let config = match Config::load(root) {
        Ok(config) => config,
        Err(e) => return errors.push(e),
    };
    let (mut content, content_errors) =
        match load_content_partially(root, options.drafts, &config.authors) {
            Ok(loaded) => loaded,
            Err(e) => return errors.extend(e.0),
        };
    errors.extend(content_errors);
    warnings.append(&mut content.warnings);
    report.articles = content.articles.len();
    if let Err(e) = Templates::load(root) {
        errors.extend(e.0);
    }
    let highlighter = match Highlighter::new(&config.highlight) {
        Ok(h) => h,
        Err(e) => return errors.push(e),
    };
    let routes = match Routes::new(&config.base_path(), &content) {
        Ok(routes) => routes,
        Err(e) => return errors.extend(e.0),
    };

    let runs = {
        let _lock = match lock_site(&root.join(&config.snippets.cache_dir)) {
            Ok(lock) => lock,
            Err(e) => return errors.push(e),
        };
        let collected = collect_snippets(root, &content, &routes, &config.snippets);
        let collected = match collected {
            Ok(found) => {
                report.snippets = found.len();
                found
            }
            Err(e) => {
                errors.extend(e.0);
                Vec::new()
            }
        };
        let run_options = RunOptions {
            root: root.clone(),
            fresh: false,
            bless: false,
        };
        match run_snippets(collected, &content.articles, &config.snippets, &run_options) {
            Ok(outcome) => {
                errors.extend(outcome.failures);
                outcome.runs
            }
            Err(e) => {
                errors.extend(e.0);
                SnippetRuns::default()
            }
        }
    };

    let cx = RenderContext {
        routes: &routes,
        highlighter: &highlighter,
        markdown: &config.markdown,
        snippets: &runs,
    };
    let documents: Vec<Document> = content
        .articles
        .iter_mut()
        .map(|a| std::mem::take(&mut a.document))
        .collect();
    let rendered: Vec<RenderedArticle> = content
        .articles
        .par_iter()
        .zip(documents)
        .enumerate()
        .map(|(i, (article, document))| render_article(i, article, document, &cx))
        .collect();
    let ids: Vec<HashSet<&str>> = rendered
        .iter()
        .map(|r| r.ids.iter().map(String::as_str).collect())
        .collect();
    let checker = LinkChecker {
        routes: &routes,
        ids: &ids,
        site: SitePaths::new(&content, &routes),
        root,
    };

    for (i, (article, page)) in content.articles.iter().zip(&rendered).enumerate() {
        let broken = |line: usize, message: String| Error::BrokenLink {
            path: article.source.clone(),
            line,
            message,
        };
        for link in &page.links {
            report.links += 1;
            let what = if link.image { "image" } else { "link" };
            if let Some(message) = checker.check(&link.dest, article.rel_dir(), i) {
                errors.push(broken(
                    link.line,
                    format!("{what} `{}` {message}", link.dest),
                ));
            }
        }
        if let Some(thumbnail) = &article.front.thumbnail {
            report.links += 1;
            let line = article.front.lines.get("thumbnail").copied().unwrap_or(1);
            if let Some(message) = checker.check(thumbnail, article.rel_dir(), i) {
                errors.push(broken(line, format!("thumbnail `{thumbnail}` {message}")));
            }
        }
    }
}

/// Every path the site publishes, relative to the base path.
struct SitePaths {
    pages: HashMap<String, Option<usize>>,
}

impl SitePaths {
    fn new(content: &crate::content::Content, routes: &Routes) -> SitePaths {
        let mut pages: HashMap<String, Option<usize>> = HashMap::new();
        for (i, article) in content.articles.iter().enumerate() {
            pages.insert(format!("{}/", article.slug), Some(i));
        }
        for asset in &content.assets {
            pages.insert(asset.rel.clone(), None);
        }
        for term in &routes.tags {
            pages.insert(format!("tags/{}/", term.slug), None);
        }
        for term in &routes.authors {
            pages.insert(format!("authors/{}/", term.slug), None);
        }
        for fixed in [
            "",
            "tags/",
            "search/",
            "404.html",
            "atom.xml",
            "sitemap.xml",
            "robots.txt",
            "static/style.css",
            "static/highlight.css",
            "static/favicon.svg",
        ] {
            pages.insert(fixed.to_owned(), None);
        }
        SitePaths { pages }
    }

    /// The page at `path` (relative to the base path), accepting `x`,
    /// `x/` and `x/index.html` for a page at `x/`. `Some(None)` is a page
    /// that is not an article.
    fn find(&self, path: &str) -> Option<Option<usize>> {
        let path = path.strip_suffix("index.html").unwrap_or(path);
        if path.starts_with(&format!("{SEARCH_DIR}/")) {
            return Some(None);
        }
        self.pages
            .get(path)
            .or_else(|| self.pages.get(&format!("{path}/")))
            .copied()
    }
}

/// What a link is checked against.
struct LinkChecker<'a> {
    routes: &'a Routes,
    /// Heading ids, by article.
    ids: &'a [HashSet<&'a str>],
    site: SitePaths,
    root: &'a Path,
}

impl LinkChecker<'_> {
    /// Why a link written in article `from` (in folder `from_dir`) is
    /// broken, or `None` if it is fine or not checkable (an external URL).
    fn check(&self, dest: &str, from_dir: &str, from: usize) -> Option<String> {
        let (routes, ids, site, root) = (self.routes, self.ids, &self.site, self.root);
        let fragment_missing = |article: usize, fragment: &str| {
            (!fragment.is_empty() && !ids[article].contains(fragment))
                .then(|| format!("points at `#{fragment}`, which is no heading id of its page"))
        };
        if let Some(fragment) = dest.strip_prefix('#') {
            return fragment_missing(from, fragment);
        }
        if dest.starts_with("//") || dest.contains("://") || dest.starts_with("mailto:") {
            return None;
        }
        if let Some(absolute) = dest.strip_prefix('/') {
            let (path, fragment) = absolute.split_once('#').unwrap_or((absolute, ""));
            let path = path.split('?').next().unwrap_or_default();
            let base = routes.base_path().trim_start_matches('/');
            let Some(inside) = path.strip_prefix(base) else {
                return Some(format!(
                    "is outside the site's base path `{}`",
                    routes.base_path()
                ));
            };
            return match site.find(inside) {
                None => Some("points at no page or file of the site".to_owned()),
                Some(Some(article)) => fragment_missing(article, fragment),
                Some(None) => None,
            };
        }
        let Some(resolved) = routes.resolve(from_dir, dest) else {
            // A scheme such as `tel:`, or a path out of the site root.
            return (!dest.contains(':')).then(|| "leaves the site's root folder".to_owned());
        };
        let fragment = resolved.fragment.as_deref().unwrap_or("");
        match resolved.target {
            Target::Article(article) => fragment_missing(article, fragment),
            Target::Asset(_) => None,
            Target::Other(path) => {
                let exists = root.join(&path).exists();
                Some(if exists {
                    format!("points at `{path}`, which is outside `content/` and so not published")
                } else {
                    format!("points at `{path}`, which does not exist")
                })
            }
        }
    }
}
