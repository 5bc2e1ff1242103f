//! Markdown as kiln reads it: the parser options, a parsed [`Document`]
//! with the source line of every event, and small helpers over events that
//! both the snippet and the render stages use. It sits below both, so
//! neither depends on the other.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

/// Parsed Markdown: the events, and the 1-based source line of each.
#[derive(Debug, Clone)]
pub struct Document {
    pub events: Vec<Event<'static>>,
    pub lines: Vec<u32>,
}

/// An article's Markdown (after the front matter): where it is in its
/// file, and its scan. A build holds no article's text: the file is read
/// again, checked against the hash it had, and parsed into a [`Document`]
/// only to render.
#[derive(Debug, Clone)]
pub struct Body {
    pub file: std::path::PathBuf,
    /// The hash (blake3, hex) of the file's bytes when it was loaded.
    pub hash: String,
    /// Where the Markdown is in the file's bytes.
    pub range: std::ops::Range<usize>,
    pub first_line: usize,
    pub scan: std::sync::Arc<Scan>,
}

impl Body {
    pub fn document(&self) -> Result<Document, crate::error::Error> {
        let path = || self.file.clone();
        let bytes = std::fs::read(&self.file).map_err(|source| crate::error::Error::Read {
            path: path(),
            source,
        })?;
        let text = (blake3::hash(&bytes).to_hex().as_str() == self.hash)
            .then(|| bytes.get(self.range.clone()))
            .flatten()
            .and_then(|text| std::str::from_utf8(text).ok())
            .ok_or_else(|| crate::error::Error::Changed { path: path() })?;
        Ok(Document::parse(text, self.first_line))
    }
}

/// What the stages before rendering need of an article's Markdown: the
/// places that may hold a snippet, and its images. It is small and kept in
/// the cache by the article's bytes, so an unchanged article is not parsed
/// until it has to be rendered.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scan {
    pub candidates: Vec<Candidate>,
    /// Every image, Markdown and `<img>`, in the order they stand.
    pub images: Vec<String>,
}

/// A place in an article that may be a snippet, by its event's index and
/// line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Candidate {
    /// A paragraph that is nothing but a link: a snippet if it links to a
    /// `snippets/….rs` or `.py` file.
    LinkParagraph {
        event: usize,
        line: usize,
        dest: String,
    },
    /// A fenced block in a language kiln runs snippets in (`rust`,
    /// `python`).
    Fence {
        language: crate::snippet::Language,
        event: usize,
        line: usize,
        info: String,
        code: String,
    },
}

impl Scan {
    pub fn of(document: &Document) -> Scan {
        let events = &document.events;
        let mut scan = Scan::default();
        for (i, event) in events.iter().enumerate() {
            let line = document.lines[i] as usize;
            match event {
                Event::Start(Tag::Paragraph) => {
                    if let Some(dest) = lone_link(events, i) {
                        scan.candidates.push(Candidate::LinkParagraph {
                            event: i,
                            line,
                            dest,
                        });
                    }
                }
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))
                    if let Some(language) =
                        crate::snippet::Language::of_fence(fence_language(info)) =>
                {
                    let end = events[i..]
                        .iter()
                        .position(|e| matches!(e, Event::End(TagEnd::CodeBlock)))
                        .map_or(events.len(), |p| i + p);
                    scan.candidates.push(Candidate::Fence {
                        language,
                        event: i,
                        line,
                        info: info.to_string(),
                        code: code_text(&events[i + 1..end]),
                    });
                }
                Event::Start(Tag::Image { dest_url, .. }) => scan.images.push(dest_url.to_string()),
                Event::Html(html) | Event::InlineHtml(html) => {
                    scan.images.extend(img_sources(html))
                }
                _ => {}
            }
        }
        scan
    }
}

/// The destination of the paragraph starting at `start` if it is nothing
/// but one link.
fn lone_link(events: &[Event<'_>], start: usize) -> Option<String> {
    let Some(Event::Start(Tag::Link { dest_url, .. })) = events.get(start + 1) else {
        return None;
    };
    let end_link = events[start + 2..]
        .iter()
        .position(|e| matches!(e, Event::End(TagEnd::Link)))?
        + start
        + 2;
    matches!(
        events.get(end_link + 1),
        Some(Event::End(TagEnd::Paragraph))
    )
    .then(|| dest_url.to_string())
}

/// The Markdown extensions kiln enables everywhere.
pub fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_MATH
}

