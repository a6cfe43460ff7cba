//! `OPTIONS /{proxy+}`: CORS preflight. An allowed origin learns the methods and headers it may
//! use; any other origin is refused.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::audit::ClientInfo;
use shared::error::{Error, Result};

use crate::cors;
use crate::http::Reply;

pub async fn handle(app: Arc<App>, req: Request, _client: ClientInfo) -> Result<Reply> {
    if cors::allowed_origin(&req, &app.config).is_none() {
        return Err(Error::Forbidden);
    }
    Ok(Reply::no_content()
        .header("access-control-allow-methods", cors::ALLOWED_METHODS)
        .header("access-control-allow-headers", cors::ALLOWED_HEADERS)
        .header("access-control-max-age", "600"))
}
