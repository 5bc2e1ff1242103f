//! A snippet's options: rustdoc's attributes after a fence's language
//! (`rust,no_run,edition2024`), or a linked file's `// kiln: …` line
//! (`# kiln: …` in Python). One table lists every option and the
//! languages it means something in.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Language;
use crate::config::{EDITIONS, MIN_DISK, MIN_MEMORY, SnippetConfig, parse_duration, parse_size};
use crate::markdown::fence_words;

/// What kiln does with a snippet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// Compile and run it.
    Run,
    /// Compile it only.
    NoRun,
    /// Expect rustc to reject it.
    CompileFail,
    /// Neither compile nor run it.
    Ignore,
}

impl Mode {
    /// The attribute that selects the mode, or `None` for a plain run.
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            Mode::Run => None,
            Mode::NoRun => Some("no_run"),
            Mode::CompileFail => Some("compile_fail"),
            Mode::Ignore => Some("ignore"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnippetOptions {
    /// Not part of the key as an option: each language keys its snippets
    /// apart.
    #[serde(skip)]
    pub language: Language,
    pub mode: Mode,
    /// A run passes only if it panics.
    pub should_panic: bool,
    /// A run passes only if it fails: a non-zero exit, such as an uncaught
    /// exception (Python's `should_fail`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub should_fail: bool,
    pub edition: String,
    pub timeout: Duration,
    /// Run with the network (no network namespace).
    pub network: bool,
    /// The address space a run may use, in bytes.
    pub memory: u64,
    /// The processes and threads a run may have.
    pub processes: u64,
    /// All the files a run may write together, in bytes.
    pub disk: u64,
}

impl SnippetOptions {
    /// A plain run with the site's defaults.
    pub(super) fn defaults(language: Language, config: &SnippetConfig) -> SnippetOptions {
        SnippetOptions {
            language,
            mode: Mode::Run,
            should_panic: false,
            should_fail: false,
            edition: config.edition.clone(),
            timeout: config.timeout,
            network: false,
            memory: config.memory,
            processes: config.processes,
            disk: config.disk,
        }
    }

    /// What snippets compiled into one crate must share, by their
    /// options: the edition. `None` when the options keep the snippet
    /// alone (a rejected or skipped compile, a panic expected of the
    /// whole program). The run's limits need not match: each snippet still
    /// runs by itself.
    pub fn merge_group(&self) -> Option<&str> {
        let merges = matches!(self.mode, Mode::Run | Mode::NoRun)
            && !self.should_panic
            && self.language == Language::Rust;
        merges.then_some(self.edition.as_str())
    }

    /// The attributes a reader should know about, such as `no_run`.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut flags: Vec<&'static str> = self.mode.attribute().into_iter().collect();
        if self.should_panic {
            flags.push("should_panic");
        }
        if self.should_fail {
            flags.push("should_fail");
        }
        if self.network {
            flags.push("network");
        }
        flags
    }
}

/// One option a snippet can take, in a fence (`rust,no_run`,
/// `rust,timeout=2s`) or a `// kiln:` line (`no_run, timeout = 2s`): the
/// one table that the parsers, the list of allowed options in errors, and
/// the docs read. Every option is a field of [`SnippetOptions`], which is
/// part of a snippet's cache key as a whole.
struct OptionSpec {
    name: &'static str,
    /// How it is written, for the list of allowed options.
    example: &'static str,
    /// Whether it takes a value (`timeout = 5s`) or stands alone (`no_run`).
    valued: bool,
    /// The languages it means something in.
    languages: &'static [Language],
    /// Applies it, with its value; an error says why the value is wrong.
    apply: fn(&mut SnippetOptions, &str) -> Result<(), String>,
}

const OPTIONS: [OptionSpec; 11] = [
    OptionSpec {
        name: "ignore",
        example: "ignore",
        valued: false,
        languages: &[Language::Rust, Language::Python],
        apply: |o, _| {
            o.mode = Mode::Ignore;
            Ok(())
        },
    },
    OptionSpec {
        name: "no_run",
        example: "no_run",
        valued: false,
        languages: &[Language::Rust, Language::Python],
        apply: |o, _| {
            o.mode = Mode::NoRun;
            Ok(())
        },
    },
    OptionSpec {
        name: "compile_fail",
        example: "compile_fail",
        valued: false,
        languages: &[Language::Rust],
        apply: |o, _| {
            o.mode = Mode::CompileFail;
            Ok(())
        },
    },
    OptionSpec {
        name: "should_panic",
        example: "should_panic",
        valued: false,
        languages: &[Language::Rust],
        apply: |o, _| {
            o.should_panic = true;
            Ok(())
        },
    },
    OptionSpec {
        name: "should_fail",
        example: "should_fail",
        valued: false,
        languages: &[Language::Python],
        apply: |o, _| {
            o.should_fail = true;
            Ok(())
        },
    },
    OptionSpec {
        name: "network",
        example: "network",
        valued: false,
        languages: &[Language::Rust, Language::Python],
        apply: |o, _| {
            o.network = true;
            Ok(())
        },
    },
    OptionSpec {
        name: "edition",
        example: "edition = 2021",
        valued: true,
        languages: &[Language::Rust],
        apply: |o, value| {
            if !EDITIONS.contains(&value) {
                return Err(format!(
                    "`{value}` is not an edition; expected 2015, 2018, 2021 or 2024"
                ));
            }
            o.edition = value.to_owned();
            Ok(())
        },
    },
    OptionSpec {
        name: "timeout",
        example: "timeout = 5s",
        valued: true,
        languages: &[Language::Rust, Language::Python],
        apply: |o, value| {
            o.timeout = parse_duration(value)?;
            if o.timeout.is_zero() {
                return Err("must be longer than zero".to_owned());
            }
            Ok(())
        },
    },
    OptionSpec {
        name: "memory",
        example: "memory = 4GiB",
        valued: true,
        languages: &[Language::Rust, Language::Python],
        apply: |o, value| {
            o.memory = least(parse_size(value)?, MIN_MEMORY, value)?;
            Ok(())
        },
    },
    OptionSpec {
        name: "processes",
        example: "processes = 512",
        valued: true,
        languages: &[Language::Rust, Language::Python],
        apply: |o, value| {
            o.processes = value
                .parse()
                .ok()
                .filter(|&n: &u64| n > 0)
                .ok_or_else(|| format!("`{value}` is not a number of processes"))?;
            Ok(())
        },
    },
    OptionSpec {
        name: "disk",
        example: "disk = 2GiB",
        valued: true,
        languages: &[Language::Rust, Language::Python],
        apply: |o, value| {
            o.disk = least(parse_size(value)?, MIN_DISK, value)?;
            Ok(())
        },
    },
];

/// A size at least `least` bytes.
fn least(size: u64, least: u64, value: &str) -> Result<u64, String> {
    if size < least {
        return Err(format!(
            "`{value}` is too little; a run needs at least {} MiB",
            least >> 20
        ));
    }
    Ok(size)
}

/// The option named `name`, if `language` takes it.
fn option_named(name: &str, language: Language) -> Option<&'static OptionSpec> {
    OPTIONS
        .iter()
        .find(|o| o.name == name && o.languages.contains(&language))
}

