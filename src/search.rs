//! The offline full-text search index, built by Pagefind as a library from
//! the article pages kiln has just made. The browser loads the index in
//! small chunks, only when someone searches.
//!
//! Large sites are split into shards of about [`SHARD_SIZE`] articles, each
//! its own Pagefind bundle, which the search page merges (`mergeIndex`).
//! Every bundle is cached under a hash of its pages, so an edit re-indexes
//! one shard and an unchanged site re-indexes nothing. Pages are added one
//! by one in URL order, so a bundle's bytes depend only on its pages.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::output::{Hash, Stamp, hash_bytes};
use crate::store::{Area, Store};

/// About how many articles go in one bundle: indexing one takes about a
/// second on a 2-core machine, the time an edit waits for its index.
pub const SHARD_SIZE: usize = 250;

/// The most bundles a search merges.
pub const MAX_SHARDS: usize = 64;

/// An index to make after the pages are served (`kiln serve`): the pages
/// of a build that left search out, and what indexing them needs.
#[derive(Debug, Clone)]
pub struct SearchJob {
    pub pages: Vec<SearchPage>,
    pub language: String,
    /// A hash of kiln itself, part of each bundle's key.
    pub kiln: String,
    pub cache_dir: PathBuf,
}

impl SearchJob {
    /// Makes the bundles (from the cache where it can) and puts them in
    /// `folder`, swapped in whole. Returns the bundles indexed and of how
    /// many, and the old folder to delete.
    pub fn run(&self, folder: &Path) -> Result<(usize, usize, Option<PathBuf>), Error> {
        let store = Store::open(self.cache_dir.clone(), false);
        let bundles = build_bundles(&self.pages, &self.language, (&store, &self.kiln))?;
        // Not under the build lock: the uses are recorded, and pruning is
        // left to the builds.
        store.record_uses();
        let staging = crate::output::Staging::new(folder, &store)?;
        for file in bundles.files {
            staging.link(&file.rel, &file.file, file.hash);
        }
        let stale = match staging.commit()? {
            crate::output::Committed::Swapped { stale } => stale,
            crate::output::Committed::Unchanged | crate::output::Committed::Patched => None,
        };
        Ok((bundles.indexed, bundles.shards, stale))
    }
}

/// One article page to index.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// The page's URL from the site's root, such as `/an-article/`.
    pub url: String,
    /// The page's HTML: the file, and its hash.
    pub file: PathBuf,
    pub hash: Hash,
}

/// A bundle's file, in the cache: where it goes inside the bundle folder,
/// the cached file and its hash.
#[derive(Debug, Clone)]
pub struct BundleFile {
    pub rel: String,
    pub file: PathBuf,
    pub hash: Hash,
}

/// The search bundles of a site.
#[derive(Debug, Default)]
pub struct Bundles {
    /// Every file, with its path relative to the first bundle's folder.
    pub files: Vec<BundleFile>,
    /// The folders of the bundles after the first, relative to the first
    /// one's (`shard-1/`), for the search page to merge.
    pub merged: Vec<String>,
    /// Bundles indexed by this build, as opposed to taken from the cache.
    pub indexed: usize,
    pub shards: usize,
}

/// How many shards `articles` pages make.
pub fn shard_count(articles: usize) -> usize {
    articles.div_ceil(SHARD_SIZE).clamp(1, MAX_SHARDS)
}

/// The shard of the page at `url`.
fn shard_of(url: &str, shards: usize) -> usize {
    let hash = blake3::hash(url.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    (u64::from_le_bytes(first) % shards as u64) as usize
}

/// A cached bundle's list of files.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    files: Vec<StoredFile>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredFile {
    rel: String,
    hash: Hash,
    /// The file as written: the cached files are hard-linked into the
    /// published site, where a copy edited in place changes them too.
    stamp: Stamp,
}

