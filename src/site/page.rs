//! One article's page: taken from the page cache when nothing it depends
//! on changed, or rendered, put in its template and stored there.
//!
//! The cache lives on disk beside the snippet runs, shared by `build`,
//! `check` and `serve`. A page is stored under a key made of everything
//! it depends on: kiln itself, the configuration, the templates
//! `article.html` uses, the article's bytes, its snippet runs, its own URL
//! and its tags' and authors' URLs, and its list thumbnail. The one thing
//! the key cannot hold is where the article's links lead, since which
//! links there are is only known once rendered: the record keeps them, and
//! the page is reused only while each still resolves to the same URL.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Site;
use super::values::{ArticlePage, ArticleValues, SiteValues, SnippetSummary};
use crate::error::Error;
use crate::markdown::Body;
use crate::output::{Hash, Stamp, hash_bytes};
use crate::render::{
    Outline, RenderContext, RenderedArticle, TocEntry, links_fingerprint, render_article,
};
use crate::route::{Target, relative_urls};
use crate::snippet::Placed;
use crate::store::{Area, Store};
use crate::thumbnail::{Small, small_thumbnail};

/// An article's finished page: what list pages and the feed need of it,
/// where its HTML is, and its links and heading ids for the link check.
#[derive(Debug, Clone)]
pub struct Page {
    /// With the body only when asked for (the feed's articles).
    pub values: ArticleValues,
    pub html: PageFile,
    pub outline: Outline,
    /// The small thumbnail the lists show, to publish.
    pub small_thumbnail: Option<Small>,
}

/// A page's HTML, as stored in the cache: ready to publish.
#[derive(Debug, Clone)]
pub struct PageFile {
    pub path: PathBuf,
    pub hash: Hash,
    /// A hash of everything the article's entry in a list is made of: the
    /// page's key and where its links lead.
    pub entry: String,
}

/// The cached pages, in the store.
#[derive(Debug, Clone, Copy)]
pub struct PageCache<'a> {
    store: &'a Store,
}

/// What is kept of a rendered page besides its HTML and body.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    /// The link destinations looked up, and what they resolved to.
    looked_up: Vec<String>,
    links: String,
    toc: Vec<TocEntry>,
    toc_html: String,
    tldr: Option<String>,
    thumbnail: Option<String>,
    toc_in_body: bool,
    outline: Outline,
}

/// The first line of a stored page: its record, and its HTML file's hash
/// and stamp as stored (a file changed behind kiln's back, say a published
/// copy edited in place, is not trusted).
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    record: Record,
    html_hash: Hash,
    html: Stamp,
}

impl<'a> PageCache<'a> {
    pub fn new(store: &'a Store) -> PageCache<'a> {
        PageCache { store }
    }

    fn record_path(&self, key: &str) -> PathBuf {
        self.store.entry(Area::Pages, key, "json")
    }

    fn html_path(&self, key: &str) -> PathBuf {
        self.store.entry(Area::Pages, key, "html")
    }

    /// The record and HTML hash stored under `key`, if its HTML file is
    /// as stored.
    fn load(&self, key: &str) -> Option<(Record, Hash)> {
        if !self.store.reads(Area::Pages) {
            return None;
        }
        let file = fs::File::open(self.record_path(key)).ok()?;
        let mut line = String::new();
        BufReader::new(file).read_line(&mut line).ok()?;
        let stored: Stored = serde_json::from_str(&line).ok()?;
        let html = self.html_path(key);
        stored
            .html
            .matches(&html)
            .then_some((stored.record, stored.html_hash))
    }

    /// The body stored after the record's line.
    fn load_body(&self, key: &str) -> Option<String> {
        let file = fs::File::open(self.record_path(key)).ok()?;
        let mut reader = BufReader::new(file);
        reader.read_line(&mut String::new()).ok()?;
        let mut body = String::new();
        reader.read_to_string(&mut body).ok()?;
        Some(body)
    }

    /// Stores a page: its HTML, then the record and the body, each written
    /// whole and renamed into place. Returns the HTML's hash.
    fn store(&self, key: &str, html: &str, body: &str, record: Record) -> Result<Hash, Error> {
        let html_path = self.html_path(key);
        self.store.write(&html_path, &[html.as_bytes()])?;
        let stamp = Stamp::of(&html_path).map_err(|source| Error::Write {
            path: html_path.clone(),
            source,
        })?;
        let html_hash = hash_bytes(html.as_bytes());
        let stored = Stored {
            record,
            html_hash: html_hash.clone(),
            html: stamp,
        };
        let json = serde_json::to_string(&stored).map_err(|e| Error::Write {
            path: self.record_path(key),
            source: std::io::Error::other(e),
        })?;
        self.store.write(
            &self.record_path(key),
            &[json.as_bytes(), b"\n", body.as_bytes()],
        )?;
        Ok(html_hash)
    }
}

/// A file of the cache that is hard-linked into the published site, named
/// by its key, with its size and modification time beside it: a file
/// changed behind kiln's back (a published copy edited in place) is not
/// trusted.
#[derive(Debug, Clone, Copy)]
pub struct StampedFiles<'a> {
    store: &'a Store,
    area: Area,
}

