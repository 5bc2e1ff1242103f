//! kiln: a static site generator for knowledge-base articles whose Rust
//! snippets are compiled, run, and baked into the page.
//!
//! Data flows one way: [`config`] → [`content`] (with [`front_matter`] and
//! [`markdown`], reading nothing outside the [`boundary`]) → [`route`] → [`snippet`] → [`render`] (with
//! [`highlight`]) → [`template`] → [`output`], driven by [`site`], which
//! prepares a site once for `build` and `check` ([`link`] checks its links).
//! [`serve`] and [`scaffold`] sit on top.

pub mod boundary;
pub mod config;
pub mod content;
pub mod error;
pub mod feed;
pub mod front_matter;
pub mod highlight;
pub mod link;
pub mod markdown;
pub mod output;
pub mod render;
pub mod route;
pub mod scaffold;
pub mod search;
pub mod serve;
pub mod site;
pub mod slug;
pub mod snippet;
pub mod store;
pub mod template;
pub mod thumbnail;
