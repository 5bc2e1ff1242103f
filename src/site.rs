//! The pipeline: config, content, routes, snippets, render, templates,
//! output. [`build_site`] runs it and returns what happened.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::config::{Config, base_path_of};
use crate::content::{Article, Content, Document, load_content};
use crate::error::{Error, Errors, Warning};
use crate::feed::{FEED_SIZE, FeedItem, atom_feed, robots, sitemap, url_prefix};
use crate::front_matter::Date;
use crate::highlight::Highlighter;
use crate::output::Staging;
use crate::render::{RenderContext, RenderedArticle, TocEntry, render_article};
use crate::route::{Routes, Term};
use crate::search::{SEARCH_DIR, build_search_index};
use crate::snippet::{RunOptions, SnippetStats, collect_snippets, run_snippets};
use crate::template::Templates;

/// What to build, from the command line.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The site root: the folder holding `content/`.
    pub root: PathBuf,
    /// Where the site goes; `<root>/public` if not given.
    pub output: Option<PathBuf>,
    /// Publish articles marked `draft: true`.
    pub drafts: bool,
    /// Overrides `base_url` from `kiln.toml`.
    pub base_url: Option<String>,
    /// Ignore cached snippet runs.
    pub fresh: bool,
    /// Rewrite golden snippet output instead of comparing with it.
    pub bless: bool,
    /// Pages of earlier builds, for a long-running process (`kiln serve`)
    /// to re-render only the articles whose inputs changed.
    pub pages: Option<Arc<PageCache>>,
}

/// Article pages of earlier builds, by article file, each with a hash of
/// everything its HTML depends on.
#[derive(Default)]
pub struct PageCache {
    pages: Mutex<HashMap<String, CachedPage>>,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache").finish_non_exhaustive()
    }
}

struct CachedPage {
    key: String,
    values: ArticleValues,
    html: String,
}

impl PageCache {
    fn get(&self, rel: &str, key: &str) -> Option<(ArticleValues, String)> {
        let pages = self.pages.lock().ok()?;
        let page = pages.get(rel).filter(|p| p.key == key)?;
        Some((page.values.clone(), page.html.clone()))
    }

    fn put(&self, rel: &str, key: String, values: &ArticleValues, html: &str) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.insert(
                rel.to_owned(),
                CachedPage {
                    key,
                    values: values.clone(),
                    html: html.to_owned(),
                },
            );
        }
    }

    /// Forgets articles that are gone.
    fn keep_only(&self, rels: &HashSet<&str>) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.retain(|rel, _| rels.contains(rel.as_str()));
        }
    }
}

/// A hash of what every article page depends on besides its own file: the
/// configuration, the templates, and every URL an article can link to.
fn site_fingerprint(
    config: &Config,
    templates: &Templates,
    routes: &Routes,
    content: &Content,
) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(format!("{config:?}").as_bytes());
    hasher.update(templates.fingerprint.as_bytes());
    for article in &content.articles {
        hasher.update(article.rel.as_bytes()).update(b"\0");
        hasher.update(article.slug.as_bytes()).update(b"\0");
    }
    for asset in &content.assets {
        hasher.update(asset.rel.as_bytes()).update(b"\0");
    }
    for term in routes.tags.iter().chain(&routes.authors) {
        hasher.update(term.name.as_bytes()).update(b"\0");
        hasher.update(term.slug.as_bytes()).update(b"\0");
    }
    hasher.finalize().to_hex().to_string()
}

/// The site icon.
const FAVICON: &str = include_str!("../templates/favicon.svg");

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
    pub elapsed: Duration,
}

/// The outcome of a build: warnings are worth showing either way.
#[derive(Debug)]
pub struct Build {
    pub warnings: Vec<Warning>,
    pub result: Result<Summary, Errors>,
}

/// Builds the site. On any error the output folder is left as it was.
pub fn build_site(options: &BuildOptions) -> Build {
    let started = Instant::now();
    let mut warnings = Vec::new();
    let result = run_build(options, &mut warnings).map(|built| Summary {
        articles: built.articles,
        pages: built.pages,
        assets: built.assets,
        output: built.output,
        stale: built.stale,
        snippets: built.snippets,
        rendered: built.rendered,
        elapsed: started.elapsed(),
    });
    Build { warnings, result }
}

