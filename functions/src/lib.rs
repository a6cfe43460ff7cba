//! The Lambda functions: one binary per endpoint under `src/bin/` (a few lines each), the handlers
//! as modules named after their routes, the authorizer, and the HTTP edge they share.

pub mod cookies;
pub mod http;
pub mod identity;
pub mod routes;
pub mod runtime;

pub mod authorizer;
pub mod health;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod openid_configuration;
pub mod register;
pub mod resend_verification;
pub mod session_revoke;
pub mod sessions_list;
pub mod sessions_revoke_all;
pub mod token_refresh;
pub mod users_me;
pub mod users_me_update;
pub mod verify_email;
pub mod verify_token;
