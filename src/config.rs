//! The optional `kiln.toml` at the site root.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Position, Warning};

/// The Rust editions a snippet can be compiled in.
pub const EDITIONS: [&str; 4] = ["2015", "2018", "2021", "2024"];

/// The name of the configuration file at the site root.
pub const CONFIG_FILE: &str = "kiln.toml";

/// Site-wide settings. Every field has a default, so a site without
/// `kiln.toml` builds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The site's name, shown in the header and the page titles.
    pub title: String,
    /// One sentence about the site, for the index page and `<meta>`.
    pub description: String,
    /// Where the site is served: `https://example.org/kb/`, or a bare path
    /// such as `/kb/`. Every internal URL starts with its path.
    pub base_url: String,
    /// The `lang` of every page.
    pub language: String,
    /// Authors for articles whose front matter names none.
    pub authors: Vec<String>,
    /// Build the offline full-text search index.
    pub search: bool,
    /// Articles per page of the index, tag and author lists (later pages
    /// at `page/2/` and on); `0` lists them all on one page.
    pub page_size: usize,
    /// The folder of articles, relative to the site root; `.` for a
    /// Knowledge Repo checkout.
    pub content_dir: PathBuf,
    /// Globs (relative to `content_dir`) of files that are not content.
    pub ignore: Vec<String>,
    /// `build` and `serve` publish every article that builds, past a
    /// broken one (as `--keep-going`); `check` stays strict.
    pub keep_going: bool,
    /// Where every cache of the site lives (snippet runs, pages, lists,
    /// search bundles, thumbnails), relative to the site root;
    /// `.kiln-cache` when unset.
    pub cache_dir: Option<PathBuf>,
    /// The most the caches of pages, lists, search bundles, snippet runs
    /// and thumbnails keep together, such as `2GiB`: beyond it the least
    /// recently used entries go first (entries unused for 30 days go
    /// anyway).
    #[serde(deserialize_with = "deserialize_size")]
    pub cache_size: u64,
    pub markdown: MarkdownConfig,
    pub highlight: HighlightConfig,
    pub snippets: SnippetConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            title: "Knowledge base".to_owned(),
            description: String::new(),
            base_url: "/".to_owned(),
            language: "en".to_owned(),
            authors: Vec::new(),
            search: true,
            page_size: 50,
            content_dir: PathBuf::from("content"),
            ignore: Vec::new(),
            keep_going: false,
            cache_dir: None,
            cache_size: crate::store::DEFAULT_SIZE,
            markdown: MarkdownConfig::default(),
            highlight: HighlightConfig::default(),
            snippets: SnippetConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarkdownConfig {
    /// The shallowest heading level in the table of contents.
    pub toc_min_level: u8,
    /// The deepest heading level in the table of contents.
    pub toc_max_level: u8,
}

