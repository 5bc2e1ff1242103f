//! The YAML of a front matter block: parsing it into a mapping with errors
//! at file positions, and where each top-level field is written.
//!
//! Line numbers here are file lines: the YAML block starts on line 2.

use std::collections::BTreeMap;

use yaml_serde::{Mapping, Value};

/// A file position and what is wrong there.
pub type Located = (usize, usize, String);

/// Parses the YAML block into its top-level mapping.
pub fn parse_mapping(yaml: &str) -> Result<Mapping, Located> {
    let yaml = quote_reserved_scalars(yaml);
    let value: Value = yaml_serde::from_str(&yaml).map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((2, 1), |loc| (loc.line() + 1, loc.column()));
        let mut message = without_position(&e.to_string());
        if let Some(hint) = quoting_hint(&yaml, line) {
            message.push_str(&hint);
        }
        (line, column, message)
    })?;
    match value {
        Value::Mapping(mapping) => Ok(mapping),
        Value::Null => Ok(Mapping::new()),
        _ => Err((
            2,
            1,
            "the front matter must be `key: value` fields, such as `title: My article`".to_owned(),
        )),
    }
}

/// The YAML library's message without its " at line N column M", which
/// counts lines of the block, not of the file; the position is reported
/// apart.
fn without_position(text: &str) -> String {
    let mut text = text.to_owned();
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

/// Where each top-level field is written: its file line and the column
/// of its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPositions(BTreeMap<String, (usize, usize)>);

impl FieldPositions {
    /// Scans the block's top-level `key:` lines (YAML keeps no positions
    /// in its values).
    pub fn scan(yaml: &str) -> FieldPositions {
        let mut positions = BTreeMap::new();
        for (i, line) in yaml.lines().enumerate() {
            if line.starts_with([' ', '\t', '-', '#']) {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim();
            if key.is_empty() {
                continue;
            }
            let column = line.len() - value.trim_start().len() + 1;
            positions.entry(key.to_owned()).or_insert((i + 2, column));
        }
        FieldPositions(positions)
    }

    /// The file line and column of a field's value.
    pub fn get(&self, key: &str) -> Option<(usize, usize)> {
        self.0.get(key).copied()
    }

    /// The file line of a field.
    pub fn line(&self, key: &str) -> Option<usize> {
        self.get(key).map(|(line, _)| line)
    }
}

/// Most YAML errors in front matter are text that YAML reads as syntax:
/// `tldr: **bold**` or `title: a: b`. Suggest quotes when the failing line (or
/// the one before) holds such a value.
fn quoting_hint(yaml: &str, file_line: usize) -> Option<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let candidates = [file_line.checked_sub(2), file_line.checked_sub(3)];
    candidates.into_iter().flatten().find_map(|i| {
        let (key, value) = simple_field(lines.get(i)?)?;
        let unquoted = !value.is_empty() && !value.starts_with(['"', '\'', '[', '{', '|', '>']);
        unquoted.then(|| {
            format!(
                "; if `{key}` is meant as text, put it in quotes: `{key}: \"{}\"`",
                value.replace('"', "\\\"")
            )
        })
    })
}

/// A line `key: value` whose key is a plain word, split and trimmed.
fn simple_field(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    plain.then(|| (key, value.trim()))
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
            .and_then(|colon| simple_field(content).filter(|(key, _)| key.len() == colon))
            .filter(|(_, value)| value.starts_with(['`', '@']))
            .map(|(key, value)| format!("{key}: '{}'", value.replace('\'', "''")));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_top_level_fields() {
        let p = FieldPositions::scan("title: T\ntags:\n- a\n  nested: x\ncreated_at:   2024\n");
        assert_eq!(p.get("title"), Some((2, 8)));
        assert_eq!(p.line("tags"), Some(3));
        assert_eq!(p.get("created_at"), Some((6, 15)));
        assert_eq!(p.get("nested"), None);
    }

    #[test]
    fn reserved_scalars_are_quoted() {
        assert_eq!(
            quote_reserved_scalars("tldr: `a` it's\nb: `x`\n"),
            "tldr: '`a` it''s'\nb: '`x`'\n"
        );
        assert_eq!(quote_reserved_scalars("a b: `x`\n"), "a b: `x`\n");
    }

    #[test]
    fn positions_leave_the_message() {
        assert_eq!(
            without_position(
                "did not find expected node content at line 3 column 7, while parsing"
            ),
            "did not find expected node content, while parsing"
        );
    }
}
