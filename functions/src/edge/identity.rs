//! Who is calling a protected route.
//!
//! Behind API Gateway the authorizer has already resolved the credential and put the caller into
//! `requestContext.authorizer.lambda`, which only API Gateway can write. Where there is no such
//! context (under `cargo lambda watch`, which does not run authorizers, or a route deployed without
//! one) the function runs the very same resolution itself (`resolve`). No other header is ever
//! trusted.
//!
//! Either way the result is a `Caller` of the route's app, admitted only if it is of a kind (with
//! the scopes) the route declares (`access`); the handler receives it as an argument.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::{Value, json};
use shared::accounts;
use shared::api_keys::{self, API_KEY_PREFIX};
use shared::caller::{Accepts, Caller, CallerKind, KeyHolder, OAuthHolder};
use shared::console::SECRET_KEY_PREFIX;
use shared::error::{Error, Result};
use shared::ids::KeyId;
use shared::tokens::Identity;
use shared::{App, AppId, SessionId, Tenant, UserId};

use crate::edge::http::{self, Cx};

/// Context keys the authorizer sets (see `authorizer.rs`).
pub const USER_ID: &str = "user_id";
pub const TENANT_ID: &str = "tenant_id";
pub const SESSION_ID: &str = "session_id";
pub const KEY_ID: &str = "key_id";
pub const CLIENT_ID: &str = "client_id";
/// An OAuth access token's audience: the resource server it is for (a customer's function checks
/// that it is its own).
pub const AUDIENCE: &str = "aud";
pub const SCOPES: &str = "scopes";
pub const AUTH_KIND: &str = "auth_kind";
pub const EXPIRES_AT: &str = "expires_at";
/// How the session's user authenticated: `acr` (`aal1`, `aal2`), `amr` (space-separated RFC 8176
/// methods) and `auth_time` (epoch seconds), so that a customer's route can ask for `aal2`.
pub const ACR: &str = "acr";
pub const AMR: &str = "amr";
pub const AUTH_TIME: &str = "auth_time";
/// `auth_kind` of a request the authorizer could not identify; it carries no identity.
pub const ANONYMOUS: &str = "none";

/// The caller of a protected route, admitted by what the route accepts.
pub async fn caller(app: &App, cx: &Cx, req: &Request, accepts: Accepts) -> Result<Caller> {
    let caller = match from_authorizer_context(req, &cx.tenant) {
        Some(caller) => caller,
        None => resolve(app, &cx.tenant, http::bearer(req.headers()).as_deref(), accepts).await?,
    };
    match &caller {
        Caller::Session(who) | Caller::AppOwner(who) => http::note_caller(&who.user_id),
        Caller::ApiKey(holder) => http::note_caller(&holder.user_id),
        Caller::OAuth(holder) => {
            if let Some(user_id) = &holder.user_id {
                http::note_caller(user_id)
            }
        }
        Caller::AppSecret { .. } => {}
    }
    accepts.admit(caller)
}

/// Whether a request brings a credential at all: an `Authorization` header, or an identity the
/// authorizer resolved.
pub fn presents_credential(req: &Request, tenant: &Tenant) -> bool {
    http::has_authorization(req) || from_authorizer_context(req, tenant).is_some()
}

/// The one resolution of a bearer credential at a route of `tenant`, run by the authorizer and by a
/// function that finds no authorizer context: a secret key of the app (`sk_...`), an access token
/// of a session of the app, an API key of one of its users (`ak_...`), or, where the route takes its owner, an access token of the `console`
/// app whose developer owns it. Anything else is no credential (401); the owner check of a console
/// session that is valid but not the owner's is 404, as for an app it cannot see.
pub async fn resolve(app: &App, tenant: &Tenant, token: Option<&str>, accepts: Accepts) -> Result<Caller> {
    let token = token.ok_or(Error::Unauthorized)?;
    if token.starts_with(API_KEY_PREFIX) {
        let in_use = accepts.takes(CallerKind::ApiKey);
        return api_keys::authenticate(app, tenant, token, in_use).await.map(Caller::ApiKey);
    }
    if token.starts_with(SECRET_KEY_PREFIX) {
        let hash = shared::crypto::token_hash(token);
        let key = app.store.secret_key_by_hash(&hash).await?.filter(|k| k.app_id == tenant.id);
        let key = key.ok_or(Error::Unauthorized)?;
        return Ok(Caller::AppSecret { app_id: key.app_id, key_id: key.key_id });
    }
    match accounts::authenticate(app, tenant, Some(token)).await {
        // An access token of the app's OAuth provider: resolved on every route, so that a route
        // that does not take third parties answers it 403 `forbidden`, not 401.
        Err(Error::Unauthorized) if shared::oauth::protocol::looks_like_access(token) => {
            match shared::oauth::protocol::verify_access(app, tenant, token).await? {
                Some(claims) => Ok(Caller::OAuth(shared::oauth::protocol::holder(claims))),
                None => Err(Error::Unauthorized),
            }
        }
        Err(Error::Unauthorized) if accepts.takes(CallerKind::AppOwner) && tenant.id != AppId::console() => {
            let console = app.tenant(&AppId::console()).await?;
            let who = accounts::authenticate(app, &console, Some(token)).await?;
            if tenant.owner.as_ref() != Some(&who.user_id) {
                return Err(Error::NotFound);
            }
            Ok(Caller::AppOwner(who))
        }
        outcome => outcome.map(Caller::Session),
    }
}

