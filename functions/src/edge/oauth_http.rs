//! The HTTP edge of the app's OAuth provider endpoints (`/oauth/*`): RFC 6749's form bodies in,
//! its `{error, error_description}` documents out, in this one place. Every answer carries
//! `Cache-Control: no-store` (tokens, and errors about them).

use std::collections::HashMap;

use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Serialize;
use serde_json::json;
use shared::error::{Error, Result};
use shared::oauth::grants::BearerError;
use shared::oauth::protocol::{OAuthError, OAuthResult};
use shared::oauth::token::Presented;

use crate::edge::http::Reply;

/// The form parameters of a request (`application/x-www-form-urlencoded`, RFC 6749 section 3.2);
/// a parameter sent twice is `invalid_request` (section 3.1).
pub fn form(req: &Request) -> OAuthResult<HashMap<String, String>> {
    if !is_form(req) {
        return Err(OAuthError::InvalidRequest("the body must be application/x-www-form-urlencoded".into()));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(req.body().as_ref())
        .map_err(|_| OAuthError::InvalidRequest("the form cannot be decoded".into()))?;
    let mut out = HashMap::new();
    for (k, v) in pairs {
        if out.insert(k.clone(), v).is_some() {
            return Err(OAuthError::InvalidRequest(format!("{k} is repeated")));
        }
    }
    Ok(out)
}

/// Whether the request's body is `application/x-www-form-urlencoded`.
pub fn is_form(req: &Request) -> bool {
    req.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    })
}

/// The start every provider endpoint shares: one request against the per-address limit (before
/// anything else, so guessed secrets count), the form, and the client it authenticates as.
pub async fn authenticated(
    app: &shared::App,
    req: &Request,
    cx: &crate::edge::http::Cx,
) -> OAuthResult<(HashMap<String, String>, shared::model::OAuthClientRecord)> {
    shared::oauth::token::limit(app, &cx.tenant, &cx.client).await?;
    let form = form(req)?;
    let client = shared::oauth::token::authenticate(app, &cx.tenant, &presented(req, &form)?).await?;
    Ok((form, client))
}

/// A parameter the endpoint cannot do without.
pub fn required<'a>(form: &'a HashMap<String, String>, name: &str) -> OAuthResult<&'a str> {
    form.get(name)
        .map(String::as_str)
        .ok_or_else(|| OAuthError::InvalidRequest(format!("{name} is required")))
}

/// How the request's client presents itself (Basic header, or the form).
fn presented(req: &Request, form: &HashMap<String, String>) -> OAuthResult<Presented> {
    let authorization = req.headers().get("authorization").and_then(|v| v.to_str().ok());
    Presented::read(
        authorization,
        form.get("client_id").map(String::as_str),
        form.get("client_secret").map(String::as_str),
    )
}

/// The answer of an OAuth endpoint: its document, or RFC 6749's error document with its status
/// (`invalid_client` 401 with `WWW-Authenticate: Basic`, a limit 429, a dependency 503, a bug 500).
pub fn answer(outcome: OAuthResult<impl Serialize>) -> Result<Reply> {
    match outcome {
        Ok(doc) => Ok(Reply::document(doc)?.no_store()),
        Err(e) => {
            // RFC 6749 section 5.2: the description is printable ASCII without `"` and `\`.
            let description: String =
                e.description().chars().filter(|c| matches!(*c, ' ' | '!' | '#'..='[' | ']'..='~')).collect();
            let mut reply =
                Reply::document(json!({"error": e.code(), "error_description": description}))?.no_store();
            reply = match &e {
                OAuthError::InvalidClient => {
                    reply.status(StatusCode::UNAUTHORIZED).header("www-authenticate", "Basic realm=\"oauth\"")
                }
                OAuthError::Service(Error::RateLimited { retry_after_seconds }) => reply
                    .status(StatusCode::TOO_MANY_REQUESTS)
                    .header_value("retry-after", retry_after_seconds.to_string()),
                OAuthError::Service(Error::Dependency { .. }) => {
                    reply.status(StatusCode::SERVICE_UNAVAILABLE).header("retry-after", "5")
                }
                _ if e.code() == "server_error" => {
                    tracing::error!(error = %e, "OAuth endpoint failed");
                    reply.status(StatusCode::INTERNAL_SERVER_ERROR)
                }
                _ => reply.status(StatusCode::BAD_REQUEST),
            };
            if let OAuthError::Service(Error::Dependency { .. }) = &e {
                tracing::warn!(error = %e, "OAuth endpoint: a dependency failed");
            }
            Ok(reply)
        }
    }
}

/// The answer of a resource the provider's access tokens open (userinfo): its document, or RFC
/// 6750's error with `WWW-Authenticate: Bearer` (401 for a token that is not live, 403 for a
/// missing scope).
pub fn bearer_answer(outcome: std::result::Result<serde_json::Value, BearerError>) -> Result<Reply> {
    match outcome {
        Ok(doc) => Ok(Reply::document(doc)?.no_store()),
        Err(BearerError::Service(e)) => Err(e),
        Err(e) => {
            let (status, code, challenge) = match &e {
                BearerError::InvalidRequest(_) => (
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Bearer error=\"invalid_request\"".to_owned(),
                ),
                BearerError::InsufficientScope(scope) => (
                    StatusCode::FORBIDDEN,
                    "insufficient_scope",
                    format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
                ),
                _ => (StatusCode::UNAUTHORIZED, "invalid_token", "Bearer error=\"invalid_token\"".to_owned()),
            };
            Ok(Reply::document(json!({"error": code, "error_description": e.to_string()}))?
                .no_store()
                .status(status)
                .header_value("www-authenticate", challenge))
        }
    }
}
