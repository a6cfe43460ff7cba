//! Social login: the service as the OAuth2 client of Google, Apple and GitHub (start, callback,
//! exchange, native tokens, linking), and a user's linked identities.

pub mod callback;
pub mod callback_form;
pub mod exchange;
pub mod identities_list;
pub mod identity_unlink;
pub mod link;
pub mod providers;
pub mod start;
pub mod token;
