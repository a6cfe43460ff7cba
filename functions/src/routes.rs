//! Every endpoint, declared once: its function (binary), method, path, who may call it, whether
//! every app serves it (at `path` and `/apps/{app_id}` + `path`) or the service once, and what its
//! function warms at a cold start. From this one table come the route table (`routes()`), the
//! in-process dispatch (`dispatch`, used by the tests and the bench), each binary's entry
//! (`entry::<function>`) and the caller check in front of every protected handler.
//!
//! `infra/template.yaml`, the `cargo lambda watch` router in the workspace `Cargo.toml`, the binaries
//! under `src/bin` and `docs/openapi.yaml` are held to `routes()` by tests (`tests/tests/api/contract.rs`).

use std::sync::{Arc, OnceLock};

use lambda_http::{Body, Request, Response};
use shared::App;
use shared::caller::Accepts;

use crate::http::serve;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: `Auth: {Authorizer: NONE}` in the template.
    Public,
    /// Behind the Lambda authorizer; the edge hands the handler a `Caller` it accepts, and answers
    /// 401 (no credential of the route's app), 403 (another kind of caller, or a missing scope)
    /// itself.
    Caller(Accepts),
    /// Behind the authorizer, but a caller is optional: the handler also takes another proof (the
    /// cancel link of `GET /account/deletion`). A credential that is sent must be valid.
    OptionalCaller(Accepts),
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
    pub access: Access,
}

impl Route {
    /// Served without the authorizer.
    pub fn is_public(&self) -> bool {
        self.access == Access::Public
    }
}

/// The arguments a handler of each kind of access receives beyond `(app, req, cx)`.
macro_rules! handler_call {
    (public, $f:ident, $app:ident, $req:ident, $cx:ident) => {
        crate::$f::handle($app, $req, $cx).await
    };
    (sessions, $f:ident, $app:ident, $req:ident, $cx:ident) => {{
        let caller = crate::identity::caller(&$app, &$cx, &$req, Accepts::SESSIONS).await?;
        crate::$f::handle($app, $req, $cx, caller).await
    }};
    (admin, $f:ident, $app:ident, $req:ident, $cx:ident) => {{
        let caller =
            crate::identity::limited_caller(&$app, &$cx, &$req, Accepts::ADMIN, Route::Admin).await?;
        crate::$f::handle($app, $req, $cx, caller).await
    }};
    (console, $f:ident, $app:ident, $req:ident, $cx:ident) => {{
        let caller =
            crate::identity::limited_caller(&$app, &$cx, &$req, Accepts::SESSIONS, Route::Console).await?;
        crate::$f::handle($app, $req, $cx, caller).await
    }};
    (profile, $f:ident, $app:ident, $req:ident, $cx:ident) => {{
        let caller = crate::identity::caller(&$app, &$cx, &$req, Accepts::PROFILE).await?;
        crate::$f::handle($app, $req, $cx, caller).await
    }};
    (token_check, $f:ident, $app:ident, $req:ident, $cx:ident) => {{
        let caller = crate::identity::caller(&$app, &$cx, &$req, Accepts::TOKEN_CHECK).await?;
        crate::$f::handle($app, $req, $cx, caller).await
    }};
    (system_read, $f:ident, $app:ident, $req:ident, $cx:ident) => {{
        // Each request asks every dependency: a caller's count keeps that from being a lever.
        let caller =
            crate::identity::limited_caller(&$app, &$cx, &$req, Accepts::SYSTEM_READ, Route::HealthDetailed)
                .await?;
        crate::$f::handle($app, $req, $cx, caller).await
    }};
    (optional_session, $f:ident, $app:ident, $req:ident, $cx:ident) => {{
        let caller = crate::identity::optional_caller(&$app, &$cx, &$req, Accepts::SESSIONS).await?;
        crate::$f::handle($app, $req, $cx, caller).await
    }};
}

