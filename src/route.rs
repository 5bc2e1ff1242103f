//! Where every page and file of the site lives, and how a relative link in an
//! article finds its target.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::content::Content;
use crate::error::Error;
use crate::slug::slugify;

/// Characters escaped in the path of a generated URL.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'%');

/// The pages and files kiln writes itself, besides articles, tags' and
/// authors' pages and assets. Routing refuses an article or asset at one
/// of them, the build writes them, and `kiln check` accepts links to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnPage {
    Index,
    /// The index's later pages, `page/2/` and on.
    IndexPages,
    Tags,
    Authors,
    Search,
    SearchBundle,
    Static,
    Thumbnails,
    NotFound,
    Feed,
    Sitemap,
    Robots,
}

impl OwnPage {
    pub const ALL: [OwnPage; 12] = [
        OwnPage::Index,
        OwnPage::IndexPages,
        OwnPage::Tags,
        OwnPage::Authors,
        OwnPage::Search,
        OwnPage::SearchBundle,
        OwnPage::Static,
        OwnPage::Thumbnails,
        OwnPage::NotFound,
        OwnPage::Feed,
        OwnPage::Sitemap,
        OwnPage::Robots,
    ];

    /// Its path under the base path; a folder ends with `/` and holds
    /// everything below it.
    pub fn path(self) -> &'static str {
        match self {
            OwnPage::Index => "index.html",
            OwnPage::IndexPages => "page/",
            OwnPage::Tags => "tags/",
            OwnPage::Authors => "authors/",
            OwnPage::Search => "search/",
            OwnPage::SearchBundle => "pagefind/",
            OwnPage::Static => "static/",
            OwnPage::Thumbnails => "thumbs/",
            OwnPage::NotFound => "404.html",
            OwnPage::Feed => "atom.xml",
            OwnPage::Sitemap => "sitemap.xml",
            OwnPage::Robots => "robots.txt",
        }
    }

    /// Whether it is a page a link can point at (the index, not the
    /// folder of authors' pages).
    pub fn is_page(self) -> bool {
        !matches!(
            self,
            OwnPage::IndexPages
                | OwnPage::Authors
                | OwnPage::SearchBundle
                | OwnPage::Static
                | OwnPage::Thumbnails
        )
    }

    /// What it is, for an error about a clash with it.
    pub fn describe(self) -> &'static str {
        match self {
            OwnPage::Index => "the index page",
            OwnPage::IndexPages => "the index's later pages",
            OwnPage::Tags => "its `/tags/` pages",
            OwnPage::Authors => "its `/authors/` pages",
            OwnPage::Search => "the search page",
            OwnPage::SearchBundle => "the search index",
            OwnPage::Static => "its stylesheets and icon",
            OwnPage::Thumbnails => "its list thumbnails",
            OwnPage::NotFound => "the page for missing pages",
            OwnPage::Feed => "the Atom feed",
            OwnPage::Sitemap => "the sitemap",
            OwnPage::Robots => "`robots.txt`",
        }
    }

    /// The page of kiln's that a site path (such as an article's
    /// `search/` or an asset's `robots.txt`) would overwrite.
    pub fn claiming(path: &str) -> Option<OwnPage> {
        OwnPage::ALL.into_iter().find(|own| {
            let own_path = own.path();
            if *own == OwnPage::IndexPages {
                // Only `page/N/`: an article may be called `page`.
                let number = path
                    .strip_prefix(own_path)
                    .map(|rest| rest.split('/').next());
                return number
                    .flatten()
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            }
            match own_path.strip_suffix('/') {
                Some(folder) => path == folder || path.starts_with(own_path),
                None => path == own_path || path.starts_with(&format!("{own_path}/")),
            }
        })
    }
}