/// What `run_build` made.
struct Built {
    articles: usize,
    pages: usize,
    assets: usize,
    output: PathBuf,
    stale: Option<PathBuf>,
    snippets: SnippetStats,
    rendered: usize,
}

fn run_build(options: &BuildOptions, warnings: &mut Vec<Warning>) -> Result<Built, Errors> {
    let root = &options.root;
    let mut config = Config::load(root)?;
    if let Some(base_url) = &options.base_url {
        if base_path_of(base_url).is_none() {
            return Err(Error::Other {
                message: format!(
                    "`--base-url` is `{base_url}`; expected an absolute URL such as `https://example.org/kb/` or a path such as `/kb/`"
                ),
            }
            .into());
        }
        config.base_url = base_url.clone();
    }
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| default_output(root));

    // Independent stages whose errors are all worth reporting together.
    let (content, templates) = rayon::join(
        || load_content(root, options.drafts, &config.authors),
        || Templates::load(root),
    );
    let highlighter = Highlighter::new(&config.highlight);
    let mut errors = Vec::new();
    let content = content.map_err(|e| errors.extend(e.0)).ok();
    let templates = templates.map_err(|e| errors.extend(e.0)).ok();
    let highlighter = highlighter.map_err(|e| errors.push(e)).ok();
    let Some(mut content) = content else {
        return Err(Errors(errors));
    };
    warnings.append(&mut content.warnings);
    let routes = Routes::new(&config.base_path(), &content).map_err(|e| {
        errors.extend(e.0);
        Errors(std::mem::take(&mut errors))
    })?;
    let _lock = lock_site(&root.join(&config.snippets.cache_dir))?;
    // Snippets run even when a template is broken, so that one build
    // reports both.
    let snippets = collect_snippets(root, &content, &routes, &config.snippets).and_then(|found| {
        run_snippets(
            found,
            &content.articles,
            &config.snippets,
            &RunOptions {
                root: root.clone(),
                fresh: options.fresh,
                bless: options.bless,
            },
        )
    });
    let snippets = match snippets {
        Ok(outcome) if outcome.failures.is_empty() => Some((outcome.runs, outcome.stats)),
        Ok(outcome) => {
            errors.extend(outcome.failures);
            None
        }
        Err(e) => {
            errors.extend(e.0);
            None
        }
    };
    let (Some(templates), Some(highlighter), Some((runs, snippet_stats))) =
        (templates, highlighter, snippets)
    else {
        return Err(Errors(errors));
    };

    let cx = RenderContext {
        routes: &routes,
        highlighter: &highlighter,
        markdown: &config.markdown,
        snippets: &runs,
    };
    let site = SiteValues::new(&config, routes.base_path());
    let prefix = url_prefix(&config.base_url, routes.base_path());
    let staging = Staging::new(&output)?;
    let order = newest_first(&content);
    let mut rank = vec![0; order.len()];
    for (position, &i) in order.iter().enumerate() {
        rank[i] = position;
    }

    // Rendering consumes each article's parsed Markdown.
    let documents: Vec<Document> = content
        .articles
        .iter_mut()
        .map(|a| std::mem::take(&mut a.document))
        .collect();
    let fingerprint = options
        .pages
        .as_ref()
        .map(|_| site_fingerprint(&config, &templates, &routes, &content));
    // Each article page is rendered (or taken from the page cache) and
    // written in parallel; what the list pages need of it comes back (with
    // the body only for the feed), and whether it was rendered.
    let results: Vec<Result<(ArticleValues, bool), Error>> = content
        .articles
        .par_iter()
        .zip(documents)
        .enumerate()
        .map(|(i, (article, document))| {
            let cache = options.pages.as_deref().zip(fingerprint.as_deref());
            let key = cache.map(|(_, site_key)| {
                let embeds = runs.in_article(i).map(|e| {
                    let mut e: Vec<_> = e.iter().collect();
                    e.sort_by_key(|(event, _)| **event);
                    format!("{e:?}")
                });
                let mut hasher = blake3::Hasher::new();
                hasher.update(site_key.as_bytes());
                hasher.update(article.source_hash.as_bytes());
                hasher.update(embeds.unwrap_or_default().as_bytes());
                hasher.finalize().to_hex().to_string()
            });
            let cached = cache
                .zip(key.as_deref())
                .and_then(|((pages, _), key)| pages.get(&article.rel, key));
            let (values, html, rendered) = match cached {
                Some((values, html)) => (values, html, false),
                None => {
                    let rendered = render_article(i, article, document, &cx);
                    let values = ArticleValues::new(i, article, rendered, &routes);
                    let html = templates.render(
                        "article.html",
                        &ArticlePage {
                            site: &site,
                            article: &values,
                        },
                    )?;
                    if let (Some((pages, _)), Some(key)) = (cache, key) {
                        pages.put(&article.rel, key, &values, &html);
                    }
                    (values, html, true)
                }
            };
            staging.write(&format!("{}/index.html", article.slug), html.as_bytes())?;
            let values = if rank[i] < FEED_SIZE {
                values
            } else {
                values.without_body()
            };
            Ok((values, rendered))
        })
        .collect();
    let mut summaries = Vec::with_capacity(results.len());
    let mut rendered = 0;
    for result in results {
        match result {
            Ok((summary, fresh)) => {
                rendered += usize::from(fresh);
                summaries.push(summary);
            }
            Err(e) => errors.push(e),
        }
    }
    if let Some(pages) = &options.pages {
        pages.keep_only(&content.articles.iter().map(|a| a.rel.as_str()).collect());
    }
    if !errors.is_empty() {
        return Err(Errors(errors));
    }

    // The list pages, in parallel: each is (path, template, values).
    let newest = |indexes: &[usize]| -> Vec<&ArticleValues> {
        let mut sorted = indexes.to_vec();
        sorted.sort_by_key(|&i| rank[i]);
        sorted.into_iter().map(|i| &summaries[i]).collect()
    };
    let all = newest(&order);
    let tags: Vec<TermValues> = routes
        .tags
        .iter()
        .map(|t| TermValues::new(t, routes.url(&format!("tags/{}/", t.slug))))
        .collect();
    let authors: Vec<TermValues> = routes
        .authors
        .iter()
        .map(|t| TermValues::new(t, routes.url(&format!("authors/{}/", t.slug))))
        .collect();
    let mut lists: Vec<(String, &str, TermPage<'_>)> = vec![
        (
            "index.html".into(),
            "index.html",
            TermPage::list(&site, all.clone()),
        ),
        (
            "tags/index.html".into(),
            "tags.html",
            TermPage::tags(&site, &tags),
        ),
        (
            "search/index.html".into(),
            "search.html",
            TermPage::list(&site, Vec::new()),
        ),
        (
            "404.html".into(),
            "404.html",
            TermPage::list(&site, Vec::new()),
        ),
    ];
    for (term, values) in routes.tags.iter().zip(&tags) {
        let page = TermPage {
            tag: Some(values),
            ..TermPage::list(&site, newest(&term.articles))
        };
        lists.push((format!("tags/{}/index.html", term.slug), "tag.html", page));
    }
    for (term, values) in routes.authors.iter().zip(&authors) {
        let page = TermPage {
            author: Some(values),
            ..TermPage::list(&site, newest(&term.articles))
        };
        lists.push((
            format!("authors/{}/index.html", term.slug),
            "author.html",
            page,
        ));
    }
    let written: Vec<Result<(), Error>> = lists
        .par_iter()
        .map(|(path, template, values)| {
            staging.write(path, templates.render(template, values)?.as_bytes())
        })
        .collect();
    errors.extend(written.into_iter().filter_map(Result::err));
    // Pages for readers: the 404 page and the search page are not counted.
    let pages = summaries.len() + lists.len() - 2;

    let feed: Vec<FeedItem> = order
        .iter()
        .take(FEED_SIZE)
        .map(|&i| {
            let (article, values) = (&content.articles[i], &summaries[i]);
            FeedItem {
                title: article.front.title.clone(),
                url: format!("{prefix}/{}/", article.slug),
                authors: article.front.authors.clone(),
                updated: article.front.updated_at,
                published: article.front.created_at,
                summary: values.tldr.clone(),
                content: values.body.clone(),
            }
        })
        .collect();
    let mut sitemap_pages: Vec<(String, Option<Date>)> = order
        .iter()
        .map(|&i| {
            let front = &content.articles[i].front;
            (
                format!("{prefix}/{}/", content.articles[i].slug),
                front.updated_at.or(front.created_at),
            )
        })
        .collect();
    let newest_date = order
        .iter()
        .filter_map(|&i| {
            content.articles[i]
                .front
                .updated_at
                .or(content.articles[i].front.created_at)
        })
        .max();
    sitemap_pages.insert(0, (format!("{prefix}/"), newest_date));
    sitemap_pages.push((format!("{prefix}/tags/"), newest_date));
    for (path, _, _) in &lists[4..] {
        let url = format!("{prefix}/{}", path.trim_end_matches("index.html"));
        sitemap_pages.push((url, None));
    }
    let site_files: [(&str, String); 3] = [
        (
            "atom.xml",
            atom_feed(&config.title, &config.description, &prefix, &feed),
        ),
        ("sitemap.xml", sitemap(&sitemap_pages)),
        ("robots.txt", robots(&prefix)),
    ];
    for (path, text) in site_files {
        staging.write(path, text.as_bytes())?;
    }
    if config.search {
        for (path, bytes) in build_search_index(staging.path(), &config.language)? {
            staging.write(&format!("{SEARCH_DIR}/{path}"), &bytes)?;
        }
    }

    for asset in &content.assets {
        if let Err(e) = staging.copy(&asset.rel, &asset.source) {
            errors.push(e);
        }
    }
    staging.write("static/style.css", templates.style.as_bytes())?;
    staging.write("static/favicon.svg", FAVICON.as_bytes())?;
    staging.write("static/highlight.css", highlighter.css().as_bytes())?;
    if !errors.is_empty() {
        return Err(Errors(errors));
    }
    let stale = staging.commit()?;
    Ok(Built {
        stale,
        articles: content.articles.len(),
        pages,
        assets: content.assets.len(),
        output,
        snippets: snippet_stats,
        rendered,
    })
}

