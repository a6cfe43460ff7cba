//! What the service publishes: JWKS, OpenID configuration, health, the OpenAPI document.

mod documents;