impl Default for MarkdownConfig {
    fn default() -> Self {
        MarkdownConfig {
            toc_min_level: 2,
            toc_max_level: 4,
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HighlightConfig {
    /// A syntect theme name used when the reader prefers a light scheme.
    pub light_theme: String,
    /// A syntect theme name used when the reader prefers a dark scheme.
    pub dark_theme: String,
}

impl Default for HighlightConfig {
    fn default() -> Self {
        HighlightConfig {
            light_theme: "InspiredGitHub".to_owned(),
            dark_theme: "base16-ocean.dark".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnippetConfig {
    /// How long one snippet may run, such as `10s` or `1m 30s`.
    #[serde(deserialize_with = "deserialize_duration")]
    pub timeout: Duration,
    /// How many bytes of output a run keeps, stdout and stderr together.
    pub output_limit: usize,
    /// The old place of the top-level `cache_dir`, still read (with a
    /// warning).
    pub cache_dir: Option<toml::Spanned<PathBuf>>,
    /// The default edition of snippets.
    pub edition: String,
    /// What becomes of fenced ```` ```rust ```` blocks in articles: `run`
    /// them as snippets, or only `show` them highlighted (for imported
    /// posts); linked snippets run either way.
    pub inline: Inline,
    /// How hard the walls around a snippet's run must be.
    pub sandbox: SandboxMode,
    /// Environment variables snippets may see besides `PATH`, `LANG`,
    /// `LC_*` and `TZ` (each is named on the page).
    pub env: Vec<String>,
    /// A run's address space, such as `2GiB`.
    #[serde(deserialize_with = "deserialize_size")]
    pub memory: u64,
    /// A run's processes and threads.
    pub processes: u64,
    /// All the files a run writes together (its private `/tmp`), such as
    /// `1GiB`. `file_size` is its old name.
    #[serde(deserialize_with = "deserialize_size", alias = "file_size")]
    pub disk: u64,
    /// A run's CPU time, such as `60s`.
    #[serde(deserialize_with = "deserialize_duration")]
    pub cpu_time: Duration,
    /// `[snippets.python]`.
    pub python: PythonConfig,
}

/// `[snippets.python]`: how Python snippets run.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PythonConfig {
    /// The interpreter: `python3` from `PATH`, or a path.
    pub interpreter: String,
    /// What becomes of fenced ```` ```python ```` blocks without `run` in
    /// their fence: only `show` them highlighted (the default, since an
    /// imported knowledge base holds thousands of notebook cells), or
    /// `run` them all.
    pub inline: Inline,
}

impl Default for PythonConfig {
    fn default() -> Self {
        PythonConfig {
            interpreter: "python3".to_owned(),
            inline: Inline::Show,
        }
    }
}

/// The least memory a snippet may be given: a program needs this much to
/// start at all.
pub const MIN_MEMORY: u64 = 16 << 20;

/// The least disk a snippet may be given.
pub const MIN_DISK: u64 = 1 << 20;

/// `snippets.inline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Inline {
    /// Compile and run them, as their fence's options say.
    Run,
    /// Highlight them only.
    Show,
}

/// `snippets.sandbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// Every wall must stand, or the build fails.
    Required,
    /// Raise every wall the machine allows, and say which are down.
    BestEffort,
    /// Run snippets with the builder's rights and environment.
    Off,
}

impl Default for SnippetConfig {
    fn default() -> Self {
        SnippetConfig {
            timeout: Duration::from_secs(10),
            output_limit: 64 * 1024,
            cache_dir: None,
            edition: "2021".to_owned(),
            inline: Inline::Run,
            sandbox: SandboxMode::BestEffort,
            env: Vec::new(),
            memory: 2 << 30,
            processes: 256,
            disk: 1 << 30,
            cpu_time: Duration::from_secs(60),
            python: PythonConfig::default(),
        }
    }
}

/// An `ignore` pattern (relative to the content folder, `prefix` under the
/// root) as a line of a `.gitignore` at the root: a pattern anchored to its
/// folder (a `/` before its end) gets the content folder in front; a name
/// alone matches at any depth wherever it is written.
fn rebase(pattern: &str, prefix: &str) -> String {
    let (negated, rest) = match pattern.strip_prefix('!') {
        Some(rest) => ("!", rest),
        None => ("", pattern),
    };
    if rest.trim_end_matches('/').contains('/') {
        format!("{negated}/{prefix}{}", rest.trim_start_matches('/'))
    } else {
        pattern.to_owned()
    }
}

/// Reads a duration written as `10s`, `1m 30s`, `500ms` or a number of
/// seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string());
    }
    let span: jiff::SignedDuration = text.parse().map_err(|_| {
        format!("`{text}` is not a duration; write it as `10s`, `1m 30s` or `500ms`")
    })?;
    Duration::try_from(span).map_err(|_| format!("`{text}` is negative"))
}

/// Reads a size written as `2GiB`, `512MiB`, `64KiB`, `1GB` or a number
/// of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_size: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "`{text}` is not a size; write it as `2GiB`, `512MiB` or a number of bytes"
            ));
        }
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("`{text}` is not a size; write it as `2GiB`, `512MiB` or a number of bytes")
    })?;
    let bytes = value * unit_size as f64;
    if !(1.0..=u64::MAX as f64).contains(&bytes) {
        return Err(format!("`{text}` is not a size kiln can set"));
    }
    Ok(bytes as u64)
}

fn deserialize_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bytes(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Bytes(n) => Ok(n),
        Raw::Text(t) => parse_size(&t).map_err(serde::de::Error::custom),
    }
}

fn deserialize_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(f64),
        Text(String),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Seconds(s) => s.to_string(),
        Raw::Text(t) => t,
    };
    parse_duration(&text).map_err(serde::de::Error::custom)
}

