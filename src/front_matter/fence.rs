//! Splits an article into its front matter block and the Markdown after it.

/// The YAML between the `---` lines and where the Markdown starts.
#[derive(Debug)]
pub struct Fenced<'a> {
    pub yaml: &'a str,
    pub body: &'a str,
    /// The 1-based line of the closing `---`.
    pub closing_line: usize,
}

/// Finds the front matter block of `source` (a leading byte order mark
/// is skipped). `Err` says what is wrong; the problem is on line 1.
pub fn split_front_matter(source: &str) -> Result<Fenced<'_>, &'static str> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let mut lines = source.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(
            "expected front matter: the file must start with a `---` line, then YAML fields such as `title: …`, then another `---` line",
        );
    }
    let mut offset = first.len();
    for (index, line) in lines.enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return Ok(Fenced {
                yaml: &source[first.len()..offset],
                body: &source[offset + line.len()..],
                closing_line: index + 2,
            });
        }
        offset += line.len();
    }
    Err(
        "the front matter opened by this `---` is never closed: add a `---` line after the last field",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences() {
        let f = split_front_matter("\u{feff}---\r\ntitle: T\r\n---\r\nbody").unwrap();
        assert_eq!(f.yaml, "title: T\r\n");
        assert_eq!(f.body, "body");
        assert_eq!(f.closing_line, 3);
        assert!(split_front_matter("title: x\n").is_err());
        assert!(split_front_matter("---\ntitle: x\n").is_err());
    }
}
