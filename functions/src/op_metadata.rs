//! `GET /.well-known/oauth-authorization-server` (RFC 8414): the app's OAuth provider, naming only
//! what exists. The authorization endpoint (login and consent pages) is not built yet, so no
//! response type or authorization-code grant is claimed.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;

use crate::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, _req: Request, cx: Cx) -> Result<Reply> {
    let keys = app.verifier(None).await?;
    let issuer = cx.tenant.issuer.as_str();
    let auth_methods = ["client_secret_basic", "client_secret_post"];
    // What a token can carry today: the app's own scopes (a user's scopes need a user).
    let scopes: Vec<&str> = cx.tenant.settings.oauth_scopes.iter().map(|s| s.name.as_str()).collect();
    Ok(Reply::document(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "token_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "scopes_supported": scopes,
        "access_token_signing_alg_values_supported": keys.algorithms(),
    }))?
    .cache("public, max-age=300"))
}
