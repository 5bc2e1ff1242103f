//! The offline full-text search index, built by Pagefind as a library over
//! the pages of the staged site. The browser loads the index in small
//! chunks, only when someone searches.

use std::path::Path;

use crate::error::Error;

/// The bundle's files: a path relative to the bundle's folder
/// ([`crate::route::OwnPage::SearchBundle`]), and the bytes.
pub type BundleFiles = Vec<(String, Vec<u8>)>;

/// Indexes the HTML pages under `dir` (the article pages carry
/// `data-pagefind-body`, so only they are indexed) for `language`, an ISO
/// 639-1 code. Pagefind parses the pages in parallel.
pub fn build_search_index(dir: &Path, language: &str) -> Result<BundleFiles, Error> {
    let fail = |message: String| Error::Search { message };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| fail(e.to_string()))?;
    runtime.block_on(async {
        let config = pagefind::options::PagefindServiceConfig::builder()
            .force_language(language.to_owned())
            .build();
        let mut index =
            pagefind::api::PagefindIndex::new(Some(config)).map_err(|e| fail(e.to_string()))?;
        index
            .add_directory(
                dir.to_string_lossy().into_owned(),
                Some("**/*.html".to_owned()),
            )
            .await
            .map_err(|e| fail(e.to_string()))?;
        let files = index.get_files().await.map_err(|e| fail(e.to_string()))?;
        Ok(files
            .into_iter()
            .map(|f| (f.filename.to_string_lossy().into_owned(), f.contents))
            .collect())
    })
}