/// Takes the site's build lock, waiting for a build that holds it: two
/// builds of one site must not interleave their snippet runs and swaps.
/// The lock is released when the returned file is dropped.
pub fn lock_site(cache_dir: &Path) -> Result<std::fs::File, Error> {
    let path = cache_dir.join("build.lock");
    std::fs::create_dir_all(cache_dir).map_err(|source| Error::Write {
        path: cache_dir.to_owned(),
        source,
    })?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "waiting for another kiln build of this site to finish (lock `{}`)",
                path.display()
            );
            file.lock()
                .map_err(|source| Error::Write { path, source })?;
            Ok(file)
        }
        Err(std::fs::TryLockError::Error(source)) => Err(Error::Write { path, source }),
    }
}

/// Article indexes, newest `created_at` first; undated ones last by title.
fn newest_first(content: &Content) -> Vec<usize> {
    let mut order: Vec<usize> = (0..content.articles.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&content.articles[a].front, &content.articles[b].front);
        fb.created_at
            .cmp(&fa.created_at)
            .then_with(|| fa.title.cmp(&fb.title))
            .then_with(|| content.articles[a].rel.cmp(&content.articles[b].rel))
    });
    order
}

/// `site` in every template.
#[derive(Debug, Serialize)]
struct SiteValues {
    title: String,
    description: String,
    base_url: String,
    base_path: String,
    language: String,
}

