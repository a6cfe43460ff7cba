//! The app's OAuth2/OpenID Connect provider: authorization with its sign-in and consent pages,
//! the token, introspection, revocation, userinfo and logout endpoints, and the metadata document.

pub mod authorize;
pub mod authorize_consent;
pub mod authorize_continue;
pub mod authorize_form;
pub mod authorize_login;
pub mod introspect;
pub mod logout;
pub mod logout_confirm;
pub mod metadata;
pub mod pages;
pub mod revoke;
pub mod token;
pub mod userinfo;
pub mod userinfo_form;
