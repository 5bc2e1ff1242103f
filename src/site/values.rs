//! The values templates see: `site`, `article`, `articles`, `tag`,
//! `author` and `tags`.

use std::collections::HashMap;

use serde::Serialize;

use crate::config::Config;
use crate::content::Article;
use crate::front_matter::Date;
use crate::render::{RenderedArticle, TocEntry};
use crate::route::{Routes, Term};
use crate::snippet::{Outcome, Placed};

/// `site` in every template.
#[derive(Debug, Serialize)]
pub struct SiteValues {
    title: String,
    description: String,
    base_url: String,
    base_path: String,
    language: String,
}

impl SiteValues {
    pub fn new(config: &Config, base_path: &str) -> SiteValues {
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
pub struct ArticleValues {
    title: String,
    /// A line under the title (Knowledge Repo's `subtitle`).
    pub subtitle: Option<String>,
    url: String,
    slug: String,
    source: String,
    authors: Vec<NameUrl>,
    tags: Vec<NameUrl>,
    created: Option<DateValues>,
    updated: Option<DateValues>,
    pub tldr: Option<String>,
    /// The tldr as plain text, for `<meta name="description">`.
    description: String,
    thumbnail: Option<String>,
    /// The thumbnail for lists: a small copy made at build time, or the
    /// thumbnail itself where none could be made.
    thumbnail_small: Option<String>,
    pub body: String,
    toc: Vec<TocEntry>,
    toc_html: String,
    toc_in_body: bool,
    extra: std::collections::BTreeMap<String, yaml_serde::Value>,
    /// Knowledge Repo's `allowed_groups`, for templates: a static site
    /// cannot enforce them.
    allowed_groups: Vec<String>,
    /// The article's snippets at a glance, if it has any.
    snippets: Option<SnippetSummary>,
}

/// How an article's snippets fared, for lists: `4 snippets, all pass`.
#[derive(Debug, Clone, Serialize)]
pub struct SnippetSummary {
    pub count: usize,
    pub passed: usize,
    pub failed: usize,
    /// Shown, not run (`ignore`).
    pub skipped: usize,
    pub text: String,
}

impl SnippetSummary {
    /// The summary of an article's placed snippets (`None` without any).
    pub fn of(placed: Option<&HashMap<usize, Placed>>) -> Option<SnippetSummary> {
        let mut summary = SnippetSummary {
            count: 0,
            passed: 0,
            failed: 0,
            skipped: 0,
            text: String::new(),
        };
        for placed in placed?.values() {
            summary.count += 1;
            match placed {
                Placed::Embed(embed) => match embed.verdict.outcome {
                    Outcome::Passed => summary.passed += 1,
                    Outcome::Failed => summary.failed += 1,
                    Outcome::Skipped => summary.skipped += 1,
                },
                Placed::Unavailable => summary.failed += 1,
            }
        }
        let n = summary.count;
        let noun = if n == 1 { "snippet" } else { "snippets" };
        summary.text = match (summary.failed, summary.skipped) {
            (0, 0) if n == 1 => "1 snippet, passes".to_owned(),
            (0, 0) => format!("{n} snippets, all pass"),
            (0, skipped) => format!("{n} {noun}: {} pass, {skipped} not run", summary.passed),
            (failed, _) => format!("{n} {noun}: {failed} failing"),
        };
        (n > 0).then_some(summary)
    }
}

impl ArticleValues {
    pub fn new(
        index: usize,
        article: &Article,
        rendered: RenderedArticle,
        snippets: Option<SnippetSummary>,
        thumbnail_small: Option<String>,
        routes: &Routes,
    ) -> Self {
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
            subtitle: front.subtitle.clone(),
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
            thumbnail_small: thumbnail_small.or_else(|| rendered.thumbnail.clone()),
            thumbnail: rendered.thumbnail,
            body: rendered.body,
            toc: rendered.toc,
            toc_html: rendered.toc_html,
            toc_in_body: rendered.toc_in_body,
            extra: front.extra.clone(),
            allowed_groups: front.allowed_groups.clone(),
            snippets,
        }
    }

    pub fn without_body(self) -> Self {
        ArticleValues {
            body: String::new(),
            toc: Vec::new(),
            toc_html: String::new(),
            ..self
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TermValues {
    name: String,
    url: String,
    count: usize,
}

impl TermValues {
    pub fn new(term: &Term, url: String) -> TermValues {
        TermValues {
            name: term.name.clone(),
            url,
            count: term.articles.len(),
        }
    }
}

#[derive(Serialize)]
pub struct ArticlePage<'a> {
    pub site: &'a SiteValues,
    pub article: &'a ArticleValues,
}

/// Where a list page is among the pages of its list.
#[derive(Debug, Clone, Serialize)]
pub struct Paginator {
    /// This page's number, from 1.
    pub current: usize,
    /// How many pages the list has.
    pub pages: usize,
    /// How many articles the whole list has.
    pub total: usize,
    pub first: String,
    pub last: String,
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// The values of every list page: `articles`, and `tag`, `author`,
/// `tags`, `paginator` or `search_bundles` where they apply.
#[derive(Serialize)]
pub struct TermPage<'a> {
    pub site: &'a SiteValues,
    pub articles: Vec<&'a ArticleValues>,
    pub tag: Option<&'a TermValues>,
    pub author: Option<&'a TermValues>,
    pub tags: &'a [TermValues],
    pub paginator: Option<Paginator>,
    /// The search page's further bundles to merge, relative to the first
    /// bundle's folder.
    pub search_bundles: &'a [String],
}

impl<'a> TermPage<'a> {
    pub fn list(site: &'a SiteValues, articles: Vec<&'a ArticleValues>) -> Self {
        TermPage {
            site,
            articles,
            tag: None,
            author: None,
            tags: &[],
            paginator: None,
            search_bundles: &[],
        }
    }

    pub fn tags(site: &'a SiteValues, tags: &'a [TermValues]) -> Self {
        TermPage {
            tags,
            ..TermPage::list(site, Vec::new())
        }
    }
}
