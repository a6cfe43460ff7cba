//! `/dashboard`: the developer console in the browser, served by one function that routes its
//! pages in-process (a function per page would cost the stack a function, a role and a permission
//! each). Server-rendered (askama), one style sheet and one small script for copy buttons, every
//! page usable without script.
//!
//! Every action is a call of the console or management API's own domain functions (`console`,
//! `oauth::clients`, `admin`, `accounts`, `recovery`), with the same rules and limits; a refusal
//! of those becomes words on the page (next to the field it is about), never a JSON body. Every
//! form carries the CSRF token of `session::csrf`, checked before anything else.

mod pages;
mod session;
mod views;

use std::sync::Arc;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Request, RequestExt};
use serde_json::{Map, Value};
use shared::App;
use shared::error::{Error, Result};
use shared::tokens::Identity;

use crate::edge::http::{Cx, Reply};
use crate::edge::page::{PageResult, Stop};
use views::{Card, Layout};

const CSS: &str = include_str!("../../assets/dashboard.css");
const JS: &str = include_str!("../../assets/dashboard.js");

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let path = subpath(&req);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let post = req.method() == Method::POST;
    match (post, segments.as_slice()) {
        (false, ["assets", "dashboard.css"]) => return Ok(Reply::asset("text/css; charset=utf-8", CSS)),
        (false, ["assets", "dashboard.js"]) => return Ok(Reply::asset("text/javascript; charset=utf-8", JS)),
        _ => {}
    }
    let (csrf, csrf_cookie) = session::csrf(&req);
    let mut page = Page {
        app: &app,
        req: &req,
        cx: &cx,
        csrf,
        cookies: csrf_cookie.into_iter().collect(),
        signed_in: false,
    };
    let form = if post {
        match crate::edge::http::page_form(&req) {
            Some(form) if session::csrf_matches(&req, form.get("csrf_token").map(String::as_str)) => form,
            _ => return page.finish(Err(stale_form())),
        }
    } else {
        Default::default()
    };
    // Boxed: the pages' futures together are large, and a test thread's stack is 2 MiB.
    let outcome = Box::pin(pages::route(&mut page, post, &segments, form)).await;
    page.finish(outcome)
}

/// A form that did not come from this browser's page (no or another CSRF token).
fn stale_form() -> Stop {
    Stop::message(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "It was not sent from this browser's page. Go back, reload the page and try again.",
    )
}

/// The page for what the edge refuses before any page runs: a form too large to read, or the
/// `console` app that cannot be loaded (a browser gets a page, never the envelope).
pub fn edge_failure(e: Error) -> Result<Reply> {
    let layout = Layout {
        title: "Error".into(),
        csrf: String::new(),
        signed_in: false,
        app: None,
        notice: None,
        error: None,
        secret: None,
    };
    let (status, heading, text) = match e {
        Error::PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "This form is too large",
            "This form is larger than the service accepts (16 KiB). Go back and shorten it.",
        ),
        Error::Dependency { .. } => {
            tracing::warn!(error = %e, "dashboard: a dependency failed");
            (StatusCode::SERVICE_UNAVAILABLE, "Temporarily unavailable", "Please try again in a moment.")
        }
        other => {
            tracing::error!(error = %other, "dashboard: the console could not be loaded");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again.")
        }
    };
    views::page(status, &Card { l: &layout, heading, lead: text.into(), form: None, links: Vec::new() })
}

/// The part of the path after `/dashboard` (API Gateway's `{proxy+}`, or the path itself).
fn subpath(req: &Request) -> String {
    if let Some(p) = crate::edge::http::path_param(req, "proxy") {
        return p;
    }
    let raw = req.raw_http_path();
    let path = if raw.is_empty() { req.uri().path() } else { raw };
    path.split_once("/dashboard").map(|(_, rest)| rest.to_owned()).unwrap_or_default()
}

/// One request of the dashboard: what every page needs to be made.
pub struct Page<'a> {
    app: &'a App,
    req: &'a Request,
    cx: &'a Cx,
    csrf: String,
    /// Cookies the response sets (a new CSRF cookie, a renewed or ended session).
    cookies: Vec<String>,
    /// A developer's session was found: every page made from here on shows the navigation
    /// (error pages too).
    signed_in: bool,
}

