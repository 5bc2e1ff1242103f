//! The list pages: the index, the tags page, each tag's and author's
//! list (in pages of `page_size`), and the search and 404 pages; each taken
//! from the cache unless something it shows changed.

use serde::Serialize;

use super::Site;
use super::page::StampedFiles;
use super::registry::{Make, Planned};
use super::values::{ArticleValues, Paginator, SiteValues, TermPage, TermValues};
use crate::error::Error;
use crate::front_matter::Date;
use crate::output::Sink;
use crate::route::{OwnPage, relative_urls};
use crate::search::shard_count;

/// A list page: where it goes, its template and its values.
pub(super) struct ListPage<'a> {
    pub(super) path: String,
    pub(super) template: &'static str,
    pub(super) values: TermPage<'a>,
    /// The articles listed, by index.
    pub(super) articles: Vec<usize>,
    /// Counted as a page (not so the 404 and search pages).
    pub(super) for_readers: bool,
    /// Listed in the sitemap (the first page of each list), with its last
    /// change if known.
    pub(super) sitemap: Option<Option<Date>>,
}

impl<'a> ListPage<'a> {
    /// The page as an entry of the output registry.
    pub(super) fn planned(self) -> Planned<'a> {
        Planned {
            path: self.path.clone(),
            sitemap: self.sitemap,
            make: Make::List(Box::new(self)),
        }
    }
}

/// The values of every tag's or author's page.
pub(super) fn term_values(site: &Site, folder: OwnPage) -> Vec<TermValues> {
    let routes = &site.routes;
    let terms = match folder {
        OwnPage::Tags => &routes.tags,
        _ => &routes.authors,
    };
    terms
        .iter()
        .map(|t| TermValues::new(t, routes.url(&format!("{}{}/", folder.path(), t.slug))))
        .collect()
}

/// The index, the tags page, every tag's and every author's page, then
/// the search and 404 pages; the index and each tag's and author's list
/// in pages of `page_size` articles. `newest` is the last change of the
/// newest article, for the sitemap.
pub(super) fn list_pages<'a>(
    site: &Site,
    values: &'a SiteValues,
    summaries: &'a [ArticleValues],
    (tags, authors): (&'a [TermValues], &'a [TermValues]),
    (rank, newest): (&[usize], Option<Date>),
    search_bundles: &'a [String],
) -> Vec<ListPage<'a>> {
    let routes = &site.routes;
    let newest_of = |indexes: &[usize]| -> Vec<usize> {
        let mut sorted = indexes.to_vec();
        sorted.sort_by_key(|&i| rank[i]);
        sorted
    };
    let all: Vec<usize> = (0..summaries.len()).collect();
    let page = |path: String, template, values| ListPage {
        path,
        template,
        values,
        articles: Vec::new(),
        for_readers: true,
        sitemap: None,
    };
    let page_size = site.config.page_size;
    // A list's pages: `folder` (`tags/rust/`, or empty for the index) holds
    // the first, and `folder/page/N/` the others.
    let paginate = |folder: String,
                    (template, lastmod),
                    articles: Vec<usize>,
                    make: &dyn Fn(TermPage<'a>) -> TermPage<'a>| {
        let total = articles.len();
        // `page_size = 0`: one page.
        let size = Some(page_size).filter(|&s| s > 0).unwrap_or(total.max(1));
        let count = total.div_ceil(size).max(1);
        let path_of = |n: usize| match n {
            1 => format!("{folder}index.html"),
            n => format!("{folder}page/{n}/index.html"),
        };
        let url_of = |n: usize| routes.url(path_of(n).trim_end_matches("index.html"));
        let mut chunks: Vec<Vec<usize>> = articles.chunks(size).map(<[_]>::to_vec).collect();
        if chunks.is_empty() {
            chunks.push(Vec::new());
        }
        let mut pages = Vec::with_capacity(chunks.len());
        for (n, chunk) in (1..).zip(chunks) {
            let paginator = paginator((n, count, total), &url_of);
            let listed = chunk.iter().map(|&i| &summaries[i]).collect();
            let values = make(TermPage {
                paginator: Some(paginator),
                ..TermPage::list(values, listed)
            });
            pages.push(ListPage {
                articles: chunk,
                sitemap: (n == 1).then_some(lastmod),
                ..page(path_of(n), template, values)
            });
        }
        pages
    };
    let mut lists = paginate(
        String::new(),
        ("index.html", newest),
        newest_of(&all),
        &|v| v,
    );
    lists.push(ListPage {
        sitemap: Some(newest),
        ..page(
            format!("{}index.html", OwnPage::Tags.path()),
            "tags.html",
            TermPage::tags(values, tags),
        )
    });
    for (term, tag) in routes.tags.iter().zip(tags) {
        let folder = format!("{}{}/", OwnPage::Tags.path(), term.slug);
        let listed = newest_of(&term.articles);
        lists.extend(paginate(folder, ("tag.html", None), listed, &|v| {
            TermPage {
                tag: Some(tag),
                ..v
            }
        }));
    }
    for (term, author) in routes.authors.iter().zip(authors) {
        let folder = format!("{}{}/", OwnPage::Authors.path(), term.slug);
        let listed = newest_of(&term.articles);
        lists.extend(paginate(folder, ("author.html", None), listed, &|v| {
            TermPage {
                author: Some(author),
                ..v
            }
        }));
    }
    lists.extend(pages_for_finding(values, search_bundles));
    lists
}