impl SiteValues {
    fn new(config: &Config, base_path: &str) -> SiteValues {
        SiteValues {
            title: config.title.clone(),
            description: config.description.clone(),
            base_url: config.base_url.clone(),
            base_path: base_path.to_owned(),
            language: config.language.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct NameUrl {
    name: String,
    url: String,
}

#[derive(Debug, Clone, Serialize)]
struct DateValues {
    /// RFC 3339, for `<time datetime>`.
    iso: String,
    /// `2023-03-13`.
    ymd: String,
    /// `13 March 2023`.
    human: String,
}

impl DateValues {
    fn new(date: &Date) -> DateValues {
        DateValues {
            iso: date.rfc3339(),
            ymd: date.ymd(),
            human: date.human(),
        }
    }
}

/// `article` in `article.html`, and each item of `articles` in list pages
/// (without `body` and `toc`).
#[derive(Debug, Clone, Serialize)]
struct ArticleValues {
    title: String,
    url: String,
    slug: String,
    source: String,
    authors: Vec<NameUrl>,
    tags: Vec<NameUrl>,
    created: Option<DateValues>,
    updated: Option<DateValues>,
    tldr: Option<String>,
    /// The tldr as plain text, for `<meta name="description">`.
    description: String,
    thumbnail: Option<String>,
    body: String,
    toc: Vec<TocEntry>,
    toc_html: String,
    toc_in_body: bool,
    extra: std::collections::BTreeMap<String, serde_yaml::Value>,
}

impl ArticleValues {
    fn new(index: usize, article: &Article, rendered: RenderedArticle, routes: &Routes) -> Self {
        let front = &article.front;
        let names = |names: &[String], url: &dyn Fn(&str) -> Option<String>| {
            names
                .iter()
                .map(|name| NameUrl {
                    name: name.clone(),
                    url: url(name).unwrap_or_default(),
                })
                .collect()
        };
        ArticleValues {
            title: front.title.clone(),
            url: routes.article_url(index),
            slug: article.slug.clone(),
            source: article.rel.clone(),
            authors: names(&front.authors, &|n| routes.author_url(n)),
            tags: names(&front.tags, &|n| routes.tag_url(n)),
            created: front.created_at.as_ref().map(DateValues::new),
            updated: front.updated_at.as_ref().map(DateValues::new),
            description: front
                .tldr
                .as_deref()
                .map(|t| {
                    t.split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .replace('`', "")
                })
                .unwrap_or_default(),
            tldr: rendered.tldr,
            thumbnail: rendered.thumbnail,
            body: rendered.body,
            toc: rendered.toc,
            toc_html: rendered.toc_html,
            toc_in_body: rendered.toc_in_body,
            extra: front.extra.clone(),
        }
    }

    fn without_body(self) -> Self {
        ArticleValues {
            body: String::new(),
            toc: Vec::new(),
            toc_html: String::new(),
            ..self
        }
    }
}

#[derive(Debug, Serialize)]
struct TermValues {
    name: String,
    url: String,
    count: usize,
}

impl TermValues {
    fn new(term: &Term, url: String) -> TermValues {
        TermValues {
            name: term.name.clone(),
            url,
            count: term.articles.len(),
        }
    }
}

#[derive(Serialize)]
struct ArticlePage<'a> {
    site: &'a SiteValues,
    article: &'a ArticleValues,
}

/// The values of every list page: `articles`, and `tag`, `author` or
/// `tags` where they apply.
#[derive(Serialize)]
struct TermPage<'a> {
    site: &'a SiteValues,
    articles: Vec<&'a ArticleValues>,
    tag: Option<&'a TermValues>,
    author: Option<&'a TermValues>,
    tags: &'a [TermValues],
}

impl<'a> TermPage<'a> {
    fn list(site: &'a SiteValues, articles: Vec<&'a ArticleValues>) -> Self {
        TermPage {
            site,
            articles,
            tag: None,
            author: None,
            tags: &[],
        }
    }

    fn tags(site: &'a SiteValues, tags: &'a [TermValues]) -> Self {
        TermPage {
            tags,
            ..TermPage::list(site, Vec::new())
        }
    }
}

/// The default output folder of a site root.
pub fn default_output(root: &Path) -> PathBuf {
    root.join("public")
}
