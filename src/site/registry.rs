//! The output registry: every file the site publishes is one planned entry
//! ([`Planned`]): where it goes, how it is made ([`Make`]) and whether the
//! sitemap lists it. One loop ([`make_files`]) makes or reuses each entry
//! into a [`Sink`]: the staging folder for `build` and `serve`, nothing for
//! `check`, which still makes every file and so meets every template error.
//!
//! Article pages are made first ([`make_articles`]): the lists, the feed
//! and the search index are made of them. Everything else is planned by
//! [`plan_site`]; a new kind of page is an entry there (and its path in
//! `route::OwnPage`, which keeps articles off it). Every generated file
//! that is not a page listing articles (the redirects, the feed, the
//! sitemap, `robots.txt`) is a built-in template a site can override.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use rayon::prelude::*;
use serde::Serialize;

use super::list::{
    ListPage, list_pages, merged_bundles, newest_first, rank_of, term_values, write_list,
};
use super::page::{PageCache, StampedFiles, make_page, page_path};
use super::values::{ArticleValues, SiteValues};
use super::{Mode, Problems, Site};
use crate::content::Asset;
use crate::error::{Error, Warning};
use crate::feed::{CrawlerValues, FEED_SIZE, FeedEntry, FeedValues, SitemapPage, rfc3339};
use crate::front_matter::Date;
use crate::highlight::escape_html;
use crate::link::check_links;
use crate::markdown::Body;
use crate::output::{Hash, Sink};
use crate::render::Outline;
use crate::route::{OwnPage, Resolved, STATIC_FILES, Target, relative_urls};

/// The site icon.
const FAVICON: &str = include_str!("../../templates/favicon.svg");

/// The page script: copy buttons on code.
const SCRIPT: &str = include_str!("../../templates/kiln.js");

/// One file the site publishes.
pub(super) struct Planned<'a> {
    /// Where it goes, relative to the output folder.
    pub(super) path: String,
    pub(super) make: Make<'a>,
    /// Listed in the sitemap, with its last change if known.
    pub(super) sitemap: Option<Option<Date>>,
}

/// How a planned file is made.
pub(super) enum Make<'a> {
    /// An article's page, from the page cache or rendered: made before
    /// everything else, by [`make_articles`].
    Article,
    /// A page listing articles, from its template, through the list cache.
    List(Box<ListPage<'a>>),
    /// A file from a template with these values, not cached (cheap to
    /// make); its site URLs made relative to it if `relative`.
    Template {
        name: &'static str,
        values: serde_json::Value,
        relative: bool,
    },
    /// A file of the site's sources (or of a cache), copied.
    Copy(PathBuf),
    /// A file of the store whose hash is known, linked.
    Link { file: PathBuf, hash: Hash },
    /// Bytes kiln has in hand: its script and icon, the stylesheets.
    Bytes(Cow<'a, [u8]>),
}

impl Planned<'_> {
    /// Whether it is a page for readers, as the build's summary counts
    /// them (not the 404 and search pages, nor redirects).
    pub(super) fn is_page(&self) -> bool {
        match &self.make {
            Make::Article => true,
            Make::List(list) => list.for_readers,
            _ => false,
        }
    }
}

/// An article page as staged: the article, the cached file and its hash.
pub(super) struct ArticleFile {
    pub(super) index: usize,
    pub(super) file: PathBuf,
    pub(super) hash: Hash,
    /// What the article's entry in a list is made of.
    pub(super) entry: String,
}

/// The article pages made: what the lists and the feed need of each (with
/// the body only for the feed's), their outlines for the link check, how
/// many were rendered rather than reused, the staged files and the list
/// thumbnails to publish.
pub(super) struct MadeArticles {
    pub(super) summaries: Vec<ArticleValues>,
    pub(super) outlines: Vec<Outline>,
    pub(super) rendered: usize,
    pub(super) files: Vec<ArticleFile>,
    /// Published path to cached file, once each: articles share images.
    pub(super) thumbnails: BTreeMap<String, PathBuf>,
}

