//! The HTTP edge every function shares: the reply and failure shapes, serving a request (tenant,
//! limits, headers), CORS, cookies, who the caller is, the answer of a sign-in, what a page stops with, and the OAuth provider's form-and-error edge.
//! A leaf: it knows no handler and no area.

pub mod access;
pub mod cookies;
pub mod cors;
pub mod http;
pub mod identity;
pub mod oauth_http;
pub mod page;
pub mod preflight;
pub mod signed_in;
