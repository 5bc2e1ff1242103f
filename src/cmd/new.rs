//! `kiln new`.

use std::path::PathBuf;
use std::process::ExitCode;

use kiln::config::Config;
use kiln::scaffold::{NewArticle, new_article};

use super::{fail, site_root};

#[derive(clap::Args)]
pub struct Args {
    /// The article's title; its file name is made from it.
    title: String,
    /// Comma-separated tags.
    #[arg(long, value_delimiter = ',')]
    tags: Vec<String>,
    /// Also write `snippets/<slug>.rs`, linked from the article.
    #[arg(long)]
    snippet: bool,
    /// The site root.
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

pub fn run(args: Args) -> ExitCode {
    let root = site_root(args.root);
    let config = match Config::load(&root) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    let tags = args
        .tags
        .into_iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    let new = NewArticle {
        title: args.title,
        tags,
        snippet: args.snippet,
    };
    match new_article(&root, &config, &new) {
        Ok(written) => {
            for path in &written {
                println!("wrote {}", path.display());
            }
            // The hint names the site the user named.
            let root = if !root.as_os_str().is_empty() {
                format!(" --root {}", root.display())
            } else {
                String::new()
            };
            println!(
                "it is a draft: preview it with `kiln serve --drafts{root}`, and remove `draft: true` to publish it"
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}
