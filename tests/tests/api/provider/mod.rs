//! The app's OAuth2/OpenID Connect provider: authorization and its pages, the token side, a
//! certified relying party.

pub(crate) mod authorize;
mod relying_party;
mod token;
