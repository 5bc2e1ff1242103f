//! What cargo and rustc see: the package variables cargo sets for a
//! doctest, given to every snippet compile, and the cleaned environment
//! cargo (with the dependencies' build scripts) runs with.

use std::path::Path;

use super::SNIPPET_DIR;

/// What cargo sets for a package's code at compile time (`CARGO_PKG_*`,
/// `CARGO_MANIFEST_DIR`), from `snippets/Cargo.toml`'s `[package]` where
/// there is one, as `cargo test --doc` sets it for doctests.
pub fn package_env(root: &Path) -> Vec<(String, String)> {
    let dir =
        std::path::absolute(root.join(SNIPPET_DIR)).unwrap_or_else(|_| root.join(SNIPPET_DIR));
    let manifest = dir.join("Cargo.toml");
    let table: toml::Table = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_default();
    let package = table.get("package").and_then(|p| p.as_table());
    let field = |name: &str| {
        package
            .and_then(|p| p.get(name))
            .map(|v| match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(":"),
                _ => String::new(),
            })
            .unwrap_or_default()
    };
    let name = Some(field("name"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "snippets".into());
    let version = Some(field("version"))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "0.0.0".into());
    let (core, pre) = version.split_once('-').unwrap_or((&version, ""));
    let mut numbers = core.split('.');
    let mut env = vec![
        ("CARGO_PKG_NAME".to_owned(), name),
        ("CARGO_PKG_VERSION".to_owned(), version.clone()),
    ];
    for part in ["MAJOR", "MINOR", "PATCH"] {
        env.push((
            format!("CARGO_PKG_VERSION_{part}"),
            numbers.next().unwrap_or("0").to_owned(),
        ));
    }
    env.push(("CARGO_PKG_VERSION_PRE".to_owned(), pre.to_owned()));
    for (key, name) in [
        ("AUTHORS", "authors"),
        ("DESCRIPTION", "description"),
        ("HOMEPAGE", "homepage"),
        ("REPOSITORY", "repository"),
        ("LICENSE", "license"),
        ("LICENSE_FILE", "license-file"),
        ("RUST_VERSION", "rust-version"),
        ("README", "readme"),
    ] {
        env.push((format!("CARGO_PKG_{key}"), field(name)));
    }
    env.push(("CARGO_MANIFEST_DIR".to_owned(), dir.display().to_string()));
    env.push((
        "CARGO_MANIFEST_PATH".to_owned(),
        manifest.display().to_string(),
    ));
    env
}

/// The variables cargo (and so the dependencies' build scripts, which run
/// outside the sandbox) may see: what it needs to find its toolchain,
/// reach its registries and honour its settings, and no secret of the
/// builder's (registry tokens included: keep them in cargo's credentials
/// file).
pub fn cargo_environment() -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    const NAMES: [&str; 16] = [
        "PATH",
        "HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "RUSTC",
        "RUSTC_WRAPPER",
        "LANG",
        "TZ",
        "TMPDIR",
        "SOURCE_DATE_EPOCH",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
    ];
    const PREFIXES: [&str; 6] = [
        "LC_",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_BUILD_",
        "CARGO_REGISTRIES_",
        "CARGO_SOURCE_",
    ];
    std::env::vars_os()
        .filter(|(name, _)| {
            let Some(name) = name.to_str() else {
                return false;
            };
            let upper = name.to_ascii_uppercase();
            let secret = upper.ends_with("_TOKEN") || upper.contains("CREDENTIAL");
            !secret
                && (NAMES.contains(&upper.as_str())
                    || upper == "ALL_PROXY"
                    || PREFIXES.iter().any(|p| upper.starts_with(p)))
        })
        .collect()
}