macro_rules! access_of {
    (public) => {
        Access::Public
    };
    (sessions) => {
        Access::Caller(Accepts::SESSIONS)
    };
    (optional_session) => {
        Access::OptionalCaller(Accepts::SESSIONS)
    };
    (admin) => {
        Access::Caller(Accepts::ADMIN)
    };
    (system_read) => {
        Access::Caller(Accepts::SYSTEM_READ)
    };
    (profile) => {
        Access::Caller(Accepts::PROFILE)
    };
    (token_check) => {
        Access::Caller(Accepts::TOKEN_CHECK)
    };
    (console) => {
        Access::Caller(Accepts::SESSIONS)
    };
}

/// The `/apps/{app_id}` form of a path served for every app; none for a service-wide one.
macro_rules! app_path_of {
    (every_app, $path:literal) => {
        Some(concat!("/apps/{app_id}", $path))
    };
    (service, $path:literal) => {
        None
    };
}

/// One endpoint as declared: its route at `path` and, for every app's routes, the same at
/// `/apps/{app_id}` + `path` (contract, "One rule for paths").
struct Endpoint {
    route: Route,
    app_path: Option<&'static str>,
}

/// A row is one function: its routes (`method path`, several joined by `|` for a function that
/// routes in-process, like the dashboard), who may call it, where it is served, what it warms.
macro_rules! endpoints {
    ($($function:ident: $($method:literal $path:literal)|+, $access:ident, $scope:ident, warm $warm:ident;)*) => {
        const ENDPOINTS: &[Endpoint] = &[
            $($(Endpoint {
                route: Route { method: $method, path: $path, function: stringify!($function), access: access_of!($access) },
                app_path: app_path_of!($scope, $path),
            },)+)*
        ];

        /// Each endpoint's handler behind its caller check, in the one shape the edge runs.
        pub mod handlers {
            use std::sync::Arc;

            use lambda_http::Request;
            use shared::App;
            #[allow(unused_imports)]
            use shared::caller::Accepts;
            #[allow(unused_imports)]
            use shared::ratelimit::Route;
            use shared::error::Result;

            use crate::http::{Cx, Reply};

            $(
                pub async fn $function(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
                    handler_call!($access, $function, app, req, cx)
                }
            )*
        }

        /// Each function's `main`, compiled here once (see `entry`).
        pub mod entries {
            use crate::runtime::{Main, run_http, warm};

            $(
                #[doc = concat!("`", stringify!($function), "`:", $(" ", $method, " ", $path,)+ ".")]
                pub fn $function() -> Main<lambda_http::Error> {
                    shared::iam::set_process_function(stringify!($function));
                    run_http(super::handlers::$function, warm::$warm)
                }
            )*
        }

        async fn run(app: Arc<App>, function: &str, req: Request) -> Option<Response<Body>> {
            Some(match function {
                // Each boxed: the future of `run` is then as small as a pointer, whatever the largest
                // handler's (a test thread has 2 MiB of stack).
                $(stringify!($function) => Box::pin(serve(app, req, handlers::$function)).await,)*
                _ => return None,
            })
        }
    };
}

