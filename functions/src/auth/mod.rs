//! Signing up and in: registration and verification, password and magic-link login, refresh,
//! sessions, logout, password reset and change, and the token check.

pub mod login;
pub mod logout;
pub mod magic_link;
pub mod magic_link_verify;
pub mod password_change;
pub mod password_reset;
pub mod password_reset_confirm;
pub mod register;
pub mod resend_verification;
pub mod session_revoke;
pub mod sessions_list;
pub mod sessions_revoke_all;
pub mod token_refresh;
pub mod verify_email;
pub mod verify_token;
