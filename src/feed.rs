//! What the files for feed readers and crawlers show: the values of the
//! built-in templates `atom.xml`, `sitemap.xml` and `robots.txt` (a site
//! overrides any of them in its `templates/`).

use serde::Serialize;

use crate::front_matter::Date;

/// How many articles the feed carries.
pub const FEED_SIZE: usize = 20;

/// One article, as the feed shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FeedEntry {
    pub title: String,
    /// Absolute when the site's `base_url` is.
    pub url: String,
    pub authors: Vec<String>,
    /// RFC 3339, in UTC; the Unix epoch when the article has no date.
    pub updated: String,
    pub published: Option<String>,
    /// The tldr as HTML.
    pub summary: Option<String>,
    /// The body as HTML.
    pub content: String,
}

/// The values of `atom.xml`: the site's URL prefix, when the newest entry
/// changed, and the entries, newest first.
#[derive(Debug, Serialize)]
pub struct FeedValues {
    pub prefix: String,
    pub updated: String,
    pub entries: Vec<FeedEntry>,
}

impl FeedValues {
    /// The feed of `entries` (newest first, at most [`FEED_SIZE`] kept),
    /// each given with its dates.
    pub fn new(prefix: String, entries: Vec<(FeedEntry, Option<Date>)>) -> FeedValues {
        // The feed changes when its newest entry does: no clock involved.
        let updated = entries
            .iter()
            .take(FEED_SIZE)
            .filter_map(|(_, date)| *date)
            .max();
        FeedValues {
            prefix,
            updated: rfc3339(updated.as_ref()),
            entries: entries
                .into_iter()
                .take(FEED_SIZE)
                .map(|(entry, _)| entry)
                .collect(),
        }
    }
}

/// A date as the feed writes it: RFC 3339 in UTC (the Unix epoch for
/// none).
pub fn rfc3339(date: Option<&Date>) -> String {
    date.map(timestamp).unwrap_or_default().to_rfc3339()
}

/// One page of the sitemap: its URL and its last change, if known.
#[derive(Debug, Clone, Serialize)]
pub struct SitemapPage {
    pub url: String,
    /// `YYYY-MM-DD`.
    pub lastmod: Option<String>,
}

/// The values of `robots.txt` and `sitemap.xml`.
#[derive(Debug, Serialize)]
pub struct CrawlerValues<'a> {
    pub prefix: &'a str,
    pub pages: Vec<SitemapPage>,
}

/// The site's URL prefix: `https://example.org/kb` for an absolute
/// `base_url`, or the base path without its last `/`.
pub fn url_prefix(base_url: &str, base_path: &str) -> String {
    if base_url.starts_with("http://") || base_url.starts_with("https://") {
        let scheme_end = base_url.find("://").map_or(0, |i| i + 3);
        let host_end = base_url[scheme_end..]
            .find('/')
            .map_or(base_url.len(), |i| scheme_end + i);
        format!(
            "{}{}",
            &base_url[..host_end],
            base_path.trim_end_matches('/')
        )
    } else {
        base_path.trim_end_matches('/').to_owned()
    }
}

/// A front matter date as the feed's date type, in UTC.
fn timestamp(date: &Date) -> chrono::DateTime<chrono::FixedOffset> {
    let (mut seconds, mut nanos) = (date.0.as_second(), date.0.subsec_nanosecond());
    if nanos < 0 {
        // Before 1970 jiff counts the fraction back from the second.
        seconds -= 1;
        nanos += 1_000_000_000;
    }
    // jiff's timestamps (years -9999 to 9999) all lie inside chrono's range.
    chrono::DateTime::from_timestamp(seconds, nanos.unsigned_abs())
        .expect("a jiff timestamp is inside chrono's range")
        .fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert_exactly() {
        for text in [
            "2023-03-13T10:00:00Z",
            "1969-07-20T20:17:40.5Z",
            "0001-01-01T00:00:00Z",
        ] {
            let date = Date::parse(text).unwrap();
            assert_eq!(
                timestamp(&date).timestamp_nanos_opt(),
                i64::try_from(date.0.as_nanosecond()).ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            url_prefix("https://example.org/kb/", "/kb/"),
            "https://example.org/kb"
        );
        assert_eq!(
            url_prefix("https://example.org", "/"),
            "https://example.org"
        );
        assert_eq!(url_prefix("/kb/", "/kb/"), "/kb");
        assert_eq!(url_prefix("/", "/"), "");
    }
}
