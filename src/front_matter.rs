//! Front matter: the YAML block between `---` lines at the top of an article.
//!
//! [`parse_front_matter`] is the one function that knows YAML. It returns the
//! typed fields, the Markdown body that follows, and warnings for fields it
//! keeps but does not know.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::error::{Error, Position, Warning};

/// The fields every article can set. Unknown fields are kept in `extra`.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontMatter {
    pub title: String,
    pub authors: Vec<String>,
    pub tags: Vec<String>,
    /// A path relative to the article, or an absolute URL.
    pub thumbnail: Option<String>,
    pub created_at: Option<Date>,
    pub updated_at: Option<Date>,
    /// A one-paragraph summary, written in Markdown.
    pub tldr: Option<String>,
    /// Overrides the URL slug taken from the file name.
    pub slug: Option<String>,
    pub draft: bool,
    /// Every field kiln does not know, for templates to use as `extra`.
    pub extra: BTreeMap<String, serde_yaml::Value>,
    /// The file line of each top-level field, for later checks to point at.
    pub lines: BTreeMap<String, usize>,
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

/// The fields kiln knows, in the order the README lists them.
pub const KNOWN_FIELDS: [&str; 9] = [
    "title",
    "authors",
    "tags",
    "thumbnail",
    "created_at",
    "updated_at",
    "tldr",
    "slug",
    "draft",
];

/// Splits `source` into front matter and body and parses the front matter.
/// `path` is only used to name the file in errors and warnings.
pub fn parse_front_matter<'a>(source: &'a str, path: &Path) -> Result<Parsed<'a>, Error> {
    let fail = |line: usize, column: usize, message: String| Error::FrontMatter {
        path: path.to_owned(),
        at: Position { line, column },
        message,
    };
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let mut lines = source.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(fail(
            1,
            1,
            "expected front matter: the file must start with a `---` line, then YAML fields such as `title: …`, then another `---` line".to_owned(),
        ));
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    let mut closing = None;
    for (index, line) in lines.enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            closing = Some((offset, offset + line.len(), index + 2));
            break;
        }
        offset += line.len();
    }
    let Some((yaml_end, body_start, closing_line)) = closing else {
        return Err(fail(
            1,
            1,
            "the front matter opened by this `---` is never closed: add a `---` line after the last field".to_owned(),
        ));
    };
    let yaml = quote_reserved_scalars(&source[yaml_start..yaml_end]);
    let locate = |e: &serde_yaml::Error| match e.location() {
        // The YAML starts on line 2 of the file.
        Some(loc) => (loc.line() + 1, loc.column()),
        None => (2, 1),
    };
    let value: serde_yaml::Value = serde_yaml::from_str(&yaml).map_err(|e| {
        let (line, column) = locate(&e);
        let mut message = yaml_message(&e);
        if let Some(hint) = quoting_hint(&yaml, line) {
            message.push_str(&hint);
        }
        fail(line, column, message)
    })?;
    let mapping = match value {
        serde_yaml::Value::Mapping(mapping) => mapping,
        serde_yaml::Value::Null => serde_yaml::Mapping::new(),
        _ => {
            return Err(fail(
                2,
                1,
                "the front matter must be `key: value` fields, such as `title: My article`"
                    .to_owned(),
            ));
        }
    };
    if !mapping.contains_key("title") {
        return Err(fail(
            closing_line,
            1,
            "missing field `title`: every article needs one, such as `title: My article`"
                .to_owned(),
        ));
    }
    // Each field is read on its own so that an error names its line.
    let field_error = |key: &str, message: String| {
        let (line, column) = field_position(&yaml, key).unwrap_or((2, 1));
        fail(line, column, format!("`{key}`: {message}"))
    };
    let title = field::<Text>(&mapping, "title", &field_error)?
        .map(|t| t.0.trim().to_owned())
        .unwrap_or_default();
    if title.is_empty() {
        return Err(field_error(
            "title",
            "is empty; every article needs a title".to_owned(),
        ));
    }
    let slug = field::<Text>(&mapping, "slug", &field_error)?.map(|t| t.0);
    if let Some(slug) = &slug {
        let bad = slug.is_empty()
            || slug
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..")
            || slug.contains(['\\', '?', '#', '%']);
        if bad {
            return Err(field_error(
                "slug",
                format!(
                    "`{slug}` is not a URL slug; expected words such as `my-article`, optionally with `/` between them"
                ),
            ));
        }
    }
    let text = |key: &str| -> Result<Option<String>, Error> {
        Ok(field::<Text>(&mapping, key, &field_error)?
            .map(|t| t.0)
            .filter(|t| !t.trim().is_empty()))
    };
    let names = |key: &str| -> Result<Vec<String>, Error> {
        Ok(field::<OneOrMany>(&mapping, key, &field_error)?
            .map(|n| n.0)
            .unwrap_or_default())
    };
    let front = FrontMatter {
        title,
        authors: names("authors")?,
        tags: names("tags")?,
        thumbnail: text("thumbnail")?,
        created_at: field::<Date>(&mapping, "created_at", &field_error)?,
        updated_at: field::<Date>(&mapping, "updated_at", &field_error)?,
        tldr: text("tldr")?,
        slug,
        draft: field::<Option<bool>>(&mapping, "draft", &field_error)?
            .flatten()
            .unwrap_or(false),
        extra: BTreeMap::new(),
        lines: BTreeMap::new(),
    };

    let mut warnings = Vec::new();
    let mut extra = BTreeMap::new();
    for (key, value) in mapping {
        let key = match key {
            serde_yaml::Value::String(s) => s,
            other => serde_yaml::to_string(&other)
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
            line: field_line(&yaml, &key).unwrap_or(2),
            message: format!("unknown front matter field `{key}`{hint}"),
        });
        extra.insert(key, value);
    }

    let lines = front_lines(&yaml);
    Ok(Parsed {
        front: FrontMatter {
            extra,
            lines,
            ..front
        },
        body: &source[body_start..],
        body_line: closing_line + 1,
        warnings,
    })
}

