//! Signing up and in: sign-up, sign-in, sign-out, the mailed links and the forms that ask for them, password reset.

use lambda_http::http::StatusCode;
use serde_json::Value;
use shared::audit::EventType;
use shared::domain::Email;
use shared::error::Error;
use shared::ratelimit::{self, Route};
use shared::{accounts, recovery, sessions};

use crate::dashboard::views::{Field, Form};
use crate::dashboard::{Page, json_of, session};
use crate::edge::http::Fields;
use crate::edge::page::PageResult;

use super::*;

pub(super) async fn signup(p: &mut Page<'_>, form: Option<FormData>) -> PageResult {
    let console = p.cx.tenant.clone();
    let mut layout = p.layout("Create your account");
    let mut fields = vec![
        Field::new("email", "Email", "email")
            .value(value(form.as_ref(), "email"))
            .required()
            .autocomplete("email"),
        Field::new("password", "Password", "password")
            .required()
            .autocomplete("new-password")
            .hint(password_hint(&console.settings)),
        Field::new("name", "Your name (optional)", "text")
            .value(value(form.as_ref(), "name"))
            .autocomplete("name"),
    ];
    let mut status = StatusCode::OK;
    if let Some(form) = &form {
        let mut map = json_of(form, &["email", "name"], &[], &[], &[]);
        map.retain(|_, v| v.as_str().is_none_or(|s| !s.is_empty()));
        // The password as typed, as the API takes it (a space at either end is part of it).
        if let Some(password) = form.get("password").filter(|p| !p.is_empty()) {
            map.insert("password".into(), Value::String(password.clone()));
        }
        let outcome = match crate::auth::register::parse(&console, Fields::from_map(map)) {
            Ok(input) => accounts::register(p.app, &console, input, &p.cx.client).await.map(|_| ()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                return p.card(
                    StatusCode::OK,
                    &layout,
                    "Check your inbox",
                    "We sent a link to your email address. Open it to verify the address, then sign in.",
                );
            }
            Err(Error::Forbidden) => {
                layout.error =
                    Some("Sign-up is closed on this service: ask its operator for an account.".into());
                status = StatusCode::FORBIDDEN;
            }
            Err(e) => status = refused(e, &mut fields, &mut layout)?,
        }
    }
    let form = Form {
        id: "signup",
        action: "/dashboard/signup".into(),
        fields,
        submit: "Create account",
        danger: false,
    };
    let links = vec![("/dashboard/login".to_owned(), "Already have an account? Sign in")];
    card_form(status, &layout, "Create your account", "Build sign-in for your apps in minutes.", form, links)
}

pub(super) async fn login(p: &mut Page<'_>, form: Option<FormData>) -> PageResult {
    let console = p.cx.tenant.clone();
    // Already signed in (another tab, or a request that lost a race to rotate the session's
    // pair while this browser kept the newer cookie): home.
    if form.is_none()
        && let Ok(Some(signed)) = session::signed_in(p.app, p.req, &console, &p.cx.client).await
    {
        // A pair rotated on the way keeps the browser signed in.
        p.cookies.extend(signed.renewed);
        return to("/dashboard");
    }
    let mut layout = p.layout("Sign in");
    layout.notice = notice(p);
    let mut fields = vec![
        Field::new("email", "Email", "email")
            .value(value(form.as_ref(), "email"))
            .required()
            .autocomplete("username"),
        Field::new("password", "Password", "password").required().autocomplete("current-password"),
    ];
    let mut status = StatusCode::OK;
    if let Some(form) = &form {
        let outcome = match Email::parse(&value(Some(form), "email")) {
            Ok(email) => {
                accounts::login(p.app, &console, &email, &value(Some(form), "password"), &p.cx.client, false)
                    .await
                    .and_then(signed_in)
            }
            Err(rule) => Err(Error::field("email", rule)),
        };
        match outcome {
            Ok(logged_in) => {
                start_session(p, &logged_in.pair).await;
                return to("/dashboard");
            }
            Err(e) => status = refused(e, &mut fields, &mut layout)?,
        }
    }
    let form =
        Form { id: "login", action: "/dashboard/login".into(), fields, submit: "Sign in", danger: false };
    let links = vec![
        ("/dashboard/forgot-password".to_owned(), "Forgot your password?"),
        ("/dashboard/sign-in-link".to_owned(), "Email me a sign-in link"),
        ("/dashboard/resend-verification".to_owned(), "No verification mail?"),
        ("/dashboard/signup".to_owned(), "Create an account"),
    ];
    card_form(status, &layout, "Sign in to the console", "", form, links)
}

/// A new session in this browser: the one its cookie held ends, rather than counting against the
/// developer's sessions until it expires.
pub(super) async fn start_session(p: &mut Page<'_>, pair: &shared::tokens::IssuedPair) {
    let console = p.cx.tenant.clone();
    if let Ok(Some(previous)) = session::signed_in(p.app, p.req, &console, &p.cx.client).await {
        let who = previous.who;
        let ended = sessions::revoke(
            p.app,
            &who.tenant_id,
            &who.user_id,
            &who.session_id,
            EventType::Logout,
            &p.cx.client,
        )
        .await;
        if let Err(e) = ended {
            // The new session stands; the old one expires in its time.
            tracing::warn!(error = %e, "dashboard: the browser's previous session could not be ended");
        }
    }
    p.cookies.push(session::session_cookie(&console, pair));
}

