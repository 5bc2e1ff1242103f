//! Walks `content/` and parses every article once.
//!
//! The result is complete: each [`Article`] holds its front matter, and its
//! Markdown comes already parsed into a [`Document`] beside it, so later
//! stages read events and never parse Markdown again; rendering consumes
//! the documents.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::error::{Error, Warning};
use crate::front_matter::{FrontMatter, parse_front_matter};
use crate::markdown::Document;
use crate::slug::slugify;

/// The folder under the site root that holds articles and their files.
pub const CONTENT_DIR: &str = "content";

/// Everything under `content/`.
#[derive(Debug)]
pub struct Content {
    /// Articles sorted by path.
    pub articles: Vec<Article>,
    /// Every other file, copied to the same relative path in the output.
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
    /// The file relative to `content/`, with `/` separators.
    pub rel: String,
    /// The page's URL path under the base path, such as `my-article`.
    pub slug: String,
    pub front: FrontMatter,
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

/// A file under `content/` that is not an article.
#[derive(Debug)]
pub struct Asset {
    pub source: PathBuf,
    /// Relative to `content/`, with `/` separators.
    pub rel: String,
}

/// Finds and parses every article under `<root>/content`. Drafts are left
/// out unless `include_drafts`; articles that name no author get
/// `default_authors`. Every broken article is reported, and the others are
/// loaded all the same; only a missing `content/` folder stops it.
pub fn load_content(
    root: &Path,
    include_drafts: bool,
    default_authors: &[String],
) -> Result<Loaded, Error> {
    let dir = root.join(CONTENT_DIR);
    let mut errors = Vec::new();
    let mut markdown = Vec::new();
    let mut assets = Vec::new();
    if !dir.is_dir() {
        return Err(Error::NoContent { path: dir });
    }
    let walk = WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
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
        let source = entry.into_path();
        if source.extension().is_some_and(|ext| ext == "md") {
            markdown.push((source, rel));
        } else {
            assets.push(Asset { source, rel });
        }
    }

    let parsed: Vec<Result<LoadedArticle, Error>> = markdown
        .into_par_iter()
        .map(|(source, rel)| load_article(source, rel, include_drafts, default_authors))
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

/// One Markdown file: its article and document (none for a draft left
/// out), and warnings.
struct LoadedArticle {
    article: Option<(Article, Document)>,
    warnings: Vec<Warning>,
}

fn load_article(
    source: PathBuf,
    rel: String,
    include_drafts: bool,
    default_authors: &[String],
) -> Result<LoadedArticle, Error> {
    let bytes = std::fs::read(&source).map_err(|e| Error::Read {
        path: source.clone(),
        source: e,
    })?;
    let source_hash = blake3::hash(&bytes).to_hex().to_string();
    let text = String::from_utf8(bytes).map_err(|_| Error::NotUtf8 {
        path: source.clone(),
        name: "the file's text",
    })?;
    let mut parsed = parse_front_matter(&text, &source)?;
    if parsed.front.authors.is_empty() {
        parsed.front.authors = default_authors.to_vec();
    }
    if parsed.front.draft && !include_drafts {
        return Ok(LoadedArticle {
            article: None,
            warnings: parsed.warnings,
        });
    }
    let slug = match &parsed.front.slug {
        Some(slug) => slug.trim_matches('/').to_owned(),
        None => slug_from_path(&rel),
    };
    let document = Document::parse(parsed.body, parsed.body_line);
    Ok(LoadedArticle {
        article: Some((
            Article {
                source,
                rel,
                slug,
                front: parsed.front,
                source_hash,
            },
            document,
        )),
        warnings: parsed.warnings,
    })
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
    }
}