impl Document {
    /// Parses `markdown`, which starts on line `first_line` of its file.
    pub fn parse(markdown: &str, first_line: usize) -> Document {
        let dollars = tex_delimiters(markdown);
        let kept = keep_html_blocks(&dollars);
        let markdown = kept.as_ref();
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(markdown.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut events = Vec::new();
        let mut lines = Vec::new();
        for (event, range) in Parser::new_ext(markdown, markdown_options()).into_offset_iter() {
            let line = first_line + line_starts.partition_point(|&s| s <= range.start) - 1;
            events.push(without_marker(event.into_static()));
            lines.push(u32::try_from(line).unwrap_or(u32::MAX));
        }
        // Every article's events stay in memory until rendering: keep no slack.
        events.shrink_to_fit();
        lines.shrink_to_fit();
        Document { events, lines }
    }
}

/// What stands in for a blank line inside a block of raw HTML while it is
/// parsed, so that CommonMark does not end the block there.
const BLANK: &str = "\u{E000}kiln-blank-line\u{E000}";

/// The block-level elements Python-Markdown keeps raw until their close
/// tag.
const BLOCK_TAGS: [&str; 44] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "canvas",
    "colgroup",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "iframe",
    "li",
    "main",
    "nav",
    "noscript",
    "ol",
    "p",
    "pre",
    "script",
    "section",
    "style",
    "table",
    "tbody",
    "td",
    "tr",
    "ul",
    "video",
    "svg",
];

/// `markdown` with every block-level HTML element that opens at the start
/// of a line (`<div>`, `<table>`, `<iframe srcdoc="…">`, …) kept whole up
/// to its matching close tag, blank lines included, as Python-Markdown and
/// so Knowledge Repo keep it. CommonMark ends an HTML block at the first
/// blank line, which turns a notebook's `<style>` into paragraphs and a
/// plot's `<iframe srcdoc>` into stray text. Blank lines inside such an
/// element become [`BLANK`] (taken out of the events again), so lines keep
/// their numbers. Fenced code, and an element that is never closed, are
/// left alone.
fn keep_html_blocks(markdown: &str) -> std::borrow::Cow<'_, str> {
    if !markdown.contains('<') {
        return std::borrow::Cow::Borrowed(markdown);
    }
    let lines: Vec<&str> = markdown.split_inclusive('\n').collect();
    let mut blank = vec![false; lines.len()];
    let mut fences = Fences::default();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start_matches(' ');
        let indent = lines[i].len() - trimmed.len();
        if !fences.is_code(lines[i])
            && let Some(end) = (indent <= 3)
                .then(|| block_tag(trimmed))
                .flatten()
                .and_then(|tag| closing_line(&lines, i, tag))
        {
            for k in i + 1..end {
                blank[k] = lines[k].trim().is_empty();
            }
            i = end;
        }
        i += 1;
    }
    if !blank.contains(&true) {
        return std::borrow::Cow::Borrowed(markdown);
    }
    let mut kept = String::with_capacity(markdown.len() + 64);
    for (line, blank) in lines.iter().zip(blank) {
        if blank {
            kept.push_str(BLANK);
            kept.push_str(if line.ends_with("\r\n") { "\r\n" } else { "\n" });
        } else {
            kept.push_str(line);
        }
    }
    std::borrow::Cow::Owned(kept)
}

/// Fenced code blocks, followed line by line as CommonMark opens and
/// closes them (a fence indented four spaces or more is no fence).
#[derive(Default)]
struct Fences {
    /// The fence of the block open now: three or more backticks or tildes.
    open: Option<String>,
}

impl Fences {
    /// Whether `line` belongs to fenced code (its opening or closing fence,
    /// or a line inside), noting the blocks it opens and closes.
    fn is_code(&mut self, line: &str) -> bool {
        let trimmed = line.trim_start_matches(' ');
        let fence_line = line.len() - trimmed.len() <= 3;
        if let Some(open) = &self.open {
            if fence_line && trimmed.trim_end().starts_with(open.as_str()) {
                self.open = None;
            }
            return true;
        }
        if fence_line && (trimmed.starts_with("```") || trimmed.starts_with("~~~")) {
            let mark = trimmed.chars().next().unwrap_or('`');
            self.open = Some(trimmed.chars().take_while(|&c| c == mark).collect());
            return true;
        }
        false
    }
}

/// The block-level element a line opens, if it starts with one.
fn block_tag(line: &str) -> Option<&'static str> {
    let rest = line.strip_prefix('<')?;
    let name: String = rest
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    BLOCK_TAGS.iter().copied().find(|tag| *tag == name)
}

