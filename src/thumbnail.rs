//! Small thumbnails for the article lists, made at build time from the
//! thumbnail image and cached by its content, so a list shows a small file
//! instead of a full-size plot scaled by the browser.

use std::path::{Path, PathBuf};

use crate::route::OwnPage;

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

/// The list thumbnail of the image `source`, made once per image content
/// into `cache_dir/thumbs/`. `None` for an image it cannot read or that
/// is small already (SVG, a tiny PNG): the list then shows the original.
pub fn small_thumbnail(source: &Path, cache_dir: &Path) -> Option<Small> {
    let bytes = std::fs::read(source).ok()?;
    let key = {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"kiln-thumb-v1\0");
        hasher.update(&SIZE.to_le_bytes());
        hasher.update(&bytes);
        hasher.finalize().to_hex()[..32].to_owned()
    };
    let name = format!("{key}.png");
    let file = cache_dir.join("thumbs").join(&name);
    let out = format!("{}{name}", OwnPage::Thumbnails.path());
    if file.is_file() {
        return Some(Small { out, file });
    }
    let image = image::load_from_memory(&bytes).ok()?;
    if image.width() <= SIZE && image.height() <= SIZE {
        return None;
    }
    let small = image.thumbnail(SIZE, SIZE);
    std::fs::create_dir_all(file.parent()?).ok()?;
    // Written whole, then renamed: a half-written file is never trusted.
    let partial = file.with_extension("png.partial");
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
        let big = dir.path().join("big.png");
        image::RgbImage::new(600, 300).save(&big).unwrap();
        let small = small_thumbnail(&big, dir.path()).unwrap();
        assert!(small.out.starts_with("thumbs/"));
        let made = image::open(&small.file).unwrap();
        assert_eq!((made.width(), made.height()), (144, 72));
        // Cached: the same answer without decoding again.
        assert_eq!(small_thumbnail(&big, dir.path()), Some(small));
        let tiny = dir.path().join("tiny.png");
        image::RgbImage::new(32, 32).save(&tiny).unwrap();
        assert_eq!(small_thumbnail(&tiny, dir.path()), None);
        assert_eq!(
            small_thumbnail(&dir.path().join("none.png"), dir.path()),
            None
        );
    }
}
