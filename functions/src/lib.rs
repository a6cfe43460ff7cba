//! The Lambda functions: one binary per endpoint under `src/bin/` (a few lines each), the handlers
//! as modules named after their routes, the authorizer, and the HTTP edge they share.

pub mod cookies;
pub mod cors;
pub mod entry;
pub mod http;
pub mod identity;
pub mod routes;
pub mod runtime;

pub mod authorizer;
pub mod console_app_delete;
pub mod console_app_get;
pub mod console_app_update;
pub mod console_apps_create;
pub mod console_apps_list;
pub mod cors_preflight;
pub mod deletion_cancel;
pub mod deletion_confirm;
pub mod deletion_request;
pub mod deletion_status;
pub mod health;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod magic_link;
pub mod magic_link_verify;
pub mod mailer;
pub mod openapi;
pub mod openid_configuration;
pub mod password_change;
pub mod password_reset;
pub mod password_reset_confirm;
pub mod purge_accounts;
pub mod register;
pub mod resend_verification;
pub mod session_revoke;
pub mod sessions_list;
pub mod sessions_revoke_all;
pub mod token_refresh;
pub mod users_me;
pub mod users_me_audit;
pub mod users_me_update;
pub mod verify_email;
pub mod verify_token;
