//! The HTTP edge shared by every endpoint: the app the path names, request id, size limit, body
//! decoding, the caller's address, and the one place where `shared::Error` becomes a status code,
//! headers and the contract's envelope. One structured log line per request.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use headers::HeaderMapExt;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};
use shared::audit::ClientInfo;
use shared::error::{Error, FieldErrors, Result};
use shared::{App, AppId, Tenant};

/// Bodies above this are refused before they are parsed.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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

tokio::task_local! {
    /// The user a request turned out to come from, for its log line.
    static CALLER: std::cell::RefCell<Option<String>>;
}

/// Notes who the caller is, for the request's log line.
pub fn note_caller(user_id: &shared::UserId) {
    let _ = CALLER.try_with(|c| *c.borrow_mut() = Some(user_id.to_string()));
}

/// What the edge resolved for a request before its handler runs: the app its path names and who
/// sent it.
pub struct Cx {
    pub tenant: Arc<Tenant>,
    pub client: ClientInfo,
}

/// The app a request is for, from its path alone: `/apps/{app_id}/...` names it (`default` is the
/// root paths' app), the console API and the dashboard are the `console` app's, and every other
/// path is the `default` app's. `None` for a malformed app id (404, as for an unknown one).
pub fn app_of_path(path: &str) -> Option<AppId> {
    if let Some(rest) = path.strip_prefix("/apps/") {
        let id = rest.split('/').next().unwrap_or_default();
        return AppId::parse(id);
    }
    if under(path, "/api/v1/console") || under(path, "/dashboard") {
        Some(AppId::console())
    } else {
        Some(AppId::default_app())
    }
}

/// Whether `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    path == prefix || path.strip_prefix(prefix).is_some_and(|r| r.starts_with('/'))
}

/// The app a request is for, with its settings: what every handler receives, resolved before
/// anything else (CORS included, since each app has its own origins).
pub async fn resolve_tenant(app: &App, path: &str) -> Result<Arc<Tenant>> {
    let id = app_of_path(path).ok_or(Error::NotFound)?;
    app.tenant(&id).await
}

/// Runs one request through a handler and turns the outcome into the contract's response.
pub async fn serve<H, Fut>(app: Arc<App>, req: Request, handler: H) -> Response<Body>
where
    H: FnOnce(Arc<App>, Request, Cx) -> Fut,
    Fut: Future<Output = Result<Reply>>,
{
    let started = Instant::now();
    let client = client_info(&req);
    let method = req.method().to_string();
    let path = req.raw_http_path().to_owned();
    let path = if path.is_empty() { req.uri().path().to_owned() } else { path };
    let request_id = client.request_id.clone();
    let calls = app.store.calls().clone();
    let calls_before = calls.count();
    let tenant = resolve_tenant(&app, &path).await;
    let cors_origin = tenant.as_ref().ok().and_then(|t| crate::cors::allowed_origin(&req, &t.settings));

    // A browser at the other end (the dashboard) gets a page for what the edge refuses.
    let is_page = under(&path, "/dashboard");
    let (outcome, user_id) = CALLER
        .scope(std::cell::RefCell::new(None), async move {
            let outcome = match tenant {
                Err(e) if is_page => crate::dashboard::edge_failure(e),
                Err(e) => Err(e),
                Ok(_) if req.body().len() > MAX_BODY_BYTES && is_page => {
                    crate::dashboard::edge_failure(Error::PayloadTooLarge)
                }
                Ok(_) if req.body().len() > MAX_BODY_BYTES => Err(Error::PayloadTooLarge),
                Ok(tenant) => handler(app, req, Cx { tenant, client }).await,
            };
            (outcome, CALLER.with(|c| c.borrow().clone()))
        })
        .await;
    let mut response = match outcome {
        Ok(reply) => success(reply, &request_id),
        Err(err) => failure(&err, &request_id),
    };
    crate::cors::decorate(&mut response, cors_origin.as_deref());
    let status = response.status().as_u16();
    tracing::info!(
        request_id = request_id.as_str(),
        method = method.as_str(),
        route = path.as_str(),
        status,
        latency_ms = started.elapsed().as_millis() as u64,
        user_id = user_id.as_deref().unwrap_or(""),
        // What the request cost in DynamoDB (one container serves one request at a time).
        dynamodb_calls = calls.count() - calls_before,
        "request"
    );
    response
}