pub(super) async fn logout(p: &mut Page<'_>) -> PageResult {
    let console = p.cx.tenant.clone();
    if let Some(signed) = session::signed_in(p.app, p.req, &console, &p.cx.client).await? {
        let who = signed.who;
        match sessions::revoke(
            p.app,
            &who.tenant_id,
            &who.user_id,
            &who.session_id,
            EventType::Logout,
            &p.cx.client,
        )
        .await
        {
            Ok(()) | Err(Error::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    p.cookies.push(session::session_cleared());
    to("/dashboard/login?done=signed_out")
}

/// A link the console's mails carry (`mailer::link`: `<frontend_url>/<page>?token=`). It opens a
/// page whose button (a POST) uses the token, so a mail scanner that follows the link uses nothing.
#[derive(Clone, Copy)]
pub(super) enum Link {
    VerifyEmail,
    SignIn,
    ConfirmDeletion,
    CancelDeletion,
}

impl Link {
    fn page(self) -> &'static str {
        match self {
            Link::VerifyEmail => "verify-email",
            Link::SignIn => "magic-link",
            Link::ConfirmDeletion => "confirm-deletion",
            Link::CancelDeletion => "cancel-deletion",
        }
    }

    /// Heading, words and button.
    fn words(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Link::VerifyEmail => (
                "Verify your email address",
                "One click and your account is ready.",
                "Verify my email address",
            ),
            Link::SignIn => ("Sign in to the console", "Your sign-in link is valid once.", "Sign in"),
            Link::ConfirmDeletion => (
                "Delete your account",
                "Your account is disabled at once and erased after the grace period; the mail that follows lets you cancel until then.",
                "Delete my account",
            ),
            Link::CancelDeletion => {
                ("Keep your account", "Cancel the deletion of your account.", "Keep my account")
            }
        }
    }

    /// The per-address limit of the API route that takes the same token.
    fn limit(self) -> Route {
        match self {
            Link::VerifyEmail | Link::SignIn => Route::VerifyEmail,
            Link::ConfirmDeletion => Route::DeletionConfirm,
            Link::CancelDeletion => Route::DeletionCancel,
        }
    }
}

pub(super) async fn mailed_link(p: &mut Page<'_>, link: Link, form: Option<FormData>) -> PageResult {
    let console = p.cx.tenant.clone();
    let (heading, lead, button) = link.words();
    let mut layout = p.layout(heading);
    let token = match &form {
        Some(form) => value(Some(form), "token"),
        None => p.query("token").unwrap_or_default(),
    };
    let mut status = StatusCode::OK;
    if form.is_some() {
        let client = &p.cx.client;
        let used = match ratelimit::hit(p.app, &console.id, link.limit(), client, None).await {
            Err(e) => Err(e),
            Ok(_) => match link {
                Link::VerifyEmail => {
                    accounts::verify_email(p.app, &console, &token, client).await.map(|_| None)
                }
                Link::SignIn => {
                    // Only in the browser that asked for the link (its binding cookie).
                    let secret = session::sign_in_link_secret(p.req);
                    recovery::verify_magic_link(p.app, &console, &token, Some(&secret), client, false)
                        .await
                        .and_then(signed_in)
                        .map(Some)
                }
                Link::ConfirmDeletion => {
                    recovery::confirm_deletion(p.app, &console, &token, client).await.map(|_| None)
                }
                Link::CancelDeletion => {
                    recovery::cancel_deletion(p.app, &console, &token, client).await.map(|_| None)
                }
            },
        };
        match used {
            Ok(logged_in) => {
                return match (link, logged_in) {
                    (Link::VerifyEmail, _) => to("/dashboard/login?done=verified"),
                    (Link::SignIn, Some(logged_in)) => {
                        p.cookies.push(session::sign_in_link_cleared());
                        start_session(p, &logged_in.pair).await;
                        to("/dashboard")
                    }
                    (Link::ConfirmDeletion, _) => {
                        p.cookies.push(session::session_cleared());
                        let text = "Your account is disabled and will be erased at the end of the grace period. The mail we sent lets you cancel until then.";
                        p.card(StatusCode::OK, &layout, "Your account is scheduled for deletion", text)
                    }
                    _ => to("/dashboard/login?done=deletion_cancelled"),
                };
            }
            Err(Error::Conflict) if matches!(link, Link::ConfirmDeletion) => {
                layout.error = Some("You still own apps: delete them first, then use the link again.".into());
                status = StatusCode::CONFLICT;
            }
            Err(e) => status = refused(e, &mut [], &mut layout)?,
        }
    }
    let form = Form {
        id: "link",
        action: format!("/dashboard/{}", link.page()),
        fields: vec![Field::new("token", "", "hidden").value(token)],
        submit: button,
        danger: matches!(link, Link::ConfirmDeletion),
    };
    card_form(status, &layout, heading, lead, form, Vec::new())
}

/// A page that asks for an address and mails it a link. It answers alike whether the address has
/// an account or not (the API's rule), after the same per-address limit as the API's route.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Ask {
    PasswordReset,
    Verification,
    SignInLink,
}

