//! `GET /.well-known/openid-configuration`: the discovery document, naming only what exists. There
//! is no authorization endpoint and no ID token yet (the OAuth2/OIDC provider is wave 2), so the
//! fields about them are absent rather than claimed.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;

use crate::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, _req: Request, cx: Cx) -> Result<Reply> {
    let keys = app.verifier(None).await?;
    // The app's own issuer: its discovery document describes its routes.
    let issuer = cx.tenant.issuer.as_str();
    Ok(Reply::document(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "token_endpoint": format!("{issuer}/api/v1/auth/login"),
        "userinfo_endpoint": format!("{issuer}/api/v1/users/me"),
        "grant_types_supported": ["password"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["none"],
        "token_signing_alg_values_supported": keys.algorithms(),
        "scopes_supported": cx.tenant.settings.session_scopes,
        "claims_supported": ["iss", "aud", "sub", "tid", "sid", "jti", "iat", "nbf", "exp", "scope", "token_use", "email_verified"],
    }))?
    .cache("public, max-age=300"))
}
