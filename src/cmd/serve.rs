//! `kiln serve`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use kiln::serve::{ServeOptions, serve};

use super::{fail, site_root};

#[derive(clap::Args)]
pub struct Args {
    /// The site root.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// The port; 0 picks a free one.
    #[arg(long, default_value_t = 1111)]
    port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Open the site in a browser.
    #[arg(long)]
    open: bool,
    /// Also publish articles marked `draft: true`.
    #[arg(long)]
    drafts: bool,
    /// Also publish Knowledge Repo posts marked `private: true`.
    #[arg(long)]
    private: bool,
}

pub fn run(args: Args) -> ExitCode {
    let options = ServeOptions {
        root: site_root(args.root),
        drafts: args.drafts,
        private: args.private,
        bind: args.bind,
        port: args.port,
        open: args.open,
    };
    match serve(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}