endpoints! {
    register: "POST" "/api/v1/auth/register", public, every_app, warm nothing;
    verify_email: "POST" "/api/v1/auth/verify-email", public, every_app, warm store;
    resend_verification: "POST" "/api/v1/auth/resend-verification", public, every_app, warm store;
    login: "POST" "/api/v1/auth/login", public, every_app, warm login;
    token_refresh: "POST" "/api/v1/auth/token/refresh", public, every_app, warm keys_and_store;
    logout: "POST" "/api/v1/auth/logout", sessions, every_app, warm public_keys;
    sessions_list: "GET" "/api/v1/auth/sessions", sessions, every_app, warm public_keys;
    sessions_revoke_all: "DELETE" "/api/v1/auth/sessions", sessions, every_app, warm public_keys;
    session_revoke: "DELETE" "/api/v1/auth/sessions/{id}", sessions, every_app, warm public_keys;
    verify_token: "GET" "/api/v1/auth/verify-token", token_check, every_app, warm public_keys;
    users_me: "GET" "/api/v1/users/me", profile, every_app, warm public_keys;
    users_me_update: "PATCH" "/api/v1/users/me", sessions, every_app, warm public_keys;
    password_reset: "POST" "/api/v1/auth/password/reset", public, every_app, warm store;
    password_reset_confirm: "POST" "/api/v1/auth/password/reset/confirm", public, every_app, warm store;
    password_change: "POST" "/api/v1/auth/password/change", sessions, every_app, warm public_keys;
    magic_link: "POST" "/api/v1/auth/magic-link", public, every_app, warm store;
    magic_link_verify: "POST" "/api/v1/auth/magic-link/verify", public, every_app, warm keys_and_store;
    deletion_request: "POST" "/api/v1/account/deletion", sessions, every_app, warm public_keys;
    deletion_confirm: "POST" "/api/v1/account/deletion/confirm", public, every_app, warm store;
    deletion_cancel: "POST" "/api/v1/account/deletion/cancel", public, every_app, warm store;
    deletion_status: "GET" "/api/v1/account/deletion", optional_session, every_app, warm public_keys;
    users_me_audit: "GET" "/api/v1/users/me/audit", sessions, every_app, warm public_keys;
    // End-users' API keys: made and managed by the user's sessions only.
    api_keys_create: "POST" "/api/v1/auth/api-keys", sessions, every_app, warm public_keys;
    api_keys_list: "GET" "/api/v1/auth/api-keys", sessions, every_app, warm public_keys;
    api_key_revoke: "DELETE" "/api/v1/auth/api-keys/{id}", sessions, every_app, warm public_keys;
    api_key_rotate: "POST" "/api/v1/auth/api-keys/{id}/rotate", sessions, every_app, warm public_keys;
    // Social login: the service is the OAuth2 client of Google, Apple and GitHub.
    // The app's OAuth2 provider (RFC 6749 answers, not the envelope).
    op_token: "POST" "/oauth/token", public, every_app, warm keys_and_store;
    op_introspect: "POST" "/oauth/introspect", public, every_app, warm public_keys;
    op_revoke: "POST" "/oauth/revoke", public, every_app, warm public_keys;
    op_metadata: "GET" "/.well-known/oauth-authorization-server", public, every_app, warm public_keys;
    op_authorize: "GET" "/oauth/authorize", public, every_app, warm keys_and_store;
    op_authorize_form: "POST" "/oauth/authorize", public, every_app, warm keys_and_store;
    op_authorize_login: "POST" "/oauth/authorize/login", public, every_app, warm keys_and_store;
    op_authorize_consent: "POST" "/oauth/authorize/consent", public, every_app, warm public_keys;
    op_authorize_continue: "GET" "/oauth/authorize/continue", public, every_app, warm keys_and_store;
    op_userinfo: "GET" "/oauth/userinfo", public, every_app, warm public_keys;
    op_userinfo_form: "POST" "/oauth/userinfo", public, every_app, warm public_keys;
    op_logout: "GET" "/oauth/logout", public, every_app, warm public_keys;
    op_logout_confirm: "POST" "/oauth/logout", public, every_app, warm store;
    // A user's connected apps (consents to the app's OAuth clients): sessions only.
    consents_list: "GET" "/api/v1/auth/consents", sessions, every_app, warm public_keys;
    consent_revoke: "DELETE" "/api/v1/auth/consents/{client_id}", sessions, every_app, warm public_keys;
    oauth_providers: "GET" "/api/v1/auth/oauth/providers", public, every_app, warm nothing;
    oauth_start: "GET" "/api/v1/auth/oauth/{provider}", public, every_app, warm store;
    oauth_callback: "GET" "/api/v1/auth/oauth/{provider}/callback", public, every_app, warm keys_and_store;
    oauth_callback_form: "POST" "/api/v1/auth/oauth/{provider}/callback", public, every_app, warm keys_and_store;
    oauth_exchange: "POST" "/api/v1/auth/oauth/exchange", public, every_app, warm keys_and_store;
    oauth_token: "POST" "/api/v1/auth/oauth/{provider}/token", public, every_app, warm keys_and_store;
    oauth_link: "POST" "/api/v1/auth/oauth/{provider}/link", sessions, every_app, warm public_keys;
    identities_list: "GET" "/api/v1/auth/identities", sessions, every_app, warm public_keys;
    identity_unlink: "DELETE" "/api/v1/auth/identities/{provider}", sessions, every_app, warm public_keys;
    health: "GET" "/api/v1/health", public, every_app, warm nothing;
    health_detailed: "GET" "/api/v1/health/detailed", system_read, every_app, warm public_keys;
    openapi: "GET" "/api/v1/openapi.json", public, every_app, warm nothing;
    jwks: "GET" "/.well-known/jwks.json", public, every_app, warm public_keys;
    openid_configuration: "GET" "/.well-known/openid-configuration", public, every_app, warm public_keys;
    // The management API: the app's backend (a secret key) or its owner (a console session).
    admin_users_create: "POST" "/api/v1/admin/users", admin, every_app, warm store;
    admin_users_list: "GET" "/api/v1/admin/users", admin, every_app, warm store;
    admin_user_get: "GET" "/api/v1/admin/users/{user_id}", admin, every_app, warm store;
    admin_user_update: "PATCH" "/api/v1/admin/users/{user_id}", admin, every_app, warm store;
    admin_user_delete: "DELETE" "/api/v1/admin/users/{user_id}", admin, every_app, warm store;
    admin_user_sessions_revoke: "DELETE" "/api/v1/admin/users/{user_id}/sessions", admin, every_app, warm store;
    admin_user_password_reset: "POST" "/api/v1/admin/users/{user_id}/password-reset", admin, every_app, warm store;
    admin_audit: "GET" "/api/v1/admin/audit", admin, every_app, warm store;
    // The console API: developers (sessions of the `console` app) and their apps. Service-wide.
    console_apps_create: "POST" "/api/v1/console/apps", console, service, warm public_keys;
    console_apps_list: "GET" "/api/v1/console/apps", console, service, warm public_keys;
    console_app_get: "GET" "/api/v1/console/apps/{app_id}", console, service, warm public_keys;
    console_app_update: "PATCH" "/api/v1/console/apps/{app_id}", console, service, warm public_keys;
    console_app_delete: "DELETE" "/api/v1/console/apps/{app_id}", console, service, warm public_keys;
    secret_keys_create: "POST" "/api/v1/console/apps/{app_id}/secret-keys", console, service, warm public_keys;
    secret_keys_list: "GET" "/api/v1/console/apps/{app_id}/secret-keys", console, service, warm public_keys;
    secret_key_revoke: "DELETE" "/api/v1/console/apps/{app_id}/secret-keys/{id}", console, service, warm public_keys;
    console_providers_list: "GET" "/api/v1/console/apps/{app_id}/providers", console, service, warm public_keys;
    console_provider_put: "PUT" "/api/v1/console/apps/{app_id}/providers/{provider}", console, service, warm public_keys;
    console_provider_delete: "DELETE" "/api/v1/console/apps/{app_id}/providers/{provider}", console, service, warm public_keys;
    oauth_clients_create: "POST" "/api/v1/console/apps/{app_id}/oauth-clients", console, service, warm public_keys;
    oauth_clients_list: "GET" "/api/v1/console/apps/{app_id}/oauth-clients", console, service, warm public_keys;
    oauth_client_get: "GET" "/api/v1/console/apps/{app_id}/oauth-clients/{client_id}", console, service, warm public_keys;
    oauth_client_update: "PATCH" "/api/v1/console/apps/{app_id}/oauth-clients/{client_id}", console, service, warm public_keys;
    oauth_client_delete: "DELETE" "/api/v1/console/apps/{app_id}/oauth-clients/{client_id}", console, service, warm public_keys;
    oauth_client_rotate_secret: "POST" "/api/v1/console/apps/{app_id}/oauth-clients/{client_id}/rotate-secret", console, service, warm public_keys;
    // The developer dashboard: one function, pages routed in-process (one function per page would
    // cost the stack a function, a role and a permission each).
    dashboard: "GET" "/dashboard" | "GET" "/dashboard/{proxy+}" | "POST" "/dashboard/{proxy+}", public, service, warm keys_and_store;
    // Every path's CORS preflight. `cargo lambda watch` answers preflights itself, so this route is
    // the one the router in Cargo.toml leaves out.
    cors_preflight: "OPTIONS" "/{proxy+}", public, service, warm nothing;
}

