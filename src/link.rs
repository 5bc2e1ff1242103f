//! Internal links: every link, image and thumbnail of every article is
//! checked against the pages and files the site publishes and the heading
//! ids of its target page. `kiln check` reports broken ones as errors,
//! `kiln build` as warnings.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::content::Content;
use crate::error::{Error, Warning};
use crate::render::Outline;
use crate::route::{OwnPage, Routes, STATIC_FILES, Target};

/// What the link check found: broken links, notes (links that work, but
/// not as written), and how many links were checked.
#[derive(Debug, Default)]
pub struct LinkReport {
    pub broken: Vec<Error>,
    pub notes: Vec<Warning>,
    pub checked: usize,
}

/// Checks every link of every article (`outlines` by article index).
pub fn check_links(
    root: &Path,
    content: &Content,
    routes: &Routes,
    outlines: &[Outline],
) -> LinkReport {
    let ids: Vec<HashSet<&str>> = outlines
        .iter()
        .map(|o| o.ids.iter().map(String::as_str).collect())
        .collect();
    let lowercase_ids: Vec<HashMap<String, &str>> = outlines
        .iter()
        .map(|o| {
            o.ids
                .iter()
                .map(|id| (id.to_lowercase(), id.as_str()))
                .collect()
        })
        .collect();
    let checker = LinkChecker {
        routes,
        ids: &ids,
        lowercase_ids: &lowercase_ids,
        site: SitePaths::new(content, routes),
        root,
        notes: std::cell::RefCell::default(),
    };
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let mut checked = 0;
    for (i, (article, outline)) in content.articles.iter().zip(outlines).enumerate() {
        let broken = |line: usize, message: String| Error::BrokenLink {
            path: article.source.clone(),
            line,
            message,
        };
        for link in &outline.links {
            checked += 1;
            let what = if link.image { "image" } else { "link" };
            if let Some(message) = checker.check(&link.dest, article.rel_dir(), i) {
                errors.push(broken(
                    link.line,
                    format!("{what} `{}` {message}", link.dest),
                ));
            }
            notes.extend(checker.notes.take().into_iter().map(|message| Warning {
                path: article.source.clone(),
                line: link.line,
                message: format!("{what} `{}` {message}", link.dest),
            }));
        }
        if let Some(thumbnail) = &article.thumbnail {
            checked += 1;
            let line = article.front.positions.line("thumbnail").unwrap_or(1);
            if let Some(message) = checker.check(thumbnail, article.rel_dir(), i) {
                errors.push(broken(line, format!("thumbnail `{thumbnail}` {message}")));
            }
        }
    }
    LinkReport {
        broken: errors,
        notes,
        checked,
    }
}

/// Every path the site publishes, relative to the base path.
struct SitePaths {
    pages: HashMap<String, Option<usize>>,
}

impl SitePaths {
    fn new(content: &Content, routes: &Routes) -> SitePaths {
        let mut pages: HashMap<String, Option<usize>> = HashMap::new();
        for (i, article) in content.articles.iter().enumerate() {
            pages.insert(format!("{}/", article.slug), Some(i));
        }
        for asset in &content.assets {
            pages.insert(asset.out.clone(), None);
        }
        for term in &routes.tags {
            pages.insert(format!("tags/{}/", term.slug), None);
        }
        for term in &routes.authors {
            pages.insert(format!("authors/{}/", term.slug), None);
        }
        for own in OwnPage::ALL.into_iter().filter(|own| own.is_page()) {
            // `find` looks pages up without their `index.html`.
            let path = own.path().strip_suffix("index.html").unwrap_or(own.path());
            pages.insert(path.to_owned(), None);
        }
        for file in STATIC_FILES {
            pages.insert(file.to_owned(), None);
        }
        SitePaths { pages }
    }

    /// The page at `path` (relative to the base path), accepting `x`,
    /// `x/` and `x/index.html` for a page at `x/`. `Some(None)` is a page
    /// that is not an article.
    fn find(&self, path: &str) -> Option<Option<usize>> {
        let path = path.strip_suffix("index.html").unwrap_or(path);
        if path.starts_with(OwnPage::SearchBundle.path()) {
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
    /// The same, lowercased, to the id.
    lowercase_ids: &'a [HashMap<String, &'a str>],
    site: SitePaths,
    root: &'a Path,
    /// What the last check noted.
    notes: std::cell::RefCell<Vec<String>>,
}

impl LinkChecker<'_> {
    /// Why a link written in article `from` (in folder `from_dir`) is
    /// broken, or `None` if it is fine or not checkable (an external URL).
    fn check(&self, dest: &str, from_dir: &str, from: usize) -> Option<String> {
        let (routes, ids, site, root) = (self.routes, self.ids, &self.site, self.root);
        let fragment_missing = |article: usize, fragment: &str| {
            if fragment.is_empty() || ids[article].contains(fragment) {
                return None;
            }
            // Jupyter writes anchors with the heading's case
            // (`#Learning-objectives`); kiln's page script follows them.
            if let Some(id) = self.lowercase_ids[article].get(&fragment.to_lowercase()) {
                self.notes.borrow_mut().push(format!(
                    "matches the heading `#{id}` only without regard to case: it works, but `#{id}` is exact"
                ));
                return None;
            }
            Some(format!(
                "points at `#{fragment}`, which is no heading id of its page"
            ))
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
                    format!(
                        "points at `{path}`, which is outside `{}` and so not published",
                        routes.content_prefix()
                    )
                } else {
                    format!("points at `{path}`, which does not exist")
                })
            }
        }
    }
}
