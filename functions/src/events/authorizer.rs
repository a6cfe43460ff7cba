//! The Lambda authorizer of the HTTP API (payload format 2.0, simple responses).
//!
//! It runs `accounts::authenticate`, the same verification a protected function runs when it finds
//! no authorizer context, and hands a verified identity to the function in the context: `user_id`,
//! `tenant_id`, `session_id`, `scopes` (space-separated), `auth_kind` and `expires_at`.
//!
//! On a route that is neither one of ours nor a customer's (no `auth_app_id` stage variable), it
//! denies: nothing would check the caller behind it.
//!
//! On our own routes it never rejects at the gateway. An HTTP API answers an authorizer's "no" with its own bare 403
//! (and a failing authorizer with a bare 500), which would break the contract's 401 `unauthorized`
//! with `WWW-Authenticate` and its 503 with `Retry-After`. So a request without a valid bearer, or
//! one whose check could not be completed, goes on with `auth_kind: "none"` and no identity; the
//! function then finds no identity in the context, runs the verification itself and answers in the
//! envelope. Nothing passes unchecked: a protected function only ever serves an identity that one of
//! the two checks verified (`identity::identify`), and a dependency failure still fails closed.
//!
//! On a customer's own routes (the stage variable `auth_app_id` names the app) no function of ours
//! stands behind the route to answer 401, so there it denies (`isAuthorized: false`) every request
//! it cannot identify as a user of that app (by a session or an API key) or a client of its OAuth
//! provider (an access token: `auth_kind: "oauth"`, `client_id`, `aud`, and `user_id` when it
//! acts for a user), whose `user_id`, `scopes`, `auth_kind`, `key_id`, `client_id` and `aud` (the
//! resource server the token is for, which the function holds to its own) the customer's
//! function reads from the context.

use aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use serde_json::{Value, json};
use shared::App;
use shared::error::Error;

use crate::edge::access::{self, Access};
use crate::edge::identity::{self, ANONYMOUS, AUTH_KIND};
use shared::caller::Accepts;

pub type AuthorizerRequest = ApiGatewayV2CustomAuthorizerV2Request;
pub type AuthorizerResponse = ApiGatewayV2CustomAuthorizerSimpleResponse<Value>;

pub async fn handle(app: &App, event: AuthorizerRequest) -> AuthorizerResponse {
    shared::iam::as_function(crate::routes::AUTHORIZER, Box::pin(decide(app, event))).await
}

/// The stage variable with which a customer's API names the app its routes belong to.
pub const CUSTOMER_APP_VARIABLE: &str = "auth_app_id";

async fn decide(app: &App, event: AuthorizerRequest) -> AuthorizerResponse {
    let token = crate::edge::http::bearer(&event.headers).or_else(|| {
        // The identity source as API Gateway passes it, when the headers are not (a test's event).
        let source = event.identity_source.as_ref()?.first()?;
        let mut headers = lambda_http::http::HeaderMap::new();
        headers.insert(lambda_http::http::header::AUTHORIZATION, source.parse().ok()?);
        crate::edge::http::bearer(&headers)
    });
    let request_id = event.request_context.request_id.clone().unwrap_or_default();
    if let Some(app_id) = event.stage_variables.get(CUSTOMER_APP_VARIABLE) {
        return decide_for_customer(app, app_id, token.as_deref(), &request_id).await;
    }
    // The app of the route, from its path, as the function will resolve it: only its own
    // credentials identify anyone there.
    let path = event.raw_path.clone().unwrap_or_default();
    let method = event.request_context.http.method.as_str();
    let mut response = AuthorizerResponse::default();
    response.context = json!({ AUTH_KIND: ANONYMOUS });
    // Ours: a protected route of ours whose route key is the one API Gateway matched (a customer's
    // API may have a path that ours would match too, `/dashboard/x` or `/apps/x/api/v1/...`, but
    // never our route key with our authorizer on a public route of ours).
    let ours = crate::routes::find(method, &path).map(|(route, _)| route).filter(|route| {
        !route.is_public()
            && event.route_key.as_deref().is_none_or(|key| key == format!("{} {}", route.method, route.path))
    });
    let Some(route) = ours else {
        // Not one of our routes, and no stage variable names the customer's app (absent or
        // misspelt): no function of ours stands behind it to check the caller, and the app cannot
        // be told from the path without trusting it. Fail closed.
        tracing::warn!(
            request_id,
            method,
            "authorizer: not our route and no auth_app_id stage variable; denied"
        );
        return response;
    };
    // Always "authorized" on our own routes: see the module documentation.
    response.is_authorized = true;
    let calls_before = app.store.calls().count();
    // The route's access decides whether a console session may stand for its app's owner.
    let outcome = match crate::edge::http::resolve_tenant(app, &path).await {
        Ok(tenant) => access::credential(app, &tenant, token.as_deref(), &route.access).await,
        Err(e) => Err(e),
    };
    let dynamodb_calls = app.store.calls().count() - calls_before;
    match outcome {
        Ok(caller) => {
            response.context = identity::context_of(&caller);
            tracing::info!(request_id, identified = true, dynamodb_calls, "authorizer decision");
        }
        Err(Error::Unauthorized | Error::NotFound) => {
            tracing::info!(request_id, identified = false, dynamodb_calls, "authorizer decision");
        }
        Err(err) => match &err {
            Error::Dependency { dependency, source } => {
                tracing::error!(request_id, dependency, error = %source, "authorizer could not verify; no identity passed")
            }
            other => {
                tracing::error!(request_id, error = %other, "authorizer could not verify; no identity passed")
            }
        },
    }
    response
}

/// A customer's route: a user of the named app (by a session or an API key) or a client of its
/// OAuth provider (by an access token), or no entry at all.
async fn decide_for_customer(
    app: &App,
    app_id: &str,
    token: Option<&str>,
    request_id: &str,
) -> AuthorizerResponse {
    let calls_before = app.store.calls().count();
    let outcome = async {
        let app_id = shared::AppId::parse(app_id).ok_or(Error::Unauthorized)?;
        let tenant = app.tenant(&app_id).await?;
        let caller = access::credential(app, &tenant, token, &Access::TOKEN_CHECK).await?;
        Accepts::TOKEN_CHECK.admit(caller)
    }
    .await;
    let dynamodb_calls = app.store.calls().count() - calls_before;
    let mut response = AuthorizerResponse::default();
    match outcome {
        Ok(caller) => {
            response.is_authorized = true;
            response.context = identity::context_of(&caller);
            tracing::info!(
                request_id,
                customer_route = true,
                identified = true,
                dynamodb_calls,
                "authorizer decision"
            );
        }
        Err(err) => {
            // Denied, whatever the reason: a dependency failure must not let anyone in either.
            response.is_authorized = false;
            response.context = json!({ AUTH_KIND: ANONYMOUS });
            match err {
                Error::Unauthorized | Error::NotFound | Error::Forbidden => {
                    tracing::info!(
                        request_id,
                        customer_route = true,
                        identified = false,
                        dynamodb_calls,
                        "authorizer decision"
                    )
                }
                other => {
                    tracing::error!(request_id, customer_route = true, error = %other, "authorizer could not verify; denied")
                }
            }
        }
    }
    response
}
