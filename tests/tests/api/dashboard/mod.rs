//! The developer dashboard over HTTP and in Chromium.

mod browser;
pub(crate) mod pages;
