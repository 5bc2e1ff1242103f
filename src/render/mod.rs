//! Turns an article's parsed Markdown into HTML: heading ids and self-links,
//! the `[TOC]`, highlighted code, rewritten relative links, and the output
//! of its snippets. It never runs anything.

use std::collections::HashMap;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Tag};
use serde::{Deserialize, Serialize};

use crate::config::MarkdownConfig;
use crate::content::Article;
use crate::highlight::{Highlighter, escape_html};
use crate::markdown::{Document, code_text, fence_language, find_end, html_references, plain_text};
use crate::route::{Routes, Target};
use crate::slug::{UniqueIds, slugify};
use crate::snippet::{Placed, SnippetRuns};

mod math;
mod snippet;
mod toc;

use snippet::{UNAVAILABLE_SNIPPET, snippet_html};
pub use toc::toc_to_html;
use toc::{nest, toc_marker, toc_with_label};

/// What a page template needs of an article's Markdown.
#[derive(Debug, Clone, Serialize)]
pub struct RenderedArticle {
    /// The body as HTML.
    pub body: String,
    /// The headings within the configured levels, nested.
    pub toc: Vec<TocEntry>,
    /// The TOC as a nested list, ready to place in a sidebar.
    pub toc_html: String,
    /// The tldr as HTML.
    pub tldr: Option<String>,
    /// The thumbnail's URL.
    pub thumbnail: Option<String>,
    /// Whether the body places the TOC itself with a `[TOC]` paragraph.
    pub toc_in_body: bool,
    /// Every link destination the rendering looked up in the routes (the
    /// body's, the tldr's and the thumbnail), in order: the page changes
    /// only if one of them comes to resolve differently.
    pub looked_up: Vec<String>,
}

/// What the link check needs of a rendered article.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Outline {
    /// Every link and image of the body, as written, with its line.
    pub links: Vec<LinkRef>,
    /// Every heading id of the page, for `#fragment` checks.
    pub ids: Vec<String>,
    /// The TeX of the page (body and tldr) that could not be read, shown
    /// as an error in place.
    #[serde(default)]
    pub math: Vec<LineMessage>,
    /// Fence languages the highlighter does not know (shown as plain
    /// text): notes, not problems.
    #[serde(default)]
    pub unknown_languages: Vec<LineMessage>,
}

/// Something to say about a line of an article: a formula whose TeX could
/// not be read, a fence language no syntax knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineMessage {
    pub line: usize,
    pub message: String,
}

impl LineMessage {
    fn at(line: u32, message: String) -> LineMessage {
        LineMessage {
            line: line as usize,
            message,
        }
    }
}

/// A link or image in an article's Markdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRef {
    pub dest: String,
    pub line: usize,
    pub image: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TocEntry {
    pub level: u8,
    pub id: String,
    /// The heading's text, for the TOC link.
    pub title: String,
    pub children: Vec<TocEntry>,
}

/// Everything an article's HTML depends on besides the article.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    pub routes: &'a Routes,
    pub highlighter: &'a Highlighter,
    pub markdown: &'a MarkdownConfig,
    pub snippets: &'a SnippetRuns,
}

/// Renders one article; `index` is its place in `Content::articles`. The
/// article's parsed Markdown is consumed, so it is not copied.
pub fn render_article(
    index: usize,
    article: &Article,
    document: Document,
    cx: &RenderContext<'_>,
) -> (RenderedArticle, Outline) {
    let from_dir = article.rel_dir();
    let mut ids = UniqueIds::default();
    let Rendered {
        html: body,
        toc,
        toc_in_body,
        links,
        mut math,
        unknown_languages,
    } = render_document(document, from_dir, cx, &mut ids, Some(index));
    let heading_ids = ids.taken();
    let mut looked_up: Vec<String> = links.iter().map(|l| l.dest.clone()).collect();
    let tldr = article.front.tldr.as_deref().map(|tldr| {
        let doc = Document::parse(tldr, 1);
        let rendered = render_document(doc, from_dir, cx, &mut ids, None);
        looked_up.extend(rendered.links.into_iter().map(|l| l.dest));
        let line = article.front.positions.line("tldr").unwrap_or(1);
        math.extend(rendered.math.into_iter().map(|p| LineMessage { line, ..p }));
        sanitize_summary(&rendered.html)
    });
    looked_up.extend(article.thumbnail.clone());
    let thumbnail = article
        .thumbnail
        .as_deref()
        .map(|t| site_url(t, from_dir, cx.routes).unwrap_or_else(|| t.to_owned()));
    let toc_html = toc_to_html(&toc);
    let rendered = RenderedArticle {
        body,
        toc,
        toc_html,
        tldr,
        thumbnail,
        toc_in_body,
        looked_up,
    };
    let outline = Outline {
        links,
        ids: heading_ids,
        math,
        unknown_languages,
    };
    (rendered, outline)
}