impl OwnPage {
    /// The page of kiln's that a file copied to `rel` would overwrite: one
    /// of its files, or a page (`index.html`) in one of its folders, or
    /// anything in the search bundle.
    pub fn overwritten_by_file(rel: &str) -> Option<OwnPage> {
        let own = OwnPage::claiming(rel)?;
        let clash = match own {
            OwnPage::SearchBundle | OwnPage::Thumbnails => true,
            OwnPage::Static => STATIC_FILES.contains(&rel),
            own if own.path().ends_with('/') => rel.ends_with("index.html"),
            _ => true,
        };
        clash.then_some(own)
    }
}

/// `html` written to `page` (a path relative to the site) with every URL
/// of the site (one that starts with `base_path`) made relative to the
/// page, a folder's URL ending in `index.html`: the site then works opened
/// from disk (`file://`) and unchanged under any path it is served from.
/// Only attribute values kiln or an author wrote (`href="…"`, `src="…"`,
/// `action="…"`, a refresh's `url=…`) are touched: text is escaped, so a
/// `"` never stands in it.
pub fn relative_urls(html: &str, base_path: &str, page: &str) -> String {
    let up = "../".repeat(page.matches('/').count());
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut done = 0;
    // One forward pass over the page (SIMD-searched for the four
    // openings at once): linear even for a list of ten thousand.
    for found in URL_STARTS.find_iter(html) {
        if found.start() < done {
            continue;
        }
        let value_start = found.end();
        out.push_str(&html[done..value_start]);
        let value_end = html[value_start..]
            .find(['"', '\''])
            .map_or(html.len(), |end| value_start + end);
        let value = &html[value_start..value_end];
        match value
            .strip_prefix(base_path)
            .filter(|_| !value.starts_with("//"))
        {
            Some(inside) => {
                let cut = inside.find(['#', '?']).unwrap_or(inside.len());
                let (path, tail) = inside.split_at(cut);
                out.push_str(&up);
                out.push_str(path);
                if path.is_empty() || path.ends_with('/') {
                    out.push_str("index.html");
                }
                out.push_str(tail);
            }
            None => out.push_str(value),
        }
        done = value_end;
    }
    out.push_str(&html[done..]);
    out
}

/// Where a URL value starts in kiln's HTML: an `href`, `src` or `action`
/// attribute, or a refresh's `url=`.
static URL_STARTS: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build([" href=\"", " src=\"", " action=\"", "; url="])
            .expect("four literal patterns always build")
    });

/// The files of [`OwnPage::Static`].
pub const STATIC_FILES: [&str; 4] = [
    "static/style.css",
    "static/highlight.css",
    "static/favicon.svg",
    "static/kiln.js",
];

/// A tag or an author: a name that has a page listing its articles.
#[derive(Debug, Clone)]
pub struct Term {
    /// The name as first written in an article.
    pub name: String,
    pub slug: String,
    /// Indexes into `Content::articles`, in the order of that list.
    pub articles: Vec<usize>,
}

/// The URL of everything the site publishes.
#[derive(Debug)]
pub struct Routes {
    base_path: String,
    /// Article file (relative to `content/`) to its index in `Content::articles`.
    articles: HashMap<String, usize>,
    slugs: Vec<String>,
    /// Asset file (relative to the content folder) to where it is
    /// published and its index in `Content::assets`.
    assets: HashMap<String, (String, usize)>,
    /// `content/`, or empty when the content folder is the root.
    content_prefix: String,
    /// Redirect pages to write, each to an article.
    pub redirects: Vec<Redirect>,
    /// Tags, sorted by slug.
    pub tags: Vec<Term>,
    /// Authors, sorted by slug.
    pub authors: Vec<Term>,
    tag_index: HashMap<String, usize>,
    author_index: HashMap<String, usize>,
}

/// A page that sends readers on to an article's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The output path of the redirect page.
    pub out: String,
    /// The article, by its index in `Content::articles`.
    pub article: usize,
}

/// The output paths claimed so far, each by its source file.
#[derive(Default)]
struct Claims {
    by_path: HashMap<String, PathBuf>,
    errors: Vec<Error>,
}

