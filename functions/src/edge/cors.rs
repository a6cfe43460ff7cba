//! CORS for the browser origins of the app's `cors_origins` (`CORS_ALLOWED_ORIGINS` for `default`),
//! and nobody else.
//!
//! A response to an allowed `Origin` carries `Access-Control-Allow-Origin: <that origin>` with
//! credentials allowed (the refresh cookie); any other origin gets no CORS header at all, so the
//! browser keeps the answer from the page. `*` is never sent (and refused in the configuration).
//! Preflights are answered by the `cors_preflight` function (`OPTIONS /{proxy+}`).

use lambda_http::http::{HeaderValue, header};
use lambda_http::{Body, Request, Response};
use shared::tenant::AppSettings;

pub const ALLOWED_METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";
pub const ALLOWED_HEADERS: &str = "authorization, content-type, x-requested-with";

/// The request's `Origin`, if it is one of ours.
pub fn allowed_origin(req: &Request, settings: &AppSettings) -> Option<String> {
    let origin = req.headers().get(header::ORIGIN)?.to_str().ok()?.trim().trim_end_matches('/');
    settings.cors_origins.iter().any(|o| o == origin).then(|| origin.to_owned())
}

/// Adds the CORS headers for an allowed origin; `Vary: Origin` always, since the answer depends on it.
pub fn decorate(response: &mut Response<Body>, origin: Option<&str>) {
    let h = response.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(v) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    }
}
