//! A second factor: the user's factors (TOTP apps, recovery codes), the second step of a sign-in
//! and the step-up of a session (`shared::mfa`).

pub mod challenge;
pub mod factor_delete;
pub mod factors_list;
pub mod recovery_codes;
pub mod totp_confirm;
pub mod totp_create;
pub mod verify;

use lambda_http::Request;
use shared::caller::Caller;
use shared::error::{Error, Result};
use shared::mfa::Enroller;

use crate::edge::cookies;
use crate::edge::http::Fields;

/// Who enrols: the caller's session, or (no session sent) the `mfa_token` of a sign-in that must
/// enrol a factor first, with the browser's binding cookie when it has one.
fn enroller<'a>(
    caller: &'a Option<Caller>,
    mfa_token: Option<&'a str>,
    browser: Option<&'a str>,
) -> Result<Enroller<'a>> {
    match (caller, mfa_token) {
        (Some(caller), None) => Ok(Enroller::Session(caller.session()?)),
        (None, Some(mfa_token)) => Ok(Enroller::Pending { mfa_token, browser }),
        // Both, or neither: which account is meant cannot be told.
        (Some(_), Some(_)) => Err(Error::field("mfa_token", "not_with_a_session")),
        (None, None) => Err(Error::Unauthorized),
    }
}

/// The body of a route that takes a session or an `mfa_token`: without either (no caller and no
/// body), the request is unauthenticated rather than malformed.
fn body(req: &Request, caller: &Option<Caller>) -> Result<Fields> {
    match crate::edge::http::optional_json(req)? {
        Some(fields) => Ok(fields),
        None if caller.is_none() => Err(Error::Unauthorized),
        None => Fields::json(req),
    }
}

/// The browser's binding cookie of a second step (cookie mode).
fn browser(req: &Request) -> Option<String> {
    cookies::read(req, cookies::MFA)
}

/// A factor's name: 1 to 64 characters, no control characters.
fn factor_name(f: &mut Fields) -> Option<String> {
    let name = f.required("name")?;
    let name = name.trim().to_owned();
    if name.chars().count() > 64 {
        f.reject("name", ["too_long"]);
        return None;
    }
    if name.chars().any(char::is_control) {
        f.reject("name", ["control_characters"]);
        return None;
    }
    Some(name)
}