/// The options `language` takes, for errors: ``expected `ignore`, … or
/// `disk = 2GiB` ``.
fn expected_options(language: Language) -> String {
    let forms: Vec<String> = OPTIONS
        .iter()
        .filter(|o| o.languages.contains(&language))
        .map(|o| format!("`{}`", o.example))
        .collect();
    match forms.split_last() {
        Some((last, rest)) => format!("expected {} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Why `name` is no option of `language`, when another language takes it.
fn other_language(name: &str, language: Language) -> Option<String> {
    let option = OPTIONS.iter().find(|o| o.name == name)?;
    let hint = match (name, language) {
        ("should_panic", Language::Python) => {
            "; a Python snippet that is meant to fail takes `should_fail`"
        }
        ("should_fail", Language::Rust) => {
            "; a Rust snippet that is meant to panic takes `should_panic`"
        }
        _ => "",
    };
    let owners: Vec<&str> = option.languages.iter().map(|l| l.name()).collect();
    Some(format!(
        "`{name}` is an option of {} snippets, not of {} ones{hint}",
        owners.join(" and "),
        language.name()
    ))
}

/// An option as written: its name and its value, if it has one;
/// rustdoc's `edition2021` is `edition` with `2021`.
fn split_option(word: &str) -> (&str, Option<&str>) {
    match word.split_once('=') {
        Some((name, value)) => (name.trim(), Some(value.trim())),
        None => match word.strip_prefix("edition") {
            Some(year) if EDITIONS.contains(&year) => ("edition", Some(year)),
            _ => (word, None),
        },
    }
}

/// Options from a fence info string such as `rust,no_run,edition2024` or
/// `python,run,timeout=2s`. Unknown words are other tools' (`editable`,
/// …) and are ignored; a known option with a bad value is an error, and
/// so is another language's option.
pub fn fence_options(info: &str, config: &SnippetConfig) -> Result<SnippetOptions, String> {
    let mut words = fence_words(info);
    let language = words
        .next()
        .and_then(|w| Language::of_fence(crate::markdown::fence_language(w)))
        .unwrap_or_default();
    let mut options = SnippetOptions::defaults(language, config);
    for word in words {
        let (name, value) = split_option(word);
        match (option_named(name, language), value) {
            (Some(option), Some(value)) if option.valued => (option.apply)(&mut options, value)
                .map_err(|e| format!("fence option `{name}`: {e}"))?,
            (Some(option), None) if !option.valued => (option.apply)(&mut options, "")?,
            (None, _) => {
                if let Some(why) = other_language(name, language) {
                    return Err(format!("fence option {why}"));
                }
            }
            _ => {}
        }
    }
    Ok(options)
}

/// Options of an inline block: its fence's, then a first `// kiln: …`
/// line (`# kiln: …` in Python), as a linked file has; and the code to
/// show (without that line).
pub fn inline_options(
    info: &str,
    code: &str,
    config: &SnippetConfig,
) -> Result<(SnippetOptions, String), String> {
    let options = fence_options(info, config)?;
    kiln_line(code, options)
}

/// Options from a linked file's `// kiln: …` line (`# kiln: …` in
/// Python), and the code to show (the file without that line).
pub fn linked_options(
    source: &str,
    language: Language,
    config: &SnippetConfig,
) -> Result<(SnippetOptions, String), String> {
    kiln_line(source, SnippetOptions::defaults(language, config))
}

/// Applies the options of a `// kiln: …` line among the first comment
/// lines of `source` to `options`; returns them and the code without that
/// line.
fn kiln_line(
    source: &str,
    mut options: SnippetOptions,
) -> Result<(SnippetOptions, String), String> {
    let language = options.language;
    let comment = language.comment();
    let marker = format!("{comment} kiln:");
    let options_line = source
        .lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with(comment))
        .position(|l| l.trim_start().starts_with(&marker));
    let Some(index) = options_line else {
        return Ok((options, source.to_owned()));
    };
    let line = source.lines().nth(index).unwrap_or_default();
    let spec = line.trim_start().trim_start_matches(&marker);
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, value) = split_option(item);
        match (option_named(name, language), value) {
            (Some(option), Some(value)) if option.valued => (option.apply)(&mut options, value)
                .map_err(|e| format!("`{marker}` option `{name}`: {e}"))?,
            (Some(option), None) if !option.valued => (option.apply)(&mut options, "")?,
            _ => {
                let why =
                    other_language(name, language).unwrap_or_else(|| expected_options(language));
                return Err(format!("unknown `{marker}` option `{item}`; {why}"));
            }
        }
    }
    let display: Vec<&str> = source
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, l)| l)
        .collect();
    let mut display = display.join("\n");
    if source.ends_with('\n') {
        display.push('\n');
    }
    Ok((options, display.trim_start_matches('\n').to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fence_attributes() {
        let config = SnippetConfig::default();
        let fence = |info: &str| fence_options(info, &config).unwrap();
        let o = fence("rust,no_run");
        assert_eq!(o.mode, Mode::NoRun);
        let o = fence("rust should_panic,edition2024,editable");
        assert!(o.should_panic);
        assert_eq!(o.edition, "2024");
        assert_eq!(o.flags(), ["should_panic"]);
        assert_eq!(fence("rust,compile_fail").mode, Mode::CompileFail);
        assert_eq!(fence("rust,ignore").mode, Mode::Ignore);
        assert_eq!(fence("rust,edition2077").edition, "2021");
        assert_eq!(fence("rust,timeout=2s").timeout, Duration::from_secs(2));
        let e = fence_options("rust,timeout=soon", &config).unwrap_err();
        assert!(e.starts_with("fence option `timeout`"), "{e}");
        let (o, shown) =
            inline_options("rust", "// kiln: timeout = 3s\nloop {}\n", &config).unwrap();
        assert_eq!(o.timeout, Duration::from_secs(3));
        assert_eq!(shown, "loop {}\n");
    }

    #[test]
    fn one_table_lists_every_option() {
        assert_eq!(
            expected_options(Language::Rust),
            "expected `ignore`, `no_run`, `compile_fail`, `should_panic`, `network`, `edition = 2021`, `timeout = 5s`, `memory = 4GiB`, `processes = 512` or `disk = 2GiB`"
        );
        assert_eq!(
            expected_options(Language::Python),
            "expected `ignore`, `no_run`, `should_fail`, `network`, `timeout = 5s`, `memory = 4GiB`, `processes = 512` or `disk = 2GiB`"
        );
        let config = SnippetConfig::default();
        let o = fence_options("rust,edition=2024,disk=64MiB,no_run", &config).unwrap();
        assert_eq!(
            (o.edition.as_str(), o.disk, o.mode),
            ("2024", 64 << 20, Mode::NoRun)
        );
        let e = linked_options("// kiln: edition = 2077\n", Language::Rust, &config).unwrap_err();
        assert!(e.contains("`2077` is not an edition"), "{e}");
        let e = linked_options("// kiln: timeout\n", Language::Rust, &config).unwrap_err();
        assert!(e.starts_with("unknown `// kiln:` option `timeout`"), "{e}");
    }

    #[test]
    fn linked_option_lines() {
        let config = SnippetConfig::default();
        let (o, shown) = linked_options(
            "// kiln: should_panic, timeout = 5s\nfn main() {}\n",
            Language::Rust,
            &config,
        )
        .unwrap();
        assert!(o.should_panic);
        assert_eq!(o.timeout, Duration::from_secs(5));
        assert_eq!(shown, "fn main() {}\n");
        let e = linked_options(
            "// kiln: shuold_panic\nfn main() {}\n",
            Language::Rust,
            &config,
        )
        .unwrap_err();
        assert!(
            e.contains("unknown `// kiln:` option `shuold_panic`"),
            "{e}"
        );
        let (o, _) = linked_options(
            "//! Docs\n// kiln: compile_fail\nfn main() {}\n",
            Language::Rust,
            &config,
        )
        .unwrap();
        assert_eq!(o.mode, Mode::CompileFail);
        let (o, _) =
            linked_options("fn main() {}\n// kiln: ignore\n", Language::Rust, &config).unwrap();
        assert_eq!(o.mode, Mode::Run);
    }

    #[test]
    fn python_options() {
        let config = SnippetConfig::default();
        let o = fence_options("python,run,should_fail,timeout=2s", &config).unwrap();
        assert_eq!(o.language, Language::Python);
        assert!(o.should_fail);
        assert_eq!(o.flags(), ["should_fail"]);
        let e = fence_options("py,should_panic", &config).unwrap_err();
        assert!(e.contains("takes `should_fail`"), "{e}");
        let (o, shown) = linked_options(
            "#!/usr/bin/env python3\n# kiln: no_run\nprint(1)\n",
            Language::Python,
            &config,
        )
        .unwrap();
        assert_eq!(o.mode, Mode::NoRun);
        assert_eq!(shown, "#!/usr/bin/env python3\nprint(1)\n");
        let e = linked_options("# kiln: edition = 2021\n", Language::Python, &config).unwrap_err();
        assert!(
            e.starts_with(
                "unknown `# kiln:` option `edition = 2021`; `edition` is an option of Rust snippets"
            ),
            "{e}"
        );
        // A Python file's `// kiln:` is no option line, and a Rust file's
        // `# kiln:` is none either.
        let (o, _) = linked_options("// kiln: ignore\n", Language::Python, &config).unwrap();
        assert_eq!(o.mode, Mode::Run);
    }
}