/// The request id (API Gateway's where there is one), the caller's address and user agent.
pub fn client_info(req: &Request) -> ClientInfo {
    let ctx = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => Some(ctx),
        _ => None,
    };
    let request_id = ctx
        .and_then(|c| c.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // The address API Gateway saw. X-Forwarded-For and friends are written by the client and are
    // never used for anything.
    let ip = ctx.and_then(|c| c.http.source_ip.clone());
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().filter(|c| !c.is_control()).take(256).collect::<String>());
    ClientInfo { ip, user_agent, request_id }
}

fn success(reply: Reply, request_id: &str) -> Response<Body> {
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

/// The one mapping from `Error` to status, headers and body.
pub fn failure(err: &Error, request_id: &str) -> Response<Body> {
    let status = match err {
        Error::MalformedRequest(_) | Error::Validation(_) | Error::InvalidToken | Error::OAuthFailed(_) => {
            StatusCode::BAD_REQUEST
        }
        Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::InvalidCredentials | Error::EmailNotVerified | Error::Unauthorized => StatusCode::UNAUTHORIZED,
        Error::Forbidden
        | Error::InsufficientScope { .. }
        | Error::AccountPendingDeletion
        | Error::AccountDisabled => StatusCode::FORBIDDEN,
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::EmailTaken | Error::Conflict | Error::IdentityConflict => StatusCode::CONFLICT,
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
        Error::InvalidCredentials | Error::EmailNotVerified => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"auth\""));
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

fn json_response(status: StatusCode, body: &Value, request_id: &str) -> Response<Body> {
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

// ----- request bodies -------------------------------------------------------------------------------

/// A JSON object body, field by field. Unknown fields are ignored and never reach the store: each
/// handler picks the fields it knows.
pub struct Fields {
    map: Map<String, Value>,
    errors: FieldErrors,
}

impl Fields {
    /// Parses the body as a JSON object; anything else is `malformed_request`, a body declared as
    /// another media type (or as none) `unsupported_media_type`.
    pub fn json(req: &Request) -> Result<Fields> {
        let bytes: &[u8] = req.body().as_ref();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::MalformedRequest("The request body must be a JSON object".into()));
        }
        if media_type(req).is_none_or(|t| !is_json(&t)) {
            return Err(Error::UnsupportedMediaType);
        }
        match serde_json::from_slice::<UniqueKeys>(bytes) {
            Ok(UniqueKeys(Value::Object(map))) => Ok(Fields { map, errors: FieldErrors::new() }),
            Ok(_) => Err(Error::MalformedRequest("The request body must be a JSON object".into())),
            Err(e) if e.to_string().starts_with(DUPLICATE_KEY) => {
                Err(Error::MalformedRequest("The request body repeats a key".into()))
            }
            Err(_) => Err(Error::MalformedRequest("The request body is not valid JSON".into())),
        }
    }

    /// Fields a page's form was turned into (the dashboard's), read by the same rules as a body.
    pub fn from_map(map: Map<String, Value>) -> Fields {
        Fields { map, errors: FieldErrors::new() }
    }

    /// Fields from an `application/x-www-form-urlencoded` body (the OAuth2 password form).
    pub fn form(req: &Request) -> Result<Fields> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(req.body().as_ref())
            .map_err(|_| Error::MalformedRequest("The form body cannot be decoded".into()))?;
        let mut map = Map::new();
        for (k, v) in pairs {
            // As in JSON bodies: a repeated field would mean one thing here and another to a proxy.
            if map.insert(k, Value::String(v)).is_some() {
                return Err(Error::MalformedRequest("The form body repeats a field".into()));
            }
        }
        Ok(Fields { map, errors: FieldErrors::new() })
    }

    fn fail(&mut self, field: &str, rule: &str) {
        self.errors.entry(field.to_owned()).or_default().push(rule.to_owned());
    }

    /// A string field that must be present (and not blank).
    pub fn required(&mut self, field: &str) -> Option<String> {
        match self.map.get(field) {
            None | Some(Value::Null) => {
                self.fail(field, "required");
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.fail(field, "required");
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.fail(field, "must_be_string");
                None
            }
        }
    }

    /// The whole object as sent: for bodies whose fields a shared rule reads (app settings).
    pub fn object(&self) -> &Map<String, Value> {
        &self.map
    }

    /// A field as sent, whatever its type.
    pub fn raw(&self, field: &str) -> Option<&Value> {
        self.map.get(field)
    }

    /// A required email field, parsed.
    pub fn email(&mut self, field: &str) -> Option<shared::domain::Email> {
        let raw = self.required(field)?;
        shared::domain::Email::parse(&raw).map_err(|rule| self.reject(field, [rule])).ok()
    }

    /// A string field that may be absent or null.
    pub fn optional(&mut self, field: &str) -> Option<String> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.fail(field, "must_be_string");
                None
            }
        }
    }

    /// A boolean field that may be absent or null (false then).
    pub fn flag(&mut self, field: &str) -> bool {
        match self.map.get(field) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.fail(field, "must_be_boolean");
                false
            }
        }
    }

    /// Records a rule that a value failed after it was read.
    pub fn reject(&mut self, field: &str, rules: impl IntoIterator<Item = impl Into<String>>) {
        let entry = self.errors.entry(field.to_owned()).or_default();
        entry.extend(rules.into_iter().map(Into::into));
    }

    /// Hands over the collected errors, if any.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(Error::Validation(self.errors)) }
    }

    pub fn errors_mut(&mut self) -> &mut FieldErrors {
        &mut self.errors
    }
}

