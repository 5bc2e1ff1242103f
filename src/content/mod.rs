//! Walks the content folder (`content/`, or a Knowledge Repo checkout's
//! root) and reads every article's front matter.
//!
//! The result is complete: each [`Article`] holds its front matter, and its
//! Markdown body stands beside it with a [`Scan`] (snippet candidates and
//! images), cached by the file's bytes. An article's Markdown is parsed at
//! most twice: once for its scan (only when the scan cache misses) and
//! once to render its page (only when the page cache misses).
//!
//! A Knowledge Repo post, `<path>.kp/knowledge.md`, is an article at
//! `/<path>/`; the other files of its folder are published beside it only
//! when it links to them (its `REVISION`, `UUID`, `orig_src/` and exported
//! HTML are Knowledge Repo's bookkeeping).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use walkdir::WalkDir;

use crate::boundary::Boundary;

use crate::error::{Error, Position, Warning};
use crate::front_matter::{FrontMatter, Thumbnail, parse_front_matter};
use crate::markdown::{Body, Document, Scan};
use crate::slug::slugify;

mod scans;
pub use scans::ScanCache;

/// Where the content is and what of it to leave out.
#[derive(Debug)]
pub struct ContentOptions<'a> {
    pub root: &'a Path,
    /// The content folder, relative to the root (`content`, or `.`).
    pub dir: &'a Path,
    /// Files left out (`ignore` and the `.gitignore` files), matched
    /// against paths relative to the site root.
    pub ignore: ignore::gitignore::Gitignore,
    /// kiln's own folders and files (output, cache, snippets, templates,
    /// `kiln.toml`), never content even when the content folder holds
    /// them.
    pub own_folders: Vec<PathBuf>,
    pub drafts: bool,
    pub private: bool,
    /// For articles that name no author.
    pub default_authors: &'a [String],
    /// Articles of earlier loads, for a long-running process to skip
    /// parsing files that did not change.
    pub memo: Option<&'a ArticleMemo>,
    /// Scans of earlier builds, by the article's bytes.
    pub scans: &'a ScanCache,
}

/// Articles loaded by earlier builds of a long-running process (`kiln
/// serve`), by file, bytes and the options that shape them: an unchanged
/// file is not parsed again.
#[derive(Default)]
pub struct ArticleMemo {
    loaded: Mutex<HashMap<String, Memoized>>,
}

impl std::fmt::Debug for ArticleMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArticleMemo").finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Memoized {
    article: Option<(Article, Body)>,
    warnings: Vec<Warning>,
}

impl ArticleMemo {
    fn get(&self, key: &str) -> Option<Memoized> {
        self.loaded.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: String, loaded: &LoadedArticle) {
        if let Ok(mut memo) = self.loaded.lock() {
            let memoized = Memoized {
                article: loaded.article.clone(),
                warnings: loaded.warnings.clone(),
            };
            memo.insert(key, memoized);
        }
    }

    /// Forgets everything but `keys` (what the last load used).
    fn keep_only(&self, keys: &HashSet<String>) {
        if let Ok(mut memo) = self.loaded.lock() {
            memo.retain(|key, _| keys.contains(key));
        }
    }
}

/// Everything in the content folder.
#[derive(Debug)]
pub struct Content {
    /// Articles sorted by path.
    pub articles: Vec<Article>,
    /// Every other file.
    pub assets: Vec<Asset>,
}

/// What [`load_content`] found: the articles that loaded, their parsed
/// Markdown (by article index), and the problems of the others.
#[derive(Debug)]
pub struct Loaded {
    pub content: Content,
    /// Each article's Markdown, by article index.
    pub bodies: Vec<Body>,
    pub warnings: Vec<Warning>,
    pub errors: Vec<Error>,
}

#[derive(Debug, Clone)]
pub struct Article {
    /// The file, as a path a user can open (joined to the site root).
    pub source: PathBuf,
    /// The file relative to the content folder, with `/` separators.
    pub rel: String,
    /// The page's URL path under the base path, such as `my-article`.
    pub slug: String,
    pub front: FrontMatter,
    /// The thumbnail as a path or URL, the `thumbnail: N` of a Knowledge
    /// Repo post resolved to its image.
    pub thumbnail: Option<String>,
    /// The `.kp` folder of a Knowledge Repo post, relative to the content
    /// folder (`projects/week4.kp`).
    pub post_folder: Option<String>,
    /// A hash of the file's bytes, to tell an edited article from an
    /// unchanged one.
    pub source_hash: String,
}

