//! `OPTIONS /{proxy+}`: CORS preflight. An allowed origin learns the methods and headers it may
//! use; any other origin is refused.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::{Error, Result};

use crate::edge::cors;
use crate::edge::http::{Cx, Reply};

pub async fn handle(_app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let tenant = cx.tenant;
    if cors::allowed_origin(&req, &tenant.settings).is_none() {
        return Err(Error::Forbidden);
    }
    Ok(Reply::no_content()
        .header("access-control-allow-methods", cors::ALLOWED_METHODS)
        .header("access-control-allow-headers", cors::ALLOWED_HEADERS)
        .header("access-control-max-age", "600"))
}
