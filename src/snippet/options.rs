//! A snippet's options: rustdoc's attributes after a fence's language
//! (`rust,no_run,edition2024`), or a linked file's `// kiln: …` line.

use std::time::Duration;

use serde::{Deserialize, Serialize};

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
    pub mode: Mode,
    /// A run passes only if it panics.
    pub should_panic: bool,
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
    fn defaults(config: &SnippetConfig) -> SnippetOptions {
        SnippetOptions {
            mode: Mode::Run,
            should_panic: false,
            edition: config.edition.clone(),
            timeout: config.timeout,
            network: false,
            memory: config.memory,
            processes: config.processes,
            disk: config.disk,
        }
    }

    /// The attributes a reader should know about, such as `no_run`.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut flags: Vec<&'static str> = self.mode.attribute().into_iter().collect();
        if self.should_panic {
            flags.push("should_panic");
        }
        if self.network {
            flags.push("network");
        }
        flags
    }
}

/// Options from a fence info string such as `rust,no_run,edition2024` or
/// `rust,timeout=2s`. Unknown words are other tools' (`editable`, …) and
/// are ignored; a known `key=value` with a bad value is an error.
pub fn fence_options(info: &str, config: &SnippetConfig) -> Result<SnippetOptions, String> {
    let mut options = SnippetOptions::defaults(config);
    for word in fence_words(info).skip(1) {
        match word.split_once('=') {
            Some((key, value))
                if ["timeout", "memory", "processes", "disk"].contains(&key.trim()) =>
            {
                apply_setting(&mut options, key.trim(), value.trim())
                    .map_err(|e| e.replace("`// kiln:` option", "fence option"))?;
            }
            _ => {
                apply_flag(&mut options, word);
            }
        }
    }
    Ok(options)
}

/// Options of an inline block: its fence's, then a first `// kiln: …`
/// line, as a linked file has; and the code to show (without that line).
pub fn inline_options(
    info: &str,
    code: &str,
    config: &SnippetConfig,
) -> Result<(SnippetOptions, String), String> {
    let options = fence_options(info, config)?;
    kiln_line(code, options)
}

/// Applies a rustdoc attribute; false if the word is not one.
fn apply_flag(options: &mut SnippetOptions, word: &str) -> bool {
    match word {
        "ignore" => options.mode = Mode::Ignore,
        "no_run" => options.mode = Mode::NoRun,
        "compile_fail" => options.mode = Mode::CompileFail,
        "should_panic" => options.should_panic = true,
        "network" => options.network = true,
        w if w
            .strip_prefix("edition")
            .is_some_and(|e| EDITIONS.contains(&e)) =>
        {
            options.edition = w["edition".len()..].to_owned();
        }
        _ => return false,
    }
    true
}

const EXPECTED_OPTIONS: &str = "expected `ignore`, `no_run`, `compile_fail`, `should_panic`, `network`, `edition = 2021`, `timeout = 5s`, `memory = 4GiB`, `processes = 512` or `disk = 2GiB`";

/// Options from a linked file's `// kiln: …` line, and the code to show
/// (the file without that line).
pub fn linked_options(
    source: &str,
    config: &SnippetConfig,
) -> Result<(SnippetOptions, String), String> {
    kiln_line(source, SnippetOptions::defaults(config))
}

/// Applies a `key = value` option.
fn apply_setting(options: &mut SnippetOptions, key: &str, value: &str) -> Result<(), String> {
    match key {
        "timeout" => {
            options.timeout =
                parse_duration(value).map_err(|e| format!("`// kiln:` option `timeout`: {e}"))?;
            if options.timeout.is_zero() {
                return Err("`// kiln:` option `timeout` must be longer than zero".into());
            }
        }
        "edition" if EDITIONS.contains(&value) => {
            options.edition = value.to_owned();
        }
        "memory" | "disk" => {
            let size = parse_size(value).map_err(|e| format!("`// kiln:` option `{key}`: {e}"))?;
            let least = if key == "memory" {
                MIN_MEMORY
            } else {
                MIN_DISK
            };
            if size < least {
                return Err(format!(
                    "`// kiln:` option `{key}`: `{value}` is too little; a run needs at least {} MiB",
                    least >> 20
                ));
            }
            if key == "memory" {
                options.memory = size;
            } else {
                options.disk = size;
            }
        }
        "processes" => {
            options.processes = value.parse().ok().filter(|&n: &u64| n > 0).ok_or_else(|| {
                format!("`// kiln:` option `processes`: `{value}` is not a number of processes")
            })?;
        }
        _ => {
            return Err(format!(
                "unknown `// kiln:` option `{key} = {value}`; {EXPECTED_OPTIONS}"
            ));
        }
    }
    Ok(())
}

/// Applies the options of a `// kiln: …` line among the first comment
/// lines of `source` to `options`; returns them and the code without that
/// line.
fn kiln_line(
    source: &str,
    mut options: SnippetOptions,
) -> Result<(SnippetOptions, String), String> {
    let options_line = source
        .lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with("//"))
        .position(|l| l.trim_start().starts_with("// kiln:"));
    let Some(index) = options_line else {
        return Ok((options, source.to_owned()));
    };
    let line = source.lines().nth(index).unwrap_or_default();
    let spec = line.trim_start().trim_start_matches("// kiln:");
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if let Some((key, value)) = item.split_once('=') {
            apply_setting(&mut options, key.trim(), value.trim()).map_err(|e| {
                e.replace(
                    &format!("`{} = {}`", key.trim(), value.trim()),
                    &format!("`{item}`"),
                )
            })?;
        } else if !apply_flag(&mut options, item) {
            return Err(format!(
                "unknown `// kiln:` option `{item}`; {EXPECTED_OPTIONS}"
            ));
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
    fn linked_option_lines() {
        let config = SnippetConfig::default();
        let (o, shown) = linked_options(
            "// kiln: should_panic, timeout = 5s\nfn main() {}\n",
            &config,
        )
        .unwrap();
        assert!(o.should_panic);
        assert_eq!(o.timeout, Duration::from_secs(5));
        assert_eq!(shown, "fn main() {}\n");
        let e = linked_options("// kiln: shuold_panic\nfn main() {}\n", &config).unwrap_err();
        assert!(
            e.contains("unknown `// kiln:` option `shuold_panic`"),
            "{e}"
        );
        let (o, _) =
            linked_options("//! Docs\n// kiln: compile_fail\nfn main() {}\n", &config).unwrap();
        assert_eq!(o.mode, Mode::CompileFail);
        let (o, _) = linked_options("fn main() {}\n// kiln: ignore\n", &config).unwrap();
        assert_eq!(o.mode, Mode::Run);
    }
}
