//! `kiln new`: a new article (and optionally its snippet) with valid front
//! matter, ready to build; `kiln init`: a new knowledge base.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Config;
use crate::error::Error;
use crate::slug::slugify;
use crate::snippet::SNIPPET_DIR;

/// What `kiln new` was asked for.
#[derive(Debug, Clone)]
pub struct NewArticle {
    pub title: String,
    pub tags: Vec<String>,
    /// Also write a snippet the article links to.
    pub snippet: bool,
}

#[derive(Serialize)]
struct FrontMatterOut<'a> {
    title: &'a str,
    authors: Vec<String>,
    tags: &'a [String],
    created_at: String,
    updated_at: String,
    tldr: &'a str,
    /// A new article is a draft until its author says otherwise: its
    /// placeholders are never published by accident.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    draft: bool,
}

/// Writes `content/<slug>.md` (and `snippets/<slug>.rs`), refusing to
/// overwrite anything. Returns the files written.
pub fn new_article(root: &Path, config: &Config, new: &NewArticle) -> Result<Vec<PathBuf>, Error> {
    let title = new.title.trim();
    if title.is_empty() {
        return Err(Error::EmptyTitle);
    }
    let slug = slugify(title, "article");
    let article_path = root.join(&config.content_dir).join(format!("{slug}.md"));
    let snippet_name = format!("{}.rs", slug.replace('-', "_"));
    let snippet_path = root.join(SNIPPET_DIR).join(&snippet_name);
    let mut targets = vec![article_path.clone()];
    if new.snippet {
        targets.push(snippet_path.clone());
    }
    for target in &targets {
        if target.exists() {
            return Err(Error::Exists {
                path: target.clone(),
            });
        }
    }
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    let authors = git_user_name(root)
        .map(|name| vec![name])
        .unwrap_or_else(|| config.authors.clone());
    let front = FrontMatterOut {
        title,
        authors,
        tags: &new.tags,
        created_at: now.clone(),
        updated_at: now,
        tldr: crate::content::PLACEHOLDER_TLDR,
        draft: true,
    };
    let yaml = yaml_serde::to_string(&front).map_err(|source| Error::Write {
        path: article_path.clone(),
        source: std::io::Error::other(source),
    })?;
    let mut body = format!("---\n{yaml}---\n\n[TOC]\n\n## Overview\n\nWrite the article here.\n");
    if new.snippet {
        body.push_str(&format!(
            "\nThe snippet below is compiled and run when the site is built; its output appears under it.\n\n[{snippet_name}](../{SNIPPET_DIR}/{snippet_name})\n"
        ));
    }
    if new.snippet {
        let code = format!(
            "//! The snippet of {title:?}: edit it, save, and the page shows what it prints.\n\nfn main() {{\n    let words = [\"compiled\", \"run\", \"shown\"];\n    println!(\"This snippet was {{}}.\", words.join(\", \"));\n}}\n"
        );
        write(&snippet_path, &code)?;
    }
    write(&article_path, &body)?;
    Ok(targets)
}

/// Writes a new file, making its folder; `create_new`, so that a file
/// appearing meanwhile is not clobbered.
fn write(path: &Path, text: &str) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| Error::Write {
            path: parent.to_owned(),
            source,
        })?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()))
        .map_err(|source| Error::Write {
            path: path.to_owned(),
            source,
        })
}

/// What `kiln init` did: the files it wrote and those already there,
/// which it kept as they were.
#[derive(Debug, Default)]
pub struct Initialized {
    pub written: Vec<PathBuf>,
    pub kept: Vec<PathBuf>,
}

/// Starts a knowledge base in `dir` (made if missing): `kiln.toml` titled
/// `title`, a first article whose linked snippet passes, the snippets'
/// `Cargo.toml`, a `.gitignore` for what builds write, and a workflow that
/// checks and publishes the site on GitHub Pages. A file already there is
/// kept as it is.
pub fn init_site(dir: &Path, title: &str) -> Result<Initialized, Error> {
    let title = title.trim();
    if title.is_empty() {
        return Err(Error::EmptyTitle);
    }
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let toml_title = toml::Value::String(title.to_owned()).to_string();
    let files = [
        (
            crate::config::CONFIG_FILE.to_owned(),
            format!(
                "# Every setting has a default; the configuration article of kiln's guide lists them all.\ntitle = {toml_title}\ndescription = \"\"\n# base_url = \"https://example.org/kb/\"\n"
            ),
        ),
        (
            "content/welcome.md".to_owned(),
            format!(
                "---\ntitle: Welcome\ncreated_at: {today}\ntags: [kiln]\ntldr: What a kiln knowledge base is, and how to write its articles.\n---\n\n[TOC]\n\n## Articles\n\nEach article is a Markdown file under `content/` with a YAML header. `kiln new \"Title\"` writes one; `kiln serve` shows it as you type.\n\n## Code that runs\n\nA link to a file under `snippets/`, alone in its paragraph, is compiled and run when the site is built, and what it printed appears under it:\n\n[hello.rs](../snippets/hello.rs)\n"
            ),
        ),
        (
            "snippets/hello.rs".to_owned(),
            "fn main() {\n    let parts = [\"compiled\", \"run\", \"shown\"];\n    println!(\"This snippet was {}.\", parts.join(\", \"));\n}\n".to_owned(),
        ),
        (
            crate::snippet::MANIFEST.to_owned(),
            "# The crates snippets may use: add them under [dependencies] (such as\n# serde_json = \"1\"); kiln builds them once with cargo and caches them.\n[package]\nname = \"snippets\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n".to_owned(),
        ),
        (
            ".gitignore".to_owned(),
            "# What kiln builds: the site and its caches.\n/public/\n/.kiln-cache/\n".to_owned(),
        ),
        (
            ".github/workflows/kiln.yml".to_owned(),
            PAGES_WORKFLOW.to_owned(),
        ),
    ];
    let mut done = Initialized::default();
    for (rel, text) in files {
        let path = dir.join(&rel);
        if path.exists() {
            done.kept.push(path);
        } else {
            write(&path, &text)?;
            done.written.push(path);
        }
    }
    Ok(done)
}

/// A workflow that checks the knowledge base on every push and pull
/// request and publishes it on GitHub Pages from `main`.
const PAGES_WORKFLOW: &str = include_str!("../templates/init/kiln.yml");

/// `git config user.name`, if git is there and has one.
fn git_user_name(root: &Path) -> Option<String> {
    let dir = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    };
    let output = std::process::Command::new("git")
        .args(["config", "user.name"])
        .current_dir(dir)
        .output()
        .ok()?;
    let name = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !name.is_empty()).then_some(name)
}
