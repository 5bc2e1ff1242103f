//! Property tests: whatever bytes or structure an author writes, parsing,
//! rendering and templating return values or errors, never a panic.
//!
//! `cargo test --test suite properties` runs the default number of cases; the
//! longer soak is `PROPTEST_CASES=20000 cargo test --release --test suite properties`.

use std::path::Path;
use std::sync::OnceLock;

use kiln::config::{HighlightConfig, MarkdownConfig};
use kiln::content::{Article, Content};
use kiln::front_matter::parse_front_matter;
use kiln::highlight::Highlighter;
use kiln::markdown::Document;
use kiln::render::{RenderContext, render_article};
use kiln::route::Routes;
use kiln::snippet::SnippetRuns;
use kiln::template::Templates;
use proptest::prelude::*;

fn highlighter() -> &'static Highlighter {
    static HIGHLIGHTER: OnceLock<Highlighter> = OnceLock::new();
    HIGHLIGHTER.get_or_init(|| Highlighter::new(&HighlightConfig::default()).unwrap())
}

fn templates() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(|| Templates::load(Path::new("/nonexistent-kiln-site")).unwrap())
}

/// Front matter, Markdown (with `[TOC]`), render: never a panic.
fn pipeline(source: &str) {
    let path = Path::new("content/p.md");
    let Ok(parsed) = parse_front_matter(source, path) else {
        return;
    };
    let document = Document::parse(parsed.body, parsed.body_line);
    let content = Content {
        articles: vec![Article {
            source: path.to_owned(),
            rel: "p.md".to_owned(),
            slug: "p".to_owned(),
            thumbnail: None,
            post_folder: None,
            front: parsed.front,
            source_hash: String::new(),
        }],
        assets: Vec::new(),
    };
    let (routes, errors) = Routes::new("/kb/", &content, "content/");
    assert!(errors.is_empty(), "{errors:?}");
    let runs = SnippetRuns::default();
    let markdown = MarkdownConfig::default();
    let cx = RenderContext {
        routes: &routes,
        highlighter: highlighter(),
        markdown: &markdown,
        snippets: &runs,
    };
    let (rendered, outline) = render_article(0, &content.articles[0], document, &cx);
    // Every TOC link names a heading id of the page.
    fn check(entries: &[kiln::render::TocEntry], ids: &[String]) {
        for entry in entries {
            assert!(
                ids.contains(&entry.id),
                "TOC id {} is no heading id",
                entry.id
            );
            check(&entry.children, ids);
        }
    }
    check(&rendered.toc, &outline.ids);
}

/// Text that exercises Markdown and YAML: punctuation they care about.
fn texty() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9 ]{0,12}",
            Just("`".to_owned()),
            Just("*".to_owned()),
            Just("_".to_owned()),
            Just("#".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just("<b>".to_owned()),
            Just("&amp;".to_owned()),
            Just(": ".to_owned()),
            Just("'".to_owned()),
            Just("\"".to_owned()),
            Just("{#".to_owned()),
            Just("}".to_owned()),
            Just("|".to_owned()),
            Just("\n".to_owned()),
            Just("\t".to_owned()),
            Just("é中🎉".to_owned()),
            Just("\u{0}".to_owned()),
            Just("\r\n".to_owned()),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

fn yaml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        texty(),
        texty().prop_map(|t| format!("{t:?}")),
        Just(String::new()),
        Just("~".to_owned()),
        Just("2023-03-13 00:00:00".to_owned()),
        Just("2023-13-45".to_owned()),
        Just("2024-02-29T10:00:00+02:00".to_owned()),
        Just("[a, b, [c]]".to_owned()),
        Just("{a: 1}".to_owned()),
        Just("|\n  block\n  text".to_owned()),
        Just("&anchor x".to_owned()),
        Just("*alias".to_owned()),
        Just("!!binary aGk=".to_owned()),
        (-5i64..5).prop_map(|n| n.to_string()),
        Just("true".to_owned()),
    ]
}

fn front_matter() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("title"),
        Just("authors"),
        Just("tags"),
        Just("thumbnail"),
        Just("created_at"),
        Just("updated_at"),
        Just("tldr"),
        Just("slug"),
        Just("draft"),
        Just("extra_field"),
        Just("- item"),
    ];
    prop::collection::vec((key, yaml_value()), 0..8).prop_map(|fields| {
        let mut yaml = String::from("---\n");
        for (key, value) in fields {
            yaml.push_str(&format!("{key}: {value}\n"));
        }
        yaml.push_str("---\n");
        yaml
    })
}

fn markdown_block() -> impl Strategy<Value = String> {
    prop_oneof![
        texty().prop_map(|t| format!("{t}\n")),
        (1usize..7, texty()).prop_map(|(level, t)| format!("{} {t}\n", "#".repeat(level))),
        (2usize..5, texty(), "[a-z-]{0,6}")
            .prop_map(|(l, t, id)| format!("{} {t} {{#{id}}}\n", "#".repeat(l))),
        Just("[TOC]\n".to_owned()),
        Just("  [TOC]  \n".to_owned()),
        (
            prop_oneof![
                Just("rust"),
                Just("python"),
                Just("rust,ignore"),
                Just(""),
                Just("no-such-lang"),
                Just("{.bash}")
            ],
            texty()
        )
            .prop_map(|(lang, code)| format!("```{lang}\n{code}\n```\n")),
        Just("```\nunclosed fence\n".to_owned()),
        texty().prop_map(|t| format!("[{t}](other.md#{t})\n")),
        texty().prop_map(|t| format!("![{t}](../{t}.png)\n")),
        Just("[x](../../../../etc/passwd) [y](/abs) [z](#frag) <https://e.org>\n".to_owned()),
        Just("[gone.rs](../snippets/gone.rs)\n".to_owned()),
        Just("| a | b |\n|---|---|\n| 1 |\n".to_owned()),
        Just("- [ ] task\n- [x] done\n  - nested\n".to_owned()),
        Just("Note[^n].\n\n[^n]: foot\n".to_owned()),
        Just("<div id=\"raw\">\n\n*html*\n\n</div>\n".to_owned()),
        Just("> quote\n> # heading in quote\n".to_owned()),
    ]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        pipeline(&text);
        pipeline(&format!("---\ntitle: t\n---\n{text}"));
        pipeline(&format!("---\n{text}\n---\nbody"));
    }

    #[test]
    fn structured_articles_never_panic(
        front in front_matter(),
        blocks in prop::collection::vec(markdown_block(), 0..16),
    ) {
        pipeline(&format!("{front}\n{}", blocks.join("\n")));
    }

    #[test]
    fn templates_render_any_values(title in texty(), body in texty(), tag in texty(), extra in texty()) {
        let values = serde_json::json!({
            "site": {"title": title, "description": extra, "base_url": "/", "base_path": "/", "language": "en"},
            "article": {
                "title": title, "url": "/p/", "slug": "p", "source": "p.md",
                "authors": [{"name": tag, "url": "/authors/x/"}],
                "tags": [{"name": tag, "url": "/tags/x/"}],
                "created": null, "updated": {"iso": extra, "ymd": extra, "human": extra},
                "tldr": body, "description": extra, "thumbnail": null, "body": body,
                "toc": [], "toc_html": body, "toc_in_body": false, "extra": {"k": extra},
            },
            "articles": [], "tag": null, "author": null, "tags": [],
        });
        for name in ["article.html", "index.html", "tags.html", "search.html", "404.html"] {
            let html = templates().render(name, &values);
            prop_assert!(html.is_ok(), "{name}: {:?}", html.err());
        }
    }
}
