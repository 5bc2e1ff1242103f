//! One article's page: rendered and put in its template, or taken from
//! the page cache of a long-running `kiln serve`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use super::Site;
use super::values::{ArticlePage, ArticleValues, SiteValues, SnippetSummary};
use crate::error::Error;
use crate::markdown::Document;
use crate::render::{Outline, RenderContext, render_article};
use crate::route::Target;
use crate::snippet::Placed;
use crate::thumbnail::{Small, small_thumbnail};

/// An article's finished page: what list pages and the feed need of it,
/// its HTML, and its links and heading ids for the link check.
#[derive(Debug, Clone)]
pub struct Page {
    pub values: ArticleValues,
    pub html: String,
    pub outline: Outline,
    /// The small thumbnail the lists show, to publish.
    pub small_thumbnail: Option<Small>,
}

/// Article pages of earlier builds, by article file, each with a hash of
/// everything its HTML depends on.
#[derive(Default)]
pub struct PageCache {
    pages: Mutex<HashMap<String, (String, Page)>>,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache").finish_non_exhaustive()
    }
}

impl PageCache {
    fn get(&self, rel: &str, key: &str) -> Option<Page> {
        let pages = self.pages.lock().ok()?;
        let (_, page) = pages.get(rel).filter(|(k, _)| k == key)?;
        Some(page.clone())
    }

    fn put(&self, rel: &str, key: String, page: &Page) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.insert(rel.to_owned(), (key, page.clone()));
        }
    }

    /// Forgets articles that are gone.
    pub fn keep_only(&self, rels: &HashSet<&str>) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.retain(|rel, _| rels.contains(rel.as_str()));
        }
    }
}

/// A hash of what every article page depends on besides its own file: the
/// configuration, the templates, and every URL an article can link to.
pub fn site_fingerprint(site: &Site) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(format!("{:?}", site.config).as_bytes());
    hasher.update(site.templates.fingerprint.as_bytes());
    for article in &site.content.articles {
        hasher.update(article.rel.as_bytes()).update(b"\0");
        hasher.update(article.slug.as_bytes()).update(b"\0");
    }
    for asset in &site.content.assets {
        hasher.update(asset.rel.as_bytes()).update(b"\0");
    }
    for term in site.routes.tags.iter().chain(&site.routes.authors) {
        hasher.update(term.name.as_bytes()).update(b"\0");
        hasher.update(term.slug.as_bytes()).update(b"\0");
    }
    hasher.finalize().to_hex().to_string()
}

/// Where a page may come from instead of being rendered: the cache and
/// the site's fingerprint.
#[derive(Clone, Copy)]
pub struct Reuse<'a> {
    pub cache: &'a PageCache,
    pub fingerprint: &'a str,
}

/// Renders article `index` into its page (consuming its document), or
/// takes it from the cache. The flag says whether it was rendered.
pub fn make_page(
    site: &Site,
    values: &SiteValues,
    index: usize,
    document: Document,
    reuse: Option<Reuse<'_>>,
) -> Result<(Page, bool), Error> {
    let article = &site.content.articles[index];
    let key = reuse.map(|reuse| page_key(site, index, reuse.fingerprint));
    if let (Some(reuse), Some(key)) = (reuse, &key)
        && let Some(page) = reuse.cache.get(&article.rel, key)
    {
        return Ok((page, false));
    }
    let cx = RenderContext {
        routes: &site.routes,
        highlighter: &site.highlighter,
        markdown: &site.config.markdown,
        snippets: &site.runs,
    };
    let (rendered, outline) = render_article(index, article, document, &cx);
    let small_thumbnail = small_thumbnail_of(site, index);
    let snippets = SnippetSummary::of(site.runs.in_article(index));
    let article_values = ArticleValues::new(
        index,
        article,
        rendered,
        snippets,
        small_thumbnail.as_ref().map(|s| site.routes.url(&s.out)),
        &site.routes,
    );
    let html = site.templates.render(
        "article.html",
        &ArticlePage {
            site: values,
            article: &article_values,
        },
    )?;
    let page = Page {
        values: article_values,
        html,
        outline,
        small_thumbnail,
    };
    if let (Some(reuse), Some(key)) = (reuse, key) {
        reuse.cache.put(&article.rel, key, &page);
    }
    Ok((page, true))
}

/// The small list thumbnail of an article whose thumbnail is an image of
/// the site.
fn small_thumbnail_of(site: &Site, index: usize) -> Option<Small> {
    let article = &site.content.articles[index];
    let resolved = site
        .routes
        .resolve(article.rel_dir(), article.thumbnail.as_deref()?)?;
    let Target::Asset(rel) = resolved.target else {
        return None;
    };
    let asset = &site.content.assets[site.routes.asset_index(&rel)?];
    small_thumbnail(
        &asset.source,
        &site.root.join(&site.config.snippets.cache_dir),
    )
}

/// The cache key of an article's page: the site's fingerprint, the
/// article's bytes and its snippet runs.
fn page_key(site: &Site, index: usize, fingerprint: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(fingerprint.as_bytes());
    hasher.update(site.content.articles[index].source_hash.as_bytes());
    let mut placed: Vec<_> = site.runs.in_article(index).into_iter().flatten().collect();
    placed.sort_by_key(|(event, _)| **event);
    for (event, placed) in placed {
        hasher.update(&(*event as u64).to_le_bytes());
        match placed {
            Placed::Embed(embed) => hasher.update(embed.key.as_bytes()),
            Placed::Unavailable => hasher.update(b"unavailable"),
        };
    }
    hasher.finalize().to_hex().to_string()
}
