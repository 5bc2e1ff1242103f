//! kiln: a static site generator for knowledge-base articles whose Rust
//! snippets are compiled, run, and baked into the page.
//!
//! Data flows one way: [`config`] → [`content`] → [`route`] → [`render`] →
//! [`template`] → [`output`], driven by [`site`].

pub mod check;
pub mod config;
pub mod content;
pub mod error;
pub mod feed;
pub mod front_matter;
pub mod highlight;
pub mod output;
pub mod render;
pub mod route;
pub mod scaffold;
pub mod search;
pub mod serve;
pub mod site;
pub mod slug;
pub mod snippet;
pub mod template;
