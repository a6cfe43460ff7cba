//! `POST /api/v1/auth/api-keys`: a new API key for the caller (`label`, `scopes`, optional
//! `expires_at`), shown in this answer only.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lambda_http::Request;
use serde_json::Value;
use shared::App;
use shared::api_keys::{self, KeyRequest};
use shared::caller::Caller;
use shared::error::Result;

use crate::edge::http::{Cx, Fields, Reply};

const MAX_LABEL_CHARS: usize = 100;
const MAX_SCOPES: usize = 20;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let mut f = Fields::json(&req)?;
    let label = f.required("label").map(|l| l.trim().to_owned()).unwrap_or_default();
    if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        f.reject("label", ["too_long_or_control_characters"]);
    }
    let scopes = match f.raw("scopes").cloned() {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_SCOPES => {
            match items.iter().map(|v| v.as_str().map(str::to_owned)).collect::<Option<Vec<String>>>() {
                Some(named) => named.iter().fold(Vec::new(), |mut unique, scope| {
                    if !unique.contains(scope) {
                        unique.push(scope.clone());
                    }
                    unique
                }),
                None => {
                    f.reject("scopes", ["must_be_list_of_strings"]);
                    Vec::new()
                }
            }
        }
        None | Some(Value::Null) => {
            f.reject("scopes", ["required"]);
            Vec::new()
        }
        Some(Value::Array(_)) => {
            f.reject("scopes", ["must_name_1_to_20_scopes"]);
            Vec::new()
        }
        Some(_) => {
            f.reject("scopes", ["must_be_list_of_strings"]);
            Vec::new()
        }
    };
    let expires_at = match f.raw("expires_at").cloned() {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match DateTime::parse_from_rfc3339(&s) {
            Ok(at) => Some(at.with_timezone(&Utc)),
            Err(_) => {
                f.reject("expires_at", ["must_be_rfc3339_datetime"]);
                None
            }
        },
        Some(_) => {
            f.reject("expires_at", ["must_be_rfc3339_datetime"]);
            None
        }
    };
    f.finish()?;
    let request = KeyRequest { label, scopes, expires_at };
    let created = api_keys::create(&app, &cx.tenant, &who.user_id, request, &cx.client).await?;
    Ok(Reply::created("API key created. Store it now: it is not shown again.", created)?.no_store())
}
