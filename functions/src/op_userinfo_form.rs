//! `POST /oauth/userinfo` (OIDC Core 5.3.1): as the GET, for clients that post. The token comes in
//! the `Authorization` header only; RFC 6750's form parameter would put it where logs and caches
//! look.

pub use crate::op_userinfo::handle;
