//! Class-based syntax highlighting with syntect, and its stylesheet.

use std::path::Path;

use syntect::highlighting::{Color, Theme, ThemeSet};
use syntect::html::{ClassStyle, ClassedHTMLGenerator, css_for_theme_with_class_style};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

use crate::config::{CONFIG_FILE, HighlightConfig};
use crate::error::Error;

/// Fence languages as knowledge bases write them, for the token the
/// syntax set knows them by.
const ALIASES: [(&str, &str); 12] = [
    ("shell", "bash"),
    ("console", "bash"),
    ("shell-session", "bash"),
    ("shellsession", "bash"),
    ("zsh", "bash"),
    ("csharp", "cs"),
    ("c#", "cs"),
    ("powershell", "ps1"),
    ("pwsh", "ps1"),
    ("golang", "go"),
    ("terraform", "tf"),
    ("protobuf", "proto"),
];

/// Fence languages that mean plain text: never a note.
const PLAIN: [&str; 6] = ["text", "txt", "plain", "plaintext", "output", "none"];

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
            let theme = themes.themes.get(name).cloned().ok_or_else(|| {
                let known: Vec<String> = themes.themes.keys().map(|k| format!("`{k}`")).collect();
                Error::Config {
                    path: Path::new(CONFIG_FILE).to_owned(),
                    at: None,
                    message: format!(
                        "`highlight.{key}` is `{name}`, which is not a known theme; choose one of {}",
                        known.join(", ")
                    ),
                }
            })?;
            let theme = readable(theme);
            let css =
                css_for_theme_with_class_style(&theme, CLASS_STYLE).map_err(|e| Error::Config {
                    path: Path::new(CONFIG_FILE).to_owned(),
                    at: None,
                    message: format!("cannot make a stylesheet for theme `{name}`: {e}"),
                })?;
            // Code blocks take the theme's own colours, which the contrast
            // adjustment was measured against.
            let block = match (theme.settings.background, theme.settings.foreground) {
                (Some(bg), Some(fg)) => format!(
                    "pre.code, .snippet > pre.code {{ background: {}; color: {}; }}\n",
                    hex(bg),
                    hex(fg)
                ),
                _ => String::new(),
            };
            Ok::<String, Error>(format!("{block}{css}"))
        };
        let light = theme_css("light_theme", &config.light_theme)?;
        let dark = theme_css("dark_theme", &config.dark_theme)?;
        // Each theme only under its own scheme, so that a scope one theme
        // colours and the other does not never mixes the two.
        let css = format!(
            "/* Code highlighting: `{}` for light, `{}` for dark. */\n@media not (prefers-color-scheme: dark) {{\n{light}\n}}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n",
            config.light_theme, config.dark_theme
        );
        Ok(Highlighter {
            // bat's collection: the languages knowledge bases hold
            // (TypeScript, C#, Swift, Kotlin, PowerShell, Dockerfile, TOML,
            // R, HCL, GraphQL, Protobuf, …), kept up to date by two-face.
            syntaxes: two_face::syntax::extra_newlines(),
            css,
        })
    }

    /// The stylesheet that colours highlighted code.
    pub fn css(&self) -> &str {
        &self.css
    }

    /// The syntax of a fence language, if one knows it.
    fn syntax(&self, lang: &str) -> Option<&syntect::parsing::SyntaxReference> {
        if lang.is_empty() {
            return None;
        }
        let lower = lang.to_lowercase();
        let token = ALIASES
            .iter()
            .find(|(alias, _)| *alias == lower)
            .map_or(lower.as_str(), |(_, token)| token);
        self.syntaxes
            .find_syntax_by_token(lang)
            .or_else(|| self.syntaxes.find_syntax_by_token(token))
    }

    /// The code as HTML for the inside of a `<code>` element: classed spans
    /// if `lang` is known, or else escaped plain text.
    pub fn highlight(&self, lang: &str, code: &str) -> String {
        self.highlight_known(lang, code).0
    }

    /// [`Highlighter::highlight`], and whether a syntax knows `lang`
    /// (plain-text names such as `text`, and no language, count as known):
    /// one look-up for both.
    pub fn highlight_known(&self, lang: &str, code: &str) -> (String, bool) {
        let Some(syntax) = self.syntax(lang) else {
            let known = lang.is_empty() || PLAIN.contains(&lang.to_lowercase().as_str());
            return (escape_html(code), known);
        };
        (self.classed(syntax, code), true)
    }

    fn classed(&self, syntax: &syntect::parsing::SyntaxReference, code: &str) -> String {
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

/// The theme with every text colour adjusted, keeping its hue, until it
/// reads against the theme's background at WCAG AA contrast (4.5:1).
/// Many bundled themes draw comments too faint to read.
fn readable(mut theme: Theme) -> Theme {
    let Some(background) = theme.settings.background else {
        return theme;
    };
    if let Some(fg) = theme.settings.foreground.as_mut() {
        *fg = with_contrast(*fg, background);
    }
    for item in &mut theme.scopes {
        let item_background = item.style.background.unwrap_or(background);
        if let Some(fg) = item.style.foreground.as_mut() {
            *fg = with_contrast(*fg, item_background);
        }
    }
    theme
}

/// The WCAG relative luminance of a colour.
fn luminance(c: Color) -> f64 {
    let channel = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)
}

