//! Small thumbnails for the article lists, made at build time from the
//! thumbnail image and cached by its content, so a list shows a small file
//! instead of a full-size plot scaled by the browser.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::route::OwnPage;
use crate::store::{Area, Store};

/// The longest side of a list thumbnail, in pixels (twice the 72 CSS
/// pixels a list draws, for sharp screens).
pub const SIZE: u32 = 144;

/// A list thumbnail: where it is published and the cached file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Small {
    /// Relative to the site, such as `thumbs/3f…a1.png`.
    pub out: String,
    pub file: PathBuf,
}

/// Everything a list thumbnail is made of: its key in the store, and
/// (shortened) its published name.
#[derive(Serialize)]
struct ThumbKey {
    version: &'static str,
    size: u32,
    /// A hash of the image's bytes.
    image: String,
}

/// The list thumbnail of the image `source`, made once per image content
/// into the store. `None` for an image it cannot read or that is small
/// already (SVG, a tiny PNG): the list then shows the original.
pub fn small_thumbnail(source: &Path, store: &Store) -> Option<Small> {
    let bytes = std::fs::read(source).ok()?;
    let key = crate::store::key(&ThumbKey {
        version: "kiln-thumb-v2",
        size: SIZE,
        image: blake3::hash(&bytes).to_hex().to_string(),
    });
    let key = &key[..32];
    let file = store.entry(Area::Thumbs, key, "png");
    let out = format!("{}{key}.png", OwnPage::Thumbnails.path());
    if file.is_file() {
        return Some(Small { out, file });
    }
    let image = image::load_from_memory(&bytes).ok()?;
    if image.width() <= SIZE && image.height() <= SIZE {
        return None;
    }
    let small = image.thumbnail(SIZE, SIZE);
    std::fs::create_dir_all(file.parent()?).ok()?;
    // Written whole, then renamed: a half-written file is never trusted
    // (nor kept: the store removes what a crash left behind a dot).
    let partial = file.with_file_name(format!(".{key}.png.partial"));
    small
        .save_with_format(&partial, image::ImageFormat::Png)
        .ok()?;
    std::fs::rename(&partial, &file).ok()?;
    Some(Small { out, file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_images_shrink_and_small_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_owned(), false);
        let big = dir.path().join("big.png");
        image::RgbImage::new(600, 300).save(&big).unwrap();
        let small = small_thumbnail(&big, &store).unwrap();
        assert!(small.out.starts_with("thumbs/"));
        let made = image::open(&small.file).unwrap();
        assert_eq!((made.width(), made.height()), (144, 72));
        // Cached: the same answer without decoding again.
        assert_eq!(small_thumbnail(&big, &store), Some(small));
        let tiny = dir.path().join("tiny.png");
        image::RgbImage::new(32, 32).save(&tiny).unwrap();
        assert_eq!(small_thumbnail(&tiny, &store), None);
        assert_eq!(small_thumbnail(&dir.path().join("none.png"), &store), None);
    }
}
