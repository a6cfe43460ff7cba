//! Who is calling a protected route.
//!
//! Behind API Gateway the authorizer has already verified the bearer and put the identity into
//! `requestContext.authorizer.lambda`, which only API Gateway can write. Where there is no such
//! context (under `cargo lambda watch`, which does not run authorizers, or a route deployed without
//! one) the function runs the very same verification itself. No other header is ever trusted.
//!
//! Either way the result is a `Caller`, admitted only if it belongs to the route's app and is of a
//! kind (with the scopes) the route declares (`routes`); the handler receives it as an argument.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;
use shared::accounts;
use shared::caller::{Accepts, Caller, CallerKind};
use shared::error::{Error, Result};
use shared::tokens::Identity;
use shared::{App, AppId, SessionId, Tenant, UserId};

use crate::http::{self, Cx};

/// Context keys the authorizer sets (see `authorizer.rs`).
pub const USER_ID: &str = "user_id";
pub const TENANT_ID: &str = "tenant_id";
pub const SESSION_ID: &str = "session_id";
pub const SCOPES: &str = "scopes";
pub const AUTH_KIND: &str = "auth_kind";
pub const EXPIRES_AT: &str = "expires_at";
/// `auth_kind` of a request the authorizer could not identify; it carries no identity.
pub const ANONYMOUS: &str = "none";

/// The caller of a protected route, admitted by what the route accepts.
pub async fn caller(app: &App, cx: &Cx, req: &Request, accepts: Accepts) -> Result<Caller> {
    let caller = match from_authorizer_context(req, &cx.tenant.id) {
        Some(caller) => caller,
        None => authenticate(app, &cx.tenant, req).await?,
    };
    match &caller {
        Caller::Session(who) => http::note_caller(&who.user_id),
    }
    accepts.admit(caller)
}

/// The caller of a route where a credential is optional: none when the request sends no
/// `Authorization` header; a header that is sent must hold a valid credential.
pub async fn optional_caller(app: &App, cx: &Cx, req: &Request, accepts: Accepts) -> Result<Option<Caller>> {
    if !http::has_authorization(req) && from_authorizer_context(req, &cx.tenant.id).is_none() {
        return Ok(None);
    }
    caller(app, cx, req, accepts).await.map(Some)
}

/// The verification the authorizer runs, run here.
async fn authenticate(app: &App, tenant: &Tenant, req: &Request) -> Result<Caller> {
    let token = http::bearer(req.headers());
    accounts::authenticate(app, tenant, token.as_deref()).await.map(Caller::Session)
}

/// The identity the authorizer verified, if the context holds one of the route's app (a context of
/// another app's credential counts as none, and the function checks the bearer itself).
fn from_authorizer_context(req: &Request, app_id: &AppId) -> Option<Caller> {
    let RequestContext::ApiGatewayV2(ctx) = req.request_context_ref()? else {
        return None;
    };
    let fields = &ctx.authorizer.as_ref()?.fields;
    // No identity (`auth_kind: "none"`, or an incomplete context): verify the bearer here.
    let text = |key: &str| match fields.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    };
    let kind: CallerKind = text(AUTH_KIND)?.parse().ok()?;
    let tenant_id = AppId::parse(text(TENANT_ID)?)?;
    if tenant_id != *app_id {
        return None;
    }
    let identity = Identity {
        user_id: UserId::parse(text(USER_ID)?)?,
        tenant_id,
        session_id: SessionId::parse(text(SESSION_ID)?)?,
        scopes: text(SCOPES).unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
        expires_at: match fields.get(EXPIRES_AT) {
            Some(Value::Number(n)) => n.as_i64()?,
            Some(Value::String(s)) => s.parse().ok()?,
            _ => return None,
        },
    };
    match kind {
        CallerKind::Session => Some(Caller::Session(identity)),
    }
}

/// The user behind an identity; a user erased since the token was issued is not authenticated.
pub async fn current_user(app: &App, identity: &Identity) -> Result<shared::model::UserRecord> {
    app.store.user(&identity.tenant_id, &identity.user_id).await?.ok_or(Error::Unauthorized)
}