/// The WCAG contrast ratio of two colours.
pub fn contrast(a: Color, b: Color) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// `fg` mixed toward black (on a light background) or white (on a dark
/// one) just enough to reach 4.6:1 against `bg`.
fn with_contrast(fg: Color, bg: Color) -> Color {
    const TARGET: f64 = 4.6;
    if contrast(fg, bg) >= TARGET {
        return fg;
    }
    let toward: u8 = if luminance(bg) > 0.18 { 0 } else { 255 };
    let mix = |v: u8, t: f64| (f64::from(v) + (f64::from(toward) - f64::from(v)) * t).round() as u8;
    let mut adjusted = fg;
    for step in 1..=100 {
        let t = f64::from(step) / 100.0;
        adjusted = Color {
            r: mix(fg.r, t),
            g: mix(fg.g, t),
            b: mix(fg.b, t),
            a: 255,
        };
        if contrast(adjusted, bg) >= TARGET {
            break;
        }
    }
    adjusted
}

fn hex(c: Color) -> String {
    format!("#{:02x}{:02x}{:02x}", c.r, c.g, c.b)
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
    fn the_languages_knowledge_bases_hold_are_highlighted() {
        let h = Highlighter::new(&HighlightConfig::default()).unwrap();
        let missing: Vec<&str> = [
            "python",
            "rust",
            "bash",
            "sh",
            "shell",
            "console",
            "shell-session",
            "sql",
            "json",
            "yaml",
            "yml",
            "javascript",
            "js",
            "jsx",
            "typescript",
            "ts",
            "tsx",
            "java",
            "csharp",
            "cs",
            "swift",
            "dart",
            "kotlin",
            "go",
            "c",
            "cpp",
            "r",
            "scala",
            "powershell",
            "ps1",
            "toml",
            "dockerfile",
            "hcl",
            "terraform",
            "graphql",
            "proto",
            "html",
            "css",
            "markdown",
            "diff",
            "ruby",
            "php",
            "lua",
            "haskell",
            "ini",
            "xml",
        ]
        .into_iter()
        .filter(|lang| !h.highlight(lang, "x = 1 # a\n").contains("hl-"))
        .collect();
        assert!(missing.is_empty(), "not highlighted: {missing:?}");
    }

    #[test]
    fn every_bundled_theme_is_made_readable() {
        for (name, theme) in ThemeSet::load_defaults().themes {
            let bg = theme.settings.background.unwrap();
            let theme = readable(theme);
            for item in &theme.scopes {
                if let Some(fg) = item.style.foreground {
                    let against = item.style.background.unwrap_or(bg);
                    assert!(
                        contrast(fg, against) >= 4.5,
                        "{name}: {fg:?} on {against:?}"
                    );
                }
            }
        }
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
