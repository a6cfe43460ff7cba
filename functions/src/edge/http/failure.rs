//! The one place where `shared::Error` becomes a status code, headers and the contract's envelope.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use shared::error::Error;

/// The one mapping from `Error` to status, headers and body.
pub fn failure(err: &Error, request_id: &str) -> Response<Body> {
    let status = match err {
        Error::MalformedRequest(_) | Error::Validation(_) | Error::InvalidToken | Error::OAuthFailed(_) => {
            StatusCode::BAD_REQUEST
        }
        Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::InvalidCredentials
        | Error::EmailNotVerified
        | Error::Unauthorized
        | Error::ReauthenticationRequired
        | Error::InvalidMfaCode => StatusCode::UNAUTHORIZED,
        Error::Forbidden
        | Error::InsufficientScope { .. }
        | Error::AccountPendingDeletion
        | Error::AccountDisabled => StatusCode::FORBIDDEN,
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::EmailTaken | Error::Conflict | Error::IdentityConflict | Error::FactorRequired => {
            StatusCode::CONFLICT
        }
        Error::RateLimited { .. } | Error::LoginLocked => StatusCode::TOO_MANY_REQUESTS,
        Error::Dependency { .. } => StatusCode::SERVICE_UNAVAILABLE,
        // Only the mailer meets it; no route answers with it.
        Error::Internal(_) | Error::Undeliverable(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    match err {
        // Logged once, here, with the cause; the client sees only the code.
        Error::Dependency { dependency, source } => {
            tracing::error!(request_id, dependency, error = %source, "dependency failed")
        }
        Error::Internal(detail) => tracing::error!(request_id, error = detail.as_str(), "internal error"),
        _ => {}
    }
    let mut error = json!({"code": err.code()});
    if let Error::Validation(fields) = err {
        error["fields"] = json!(fields);
    }
    let body = json!({
        "success": false,
        "message": err.public_message(),
        "error": error,
        "request_id": request_id,
    });
    let mut response = json_response(status, &body, request_id);
    let headers = response.headers_mut();
    match err {
        Error::Unauthorized => {
            headers
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
        }
        Error::InsufficientScope { needed } => {
            // RFC 6750 section 3.1: the scope the request would have needed.
            let value = format!("Bearer error=\"insufficient_scope\", scope=\"{needed}\"");
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        Error::InvalidCredentials | Error::EmailNotVerified | Error::InvalidMfaCode => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"auth\""));
        }
        // RFC 9470's step-up challenge: the credential is valid but its authentication too old.
        Error::ReauthenticationRequired => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"insufficient_user_authentication\", max_age=600"),
            );
        }
        Error::RateLimited { retry_after_seconds } => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
        }
        // The lock holds until the owner acts; the header only spaces out a client's retries.
        Error::LoginLocked => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
        }
        Error::Dependency { .. } => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        _ => {}
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) fn json_response(status: StatusCode, body: &Value, request_id: &str) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=63072000; includeSubDomains"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        h.insert("x-request-id", id);
    }
    response
}
