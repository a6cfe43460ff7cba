//! Who is calling a protected route.
//!
//! Behind API Gateway the authorizer has already verified the bearer and put the identity into
//! `requestContext.authorizer.lambda`, which only API Gateway can write. Where there is no such
//! context (under `cargo lambda watch`, which does not run authorizers, or a route deployed without
//! one) the function runs the very same verification itself. No other header is ever trusted.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;
use shared::App;
use shared::accounts;
use shared::error::{Error, Result};
use shared::tokens::Identity;

use crate::http;

/// Context keys the authorizer sets (see `authorizer.rs`).
pub const USER_ID: &str = "user_id";
pub const TENANT_ID: &str = "tenant_id";
pub const SESSION_ID: &str = "session_id";
pub const SCOPES: &str = "scopes";
pub const AUTH_KIND: &str = "auth_kind";
pub const EXPIRES_AT: &str = "expires_at";
/// `auth_kind` of a request the authorizer could not identify; it carries no identity.
pub const ANONYMOUS: &str = "none";

pub async fn identify(app: &App, req: &Request) -> Result<Identity> {
    let identity = match from_authorizer_context(req) {
        Some(identity) => identity,
        None => accounts::authenticate(app, http::authorization(req)).await?,
    };
    http::note_caller(&identity.user_id);
    Ok(identity)
}

fn from_authorizer_context(req: &Request) -> Option<Identity> {
    let RequestContext::ApiGatewayV2(ctx) = req.request_context_ref()? else {
        return None;
    };
    let fields = &ctx.authorizer.as_ref()?.fields;
    // No identity (`auth_kind: "none"`, or an incomplete context): verify the bearer here.
    let text = |key: &str| match fields.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    Some(Identity {
        user_id: text(USER_ID)?,
        tenant_id: text(TENANT_ID)?,
        session_id: text(SESSION_ID)?,
        scopes: text(SCOPES).unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
        auth_kind: text(AUTH_KIND).unwrap_or_else(|| "jwt".to_owned()),
        expires_at: match fields.get(EXPIRES_AT) {
            Some(Value::Number(n)) => n.as_i64()?,
            Some(Value::String(s)) => s.parse().ok()?,
            _ => return None,
        },
    })
}

/// The user behind an identity; a user erased since the token was issued is not authenticated.
pub async fn current_user(app: &App, identity: &Identity) -> Result<shared::model::UserRecord> {
    app.store.user(&identity.tenant_id, &identity.user_id).await?.ok_or(Error::Unauthorized)
}
