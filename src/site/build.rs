//! `build`: renders a prepared site and writes it into a staging folder,
//! swapped in for the output folder only when nothing went wrong.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::check::render_and_check;
use super::list::{
    ListPage, list_pages, merged_bundles, newest_first, rank_of, term_values, write_lists,
};
use super::page::{Page, PageCache, StampedFiles, make_page, page_path, pages_fingerprint};
use super::values::{ArticleValues, SiteValues};
use super::{BuildOptions, Prepared, Problems, Site, default_output, prepare};
use crate::error::{Error, Errors, Warning};
use crate::feed::{FEED_SIZE, FeedItem, atom_feed, robots, sitemap, url_prefix};
use crate::front_matter::Date;
use crate::highlight::escape_html;
use crate::link::check_links;
use crate::output::{Committed, Hash, Staging};
use crate::render::Outline;
use crate::route::{OwnPage, Resolved, STATIC_FILES, Target, relative_urls};
use crate::search::{SearchJob, SearchPage, build_bundles};
use crate::snippet::SnippetStats;
use crate::store::Area;

/// The site icon.
const FAVICON: &str = include_str!("../../templates/favicon.svg");

/// The page script: copy buttons on code.
const SCRIPT: &str = include_str!("../../templates/kiln.js");

/// What a successful build did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub articles: usize,
    pub pages: usize,
    pub assets: usize,
    pub output: PathBuf,
    /// The previous site, moved aside: delete it when convenient.
    pub stale: Option<PathBuf>,
    pub snippets: SnippetStats,
    /// Article pages rendered, as opposed to reused from the page cache.
    pub rendered: usize,
    /// Search bundles indexed by this build, of how many (none when
    /// search is off).
    pub search: Option<(usize, usize)>,
    /// Whether the output folder was left as it was: every file was
    /// already published as it is.
    pub unchanged: bool,
    /// The search index left for later (`BuildOptions::skip_search`).
    pub search_job: Option<SearchJob>,
    pub elapsed: Duration,
}

/// The outcome of a build: warnings are worth showing either way.
#[derive(Debug)]
pub struct Build {
    pub warnings: Vec<Warning>,
    pub result: Result<Summary, Errors>,
}

/// Builds the site. On any error the output folder is left as it was, and
/// every problem of every stage is reported.
pub fn build_site(options: &BuildOptions) -> Build {
    let started = Instant::now();
    let (prepared, mut problems) = prepare(options);
    let summary = match prepared {
        Some(prepared) if problems.errors.is_empty() => {
            write_site(prepared, options, started, &mut problems)
        }
        // Nothing is written, but the pages are still rendered, so that
        // template errors and broken links are reported with the rest.
        Some(prepared) => {
            let inspection = render_and_check(prepared);
            problems.errors.extend(inspection.errors);
            let broken = inspection.broken.iter().filter_map(as_warning);
            problems.warnings.extend(broken);
            None
        }
        None => None,
    };
    let Problems { errors, warnings } = problems;
    let result = match summary {
        Some(summary) if errors.is_empty() => Ok(summary),
        _ => Err(Errors(errors)),
    };
    Build { warnings, result }
}

/// Renders every page of a prepared site into a staging folder and swaps
/// it in when `problems` holds no error. Broken links are warnings.
fn write_site(
    prepared: Prepared,
    options: &BuildOptions,
    started: Instant,
    problems: &mut Problems,
) -> Option<Summary> {
    let Prepared { site, bodies } = prepared;
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| default_output(&site.root));
    let staging = Staging::new(&output, &site.store)
        .map_err(|e| problems.errors.push(e))
        .ok()?;
    let values = SiteValues::new(&site.config, site.routes.base_path());
    let order = newest_first(&site);
    let rank = rank_of(&order);
    let cache = PageCache::new(&site.store);
    let fingerprint = pages_fingerprint(&site);
    let written = write_articles(
        &site,
        &values,
        &bodies,
        &rank,
        (&cache, &fingerprint),
        &staging,
    );
    let Written {
        summaries,
        outlines,
        rendered,
        files,
    } = written
        .map_err(|errors| problems.errors.extend(errors))
        .ok()?;
    let (broken, _) = check_links(&site.root, &site.content, &site.routes, &outlines);
    problems
        .warnings
        .extend(broken.iter().filter_map(as_warning));

    let merged = merged_bundles(&site, summaries.len());
    let tags = term_values(&site, OwnPage::Tags);
    let authors = term_values(&site, OwnPage::Authors);
    let lists = list_pages(
        &site,
        &values,
        &summaries,
        (&tags, &authors),
        &rank,
        &merged,
    );
    let list_cache = StampedFiles::new(&site.store, Area::Lists);
    let entries: Vec<&str> = files.iter().map(|f| f.entry.as_str()).collect();
    let errors = write_lists(&site, &lists, &entries, &list_cache, &staging);
    problems.errors.extend(errors);
    // Pages for readers: the 404 page and the search page are not counted.
    let pages = summaries.len() + lists.iter().filter(|l| l.for_readers).count();
    let linked = linked_assets(&site, &outlines);
    problems.errors.extend(write_redirects(&site, &staging));
    problems.errors.extend(write_site_files(
        &site, &staging, &summaries, &order, &lists, &linked,
    ));
    let (search, search_job) = match stage_search(&site, options, &staging, &files) {
        Ok(staged) => staged,
        Err(e) => {
            problems.errors.push(e);
            (None, None)
        }
    };
    if !problems.errors.is_empty() {
        return None;
    }
    let committed = staging.commit().map_err(|e| problems.errors.push(e)).ok()?;
    site.store.prune(site.config.cache_size);
    let (stale, unchanged) = match committed {
        Committed::Swapped { stale } => (stale, false),
        Committed::Unchanged => (None, true),
    };
    Some(Summary {
        articles: site.content.articles.len(),
        pages,
        assets: site
            .content
            .assets
            .iter()
            .filter(|a| !a.only_if_linked || linked.contains(a.rel.as_str()))
            .count(),
        output,
        stale,
        snippets: site.snippet_stats.clone(),
        rendered,
        search,
        unchanged,
        search_job,
        elapsed: started.elapsed(),
    })
}