impl Config {
    /// Reads `kiln.toml` from the site root, or returns the defaults when
    /// there is none.
    pub fn load(root: &Path) -> Result<Config, Error> {
        Config::read(root).map(|(config, _)| config)
    }

    /// `kiln.toml` of `root` (the defaults without one), and warnings
    /// about settings that moved.
    pub fn read(root: &Path) -> Result<(Config, Vec<Warning>), Error> {
        let path = root.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Config::default(), Vec::new()));
            }
            Err(source) => return Err(Error::Read { path, source }),
        };
        let config = Config::parse(&text, &path)?;
        let warnings = config
            .snippets
            .cache_dir
            .iter()
            .map(|old| Warning {
                path: path.clone(),
                line: line_column(&text, old.span().start).0,
                message: if config.cache_dir.is_some() {
                    "`snippets.cache_dir` is ignored: the top-level `cache_dir` is set".to_owned()
                } else {
                    "`snippets.cache_dir` is now the top-level `cache_dir` (every cache of the site lives there); move it above `[snippets]`".to_owned()
                },
            })
            .collect();
        Ok((config, warnings))
    }

    /// Where every cache of the site lives, relative to the site root.
    pub fn cache_dir(&self) -> &Path {
        self.cache_dir
            .as_deref()
            .or(self
                .snippets
                .cache_dir
                .as_ref()
                .map(|old| old.get_ref().as_path()))
            .unwrap_or(Path::new(crate::store::DEFAULT_DIR))
    }

    /// Parses the text of a `kiln.toml`; `path` is only used in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let config: Config = toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_owned(),
            at: e.span().map(|span| {
                let (line, column) = line_column(text, span.start);
                Position { line, column }
            }),
            message: e.message().to_owned(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), Error> {
        let fail = |message: String| {
            Err(Error::Config {
                path: path.to_owned(),
                at: None,
                message,
            })
        };
        let md = &self.markdown;
        if !(1..=6).contains(&md.toc_min_level)
            || !(1..=6).contains(&md.toc_max_level)
            || md.toc_min_level > md.toc_max_level
        {
            return fail(format!(
                "`markdown.toc_min_level` ({}) and `markdown.toc_max_level` ({}) must be heading levels from 1 to 6, the first not above the second",
                md.toc_min_level, md.toc_max_level
            ));
        }
        if self.snippets.timeout.is_zero() {
            return fail("`snippets.timeout` must be longer than zero".to_owned());
        }
        if self.snippets.processes == 0 || self.snippets.cpu_time.as_secs() == 0 {
            return fail(
                "`snippets.processes` and `snippets.cpu_time` must allow at least one process and one second".to_owned(),
            );
        }
        if self.snippets.memory < MIN_MEMORY || self.snippets.disk < MIN_DISK {
            return fail(format!(
                "`snippets.memory` must be at least 16 MiB and `snippets.disk` at least 1 MiB (they are {} and {} bytes)",
                self.snippets.memory, self.snippets.disk
            ));
        }
        if !EDITIONS.contains(&self.snippets.edition.as_str()) {
            return fail(format!(
                "`snippets.edition` is `{}`; expected `2015`, `2018`, `2021` or `2024`",
                self.snippets.edition
            ));
        }
        if self.content_dir.is_absolute()
            || self
                .content_dir
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return fail(format!(
                "`content_dir` is `{}`; expected a folder inside the site root, such as `content` or `.`",
                self.content_dir.display()
            ));
        }
        // The patterns alone: the `.gitignore` files are read with the site.
        let mut patterns = ignore::gitignore::GitignoreBuilder::new("");
        for pattern in &self.ignore {
            if let Err(e) = patterns.add_line(None, pattern) {
                return fail(format!("`ignore` pattern `{pattern}`: {e}"));
            }
        }
        if let Err(e) = patterns.build() {
            return fail(format!("`ignore`: {e}"));
        }
        if base_path_of(&self.base_url).is_none() {
            return fail(format!(
                "`base_url` is `{}`; expected an absolute URL such as `https://example.org/kb/` or a path such as `/kb/`",
                self.base_url
            ));
        }
        Ok(())
    }

    /// What the content walk leaves out, as git would: the `ignore` globs
    /// (relative to the content folder) and the `.gitignore` of the site
    /// root and of the content folder, all with gitignore's rules (`*`
    /// stays within a folder, `**` crosses folders, a leading `/` anchors
    /// a pattern at its folder, a name alone matches at any depth, `!`
    /// takes a file back). Matched against paths relative to `root`.
    pub fn ignore_matcher(&self, root: &Path) -> Result<ignore::gitignore::Gitignore, String> {
        let mut builder = ignore::gitignore::GitignoreBuilder::new(root);
        let content = root.join(&self.content_dir);
        for file in [root.join(".gitignore"), content.join(".gitignore")] {
            if file.is_file()
                && let Some(e) = builder.add(&file)
            {
                return Err(format!("`{}`: {e}", file.display()));
            }
        }
        let prefix = self.content_prefix();
        for pattern in &self.ignore {
            builder
                .add_line(None, &rebase(pattern, &prefix))
                .map_err(|e| format!("`ignore` pattern `{pattern}`: {e}"))?;
        }
        builder.build().map_err(|e| format!("`ignore`: {e}"))
    }

    /// The content folder as a `/`-separated prefix of paths relative to
    /// the site root: `content/`, or nothing for `.`.
    pub fn content_prefix(&self) -> String {
        let parts: Vec<String> = self
            .content_dir
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("{}/", parts.join("/"))
        }
    }

    /// The path part of `base_url`, always starting and ending with `/`.
    pub fn base_path(&self) -> String {
        base_path_of(&self.base_url).unwrap_or_else(|| "/".to_owned())
    }
}

