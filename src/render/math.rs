//! Math: `$…$` and `$$…$$` (pulldown-cmark's math extension) rendered at
//! build time to MathML, which browsers draw natively (MathML Core): no
//! script, nothing loaded. TeX the renderer cannot read is drawn in place
//! as an error and reported at its line.

use pulldown_latex::config::DisplayMode;
use pulldown_latex::{Parser, RenderConfig, Storage, push_mathml};

use crate::highlight::escape_html;

/// The MathML a formula of `tex` becomes (a block if `display`), and why
/// its TeX could not be read, if it could not.
pub(super) fn math_html(tex: &str, display: bool) -> (String, Option<String>) {
    let storage = Storage::new();
    let events: Vec<_> = Parser::new(tex, &storage).collect();
    // The error's first line (what is wrong), for the formula named.
    let problem = events.iter().find_map(|event| {
        let error = event.as_ref().err()?.to_string();
        let what = error.lines().next().unwrap_or_default();
        let what = what.strip_prefix("parsing error: ").unwrap_or(what);
        Some(format!("{what} in `{tex}`"))
    });
    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
        // The TeX travels with the formula: for copying, and for readers
        // that do not draw MathML.
        annotation: Some(tex),
        ..RenderConfig::default()
    };
    let mut html = String::new();
    if push_mathml(&mut html, events.into_iter(), config).is_err() {
        // Writing to a String does not fail; were it to, the TeX shows.
        html = format!("<code class=\"math-tex\">{}</code>", escape_html(tex));
    }
    (html, problem)
}

/// The elements of MathML Core, kept when a tldr is made safe.
pub(super) const MATHML_TAGS: [&str; 27] = [
    "math",
    "semantics",
    "annotation",
    "mrow",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "mspace",
    "msup",
    "msub",
    "msubsup",
    "mfrac",
    "msqrt",
    "mroot",
    "mover",
    "munder",
    "munderover",
    "mtable",
    "mtr",
    "mtd",
    "mstyle",
    "mpadded",
    "mphantom",
    "merror",
    "mmultiscripts",
];

/// Their attributes that draw the formula (no `style`, no events).
pub(super) const MATHML_ATTRIBUTES: [&str; 14] = [
    "display",
    "mathvariant",
    "encoding",
    "stretchy",
    "fence",
    "separator",
    "lspace",
    "rspace",
    "displaystyle",
    "scriptlevel",
    "linethickness",
    "columnalign",
    "movablelimits",
    "accent",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_mathml_and_bad_tex_is_named() {
        let (html, problem) = math_html(r"\sigma(x)=\frac{1}{1+e^{-x}}", true);
        assert!(html.starts_with("<math display=\"block\""), "{html}");
        assert!(html.contains("<mfrac>"), "{html}");
        assert!(html.contains("application/x-tex"), "{html}");
        assert_eq!(problem, None);
        let (_, problem) = math_html(r"\frac{1}{", false);
        assert!(problem.is_some());
    }
}