/// The search page and the page for missing pages: not counted as pages
/// for readers, not in the sitemap.
fn pages_for_finding<'a>(
    values: &'a SiteValues,
    search_bundles: &'a [String],
) -> [ListPage<'a>; 2] {
    let page = |path: String, template, values| ListPage {
        path,
        template,
        values,
        articles: Vec::new(),
        for_readers: false,
        sitemap: None,
    };
    [
        page(
            format!("{}index.html", OwnPage::Search.path()),
            "search.html",
            TermPage {
                search_bundles,
                ..TermPage::list(values, Vec::new())
            },
        ),
        page(
            OwnPage::NotFound.path().to_owned(),
            "404.html",
            TermPage::list(values, Vec::new()),
        ),
    ]
}

/// Page `n` of `count` (listing `total` articles in all), with the URLs
/// of its neighbours.
fn paginator(
    (n, count, total): (usize, usize, usize),
    url_of: &dyn Fn(usize) -> String,
) -> Paginator {
    Paginator {
        current: n,
        pages: count,
        total,
        first: url_of(1),
        last: url_of(count),
        previous: (n > 1).then(|| url_of(n - 1)),
        next: (n < count).then(|| url_of(n + 1)),
    }
}

/// Makes a list page into `sink`: from the cache when nothing it shows
/// changed, or rendered and stored there.
pub(super) fn write_list(
    site: &Site,
    list: &ListPage<'_>,
    entries: &[&str],
    cache: &StampedFiles<'_>,
    sink: &dyn Sink,
) -> Result<(), Error> {
    let values = &list.values;
    let key = crate::store::key(&ListKey {
        version: "kiln-list-v2",
        kiln: &site.kiln,
        template: site.templates.fingerprint_of(list.template),
        path: &list.path,
        site: values.site,
        tag: values.tag,
        author: values.author,
        tags: values.tags,
        paginator: values.paginator.as_ref(),
        search_bundles: values.search_bundles,
        entries: list.articles.iter().map(|&i| entries[i]).collect(),
    });
    let file = match cache.load(&key) {
        Some(file) => file,
        None => {
            let html = site.templates.render(list.template, values)?;
            // The 404 page is served at any depth: its URLs stay absolute.
            let html = if list.path == OwnPage::NotFound.path() {
                html
            } else {
                relative_urls(&html, site.routes.base_path(), &list.path)
            };
            cache.store(&key, html.as_bytes())?
        }
    };
    // The key stands for the bytes: the same key, the same page.
    sink.link(&list.path, &file, key);
    Ok(())
}

/// Everything a list page shows: its key, hashed once. The articles it
/// lists stand in it by their entries' keys.
#[derive(Serialize)]
struct ListKey<'a> {
    version: &'static str,
    kiln: &'a str,
    /// The template and every template it uses.
    template: &'a str,
    path: &'a str,
    site: &'a SiteValues,
    tag: Option<&'a TermValues>,
    author: Option<&'a TermValues>,
    tags: &'a [TermValues],
    paginator: Option<&'a Paginator>,
    search_bundles: &'a [String],
    entries: Vec<&'a str>,
}

/// Each article's place in `order`, by article index.
pub(super) fn rank_of(order: &[usize]) -> Vec<usize> {
    let mut rank = vec![0; order.len()];
    for (position, &i) in order.iter().enumerate() {
        rank[i] = position;
    }
    rank
}

/// Article indexes, newest `created_at` first; undated ones last by title.
pub(super) fn newest_first(site: &Site) -> Vec<usize> {
    let articles = &site.content.articles;
    let mut order: Vec<usize> = (0..articles.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&articles[a].front, &articles[b].front);
        fb.created_at
            .cmp(&fa.created_at)
            .then_with(|| fa.title.cmp(&fb.title))
            .then_with(|| articles[a].rel.cmp(&articles[b].rel))
    });
    order
}

/// The search bundles after the first, for the search page to merge
/// (none with search off).
pub(super) fn merged_bundles(site: &Site, articles: usize) -> Vec<String> {
    let shards = if site.config.search {
        shard_count(articles)
    } else {
        1
    };
    (1..shards)
        .map(|shard| format!("{}shard-{shard}/", OwnPage::SearchBundle.path()))
        .collect()
}