impl Claims {
    /// Claims the page at `dir/` (its `index.html`); `None` on a clash.
    fn page(&mut self, dir: &str, source: &Path, base_path: &str) -> Option<String> {
        let url = format!("{base_path}{dir}/");
        if let Some(own) = OwnPage::claiming(&format!("{dir}/")) {
            self.errors.push(Error::ReservedUrl {
                path: source.to_owned(),
                url,
                what: own.describe().to_owned(),
            });
            return None;
        }
        self.claim(format!("{dir}/index.html"), url, source)
    }

    /// Claims the file at `rel`; `None` on a clash.
    fn file(&mut self, rel: &str, source: &Path, base_path: &str) -> Option<String> {
        let url = format!("{base_path}{rel}");
        if let Some(own) = OwnPage::overwritten_by_file(rel) {
            self.errors.push(Error::ReservedUrl {
                path: source.to_owned(),
                url,
                what: own.describe().to_owned(),
            });
            return None;
        }
        self.claim(rel.to_owned(), url, source)
    }

    fn claim(&mut self, out: String, url: String, source: &Path) -> Option<String> {
        match self.by_path.get(&out) {
            Some(other) => {
                self.errors.push(Error::DuplicateUrl {
                    path: source.to_owned(),
                    other: other.clone(),
                    url,
                });
                None
            }
            None => {
                self.by_path.insert(out.clone(), source.to_owned());
                Some(out)
            }
        }
    }
}

/// What a relative link in an article points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An article, by its index in `Content::articles`.
    Article(usize),
    /// A file under `content/`, relative to it.
    Asset(String),
    /// Any other path inside the site root, relative to it, such as
    /// `snippets/shutdown.rs`, whether or not it exists.
    Other(String),
}

/// A resolved relative link: its target and the `#fragment`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub target: Target,
    pub fragment: Option<String>,
}

impl Routes {
    /// Assigns URLs to every article, asset, tag and author, and the
    /// redirect pages of old URLs (a Knowledge Repo post's `/post/….kp`,
    /// and `aliases:`). Two of them at one output path, or one at a page of
    /// kiln's own, is an error naming both; the first keeps the path.
    /// `content_prefix` is the content folder's place under the root
    /// (`content/`, or empty).
    pub fn new(base_path: &str, content: &Content, content_prefix: &str) -> (Routes, Vec<Error>) {
        let mut claims = Claims::default();
        let mut redirects = Vec::new();
        // Pages first, then the redirects of old URLs, then files: a
        // clash is reported on the later claimant.
        for article in &content.articles {
            claims.page(&article.slug, &article.source, base_path);
        }
        for (i, article) in content.articles.iter().enumerate() {
            let post_url = article
                .post_folder
                .as_ref()
                .map(|folder| format!("post/{folder}"));
            for alias in post_url.iter().chain(&article.front.aliases) {
                let alias = alias.trim_matches('/');
                let alias = alias
                    .strip_prefix(base_path.trim_matches('/'))
                    .filter(|_| base_path != "/")
                    .map_or(alias, |rest| rest.trim_start_matches('/'));
                if alias.is_empty() || alias.split('/').any(|p| p == ".." || p == ".") {
                    continue;
                }
                let out = if alias.ends_with(".html") {
                    claims.file(alias, &article.source, base_path)
                } else {
                    claims.page(alias, &article.source, base_path)
                };
                redirects.extend(out.map(|out| Redirect { out, article: i }));
            }
        }
        let mut unpublishable = HashSet::new();
        for asset in &content.assets {
            if !asset.only_if_linked {
                claims.file(&asset.out, &asset.source, base_path);
            } else if claims.by_path.contains_key(&asset.out)
                || OwnPage::overwritten_by_file(&asset.out).is_some()
            {
                // A `.kp` post's own exported `index.html` and the like:
                // never published over a page.
                unpublishable.insert(asset.rel.clone());
            }
        }
        let errors = claims.errors;
        let tags = collect_terms(content, |a| &a.front.tags);
        let authors = collect_terms(content, |a| &a.front.authors);
        let index = |terms: &[Term]| {
            terms
                .iter()
                .enumerate()
                .map(|(i, t)| (t.name.to_lowercase(), i))
                .collect()
        };
        let routes = Routes {
            base_path: base_path.to_owned(),
            articles: content
                .articles
                .iter()
                .enumerate()
                .map(|(i, a)| (a.rel.clone(), i))
                .collect(),
            slugs: content.articles.iter().map(|a| a.slug.clone()).collect(),
            assets: content
                .assets
                .iter()
                .enumerate()
                .filter(|(_, a)| !unpublishable.contains(&a.rel))
                .map(|(i, a)| (a.rel.clone(), (a.out.clone(), i)))
                .collect(),
            content_prefix: content_prefix.to_owned(),
            redirects,
            tag_index: index(&tags),
            author_index: index(&authors),
            tags,
            authors,
        };
        (routes, errors)
    }