/// Takes every article page from the page cache or renders it, in
/// parallel, into `sink`; returns them and the pages that could not be
/// made. `rank` is each article's place, newest first: the feed's
/// articles keep their bodies.
fn make_articles(
    site: &Site,
    values: &SiteValues,
    bodies: &[Body],
    rank: &[usize],
    sink: &dyn Sink,
) -> (MadeArticles, Vec<Error>) {
    let cache = PageCache::new(&site.store);
    let fingerprint = super::page::pages_fingerprint(site);
    let results: Vec<_> = bodies
        .par_iter()
        .enumerate()
        .map(|(i, body)| {
            let made = make_page(
                site,
                values,
                i,
                body,
                (&cache, &fingerprint),
                rank[i] < FEED_SIZE,
            )?;
            let slug = &site.content.articles[i].slug;
            sink.link(
                &page_path(slug),
                &made.0.html.path,
                made.0.html.hash.clone(),
            );
            Ok(made)
        })
        .collect();
    let mut made = MadeArticles {
        summaries: Vec::with_capacity(results.len()),
        outlines: Vec::with_capacity(results.len()),
        rendered: 0,
        files: Vec::with_capacity(results.len()),
        thumbnails: BTreeMap::new(),
    };
    let mut errors = Vec::new();
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Ok((page, fresh)) => {
                made.rendered += usize::from(fresh);
                made.summaries.push(page.values);
                made.outlines.push(page.outline);
                made.files.push(ArticleFile {
                    index,
                    entry: page.html.entry,
                    file: page.html.path,
                    hash: page.html.hash,
                });
                made.thumbnails
                    .extend(page.small_thumbnail.map(|s| (s.out, s.file)));
            }
            Err(e) => {
                errors.push(e);
                made.outlines.push(Outline::default());
            }
        }
    }
    (made, errors)
}

/// A site made into a sink: its article pages, and how many pages for
/// readers and assets it publishes.
pub(super) struct MadeSite {
    pub(super) articles: MadeArticles,
    pub(super) pages: usize,
    pub(super) assets: usize,
    /// The files of the content folder no page links to, left out.
    pub(super) left_out: Vec<PathBuf>,
}

/// Makes every file of a prepared site into `sink`: the article pages
/// first, their links checked, then every other planned file. Problems go
/// to `problems`, weighed as `mode` says. Returns how many links were
/// checked, and the made site unless an article page could not be made
/// (the rest is made of them).
pub(super) fn make_site(
    site: &Site,
    bodies: &[Body],
    sink: &dyn Sink,
    (mode, problems): (Mode, &mut Problems),
) -> (usize, Option<MadeSite>) {
    let values = SiteValues::new(&site.config, site.routes.base_path());
    let order = newest_first(site);
    let rank = rank_of(&order);
    let (made, errors) = make_articles(site, &values, bodies, &rank, sink);
    let report = check_links(&site.root, &site.content, &site.routes, &made.outlines);
    let (mut broken, links) = (report.broken, report.checked);
    problems.notes.extend(report.notes);
    // Formulas drawn as errors weigh as broken links do; a language no
    // syntax knows is a note.
    for (article, outline) in site.content.articles.iter().zip(&made.outlines) {
        problems
            .notes
            .extend(outline.unknown_languages.iter().map(|note| Warning {
                path: article.source.clone(),
                line: note.line,
                message: note.message.clone(),
            }));
        broken.extend(outline.math.iter().map(|p| Error::Math {
            path: article.source.clone(),
            line: p.line,
            message: p.message.clone(),
        }));
    }
    problems.add_broken(mode, broken);
    if !errors.is_empty() {
        problems.errors.extend(errors);
        return (links, None);
    }
    let articles = &site.content.articles;
    let newest = order
        .iter()
        .filter_map(|&i| articles[i].front.last_change())
        .max();
    let merged = merged_bundles(site, articles.len());
    let tags = term_values(site, OwnPage::Tags);
    let authors = term_values(site, OwnPage::Authors);
    let lists = list_pages(
        site,
        &values,
        &made.summaries,
        (&tags, &authors),
        (&rank, newest),
        &merged,
    );
    let linked = linked_assets(site, &made.outlines);
    let (published, left_out): (Vec<&Asset>, Vec<&Asset>) = site
        .content
        .assets
        .iter()
        .partition(|asset| is_published(asset, &linked));
    let assets = published.len();
    // A post's own bookkeeping (`REVISION`, `orig_src/`) was never meant to
    // be published: no note for it.
    let left_out = left_out
        .iter()
        .filter(|a| !a.only_if_linked)
        .map(|a| a.source.clone())
        .collect();
    let plan = plan_site(
        site,
        PlanInputs {
            values: &values,
            made: &made,
            order: &order,
            lists,
            published: &published,
        },
    );
    let entries: Vec<&str> = made.files.iter().map(|f| f.entry.as_str()).collect();
    problems
        .errors
        .extend(make_files(site, &plan, &entries, sink));
    let pages = plan.iter().filter(|p| p.is_page()).count();
    drop(entries);
    drop(plan);
    let made = MadeSite {
        articles: made,
        pages,
        assets,
        left_out,
    };
    (links, Some(made))
}

