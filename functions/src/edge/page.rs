//! What a page handler stops with when it does not show its own page: the service's failure, a
//! message page, or a redirect. The provider's pages and the dashboard each render it in one place
//! (`provider::pages::answer`, the dashboard's `Page::finish`), once per handler, so a handler
//! writes `?` where it used to write an early return per failure.

use lambda_http::http::StatusCode;
use shared::error::Error;

use crate::edge::http::Reply;

/// Why a page handler stopped short of its page.
#[derive(Debug)]
pub enum Stop {
    /// The service failed, or refused in a way the page's surface words itself (a rate limit, an
    /// unavailable dependency, a missing session).
    Failed(Error),
    /// A page of a heading and a sentence.
    Message { status: StatusCode, heading: &'static str, text: String },
    /// Elsewhere (a refused authorization sent back to its client).
    Redirect(String),
}

/// A page handler's outcome.
pub type PageResult = Result<Reply, Stop>;

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Failed(e)
    }
}

impl Stop {
    pub fn message(status: StatusCode, heading: &'static str, text: impl Into<String>) -> Self {
        Stop::Message { status, heading, text: text.into() }
    }
}
