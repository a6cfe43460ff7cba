//! The Lambda functions: one binary per endpoint under `src/bin/` (a few lines each), their
//! handlers as modules grouped by area, and the table that ties them together (`routes`).
//!
//! `docs/architecture.md` maps the folders and the rules between them (held by
//! `functions/tests/layers.rs`).

pub mod entry;
pub mod routes;
pub mod runtime;

pub mod account;
pub mod admin;
pub mod auth;
pub mod console;
pub mod dashboard;
pub mod discovery;
pub mod edge;
pub mod events;
pub mod mfa;
pub mod provider;
pub mod social;