    /// The base path, such as `/` or `/kb/`.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// A site path such as `tags/` as a URL path under the base path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_path, utf8_percent_encode(path, PATH))
    }

    pub fn article_url(&self, index: usize) -> String {
        self.url(&format!("{}/", self.slugs[index]))
    }

    /// The URL of an asset, by its path relative to the content folder.
    pub fn asset_url(&self, rel: &str) -> String {
        self.url(self.assets.get(rel).map_or(rel, |(out, _)| out.as_str()))
    }

    /// An asset's index in `Content::assets`, by its path relative to the
    /// content folder.
    pub fn asset_index(&self, rel: &str) -> Option<usize> {
        self.assets.get(rel).map(|(_, i)| *i)
    }

    /// `content/`, or empty when the content folder is the root.
    pub fn content_prefix(&self) -> &str {
        &self.content_prefix
    }

    /// The URL of the tag page for `name`, matched without regard to case.
    pub fn tag_url(&self, name: &str) -> Option<String> {
        let term = &self.tags[*self.tag_index.get(&name.to_lowercase())?];
        Some(self.url(&format!("tags/{}/", term.slug)))
    }

    pub fn author_url(&self, name: &str) -> Option<String> {
        let term = &self.authors[*self.author_index.get(&name.to_lowercase())?];
        Some(self.url(&format!("authors/{}/", term.slug)))
    }

    /// Resolves `dest`, a link written in a file in `content/<from_dir>`.
    /// Links with a scheme, absolute paths, pure `#fragment`s and paths that
    /// leave the site root give `None`.
    pub fn resolve(&self, from_dir: &str, dest: &str) -> Option<Resolved> {
        let (path, fragment) = match dest.split_once('#') {
            Some((path, fragment)) => (path, Some(fragment.to_owned())),
            None => (dest, None),
        };
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path.starts_with('/') || path.starts_with('\\') || has_scheme(path) {
            return None;
        }
        let decoded = percent_decode_str(path).decode_utf8().ok()?;
        let base = format!("{}{from_dir}", self.content_prefix);
        let joined = normalize(&base, &decoded)?;
        let target = match joined.strip_prefix(self.content_prefix.as_str()) {
            Some(rel) => {
                if let Some(&i) = self.articles.get(rel) {
                    Target::Article(i)
                } else if self.assets.contains_key(rel) {
                    Target::Asset(rel.to_owned())
                } else {
                    Target::Other(joined)
                }
            }
            None => Target::Other(joined),
        };
        Some(Resolved { target, fragment })
    }
}

/// `mailto:`, `https:`, `data:` and friends; a Windows drive letter is not
/// a scheme worth caring about here.
fn has_scheme(link: &str) -> bool {
    match link.find(':') {
        Some(colon) => {
            let scheme = &link[..colon];
            !scheme.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !scheme.contains('/')
        }
        None => false,
    }
}