impl Article {
    /// The folder of `rel`, with `/` separators (empty at the top level).
    pub fn rel_dir(&self) -> &str {
        self.rel.rfind('/').map_or("", |i| &self.rel[..i])
    }
}

/// A file of the content folder that is not an article.
#[derive(Debug)]
pub struct Asset {
    pub source: PathBuf,
    /// Relative to the content folder, with `/` separators.
    pub rel: String,
    /// Where it is published, relative to the site: `rel`, or for a file
    /// of a `.kp` post, beside the post's page.
    pub out: String,
    /// A file of a `.kp` post: published only if an article links to it.
    pub only_if_linked: bool,
}

/// Repository files that are no articles when they have no front matter.
const BOILERPLATE: [&str; 8] = [
    "readme",
    "contributing",
    "code_of_conduct",
    "code-of-conduct",
    "license",
    "licence",
    "changelog",
    "security",
];

/// Finds and parses every article of the content folder. Drafts and
/// private posts are left out unless asked for; articles that name no
/// author get the default authors. Every broken article is reported, and
/// the others are loaded all the same; only a missing folder stops it.
pub fn load_content(options: &ContentOptions<'_>) -> Result<Loaded, Error> {
    let dir = content_path(options.root, options.dir);
    if !dir.is_dir() {
        return Err(Error::NoContent { path: dir });
    }
    let Walked {
        markdown,
        assets,
        mut errors,
        warnings: walk_warnings,
    } = walk_content(&dir, options);
    let parsed: Vec<Result<(LoadedArticle, String), Error>> = markdown
        .into_par_iter()
        .map(|(source, rel, folder)| load_article(source, rel, folder.as_deref(), options))
        .collect();
    let mut articles = Vec::new();
    let mut bodies = Vec::new();
    let mut warnings = walk_warnings;
    let mut memo_keys = HashSet::new();
    for result in parsed {
        match result {
            Ok((mut loaded, memo_key)) => {
                memo_keys.insert(memo_key);
                if let Some((article, body)) = loaded.article {
                    articles.push(article);
                    bodies.push(body);
                }
                warnings.append(&mut loaded.warnings);
            }
            Err(e) => errors.push(e),
        }
    }
    if let Some(memo) = options.memo {
        memo.keep_only(&memo_keys);
    }
    let used = articles
        .iter()
        .map(|a: &Article| a.source_hash.clone())
        .collect();
    if let Err(e) = options.scans.save(&used) {
        errors.push(e);
    }
    Ok(Loaded {
        content: Content { articles, assets },
        bodies,
        warnings,
        errors,
    })
}

/// What the walk of the content folder found: Markdown files (source,
/// path relative to the folder, `.kp` folder), assets, and problems.
struct Walked {
    markdown: Vec<(PathBuf, String, Option<String>)>,
    assets: Vec<Asset>,
    errors: Vec<Error>,
    warnings: Vec<Warning>,
}

