//! The service as an OAuth2 / OpenID Connect provider for each app (contract: "The OAuth2 /
//! OpenID Connect provider"): third-party clients of an app send its users here to sign in and
//! consent, and call the app's API with the tokens they get. `clients` holds the clients the
//! app's developer registers.

pub mod authorize;
pub mod browser;
pub mod clients;
pub mod grants;
pub mod metadata;
pub mod protocol;
pub mod token;