/// What the plan of a site is made from besides the site.
struct PlanInputs<'a> {
    values: &'a SiteValues,
    made: &'a MadeArticles,
    /// Article indexes, newest first.
    order: &'a [usize],
    /// The list pages, the index's first.
    lists: Vec<ListPage<'a>>,
    /// The files of the content folder to publish.
    published: &'a [&'a Asset],
}

/// Every file of the site besides the article pages' own making: the
/// index's pages, every article, the other list pages, the redirects, the
/// assets, the thumbnails, the stylesheets, script and icon, the feed,
/// `robots.txt` and last the sitemap of every entry that asks for it, in
/// that order. The search index is planned after it is made.
fn plan_site<'a>(site: &'a Site, inputs: PlanInputs<'a>) -> Vec<Planned<'a>> {
    let PlanInputs {
        values,
        made,
        order,
        lists,
        published,
    } = inputs;
    let articles = &site.content.articles;
    let mut plan: Vec<Planned<'a>> = Vec::new();
    let mut lists = lists.into_iter().peekable();
    // The index's pages first, then the articles, as the sitemap lists
    // them.
    while let Some(list) = lists.next_if(|l| l.template == "index.html") {
        plan.push(list.planned());
    }
    plan.extend(order.iter().map(|&i| Planned {
        path: page_path(&articles[i].slug),
        make: Make::Article,
        sitemap: Some(articles[i].front.last_change()),
    }));
    plan.extend(lists.map(ListPage::planned));
    let prefix = crate::feed::url_prefix(&site.config.base_url, site.routes.base_path());
    plan.extend(plan_redirects(site, values, &prefix));
    plan.extend(
        published
            .iter()
            .map(|asset| file(asset.out.clone(), Make::Copy(asset.source.clone()))),
    );
    plan.extend(
        made.thumbnails
            .iter()
            .map(|(out, cached)| file(out.clone(), Make::Copy(cached.clone()))),
    );
    let [style, highlight, favicon, script] = STATIC_FILES;
    plan.extend([
        file(script.to_owned(), bytes(SCRIPT.as_bytes())),
        file(style.to_owned(), bytes(site.templates.style.as_bytes())),
        file(
            highlight.to_owned(),
            bytes(site.highlighter.css().as_bytes()),
        ),
        file(favicon.to_owned(), bytes(FAVICON.as_bytes())),
    ]);
    let feed = feed_values(site, made, order, &prefix);
    plan.push(template(OwnPage::Feed, "atom.xml", values, &feed));
    let pages: Vec<SitemapPage> = plan
        .iter()
        .filter_map(|p| {
            let lastmod = p.sitemap?;
            Some(SitemapPage {
                url: format!("{prefix}/{}", p.path.trim_end_matches("index.html")),
                lastmod: lastmod.map(|d| d.ymd()),
            })
        })
        .collect();
    // `robots.txt` names the sitemap; only the sitemap lists the pages.
    let robots = CrawlerValues {
        prefix: &prefix,
        pages: Vec::new(),
    };
    plan.push(template(OwnPage::Robots, "robots.txt", values, &robots));
    let sitemap = CrawlerValues {
        prefix: &prefix,
        pages,
    };
    plan.push(template(OwnPage::Sitemap, "sitemap.xml", values, &sitemap));
    plan
}

fn file<'a>(path: String, make: Make<'a>) -> Planned<'a> {
    Planned {
        path,
        make,
        sitemap: None,
    }
}

fn bytes(bytes: &[u8]) -> Make<'_> {
    Make::Bytes(Cow::Borrowed(bytes))
}

/// A file of kiln's own from its template, given the site's values
/// (`site`) beside `values`.
fn template<T: Serialize>(
    own: OwnPage,
    name: &'static str,
    site: &SiteValues,
    values: &T,
) -> Planned<'static> {
    file(
        own.path().to_owned(),
        Make::Template {
            name,
            values: with_site(site, values),
            relative: false,
        },
    )
}

/// `values` as a template's context, with the site's values as `site`.
fn with_site<T: Serialize>(site: &SiteValues, values: &T) -> serde_json::Value {
    let mut context = serde_json::to_value(values).unwrap_or_default();
    if let serde_json::Value::Object(map) = &mut context {
        map.insert(
            "site".to_owned(),
            serde_json::to_value(site).unwrap_or_default(),
        );
    }
    context
}

/// What a redirect page shows.
#[derive(Serialize)]
struct RedirectValues<'a> {
    title: &'a str,
    /// Where the article is: as absolute as `base_url`.
    canonical: String,
    /// The article's URL (made relative to the redirect page).
    url: String,
}

