//! The table of contents: the `[TOC]` marker, nesting headings by level,
//! and the TOC as HTML.

use pulldown_cmark::{Event, TagEnd};

use super::{Heading, TocEntry};
use crate::highlight::escape_html;

/// The number of events of a paragraph that says exactly `[TOC]`.
pub(super) fn toc_marker_len(events: &[Event<'_>]) -> Option<usize> {
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
    list(toc, &mut out);
    out.push_str("</nav>\n");
    out
}