/// Indexes `pages` for `language` (an ISO 639-1 code), in shards, each
/// bundle taken from the store when its pages are unchanged (and the
/// build is not `--fresh`). `kiln` (a hash of kiln itself) is part of
/// each bundle's key.
pub fn build_bundles(
    pages: &[SearchPage],
    language: &str,
    (store, kiln): (&Store, &str),
) -> Result<Bundles, Error> {
    let shards = shard_count(pages.len());
    let mut groups: Vec<Vec<&SearchPage>> = vec![Vec::new(); shards];
    for page in pages {
        groups[shard_of(&page.url, shards)].push(page);
    }
    let dir = store.folder(Area::Search);
    // Each bundle's files, and whether this build indexed it.
    type Made = (Vec<BundleFile>, bool);
    let made: Vec<Result<Made, Error>> = groups
        .par_iter_mut()
        .map(|group| {
            group.sort_by(|a, b| a.url.cmp(&b.url));
            let key = bundle_key(group, language, kiln);
            let folder = store.entry(Area::Search, &key, "");
            if store.reads(Area::Search)
                && let Some(files) = load_bundle(&folder)
            {
                return Ok((files, false));
            }
            let files = index_pages(group, language)?;
            Ok((store_bundle(&dir, &folder, files)?, true))
        })
        .collect();
    let mut bundles = Bundles {
        shards,
        ..Bundles::default()
    };
    let mut errors = Vec::new();
    for (shard, made) in made.into_iter().enumerate() {
        match made {
            Ok((files, indexed)) => {
                let prefix = if shard == 0 {
                    String::new()
                } else {
                    let prefix = format!("shard-{shard}/");
                    bundles.merged.push(prefix.clone());
                    prefix
                };
                bundles.indexed += usize::from(indexed);
                bundles.files.extend(files.into_iter().map(|f| BundleFile {
                    rel: format!("{prefix}{}", f.rel),
                    ..f
                }));
            }
            Err(e) => errors.push(e),
        }
    }
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(bundles),
    }
}

/// The key of one bundle: what Pagefind is given.
fn bundle_key(pages: &[&SearchPage], language: &str, kiln: &str) -> String {
    crate::store::key(&BundleKey {
        version: "kiln-search-v2",
        kiln,
        language,
        pages: pages
            .iter()
            .map(|p| (p.url.as_str(), p.hash.as_str()))
            .collect(),
    })
}

/// Everything a bundle is made of: its key, hashed once.
#[derive(Serialize)]
struct BundleKey<'a> {
    version: &'static str,
    kiln: &'a str,
    language: &'a str,
    /// Each page's URL and the hash of its HTML, in URL order.
    pages: Vec<(&'a str, &'a str)>,
}

/// A cached bundle, if every file of it is there as stored.
fn load_bundle(folder: &Path) -> Option<Vec<BundleFile>> {
    let stored: Stored = serde_json::from_slice(&fs::read(folder.join("files.json")).ok()?).ok()?;
    stored
        .files
        .into_iter()
        .map(|f| {
            let file = folder.join("files").join(&f.rel);
            f.stamp.matches(&file).then_some(BundleFile {
                rel: f.rel,
                file,
                hash: f.hash,
            })
        })
        .collect()
}

/// Stores a bundle's files in the cache, whole: written into a temporary
/// folder, then renamed into place.
fn store_bundle(
    dir: &Path,
    folder: &Path,
    files: Vec<(String, Vec<u8>)>,
) -> Result<Vec<BundleFile>, Error> {
    let fail = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Write { path, source }
    };
    fs::create_dir_all(dir).map_err(fail(dir))?;
    let temp = tempfile::Builder::new()
        .prefix(".bundle-")
        .tempdir_in(dir)
        .map_err(fail(dir))?;
    let mut stored = Stored { files: Vec::new() };
    for (rel, bytes) in &files {
        let path = temp.path().join("files").join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(fail(parent))?;
        }
        fs::write(&path, bytes).map_err(fail(&path))?;
        stored.files.push(StoredFile {
            rel: rel.clone(),
            hash: hash_bytes(bytes),
            stamp: Stamp::of(&path).map_err(fail(&path))?,
        });
    }
    let json = serde_json::to_vec(&stored).map_err(|e| fail(folder)(std::io::Error::other(e)))?;
    let list = temp.path().join("files.json");
    fs::write(&list, json).map_err(fail(&list))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(temp.path(), fs::Permissions::from_mode(0o755));
    }
    let _ = fs::remove_dir_all(folder);
    let kept = temp.keep();
    if let Err(e) = fs::rename(&kept, folder) {
        let _ = fs::remove_dir_all(&kept);
        return Err(fail(folder)(e));
    }
    Ok(stored
        .files
        .into_iter()
        .map(|f| BundleFile {
            file: folder.join("files").join(&f.rel),
            rel: f.rel,
            hash: f.hash,
        })
        .collect())
}

/// Indexes the pages (in the order given) into one Pagefind bundle, each
/// read lean ([`lean_for_search`]).
fn index_pages(pages: &[&SearchPage], language: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let read = pages.iter().map(|page| {
        let mut html = String::new();
        fs::File::open(&page.file)
            .and_then(|mut f| f.read_to_string(&mut html))
            .map_err(|e| format!("cannot read `{}`: {e}", page.file.display()))?;
        let html = match lean_for_search(&html) {
            std::borrow::Cow::Borrowed(_) => html,
            std::borrow::Cow::Owned(lean) => lean,
        };
        Ok((page.url.clone(), html))
    });
    index_html(read, language)
}

