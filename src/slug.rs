//! URL slugs and unique heading ids.

use std::collections::HashSet;

/// Lowercase ASCII words joined by `-`: `Socket Shutdown vs Close!` gives
/// `socket-shutdown-vs-close`. Non-Latin text is transliterated. Text with
/// no letters or digits gives `fallback`.
pub fn slugify(text: &str, fallback: &str) -> String {
    let slug = slug::slugify(text);
    if slug.is_empty() {
        fallback.to_owned()
    } else {
        slug
    }
}

/// Hands out ids that are unique within one page: the second `intro`
/// becomes `intro-1`, the third `intro-2`.
#[derive(Debug, Default)]
pub struct UniqueIds {
    taken: HashSet<String>,
}

impl UniqueIds {
    /// Starts with ids that are already in use, such as explicit `{#id}`s.
    pub fn with_reserved<I: IntoIterator<Item = String>>(reserved: I) -> Self {
        UniqueIds {
            taken: reserved.into_iter().collect(),
        }
    }

    /// Every id handed out or reserved, sorted.
    pub fn taken(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.taken.iter().cloned().collect();
        ids.sort();
        ids
    }

    /// Returns `base` if it is free, or else the first free `base-N`.
    pub fn claim(&mut self, base: &str) -> String {
        if self.taken.insert(base.to_owned()) {
            return base.to_owned();
        }
        (1..)
            .map(|n| format!("{base}-{n}"))
            .find(|candidate| self.taken.insert(candidate.clone()))
            .expect("an unbounded range always has a free id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slugify("What is Socket Shutdown?", "x"),
            "what-is-socket-shutdown"
        );
        assert_eq!(slugify("  C++ & Rust  ", "x"), "c-rust");
        assert_eq!(slugify("Ünïcödé Straße", "x"), "unicode-strasse");
        assert_eq!(slugify("!!!", "section"), "section");
        assert_eq!(slugify("", "section"), "section");
    }

    #[test]
    fn duplicates_get_numbers() {
        let mut ids = UniqueIds::default();
        assert_eq!(ids.claim("intro"), "intro");
        assert_eq!(ids.claim("intro"), "intro-1");
        assert_eq!(ids.claim("intro"), "intro-2");
        assert_eq!(ids.claim("intro-1"), "intro-1-1");
    }

    #[test]
    fn reserved_ids_are_skipped() {
        let mut ids = UniqueIds::with_reserved(["setup".to_owned()]);
        assert_eq!(ids.claim("setup"), "setup-1");
    }
}
