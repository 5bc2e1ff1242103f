//! rustdoc's conventions for the code of a block: hidden `# ` lines, and
//! an implicit `fn main` around code that has none, with crate-level
//! attributes moved to the top.

/// A snippet as a crate: crate-level attributes, and a body with `fn main`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedCode {
    pub crate_attrs: String,
    pub body: String,
    /// The file name rustc is given, which shows in panic messages.
    pub file_name: String,
}

impl PreparedCode {
    /// The whole crate, for compiling on its own.
    pub fn standalone(&self) -> String {
        format!("{}{}", self.crate_attrs, self.body)
    }
}

/// rustdoc's hidden lines: `# code` is compiled but not shown, a lone `#`
/// is a hidden blank line, and `##` shows a literal `#`. Returns the shown
/// code and the compiled code.
pub fn split_hidden_lines(code: &str) -> (String, String) {
    let mut shown = String::with_capacity(code.len());
    let mut compiled = String::with_capacity(code.len());
    for line in code.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let ending = &line[content.len()..];
        let trimmed = content.trim_start();
        let indent = &content[..content.len() - trimmed.len()];
        if let Some(rest) = trimmed.strip_prefix("##") {
            shown.push_str(indent);
            shown.push('#');
            shown.push_str(rest);
            shown.push_str(ending);
            compiled.push_str(indent);
            compiled.push('#');
            compiled.push_str(rest);
            compiled.push_str(ending);
        } else if trimmed == "#" {
            compiled.push_str(ending);
        } else if let Some(rest) = trimmed.strip_prefix("# ") {
            compiled.push_str(indent);
            compiled.push_str(rest);
            compiled.push_str(ending);
        } else {
            shown.push_str(line);
            compiled.push_str(line);
        }
    }
    (shown, compiled)
}

/// Moves crate-level attributes out and wraps code without `fn main` in
/// one, as rustdoc does.
pub fn prepare(code: &str, file_name: String) -> PreparedCode {
    if has_main(code) {
        return PreparedCode {
            crate_attrs: String::new(),
            body: code.to_owned(),
            file_name,
        };
    }
    let mut crate_attrs = String::new();
    let mut body = String::new();
    let mut in_header = true;
    for line in code.lines() {
        let trimmed = line.trim_start();
        if in_header && (trimmed.starts_with("#![") || trimmed.starts_with("extern crate")) {
            crate_attrs.push_str(line);
            crate_attrs.push('\n');
            continue;
        }
        if !trimmed.is_empty() && !trimmed.starts_with("//") {
            in_header = false;
        }
        body.push_str(line);
        body.push('\n');
    }
    let last = body
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let returns_result = last.starts_with("Ok(") || last.starts_with("Ok::<");
    let body = if returns_result {
        format!("fn main() -> Result<(), impl core::fmt::Debug> {{\n{body}}}\n")
    } else {
        format!("fn main() {{\n{body}}}\n")
    };
    PreparedCode {
        crate_attrs,
        body,
        file_name,
    }
}

/// Whether the code defines `fn main` at some depth (rustdoc looks only at
/// the top level, which this approximates by ignoring comments).
fn has_main(code: &str) -> bool {
    code.lines().any(|line| {
        let line = line.split("//").next().unwrap_or_default();
        let mut words = line.split_whitespace().peekable();
        while let Some(word) = words.next() {
            if word == "fn"
                && let Some(next) = words.peek()
                && (*next == "main" || next.starts_with("main(") || next.starts_with("main<"))
            {
                return true;
            }
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_lines() {
        let (shown, compiled) = split_hidden_lines(
            "# use std::fmt;\nlet x = 1;\n#\n    ## not hidden\n#[derive(Debug)]\n",
        );
        assert_eq!(shown, "let x = 1;\n    # not hidden\n#[derive(Debug)]\n");
        assert_eq!(
            compiled,
            "use std::fmt;\nlet x = 1;\n\n    # not hidden\n#[derive(Debug)]\n"
        );
    }

    #[test]
    fn implicit_main() {
        let p = prepare(
            "#![allow(unused)]\nlet x = 1;\nprintln!(\"{x}\");\n",
            "s.rs".into(),
        );
        assert_eq!(p.crate_attrs, "#![allow(unused)]\n");
        assert!(p.body.starts_with("fn main() {\n"));
        let p = prepare(
            "let n: i32 = \"5\".parse()?;\nOk::<(), std::num::ParseIntError>(())\n",
            "s.rs".into(),
        );
        assert!(
            p.body
                .starts_with("fn main() -> Result<(), impl core::fmt::Debug>")
        );
        let p = prepare("// fn main is below\nfn main() {}\n", "s.rs".into());
        assert_eq!(p.body, "// fn main is below\nfn main() {}\n");
        assert!(!has_main("// fn main()\nlet x = 1;"));
    }
}