/// The JSON object body, or `None` when the request has no body at all.
pub fn optional_json(req: &Request) -> Result<Option<Fields>> {
    if req.body().as_ref().iter().all(u8::is_ascii_whitespace) {
        Ok(None)
    } else {
        Fields::json(req).map(Some)
    }
}

/// A path parameter (`{id}` in the route).
pub fn path_param(req: &Request, name: &str) -> Option<String> {
    req.path_parameters_ref().and_then(|p| p.first(name)).map(str::to_owned)
}

/// An identity provider in the path (`{provider}`); one the service does not know is 404.
pub fn provider_param(req: &Request) -> Result<shared::social::ProviderId> {
    path_param(req, "provider").and_then(|p| shared::social::ProviderId::parse(&p)).ok_or(Error::NotFound)
}

/// An OAuth client id in the path (`{client_id}`); a malformed one names no client (404).
pub fn client_id_param(req: &Request) -> Result<shared::ids::ClientId> {
    path_param(req, "client_id").and_then(|id| shared::ids::ClientId::parse(&id)).ok_or(Error::NotFound)
}

/// An app id in the path (`{app_id}`); a malformed one names no app (404, like an unknown one).
pub fn app_id_param(req: &Request) -> Result<AppId> {
    path_param(req, "app_id").and_then(|id| AppId::parse(&id)).ok_or(Error::NotFound)
}

/// A user id in the path (`{user_id}`); a malformed one names no user (404).
pub fn user_id_param(req: &Request) -> Result<shared::UserId> {
    path_param(req, "user_id").and_then(|id| shared::UserId::parse(&id)).ok_or(Error::NotFound)
}

/// Whether the request declares a form body.
pub fn is_form(req: &Request) -> bool {
    media_type(req).is_some_and(|t| t == "application/x-www-form-urlencoded")
}

/// The body's media type as declared by `Content-Type` (its essence: type and subtype, lower-cased,
/// without parameters); `None` when absent or unreadable.
fn media_type(req: &Request) -> Option<String> {
    let content_type: headers::ContentType = req.headers().typed_get()?;
    Some(mime::Mime::from(content_type).essence_str().to_ascii_lowercase())
}

/// `application/json` and its structured-syntax relatives (`application/merge-patch+json` ...).
fn is_json(media_type: &str) -> bool {
    media_type == "application/json"
        || media_type.starts_with("application/") && media_type.ends_with("+json")
}

/// The start of the message of a duplicate-key error, as `UniqueKeys` raises it.
const DUPLICATE_KEY: &str = "duplicate key";

/// A JSON value whose objects never repeat a key. serde_json keeps the last of two equal keys
/// silently; a body like `{"email": "a@x.com", "email": "b@x.com"}` would then mean different
/// things to us and to a proxy or WAF in front that keeps the first, so it is refused instead.
struct UniqueKeys(Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor).map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("{DUPLICATE_KEY} {key:?}")));
            }
            let UniqueKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), if there is
/// one. An `Authorization` header of another scheme, or none, is no bearer.
pub fn bearer(headers: &lambda_http::http::HeaderMap) -> Option<String> {
    let auth: headers::Authorization<headers::authorization::Bearer> = headers.typed_get()?;
    let token = auth.token().trim();
    (!token.is_empty() && token.len() <= 8192).then(|| token.to_owned())
}

/// Whether the request sends an `Authorization` header at all.
pub fn has_authorization(req: &Request) -> bool {
    req.headers().contains_key(header::AUTHORIZATION)
}
