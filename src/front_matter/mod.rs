//! Front matter: the YAML block between `---` lines at the top of an article.
//!
//! [`parse_front_matter`] returns the typed fields, the Markdown body that
//! follows, and warnings for fields it keeps but does not know. Its parts:
//! [`fence`] finds the block, [`yaml`] parses it (with file positions),
//! [`field`] reads typed values and [`date`] reads dates.

mod date;
mod fence;
mod field;
mod yaml;

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Position, Warning};

pub use date::Date;
use fence::split_front_matter;
pub use field::Thumbnail;
use field::{OneOrMany, Text, field};
pub use yaml::FieldPositions;
use yaml::parse_mapping;

/// The fields every article can set. Unknown fields are kept in `extra`.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontMatter {
    pub title: String,
    /// A line under the title.
    pub subtitle: Option<String>,
    pub authors: Vec<String>,
    pub tags: Vec<String>,
    /// A path relative to the article, a URL (`data:` too), or the number
    /// of one of the article's images.
    pub thumbnail: Option<Thumbnail>,
    pub created_at: Option<Date>,
    pub updated_at: Option<Date>,
    /// A one-paragraph summary, written in Markdown.
    pub tldr: Option<String>,
    /// Overrides the URL slug taken from the file name.
    pub slug: Option<String>,
    /// Knowledge Repo's `path`: where the post lives; for a plain article
    /// it sets the URL as `slug` does.
    pub path: Option<String>,
    pub draft: bool,
    /// Knowledge Repo's `private`: left out unless asked for, like drafts.
    pub private: bool,
    /// Knowledge Repo's `allowed_groups`, kept for templates (a static
    /// site cannot enforce them).
    pub allowed_groups: Vec<String>,
    /// Old URLs of the article, each answered by a redirect page.
    pub aliases: Vec<String>,
    /// Every field kiln does not know, for templates to use as `extra`.
    pub extra: BTreeMap<String, yaml_serde::Value>,
    /// Where each top-level field is written, for later checks to point at.
    pub positions: FieldPositions,
}

/// The front matter and the Markdown after it.
#[derive(Debug)]
pub struct Parsed<'a> {
    pub front: FrontMatter,
    pub body: &'a str,
    /// The 1-based line of the file on which `body` starts.
    pub body_line: usize,
    pub warnings: Vec<Warning>,
}

/// The fields kiln knows, in the order the guide (`content/guide/writing-articles.md`) lists them.
pub const KNOWN_FIELDS: [&str; 14] = [
    "title",
    "subtitle",
    "authors",
    "tags",
    "thumbnail",
    "created_at",
    "updated_at",
    "tldr",
    "slug",
    "path",
    "draft",
    "private",
    "allowed_groups",
    "aliases",
];

/// Splits `source` into front matter and body and parses the front matter.
/// `path` is only used to name the file in errors and warnings.
pub fn parse_front_matter<'a>(source: &'a str, path: &Path) -> Result<Parsed<'a>, Error> {
    let fail = |line: usize, column: usize, message: String| Error::FrontMatter {
        path: path.to_owned(),
        at: Position { line, column },
        message,
    };
    let fenced = split_front_matter(source).map_err(|message| fail(1, 1, message.to_owned()))?;
    let mapping = parse_mapping(fenced.yaml)
        .map_err(|(line, column, message)| fail(line, column, message))?;
    let positions = FieldPositions::scan(fenced.yaml);
    if !mapping.contains_key("title") {
        let (line, message) = missing_title(&mapping, &positions, fenced.closing_line);
        return Err(fail(line, 1, message));
    }
    // Each field is read on its own so that an error names its line.
    let read = |key: &'static str| FieldReader {
        mapping: &mapping,
        key,
        at: positions.get(key).unwrap_or((2, 1)),
        fail: &fail,
    };
    let title = read("title").text()?.unwrap_or_default().trim().to_owned();
    if title.is_empty() {
        return Err(read("title").error("is empty; every article needs a title".to_owned()));
    }
    let slug = read("slug").text()?;
    if let Some(slug) = &slug
        && !is_slug(slug)
    {
        return Err(read("slug").error(format!(
            "`{slug}` is not a URL slug; expected words such as `my-article`, optionally with `/` between them"
        )));
    }
    let (extra, mut warnings) = unknown_fields(&mapping, &positions, path);
    let mut names = |key: &'static str| -> Result<Vec<String>, Error> {
        let (names, nulls, blanks) = read(key).names()?;
        for (count, what) in [(blanks, "blank"), (nulls, "empty (`null`)")] {
            if count > 0 {
                warnings.push(Warning {
                    path: path.to_owned(),
                    line: positions.line(key).unwrap_or(2),
                    message: format!(
                        "`{key}` has {count} {what} entr{}, left out",
                        if count == 1 { "y" } else { "ies" }
                    ),
                });
            }
        }
        Ok(names)
    };
    let (authors, tags, allowed_groups, aliases) = (
        names("authors")?,
        names("tags")?,
        names("allowed_groups")?,
        names("aliases")?,
    );
    // Where the article or its redirects are published: inside the site.
    let path_field = read("path").nonblank_text()?;
    for (key, value) in path_field
        .iter()
        .map(|p| ("path", p))
        .chain(aliases.iter().map(|a| ("aliases", a)))
    {
        if let Some(why) = escapes(value) {
            return Err(read(key).error(format!(
                "`{value}` {why}; write a path inside the site, such as `team/my-article`"
            )));
        }
    }
    let thumbnail = match read("thumbnail").value::<Thumbnail>()? {
        Some(Thumbnail::Path(p)) if p.is_empty() => None,
        other => other,
    };
    let front = FrontMatter {
        title,
        subtitle: read("subtitle").nonblank_text()?,
        authors,
        tags,
        thumbnail,
        created_at: read("created_at").value::<Date>()?,
        updated_at: read("updated_at").value::<Date>()?,
        tldr: read("tldr").nonblank_text()?,
        slug,
        path: path_field,
        draft: read("draft").value::<bool>()?.unwrap_or(false),
        private: read("private").value::<bool>()?.unwrap_or(false),
        allowed_groups,
        aliases,
        extra,
        positions,
    };
    Ok(Parsed {
        front,
        body: fenced.body,
        body_line: fenced.closing_line + 1,
        warnings,
    })
}

