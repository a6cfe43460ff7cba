//! What the service publishes about itself: health, the OpenAPI document, the JWKS and OpenID
//! configuration.

pub mod health;
pub mod health_detailed;
pub mod jwks;
pub mod openapi;
pub mod openid_configuration;