/// The redirect pages of old URLs, each sending the reader on to its
/// article (as Zola's `aliases` do).
fn plan_redirects<'a>(site: &'a Site, values: &SiteValues, prefix: &str) -> Vec<Planned<'a>> {
    site.routes
        .redirects
        .iter()
        .map(|redirect| {
            let article = &site.content.articles[redirect.article];
            let shown = RedirectValues {
                title: &article.front.title,
                canonical: format!("{prefix}/{}/", article.slug),
                url: site.routes.article_url(redirect.article),
            };
            file(
                redirect.out.clone(),
                Make::Template {
                    name: "redirect.html",
                    values: with_site(values, &shown),
                    relative: true,
                },
            )
        })
        .collect()
}

/// The feed's values: the newest [`FEED_SIZE`] articles.
fn feed_values(site: &Site, made: &MadeArticles, order: &[usize], prefix: &str) -> FeedValues {
    let articles = &site.content.articles;
    let entries = order
        .iter()
        .take(FEED_SIZE)
        .map(|&i| {
            let front = &articles[i].front;
            let summary = &made.summaries[i];
            let entry = FeedEntry {
                title: front.title.clone(),
                url: format!("{prefix}/{}/", articles[i].slug),
                authors: front.authors.clone(),
                updated: rfc3339(front.last_change().as_ref()),
                published: front.created_at.map(|d| rfc3339(Some(&d))),
                summary: match (&summary.subtitle, &summary.tldr) {
                    (Some(subtitle), tldr) => Some(format!(
                        "<p><strong>{}</strong></p>\n{}",
                        escape_html(subtitle),
                        tldr.as_deref().unwrap_or_default()
                    )),
                    (None, tldr) => tldr.clone(),
                },
                content: summary.body.clone(),
            };
            (entry, front.last_change())
        })
        .collect();
    FeedValues::new(prefix.to_owned(), entries)
}

/// Whether a file of the content folder is published: when a page links
/// to it or shows it, or when it sits under `static/` (copied as it is).
/// Everything else (a checkout's scripts, data and queries) stays out.
fn is_published(asset: &Asset, linked: &HashSet<&str>) -> bool {
    linked.contains(asset.rel.as_str())
        || (!asset.only_if_linked && asset.rel.starts_with(STATIC_FOLDER))
}

/// The folder of the content whose files are published whether linked or
/// not.
pub const STATIC_FOLDER: &str = "static/";

/// The assets some article links to (a link, an image or its
/// thumbnail), by their path relative to the content folder.
fn linked_assets<'a>(site: &'a Site, outlines: &[Outline]) -> HashSet<&'a str> {
    let mut linked = HashSet::new();
    for (article, outline) in site.content.articles.iter().zip(outlines) {
        let links = outline.links.iter().map(|l| l.dest.as_str());
        for dest in links.chain(article.thumbnail.as_deref()) {
            if let Some(Resolved {
                target: Target::Asset(rel),
                ..
            }) = site.routes.resolve(article.rel_dir(), dest)
                && let Some(i) = site.routes.asset_index(&rel)
            {
                linked.insert(site.content.assets[i].rel.as_str());
            }
        }
    }
    linked
}

/// Makes every planned file but the article pages (made already) into
/// `sink`, in parallel; returns what went wrong. `entries` are the
/// articles' list entries, by index.
pub(super) fn make_files(
    site: &Site,
    plan: &[Planned<'_>],
    entries: &[&str],
    sink: &dyn Sink,
) -> Vec<Error> {
    let lists = StampedFiles::new(&site.store, crate::store::Area::Lists);
    plan.par_iter()
        .filter_map(|planned| make_file(site, planned, (entries, &lists), sink).err())
        .collect()
}

fn make_file(
    site: &Site,
    planned: &Planned<'_>,
    (entries, lists): (&[&str], &StampedFiles<'_>),
    sink: &dyn Sink,
) -> Result<(), Error> {
    let path = planned.path.as_str();
    match &planned.make {
        Make::Article => Ok(()),
        Make::List(list) => write_list(site, list, entries, lists, sink),
        Make::Template {
            name,
            values,
            relative,
        } => {
            let text = site.templates.render(name, values)?;
            let text = if *relative {
                relative_urls(&text, site.routes.base_path(), path)
            } else {
                text
            };
            sink.write(path, text.as_bytes())
        }
        Make::Copy(from) => sink.copy(path, from),
        Make::Link { file, hash } => {
            sink.link(path, file, hash.clone());
            Ok(())
        }
        Make::Bytes(bytes) => sink.write(path, bytes),
    }
}
