//! `POST /api/v1/auth/oauth/{provider}/callback`: Apple's `form_post` answer (a cross-site POST
//! of the browser, `application/x-www-form-urlencoded`): the same callback as the GET one, plus
//! Apple's `user` field.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;

use crate::edge::http::{Cx, Fields, Reply};
use crate::social::callback::{Answer, finish};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let mut f = Fields::form(&req)?;
    let answer = Answer {
        code: f.optional("code"),
        state: f.optional("state"),
        error: f.optional("error"),
        user: f.optional("user"),
    };
    f.finish()?;
    finish(app, &req, cx, answer).await
}
