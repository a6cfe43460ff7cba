//! `POST /api/v1/console/apps/{app_id}/secret-keys`: a new secret key for the app's backend,
//! shown in this answer only.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::caller::Caller;
use shared::console;
use shared::error::Result;

use crate::edge::http::{self, Cx, Reply};

const MAX_LABEL_CHARS: usize = 100;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let label = match http::optional_json(&req)? {
        Some(mut f) => {
            let label = f.optional("label").map(|l| l.trim().to_owned());
            if label
                .as_ref()
                .is_some_and(|l| l.chars().count() > MAX_LABEL_CHARS || l.chars().any(char::is_control))
            {
                f.reject("label", ["too_long_or_control_characters"]);
            }
            f.finish()?;
            label
        }
        None => None,
    };
    let created = console::create_secret_key(&app, caller.session()?, &id, label, &cx.client).await?;
    Ok(Reply::created("Secret key created. Store it now: it is not shown again.", created)?.no_store())
}