/// Where and how to say that `title` is missing: at a misspelt `titel:`
/// (the likeliest cause) if there is one, else at the closing fence.
fn missing_title(
    mapping: &yaml_serde::Mapping,
    positions: &FieldPositions,
    closing_line: usize,
) -> (usize, String) {
    let typo = mapping
        .keys()
        .filter_map(|k| k.as_str())
        .find(|k| strsim::damerau_levenshtein(k, "title") <= 2);
    match typo.and_then(|k| Some((k, positions.get(k)?))) {
        Some((key, (line, _))) => (
            line,
            format!("missing field `title`: `{key}` looks like a typo; did you mean `title`?"),
        ),
        None => (
            closing_line,
            "missing field `title`: every article needs one, such as `title: My article`"
                .to_owned(),
        ),
    }
}

/// Why a `path:` or `aliases:` value would leave the site (or be read
/// differently on another system), if it would.
fn escapes(value: &str) -> Option<&'static str> {
    if value.contains('\\') {
        Some("holds a backslash; separate folders with `/`")
    } else if value.split('/').any(|part| part == "..") {
        Some("climbs out of the site with `..`")
    } else if value.split('/').any(|part| part == ".") {
        Some("names the folder `.`")
    } else if value.contains(['?', '#', '%', '\0']) {
        Some("holds `?`, `#`, `%` or a NUL, which a published path cannot")
    } else {
        None
    }
}

/// Whether a `slug:` value is a path of URL words.
fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && !slug
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        && !slug.contains(['\\', '?', '#', '%'])
}

/// One field of the mapping, read as a type; an error names the field's
/// line and column.
struct FieldReader<'a> {
    mapping: &'a yaml_serde::Mapping,
    key: &'a str,
    at: (usize, usize),
    fail: &'a dyn Fn(usize, usize, String) -> Error,
}

impl FrontMatter {
    /// When the article last changed: `updated_at`, else `created_at`.
    pub fn last_change(&self) -> Option<Date> {
        self.updated_at.or(self.created_at)
    }
}

impl FieldReader<'_> {
    fn error(&self, message: String) -> Error {
        (self.fail)(self.at.0, self.at.1, format!("`{}`: {message}", self.key))
    }

    fn value<T: serde::de::DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        field(self.mapping, self.key).map_err(|message| self.error(message))
    }

    fn text(&self) -> Result<Option<String>, Error> {
        Ok(self.value::<Text>()?.map(|t| t.0))
    }

    fn nonblank_text(&self) -> Result<Option<String>, Error> {
        Ok(self.text()?.filter(|t| !t.trim().is_empty()))
    }

    /// The names, and how many `null` and blank entries were dropped.
    fn names(&self) -> Result<(Vec<String>, usize, usize), Error> {
        Ok(self
            .value::<OneOrMany>()?
            .map(|n| (n.0, n.1, n.2))
            .unwrap_or_default())
    }
}

