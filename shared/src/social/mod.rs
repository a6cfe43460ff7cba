//! Social login (contract: "Social login"): the service is an OAuth2 client of Google, Apple and
//! GitHub. This module holds the flow (start, callback), the accounts it signs in or creates, and
//! the providers' configuration; `oidc` verifies ID tokens, `http` is the HTTP client the `oauth2`
//! crate sends its requests through.
//!
//! `state` is 256 random bits, stored only as its SHA-256 with what the callback needs (the PKCE
//! verifier, the nonce, the provider, `redirect_to`), consumed by a conditional delete (single
//! use, 10 minutes), and bound to the browser by an HttpOnly cookie holding it: a callback whose
//! browser does not hold the state it presents is refused (login CSRF).

pub mod http;
pub mod oidc;

mod accounts;
mod flow;
mod setup;

pub use crate::config::SocialConfig;
pub use crate::model::{CodeRecord, ProviderId, StateRecord};
pub use accounts::{account, identities, unlink};
pub use flow::{
    CODE_LIFETIME, Finished, NativeGrant, ProviderAnswer, Started, callback, exchange, native, redeem, start,
    start_link,
};
pub use setup::{IdTokenField, Setup, apple_key_is_usable, callback_url, configured, sealing_context};

/// What the provider vouches for about the person signing in.
#[derive(Debug, Clone)]
pub struct ProviderProfile {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Google's `hd`: the Workspace domain that manages the account.
    pub hosted_domain: Option<String>,
}

impl ProviderProfile {
    /// Whether the provider is authoritative for the address it vouches for: it runs the mailbox,
    /// so its word may join a sign-in to the account that has the address. Google runs
    /// `@gmail.com`/`@googlemail.com` and the addresses of the Workspace domain its token names
    /// (`hd`); Apple its relay and the addresses it verified. GitHub verified that someone could
    /// read mail at the address once, which anyone who later controls it can do again.
    pub fn authoritative_for(&self, provider: ProviderId, email: &crate::domain::Email) -> bool {
        let domain =
            email.normalized().rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
        match provider {
            ProviderId::Google => {
                matches!(domain.as_str(), "gmail.com" | "googlemail.com")
                    || self.hosted_domain.as_deref().is_some_and(|hd| hd.eq_ignore_ascii_case(&domain))
            }
            ProviderId::Apple => self.email_verified,
            ProviderId::GitHub => false,
        }
    }
}