pub(crate) struct Heading {
    start: usize,
    end: usize,
    level: HeadingLevel,
    id: String,
    text: String,
}

fn render_document(
    doc: Document,
    from_dir: &str,
    cx: &RenderContext<'_>,
    ids: &mut UniqueIds,
    article: Option<usize>,
) -> Rendered {
    let with_toc = article.is_some();
    let Document { mut events, lines } = doc;
    let mut headings = collect_headings(&events, ids);
    if with_toc {
        lift_headings(&mut headings);
    }
    let toc = toc_of(
        &headings,
        cx.markdown.toc_min_level..=cx.markdown.toc_max_level,
    );
    let heading_at: HashMap<usize, &Heading> = headings.iter().map(|h| (h.start, h)).collect();

    let embeds = article.and_then(|a| cx.snippets.in_article(a));
    let mut toc_in_body = false;
    let (mut links, mut math, mut unknown_languages) = (Vec::new(), Vec::new(), Vec::new());
    let mut out: Vec<Event<'_>> = Vec::with_capacity(events.len());
    let mut i = 0;
    while i < events.len() {
        if let Some(placed) = embeds.and_then(|e| e.get(&i)) {
            out.push(Event::Html(embed_html(placed, cx).into()));
            i = find_end(&events, i) + 1;
            continue;
        }
        let mut pass_through = false;
        match &events[i] {
            Event::Start(Tag::Heading { classes, attrs, .. }) => {
                if let Some(h) = heading_at.get(&i) {
                    links.extend((h.start..h.end).filter_map(|k| link_ref(&events[k], lines[k])));
                    let inner = inner_html(&events[h.start + 1..h.end], from_dir, cx.routes);
                    out.push(Event::Html(heading_html(h, classes, attrs, &inner).into()));
                    i = h.end + 1;
                    continue;
                }
                pass_through = true;
            }
            Event::Start(Tag::Paragraph) if with_toc => match toc_marker(&events[i..]) {
                Some((len, label)) => {
                    out.push(Event::Html(toc_with_label(&toc, label.as_deref()).into()));
                    toc_in_body = true;
                    i += len;
                    continue;
                }
                None => pass_through = true,
            },
            Event::Start(Tag::CodeBlock(kind)) => {
                let end = find_end(&events, i);
                let (html, unknown) = code_block(kind, &events[i + 1..end], cx);
                unknown_languages.extend(unknown.map(|lang| {
                    let message =
                        format!("no syntax knows the language `{lang}`: shown as plain text");
                    LineMessage::at(lines[i], message)
                }));
                out.push(Event::Html(html.into()));
                i = end + 1;
                continue;
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                links.extend(raw_html_links(html, lines[i]));
                pass_through = true;
            }
            Event::InlineMath(tex) | Event::DisplayMath(tex) => {
                let display = matches!(events[i], Event::DisplayMath(_));
                let (html, problem) = math::math_html(tex, display);
                math.extend(problem.map(|message| LineMessage::at(lines[i], message)));
                out.push(Event::Html(html.into()));
            }
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => {
                links.extend(link_ref(&events[i], lines[i]));
                let event = std::mem::replace(&mut events[i], Event::SoftBreak);
                out.push(with_site_url(event, from_dir, cx.routes));
            }
            _ => pass_through = true,
        }
        if pass_through {
            // The document is consumed: move the event instead of copying it.
            out.push(std::mem::replace(&mut events[i], Event::SoftBreak));
        }
        i += 1;
    }
    let mut html = String::with_capacity(events.len() * 24);
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    Rendered {
        html,
        toc,
        toc_in_body,
        links,
        math,
        unknown_languages,
    }
}

