//! The output registry: every file the site publishes is planned in one
//! place, the generated ones from built-in templates a site can override,
//! and every file of kiln's own is reserved from articles.

use std::path::Path;

use kiln::route::OwnPage;

use crate::common::{Site, article, tree};

fn png(site: &Site, rel: &str) {
    let path = site.path(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::new(400, 300).save(&path).unwrap();
}

#[test]
fn a_site_overrides_the_generated_files() {
    let site = Site::new();
    site.file(
        "content/a.md",
        "---\ntitle: A & B\naliases: [old/a]\ncreated_at: 2024-01-02\n---\nText.\n",
    )
    .file(
        "templates/robots.txt",
        "User-agent: *\nDisallow: /drafts/\nSitemap: {{ prefix }}/sitemap.xml\n",
    )
    .file(
        "templates/redirect.html",
        "<!doctype html>\n<title>{{ title }}</title>\n<a href=\"{{ url }}\">moved</a>\n",
    )
    .file(
        "templates/atom.xml",
        "<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{{ site.title | escape_xml | safe }}</title>{% for entry in entries %}<entry><title>{{ entry.title | escape_xml | safe }}</title><id>{{ entry.url }}</id></entry>{% endfor %}</feed>\n",
    );
    site.build();
    let robots = std::fs::read_to_string(site.path("public/robots.txt")).unwrap();
    assert_eq!(
        robots,
        "User-agent: *\nDisallow: /drafts/\nSitemap: /sitemap.xml\n"
    );
    let redirect = site.page("old/a/index.html");
    assert_eq!(redirect.texts("title"), ["A & B"]);
    // The redirect's link is made relative to it, as every page's is.
    assert_eq!(redirect.attrs("a", "href"), ["../../a/index.html"]);
    let feed = std::fs::read_to_string(site.path("public/atom.xml")).unwrap();
    let xml = roxmltree::Document::parse(&feed).unwrap();
    let titles: Vec<&str> = xml
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(titles, ["Knowledge base", "A & B"]);
    // The sitemap is still kiln's own.
    let sitemap = std::fs::read_to_string(site.path("public/sitemap.xml")).unwrap();
    assert!(roxmltree::Document::parse(&sitemap).is_ok(), "{sitemap}");
}

/// Whether `rel` is a file the site's authors put there: an article's page,
/// a redirect of an alias, or an asset.
fn authored(rel: &str) -> bool {
    [
        "a/index.html",
        "b/index.html",
        "old/a/index.html",
        "images/plot.png",
    ]
    .contains(&rel)
}

#[test]
fn every_file_of_kilns_own_is_reserved() {
    // Every kind of page and file at once: lists in pages, tags and
    // authors, a redirect, an asset with its list thumbnail, the search
    // index.
    let site = Site::new();
    site.file("kiln.toml", "page_size = 1\n")
        .file(
            "content/a.md",
            "---\ntitle: A\nauthors: [ann]\ntags: [x, y]\naliases: [old/a]\nthumbnail: images/plot.png\ncreated_at: 2024-01-02\n---\n![plot](images/plot.png)\n",
        )
        .file("content/b.md", article("B", "Text.\n"));
    png(&site, "content/images/plot.png");
    site.build();
    let published = tree(&site.path("public"));
    assert!(published.len() > 20, "{} files", published.len());
    let mut unreserved = Vec::new();
    for (rel, _) in &published {
        if !authored(rel) && OwnPage::claiming(rel).is_none() {
            unreserved.push(rel.clone());
        }
    }
    assert!(
        unreserved.is_empty(),
        "published by kiln but not reserved in `route::OwnPage` (an article could claim them): {unreserved:?}"
    );
    assert!(published.iter().any(|(rel, _)| rel.starts_with("thumbs/")));
    assert!(published.iter().any(|(rel, _)| rel == "page/2/index.html"));
    assert!(Path::new(&site.path("public/pagefind/pagefind.js")).is_file());
}
