//! Tera page templates. kiln's defaults (the repo's own `templates/`) are
//! built into the binary; a site overrides any of them by keeping a file of
//! the same name in its `templates/` folder.

use std::path::Path;

use serde::Serialize;
use tera::{Context, Tera};
use walkdir::WalkDir;

use crate::error::{CAUSED_BY, Error, Errors, chain};

/// The folder under the site root that holds templates.
pub const TEMPLATE_DIR: &str = "templates";

/// kiln's own templates, by name: the pages, then every other file kiln
/// generates (each a template a site can override, as Zola's are).
const DEFAULTS: [(&str, &str); 13] = [
    ("base.html", include_str!("../templates/base.html")),
    ("article.html", include_str!("../templates/article.html")),
    (
        "article_list.html",
        include_str!("../templates/article_list.html"),
    ),
    ("index.html", include_str!("../templates/index.html")),
    ("tag.html", include_str!("../templates/tag.html")),
    ("tags.html", include_str!("../templates/tags.html")),
    ("author.html", include_str!("../templates/author.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("404.html", include_str!("../templates/404.html")),
    ("redirect.html", include_str!("../templates/redirect.html")),
    ("atom.xml", include_str!("../templates/atom.xml")),
    ("sitemap.xml", include_str!("../templates/sitemap.xml")),
    ("robots.txt", include_str!("../templates/robots.txt")),
];

/// The templates that are not `.html` files, which a site overrides by
/// keeping a file of the same name in `templates/`.
const OTHER_FILES: [&str; 3] = ["atom.xml", "sitemap.xml", "robots.txt"];

const DEFAULT_STYLE: &str = include_str!("../templates/style.css");

/// The loaded templates and the stylesheet.
#[derive(Debug)]
pub struct Templates {
    tera: Tera,
    /// `templates/style.css`, or kiln's own.
    pub style: String,
    /// A hash of every template and the stylesheet.
    pub fingerprint: String,
    /// For each template, a hash of it and every template it extends,
    /// includes or imports: all that its pages depend on, so that a change
    /// to a list page's template re-renders no article.
    fingerprints: std::collections::HashMap<String, String>,
}

impl Templates {
    /// Loads kiln's defaults, then every `*.html` under `<root>/templates`.
    /// Every broken template is reported.
    pub fn load(root: &Path) -> Result<Templates, Errors> {
        let dir = root.join(TEMPLATE_DIR);
        let mut sources: Vec<(String, String)> = DEFAULTS
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect();
        let mut errors = Vec::new();
        let mut style = DEFAULT_STYLE.to_owned();
        if dir.is_dir() {
            // Links are followed while they stay inside the site.
            let boundary = crate::boundary::Boundary::new(root);
            for entry in WalkDir::new(&dir).follow_links(true).sort_by_file_name() {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(e) => {
                        errors.push(Error::Read {
                            path: e.path().unwrap_or(&dir).to_owned(),
                            source: e.into(),
                        });
                        continue;
                    }
                };
                if let Err(error) = boundary.check_entry(&entry) {
                    errors.push(error);
                    continue;
                }
                let path = entry.path();
                let name = path
                    .strip_prefix(&dir)
                    .unwrap_or(path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                let is_template = path.extension().is_some_and(|e| e == "html")
                    || OTHER_FILES.contains(&name.as_str());
                let is_style = path == dir.join("style.css");
                if !entry.file_type().is_file() || !(is_template || is_style) {
                    continue;
                }
                let text = match std::fs::read_to_string(path) {
                    Ok(text) => text,
                    Err(source) => {
                        errors.push(Error::Read {
                            path: path.to_owned(),
                            source,
                        });
                        continue;
                    }
                };
                if is_style {
                    style = text;
                    continue;
                }
                match sources.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = text,
                    None => sources.push((name, text)),
                }
            }
        }
        if !errors.is_empty() {
            return Err(Errors(errors));
        }
        let mut tera = Tera::new();
        // Parse one by one first so that every broken template is named.
        for (name, text) in &sources {
            let mut alone = Tera::new();
            if let Err(e) = alone.add_raw_template(name, text)
                && matches!(e.kind(), tera::ErrorKind::SyntaxError(_))
            {
                errors.push(template_error(name, &e, &dir));
            }
        }
        if !errors.is_empty() {
            return Err(Errors(errors));
        }
        tera.add_raw_templates(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .map_err(|e| template_error("(all)", &e, &dir))?;
        let mut hasher = blake3::Hasher::new();
        for (name, text) in &sources {
            hasher
                .update(name.as_bytes())
                .update(b"\0")
                .update(text.as_bytes())
                .update(b"\0");
        }
        hasher.update(style.as_bytes());
        let fingerprint = hasher.finalize().to_hex().to_string();
        let fingerprints = sources
            .iter()
            .map(|(name, _)| (name.clone(), closure_fingerprint(&sources, name)))
            .collect();
        Ok(Templates {
            tera,
            style,
            fingerprint,
            fingerprints,
        })
    }

    /// A hash of the template `name` and the templates it uses.
    pub fn fingerprint_of(&self, name: &str) -> &str {
        self.fingerprints.get(name).map_or("", String::as_str)
    }

    /// Renders the template `name` with a context made of `values`.
    pub fn render<T: Serialize>(&self, name: &str, values: &T) -> Result<String, Error> {
        let context = Context::from_serialize(values).map_err(|e| Error::Template {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
        self.tera
            .render(name, &context)
            .map_err(|e| template_error(name, &e, Path::new(TEMPLATE_DIR)))
    }
}

/// A hash of the template `name` and of every template it names in an
/// `extends`, `include` or `import` tag, transitively. Any quoted name in
/// such a tag counts (a list of fallbacks included); were a tag's names not
/// all literal, a change would be missed, so every template then counts.
fn closure_fingerprint(sources: &[(String, String)], name: &str) -> String {
    let text_of = |name: &str| sources.iter().find(|(n, _)| n == name).map(|(_, t)| t);
    let mut seen: Vec<&str> = Vec::new();
    let mut todo = vec![name];
    let mut dynamic = false;
    while let Some(name) = todo.pop() {
        if seen.contains(&name) {
            continue;
        }
        let Some((name, text)) = sources.iter().find(|(n, _)| n == name) else {
            continue;
        };
        seen.push(name);
        for tag in text.split("{%").skip(1) {
            let tag = tag.split("%}").next().unwrap_or_default();
            let tag = tag.trim_start_matches('-').trim_start();
            if !["extends", "include", "import"]
                .iter()
                .any(|word| tag.starts_with(word))
            {
                continue;
            }
            let names: Vec<&str> = tag.split('"').skip(1).step_by(2).collect();
            dynamic |= names.is_empty();
            todo.extend(names.into_iter().filter(|n| text_of(n).is_some()));
        }
    }
    let mut hasher = blake3::Hasher::new();
    if dynamic {
        seen = sources.iter().map(|(n, _)| n.as_str()).collect();
    }
    seen.sort_unstable();
    for name in seen {
        let text = text_of(name).map(String::as_str).unwrap_or_default();
        hasher
            .update(name.as_bytes())
            .update(b"\0")
            .update(text.as_bytes())
            .update(b"\0");
    }
    hasher.finalize().to_hex().to_string()
}

fn template_error(name: &str, e: &tera::Error, dir: &Path) -> Error {
    let message = chain(e, CAUSED_BY);
    let shown = if dir.join(name).is_file() {
        dir.join(name).display().to_string()
    } else {
        name.to_owned()
    };
    Error::Template {
        name: shown,
        message: message.trim_start_matches("error: ").to_owned(),
    }
}