/// A snippet's panel, or the note that its file is unavailable.
fn embed_html(placed: &Placed, cx: &RenderContext<'_>) -> String {
    match placed {
        Placed::Embed(embed) => snippet_html(embed, cx.highlighter),
        Placed::Unavailable => UNAVAILABLE_SNIPPET.to_owned(),
    }
}

/// A code block, highlighted, and its language if no syntax knows it.
fn code_block<'a>(
    kind: &'a CodeBlockKind<'_>,
    inner: &[Event<'_>],
    cx: &RenderContext<'_>,
) -> (String, Option<&'a str>) {
    let code = code_text(inner);
    let lang = match kind {
        CodeBlockKind::Fenced(info) => fence_language(info),
        CodeBlockKind::Indented => "",
    };
    let (highlighted, known) = cx.highlighter.highlight_known(lang, &code);
    (
        code_block_html(lang, &highlighted),
        (!known).then_some(lang),
    )
}

/// What raw HTML points at (common in Knowledge Repo posts made from
/// notebooks): links to check and files to publish too.
fn raw_html_links(html: &str, line: u32) -> impl Iterator<Item = LinkRef> {
    html_references(html)
        .into_iter()
        .map(move |(tag, dest)| LinkRef {
            dest,
            line: line as usize,
            image: tag != "a",
        })
}

/// An article's body sits under the page's `h1`: when its shallowest
/// heading is deeper than `h2` (Knowledge Repo posts often start at `###`),
/// every heading moves up so that levels do not skip.
fn lift_headings(headings: &mut [Heading]) {
    let shift = headings
        .iter()
        .map(|h| h.level as usize)
        .min()
        .unwrap_or(2)
        .saturating_sub(2);
    for heading in headings {
        heading.level =
            HeadingLevel::try_from(heading.level as usize - shift).unwrap_or(heading.level);
    }
}

/// The table of contents: the headings whose levels are in `levels`.
fn toc_of(headings: &[Heading], levels: std::ops::RangeInclusive<u8>) -> Vec<TocEntry> {
    let flat: Vec<(u8, &Heading)> = headings
        .iter()
        .map(|h| (h.level as u8, h))
        .filter(|(level, _)| levels.contains(level))
        .collect();
    nest(&flat)
}

/// One Markdown document as HTML.
struct Rendered {
    html: String,
    toc: Vec<TocEntry>,
    toc_in_body: bool,
    /// Links and images outside snippet embeds.
    links: Vec<LinkRef>,
    /// TeX that could not be read.
    math: Vec<LineMessage>,
    /// Fence languages no syntax knows.
    unknown_languages: Vec<LineMessage>,
}

/// A link or image event as a [`LinkRef`].
fn link_ref(event: &Event<'_>, line: u32) -> Option<LinkRef> {
    match event {
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            ..
        }) if *link_type != LinkType::Email => Some(LinkRef {
            dest: dest_url.to_string(),
            line: line as usize,
            image: false,
        }),
        Event::Start(Tag::Image { dest_url, .. }) => Some(LinkRef {
            dest: dest_url.to_string(),
            line: line as usize,
            image: true,
        }),
        _ => None,
    }
}

fn collect_headings(events: &[Event<'_>], ids: &mut UniqueIds) -> Vec<Heading> {
    for event in events {
        if let Event::Start(Tag::Heading { id: Some(id), .. }) = event {
            ids.claim(id);
        }
    }
    let mut headings = Vec::new();
    for (start, event) in events.iter().enumerate() {
        let Event::Start(Tag::Heading { level, id, .. }) = event else {
            continue;
        };
        let end = find_end(events, start);
        let text = plain_text(&events[start + 1..end]);
        let id = match id {
            Some(id) => id.to_string(),
            None => ids.claim(&slugify(&text, "section")),
        };
        headings.push(Heading {
            start,
            end,
            level: *level,
            id,
            text,
        });
    }
    headings
}

fn inner_html(events: &[Event<'_>], from_dir: &str, routes: &Routes) -> String {
    let rewritten = events
        .iter()
        .map(|e| with_site_url(e.clone(), from_dir, routes));
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, rewritten);
    html
}

/// A link or image event pointing at its published URL (see
/// [`rewrite_link`]); any other event as it is.
fn with_site_url<'a>(mut event: Event<'a>, from_dir: &str, routes: &Routes) -> Event<'a> {
    if let Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) = &mut event {
        *dest_url = rewrite_link(dest_url, from_dir, routes);
    }
    event
}

