//! rustdoc's conventions for the code of a block: hidden `# ` lines, and
//! an implicit `fn main` around code that has none, with crate-level
//! attributes moved to the top.

/// A snippet as a crate. Its code keeps every line at its place in the
/// file the author wrote (the article, or the snippet file), so rustc's
/// diagnostics and panic messages name the author's own file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedCode {
    /// Crate-level attributes and `extern crate` items moved out of an
    /// implicit `fn main`, on one line; empty when there are none.
    pub crate_attrs: String,
    /// The opening of the implicit `fn main`, if the code has none.
    pub wrapper: Option<&'static str>,
    /// The code, line for line as written (moved attributes left blank).
    pub code: String,
    /// The file rustc is told it compiles: the snippet file, or the
    /// article of an inline block.
    pub file_name: String,
    /// The line of `file_name` just before the code's first line.
    pub offset: usize,
}

impl PreparedCode {
    /// Code that is run as written, in a language with no implicit
    /// `main` or crate attributes (Python).
    pub fn plain(code: String, file_name: String, offset: usize) -> PreparedCode {
        PreparedCode {
            crate_attrs: String::new(),
            wrapper: None,
            code,
            file_name,
            offset,
        }
    }

    /// The crate's name: `snippet`, or what `#![crate_name = "…"]` says
    /// (rustc wants the two to agree).
    pub fn crate_name(&self) -> &str {
        let attribute = [self.crate_attrs.as_str(), self.code.as_str()]
            .into_iter()
            .find_map(|text| text.split("#![crate_name").nth(1))
            .and_then(|rest| rest.trim_start().strip_prefix('='))
            .and_then(|rest| rest.trim_start().strip_prefix('"'))
            .and_then(|rest| rest.split('"').next());
        attribute
            .filter(|name| {
                !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
            })
            .unwrap_or("snippet")
    }

    /// The code with its `fn main`, for one module of a merged crate.
    pub fn module_body(&self) -> String {
        match self.wrapper {
            Some(open) => format!("{open}\n{}}}\n", self.code),
            None => self.code.clone(),
        }
    }

    /// The whole crate, for compiling on its own: the code starts on line
    /// `offset + 1`, so every line number is the author's.
    pub fn standalone(&self) -> String {
        let head = match (self.crate_attrs.as_str(), self.wrapper) {
            ("", None) => String::new(),
            (attrs, None) => format!("{attrs} "),
            ("", Some(open)) => format!("{open} "),
            (attrs, Some(open)) => format!("{attrs} {open} "),
        };
        let close = if self.wrapper.is_some() { "}\n" } else { "" };
        let code = self.code.strip_suffix('\n').unwrap_or(&self.code);
        if self.offset == 0 {
            // A snippet file: the head shares its first line.
            format!("{head}{code}\n{close}")
        } else {
            let padding = "\n".repeat(self.offset - 1);
            format!("{padding}{head}\n{code}\n{close}")
        }
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
/// one, as rustdoc does. `file_name` and `offset` say where the code is
/// (see [`PreparedCode`]).
pub fn prepare(code: &str, file_name: String, offset: usize) -> PreparedCode {
    let mut prepared = PreparedCode {
        crate_attrs: String::new(),
        wrapper: None,
        code: code.to_owned(),
        file_name,
        offset,
    };
    if !prepared.code.is_empty() && !prepared.code.ends_with('\n') {
        prepared.code.push('\n');
    }
    if has_main(code) {
        return prepared;
    }
    let mut attrs: Vec<&str> = Vec::new();
    let mut body = String::with_capacity(code.len());
    let mut in_header = true;
    let mut pending_macro_use: Option<&str> = None;
    for line in code.lines() {
        let trimmed = line.trim();
        let crate_level = trimmed.starts_with("#![") || trimmed.starts_with("extern crate");
        if in_header && trimmed == "#[macro_use]" {
            // Belongs to the `extern crate` that follows.
            pending_macro_use = Some(trimmed);
            body.push('\n');
            continue;
        }
        if in_header && crate_level {
            attrs.extend(pending_macro_use.take());
            attrs.push(trimmed);
            body.push('\n');
            continue;
        }
        if let Some(attr) = pending_macro_use.take() {
            // Not before an `extern crate` after all: put it back.
            body.pop();
            body.push_str(attr);
            body.push('\n');
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
    prepared.wrapper = Some(if returns_result {
        "fn main() -> Result<(), impl core::fmt::Debug> {"
    } else {
        "fn main() {"
    });
    prepared.crate_attrs = attrs.join(" ");
    prepared.code = body;
    prepared
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
    fn implicit_main_keeps_every_line_in_place() {
        let p = prepare(
            "#![allow(unused)]\nlet x = 1;\nprintln!(\"{x}\");\n",
            "content/a.md".into(),
            3,
        );
        assert_eq!(p.crate_attrs, "#![allow(unused)]");
        assert_eq!(p.wrapper, Some("fn main() {"));
        assert_eq!(
            p.standalone(),
            "\n\n#![allow(unused)] fn main() { \n\nlet x = 1;\nprintln!(\"{x}\");\n}\n"
        );
        // Line 5 of the article is line 5 of the crate.
        assert_eq!(p.standalone().lines().nth(4), Some("let x = 1;"));
        assert_eq!(
            p.module_body(),
            "fn main() {\n\nlet x = 1;\nprintln!(\"{x}\");\n}\n"
        );
        let p = prepare(
            "let n: i32 = \"5\".parse()?;\nOk::<(), std::num::ParseIntError>(())\n",
            "s.rs".into(),
            0,
        );
        assert!(
            p.standalone()
                .starts_with("fn main() -> Result<(), impl core::fmt::Debug> { let n")
        );
        let p = prepare("// fn main is below\nfn main() {}\n", "s.rs".into(), 0);
        assert_eq!(p.standalone(), "// fn main is below\nfn main() {}\n");
        assert!(!has_main("// fn main()\nlet x = 1;"));
    }

    #[test]
    fn crate_names() {
        let p = prepare(
            "#![crate_name = \"rary\"]\nfn main() {}\n",
            "s.rs".into(),
            0,
        );
        assert_eq!(p.crate_name(), "rary");
        assert_eq!(
            prepare("fn main() {}\n", "s.rs".into(), 0).crate_name(),
            "snippet"
        );
    }

    #[test]
    fn macro_use_stays_with_its_extern_crate() {
        let p = prepare(
            "#[macro_use]\nextern crate tiny;\n#[derive(Debug)]\nstruct S;\n",
            "s.rs".into(),
            0,
        );
        assert_eq!(p.crate_attrs, "#[macro_use] extern crate tiny;");
        assert_eq!(p.code, "\n\n#[derive(Debug)]\nstruct S;\n");
    }
}