/// Reads one field; a null field counts as absent.
fn field<T: serde::de::DeserializeOwned>(
    mapping: &serde_yaml::Mapping,
    key: &str,
    error: &dyn Fn(&str, String) -> Error,
) -> Result<Option<T>, Error> {
    match mapping.get(key) {
        None | Some(serde_yaml::Value::Null) => Ok(None),
        Some(value) => serde_yaml::from_value(value.clone())
            .map(Some)
            .map_err(|e| error(key, e.to_string())),
    }
}

/// serde_yaml appends " at line N column M"; the position is reported apart.
fn yaml_message(e: &serde_yaml::Error) -> String {
    let mut text = e.to_string();
    // Positions inside the YAML block are not file positions; drop them.
    while let Some(start) = text.find(" at line ") {
        let rest = &text[start + " at line ".len()..];
        let Some(col) = rest.find(" column ") else {
            break;
        };
        let digits = rest[col + " column ".len()..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - col - " column ".len());
        let end = start + " at line ".len() + col + " column ".len() + digits;
        text.replace_range(start..end, "");
    }
    text
}

/// Most YAML errors in front matter are text that YAML reads as syntax:
/// `tldr: **bold**` or `title: a: b`. Suggest quotes when the failing line (or
/// the one before) holds such a value.
fn quoting_hint(yaml: &str, file_line: usize) -> Option<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let candidates = [file_line.checked_sub(2), file_line.checked_sub(3)];
    candidates.into_iter().flatten().find_map(|i| {
        let line = lines.get(i)?;
        let (key, value) = line.split_once(':')?;
        let value = value.trim();
        let simple_key = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        let unquoted = !value.is_empty() && !value.starts_with(['"', '\'', '[', '{', '|', '>']);
        (simple_key && unquoted).then(|| {
            format!(
                "; if `{key}` is meant as text, put it in quotes: `{key}: \"{}\"`",
                value.replace('"', "\\\"")
            )
        })
    })
}

/// The file line of every top-level `key:` in the YAML block.
fn front_lines(yaml: &str) -> BTreeMap<String, usize> {
    yaml.lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with([' ', '\t', '-', '#']))
        .filter_map(|(i, line)| {
            let key = line.split(':').next()?.trim();
            (!key.is_empty() && line.contains(':')).then(|| (key.to_owned(), i + 2))
        })
        .collect()
}

/// The 1-based file line of a top-level field in the YAML block.
fn field_line(yaml: &str, key: &str) -> Option<usize> {
    field_position(yaml, key).map(|(line, _)| line)
}

/// The 1-based file line and column of a top-level field's value.
fn field_position(yaml: &str, key: &str) -> Option<(usize, usize)> {
    yaml.lines().enumerate().find_map(|(i, line)| {
        let rest = line.strip_prefix(key)?.trim_start();
        let value = rest.strip_prefix(':')?;
        let column = line.len() - value.trim_start().len() + 1;
        Some((i + 2, column))
    })
}