/// Indexes pages (URL and HTML, in the order given) into one Pagefind
/// bundle: its files by path, sorted.
fn index_html(
    pages: impl Iterator<Item = Result<(String, String), String>>,
    language: &str,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let fail = |message: String| Error::Search { message };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(e.to_string()))?;
    runtime.block_on(async {
        let config = pagefind::options::PagefindServiceConfig::builder()
            .force_language(language.to_owned())
            .build();
        let mut index =
            pagefind::api::PagefindIndex::new(Some(config)).map_err(|e| fail(e.to_string()))?;
        for page in pages {
            let (url, html) = page.map_err(fail)?;
            index
                .add_html_file(None, Some(url), html)
                .await
                .map_err(|e| fail(e.to_string()))?;
        }
        let files = index.get_files().await.map_err(|e| fail(e.to_string()))?;
        let mut files: Vec<(String, Vec<u8>)> = files
            .into_iter()
            .map(|f| (f.filename.to_string_lossy().into_owned(), f.contents))
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(files)
    })
}

/// The page as Pagefind needs it: the highlighter's `<span class="…">`
/// tags inside `<pre>` blocks, and their closing tags, left out. A span
/// is inline to Pagefind and one with only a class carries nothing it
/// reads, so the index is the same; but those tags are most of a page's
/// markup, and parsing them was the biggest part of indexing.
fn lean_for_search(html: &str) -> std::borrow::Cow<'_, str> {
    const OPEN: &str = "<span class=\"";
    const CLOSE: &str = "</span>";
    if !html.contains("<pre") {
        return std::borrow::Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<pre") {
        let Some(len) = rest[start..].find("</pre>") else {
            break;
        };
        let (before, block) = (&rest[..start], &rest[start..start + len]);
        out.push_str(before);
        // Whether each open span was left out, to leave out its closing tag
        // with it.
        let mut open: Vec<bool> = Vec::new();
        let mut text = block;
        while let Some(at) = text.find("<span").into_iter().chain(text.find(CLOSE)).min() {
            out.push_str(&text[..at]);
            let tag = &text[at..];
            if let Some(after) = tag.strip_prefix(CLOSE) {
                if !open.pop().unwrap_or(false) {
                    out.push_str(CLOSE);
                }
                text = after;
            } else if let Some(class) = tag.strip_prefix(OPEN)
                && let Some(end) = class.find(['"', '<', '>'])
                && class[end..].starts_with("\">")
            {
                open.push(true);
                text = &class[end + 2..];
            } else {
                open.push(false);
                out.push_str("<span");
                text = &tag["<span".len()..];
            }
        }
        out.push_str(text);
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lean_pages_leave_out_only_classed_spans_in_code() {
        let html = concat!(
            "<p><span class=\"date\">May</span></p>",
            "<pre><code><span class=\"source rust\"><span class=\"kw\">fn</span> ",
            "<span id=\"x\">main</span>()</span>\n</code></pre>",
            "<pre>a <span class=\"k\" data-pagefind-meta=\"m\">b</span></pre>",
        );
        assert_eq!(
            lean_for_search(html),
            concat!(
                "<p><span class=\"date\">May</span></p>",
                "<pre><code>fn <span id=\"x\">main</span>()\n</code></pre>",
                "<pre>a <span class=\"k\" data-pagefind-meta=\"m\">b</span></pre>",
            )
        );
    }

    /// Pagefind makes the same bundle of a lean page as of the page.
    #[test]
    fn lean_pages_index_the_same() {
        let body = concat!(
            "<html lang=\"en\"><head><title>A</title></head><body><article data-pagefind-body>",
            "<h1>Sockets</h1><h2 id=\"close\">Close</h2><p>It <span class=\"x\">frees</span> it.</p>",
            "<pre><code><span class=\"source python\"><span class=\"k\">import</span> ",
            "socket\n<span class=\"n\">s</span>.<span class=\"f\">close</span>()</span>\n</code></pre>",
            "</article></body></html>",
        );
        let lean = lean_for_search(body).into_owned();
        assert!(lean.len() < body.len() && !lean.contains("<span class=\"k\">"));
        let index = |html: &str| {
            index_html(
                std::iter::once(Ok(("/a/".to_owned(), html.to_owned()))),
                "en",
            )
            .unwrap()
        };
        assert_eq!(index(body), index(&lean));
    }
}