/// The line at which the element `tag` opened on line `start` is closed,
/// counting nested elements of the same name.
fn closing_line(lines: &[&str], start: usize, tag: &str) -> Option<usize> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}"));
    let mut depth = 0usize;
    for (k, line) in lines.iter().enumerate().skip(start) {
        let lower = line.to_ascii_lowercase();
        depth += tags_in(&lower, &open);
        depth = depth.saturating_sub(tags_in(&lower, &close));
        if depth == 0 {
            return Some(k);
        }
    }
    None
}

/// How many times `line` holds the tag opening `start` (`<div`, `</div`),
/// ended by a space, `>` or `/` (so `<dialog` is no `<dl`).
fn tags_in(line: &str, start: &str) -> usize {
    line.match_indices(start)
        .filter(|(at, _)| {
            line[at + start.len()..]
                .starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        })
        .count()
}

/// `\(…\)` and `\[…\]` (MathJax's delimiters, which Knowledge Repo posts
/// use) as `$…$` and `$$…$$`, outside fenced code and backtick spans:
/// CommonMark would read `\(` as an escaped `(`. Lines keep their numbers.
fn tex_delimiters(markdown: &str) -> std::borrow::Cow<'_, str> {
    if !(markdown.contains("\\(") || markdown.contains("\\[")) {
        return std::borrow::Cow::Borrowed(markdown);
    }
    let mut out = String::with_capacity(markdown.len());
    let mut fences = Fences::default();
    for line in markdown.split_inclusive('\n') {
        if fences.is_code(line) {
            out.push_str(line);
            continue;
        }
        // Outside backtick spans: the even pieces between backticks.
        for (k, piece) in line.split('`').enumerate() {
            if k > 0 {
                out.push('`');
            }
            if k % 2 == 1 {
                out.push_str(piece);
            } else {
                out.push_str(&swap_delimiters(piece));
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One piece of a line with its TeX delimiters as dollars; a delimiter
/// after an escaped backslash (`\\(`) is left alone.
fn swap_delimiters(piece: &str) -> String {
    let mut out = String::with_capacity(piece.len());
    let mut chars = piece.char_indices().peekable();
    let mut backslashes = 0;
    while let Some((_, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        if c == '\\' && backslashes % 2 == 0 && matches!(next, Some('(' | ')' | '[' | ']')) {
            let dollars = if matches!(next, Some('(' | ')')) {
                "$"
            } else {
                "$$"
            };
            out.push_str(dollars);
            chars.next();
            // `$` must hug its formula: `\( x \)` is `$x$`.
            if matches!(next, Some('(' | '[')) {
                while chars.next_if(|&(_, c)| c == ' ').is_some() {}
            } else {
                let kept = out.len() - dollars.len();
                let trimmed = out[..kept].trim_end_matches(' ').len();
                out.replace_range(trimmed..kept, "");
            }
            backslashes = 0;
            continue;
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
        out.push(c);
    }
    out
}

/// An event with the stand-ins for blank lines taken out again.
fn without_marker(event: Event<'static>) -> Event<'static> {
    match event {
        Event::Html(html) if html.contains(BLANK) => Event::Html(html.replace(BLANK, "").into()),
        Event::InlineHtml(html) if html.contains(BLANK) => {
            Event::InlineHtml(html.replace(BLANK, "").into())
        }
        Event::Text(text) if text.contains(BLANK) => Event::Text(text.replace(BLANK, "").into()),
        event => event,
    }
}

/// The words of a fence info string such as `rust,no_run` or
/// `python {x}`: the language first, then its attributes.
pub fn fence_words(info: &str) -> impl Iterator<Item = &str> {
    info.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|w| !w.is_empty())
}

/// The language of a fence info string such as `rust,no_run` or `python {x}`.
pub fn fence_language(info: &str) -> &str {
    let first = info
        .split(|c: char| c == ',' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    first.trim_start_matches('{').trim_start_matches('.')
}

/// The index of the event that ends the element starting at `start`.
pub fn find_end(events: &[Event<'_>], start: usize) -> usize {
    let mut depth = 0usize;
    for (offset, event) in events[start..].iter().enumerate() {
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    return start + offset;
                }
            }
            _ => {}
        }
    }
    events.len() - 1
}

/// The text of a code block's events.
pub fn code_text(events: &[Event<'_>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Text(t) => Some(t.as_ref()),
            _ => None,
        })
        .collect()
}

/// The text a reader sees in a run of inline events.
pub fn plain_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                text.push_str(t)
            }
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text.trim().to_owned()
}

/// The `src` of every `<img>` tag in a piece of HTML.
pub fn img_sources(html: &str) -> Vec<String> {
    html_references(html)
        .into_iter()
        .filter_map(|(tag, url)| (tag == "img").then_some(url))
        .collect()
}

/// The tags of raw HTML that point at a file, and the attribute that does.
const REFERENCING: [(&str, &str); 6] = [
    ("img", "src"),
    ("source", "src"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
    ("a", "href"),
];

/// Every URL a piece of raw HTML points at, with the tag that does: the
/// sources of images, video, audio and embeds, and the targets of links.
pub fn html_references(html: &str) -> Vec<(&'static str, String)> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    for (start, _) in lower.match_indices('<') {
        let rest = &lower[start + 1..];
        let Some(&(name, attribute)) = REFERENCING.iter().find(|(name, _)| {
            rest.strip_prefix(name)
                .is_some_and(|after| after.starts_with(|c: char| c.is_ascii_whitespace()))
        }) else {
            continue;
        };
        let tag_end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &html[start..tag_end];
        // ` src=`, not `data-src=`.
        let Some(at) = tag
            .to_ascii_lowercase()
            .match_indices(&format!("{attribute}="))
            .map(|(at, _)| at)
            .find(|&at| tag[..at].ends_with(|c: char| c.is_ascii_whitespace()))
        else {
            continue;
        };
        let value = &tag[at + attribute.len() + 1..];
        let url = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split(quote).next(),
            _ => value.split(|c: char| c.is_whitespace() || c == '/').next(),
        };
        found.extend(url.filter(|s| !s.is_empty()).map(|s| (name, s.to_owned())));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_lines() {
        let doc = Document::parse("# A\n\ntext\n\n```rust\nfn main() {}\n```\n", 5);
        let code = doc
            .events
            .iter()
            .position(|e| matches!(e, Event::Start(pulldown_cmark::Tag::CodeBlock(_))))
            .unwrap();
        assert_eq!(doc.lines[0], 5);
        assert_eq!(doc.lines[code], 9);
    }

    #[test]
    fn images_in_html() {
        assert_eq!(
            img_sources("<p><IMG alt=x SRC='a.png'><img src=b.png/></p>"),
            ["a.png", "b.png"]
        );
        assert!(img_sources("<img alt=\"no source\">").is_empty());
        assert_eq!(
            html_references(
                "<a href=\"data/r.pdf\">r</a><abbr href=x><video data-src=no src=v.mp4><area>"
            ),
            [
                ("a", "data/r.pdf".to_owned()),
                ("video", "v.mp4".to_owned())
            ]
        );
    }

    #[test]
    fn html_blocks_stay_whole_but_fenced_code_is_untouched() {
        let source = "<div>\n<style>\na {}\n\nb {}\n</style>\n</div>\n\n```html\n<div>\n\n</div>\n```\n\ntext\n";
        let doc = Document::parse(source, 1);
        let html: Vec<&str> = doc
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Html(h) => Some(h.as_ref()),
                _ => None,
            })
            .collect();
        assert_eq!(
            html.concat(),
            "<div>\n<style>\na {}\n\nb {}\n</style>\n</div>\n"
        );
        let code = doc
            .events
            .iter()
            .position(|e| matches!(e, Event::Start(pulldown_cmark::Tag::CodeBlock(_))))
            .unwrap();
        let end = find_end(&doc.events, code);
        assert_eq!(code_text(&doc.events[code + 1..end]), "<div>\n\n</div>\n");
        // Lines keep their numbers.
        assert_eq!(doc.lines[doc.lines.len() - 2], 15);
        assert!(matches!(
            keep_html_blocks("<div>\nopen\n\nnever closed\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn tex_delimiters_become_dollars_outside_code() {
        assert_eq!(
            tex_delimiters("a \\( x^2 \\) b `\\(code\\)` \\\\(not\\)\n"),
            "a $x^2$ b `\\(code\\)` \\\\(not$\n"
        );
        assert_eq!(
            tex_delimiters("\\[\nx = y\n\\]\n```\n\\(kept\\)\n```\n"),
            "$$\nx = y\n$$\n```\n\\(kept\\)\n```\n"
        );
    }

    #[test]
    fn fence_info() {
        assert_eq!(fence_language("rust,no_run"), "rust");
        assert_eq!(fence_language("python {x}"), "python");
        let words: Vec<&str> = fence_words("rust should_panic, edition2024").collect();
        assert_eq!(words, ["rust", "should_panic", "edition2024"]);
    }
}