/// Walks the content folder, leaving out hidden and kiln's own folders,
/// ignored files, and whatever a link outside the site leads to.
fn walk_content(dir: &Path, options: &ContentOptions<'_>) -> Walked {
    let own: Vec<PathBuf> = options
        .own_folders
        .iter()
        .filter_map(|p| std::path::absolute(p).ok())
        .collect();
    let boundary = Boundary::new(options.root);
    // Symbolic links are followed where they stay inside the site root;
    // one that leads outside is an error, and nothing behind it is read.
    let outside = std::cell::RefCell::new(Vec::new());
    let walk = WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() > 0
                && (e.file_name().to_string_lossy().starts_with('.')
                    || std::path::absolute(e.path()).is_ok_and(|p| own.contains(&p)))
            {
                return false;
            }
            boundary
                .check_entry(e)
                .map_err(|error| outside.borrow_mut().push(error))
                .is_ok()
        });
    let mut errors = Vec::new();
    let mut markdown = Vec::new();
    let mut assets = Vec::new();
    let mut ignored_markdown = 0;
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_owned();
                errors.push(Error::Read {
                    path,
                    source: e.into(),
                });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Some(rel) = relative_slash_path(entry.path(), dir) else {
            errors.push(Error::NotUtf8 {
                path: entry.path().to_owned(),
                name: "file name",
            });
            continue;
        };
        if is_ignored(options, &rel) {
            ignored_markdown += usize::from(rel.ends_with(".md"));
            continue;
        }
        // As a user names it: `content/a.md`, or `a.md` in a root folder;
        // a link inside the site as the file it leads to, so that it is
        // published as that file, not as a link.
        let source = if entry.path_is_symlink() {
            match boundary.resolve(entry.path()) {
                Ok(real) if !rel.ends_with(".md") => real,
                _ => entry.into_path(),
            }
        } else if dir == Path::new(".") {
            PathBuf::from(&rel)
        } else {
            entry.into_path()
        };
        match classify(source, rel) {
            Found::Markdown(file) => markdown.push(file),
            Found::Asset(asset) => assets.push(asset),
        }
    }

    errors.append(&mut outside.into_inner());
    let warnings = postless_folders(dir, &markdown, &assets);
    if markdown.is_empty() && ignored_markdown > 0 {
        errors.push(Error::AllIgnored {
            path: dir.to_owned(),
            count: ignored_markdown,
        });
    }
    Walked {
        markdown,
        assets,
        errors,
        warnings,
    }
}

/// Whether the file `rel` (relative to the content folder) is left out by
/// `ignore` or a `.gitignore`.
fn is_ignored(options: &ContentOptions<'_>, rel: &str) -> bool {
    // Relative to the root, built from names (the matcher wants a path
    // below its root, never an absolute one).
    let from_root = match options.dir.to_str() {
        Some("." | "") | None => PathBuf::from(rel),
        Some(dir) => Path::new(dir.trim_start_matches("./")).join(rel),
    };
    !from_root.has_root()
        && options
            .ignore
            .matched_path_or_any_parents(&from_root, false)
            .is_ignore()
}

/// A file of the content folder: an article's Markdown (source, path
/// relative to the folder, `.kp` folder), or an asset.
enum Found {
    Markdown((PathBuf, String, Option<String>)),
    Asset(Asset),
}

/// What a file of the content folder is: a `.kp` post's `knowledge.md` or
/// any other `.md` is an article; a `.kp` post's other files are
/// published beside its page only if linked; the rest are assets.
fn classify(source: PathBuf, rel: String) -> Found {
    let post = post_folder(&rel).map(|(folder, inside)| (folder.to_owned(), inside.to_owned()));
    match post {
        Some((folder, inside)) if inside == "knowledge.md" => {
            Found::Markdown((source, rel, Some(folder)))
        }
        Some((folder, inside)) => Found::Asset(Asset {
            out: format!("{}/{inside}", slug_of_folder(&folder)),
            source,
            rel,
            only_if_linked: true,
        }),
        None if rel.ends_with(".md") => Found::Markdown((source, rel, None)),
        None => Found::Asset(Asset {
            source,
            out: rel.clone(),
            rel,
            only_if_linked: false,
        }),
    }
}

/// A warning for each `.kp` folder that holds files but no `knowledge.md`:
/// Knowledge Repo would show no post there, and kiln publishes its files
/// only where an article links to them.
fn postless_folders(
    dir: &Path,
    markdown: &[(PathBuf, String, Option<String>)],
    assets: &[Asset],
) -> Vec<Warning> {
    let posts: HashSet<&str> = markdown
        .iter()
        .filter_map(|(_, _, folder)| folder.as_deref())
        .collect();
    let mut folders: Vec<&str> = assets
        .iter()
        .filter_map(|asset| post_folder(&asset.rel).map(|(folder, _)| folder))
        .filter(|folder| !posts.contains(folder))
        .collect();
    folders.sort_unstable();
    folders.dedup();
    folders
        .into_iter()
        .map(|folder| Warning {
            // As a user names it, as for articles.
            path: if dir == Path::new(".") {
                PathBuf::from(folder)
            } else {
                dir.join(folder)
            },
            line: 0,
            message: "a `.kp` folder without `knowledge.md` is no post: nothing of it is published unless an article links to it".to_owned(),
        })
        .collect()
}

