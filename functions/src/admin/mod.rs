//! The management API: the app's backend (a secret key) or its owner (a console session)
//! managing the app's users and reading its audit trail.

pub mod audit;
pub mod user_delete;
pub mod user_get;
pub mod user_mfa_reset;
pub mod user_password_reset;
pub mod user_sessions_revoke;
pub mod user_update;
pub mod users_create;
pub mod users_list;