impl<'a> StampedFiles<'a> {
    pub fn new(store: &'a Store, area: Area) -> StampedFiles<'a> {
        StampedFiles { store, area }
    }

    fn paths(&self, key: &str) -> (PathBuf, PathBuf) {
        (
            self.store.entry(self.area, key, "html"),
            self.store.entry(self.area, key, "stamp"),
        )
    }

    /// The file stored under `key`, if it is as stored.
    pub fn load(&self, key: &str) -> Option<PathBuf> {
        if !self.store.reads(self.area) {
            return None;
        }
        let (file, stamp) = self.paths(key);
        let stamp: Stamp = self.store.load_json(&stamp)?;
        stamp.matches(&file).then_some(file)
    }

    /// Stores `bytes` under `key`; returns the file.
    pub fn store(&self, key: &str, bytes: &[u8]) -> Result<PathBuf, Error> {
        let (file, stamp_path) = self.paths(key);
        self.store.write(&file, &[bytes])?;
        let stamp = Stamp::of(&file).map_err(|source| Error::Write {
            path: file.clone(),
            source,
        })?;
        self.store.store_json(&stamp_path, &stamp)?;
        Ok(file)
    }
}

/// A hash of what every article page depends on besides its own article:
/// kiln itself, the configuration and the templates `article.html` uses.
pub fn pages_fingerprint(site: &Site) -> String {
    let config = &site.config;
    let key = SiteKey {
        version: "kiln-page-v2",
        kiln: &site.kiln,
        title: &config.title,
        description: &config.description,
        base_url: &config.base_url,
        language: &config.language,
        authors: &config.authors,
        content_dir: &config.content_dir,
        markdown: &config.markdown,
        highlight: &config.highlight,
        snippets: &config.snippets,
        base_path: site.routes.base_path(),
        template: site.templates.fingerprint_of("article.html"),
    };
    crate::store::key(&key)
}

/// The settings an article page shows or is made with, shared by every
/// page's key; not `search`, `page_size` or `ignore` (which articles there
/// are shows in the routes each page's key and links are checked
/// against).
#[derive(Serialize)]
struct SiteKey<'a> {
    version: &'static str,
    kiln: &'a str,
    title: &'a str,
    description: &'a str,
    base_url: &'a str,
    language: &'a str,
    authors: &'a [String],
    content_dir: &'a Path,
    markdown: &'a crate::config::MarkdownConfig,
    highlight: &'a crate::config::HighlightConfig,
    snippets: &'a crate::config::SnippetConfig,
    base_path: &'a str,
    template: &'a str,
}