/// The content folder joined to the root, without a `./` for `.`.
fn content_path(root: &Path, dir: &Path) -> PathBuf {
    if dir == Path::new(".") || dir.as_os_str().is_empty() {
        if root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            root.to_owned()
        }
    } else {
        root.join(dir)
    }
}

/// The `.kp` folder a file is in and the rest of its path:
/// `a/week4.kp/images/x.png` gives `("a/week4.kp", "images/x.png")`.
fn post_folder(rel: &str) -> Option<(&str, &str)> {
    let mut end = 0;
    for part in rel.split('/') {
        end += part.len();
        if part.ends_with(".kp") && end < rel.len() {
            return Some((&rel[..end], &rel[end + 1..]));
        }
        end += 1;
    }
    None
}

/// `a/Week 4.kp` gives `a/week-4`.
fn slug_of_folder(folder: &str) -> String {
    slug_from_path(folder.strip_suffix(".kp").unwrap_or(folder))
}

/// One Markdown file: its article and document (none for a draft or a
/// private post left out, or repository boilerplate), and warnings.
struct LoadedArticle {
    article: Option<(Article, Body)>,
    warnings: Vec<Warning>,
}

/// Loads one article, or takes it from the memo; returns it with its key
/// in the memo.
fn load_article(
    source: PathBuf,
    rel: String,
    post_folder: Option<&str>,
    options: &ContentOptions<'_>,
) -> Result<(LoadedArticle, String), Error> {
    let bytes = std::fs::read(&source).map_err(|e| Error::Read {
        path: source.clone(),
        source: e,
    })?;
    let source_hash = blake3::hash(&bytes).to_hex().to_string();
    let key = format!(
        "{}\0{rel}\0{post_folder:?}\0{source_hash}\0{:?}",
        source.display(),
        (options.drafts, options.private, options.default_authors)
    );
    if let Some(memoized) = options.memo.and_then(|memo| memo.get(&key)) {
        let loaded = LoadedArticle {
            article: memoized.article,
            warnings: memoized.warnings,
        };
        return Ok((loaded, key));
    }
    let loaded = parse_article(source, rel, post_folder, options, (bytes, source_hash))?;
    if let Some(memo) = options.memo {
        memo.put(key.clone(), &loaded);
    }
    Ok((loaded, key))
}

