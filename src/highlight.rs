//! Class-based syntax highlighting with syntect, and its stylesheet.

use std::path::Path;

use syntect::highlighting::ThemeSet;
use syntect::html::{ClassStyle, ClassedHTMLGenerator, css_for_theme_with_class_style};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

use crate::config::{CONFIG_FILE, HighlightConfig};
use crate::error::Error;

const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// The syntax definitions, loaded once per build, and the stylesheet for the
/// configured light and dark themes.
pub struct Highlighter {
    syntaxes: SyntaxSet,
    css: String,
}

impl std::fmt::Debug for Highlighter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Highlighter").finish_non_exhaustive()
    }
}

impl Highlighter {
    pub fn new(config: &HighlightConfig) -> Result<Highlighter, Error> {
        let themes = ThemeSet::load_defaults();
        let theme_css = |key: &str, name: &str| {
            let theme = themes.themes.get(name).ok_or_else(|| {
                let known: Vec<String> = themes.themes.keys().map(|k| format!("`{k}`")).collect();
                Error::Config {
                    path: Path::new(CONFIG_FILE).to_owned(),
                    message: format!(
                        "`highlight.{key}` is `{name}`, which is not a known theme; choose one of {}",
                        known.join(", ")
                    ),
                }
            })?;
            css_for_theme_with_class_style(theme, CLASS_STYLE).map_err(|e| Error::Config {
                path: Path::new(CONFIG_FILE).to_owned(),
                message: format!("cannot make a stylesheet for theme `{name}`: {e}"),
            })
        };
        let light = theme_css("light_theme", &config.light_theme)?;
        let dark = theme_css("dark_theme", &config.dark_theme)?;
        let css = format!(
            "/* Code highlighting: `{}` for light, `{}` for dark. */\n{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n",
            config.light_theme, config.dark_theme
        );
        Ok(Highlighter {
            syntaxes: SyntaxSet::load_defaults_newlines(),
            css,
        })
    }

    /// The stylesheet that colours highlighted code.
    pub fn css(&self) -> &str {
        &self.css
    }

    /// The code as HTML for the inside of a `<code>` element: classed spans
    /// if `lang` is known, or else escaped plain text.
    pub fn highlight(&self, lang: &str, code: &str) -> String {
        let syntax = if lang.is_empty() {
            None
        } else {
            self.syntaxes
                .find_syntax_by_token(lang)
                .or_else(|| self.syntaxes.find_syntax_by_token(&lang.to_lowercase()))
        };
        let Some(syntax) = syntax else {
            return escape_html(code);
        };
        let mut generator =
            ClassedHTMLGenerator::new_with_class_style(syntax, &self.syntaxes, CLASS_STYLE);
        for line in LinesWithEndings::from(code) {
            if generator
                .parse_html_for_line_which_includes_newline(line)
                .is_err()
            {
                return escape_html(code);
            }
        }
        generator.finalize()
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    // pulldown-cmark's escaper handles `<`, `>`, `&`, `"` and `'`; writing to
    // a String cannot fail.
    let _ = pulldown_cmark_escape::escape_html(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_languages() {
        let h = Highlighter::new(&HighlightConfig::default()).unwrap();
        let rust = h.highlight("rust", "fn main() {}\n");
        assert!(rust.contains("hl-"), "{rust}");
        assert_eq!(h.highlight("klingon", "<a & b>"), "&lt;a &amp; b&gt;");
        assert!(h.css().contains("prefers-color-scheme: dark"));
    }

    #[test]
    fn unknown_theme_is_a_config_error() {
        let config = HighlightConfig {
            light_theme: "nope".into(),
            ..HighlightConfig::default()
        };
        let e = Highlighter::new(&config).unwrap_err().to_string();
        assert!(e.contains("`highlight.light_theme` is `nope`"), "{e}");
    }
}