/// Takes article `index`'s page from the cache, or renders it (parsing its
/// Markdown) and stores it. The flag says whether it was rendered.
pub fn make_page(
    site: &Site,
    values_site: &SiteValues,
    index: usize,
    body: &Body,
    (cache, fingerprint): (&PageCache<'_>, &str),
    with_body: bool,
) -> Result<(Page, bool), Error> {
    let article = &site.content.articles[index];
    let small_thumbnail = small_thumbnail_of(site, index);
    let key = page_key(site, index, fingerprint, small_thumbnail.as_ref());
    let snippets = SnippetSummary::of(site.runs.in_article(index));
    let thumbnail_url = small_thumbnail.as_ref().map(|s| site.routes.url(&s.out));
    let from_dir = article.rel_dir();
    let values_of = |rendered| {
        ArticleValues::new(
            index,
            article,
            rendered,
            snippets,
            thumbnail_url,
            &site.routes,
        )
    };
    let (article_values, outline, hash, links, fresh) =
        match cached(cache, &key, with_body).filter(|(record, _, _)| {
            record.links == links_fingerprint(&record.looked_up, from_dir, &site.routes)
        }) {
            Some((record, html_hash, body)) => {
                let rendered = RenderedArticle {
                    body,
                    toc: record.toc,
                    toc_html: record.toc_html,
                    tldr: record.tldr,
                    thumbnail: record.thumbnail,
                    toc_in_body: record.toc_in_body,
                    looked_up: record.looked_up,
                };
                let values = values_of(rendered);
                (values, record.outline, html_hash, record.links, false)
            }
            None => {
                let cx = RenderContext {
                    routes: &site.routes,
                    highlighter: &site.highlighter,
                    markdown: &site.config.markdown,
                    snippets: &site.runs,
                };
                let (rendered, outline) = render_article(index, article, body.document()?, &cx);
                let record = Record {
                    links: links_fingerprint(&rendered.looked_up, from_dir, &site.routes),
                    looked_up: rendered.looked_up.clone(),
                    toc: rendered.toc.clone(),
                    toc_html: rendered.toc_html.clone(),
                    tldr: rendered.tldr.clone(),
                    thumbnail: rendered.thumbnail.clone(),
                    toc_in_body: rendered.toc_in_body,
                    outline: outline.clone(),
                };
                let values = values_of(rendered);
                let page = ArticlePage {
                    site: values_site,
                    article: &values,
                };
                let html = site.templates.render("article.html", &page)?;
                let html = relative_urls(&html, site.routes.base_path(), &page_path(&article.slug));
                let links = record.links.clone();
                let hash = cache.store(&key, &html, &values.body, record)?;
                (values, outline, hash, links, true)
            }
        };
    let page = Page {
        values: if with_body {
            article_values
        } else {
            article_values.without_body()
        },
        html: PageFile {
            path: cache.html_path(&key),
            hash,
            entry: entry_key(&key, &links),
        },
        outline,
        small_thumbnail,
    };
    Ok((page, fresh))
}

/// The record and HTML hash stored under `key` and, if `with_body`, the
/// body (else an empty one).
fn cached(cache: &PageCache<'_>, key: &str, with_body: bool) -> Option<(Record, Hash, String)> {
    let (record, hash) = cache.load(key)?;
    let body = if with_body {
        cache.load_body(key)?
    } else {
        String::new()
    };
    Some((record, hash, body))
}

/// What an article's entry in a list is made of: its page's key and
/// where its links lead.
#[derive(Serialize)]
struct EntryKey<'a> {
    page: &'a str,
    links: &'a str,
}

fn entry_key(page: &str, links: &str) -> String {
    crate::store::key(&EntryKey { page, links })
}

/// Where an article's page is published, inside the site.
pub fn page_path(slug: &str) -> String {
    format!("{slug}/index.html")
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
    small_thumbnail(&asset.source, &site.store)
}

/// The cache key of an article's page: the pages' fingerprint, the
/// article's file and bytes, its own URL and its terms' URLs, its list
/// thumbnail and its snippet runs.
fn page_key(site: &Site, index: usize, fingerprint: &str, small: Option<&Small>) -> String {
    let article = &site.content.articles[index];
    let routes = &site.routes;
    let mut placed: Vec<_> = site.runs.in_article(index).into_iter().flatten().collect();
    placed.sort_by_key(|(event, _)| **event);
    let key = PageKey {
        fingerprint,
        rel: &article.rel,
        source: &article.source_hash,
        url: routes.article_url(index),
        tags: article
            .front
            .tags
            .iter()
            .map(|t| routes.tag_url(t))
            .collect(),
        authors: article
            .front
            .authors
            .iter()
            .map(|a| routes.author_url(a))
            .collect(),
        thumbnail: small.map(|s| s.out.as_str()),
        snippets: placed
            .into_iter()
            .map(|(event, placed)| match placed {
                Placed::Embed(embed) => (*event, Some(embed.key.as_str())),
                Placed::Unavailable => (*event, None),
            })
            .collect(),
    };
    crate::store::key(&key)
}

/// Everything an article's page is made of besides the site's settings
/// (`fingerprint`): its cache key, hashed once.
#[derive(Serialize)]
struct PageKey<'a> {
    fingerprint: &'a str,
    rel: &'a str,
    /// A hash of the article's file.
    source: &'a str,
    url: String,
    /// The URLs of its tags and authors.
    tags: Vec<Option<String>>,
    authors: Vec<Option<String>>,
    thumbnail: Option<&'a str>,
    /// Each snippet's place and key (`None`: its file is unavailable).
    snippets: Vec<(usize, Option<&'a str>)>,
}
