//! The dashboard's pages, routed by method and path, each a client of the API's domain calls: one
//! file per group of pages, the words and helpers they share here.

use std::collections::HashMap;

use lambda_http::http::StatusCode;
use shared::error::{Error, Result};
use shared::ids::AppId;
use shared::settings::{AppSettings, PasswordPolicyKind};

use super::Page;
use super::views::{self, Card, Field, Form, Layout};
use crate::edge::http::Reply;
use crate::edge::page::PageResult;

mod apps;
mod audit;
mod lists;
mod oauth_clients;
mod providers;
mod secret_keys;
mod settings;
pub(super) mod sign_in;
mod users;

use apps::*;
use audit::*;
use lists::*;
use oauth_clients::*;
use providers::*;
use secret_keys::*;
use settings::*;
use sign_in::*;
use users::*;

pub(super) type FormData = HashMap<String, String>;

/// The rows of the users and audit lists per page.
pub(super) const PAGE_SIZE: i32 = 25;

pub async fn route(p: &mut Page<'_>, post: bool, segments: &[&str], form: FormData) -> PageResult {
    let form = post.then_some(form);
    // Each page's future is boxed: inline, the largest would make every page's as large.
    match (post, segments) {
        (false, []) => Box::pin(apps(p)).await,
        (_, ["signup"]) => Box::pin(signup(p, form)).await,
        (_, ["login"]) => Box::pin(login(p, form)).await,
        (true, ["logout"]) => Box::pin(logout(p)).await,
        (_, ["verify-email"]) => Box::pin(mailed_link(p, Link::VerifyEmail, form)).await,
        (_, ["magic-link"]) => Box::pin(mailed_link(p, Link::SignIn, form)).await,
        (_, ["confirm-deletion"]) => Box::pin(mailed_link(p, Link::ConfirmDeletion, form)).await,
        (_, ["cancel-deletion"]) => Box::pin(mailed_link(p, Link::CancelDeletion, form)).await,
        (_, ["resend-verification"]) => Box::pin(ask_by_email(p, Ask::Verification, form)).await,
        (_, ["sign-in-link"]) => Box::pin(ask_by_email(p, Ask::SignInLink, form)).await,
        (_, ["forgot-password"]) => Box::pin(ask_by_email(p, Ask::PasswordReset, form)).await,
        (_, ["reset-password"]) => Box::pin(reset_password(p, form)).await,
        (_, ["apps", "new"]) => Box::pin(new_app(p, form)).await,
        (_, ["apps", id, rest @ ..]) => {
            let id = AppId::parse(id).ok_or(Error::NotFound)?;
            Box::pin(app_page(p, &id, rest, form)).await
        }
        _ => Err(Error::NotFound.into()),
    }
}

// ----- words -----------------------------------------------------------------------------------------

/// The words for an error a form can meet; `None` for one that is no user's doing.
pub fn banner(e: &Error) -> Option<String> {
    Some(
        match e {
            Error::InvalidCredentials => "The email or password is incorrect.",
            Error::EmailNotVerified => "Verify your email address first: open the link we sent you.",
            Error::AccountDisabled => "This account is disabled.",
            Error::AccountPendingDeletion => "This account is scheduled for deletion.",
            Error::LoginLocked => "Too many failed sign-ins: reset your password to sign in again.",
            Error::EmailTaken => "An account with this email address already exists.",
            Error::InvalidToken => "This link is invalid, has been used already or has expired.",
            Error::Forbidden => "This is not allowed here.",
            Error::Conflict => {
                "This conflicts with the current state (a limit is reached, or something changed meanwhile)."
            }
            Error::RateLimited { retry_after_seconds } => {
                return Some(format!(
                    "Too many attempts. Please wait {retry_after_seconds} seconds and try again."
                ));
            }
            _ => return None,
        }
        .to_owned(),
    )
}

/// The notice of a page reached after an action (`?done=`): fixed words, nothing of the URL shown.
pub(super) fn notice(p: &Page<'_>) -> Option<String> {
    let text = match p.query("done")?.as_str() {
        "signed_out" => "You are signed out.",
        "verified" => "Your email address is verified. Sign in to continue.",
        "password_reset" => "Your password is changed. Sign in with the new one.",
        "deletion_cancelled" => "The deletion of your account is cancelled. Sign in to continue.",
        "app_created" => "App created. Its endpoints are below.",
        "app_deleted" => "App deleted.",
        "settings_saved" => "Settings saved.",
        "key_revoked" => "Secret key revoked: it no longer works.",
        "client_saved" => "OAuth client saved.",
        "client_deleted" => "OAuth client deleted.",
        "provider_saved" => "Provider configured.",
        "provider_removed" => "Provider removed.",
        "user_disabled" => "User disabled: their sessions and API keys stopped.",
        "user_enabled" => "User enabled.",
        "sessions_revoked" => "Every session of the user is ended.",
        "factors_removed" => {
            "Every second factor and recovery code of the user is removed; the user was told by mail."
        }
        "reset_sent" => "A password reset mail is on its way to the user.",
        "user_deleted" => "User deleted.",
        _ => return None,
    };
    Some(text.to_owned())
}

/// Puts a refusal on the form: each broken rule next to its field, anything else in the banner.
/// The status to answer with; an error that is nobody's doing goes up (the error page).
pub(super) fn refused(e: Error, fields: &mut [Field], layout: &mut Layout) -> Result<StatusCode> {
    match e {
        Error::Validation(errors) => {
            let unplaced = views::attach(fields, &errors);
            layout.error = Some(unplaced.unwrap_or_else(|| "Check the fields marked below.".to_owned()));
            Ok(StatusCode::BAD_REQUEST)
        }
        e => match banner(&e) {
            Some(text) => {
                layout.error = Some(text);
                Ok(crate::edge::http::failure(&e, "").status())
            }
            None => Err(e),
        },
    }
}

pub(super) fn value(form: Option<&FormData>, name: &str) -> String {
    form.and_then(|f| f.get(name)).cloned().unwrap_or_default()
}

pub(super) fn card_form(
    status: StatusCode,
    layout: &Layout,
    heading: &str,
    lead: impl Into<String>,
    form: Form,
    links: Vec<(String, &'static str)>,
) -> PageResult {
    views::page(status, &Card { l: layout, heading, lead: lead.into(), form: Some(form), links })
}

pub(super) fn to(path: impl Into<String>) -> PageResult {
    Ok(Reply::redirect(path.into()))
}

pub(super) fn password_hint(settings: &AppSettings) -> &'static str {
    match settings.password_policy {
        PasswordPolicyKind::Default => {
            "At least 8 characters, with a lower-case and an upper-case letter and a digit."
        }
        PasswordPolicyKind::Nist => "At least 15 characters.",
    }
}