/// Joins `rel` to the folder `base` (both `/`-separated, relative to the site
/// root) and removes `.` and `..`. `None` if it leaves the root.
pub fn normalize(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

fn collect_terms(
    content: &Content,
    names: impl Fn(&crate::content::Article) -> &Vec<String>,
) -> Vec<Term> {
    // Terms are matched without regard to case; the first spelling wins.
    let mut by_key: BTreeMap<String, (String, Vec<usize>)> = BTreeMap::new();
    for (i, article) in content.articles.iter().enumerate() {
        for name in names(article) {
            let (_, articles) = by_key
                .entry(name.to_lowercase())
                .or_insert_with(|| (name.clone(), Vec::new()));
            if articles.last() != Some(&i) {
                articles.push(i);
            }
        }
    }
    let mut ids = crate::slug::UniqueIds::default();
    let mut terms: Vec<Term> = by_key
        .into_values()
        .map(|(name, articles)| Term {
            slug: ids.claim(&slugify(&name, "term")),
            name,
            articles,
        })
        .collect();
    terms.sort_by(|a, b| a.slug.cmp(&b.slug));
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing() {
        assert_eq!(
            normalize("content", "../snippets/a.rs").as_deref(),
            Some("snippets/a.rs")
        );
        assert_eq!(
            normalize("content/x", "./y/../z.png").as_deref(),
            Some("content/x/z.png")
        );
        assert_eq!(normalize("content", "../../etc/passwd"), None);
    }

    #[test]
    fn own_pages() {
        assert_eq!(OwnPage::claiming("search/"), Some(OwnPage::Search));
        assert_eq!(
            OwnPage::claiming("pagefind/x.js"),
            Some(OwnPage::SearchBundle)
        );
        assert_eq!(OwnPage::claiming("tags/rust/"), Some(OwnPage::Tags));
        assert_eq!(OwnPage::claiming("atom.xml/"), Some(OwnPage::Feed));
        assert_eq!(OwnPage::claiming("robots.txt"), Some(OwnPage::Robots));
        assert_eq!(OwnPage::claiming("searching/"), None);
        assert_eq!(OwnPage::claiming("page/2/"), Some(OwnPage::IndexPages));
        assert_eq!(
            OwnPage::claiming("page/12/index.html"),
            Some(OwnPage::IndexPages)
        );
        assert_eq!(OwnPage::claiming("page/"), None);
        assert_eq!(OwnPage::claiming("page/intro/"), None);
        assert_eq!(OwnPage::claiming("images/tags.png"), None);
        assert_eq!(OwnPage::overwritten_by_file("tags/logo.png"), None);
        assert_eq!(OwnPage::overwritten_by_file("static/logo.png"), None);
        assert_eq!(
            OwnPage::overwritten_by_file("static/style.css"),
            Some(OwnPage::Static)
        );
        assert_eq!(
            OwnPage::overwritten_by_file("search/index.html"),
            Some(OwnPage::Search)
        );
    }

    #[test]
    fn relative_page_urls() {
        let html = r##"<a href="/tags/x/#top">t</a><img src="/static/a.png"><a href="https://e.org/">e</a><a href="#here">h</a><form action="/search/"></form><meta http-equiv="refresh" content="0; url=/b/">"##;
        assert_eq!(
            relative_urls(html, "/", "a/b/index.html"),
            r##"<a href="../../tags/x/index.html#top">t</a><img src="../../static/a.png"><a href="https://e.org/">e</a><a href="#here">h</a><form action="../../search/index.html"></form><meta http-equiv="refresh" content="0; url=../../b/index.html">"##
        );
        assert_eq!(
            relative_urls(
                r##"<a href="/kb/">home</a><a href="/elsewhere/">x</a>"##,
                "/kb/",
                "index.html"
            ),
            r##"<a href="index.html">home</a><a href="/elsewhere/">x</a>"##
        );
    }

    #[test]
    fn schemes() {
        assert!(has_scheme("https://x"));
        assert!(has_scheme("mailto:a@b"));
        assert!(!has_scheme("images/a.png"));
        assert!(!has_scheme("a/b:c"));
    }
}
