//! The console API: apps and their settings, OAuth clients.

mod apps;
mod oauth_clients;
