//! The Lambda authorizer of the HTTP API (payload format 2.0, simple responses).
//!
//! It runs `accounts::authenticate`, the same verification a protected function runs when it finds
//! no authorizer context, and hands the identity to the function in the context: `user_id`,
//! `tenant_id`, `session_id`, `scopes` (space-separated), `auth_kind` and `expires_at`.
//!
//! A bad bearer is denied (API Gateway answers 403; 401 when the header is missing, without calling
//! us). A failing dependency is an error, which API Gateway turns into a 500: the check fails closed
//! and never lets a request through because the session could not be read.

use aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use serde_json::{Value, json};
use shared::App;
use shared::accounts;
use shared::error::Error;

use crate::identity::{AUTH_KIND, EXPIRES_AT, SCOPES, SESSION_ID, TENANT_ID, USER_ID};

pub type AuthorizerRequest = ApiGatewayV2CustomAuthorizerV2Request;
pub type AuthorizerResponse = ApiGatewayV2CustomAuthorizerSimpleResponse<Value>;

pub async fn handle(app: &App, event: AuthorizerRequest) -> Result<AuthorizerResponse, Error> {
    let header = event
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| event.identity_source.as_ref().and_then(|s| s.first().cloned()));
    let request_id = event.request_context.request_id.clone().unwrap_or_default();
    let mut response = AuthorizerResponse::default();
    response.context = json!({});
    match accounts::authenticate(app, header.as_deref()).await {
        Ok(who) => {
            response.is_authorized = true;
            response.context = json!({
                USER_ID: who.user_id,
                TENANT_ID: who.tenant_id,
                SESSION_ID: who.session_id,
                SCOPES: who.scopes.join(" "),
                AUTH_KIND: who.auth_kind,
                EXPIRES_AT: who.expires_at,
            });
            tracing::info!(request_id, authorized = true, "authorizer decision");
            Ok(response)
        }
        Err(Error::Unauthorized) => {
            tracing::info!(request_id, authorized = false, "authorizer decision");
            Ok(response)
        }
        Err(err) => {
            match &err {
                Error::Dependency { dependency, source } => {
                    tracing::error!(request_id, dependency, error = %source, "authorizer failed closed")
                }
                other => tracing::error!(request_id, error = %other, "authorizer failed closed"),
            }
            Err(err)
        }
    }
}
