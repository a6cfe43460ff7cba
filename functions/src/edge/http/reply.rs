//! What a handler answers on success (`Reply`), and how it becomes the response: the envelope,
//! a page or a document, with its headers, cookies and redirect.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::{Value, json};
use shared::error::{Error, Result};

use super::failure::json_response;

/// What a handler answers on success.
pub struct Reply {
    status: StatusCode,
    body: ReplyBody,
    /// The response carries a token or secret: never cache it anywhere.
    no_store: bool,
    cache_control: Option<&'static str>,
    cookies: Vec<String>,
    headers: Vec<(&'static str, String)>,
    /// A redirect's target (`Location`).
    location: Option<String>,
}

enum ReplyBody {
    /// 204, no body (CORS preflight).
    Empty,
    Envelope {
        message: String,
        data: Value,
    },
    /// Standard documents (JWKS, discovery) keep their own shape, without the envelope.
    Document(Value),
    /// A server-rendered page (the OAuth provider's and the dashboard's), or a static asset of
    /// the dashboard (its style sheet and script).
    Text {
        content_type: &'static str,
        body: String,
    },
}

impl Reply {
    pub fn ok(message: impl Into<String>, data: impl Serialize) -> Result<Reply> {
        Self::envelope(StatusCode::OK, message, data)
    }

    pub fn created(message: impl Into<String>, data: impl Serialize) -> Result<Reply> {
        Self::envelope(StatusCode::CREATED, message, data)
    }

    fn envelope(status: StatusCode, message: impl Into<String>, data: impl Serialize) -> Result<Reply> {
        let data = serde_json::to_value(data).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Reply {
            status,
            body: ReplyBody::Envelope { message: message.into(), data },
            no_store: false,
            cache_control: None,
            cookies: Vec::new(),
            headers: Vec::new(),
            location: None,
        })
    }

    /// 302 to `location`, without a body (social login's hand-offs). Never cached.
    pub fn redirect(location: String) -> Reply {
        Reply {
            status: StatusCode::FOUND,
            body: ReplyBody::Empty,
            no_store: true,
            cache_control: None,
            cookies: Vec::new(),
            headers: Vec::new(),
            location: Some(location),
        }
    }

    pub fn document(doc: impl Serialize) -> Result<Reply> {
        let doc = serde_json::to_value(doc).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Reply {
            status: StatusCode::OK,
            body: ReplyBody::Document(doc),
            no_store: false,
            cache_control: None,
            cookies: Vec::new(),
            headers: Vec::new(),
            location: None,
        })
    }

    /// A page, with its own `Content-Security-Policy` (the JSON responses' `default-src 'none'`
    /// would not let it show its styles). Never cached: pages carry CSRF tokens.
    pub fn html(status: StatusCode, body: String, csp: String) -> Reply {
        Reply {
            status,
            body: ReplyBody::Text { content_type: "text/html; charset=utf-8", body },
            no_store: true,
            cache_control: None,
            cookies: Vec::new(),
            headers: vec![("content-security-policy", csp)],
            location: None,
        }
    }

    /// A static file compiled into the function (the dashboard's style sheet and script): public,
    /// cached for an hour.
    pub fn asset(content_type: &'static str, body: &'static str) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: ReplyBody::Text { content_type, body: body.to_owned() },
            no_store: false,
            cache_control: Some("public, max-age=3600"),
            cookies: Vec::new(),
            headers: Vec::new(),
            location: None,
        }
    }

    /// Marks a response that carries tokens: `Cache-Control: no-store`, `Pragma: no-cache`.
    pub fn no_store(mut self) -> Self {
        self.no_store = true;
        self
    }

    /// A 204 without a body.
    pub fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: ReplyBody::Empty,
            no_store: false,
            cache_control: None,
            cookies: Vec::new(),
            headers: Vec::new(),
            location: None,
        }
    }

    /// Adds a fixed header.
    pub fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// Adds a header whose value is made per request (`Retry-After`).
    pub fn header_value(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Answers with another status than 200 (a standard document's error: RFC 6749's 400, 401).
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds a `Set-Cookie` header.
    pub fn cookie(mut self, cookie: String) -> Self {
        self.cookies.push(cookie);
        self
    }

    /// A public, cacheable document (JWKS, discovery).
    pub fn cache(mut self, directive: &'static str) -> Self {
        self.cache_control = Some(directive);
        self
    }
}

pub(super) fn success(reply: Reply, request_id: &str) -> Response<Body> {
    let body = match reply.body {
        ReplyBody::Envelope { message, data } => {
            Some(json!({"success": true, "message": message, "data": data}))
        }
        ReplyBody::Document(doc) => Some(doc),
        ReplyBody::Empty => None,
        ReplyBody::Text { content_type, body } => {
            let mut r = json_response(reply.status, &Value::Null, request_id);
            *r.body_mut() = Body::Text(body);
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            return finish(
                r,
                reply.headers,
                reply.no_store,
                reply.cache_control,
                reply.cookies,
                reply.location,
            );
        }
    };
    let response = match &body {
        Some(body) => json_response(reply.status, body, request_id),
        None => {
            let mut r = json_response(reply.status, &Value::Null, request_id);
            *r.body_mut() = Body::Empty;
            r.headers_mut().remove(header::CONTENT_TYPE);
            r
        }
    };
    finish(response, reply.headers, reply.no_store, reply.cache_control, reply.cookies, reply.location)
}

/// A success's headers, cookies and redirect.
fn finish(
    mut response: Response<Body>,
    extra: Vec<(&'static str, String)>,
    no_store: bool,
    cache_control: Option<&'static str>,
    cookies: Vec<String>,
    location: Option<String>,
) -> Response<Body> {
    let headers = response.headers_mut();
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    if no_store {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    } else if let Some(directive) = cache_control {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(directive));
    }
    for cookie in cookies {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    if let Some(v) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, v);
    }
    response
}
