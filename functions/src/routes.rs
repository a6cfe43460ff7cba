//! The route table: method, path, function (binary) and whether the authorizer guards it.
//!
//! `infra/template.yaml` is the source of truth; this table and the `cargo lambda watch` router in
//! the workspace `Cargo.toml` are held to it by a test (`tests/tests/api/routes.rs`), so the three
//! never drift. `dispatch` runs a function's handler in-process, the way its binary would.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::App;

use crate::http::serve;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `Auth: {Authorizer: NONE}` in the template.
    Public,
    /// Behind the Lambda authorizer.
    Bearer,
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
    pub access: Access,
}

const fn route(method: &'static str, path: &'static str, function: &'static str, access: Access) -> Route {
    Route { method, path, function, access }
}

pub const ROUTES: &[Route] = &[
    route("POST", "/api/v1/auth/register", "register", Access::Public),
    route("POST", "/api/v1/auth/verify-email", "verify_email", Access::Public),
    route("POST", "/api/v1/auth/resend-verification", "resend_verification", Access::Public),
    route("POST", "/api/v1/auth/login", "login", Access::Public),
    route("GET", "/api/v1/auth/verify-token", "verify_token", Access::Bearer),
    route("GET", "/api/v1/users/me", "users_me", Access::Bearer),
    route("GET", "/api/v1/health", "health", Access::Public),
    route("GET", "/.well-known/jwks.json", "jwks", Access::Public),
    route("GET", "/.well-known/openid-configuration", "openid_configuration", Access::Public),
];

/// Functions that are not routes of their own.
pub const AUTHORIZER: &str = "authorizer";

/// The route a request's method and path select, if any.
pub fn find(method: &str, path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
}

/// Runs the named function's handler on a request, as its Lambda binary would. `None` for a name
/// that is not an HTTP function.
pub async fn dispatch(app: Arc<App>, function: &str, req: Request) -> Option<Response<Body>> {
    use crate::*;
    Some(match function {
        "register" => serve(app, req, register::handle).await,
        "verify_email" => serve(app, req, verify_email::handle).await,
        "resend_verification" => serve(app, req, resend_verification::handle).await,
        "login" => serve(app, req, login::handle).await,
        "verify_token" => serve(app, req, verify_token::handle).await,
        "users_me" => serve(app, req, users_me::handle).await,
        "health" => serve(app, req, health::handle).await,
        "jwks" => serve(app, req, jwks::handle).await,
        "openid_configuration" => serve(app, req, openid_configuration::handle).await,
        _ => return None,
    })
}