impl Page<'_> {
    fn layout(&self, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            csrf: self.csrf.clone(),
            signed_in: self.signed_in,
            app: None,
            notice: None,
            error: None,
            secret: None,
        }
    }

    /// The signed-in developer, counted against the console's quota like a call of the console
    /// API; `Unauthorized` (answered with the sign-in page) without a live session.
    async fn developer(&mut self) -> Result<Identity> {
        let console = &self.cx.tenant;
        let signed = session::signed_in(self.app, self.req, console, &self.cx.client).await?;
        let Some(signed) = signed else { return Err(Error::Unauthorized) };
        self.cookies.extend(signed.renewed);
        self.signed_in = true;
        let actor = shared::caller::Caller::Session(signed.who.clone()).actor();
        shared::ratelimit::hit(
            self.app,
            &console.id,
            shared::ratelimit::Route::Console,
            &self.cx.client,
            Some(&actor),
        )
        .await?;
        Ok(signed.who)
    }

    fn query(&self, name: &str) -> Option<String> {
        self.req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_owned)
    }

    /// A card page (a message, or one form).
    fn card<E: From<Error>>(
        &self,
        status: StatusCode,
        layout: &Layout,
        heading: &str,
        lead: impl Into<String>,
    ) -> std::result::Result<Reply, E> {
        views::page(status, &Card { l: layout, heading, lead: lead.into(), form: None, links: Vec::new() })
    }

    /// The response: the page, or the page of why it stopped, with the cookies either way. Every
    /// dashboard page ends here, once.
    fn finish(&self, outcome: PageResult) -> Result<Reply> {
        let reply = match outcome {
            Ok(reply) => reply,
            Err(Stop::Failed(e)) => self.failure(e)?,
            Err(Stop::Message { status, heading, text }) => {
                self.card(status, &self.layout(heading), heading, text)?
            }
            Err(Stop::Redirect(url)) => Reply::redirect(url),
        };
        Ok(self.cookies.iter().cloned().fold(reply, Reply::cookie))
    }

    /// An error no page handled itself, as a page.
    fn failure(&self, e: Error) -> Result<Reply> {
        let layout = self.layout("Error");
        let (status, heading, text) = match e {
            Error::Unauthorized => {
                // No session, or it has ended: to the sign-in page. The cookie stays: when two
                // requests raced to rotate an expired pair, this one lost, and clearing the cookie
                // could erase the winner's new one (the sign-in page sends a live session home).
                return Ok(Reply::redirect("/dashboard/login".into()));
            }
            Error::NotFound => {
                (StatusCode::NOT_FOUND, "Not found", "There is no such page, or it is not yours.".into())
            }
            Error::RateLimited { retry_after_seconds } => {
                let text = format!("Please wait {retry_after_seconds} seconds and try again.");
                let reply = self.card(StatusCode::TOO_MANY_REQUESTS, &layout, "Too many requests", text)?;
                return Ok(reply.header_value("retry-after", retry_after_seconds.to_string()));
            }
            Error::Dependency { .. } => {
                tracing::warn!(error = %e, "dashboard: a dependency failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "Please try again in a moment.".into(),
                )
            }
            Error::Validation(errors) => {
                let text = views::attach(&mut [], &errors).unwrap_or_default();
                (StatusCode::BAD_REQUEST, "This request cannot be used", text)
            }
            Error::MalformedRequest(_) | Error::PayloadTooLarge | Error::UnsupportedMediaType => (
                StatusCode::BAD_REQUEST,
                "This request cannot be used",
                "Go back, reload the page and try again.".into(),
            ),
            other => match pages::banner(&other) {
                Some(text) => (crate::edge::http::failure(&other, "").status(), "This cannot be done", text),
                None => {
                    tracing::error!(error = %other, "dashboard page failed");
                    (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again.".into())
                }
            },
        };
        self.card(status, &layout, heading, text)
    }
}

/// A page's form as the JSON object the API takes: each field a string (an emptied one as `""`,
/// so that the API's `required` rule names it rather than the old value staying), but for the ones
/// named in `lists` (a line or a space each: one item), `flags` (a ticked checkbox is sent, an
/// unticked one is not) and `numbers` (sent as numbers when they are whole ones, as typed
/// otherwise, so that the API's rule names the mistake). Fields the form lacks are left out.
fn json_of(
    form: &std::collections::HashMap<String, String>,
    texts: &[&str],
    lists: &[&str],
    flags: &[&str],
    numbers: &[&str],
) -> Map<String, Value> {
    let mut map = Map::new();
    for name in texts {
        if let Some(v) = form.get(*name) {
            map.insert((*name).to_owned(), Value::String(v.trim().to_owned()));
        }
    }
    for name in lists {
        let items: Vec<Value> = form
            .get(*name)
            .map(|v| v.split_whitespace().map(|s| Value::String(s.to_owned())).collect())
            .unwrap_or_default();
        map.insert((*name).to_owned(), Value::Array(items));
    }
    for name in flags {
        map.insert((*name).to_owned(), Value::Bool(form.contains_key(*name)));
    }
    for name in numbers {
        if let Some(v) = form.get(*name).map(|v| v.trim()) {
            let value = v.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::String(v.to_owned()));
            map.insert((*name).to_owned(), value);
        }
    }
    map
}
