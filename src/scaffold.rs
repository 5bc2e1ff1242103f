//! `kiln new`: a new article (and optionally its snippet) with valid front
//! matter, ready to build.

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
        tldr: "One sentence on what this article shows.",
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
    let write = |path: &Path, text: &str| -> Result<(), Error> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        // `create_new` so that a file appearing meanwhile is not clobbered.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()))
            .map_err(|source| Error::Write {
                path: path.to_owned(),
                source,
            })
    };
    if new.snippet {
        let code = format!(
            "//! The snippet of {title:?}: edit it, save, and the page shows what it prints.\n\nfn main() {{\n    let words = [\"compiled\", \"run\", \"shown\"];\n    println!(\"This snippet was {{}}.\", words.join(\", \"));\n}}\n"
        );
        write(&snippet_path, &code)?;
    }
    write(&article_path, &body)?;
    Ok(targets)
}

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