pub(super) async fn ask_by_email(p: &mut Page<'_>, ask: Ask, form: Option<FormData>) -> PageResult {
    let console = p.cx.tenant.clone();
    let (heading, lead, submit, page) = match ask {
        Ask::PasswordReset => (
            "Reset your password",
            "We will mail you a link to choose a new one.",
            "Send me a link",
            "forgot-password",
        ),
        Ask::Verification => (
            "Verify your email address",
            "We will mail you a new verification link.",
            "Send me a new link",
            "resend-verification",
        ),
        Ask::SignInLink => (
            "Sign in with a link",
            "We will mail you a link that signs you in once.",
            "Email me a link",
            "sign-in-link",
        ),
    };
    let mut layout = p.layout(heading);
    let mut fields = vec![
        Field::new("email", "Email", "email")
            .value(value(form.as_ref(), "email"))
            .required()
            .autocomplete("email"),
    ];
    let mut status = StatusCode::OK;
    if let Some(form) = &form {
        let client = &p.cx.client;
        let outcome = match Email::parse(&value(Some(form), "email")) {
            Err(rule) => Err(Error::field("email", rule)),
            Ok(email) => {
                let limited = match ask {
                    Ask::PasswordReset => Some(Route::PasswordReset),
                    Ask::Verification => Some(Route::ResendVerification),
                    // `request_magic_link` takes the magic link's limits itself.
                    Ask::SignInLink => None,
                };
                match limited {
                    Some(route) => {
                        ratelimit::hit(p.app, &console.id, route, client, Some(email.normalized()))
                            .await
                            .map(|_| ())
                    }
                    None => Ok(()),
                }
                .and(Ok(email))
            }
        };
        let outcome = match outcome {
            Ok(email) => match ask {
                Ask::PasswordReset => recovery::request_password_reset(p.app, &console, &email, client).await,
                Ask::Verification => recovery::resend_verification(p.app, &console, &email, client).await,
                Ask::SignInLink => {
                    // The link signs in only the browser that holds this secret (login CSRF).
                    let (cookie, binding) = session::sign_in_link_binding(p.app, p.req);
                    p.cookies.push(cookie);
                    recovery::request_magic_link(p.app, &console, &email, client, None, Some(binding)).await
                }
            },
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                let text =
                    "If this address can use it, a link is on its way. It is valid for a limited time.";
                return p.card(StatusCode::OK, &layout, "Check your inbox", text);
            }
            Err(e) => status = refused(e, &mut fields, &mut layout)?,
        }
    }
    let form = Form { id: "ask", action: format!("/dashboard/{page}"), fields, submit, danger: false };
    let links = vec![("/dashboard/login".to_owned(), "Back to sign in")];
    card_form(status, &layout, heading, lead, form, links)
}

pub(super) async fn reset_password(p: &mut Page<'_>, form: Option<FormData>) -> PageResult {
    let console = p.cx.tenant.clone();
    let mut layout = p.layout("Choose a new password");
    let token = match &form {
        Some(form) => value(Some(form), "token"),
        None => p.query("token").unwrap_or_default(),
    };
    let mut fields = vec![
        Field::new("token", "", "hidden").value(token.clone()),
        Field::new("new_password", "New password", "password")
            .required()
            .autocomplete("new-password")
            .hint(password_hint(&console.settings)),
    ];
    let mut status = StatusCode::OK;
    if let Some(form) = &form {
        let client = &p.cx.client;
        let outcome =
            match ratelimit::hit(p.app, &console.id, Route::PasswordResetConfirm, client, None).await {
                Ok(_) => {
                    let password = value(Some(form), "new_password");
                    recovery::confirm_password_reset(p.app, &console, &token, &password, client).await
                }
                Err(e) => Err(e),
            };
        match outcome {
            Ok(()) => return to("/dashboard/login?done=password_reset"),
            Err(e) => status = refused(e, &mut fields, &mut layout)?,
        }
    }
    let form = Form {
        id: "reset",
        action: "/dashboard/reset-password".into(),
        fields,
        submit: "Change my password",
        danger: false,
    };
    card_form(status, &layout, "Choose a new password", "", form, Vec::new())
}

/// The session of a dashboard sign-in. The console app asks no second factor (`mfa: off`), so a
/// second step never comes here; were it configured to, the sign-in is refused rather than let
/// in with one factor.
fn signed_in(outcome: shared::mfa::SignIn) -> Result<shared::accounts::LoggedIn> {
    match outcome {
        shared::mfa::SignIn::Tokens(logged_in) => Ok(*logged_in),
        shared::mfa::SignIn::SecondFactor(_) => Err(Error::Forbidden),
    }
}
