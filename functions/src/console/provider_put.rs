//! `PUT /api/v1/console/apps/{app_id}/providers/{provider}`: the app's credentials at an identity
//! provider. Google and GitHub take `{client_id, client_secret}`, Apple `{client_id, team_id,
//! key_id, private_key}` (the `.p8` key Apple hands out); each may add `extra_client_ids`, the
//! audiences of its native apps' ID tokens. The secret is write-only: sealed before it is stored,
//! never answered, never logged.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::Value;
use shared::App;
use shared::caller::Caller;
use shared::console::{self, ProviderInput};
use shared::error::{Error, Result};
use shared::social::{self, ProviderId};

use crate::edge::http::{self, Cx, Fields, Reply};

/// Client ids are the provider's strings (Google's end in `.apps.googleusercontent.com`, Apple's
/// are reverse-DNS Services IDs): printable, no spaces, bounded.
const MAX_CLIENT_ID_CHARS: usize = 256;
const MAX_SECRET_CHARS: usize = 512;
const MAX_EXTRA_CLIENT_IDS: usize = 10;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let provider = http::provider_param(&req)?;
    let input = parse(Fields::json(&req)?, provider)?;
    let view = console::put_provider(&app, caller.session()?, &id, provider, input, &cx.client).await?;
    Reply::ok("Identity provider configured.", view)
}

fn is_client_id(v: &str) -> bool {
    !v.is_empty() && v.chars().count() <= MAX_CLIENT_ID_CHARS && v.chars().all(|c| c.is_ascii_graphic())
}

/// Apple's team and key ids: ten upper-case letters and digits.
fn is_apple_id(v: &str) -> bool {
    v.len() == 10 && v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

pub fn parse(mut f: Fields, provider: ProviderId) -> Result<ProviderInput> {
    let client_id = f.required("client_id").filter(|v| {
        let ok = is_client_id(v);
        if !ok {
            f.reject("client_id", ["invalid_client_id"]);
        }
        ok
    });
    let extra_client_ids = match f.raw("extra_client_ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let ids: Vec<String> = items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
            if ids.len() != items.len() || !ids.iter().all(|v| is_client_id(v)) {
                f.reject("extra_client_ids", ["invalid_client_id"]);
            } else if ids.len() > MAX_EXTRA_CLIENT_IDS {
                f.reject("extra_client_ids", ["too_many"]);
            }
            ids
        }
        Some(_) => {
            f.reject("extra_client_ids", ["must_be_array_of_strings"]);
            Vec::new()
        }
    };
    let (secret, team_id, key_id) = match provider {
        ProviderId::Google | ProviderId::GitHub => {
            let secret = f.required("client_secret").filter(|v| {
                let ok = v.chars().count() <= MAX_SECRET_CHARS && !v.chars().any(char::is_control);
                if !ok {
                    f.reject("client_secret", ["invalid_client_secret"]);
                }
                ok
            });
            for field in ["team_id", "key_id", "private_key"] {
                if f.raw(field).is_some() {
                    f.reject(field, ["not_for_this_provider"]);
                }
            }
            (secret, None, None)
        }
        ProviderId::Apple => {
            let apple_id = |f: &mut Fields, field: &str| {
                f.required(field).filter(|v| {
                    let ok = is_apple_id(v);
                    if !ok {
                        f.reject(field, ["must_be_10_uppercase_letters_or_digits"]);
                    }
                    ok
                })
            };
            let team_id = apple_id(&mut f, "team_id");
            let key_id = apple_id(&mut f, "key_id");
            let key = f.required("private_key").filter(|pem| {
                let ok = pem.len() <= 4 * MAX_SECRET_CHARS && social::apple_key_is_usable(pem);
                if !ok {
                    f.reject("private_key", ["must_be_pkcs8_pem_p256_key"]);
                }
                ok
            });
            if f.raw("client_secret").is_some() {
                f.reject("client_secret", ["not_for_this_provider"]);
            }
            (key, team_id, key_id)
        }
    };
    f.finish()?;
    match (client_id, secret) {
        (Some(client_id), Some(secret)) => {
            Ok(ProviderInput { client_id, extra_client_ids, secret: secret.into(), team_id, key_id })
        }
        // Each missing or refused field has already failed `finish`.
        _ => Err(Error::field("client_id", "required")),
    }
}