fn parse_article(
    source: PathBuf,
    rel: String,
    post_folder: Option<&str>,
    options: &ContentOptions<'_>,
    (bytes, source_hash): (Vec<u8>, String),
) -> Result<LoadedArticle, Error> {
    let skipped = |warnings| LoadedArticle {
        article: None,
        warnings,
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::NotUtf8 {
        path: source.clone(),
        name: "the file's text",
    })?;
    if !text.trim_start_matches('\u{feff}').starts_with("---") {
        let stem = rel.rsplit('/').next().unwrap_or(&rel);
        let stem = stem.split('.').next().unwrap_or(stem).to_lowercase();
        if BOILERPLATE.contains(&stem.as_str()) {
            return Ok(skipped(Vec::new()));
        }
        return Err(Error::FrontMatter {
            path: source,
            at: Position { line: 1, column: 1 },
            message: format!(
                "expected front matter: the file must start with a `---` line, then YAML fields such as `title: …`, then another `---` line (if `{rel}` is not an article, list it in `ignore` in `kiln.toml`)"
            ),
        });
    }
    let mut parsed = parse_front_matter(&text, &source)?;
    if parsed.front.tldr.as_deref().map(str::trim) == Some(PLACEHOLDER_TLDR) {
        parsed.warnings.push(Warning {
            path: source.clone(),
            line: parsed.front.positions.line("tldr").unwrap_or(1),
            message: "the TL;DR is still the placeholder `kiln new` wrote: say in one sentence what the article shows".to_owned(),
        });
    }
    if parsed.front.authors.is_empty() {
        parsed.front.authors = options.default_authors.to_vec();
    }
    if (parsed.front.draft && !options.drafts) || (parsed.front.private && !options.private) {
        return Ok(skipped(parsed.warnings));
    }
    let slug = match (post_folder, &parsed.front.slug, &parsed.front.path) {
        (Some(folder), _, _) => slug_of_folder(folder),
        (None, Some(slug), _) => slug.trim_matches('/').to_owned(),
        (None, None, Some(path)) => slug_of_folder(path.trim_matches('/')),
        (None, None, None) => slug_from_path(&rel),
    };
    let scan = match options.scans.get(&source_hash) {
        Some(scan) => scan,
        None => {
            let scan = Arc::new(Scan::of(&Document::parse(parsed.body, parsed.body_line)));
            options.scans.put(&source_hash, scan.clone());
            scan
        }
    };
    let thumbnail = match &parsed.front.thumbnail {
        Some(Thumbnail::Path(path)) => Some(path.clone()),
        Some(Thumbnail::Nth(n)) => nth_image(&scan.images, *n),
        None => None,
    };
    // The body is a slice of the text (borrowed from it); where it stands is
    // what is kept. Only an empty body may stand elsewhere.
    let start = (parsed.body.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    let range = start..start + parsed.body.len();
    let range = if text.get(range.clone()) == Some(parsed.body) {
        range
    } else {
        text.len()..text.len()
    };
    let body = Body {
        file: source.clone(),
        hash: source_hash.clone(),
        range,
        first_line: parsed.body_line,
        scan,
    };
    Ok(LoadedArticle {
        article: Some((
            Article {
                source,
                rel,
                slug,
                front: parsed.front,
                thumbnail,
                post_folder: post_folder.map(str::to_owned),
                source_hash,
            },
            body,
        )),
        warnings: parsed.warnings,
    })
}

/// The TL;DR `kiln new` writes, for the author to replace.
pub const PLACEHOLDER_TLDR: &str = "One sentence on what this article shows.";

/// The image Knowledge Repo takes for `thumbnail: N`: the N-th (from 0)
/// of the post's images, Markdown and `<img>` tags in the order they
/// stand, or the first when there are fewer.
fn nth_image(images: &[String], n: usize) -> Option<String> {
    let index = if n < images.len() { n } else { 0 };
    images.get(index).cloned()
}

/// `notes/Socket Close.md` gives `notes/socket-close`. A page bundle,
/// `notes/topic/index.md`, takes its folder's slug (`notes/topic`), so the
/// files beside it are published beside its page.
pub fn slug_from_path(rel: &str) -> String {
    let stem = rel.strip_suffix(".md").unwrap_or(rel);
    let stem = match stem.strip_suffix("/index") {
        Some(folder) if !folder.is_empty() => folder,
        _ => stem,
    };
    stem.split('/')
        .map(|part| slugify(part, "article"))
        .collect::<Vec<_>>()
        .join("/")
}

fn relative_slash_path(path: &Path, base: &Path) -> Option<String> {
    let rel = path.strip_prefix(base).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_paths() {
        assert_eq!(
            slug_from_path("socket-shutdown-vs-close.md"),
            "socket-shutdown-vs-close"
        );
        assert_eq!(
            slug_from_path("Notes/Socket Close.md"),
            "notes/socket-close"
        );
        assert_eq!(
            slug_of_folder("e10s/Beta 51/week4.kp"),
            "e10s/beta-51/week4"
        );
    }

    #[test]
    fn files_of_posts() {
        assert_eq!(
            post_folder("a/week4.kp/images/x.png"),
            Some(("a/week4.kp", "images/x.png"))
        );
        assert_eq!(
            post_folder("w.kp/knowledge.md"),
            Some(("w.kp", "knowledge.md"))
        );
        assert_eq!(post_folder("a/notes.md"), None);
        assert_eq!(post_folder("a.kp"), None);
    }

    #[test]
    fn images_in_order() {
        let doc = Document::parse(
            "![a](images/a.png)\n\n<p><img alt=\"x\" src=\"images/b.png\"></p>\n\n![c](c.png)\n",
            1,
        );
        let images = Scan::of(&doc).images;
        assert_eq!(nth_image(&images, 1).as_deref(), Some("images/b.png"));
        assert_eq!(nth_image(&images, 2).as_deref(), Some("c.png"));
        assert_eq!(nth_image(&images, 9).as_deref(), Some("images/a.png"));
        assert_eq!(
            nth_image(&Scan::of(&Document::parse("text", 1)).images, 0),
            None
        );
    }
}