/// What the authorizer hands the function for a caller (the inverse of `from_authorizer_context`).
pub fn context_of(caller: &Caller) -> Value {
    let person = |who: &Identity, kind: CallerKind| {
        json!({
            USER_ID: who.user_id,
            TENANT_ID: who.tenant_id,
            SESSION_ID: who.session_id,
            SCOPES: who.scopes.join(" "),
            AUTH_KIND: <&str>::from(kind),
            EXPIRES_AT: who.expires_at,
            ACR: who.authn.acr.as_str(),
            AMR: who.authn.amr.join(" "),
            AUTH_TIME: who.authn.auth_time,
        })
    };
    match caller {
        Caller::Session(who) => person(who, CallerKind::Session),
        Caller::AppOwner(who) => person(who, CallerKind::AppOwner),
        Caller::AppSecret { app_id, key_id } => json!({
            TENANT_ID: app_id,
            KEY_ID: key_id,
            AUTH_KIND: <&str>::from(CallerKind::AppSecret),
        }),
        Caller::ApiKey(holder) => json!({
            USER_ID: holder.user_id,
            TENANT_ID: holder.tenant_id,
            KEY_ID: holder.key_id,
            SCOPES: holder.scopes.join(" "),
            AUTH_KIND: <&str>::from(CallerKind::ApiKey),
            EXPIRES_AT: holder.expires_at,
        }),
        Caller::OAuth(holder) => {
            let mut context = json!({
                TENANT_ID: holder.tenant_id,
                CLIENT_ID: holder.client_id,
                AUDIENCE: holder.audience,
                SCOPES: holder.scopes.join(" "),
                AUTH_KIND: <&str>::from(CallerKind::OAuth),
                EXPIRES_AT: holder.expires_at,
            });
            if let Some(user_id) = &holder.user_id {
                context[USER_ID] = json!(user_id);
            }
            context
        }
    }
}

/// The caller the authorizer resolved for this request, if its context holds one for the route's
/// app (a session or key of another app counts as none, and the function resolves it itself).
fn from_authorizer_context(req: &Request, tenant: &Tenant) -> Option<Caller> {
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
    let scopes = || text(SCOPES).unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    let number = |key: &str| match fields.get(key) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let expires_at = || number(EXPIRES_AT);
    let authn = || shared::model::Authn {
        amr: text(AMR).unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
        acr: text(ACR).and_then(shared::model::Acr::parse).unwrap_or_default(),
        auth_time: number(AUTH_TIME).unwrap_or_default(),
    };
    let person = |tenant_id: AppId| {
        Some(Identity {
            user_id: UserId::parse(text(USER_ID)?)?,
            tenant_id,
            session_id: SessionId::parse(text(SESSION_ID)?)?,
            scopes: scopes(),
            expires_at: expires_at()?,
            authn: authn(),
        })
    };
    match kind {
        CallerKind::Session if tenant_id == tenant.id => person(tenant_id).map(Caller::Session),
        CallerKind::ApiKey if tenant_id == tenant.id => Some(Caller::ApiKey(KeyHolder {
            user_id: UserId::parse(text(USER_ID)?)?,
            tenant_id,
            key_id: KeyId::parse(text(KEY_ID)?)?,
            scopes: scopes(),
            expires_at: expires_at()?,
        })),
        CallerKind::OAuth if tenant_id == tenant.id => Some(Caller::OAuth(OAuthHolder {
            client_id: shared::ids::ClientId::parse(text(CLIENT_ID)?)?,
            user_id: match text(USER_ID) {
                Some(u) => Some(UserId::parse(u)?),
                None => None,
            },
            tenant_id,
            audience: text(AUDIENCE)?.to_owned(),
            scopes: scopes(),
            expires_at: expires_at()?,
        })),
        CallerKind::AppSecret if tenant_id == tenant.id => {
            Some(Caller::AppSecret { app_id: tenant_id, key_id: KeyId::parse(text(KEY_ID)?)? })
        }
        // The authorizer checked the ownership of this very path's app.
        CallerKind::AppOwner if tenant_id == AppId::console() => {
            let who = person(tenant_id)?;
            (tenant.owner.as_ref() == Some(&who.user_id)).then_some(Caller::AppOwner(who))
        }
        _ => None,
    }
}

/// The user behind a caller; a user erased since the credential was issued is not authenticated.
pub async fn current_user(app: &App, tenant: &AppId, user_id: &UserId) -> Result<shared::model::UserRecord> {
    app.store.user(tenant, user_id).await?.ok_or(Error::Unauthorized)
}
