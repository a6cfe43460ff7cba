//! The developer dashboard over HTTP and in Chromium.

mod browser;
mod pages;