/// Every field kiln does not know, kept for templates, each with a warning
/// (and a hint when it looks like a typo of a known one).
fn unknown_fields(
    mapping: &yaml_serde::Mapping,
    positions: &FieldPositions,
    path: &Path,
) -> (BTreeMap<String, yaml_serde::Value>, Vec<Warning>) {
    let mut extra = BTreeMap::new();
    let mut warnings = Vec::new();
    for (key, value) in mapping {
        let key = match key {
            yaml_serde::Value::String(s) => s.clone(),
            other => yaml_serde::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_owned(),
        };
        if KNOWN_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let hint = KNOWN_FIELDS
            .iter()
            .filter(|known| strsim::damerau_levenshtein(known, &key.to_lowercase()) <= 2)
            .min_by_key(|known| strsim::damerau_levenshtein(known, &key))
            .map(|known| format!("; did you mean `{known}`?"))
            .unwrap_or_else(|| "; it is kept and reaches templates as `extra`".to_owned());
        warnings.push(Warning {
            path: path.to_owned(),
            line: positions.line(&key).unwrap_or(2),
            message: format!("unknown front matter field `{key}`{hint}"),
        });
        extra.insert(key, value.clone());
    }
    (extra, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str) -> Result<Parsed<'_>, Error> {
        parse_front_matter(source, Path::new("a.md"))
    }

    fn err(source: &str) -> String {
        parse(source).unwrap_err().to_string()
    }

    #[test]
    fn knowledge_repo_front_matter() {
        let p = parse(
            "---\ntitle: T\nauthors:\n- a\ntags: x\ncreated_at: 2023-03-13 00:00:00\ntldr: `code` first\n---\nbody\n",
        )
        .unwrap();
        assert_eq!(p.front.title, "T");
        assert_eq!(p.front.authors, ["a"]);
        assert_eq!(p.front.tags, ["x"]);
        assert_eq!(p.front.tldr.as_deref(), Some("`code` first"));
        assert_eq!(p.body, "body\n");
        assert_eq!(p.body_line, 9);
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn unknown_fields_are_kept_with_a_hint() {
        let p = parse("---\ntitle: T\ntgas: [a]\nlevel: 3\n---\n").unwrap();
        assert_eq!(p.front.extra.len(), 2);
        assert_eq!(p.warnings[0].line, 3);
        assert!(p.warnings[0].message.contains("did you mean `tags`"));
        assert_eq!(p.warnings[1].line, 4);
        assert!(p.warnings[1].message.contains("`level`"));
    }

    #[test]
    fn errors_name_line_and_column() {
        assert!(err("title: x\n").starts_with("a.md:1:1: expected front matter"));
        assert!(err("---\ntitle: x\n").contains("never closed"));
        assert!(err("---\nauthors: [a]\n---\n").starts_with("a.md:3:1: missing field `title`"));
        let e = err("---\ntitle: T\ncreated_at: yesterday\n---\n");
        assert!(e.starts_with("a.md:3:"), "{e}");
        assert!(e.contains("`yesterday` is not a date"), "{e}");
        let e = err("---\ntitle: [a\n---\n");
        assert!(e.starts_with("a.md:"), "{e}");
        let e = err("---\ntitle: T\ntags: {a: 1}\n---\n");
        assert!(e.starts_with("a.md:3:"), "{e}");
        assert!(e.contains("a list of names"), "{e}");
        assert!(err("---\n- a\n---\n").contains("`key: value`"));
        assert!(err("---\ntitle: ''\n---\n").contains("`title`: is empty"));
        assert!(err("---\ntitle: a\nslug: ../x\n---\n").contains("`slug`"));
    }

    #[test]
    fn knowledge_repo_headers() {
        let p = parse(
            "---\ntitle: T\nsubtitle: S\npath: a/b.kp\nprivate: true\nallowed_groups: [x]\nthumbnail: 2\ntags:\n- a\n-\n- b\nupdated_at: 2017-03-14 13:22:30.843000\naliases: /old/\n---\n",
        )
        .unwrap();
        assert_eq!(p.front.subtitle.as_deref(), Some("S"));
        assert_eq!(p.front.path.as_deref(), Some("a/b.kp"));
        assert!(p.front.private);
        assert_eq!(p.front.allowed_groups, ["x"]);
        assert_eq!(p.front.thumbnail, Some(Thumbnail::Nth(2)));
        assert_eq!(p.front.tags, ["a", "b"]);
        assert_eq!(p.front.aliases, ["/old/"]);
        assert_eq!(p.front.updated_at.unwrap().ymd(), "2017-03-14");
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].line, 8);
        assert!(
            p.warnings[0]
                .message
                .contains("`tags` has 1 empty (`null`) entry")
        );
        let p = parse("---\ntitle: T\nthumbnail:\n---\n").unwrap();
        assert_eq!(p.front.thumbnail, None);
        let e = err("---\ntitel: T\n---\n");
        assert!(
            e.starts_with("a.md:2:1: missing field `title`: `titel` looks like a typo"),
            "{e}"
        );
    }

    #[test]
    fn crlf_and_bom() {
        let p = parse("\u{feff}---\r\ntitle: T\r\n---\r\nbody").unwrap();
        assert_eq!(p.front.title, "T");
        assert_eq!(p.body, "body");
    }
}
