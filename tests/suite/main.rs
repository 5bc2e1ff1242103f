//! The integration tests: one binary (linked once), a module per area, as
//! `just` and mdBook keep theirs. Each drives the real `kiln` binary on
//! sites made in temp folders. The fixture sites (`tests/fixtures.rs`,
//! one test per folder) are a binary of their own.

#[path = "../common/mod.rs"]
mod common;

mod authoring;
mod build;
mod crates;
mod errors;
mod incremental;
mod knowledge_repo;
mod properties;
mod publish;
mod python;
mod registry;
// The walls tested here are Linux's (namespaces, Landlock, cgroups).
#[cfg(target_os = "linux")]
mod sandbox;
mod snippet;
mod store;
mod up_to_date;
