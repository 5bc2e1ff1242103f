//! The cache store: one ledger of last uses, one pruning policy for pages,
//! lists, search bundles, snippet runs and thumbnails, and a size budget.

use std::fs;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::common::{Site, article};

/// The keys of the entries of `area` on disk (a file stem, or a folder).
fn entries(site: &Site, area: &str) -> Vec<String> {
    let mut keys: Vec<String> = fs::read_dir(site.path(".kiln-cache").join(area))
        .map(|dir| {
            dir.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .map(|n| n.split('.').next().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys.dedup();
    keys
}

/// Moves every last use in the ledger `seconds` into the past.
fn age_ledger(root: &Path, seconds: u64) {
    let path = root.join(".kiln-cache/uses.json");
    let mut ledger: serde_json::Value =
        serde_json::from_slice(&fs::read(&path).expect("a ledger")).unwrap();
    let then = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - seconds;
    for area in ledger["areas"].as_object_mut().unwrap().values_mut() {
        for time in area.as_object_mut().unwrap().values_mut() {
            *time = then.into();
        }
    }
    fs::write(&path, serde_json::to_vec(&ledger).unwrap()).unwrap();
    // The store prunes at most once an hour: that hour has passed too.
    let _ = fs::remove_file(root.join(".kiln-cache/pruned"));
}

/// Writes `a.md` again as it was: a build that is up to date touches no
/// cache, so pruning is the work of the next build that reads the site.
fn touch_an_article(site: &Site) {
    site.file("content/a.md", article("A", "Kept.\n"));
}

/// A site of two articles, built, then one removed and built again: the
/// removed article's page stays in the cache (it was used a moment ago).
fn site_with_a_removed_article(config: &str) -> Site {
    let site = Site::new();
    site.file("kiln.toml", config)
        .file("content/a.md", article("A", "Kept.\n"))
        .file("content/b.md", article("B", "Removed.\n"));
    site.build();
    assert_eq!(entries(&site, "pages").len(), 2);
    fs::remove_file(site.path("content/b.md")).unwrap();
    site.build();
    assert_eq!(entries(&site, "pages").len(), 2, "a recent entry is kept");
    site
}

#[test]
fn an_entry_unused_for_a_month_is_pruned() {
    let site = site_with_a_removed_article("search = false\n");
    let published = fs::read(site.path("public/a/index.html")).unwrap();
    age_ledger(site.root(), 31 * 24 * 3600);
    touch_an_article(&site);
    site.build();
    assert_eq!(entries(&site, "pages").len(), 1, "b's page went");
    // The page this build used is still cached, and published as it was.
    let summary = site.build();
    assert!(
        summary.stdout.contains("is up to date"),
        "{}",
        summary.stdout
    );
    assert_eq!(
        fs::read(site.path("public/a/index.html")).unwrap(),
        published
    );
}

#[test]
fn over_the_budget_unused_entries_go_least_recent_first() {
    let site = site_with_a_removed_article("search = false\ncache_size = \"1\"\n");
    let lists_before = entries(&site, "lists");
    // A day old: not stale by age, but the store is over its one byte.
    age_ledger(site.root(), 24 * 3600);
    touch_an_article(&site);
    site.build();
    assert_eq!(entries(&site, "pages").len(), 1, "b's page went");
    let lists_after = entries(&site, "lists");
    assert!(
        lists_after.len() < lists_before.len(),
        "the lists showing b went: {lists_before:?} -> {lists_after:?}"
    );
    // What the build used stays, budget or not.
    assert!(site.exists("public/a/index.html"));
    let again = site.build();
    assert!(again.stdout.contains("is up to date"), "{}", again.stdout);
}

#[test]
fn a_bad_cache_size_is_an_error_at_its_line() {
    let site = Site::new();
    site.file("kiln.toml", "title = \"x\"\ncache_size = \"lots\"\n")
        .file("content/a.md", article("A", "x\n"));
    let run = site.kiln(&["build"]);
    run.assert_failed();
    crate::common::assert_says(&run, "kiln.toml:2:");
    crate::common::assert_says(&run, "`lots` is not a size");
}
