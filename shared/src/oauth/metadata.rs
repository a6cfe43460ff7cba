//! The provider's metadata document (RFC 8414, OpenID Connect Discovery 1.0), one for both
//! `/.well-known/oauth-authorization-server` and `/.well-known/openid-configuration`.

use serde_json::{Value, json};

use crate::tenant::Tenant;

/// The provider's metadata (RFC 8414, OpenID Connect Discovery 1.0): every endpoint of the app's
/// issuer and what each supports, naming only what exists.
pub fn document(tenant: &Tenant, algorithms: &[&str]) -> Value {
    let issuer = tenant.issuer.as_str();
    let client_auth = ["client_secret_basic", "client_secret_post"];
    let scopes: Vec<&str> = tenant.settings.offered_scopes().map(|(name, _)| name).collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "end_session_endpoint": format!("{issuer}/oauth/logout"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
        "access_token_signing_alg_values_supported": algorithms,
        // A public client authenticates with nothing but its id, and PKCE.
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": scopes,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "acr", "amr",
            "email", "email_verified", "name", "given_name", "family_name", "preferred_username"
        ],
        "prompt_values_supported": ["none", "login", "consent"],
        // `acr_values=aal2` asks for a sign-in with a second factor.
        "acr_values_supported": ["aal1", "aal2"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}