/// The path of a base URL (`https://host/kb` gives `/kb/`), or `None` if it
/// is neither an http(s) URL nor an absolute path.
pub fn base_path_of(base_url: &str) -> Option<String> {
    let path = if let Some(rest) = base_url
        .strip_prefix("https://")
        .or_else(|| base_url.strip_prefix("http://"))
    {
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if host.is_empty() {
            return None;
        }
        path
    } else if base_url.starts_with('/') {
        base_url
    } else {
        return None;
    };
    if path.contains(['?', '#', ' ']) {
        return None;
    }
    let trimmed = path.trim_matches('/');
    Some(if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    })
}

/// The 1-based line and column of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths() {
        assert_eq!(base_path_of("/").as_deref(), Some("/"));
        assert_eq!(base_path_of("https://example.org").as_deref(), Some("/"));
        assert_eq!(
            base_path_of("https://example.org/kb").as_deref(),
            Some("/kb/")
        );
        assert_eq!(base_path_of("http://h/a/b/").as_deref(), Some("/a/b/"));
        assert_eq!(base_path_of("/kb").as_deref(), Some("/kb/"));
        assert_eq!(base_path_of("example.org"), None);
        assert_eq!(base_path_of("https:///x"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn unknown_key_is_an_error_with_a_position() {
        let err = Config::parse("title = \"x\"\ntitel = 1\n", Path::new("kiln.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("kiln.toml:2:1:"), "{text}");
        assert!(text.contains("titel"), "{text}");
    }

    #[test]
    fn content_folders() {
        let config = Config::parse("content_dir = \".\"\n", Path::new("kiln.toml")).unwrap();
        assert_eq!(config.content_prefix(), "");
        assert_eq!(Config::default().content_prefix(), "content/");
        let e = Config::parse("content_dir = \"../x\"\n", Path::new("kiln.toml")).unwrap_err();
        assert!(e.to_string().contains("`content_dir`"), "{e}");
        let e = Config::parse("ignore = [\"a[z-a]\"]\n", Path::new("kiln.toml")).unwrap_err();
        assert!(e.to_string().contains("`ignore` pattern `a[z-a]`"), "{e}");
    }

    #[test]
    fn ignore_patterns_are_rebased_onto_the_content_folder() {
        assert_eq!(rebase("docs/*.md", "content/"), "/content/docs/*.md");
        assert_eq!(rebase("/drafts", "content/"), "/content/drafts");
        assert_eq!(rebase("/drafts/x", ""), "/drafts/x");
        assert_eq!(rebase("*.csv", "content/"), "*.csv");
        assert_eq!(rebase("scratch/", "content/"), "scratch/");
        assert_eq!(rebase("!keep/a.md", "content/"), "!/content/keep/a.md");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn line_columns() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }
}
