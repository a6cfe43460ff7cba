//! Social login against the local OpenID Providers, per app, and in a real browser.

mod browser;
mod flow;
mod social_apps;
