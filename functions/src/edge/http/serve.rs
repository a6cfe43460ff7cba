//! One request through its handler: the app the path names, the size limit, the caller noted for
//! the log line, CORS, and one structured log line per request.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use headers::HeaderMapExt;
use lambda_http::http::header;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::audit::ClientInfo;
use shared::error::{Error, Result};
use shared::{App, AppId, Tenant};

use super::reply::success;
use super::*;

/// Bodies above this are refused before they are parsed.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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

/// How a route shows what the edge refuses before its handler runs (an unknown app, a body too
/// large): the envelope, or a page of its own for a browser at the other end (the dashboard). The
/// handler's own failures are its to shape (the OAuth provider's RFC 6749 errors are replies).
#[derive(Clone, Copy)]
pub enum Shows {
    Envelope,
    Page(fn(Error) -> Result<Reply>),
}

/// Runs one request through a handler and turns the outcome into the contract's response.
pub async fn serve<H, Fut>(app: Arc<App>, req: Request, shows: Shows, handler: H) -> Response<Body>
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
    let cors_origin = tenant.as_ref().ok().and_then(|t| crate::edge::cors::allowed_origin(&req, &t.settings));

    let refused = |e: Error| match shows {
        Shows::Envelope => Err(e),
        Shows::Page(page) => page(e),
    };
    let (outcome, user_id) = CALLER
        .scope(std::cell::RefCell::new(None), async move {
            let outcome = match tenant {
                Err(e) => refused(e),
                Ok(_) if req.body().len() > MAX_BODY_BYTES => refused(Error::PayloadTooLarge),
                Ok(tenant) => handler(app, req, Cx { tenant, client }).await,
            };
            (outcome, CALLER.with(|c| c.borrow().clone()))
        })
        .await;
    let mut response = match outcome {
        Ok(reply) => success(reply, &request_id),
        Err(err) => failure(&err, &request_id),
    };
    crate::edge::cors::decorate(&mut response, cors_origin.as_deref());
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