/// Every route: each endpoint's path and, for every app's endpoints, its `/apps/{app_id}` form.
pub fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        ENDPOINTS
            .iter()
            .flat_map(|e| {
                let app_route = e.app_path.map(|path| Route { path, ..e.route });
                std::iter::once(e.route).chain(app_route)
            })
            .collect()
    })
}

/// Functions that are not routes of their own.
pub const AUTHORIZER: &str = "authorizer";
/// The outbox's mailer, fed by the table's stream.
pub const MAILER: &str = "mailer";

/// One `matchit` router per method, built once: API Gateway's `{name}` is matchit's, and its greedy
/// `{name+}` is matchit's catch-all `{*name}`.
fn routers() -> &'static Vec<(&'static str, matchit::Router<&'static Route>)> {
    static ROUTERS: OnceLock<Vec<(&'static str, matchit::Router<&'static Route>)>> = OnceLock::new();
    ROUTERS.get_or_init(|| {
        let mut by_method: Vec<(&'static str, matchit::Router<&'static Route>)> = Vec::new();
        for route in routes() {
            let pattern = match route.path.strip_suffix("+}") {
                Some(head) => match head.rsplit_once('{') {
                    Some((prefix, name)) => format!("{prefix}{{*{name}}}"),
                    None => route.path.to_owned(),
                },
                None => route.path.to_owned(),
            };
            let index = match by_method.iter().position(|(m, _)| *m == route.method) {
                Some(i) => i,
                None => {
                    by_method.push((route.method, matchit::Router::new()));
                    by_method.len() - 1
                }
            };
            by_method[index].1.insert(pattern, route).expect("the route table has no conflicting paths");
        }
        by_method
    })
}

