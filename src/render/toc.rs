//! The table of contents: the `[TOC]` marker, nesting headings by level,
//! and the TOC as HTML.

use pulldown_cmark::{Event, Tag, TagEnd};

use super::{Heading, TocEntry};
use crate::highlight::escape_html;

/// The number of events of a paragraph that says exactly `[TOC]`.
fn toc_marker_len(events: &[Event<'_>]) -> Option<usize> {
    let mut text = String::new();
    for (i, event) in events.iter().enumerate().skip(1) {
        match event {
            Event::Text(t) => text.push_str(t),
            Event::End(TagEnd::Paragraph) => {
                return (text.trim() == "[TOC]").then_some(i + 1);
            }
            _ => return None,
        }
        if text.len() > 8 {
            return None;
        }
    }
    None
}

/// `[TOC]` at `events[0]` (a paragraph's start), perhaps after a label
/// Knowledge Repo posts put before it (`**Contents**`, alone in its
/// paragraph or on the line before): how many events it spans, and the
/// label, which goes inside the table so that it moves and hides with it.
pub(super) fn toc_marker(events: &[Event<'_>]) -> Option<(usize, Option<String>)> {
    if let Some(len) = toc_marker_len(events) {
        return Some((len, None));
    }
    let (label, after) = contents_label(events)?;
    match events.get(after)? {
        Event::End(TagEnd::Paragraph) => {
            let rest = after + 1;
            toc_marker_len(events.get(rest..)?).map(|len| (rest + len, Some(label)))
        }
        Event::SoftBreak => {
            let mut text = String::new();
            for (i, event) in events.iter().enumerate().skip(after + 1) {
                match event {
                    Event::Text(t) => text.push_str(t),
                    Event::End(TagEnd::Paragraph) if text.trim() == "[TOC]" => {
                        return Some((i + 1, Some(label)));
                    }
                    _ => return None,
                }
            }
            None
        }
        _ => None,
    }
}

/// A paragraph (at `events[0]`) that opens with only `Contents` or `Table
/// of contents`, bold or italic or plain, with or without a colon: the
/// label and the index of the event after it.
fn contents_label(events: &[Event<'_>]) -> Option<(String, usize)> {
    let mut i = 1;
    let mut wrapped = 0;
    while matches!(
        events.get(i),
        Some(Event::Start(Tag::Strong | Tag::Emphasis))
    ) {
        i += 1;
        wrapped += 1;
    }
    let Some(Event::Text(text)) = events.get(i) else {
        return None;
    };
    let label = text.trim().trim_end_matches(':').trim();
    if !matches!(
        label.to_lowercase().as_str(),
        "contents" | "table of contents"
    ) {
        return None;
    }
    i += 1;
    for _ in 0..wrapped {
        if !matches!(
            events.get(i),
            Some(Event::End(TagEnd::Strong | TagEnd::Emphasis))
        ) {
            return None;
        }
        i += 1;
    }
    Some((label.to_owned(), i))
}

/// Nests a flat list of headings by level; skipped levels are tolerated.
pub(super) fn nest(flat: &[(u8, &Heading)]) -> Vec<TocEntry> {
    let mut entries = Vec::new();
    let mut i = 0;
    while i < flat.len() {
        let (level, heading) = flat[i];
        let children_end = flat[i + 1..]
            .iter()
            .position(|(l, _)| *l <= level)
            .map_or(flat.len(), |p| i + 1 + p);
        entries.push(TocEntry {
            level,
            id: heading.id.clone(),
            title: heading.text.clone(),
            children: nest(&flat[i + 1..children_end]),
        });
        i = children_end;
    }
    entries
}

/// The TOC as nested `<ul>`s inside a `<nav>`, or nothing if it is empty.
pub fn toc_to_html(toc: &[TocEntry]) -> String {
    toc_with_label(toc, None)
}

/// The table of contents as a `<nav>`, with the author's label (such as
/// `Contents`) at its top if there is one.
pub fn toc_with_label(toc: &[TocEntry], label: Option<&str>) -> String {
    fn list(entries: &[TocEntry], out: &mut String) {
        out.push_str("<ul>");
        for entry in entries {
            out.push_str(&format!(
                "<li><a href=\"#{}\">{}</a>",
                escape_html(&entry.id),
                escape_html(&entry.title)
            ));
            if !entry.children.is_empty() {
                list(&entry.children, out);
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    if toc.is_empty() {
        return String::new();
    }
    let mut out = String::from("<nav class=\"toc\" aria-label=\"Table of contents\">");
    if let Some(label) = label {
        out.push_str(&format!(
            "<p class=\"toc-label\">{}</p>",
            escape_html(label)
        ));
    }
    list(toc, &mut out);
    out.push_str("</nav>\n");
    out
}
