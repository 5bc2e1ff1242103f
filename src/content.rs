//! Walks the content folder (`content/`, or a Knowledge Repo checkout's
//! root) and parses every article once.
//!
//! The result is complete: each [`Article`] holds its front matter, and its
//! Markdown comes already parsed into a [`Document`] beside it, so later
//! stages read events and never parse Markdown again; rendering consumes
//! the documents.
//!
//! A Knowledge Repo post, `<path>.kp/knowledge.md`, is an article at
//! `/<path>/`; the other files of its folder are published beside it only
//! when it links to them (its `REVISION`, `UUID`, `orig_src/` and exported
//! HTML are Knowledge Repo's bookkeeping).

use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, Tag};
use rayon::prelude::*;
use walkdir::WalkDir;

use crate::error::{Error, Position, Warning};
use crate::front_matter::{FrontMatter, Thumbnail, parse_front_matter};
use crate::markdown::{Document, img_sources};
use crate::slug::slugify;

/// Where the content is and what of it to leave out.
#[derive(Debug)]
pub struct ContentOptions<'a> {
    pub root: &'a Path,
    /// The content folder, relative to the root (`content`, or `.`).
    pub dir: &'a Path,
    /// Files left out, by globs relative to the content folder.
    pub ignore: globset::GlobSet,
    /// kiln's own folders and files (output, cache, snippets, templates,
    /// `kiln.toml`), never content even when the content folder holds
    /// them.
    pub own_folders: Vec<PathBuf>,
    pub drafts: bool,
    pub private: bool,
    /// For articles that name no author.
    pub default_authors: &'a [String],
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
    pub documents: Vec<Document>,
    pub warnings: Vec<Warning>,
    pub errors: Vec<Error>,
}

#[derive(Debug)]
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
    let own: Vec<PathBuf> = options
        .own_folders
        .iter()
        .filter_map(|p| std::path::absolute(p).ok())
        .collect();
    let walk = WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_name().to_string_lossy().starts_with('.')
                    || std::path::absolute(e.path()).is_ok_and(|p| own.contains(&p)))
        });
    let mut errors = Vec::new();
    let mut markdown = Vec::new();
    let mut assets = Vec::new();
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(&dir).to_owned();
                errors.push(Error::Read {
                    path,
                    source: e.into(),
                });
                continue;
            }
        };
        if !entry.file_type().is_file() && !entry.path().is_file() {
            continue;
        }
        let Some(rel) = relative_slash_path(entry.path(), &dir) else {
            errors.push(Error::NotUtf8 {
                path: entry.path().to_owned(),
                name: "file name",
            });
            continue;
        };
        if options.ignore.is_match(&rel) {
            continue;
        }
        // As a user names it: `content/a.md`, or `a.md` in a root folder.
        let source = if dir == Path::new(".") {
            PathBuf::from(&rel)
        } else {
            entry.into_path()
        };
        let post = post_folder(&rel).map(|(folder, inside)| (folder.to_owned(), inside.to_owned()));
        match post {
            Some((folder, inside)) if inside == "knowledge.md" => {
                markdown.push((source, rel, Some(folder)))
            }
            Some((folder, inside)) => assets.push(Asset {
                out: format!("{}/{inside}", slug_of_folder(&folder)),
                source,
                rel,
                only_if_linked: true,
            }),
            None if rel.ends_with(".md") => markdown.push((source, rel, None)),
            None => assets.push(Asset {
                source,
                out: rel.clone(),
                rel,
                only_if_linked: false,
            }),
        }
    }

    let parsed: Vec<Result<LoadedArticle, Error>> = markdown
        .into_par_iter()
        .map(|(source, rel, folder)| load_article(source, rel, folder.as_deref(), options))
        .collect();
    let mut articles = Vec::new();
    let mut documents = Vec::new();
    let mut warnings = Vec::new();
    for result in parsed {
        match result {
            Ok(mut loaded) => {
                if let Some((article, document)) = loaded.article {
                    articles.push(article);
                    documents.push(document);
                }
                warnings.append(&mut loaded.warnings);
            }
            Err(e) => errors.push(e),
        }
    }
    Ok(Loaded {
        content: Content { articles, assets },
        documents,
        warnings,
        errors,
    })
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
    article: Option<(Article, Document)>,
    warnings: Vec<Warning>,
}

fn load_article(
    source: PathBuf,
    rel: String,
    post_folder: Option<&str>,
    options: &ContentOptions<'_>,
) -> Result<LoadedArticle, Error> {
    let skipped = |warnings| LoadedArticle {
        article: None,
        warnings,
    };
    let bytes = std::fs::read(&source).map_err(|e| Error::Read {
        path: source.clone(),
        source: e,
    })?;
    let source_hash = blake3::hash(&bytes).to_hex().to_string();
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
    let document = Document::parse(parsed.body, parsed.body_line);
    let thumbnail = match &parsed.front.thumbnail {
        Some(Thumbnail::Path(path)) => Some(path.clone()),
        Some(Thumbnail::Nth(n)) => nth_image(&document, *n),
        None => None,
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
            document,
        )),
        warnings: parsed.warnings,
    })
}

/// The image Knowledge Repo takes for `thumbnail: N`: the N-th (from 0)
/// of the post's images, Markdown and `<img>` tags in the order they
/// stand, or the first when there are fewer.
fn nth_image(document: &Document, n: usize) -> Option<String> {
    let mut images = Vec::new();
    for event in &document.events {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) => images.push(dest_url.to_string()),
            Event::Html(html) | Event::InlineHtml(html) => images.extend(img_sources(html)),
            _ => {}
        }
    }
    let index = if n < images.len() { n } else { 0 };
    images.into_iter().nth(index)
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
        assert_eq!(nth_image(&doc, 1).as_deref(), Some("images/b.png"));
        assert_eq!(nth_image(&doc, 2).as_deref(), Some("c.png"));
        assert_eq!(nth_image(&doc, 9).as_deref(), Some("images/a.png"));
        assert_eq!(nth_image(&Document::parse("text", 1), 0), None);
    }
}
