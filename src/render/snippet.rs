//! The panel of a snippet: its source, what it printed or rustc said, and
//! its verdict.

use super::code_block_html;
use crate::highlight::{Highlighter, escape_html};
use crate::snippet::{Compile, Embed, Language, Origin, Outcome, SnippetRun, Stream, Walls};

/// Stands where a linked snippet could not be read; such a build fails,
/// so this is only ever seen by `kiln check`.
pub(super) const UNAVAILABLE_SNIPPET: &str =
    "<p class=\"snippet-unavailable\">snippet unavailable</p>\n";

/// A snippet's source and what it did when the site was built, as its
/// verdict says.
pub(super) fn snippet_html(embed: &Embed, highlighter: &Highlighter) -> String {
    let Embed {
        snippet,
        run,
        verdict,
        crates,
        ..
    } = embed;
    let mut html = String::from("<figure class=\"snippet\">\n");
    let label = match &snippet.origin {
        Origin::Linked { path } => path.rsplit('/').next().unwrap_or(path).to_owned(),
        Origin::Inline => snippet.language().name().to_owned(),
    };
    // The file, its mode and how it fared, at a glance.
    let (badge_class, badge) = match verdict.outcome {
        Outcome::Passed => ("ok", "✓ passes"),
        Outcome::Failed => ("fail", "✗ fails"),
        Outcome::Skipped => ("skipped", "not run"),
    };
    let flags = snippet.options.flags().join(", ");
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(
            "<span class=\"snippet-mode\">{}</span> ",
            escape_html(&flags)
        )
    };
    html.push_str(&format!(
        "<figcaption class=\"snippet-title\"><span>{}</span><span>{flags}<span class=\"snippet-badge {badge_class}\">{badge}</span></span></figcaption>\n",
        escape_html(&label),
    ));
    let language = snippet.language();
    html.push_str(&code_block_html(
        language.token(),
        &highlighter.highlight(language.token(), &snippet.display),
    ));
    match (&run.compile, &run.execution) {
        (Compile::Failed(diagnostics), _) => html.push_str(&format!(
            "<div class=\"snippet-output\"><p class=\"snippet-output-label\">{} said</p><pre tabindex=\"0\"><samp class=\"diagnostic\">{}</samp></pre></div>\n",
            language.checker(),
            ansi_html(diagnostics)
        )),
        (Compile::Succeeded, Some(execution)) => {
            let mut output = String::new();
            for chunk in &execution.output {
                let text = ansi_html(&chunk.text);
                match chunk.stream {
                    Stream::Stdout => output.push_str(&text),
                    // Marked by colour for the eye, and in words for a
                    // screen reader.
                    Stream::Stderr => output.push_str(&format!(
                        "<span class=\"stderr\"><span class=\"visually-hidden\">stderr: </span>{text}</span>"
                    )),
                }
            }
            if execution.truncated {
                output.push_str("<span class=\"truncated\">\n… output truncated</span>");
            }
            if output.is_empty() {
                output.push_str("<span class=\"truncated\">(no output)</span>");
            }
            html.push_str(&format!(
                "<div class=\"snippet-output\"><p class=\"snippet-output-label\">Output</p><pre tabindex=\"0\"><samp>{output}</samp></pre></div>\n"
            ));
        }
        _ => {}
    }
    let status_class = match verdict.outcome {
        Outcome::Skipped => "",
        Outcome::Passed => "ok",
        Outcome::Failed => "fail",
    };
    let edition = (language == Language::Rust).then_some(snippet.options.edition.as_str());
    let provenance = provenance_html(run, edition, crates);
    html.push_str(&format!(
        "<p class=\"snippet-status\"><span class=\"{status_class}\">{}</span>{provenance}</p>\n</figure>\n",
        escape_html(&verdict.status)
    ));
    html
}

/// What produced the output, for its panel: the same on a cached build as
/// on the one that ran it.
fn provenance_html(run: &SnippetRun, edition: Option<&str>, crates: &[(String, String)]) -> String {
    let mut provenance: Vec<String> = Vec::new();
    if !run.toolchain.is_empty() {
        provenance.push(run.toolchain.clone());
        provenance.extend(edition.map(|edition| format!("edition {edition}")));
    }
    provenance.extend(
        crates
            .iter()
            .map(|(name, version)| format!("{name} {version}")),
    );
    if let Some(ran_at) = &run.ran_at {
        // The status says how long it ran; this says when.
        provenance.push(format!("on {ran_at}"));
        provenance.push(match &run.walls {
            Some(walls) if *walls == Walls::all() => "sandboxed".to_owned(),
            Some(walls)
                if *walls
                    == (Walls {
                        network: false,
                        ..Walls::all()
                    }) =>
            {
                "sandboxed, with network access".to_owned()
            }
            Some(walls) if walls.describe().is_empty() => {
                "not sandboxed: it ran with the builder's rights".to_owned()
            }
            Some(walls) => format!("sandboxed in part: {}", walls.describe()),
            None => "not sandboxed".to_owned(),
        });
        for name in &run.saw {
            provenance.push(format!("saw `{name}`"));
        }
    }
    if provenance.is_empty() {
        String::new()
    } else {
        format!(
            "<span class=\"provenance\">{}</span>",
            escape_html(&provenance.join(" · "))
        )
    }
}

/// Program output as HTML: escaped, with ANSI colours as spans (or
/// stripped where they cannot be read).
fn ansi_html(text: &str) -> String {
    if !text.contains('\x1b') {
        return escape_html(text);
    }
    ansi_to_html::convert(text)
        .unwrap_or_else(|_| escape_html(&strip_ansi_escapes::strip_str(text)))
}