/// The route a request's method and path select, and the path parameters (`{id}`) it binds.
pub fn find(method: &str, path: &str) -> Option<(&'static Route, Vec<(String, String)>)> {
    let (_, router) = routers().iter().find(|(m, _)| m.eq_ignore_ascii_case(method))?;
    let found = router.at(path).ok()?;
    let params = found.params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    Some((*found.value, params))
}

/// Runs the named function's handler on a request, as its Lambda binary would. `None` for a name
/// that is not an HTTP function.
pub async fn dispatch(app: Arc<App>, function: &str, req: Request) -> Option<Response<Body>> {
    // The AWS calls of the handler are recorded for its function, as its own binary's would be.
    let name = ENDPOINTS.iter().map(|e| e.route.function).find(|f| *f == function)?;
    // Boxed: the handlers' futures are large, and the scope would otherwise hold one more copy on
    // the stack of whoever awaits this (a test thread's 2 MiB overflowed).
    shared::iam::as_function(name, Box::pin(run(app, name, req))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_select_their_route_and_bind_parameters() {
        let (route, params) = find("DELETE", "/api/v1/auth/sessions/abc").unwrap();
        assert_eq!(route.function, "session_revoke");
        assert_eq!(params, vec![("id".to_owned(), "abc".to_owned())]);
        assert_eq!(find("delete", "/api/v1/auth/sessions").unwrap().0.function, "sessions_revoke_all");
        let (preflight, params) = find("OPTIONS", "/api/v1/a/b").unwrap();
        assert_eq!(preflight.function, "cors_preflight");
        assert_eq!(params, vec![("proxy".to_owned(), "api/v1/a/b".to_owned())]);
        assert!(find("GET", "/api/v1/nothing").is_none());
        assert!(find("PUT", "/api/v1/users/me").is_none());
        let (route, params) = find("POST", "/apps/app_0123456789abcdef/api/v1/auth/login").unwrap();
        assert_eq!(route.function, "login");
        assert_eq!(params, vec![("app_id".to_owned(), "app_0123456789abcdef".to_owned())]);
    }
}