/// The search index of a build: none with search off; staged (the bundles
/// indexed, of how many); or, with `skip_search`, a job for later.
type StagedSearch = (Option<(usize, usize)>, Option<SearchJob>);

fn stage_search(
    site: &Site,
    options: &BuildOptions,
    staging: &Staging,
    files: &[ArticleFile],
) -> Result<StagedSearch, Error> {
    if !site.config.search {
        return Ok((None, None));
    }
    let pages: Vec<SearchPage> = files
        .iter()
        .map(|f| SearchPage {
            url: format!("/{}/", site.content.articles[f.index].slug),
            file: f.file.clone(),
            hash: f.hash.clone(),
        })
        .collect();
    if options.skip_search {
        let job = SearchJob {
            pages,
            language: site.config.language.clone(),
            kiln: site.kiln.clone(),
            cache_dir: site.store.dir().to_owned(),
        };
        return Ok((None, Some(job)));
    }
    let indexed = write_search(site, staging, pages)?;
    Ok((Some(indexed), None))
}

/// Indexes the article pages (each bundle from the cache if its pages are
/// unchanged) and stages the bundles. Returns the bundles indexed, of how
/// many.
fn write_search(
    site: &Site,
    staging: &Staging,
    pages: Vec<SearchPage>,
) -> Result<(usize, usize), Error> {
    let bundles = build_bundles(&pages, &site.config.language, (&site.store, &site.kiln))?;
    for file in bundles.files {
        let rel = format!("{}{}", OwnPage::SearchBundle.path(), file.rel);
        staging.link(&rel, &file.file, file.hash);
    }
    Ok((bundles.indexed, bundles.shards))
}

/// An article page as staged: the article, the cached file and its hash.
struct ArticleFile {
    index: usize,
    file: std::path::PathBuf,
    hash: Hash,
    /// What the article's entry in a list is made of.
    entry: String,
}

/// The article pages written: what the list pages need of each (with the
/// body only for the feed's), their outlines, how many were rendered
/// rather than reused, and the staged files.
struct Written {
    summaries: Vec<ArticleValues>,
    outlines: Vec<Outline>,
    rendered: usize,
    files: Vec<ArticleFile>,
}

/// Takes every article page from the page cache or renders it, in
/// parallel, and stages it.
fn write_articles(
    site: &Site,
    values: &SiteValues,
    bodies: &[crate::markdown::Body],
    rank: &[usize],
    cache: (&PageCache<'_>, &str),
    staging: &Staging,
) -> Result<Written, Vec<Error>> {
    let results: Vec<Result<(Page, bool), Error>> = bodies
        .par_iter()
        .enumerate()
        .map(|(i, body)| {
            let made = make_page(site, values, i, body, cache, rank[i] < FEED_SIZE)?;
            let slug = &site.content.articles[i].slug;
            staging.link(
                &page_path(slug),
                &made.0.html.path,
                made.0.html.hash.clone(),
            );
            Ok(made)
        })
        .collect();
    let mut written = Written {
        summaries: Vec::with_capacity(results.len()),
        outlines: Vec::with_capacity(results.len()),
        rendered: 0,
        files: Vec::with_capacity(results.len()),
    };
    let mut errors = Vec::new();
    let mut thumbnails = std::collections::BTreeMap::new();
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Ok((page, fresh)) => {
                written.rendered += usize::from(fresh);
                written.summaries.push(page.values);
                written.outlines.push(page.outline);
                written.files.push(ArticleFile {
                    index,
                    entry: page.html.entry,
                    file: page.html.path,
                    hash: page.html.hash,
                });
                thumbnails.extend(page.small_thumbnail.map(|s| (s.out, s.file)));
            }
            Err(e) => errors.push(e),
        }
    }
    // Once each: articles may share an image.
    for (out, file) in thumbnails {
        if let Err(e) = staging.copy(&out, &file) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(written)
    } else {
        Err(errors)
    }
}

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

