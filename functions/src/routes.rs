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
    route("POST", "/api/v1/auth/token/refresh", "token_refresh", Access::Public),
    route("POST", "/api/v1/auth/logout", "logout", Access::Bearer),
    route("GET", "/api/v1/auth/sessions", "sessions_list", Access::Bearer),
    route("DELETE", "/api/v1/auth/sessions", "sessions_revoke_all", Access::Bearer),
    route("DELETE", "/api/v1/auth/sessions/{id}", "session_revoke", Access::Bearer),
    route("GET", "/api/v1/auth/verify-token", "verify_token", Access::Bearer),
    route("GET", "/api/v1/users/me", "users_me", Access::Bearer),
    route("PATCH", "/api/v1/users/me", "users_me_update", Access::Bearer),
    route("POST", "/api/v1/auth/password/reset", "password_reset", Access::Public),
    route("POST", "/api/v1/auth/password/reset/confirm", "password_reset_confirm", Access::Public),
    route("POST", "/api/v1/auth/password/change", "password_change", Access::Bearer),
    route("POST", "/api/v1/auth/magic-link", "magic_link", Access::Public),
    route("POST", "/api/v1/auth/magic-link/verify", "magic_link_verify", Access::Public),
    route("POST", "/api/v1/account/deletion", "deletion_request", Access::Bearer),
    route("POST", "/api/v1/account/deletion/confirm", "deletion_confirm", Access::Public),
    route("POST", "/api/v1/account/deletion/cancel", "deletion_cancel", Access::Public),
    route("GET", "/api/v1/account/deletion", "deletion_status", Access::Bearer),
    route("GET", "/api/v1/users/me/audit", "users_me_audit", Access::Bearer),
    route("GET", "/api/v1/health", "health", Access::Public),
    route("GET", "/api/v1/openapi.json", "openapi", Access::Public),
    route("GET", "/.well-known/jwks.json", "jwks", Access::Public),
    route("GET", "/.well-known/openid-configuration", "openid_configuration", Access::Public),
    // Every path's CORS preflight. `cargo lambda watch` answers preflights itself, so this route is
    // the one the router in Cargo.toml leaves out.
    route("OPTIONS", "/{proxy+}", "cors_preflight", Access::Public),
];

/// Functions that are not routes of their own.
pub const AUTHORIZER: &str = "authorizer";
/// The outbox's mailer, fed by the table's stream.
pub const MAILER: &str = "mailer";

/// The route a request's method and path select, and the path parameters (`{id}`) it binds.
pub fn find(method: &str, path: &str) -> Option<(&'static Route, Vec<(String, String)>)> {
    ROUTES.iter().filter(|r| r.method.eq_ignore_ascii_case(method)).find_map(|r| {
        let pattern: Vec<&str> = r.path.split('/').collect();
        let actual: Vec<&str> = path.split('/').collect();
        let greedy = pattern.last().is_some_and(|p| p.ends_with("+}"));
        if pattern.len() != actual.len() && !(greedy && actual.len() >= pattern.len()) {
            return None;
        }
        let mut params = Vec::new();
        for (p, a) in pattern.iter().zip(&actual) {
            // `{name+}`: the rest of the path, one or more segments (API Gateway's greedy variable).
            if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
                let rest = actual[pattern.len() - 1..].join("/");
                if rest.is_empty() {
                    return None;
                }
                params.push((name.to_owned(), rest));
                return Some((r, params));
            }
            match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if !a.is_empty() => params.push((name.to_owned(), (*a).to_owned())),
                Some(_) => return None,
                None if p != a => return None,
                None => {}
            }
        }
        Some((r, params))
    })
}

/// Runs the named function's handler on a request, as its Lambda binary would. `None` for a name
/// that is not an HTTP function.
pub async fn dispatch(app: Arc<App>, function: &str, req: Request) -> Option<Response<Body>> {
    // The AWS calls of the handler are recorded for its function, as its own binary's would be.
    let name = ROUTES.iter().map(|r| r.function).find(|f| *f == function)?;
    // Boxed: the handlers' futures are large, and the scope would otherwise hold one more copy on
    // the stack of whoever awaits this (a test thread's 2 MiB overflowed).
    shared::iam::as_function(name, Box::pin(run(app, name, req))).await
}

async fn run(app: Arc<App>, function: &str, req: Request) -> Option<Response<Body>> {
    use crate::*;
    Some(match function {
        "register" => serve(app, req, register::handle).await,
        "verify_email" => serve(app, req, verify_email::handle).await,
        "resend_verification" => serve(app, req, resend_verification::handle).await,
        "login" => serve(app, req, login::handle).await,
        "token_refresh" => serve(app, req, token_refresh::handle).await,
        "logout" => serve(app, req, logout::handle).await,
        "sessions_list" => serve(app, req, sessions_list::handle).await,
        "sessions_revoke_all" => serve(app, req, sessions_revoke_all::handle).await,
        "session_revoke" => serve(app, req, session_revoke::handle).await,
        "users_me_update" => serve(app, req, users_me_update::handle).await,
        "verify_token" => serve(app, req, verify_token::handle).await,
        "users_me" => serve(app, req, users_me::handle).await,
        "password_reset" => serve(app, req, password_reset::handle).await,
        "password_reset_confirm" => serve(app, req, password_reset_confirm::handle).await,
        "password_change" => serve(app, req, password_change::handle).await,
        "magic_link" => serve(app, req, magic_link::handle).await,
        "magic_link_verify" => serve(app, req, magic_link_verify::handle).await,
        "deletion_request" => serve(app, req, deletion_request::handle).await,
        "deletion_confirm" => serve(app, req, deletion_confirm::handle).await,
        "deletion_cancel" => serve(app, req, deletion_cancel::handle).await,
        "deletion_status" => serve(app, req, deletion_status::handle).await,
        "users_me_audit" => serve(app, req, users_me_audit::handle).await,
        "health" => serve(app, req, health::handle).await,
        "openapi" => serve(app, req, openapi::handle).await,
        "cors_preflight" => serve(app, req, cors_preflight::handle).await,
        "jwks" => serve(app, req, jwks::handle).await,
        "openid_configuration" => serve(app, req, openid_configuration::handle).await,
        _ => return None,
    })
}
