//! Files for feed readers and crawlers: `atom.xml`, `sitemap.xml` and
//! `robots.txt`.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::front_matter::Date;

/// How many articles the feed carries.
pub const FEED_SIZE: usize = 20;

/// One article, as the feed needs it.
#[derive(Debug, Clone)]
pub struct FeedItem {
    pub title: String,
    /// Absolute when the site's `base_url` is.
    pub url: String,
    pub authors: Vec<String>,
    pub updated: Option<Date>,
    pub published: Option<Date>,
    /// The tldr as HTML.
    pub summary: Option<String>,
    /// The body as HTML.
    pub content: String,
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
fn timestamp(date: &Date) -> FixedDateTime {
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

/// The Atom feed of the newest articles (`items` newest first).
pub fn atom_feed(site_title: &str, description: &str, prefix: &str, items: &[FeedItem]) -> String {
    let items = &items[..items.len().min(FEED_SIZE)];
    // The feed changes when its newest entry does: no clock involved.
    let updated = items
        .iter()
        .filter_map(|i| i.updated.or(i.published))
        .max()
        .map(|d| timestamp(&d))
        .unwrap_or_default();
    let entries = items
        .iter()
        .map(|item| {
            let when = item.updated.or(item.published);
            Entry {
                title: Text::plain(item.title.clone()),
                id: item.url.clone(),
                updated: when.map(|d| timestamp(&d)).unwrap_or_default(),
                published: item.published.map(|d| timestamp(&d)),
                authors: item
                    .authors
                    .iter()
                    .map(|name| Person {
                        name: name.clone(),
                        ..Person::default()
                    })
                    .collect(),
                links: vec![Link {
                    href: item.url.clone(),
                    rel: "alternate".to_owned(),
                    mime_type: Some("text/html".to_owned()),
                    ..Link::default()
                }],
                summary: item.summary.clone().map(Text::html),
                content: Some(Content {
                    value: Some(item.content.clone()),
                    content_type: Some("html".to_owned()),
                    ..Content::default()
                }),
                ..Entry::default()
            }
        })
        .collect();
    let feed = Feed {
        title: Text::plain(site_title.to_owned()),
        id: format!("{prefix}/"),
        updated,
        subtitle: (!description.is_empty()).then(|| Text::plain(description.to_owned())),
        generator: Some(Generator {
            value: "kiln".to_owned(),
            ..Generator::default()
        }),
        links: vec![
            Link {
                href: format!("{prefix}/atom.xml"),
                rel: "self".to_owned(),
                mime_type: Some("application/atom+xml".to_owned()),
                ..Link::default()
            },
            Link {
                href: format!("{prefix}/"),
                rel: "alternate".to_owned(),
                mime_type: Some("text/html".to_owned()),
                ..Link::default()
            },
        ],
        entries,
        ..Feed::default()
    };
    feed.to_string()
}

/// `sitemap.xml` listing every page (URL and its last change, if known).
pub fn sitemap(pages: &[(String, Option<Date>)]) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 1);
    // Writing to a Vec cannot fail.
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let mut urlset = BytesStart::new("urlset");
    urlset.push_attribute(("xmlns", "http://www.sitemaps.org/schemas/sitemap/0.9"));
    let _ = writer.write_event(Event::Start(urlset));
    for (url, lastmod) in pages {
        let _ = writer.write_event(Event::Start(BytesStart::new("url")));
        let _ = writer.write_event(Event::Start(BytesStart::new("loc")));
        let _ = writer.write_event(Event::Text(BytesText::new(url)));
        let _ = writer.write_event(Event::End(BytesEnd::new("loc")));
        if let Some(date) = lastmod {
            let _ = writer.write_event(Event::Start(BytesStart::new("lastmod")));
            let _ = writer.write_event(Event::Text(BytesText::new(&date.ymd())));
            let _ = writer.write_event(Event::End(BytesEnd::new("lastmod")));
        }
        let _ = writer.write_event(Event::End(BytesEnd::new("url")));
    }
    let _ = writer.write_event(Event::End(BytesEnd::new("urlset")));
    let mut xml = String::from_utf8(writer.into_inner()).unwrap_or_default();
    xml.push('\n');
    xml
}

/// `robots.txt`: everything may be crawled; the sitemap is named.
pub fn robots(prefix: &str) -> String {
    format!("User-agent: *\nAllow: /\nSitemap: {prefix}/sitemap.xml\n")
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

    #[test]
    fn sitemap_escapes() {
        let xml = sitemap(&[("https://x/a&b/".to_owned(), None)]);
        assert!(xml.contains("<loc>https://x/a&amp;b/</loc>"), "{xml}");
    }
}