/// The redirect pages of old URLs, each sending the reader on to its
/// article (as Zola's `aliases` do).
fn write_redirects(site: &Site, staging: &Staging) -> Vec<Error> {
    let prefix = url_prefix(&site.config.base_url, site.routes.base_path());
    site.routes
        .redirects
        .iter()
        .filter_map(|redirect| {
            let article = &site.content.articles[redirect.article];
            // The canonical URL is as absolute as `base_url`; the page's
            // own links become relative below, like every page's.
            let canonical = escape_html(&format!("{prefix}/{}/", article.slug));
            let url = escape_html(&site.routes.article_url(redirect.article));
            let title = escape_html(&article.front.title);
            let html = format!(
                "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<link rel=\"canonical\" href=\"{canonical}\">\n<meta name=\"robots\" content=\"noindex\">\n<meta http-equiv=\"refresh\" content=\"0; url={url}\">\n</head>\n<body>\n<p>This page has moved to <a href=\"{url}\">{title}</a>.</p>\n</body>\n</html>\n",
                escape_html(&site.config.language)
            );
            let html = relative_urls(&html, site.routes.base_path(), &redirect.out);
            staging.write(&redirect.out, html.as_bytes()).err()
        })
        .collect()
}

/// A broken link, as the build warns about it.
fn as_warning(error: &Error) -> Option<Warning> {
    match error {
        Error::BrokenLink {
            path,
            line,
            message,
        } => Some(Warning {
            path: path.clone(),
            line: *line,
            message: message.clone(),
        }),
        _ => None,
    }
}

/// Writes the feed, the sitemap, `robots.txt`, the search index, the
/// assets and the stylesheets; returns what went wrong.
fn write_site_files(
    site: &Site,
    staging: &Staging,
    summaries: &[ArticleValues],
    order: &[usize],
    lists: &[ListPage<'_>],
    linked: &HashSet<&str>,
) -> Vec<Error> {
    let mut errors: Vec<Error> = site
        .content
        .assets
        .iter()
        .filter(|asset| !asset.only_if_linked || linked.contains(asset.rel.as_str()))
        .filter_map(|asset| staging.copy(&asset.out, &asset.source).err())
        .collect();
    if let Err(e) = write_generated_files(site, staging, summaries, order, lists) {
        errors.push(e);
    }
    errors
}

fn write_generated_files(
    site: &Site,
    staging: &Staging,
    summaries: &[ArticleValues],
    order: &[usize],
    lists: &[ListPage<'_>],
) -> Result<(), Error> {
    let config = &site.config;
    let articles = &site.content.articles;
    let prefix = url_prefix(&config.base_url, site.routes.base_path());
    let feed: Vec<FeedItem> = order
        .iter()
        .take(FEED_SIZE)
        .map(|&i| FeedItem {
            title: articles[i].front.title.clone(),
            url: format!("{prefix}/{}/", articles[i].slug),
            authors: articles[i].front.authors.clone(),
            updated: articles[i].front.updated_at,
            published: articles[i].front.created_at,
            summary: match (&summaries[i].subtitle, &summaries[i].tldr) {
                (Some(subtitle), tldr) => Some(format!(
                    "<p><strong>{}</strong></p>\n{}",
                    escape_html(subtitle),
                    tldr.as_deref().unwrap_or_default()
                )),
                (None, tldr) => tldr.clone(),
            },
            content: summaries[i].body.clone(),
        })
        .collect();
    let dated = |i: usize| {
        articles[i]
            .front
            .updated_at
            .or(articles[i].front.created_at)
    };
    let newest_date = order.iter().filter_map(|&i| dated(i)).max();
    // The index, every article newest first, the tags page, then every
    // tag's and author's page.
    let mut sitemap_pages: Vec<(String, Option<Date>)> = vec![(format!("{prefix}/"), newest_date)];
    sitemap_pages.extend(
        order
            .iter()
            .map(|&i| (format!("{prefix}/{}/", articles[i].slug), dated(i))),
    );
    sitemap_pages.push((format!("{prefix}/{}", OwnPage::Tags.path()), newest_date));
    let first_page = |l: &&ListPage<'_>| l.values.paginator.as_ref().is_none_or(|p| p.current == 1);
    for list in lists
        .iter()
        .filter(|l| l.values.tag.is_some() || l.values.author.is_some())
        .filter(first_page)
    {
        let url = format!("{prefix}/{}", list.path.trim_end_matches("index.html"));
        sitemap_pages.push((url, None));
    }
    let site_files = [
        (
            OwnPage::Feed,
            atom_feed(&config.title, &config.description, &prefix, &feed),
        ),
        (OwnPage::Sitemap, sitemap(&sitemap_pages)),
        (OwnPage::Robots, robots(&prefix)),
    ];
    for (own, text) in site_files {
        staging.write(own.path(), text.as_bytes())?;
    }
    let [style, highlight, favicon, script] = STATIC_FILES;
    staging.write(script, SCRIPT.as_bytes())?;
    staging.write(style, site.templates.style.as_bytes())?;
    staging.write(highlight, site.highlighter.css().as_bytes())?;
    staging.write(favicon, FAVICON.as_bytes())?;
    Ok(())
}