/// A backtick or `@` cannot start a plain YAML scalar (they are reserved), yet
/// `tldr: `code` does …` is natural in a Markdown knowledge base. Such a
/// top-level value is read as the string it plainly is, by quoting it.
/// Line numbers do not change.
fn quote_reserved_scalars(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 16);
    for line in yaml.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let ending = &line[content.len()..];
        let quoted = content
            .find(": ")
            .filter(|&colon| {
                let key = &content[..colon];
                !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            })
            .and_then(|colon| {
                let value = content[colon + 2..].trim();
                value
                    .starts_with(['`', '@'])
                    .then(|| format!("{}: '{}'", &content[..colon], value.replace('\'', "''")))
            });
        match quoted {
            Some(q) => {
                out.push_str(&q);
                out.push_str(ending);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// A scalar read as text: strings, numbers and booleans.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor).map(Text)
    }
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A list of names, also accepted as a single string or as nothing.
#[derive(Debug, Default)]
struct OneOrMany(Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of names, or a single name")
            }
            fn visit_unit<E: de::Error>(self) -> Result<OneOrMany, E> {
                Ok(OneOrMany(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<OneOrMany, E> {
                Ok(OneOrMany(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(split_names(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_string()]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut names: Vec<String> = Vec::new();
                while let Some(Text(name)) = seq.next_element()? {
                    let name = name.trim().to_owned();
                    if !name.is_empty() && !names.contains(&name) {
                        names.push(name);
                    }
                }
                Ok(OneOrMany(names))
            }
        }
        d.deserialize_any(V)
    }
}

/// A single string may still list several names, separated by commas.
fn split_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// A date from front matter. Dates without an offset are taken as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub jiff::Timestamp);

impl Date {
    /// Accepts `2023-03-13`, `2023-03-13 00:00:00` (or with a `T`), RFC
    /// 3339 such as `2023-03-13T10:00:00+02:00`, and Jekyll's
    /// `2023-03-13 10:00:00 +0200`.
    pub fn parse(text: &str) -> Result<Date, String> {
        let text = text.trim();
        if let Ok(ts) = text.parse::<jiff::Timestamp>() {
            return Ok(Date(ts));
        }
        // Jekyll and Hugo write `2023-03-13 10:00:00 +0200`.
        for format in [
            "%Y-%m-%d %H:%M:%S %z",
            "%Y-%m-%d %H:%M:%S %:z",
            "%Y-%m-%d %H:%M %z",
        ] {
            if let Ok(zoned) =
                jiff::fmt::strtime::parse(format, text).and_then(|t| t.to_timestamp())
            {
                return Ok(Date(zoned));
            }
        }
        if !text.contains(['+', 'Z', 'z'])
            && text.get(10..).is_some_and(|rest| !rest.contains('-'))
            && let Ok(dt) = text.parse::<jiff::civil::DateTime>()
            && let Ok(ts) = jiff::tz::TimeZone::UTC.to_timestamp(dt)
        {
            return Ok(Date(ts));
        }
        Err(format!(
            "`{text}` is not a date; expected `2023-03-13`, `2023-03-13 00:00:00` or RFC 3339 such as `2023-03-13T00:00:00Z`"
        ))
    }

    /// `2023-03-13T00:00:00Z`, for `<time datetime>` and feeds.
    pub fn rfc3339(&self) -> String {
        self.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// `2023-03-13`, the calendar day in UTC.
    pub fn ymd(&self) -> String {
        self.0.strftime("%Y-%m-%d").to_string()
    }

    /// `13 March 2023`, for readers.
    pub fn human(&self) -> String {
        self.0.strftime("%-d %B %Y").to_string()
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(text) = Text::deserialize(d)?;
        Date::parse(&text).map_err(de::Error::custom)
    }
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
    fn dates_in_every_accepted_form() {
        let midnight = Date::parse("2023-03-13T00:00:00Z").unwrap();
        assert_eq!(Date::parse("2023-03-13").unwrap(), midnight);
        assert_eq!(Date::parse("2023-03-13 00:00:00").unwrap(), midnight);
        assert_eq!(Date::parse("2023-03-13T00:00:00").unwrap(), midnight);
        assert_eq!(Date::parse("2023-03-13T02:00:00+02:00").unwrap(), midnight);
        assert_eq!(midnight.ymd(), "2023-03-13");
        assert_eq!(midnight.human(), "13 March 2023");
        assert_eq!(midnight.rfc3339(), "2023-03-13T00:00:00Z");
        assert_eq!(Date::parse("2023-03-13 02:00:00 +0200").unwrap(), midnight);
        assert_eq!(Date::parse("2023-03-13 02:00:00 +02:00").unwrap(), midnight);
        assert!(Date::parse("13/03/2023").is_err());
        assert!(Date::parse("2023-02-30").is_err());
        assert!(Date::parse("").is_err());
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
    fn crlf_and_bom() {
        let p = parse("\u{feff}---\r\ntitle: T\r\n---\r\nbody").unwrap();
        assert_eq!(p.front.title, "T");
        assert_eq!(p.body, "body");
    }
}