fn heading_html(
    h: &Heading,
    classes: &[CowStr<'_>],
    attrs: &[(CowStr<'_>, Option<CowStr<'_>>)],
    inner: &str,
) -> String {
    let level = h.level as u8;
    let id = escape_html(&h.id);
    let mut open = format!("<h{level} id=\"{id}\"");
    if !classes.is_empty() {
        let joined: Vec<&str> = classes.iter().map(|c| c.as_ref()).collect();
        open.push_str(&format!(" class=\"{}\"", escape_html(&joined.join(" "))));
    }
    for (key, value) in attrs {
        if key.as_ref() == "id" || key.as_ref() == "class" {
            continue;
        }
        open.push_str(&format!(
            " {}=\"{}\"",
            escape_html(key),
            escape_html(value.as_deref().unwrap_or(""))
        ));
    }
    open.push('>');
    if inner.contains("<a ") {
        // A link cannot hold another link: put the self-link beside the text.
        format!(
            "{open}{inner} <a class=\"anchor\" href=\"#{id}\" aria-label=\"Link to this section\">#</a></h{level}>\n"
        )
    } else {
        format!("{open}<a class=\"anchor\" href=\"#{id}\">{inner}</a></h{level}>\n")
    }
}

pub(crate) fn code_block_html(lang: &str, inner: &str) -> String {
    if lang.is_empty() {
        format!("<pre class=\"code\" tabindex=\"0\"><code>{inner}</code></pre>\n")
    } else {
        let lang = escape_html(lang);
        format!(
            "<pre class=\"code\" tabindex=\"0\" data-lang=\"{lang}\"><code class=\"language-{lang}\">{inner}</code></pre>\n"
        )
    }
}

/// A relative link to an article or a file in `content/` becomes its URL on
/// the site; anything else is left as written.
fn rewrite_link<'a>(dest: &CowStr<'a>, from_dir: &str, routes: &Routes) -> CowStr<'a> {
    match site_url(dest, from_dir, routes) {
        Some(url) => url.into(),
        None => dest.clone(),
    }
}

/// A hash of what each of an article's looked-up link destinations
/// resolves to now: a cached page is still right while this is unchanged.
pub fn links_fingerprint(looked_up: &[String], from_dir: &str, routes: &Routes) -> String {
    let mut hasher = blake3::Hasher::new();
    for dest in looked_up {
        let url = site_url(dest, from_dir, routes);
        hasher.update(dest.as_bytes()).update(b"\0");
        hasher
            .update(url.as_deref().unwrap_or("\u{1}").as_bytes())
            .update(b"\0");
    }
    hasher.finalize().to_hex().to_string()
}

/// The site URL of a relative link to an article or a file in `content/`.
fn site_url(dest: &str, from_dir: &str, routes: &Routes) -> Option<String> {
    let resolved = routes.resolve(from_dir, dest)?;
    let url = match &resolved.target {
        Target::Article(i) => routes.article_url(*i),
        Target::Asset(rel) => routes.asset_url(rel),
        Target::Other(_) => return None,
    };
    Some(match resolved.fragment {
        Some(fragment) => format!("{url}#{fragment}"),
        None => url,
    })
}

/// A tldr's HTML, safe to show anywhere (the article, every list card, the
/// feed): raw HTML an author wrote there can neither run (`<script>` and
/// event attributes go) nor swallow the page (an unclosed `<div>` is
/// closed, a stray `</div>` dropped). The Markdown's own markup, links and
/// classes stay.
fn sanitize_summary(html: &str) -> String {
    static CLEANER: std::sync::LazyLock<ammonia::Builder<'static>> =
        std::sync::LazyLock::new(|| {
            let mut builder = ammonia::Builder::default();
            builder
                .link_rel(None)
                .add_generic_attributes(["class", "id", "tabindex", "data-lang"])
                // Formulas, as the math renderer writes them.
                .add_tags(math::MATHML_TAGS)
                .add_generic_attributes(math::MATHML_ATTRIBUTES);
            builder
        });
    CLEANER.clean(html).to_string()
}
