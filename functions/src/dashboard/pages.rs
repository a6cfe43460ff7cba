//! The dashboard's pages, routed by method and path, each a client of the API's domain calls.

use std::collections::HashMap;

use lambda_http::http::StatusCode;
use serde_json::{Map, Value, json};
use shared::admin::{self, UserChanges};
use shared::audit::EventType;
use shared::caller::Caller;
use shared::console::{self, AppView};
use shared::domain::Email;
use shared::error::{Error, Result};
use shared::ids::{AppId, ClientId, KeyId, UserId};
use shared::model::{ClientType, GrantType, UserStatus};
use shared::oauth::clients::{self, ClientView};
use shared::ratelimit::{self, Route};
use shared::settings::{AppSettings, LinkByEmail, PasswordPolicyKind};
use shared::social::ProviderId;
use shared::tokens::Identity;
use shared::{accounts, recovery, sessions};

use super::views::{
    self, AppNav, AppRow, AppsPage, Card, Field, Filter, Form, Layout, OverviewPage, Row, SectionPage,
    ShownOnce, Table,
};
use super::{Page, json_of, session};
use crate::edge::http::{Fields, Reply};

type FormData = HashMap<String, String>;

/// The rows of the users and audit lists per page.
const PAGE_SIZE: i32 = 25;

pub async fn route(p: &mut Page<'_>, post: bool, segments: &[&str], form: FormData) -> Result<Reply> {
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
        _ => Err(Error::NotFound),
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
fn notice(p: &Page<'_>) -> Option<String> {
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
        "reset_sent" => "A password reset mail is on its way to the user.",
        "user_deleted" => "User deleted.",
        _ => return None,
    };
    Some(text.to_owned())
}

/// Puts a refusal on the form: each broken rule next to its field, anything else in the banner.
/// The status to answer with; an error that is nobody's doing goes up (the error page).
fn refused(e: Error, fields: &mut [Field], layout: &mut Layout) -> Result<StatusCode> {
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

fn value(form: Option<&FormData>, name: &str) -> String {
    form.and_then(|f| f.get(name)).cloned().unwrap_or_default()
}

fn card_form(
    status: StatusCode,
    layout: &Layout,
    heading: &str,
    lead: impl Into<String>,
    form: Form,
    links: Vec<(String, &'static str)>,
) -> Result<Reply> {
    views::page(status, &Card { l: layout, heading, lead: lead.into(), form: Some(form), links })
}

fn to(path: impl Into<String>) -> Result<Reply> {
    Ok(Reply::redirect(path.into()))
}

fn password_hint(settings: &AppSettings) -> &'static str {
    match settings.password_policy {
        PasswordPolicyKind::Default => {
            "At least 8 characters, with a lower-case and an upper-case letter and a digit."
        }
        PasswordPolicyKind::Nist => "At least 15 characters.",
    }
}

// ----- signing up and in -----------------------------------------------------------------------------

async fn signup(p: &mut Page<'_>, form: Option<FormData>) -> Result<Reply> {
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

async fn login(p: &mut Page<'_>, form: Option<FormData>) -> Result<Reply> {
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
                accounts::login(p.app, &console, &email, &value(Some(form), "password"), &p.cx.client).await
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
async fn start_session(p: &mut Page<'_>, pair: &shared::tokens::IssuedPair) {
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

async fn logout(p: &mut Page<'_>) -> Result<Reply> {
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
            Err(e) => return Err(e),
        }
    }
    p.cookies.push(session::session_cleared());
    to("/dashboard/login?done=signed_out")
}

/// A link the console's mails carry (`mailer::link`: `<frontend_url>/<page>?token=`). It opens a
/// page whose button (a POST) uses the token, so a mail scanner that follows the link uses nothing.
#[derive(Clone, Copy)]
enum Link {
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

async fn mailed_link(p: &mut Page<'_>, link: Link, form: Option<FormData>) -> Result<Reply> {
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
                    recovery::verify_magic_link(p.app, &console, &token, Some(&secret), client)
                        .await
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
enum Ask {
    PasswordReset,
    Verification,
    SignInLink,
}

async fn ask_by_email(p: &mut Page<'_>, ask: Ask, form: Option<FormData>) -> Result<Reply> {
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
                Ask::Verification => accounts::resend_verification(p.app, &console, &email, client).await,
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

async fn reset_password(p: &mut Page<'_>, form: Option<FormData>) -> Result<Reply> {
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

// ----- apps ------------------------------------------------------------------------------------------

async fn apps(p: &mut Page<'_>) -> Result<Reply> {
    let who = p.developer().await?;
    let mut layout = p.layout("Apps");
    layout.notice = notice(p);
    let apps = console::list_apps(p.app, &who).await?;
    let apps = apps
        .into_iter()
        .map(|a| AppRow {
            id: a.id.to_string(),
            name: a.name,
            created: a.created_at.format("%Y-%m-%d").to_string(),
        })
        .collect();
    views::page(StatusCode::OK, &AppsPage { l: &layout, apps })
}

async fn new_app(p: &mut Page<'_>, form: Option<FormData>) -> Result<Reply> {
    let who = p.developer().await?;
    let mut layout = p.layout("Create an app");
    let mut fields = vec![
        Field::new("name", "Name", "text").value(value(form.as_ref(), "name")).required().hint("Shown to your users in mails and on sign-in pages."),
        Field::new("frontend_url", "Front-end URL (optional)", "url")
            .value(value(form.as_ref(), "frontend_url"))
            .hint("Where the links in your users' mails lead, e.g. https://app.example.com. You can set it later."),
    ];
    let mut status = StatusCode::OK;
    if let Some(form) = &form {
        let mut map = json_of(form, &["name", "frontend_url"], &[], &[], &[]);
        map.retain(|k, v| k != "frontend_url" || v.as_str().is_some_and(|s| !s.is_empty()));
        match console::create_app(p.app, &who, &map, &p.cx.client).await {
            Ok(created) => return to(format!("/dashboard/apps/{}?done=app_created", created.id)),
            Err(Error::Conflict) => {
                let max = p.app.config.max_apps_per_developer;
                layout.error = Some(format!("You have reached the limit of {max} apps: delete one first."));
                status = StatusCode::CONFLICT;
            }
            Err(e) => status = refused(e, &mut fields, &mut layout)?,
        }
    }
    let form =
        Form { id: "app", action: "/dashboard/apps/new".into(), fields, submit: "Create app", danger: false };
    card_form(
        status,
        &layout,
        "Create an app",
        "A pool of users with its own settings and keys.",
        form,
        Vec::new(),
    )
}

/// The pages of one of the developer's apps; another's, a deleted or an unknown app is 404.
async fn app_page(p: &mut Page<'_>, id: &AppId, rest: &[&str], form: Option<FormData>) -> Result<Reply> {
    let who = p.developer().await?;
    let view = console::get_app(p.app, &who, id).await?;
    let base = format!("/dashboard/apps/{id}");
    let post = form.is_some();
    match (post, rest) {
        (false, []) => overview(p, &view),
        (_, ["settings"]) => Box::pin(settings(p, &who, &view, form)).await,
        (true, ["delete"]) => Box::pin(delete_app(p, &who, &view, form.unwrap_or_default())).await,
        (_, ["secret-keys"]) => Box::pin(secret_keys(p, &who, &view, form)).await,
        (true, ["secret-keys", key, "revoke"]) => {
            let key = KeyId::parse(key).ok_or(Error::NotFound)?;
            console::revoke_secret_key(p.app, &who, id, &key, &p.cx.client).await?;
            to(format!("{base}/secret-keys?done=key_revoked"))
        }
        (_, ["oauth-clients"]) => Box::pin(oauth_clients(p, &who, &view, form)).await,
        (_, ["oauth-clients", client, action @ ..]) => {
            let client_id = ClientId::parse(client).ok_or(Error::NotFound)?;
            Box::pin(oauth_client(p, &who, &view, &client_id, action, form)).await
        }
        (false, ["providers"]) => Box::pin(providers(p, &who, &view, None)).await,
        (true, ["providers", provider]) => {
            let provider = ProviderId::parse(provider).ok_or(Error::NotFound)?;
            Box::pin(providers(p, &who, &view, Some((provider, form.unwrap_or_default())))).await
        }
        (true, ["providers", provider, "delete"]) => {
            let provider = ProviderId::parse(provider).ok_or(Error::NotFound)?;
            console::delete_provider(p.app, &who, id, provider, &p.cx.client).await?;
            to(format!("{base}/providers?done=provider_removed"))
        }
        (false, ["users"]) => Box::pin(users(p, &who, &view)).await,
        (_, ["users", user, action @ ..]) => {
            let user_id = UserId::parse(user).ok_or(Error::NotFound)?;
            Box::pin(user_page(p, &who, &view, &user_id, action, form)).await
        }
        (false, ["audit"]) => Box::pin(audit(p, &who, &view)).await,
        _ => Err(Error::NotFound),
    }
}

fn app_layout(p: &Page<'_>, view: &AppView, tab: &'static str, title: &str) -> Layout {
    let mut layout = p.layout(format!("{title} · {}", view.name));
    layout.app = Some(AppNav { id: view.id.to_string(), name: view.name.clone(), tab });
    layout.notice = notice(p);
    layout
}

fn section<'a>(layout: &'a Layout, heading: &'a str, lead: &'a str) -> SectionPage<'a> {
    SectionPage {
        l: layout,
        heading,
        lead,
        facts: Vec::new(),
        links: Vec::new(),
        table: None,
        forms: Vec::new(),
    }
}

fn overview(p: &Page<'_>, view: &AppView) -> Result<Reply> {
    let layout = app_layout(p, view, "overview", "Overview");
    let issuer = &view.issuer;
    let facts = vec![
        ("App id", view.id.to_string()),
        ("Issuer", issuer.clone()),
        ("Discovery URL", format!("{issuer}/.well-known/openid-configuration")),
        ("JWKS URL", format!("{issuer}/.well-known/jwks.json")),
    ];
    let endpoints = vec![
        ("Sign up", format!("POST {issuer}/api/v1/auth/register")),
        ("Sign in", format!("POST {issuer}/api/v1/auth/login")),
        ("Refresh", format!("POST {issuer}/api/v1/auth/token/refresh")),
        ("Current user", format!("GET {issuer}/api/v1/users/me")),
        ("Management API", format!("{issuer}/api/v1/admin/users")),
        ("OAuth authorize", format!("GET {issuer}/oauth/authorize")),
        ("OAuth token", format!("POST {issuer}/oauth/token")),
    ];
    let curl_signup = format!(
        "curl -X POST '{issuer}/api/v1/auth/register' \\\n  -H 'content-type: application/json' \\\n  -d '{{\"email\": \"ada@example.com\", \"password\": \"a long Passphrase 1\"}}'"
    );
    let curl_admin = format!("curl '{issuer}/api/v1/admin/users' \\\n  -H 'authorization: Bearer sk_...'");
    let page =
        OverviewPage { l: &layout, facts, endpoints, app_id: view.id.to_string(), curl_signup, curl_admin };
    views::page(StatusCode::OK, &page)
}

// ----- settings --------------------------------------------------------------------------------------

const POLICIES: [(&str, &str); 2] =
    [("default", "8+ characters, mixed case and a digit"), ("nist", "NIST SP 800-63B: 15+ characters")];
const LINKING: [(&str, &str); 2] =
    [("verified", "Join an account with the same verified email"), ("off", "Never join accounts by email")];

fn settings_fields(s: &AppSettings) -> Vec<Field> {
    let lines = |items: &[String]| items.join("\n");
    let scopes = s
        .oauth_scopes
        .iter()
        .map(|o| format!("{}: {}", o.name, o.description))
        .collect::<Vec<_>>()
        .join("\n");
    vec![
        Field::new("name", "Name", "text").value(s.name.clone()).required(),
        Field::new("frontend_url", "Front-end URL", "url").value(s.frontend_url.clone()).hint(
            "The base of the links in mails: <URL>/verify-email?token=..., /reset-password, /magic-link.",
        ),
        Field::new("redirect_urls", "Redirect URLs", "textarea")
            .value(lines(&s.redirect_urls))
            .hint("One per line: where a social sign-in may send users back (exact match)."),
        Field::new("cors_origins", "CORS origins", "textarea")
            .value(lines(&s.cors_origins))
            .hint("One per line, e.g. https://app.example.com: browsers there may call the API."),
        Field::new("mail_from_name", "Sender name", "text")
            .value(s.mail_from_name.clone().unwrap_or_default())
            .hint("The display name of your mails' sender."),
        Field::new("signup_enabled", "Users may sign up by themselves", "checkbox").checked(s.signup_enabled),
        Field::new(
            "prevent_user_existence_errors",
            "Never reveal whether an email address has an account",
            "checkbox",
        )
        .checked(s.prevent_user_existence_errors),
        Field::new("password_policy", "Password policy", "select")
            .value(match s.password_policy {
                PasswordPolicyKind::Default => "default",
                PasswordPolicyKind::Nist => "nist",
            })
            .options(&POLICIES),
        Field::new("access_token_ttl_seconds", "Access token lifetime (seconds)", "number")
            .value(s.access_token_ttl.as_secs().to_string()),
        Field::new("refresh_token_ttl_seconds", "Refresh token lifetime (seconds)", "number")
            .value(s.refresh_token_ttl.as_secs().to_string()),
        Field::new("max_sessions_per_user", "Sessions per user", "number")
            .value(s.max_sessions_per_user.to_string()),
        Field::new("session_scopes", "Scopes of a sign-in's access token", "text")
            .value(s.session_scopes.join(" "))
            .hint("Separated by spaces."),
        Field::new("api_key_scopes", "Scopes users may give their API keys", "text")
            .value(s.api_key_scopes.join(" "))
            .hint("Separated by spaces."),
        Field::new("link_social_by_email", "Social sign-in with a known email", "select")
            .value(match s.link_social_by_email {
                LinkByEmail::Verified => "verified",
                LinkByEmail::Off => "off",
            })
            .options(&LINKING),
        Field::new("oauth_scopes", "Your own OAuth scopes", "textarea")
            .value(scopes)
            .hint("One per line, as name: what the consent page says, e.g. tasks:read: Read your tasks."),
        Field::new("oauth_resources", "Your resource servers (OAuth audiences)", "textarea")
            .value(lines(&s.oauth_resources))
            .hint("One per line, e.g. https://api.example.com: a client may ask a token for one (RFC 8707)."),
        Field::new("native_nonce_required", "Native social sign-in must carry a nonce", "checkbox")
            .checked(s.native_nonce_required),
    ]
}

/// The settings form as the API's body.
fn settings_json(form: &FormData) -> Map<String, Value> {
    let mut map = json_of(
        form,
        &["name", "frontend_url", "mail_from_name", "password_policy", "link_social_by_email"],
        &["redirect_urls", "cors_origins", "session_scopes", "api_key_scopes", "oauth_resources"],
        &["signup_enabled", "prevent_user_existence_errors", "native_nonce_required"],
        &["access_token_ttl_seconds", "refresh_token_ttl_seconds", "max_sessions_per_user"],
    );
    if map.get("mail_from_name").and_then(Value::as_str).is_none_or(str::is_empty) {
        map.insert("mail_from_name".into(), Value::Null);
    }
    let scopes: Vec<Value> = value(Some(form), "oauth_scopes")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        // The name may hold colons itself (`tasks:read`): the description follows the first colon
        // that a space follows. Without one, the API's rule says what is missing.
        .map(|line| match line.split_once(": ") {
            Some((name, description)) => json!({"name": name.trim(), "description": description.trim()}),
            None => json!({"name": line}),
        })
        .collect();
    map.insert("oauth_scopes".into(), Value::Array(scopes));
    map
}

async fn settings(p: &mut Page<'_>, who: &Identity, view: &AppView, form: Option<FormData>) -> Result<Reply> {
    let mut layout = app_layout(p, view, "settings", "Settings");
    let mut fields = settings_fields(&view.settings);
    let mut status = StatusCode::OK;
    if let Some(form) = &form {
        match console::update_app(p.app, who, &view.id, &settings_json(form), &p.cx.client).await {
            Ok(_) => return to(format!("/dashboard/apps/{}/settings?done=settings_saved", view.id)),
            Err(e) => {
                // The form as sent, with the words next to each field.
                for f in fields.iter_mut() {
                    f.value = match f.kind {
                        "checkbox" => {
                            if form.contains_key(f.name) {
                                "on".into()
                            } else {
                                String::new()
                            }
                        }
                        _ => value(Some(form), f.name),
                    };
                }
                status = refused(e, &mut fields, &mut layout)?;
            }
        }
    }
    let mut page = section(&layout, "Settings", "Every setting of the app; changes apply within a minute.");
    let base = format!("/dashboard/apps/{}", view.id);
    page.forms.push((
        "App settings".into(),
        Form {
            id: "settings",
            action: format!("{base}/settings"),
            fields,
            submit: "Save settings",
            danger: false,
        },
    ));
    page.forms.push((
        "Delete this app".into(),
        Form {
            id: "delete",
            action: format!("{base}/delete"),
            fields: vec![
                Field::new("confirm", "Type the app's name to confirm", "text").required().hint(
                    "Its users, keys, clients and providers are erased with it. This cannot be undone.",
                ),
            ],
            submit: "Delete app",
            danger: true,
        },
    ));
    views::page(status, &page)
}

async fn delete_app(p: &mut Page<'_>, who: &Identity, view: &AppView, form: FormData) -> Result<Reply> {
    if value(Some(&form), "confirm").trim() != view.name {
        let layout = app_layout(p, view, "settings", "Delete");
        return p.card(
            StatusCode::BAD_REQUEST,
            &layout,
            "The name does not match",
            "Nothing was deleted. Go back and type the app's name exactly.",
        );
    }
    console::delete_app(p.app, who, &view.id, &p.cx.client).await?;
    to("/dashboard?done=app_deleted")
}

// ----- secret keys -----------------------------------------------------------------------------------

async fn secret_keys(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    form: Option<FormData>,
) -> Result<Reply> {
    let mut layout = app_layout(p, view, "secret-keys", "Secret keys");
    let mut fields =
        vec![Field::new("label", "Label", "text").hint("What the key is for, e.g. production backend.")];
    let mut status = StatusCode::OK;
    if let Some(form) = &form {
        let label = Some(value(Some(form), "label").trim().to_owned()).filter(|l| !l.is_empty());
        let label = match label {
            Some(l) if l.chars().count() > 100 || l.chars().any(char::is_control) => {
                Err(Error::field("label", "too_long_or_control_characters"))
            }
            l => Ok(l),
        };
        let created = match label {
            Ok(label) => console::create_secret_key(p.app, who, &view.id, label, &p.cx.client).await,
            Err(e) => Err(e),
        };
        match created {
            Ok(created) => {
                layout.secret = Some(ShownOnce {
                    label: format!("Secret key “{}”", created.label),
                    value: created.key,
                });
                status = StatusCode::CREATED;
            }
            Err(e) => status = refused(e, &mut fields, &mut layout)?,
        }
    }
    let keys = console::list_secret_keys(p.app, who, &view.id).await?;
    let base = format!("/dashboard/apps/{}/secret-keys", view.id);
    let rows = keys
        .into_iter()
        .map(|k| Row {
            title: if k.label.is_empty() { "(no label)".into() } else { k.label },
            href: None,
            cells: vec![k.hint, k.created_at.format("%Y-%m-%d %H:%M UTC").to_string()],
            actions: vec![(format!("{base}/{}/revoke", k.id), "Revoke", true)],
        })
        .collect();
    let mut page = section(
        &layout,
        "Secret keys",
        "Your backend's keys for the management API (Authorization: Bearer sk_...). Keep them on servers only.",
    );
    page.table = Some(Table {
        heading: "Keys",
        columns: vec!["Label", "Key", "Created"],
        rows,
        empty: "No secret keys yet. Create one to call the management API from your backend.",
        filter: None,
        next: None,
    });
    page.forms.push((
        "Create a secret key".into(),
        Form { id: "key", action: base, fields, submit: "Create secret key", danger: false },
    ));
    views::page(status, &page)
}

// ----- OAuth clients ---------------------------------------------------------------------------------

const CLIENT_TYPES: [(&str, &str); 2] = [
    ("confidential", "Confidential: a server that keeps a secret"),
    ("public", "Public: a browser or mobile app (PKCE)"),
];

fn client_fields(form: Option<&FormData>, current: Option<&ClientView>) -> Vec<Field> {
    let pick = |name: &str, stored: String| match form {
        Some(f) => value(Some(f), name),
        None => stored,
    };
    let flag = |name: &str, stored: bool| match form {
        Some(f) => f.contains_key(name),
        None => stored,
    };
    let grants = current
        .map(|c| c.settings.grant_types.clone())
        .unwrap_or(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]);
    let mut fields = vec![
        Field::new("name", "Name", "text")
            .value(pick("name", current.map(|c| c.settings.name.clone()).unwrap_or_default()))
            .required()
            .hint("Shown on the consent page."),
    ];
    if current.is_none() {
        fields.push(
            Field::new("type", "Type", "select")
                .value(pick("type", "confidential".into()))
                .options(&CLIENT_TYPES),
        );
    }
    fields.extend([
        Field::new("redirect_uris", "Redirect URIs", "textarea")
            .value(pick(
                "redirect_uris",
                current.map(|c| c.settings.redirect_uris.join("\n")).unwrap_or_default(),
            ))
            .hint("One per line, compared exactly: https://, or http:// on localhost."),
        Field::new("post_logout_redirect_uris", "Post-logout redirect URIs", "textarea")
            .value(pick(
                "post_logout_redirect_uris",
                current.map(|c| c.settings.post_logout_redirect_uris.join("\n")).unwrap_or_default(),
            ))
            .hint("One per line (optional)."),
        Field::new("scopes", "Scopes", "text")
            .value(pick(
                "scopes",
                current.map(|c| c.settings.scopes.join(" ")).unwrap_or("openid profile email".into()),
            ))
            .hint("Separated by spaces: openid, profile, email, offline_access and the app's own."),
        Field::new("grant_authorization_code", "Authorization code (users sign in)", "checkbox")
            .checked(flag("grant_authorization_code", grants.contains(&GrantType::AuthorizationCode))),
        Field::new("grant_refresh_token", "Refresh tokens", "checkbox")
            .checked(flag("grant_refresh_token", grants.contains(&GrantType::RefreshToken))),
        Field::new("grant_client_credentials", "Client credentials (the client acts for itself)", "checkbox")
            .checked(flag("grant_client_credentials", grants.contains(&GrantType::ClientCredentials))),
        Field::new("first_party", "First party: your own app, users are not asked to consent", "checkbox")
            .checked(flag("first_party", current.is_some_and(|c| c.settings.first_party))),
    ]);
    // A public client always uses PKCE and never introspects: only a confidential one chooses.
    if current.is_none_or(|c| c.client_type == ClientType::Confidential) {
        fields.extend([
            Field::new("require_pkce", "Require PKCE (RFC 9700; public clients always use it)", "checkbox")
                .checked(flag("require_pkce", current.is_none_or(|c| c.settings.require_pkce))),
            Field::new(
                "introspect_any",
                "Resource server: may introspect every token of the app, not only its own",
                "checkbox",
            )
            .checked(flag("introspect_any", current.is_some_and(|c| c.settings.introspect_any))),
        ]);
    }
    fields
}

/// The client form as the API's body; the grant checkboxes make `grant_types`, whose rule names
/// the mistake (shown next to the first of them).
fn client_json(form: &FormData, creating: bool, client_type: ClientType) -> Map<String, Value> {
    let texts: &[&str] = if creating { &["name", "type"] } else { &["name"] };
    let flags: &[&str] = match client_type {
        ClientType::Confidential => &["first_party", "require_pkce", "introspect_any"],
        // Not on a public client's form (see client_fields): an absent box is not a "no" here.
        ClientType::Public => &["first_party"],
    };
    let mut map = json_of(form, texts, &["redirect_uris", "post_logout_redirect_uris", "scopes"], flags, &[]);
    let grants: Vec<Value> = [
        ("grant_authorization_code", "authorization_code"),
        ("grant_refresh_token", "refresh_token"),
        ("grant_client_credentials", "client_credentials"),
    ]
    .into_iter()
    .filter(|(field, _)| form.contains_key(*field))
    .map(|(_, grant)| Value::String(grant.into()))
    .collect();
    map.insert("grant_types".into(), Value::Array(grants));
    map
}

/// The API's `grant_types` rule goes next to the first grant checkbox.
fn place_grant_errors(e: Error) -> Error {
    match e {
        Error::Validation(mut errors) => {
            if let Some(rules) = errors.remove("grant_types") {
                errors.insert("grant_authorization_code".into(), rules);
            }
            Error::Validation(errors)
        }
        e => e,
    }
}

async fn oauth_clients(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    form: Option<FormData>,
) -> Result<Reply> {
    let mut layout = app_layout(p, view, "oauth-clients", "OAuth clients");
    let mut fields = client_fields(form.as_ref(), None);
    let mut status = StatusCode::OK;
    if let Some(form) = &form {
        let client_type =
            if value(Some(form), "type") == "public" { ClientType::Public } else { ClientType::Confidential };
        match clients::create(p.app, who, &view.id, &client_json(form, true, client_type), &p.cx.client).await
        {
            Ok(created) => {
                let secret =
                    created.client_secret.map(|value| ShownOnce { label: "Client secret".into(), value });
                return client_page(p, view, created.client, secret, StatusCode::CREATED, None);
            }
            Err(e) => status = refused(place_grant_errors(e), &mut fields, &mut layout)?,
        }
    }
    let list = clients::list(p.app, who, &view.id).await?;
    let base = format!("/dashboard/apps/{}/oauth-clients", view.id);
    let rows = list
        .into_iter()
        .map(|c| Row {
            href: Some(format!("{base}/{}", c.client_id)),
            title: c.settings.name.clone(),
            cells: vec![
                c.client_id.to_string(),
                type_name(c.client_type).into(),
                c.settings.grant_types.iter().map(|g| <&str>::from(*g)).collect::<Vec<_>>().join(", "),
            ],
            actions: Vec::new(),
        })
        .collect();
    let mut page = section(
        &layout,
        "OAuth clients",
        "Third-party and your own apps that sign your users in through this app's OAuth 2.0 / OpenID Connect provider.",
    );
    page.table = Some(Table {
        heading: "Clients",
        columns: vec!["Name", "Client id", "Type", "Grants"],
        rows,
        empty: "No OAuth clients yet. Register one to let an application sign your users in.",
        filter: None,
        next: None,
    });
    page.forms.push((
        "Register an OAuth client".into(),
        Form { id: "client", action: base, fields, submit: "Register client", danger: false },
    ));
    views::page(status, &page)
}

fn type_name(t: ClientType) -> &'static str {
    match t {
        ClientType::Confidential => "Confidential",
        ClientType::Public => "Public",
    }
}

async fn oauth_client(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    client_id: &ClientId,
    action: &[&str],
    form: Option<FormData>,
) -> Result<Reply> {
    let base = format!("/dashboard/apps/{}/oauth-clients", view.id);
    match (form, action) {
        (None, []) => {
            let client = clients::get(p.app, who, &view.id, client_id).await?;
            client_page(p, view, client, None, StatusCode::OK, None)
        }
        (Some(form), []) => {
            let client = clients::get(p.app, who, &view.id, client_id).await?;
            let fields = client_json(&form, false, client.client_type);
            match clients::update(p.app, who, &view.id, client_id, &fields, &p.cx.client).await {
                Ok(_) => to(format!("{base}/{client_id}?done=client_saved")),
                Err(e) => {
                    client_page(p, view, client, None, StatusCode::OK, Some((form, place_grant_errors(e))))
                }
            }
        }
        (Some(_), ["rotate-secret"]) => {
            let rotated = clients::rotate_secret(p.app, who, &view.id, client_id, &p.cx.client).await?;
            let secret =
                rotated.client_secret.map(|value| ShownOnce { label: "New client secret".into(), value });
            client_page(p, view, rotated.client, secret, StatusCode::OK, None)
        }
        (Some(_), ["delete"]) => {
            clients::delete(p.app, who, &view.id, client_id, &p.cx.client).await?;
            to(format!("{base}?done=client_deleted"))
        }
        _ => Err(Error::NotFound),
    }
}

/// A client's page: its ids, the edit form (with a refused edit's words), the secret's rotation
/// and the deletion.
fn client_page(
    p: &Page<'_>,
    view: &AppView,
    client: ClientView,
    secret: Option<ShownOnce>,
    status: StatusCode,
    refusal: Option<(FormData, Error)>,
) -> Result<Reply> {
    let mut layout = app_layout(p, view, "oauth-clients", &client.settings.name);
    layout.secret = secret;
    let (mut fields, mut status) = (client_fields(None, Some(&client)), status);
    if let Some((form, e)) = refusal {
        fields = client_fields(Some(&form), Some(&client));
        status = refused(e, &mut fields, &mut layout)?;
    }
    let base = format!("/dashboard/apps/{}/oauth-clients/{}", view.id, client.client_id);
    let mut page = section(&layout, &client.settings.name, "");
    page.facts = vec![
        ("Client id", client.client_id.to_string()),
        ("Type", type_name(client.client_type).into()),
        ("Secret", client.secret_hint.clone().unwrap_or_else(|| "None (public client)".into())),
        ("Created", client.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
    ];
    page.links = vec![(format!("/dashboard/apps/{}/oauth-clients", view.id), "All clients")];
    page.forms.push((
        "Edit".into(),
        Form { id: "edit", action: base.clone(), fields, submit: "Save client", danger: false },
    ));
    if client.client_type == ClientType::Confidential {
        page.forms.push((
            "Rotate the secret".into(),
            Form {
                id: "rotate",
                action: format!("{base}/rotate-secret"),
                fields: Vec::new(),
                submit: "Rotate secret (the old one stops at once)",
                danger: false,
            },
        ));
    }
    page.forms.push((
        "Delete this client".into(),
        Form {
            id: "delete",
            action: format!("{base}/delete"),
            fields: Vec::new(),
            submit: "Delete client",
            danger: true,
        },
    ));
    views::page(status, &page)
}

// ----- social providers ------------------------------------------------------------------------------

/// A provider's form: what is stored shown again (ids), secrets write-only (never shown).
fn provider_fields(
    provider: ProviderId,
    form: Option<&FormData>,
    current: Option<&console::ProviderView>,
) -> Vec<Field> {
    let pick = |name: &str, stored: Option<String>| match form {
        Some(f) => value(Some(f), name),
        None => stored.unwrap_or_default(),
    };
    let stored_client_id = current.and_then(|c| c.client_id.clone());
    let mut fields = vec![
        Field::new("client_id", "Client id", "text").value(pick("client_id", stored_client_id)).required(),
    ];
    match provider {
        ProviderId::Google | ProviderId::GitHub => fields.push(
            Field::new("client_secret", "Client secret", "password")
                .required()
                .autocomplete("off")
                .hint("Write-only: stored encrypted, never shown again."),
        ),
        ProviderId::Apple => fields.extend([
            Field::new("team_id", "Team id", "text")
                .value(pick("team_id", current.and_then(|c| c.team_id.clone())))
                .required(),
            Field::new("key_id", "Key id", "text")
                .value(pick("key_id", current.and_then(|c| c.key_id.clone())))
                .required(),
            Field::new("private_key", "Private key (.p8)", "textarea")
                .required()
                .hint("Write-only: stored encrypted, never shown again."),
        ]),
    }
    let extra = current.map(|c| c.extra_client_ids.join(" "));
    fields.push(
        Field::new("extra_client_ids", "Native apps' client ids (optional)", "text")
            .value(pick("extra_client_ids", extra))
            .hint("Separated by spaces: audiences accepted in ID tokens from your mobile apps."),
    );
    fields
}

async fn providers(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    put: Option<(ProviderId, FormData)>,
) -> Result<Reply> {
    let mut layout = app_layout(p, view, "providers", "Social providers");
    let mut status = StatusCode::OK;
    let mut refusal: Option<(ProviderId, FormData, Error)> = None;
    if let Some((provider, form)) = put {
        let mut map = json_of(
            &form,
            &["client_id", "client_secret", "team_id", "key_id", "private_key"],
            &[],
            &[],
            &[],
        );
        map.retain(|_, v| v.as_str().is_some_and(|s| !s.is_empty()));
        // The form shows the stored native client ids: as sent, an empty field clears them.
        map.extend(json_of(&form, &[], &["extra_client_ids"], &[], &[]));
        let outcome = match crate::console::provider_put::parse(Fields::from_map(map), provider) {
            Ok(input) => {
                console::put_provider(p.app, who, &view.id, provider, input, &p.cx.client).await.map(|_| ())
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => return to(format!("/dashboard/apps/{}/providers?done=provider_saved", view.id)),
            Err(e) => refusal = Some((provider, form, e)),
        }
    }
    let configured = console::list_providers(p.app, who, &view.id).await?;
    let base = format!("/dashboard/apps/{}/providers", view.id);
    let mut forms = Vec::new();
    let mut rows = Vec::new();
    for provider in ProviderId::ALL {
        let current = configured.iter().find(|c| c.provider == provider);
        let client_id = current.and_then(|c| c.client_id.clone()).unwrap_or_default();
        let is_configured = current.is_some_and(|c| c.configured);
        rows.push(Row {
            title: provider.name().into(),
            href: None,
            cells: vec![
                if is_configured { "Configured".into() } else { "Not configured".into() },
                if client_id.is_empty() { "—".into() } else { client_id.clone() },
            ],
            actions: if is_configured {
                vec![(format!("{base}/{}/delete", provider.as_str()), "Remove", true)]
            } else {
                Vec::new()
            },
        });
        // The refused form comes back as sent, with the words next to its fields.
        let fields = match refusal.take_if(|(refused_provider, ..)| *refused_provider == provider) {
            Some((_, form, e)) => {
                let mut fields = provider_fields(provider, Some(&form), current);
                status = refused(e, &mut fields, &mut layout)?;
                fields
            }
            None => provider_fields(provider, None, current),
        };
        forms.push((
            format!("{} sign-in", provider.name()),
            Form {
                id: provider.as_str(),
                action: format!("{base}/{}", provider.as_str()),
                fields,
                submit: if is_configured { "Replace credentials" } else { "Configure" },
                danger: false,
            },
        ));
    }
    let callback = format!("{}/api/v1/auth/oauth/<provider>/callback", view.issuer);
    let lead = format!(
        "Let your users sign in with Google, GitHub or Apple. Register this callback at the provider: {callback}"
    );
    let mut page = section(&layout, "Social providers", &lead);
    page.table = Some(Table {
        heading: "Providers",
        columns: vec!["Provider", "Status", "Client id"],
        rows,
        empty: "",
        filter: None,
        next: None,
    });
    page.forms = forms;
    views::page(status, &page)
}

// ----- users -----------------------------------------------------------------------------------------

/// The app, for a page of the management API's calls: counted against the management API's
/// quota of the app (per owner), as its routes count a console caller.
async fn management(p: &Page<'_>, who: &Identity, view: &AppView) -> Result<std::sync::Arc<shared::Tenant>> {
    let actor = Caller::AppOwner(who.clone()).actor();
    ratelimit::hit(p.app, &view.id, Route::Admin, &p.cx.client, Some(&actor)).await?;
    p.app.tenant(&view.id).await
}

async fn users(p: &mut Page<'_>, who: &Identity, view: &AppView) -> Result<Reply> {
    let mut layout = app_layout(p, view, "users", "Users");
    let mut status = StatusCode::OK;
    let tenant = management(p, who, view).await?;
    let search = p.query("email").map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
    let cursor = p.query("cursor");
    let prefix = match &search {
        Some(e) if e.len() <= 320 => Some(Email::normalize_prefix(e)),
        Some(_) => {
            layout.error = Some("That search is too long.".into());
            status = StatusCode::BAD_REQUEST;
            None
        }
        None => None,
    };
    let base = format!("/dashboard/apps/{}/users", view.id);
    let (rows, next) =
        match admin::list_users(p.app, &tenant, PAGE_SIZE, cursor.as_deref(), prefix.as_deref()).await {
            Ok(page) => {
                let rows = page
                    .items
                    .into_iter()
                    .map(|u| Row {
                        href: Some(format!("{base}/{}", u.user.id)),
                        title: u.user.email.clone(),
                        cells: vec![
                            u.user.name.clone().unwrap_or_default(),
                            status_name(u.status).into(),
                            if u.user.email_verified { "Yes".into() } else { "No".into() },
                            u.user.created_at.format("%Y-%m-%d").to_string(),
                        ],
                        actions: Vec::new(),
                    })
                    .collect();
                let next =
                    page.next_cursor.map(|c| next_page(&base, search.as_deref().map(|s| ("email", s)), &c));
                (rows, next)
            }
            Err(e) => {
                status = refused(e, &mut [], &mut layout)?;
                (Vec::new(), None)
            }
        };
    let mut page = section(&layout, "Users", "The people who signed up to this app, newest first.");
    page.table = Some(Table {
        heading: "Users",
        columns: vec!["Email", "Name", "Status", "Verified", "Created"],
        rows,
        empty: if search.is_some() {
            "No user's email starts with that."
        } else {
            "No users yet. They appear here when they sign up, or when your backend creates them."
        },
        filter: Some(Filter {
            name: "email",
            label: "Search by email",
            value: search.clone().unwrap_or_default(),
            action: base,
        }),
        next,
    });
    views::page(status, &page)
}

/// The link to a list's next page: its filter kept, the cursor the API handed out.
fn next_page(base: &str, filter: Option<(&str, &str)>, cursor: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some((name, value)) = filter {
        query.append_pair(name, value);
    }
    format!("{base}?{}", query.append_pair("cursor", cursor).finish())
}

fn status_name(status: UserStatus) -> &'static str {
    match status {
        UserStatus::Active => "Active",
        UserStatus::Disabled => "Disabled",
        UserStatus::PendingDeletion => "Pending deletion",
    }
}

async fn user_page(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    user_id: &UserId,
    action: &[&str],
    form: Option<FormData>,
) -> Result<Reply> {
    let tenant = management(p, who, view).await?;
    let owner = Caller::AppOwner(who.clone());
    let client = &p.cx.client;
    let base = format!("/dashboard/apps/{}/users/{user_id}", view.id);
    if let Some(form) = form {
        let disable = |on: bool| UserChanges { disabled: Some(on), ..Default::default() };
        let done = match action {
            ["disable"] => admin::update_user(p.app, &tenant, &owner, user_id, disable(true), client)
                .await
                .map(|_| "user_disabled"),
            ["enable"] => admin::update_user(p.app, &tenant, &owner, user_id, disable(false), client)
                .await
                .map(|_| "user_enabled"),
            ["revoke-sessions"] => {
                admin::revoke_sessions(p.app, &tenant, user_id, client).await.map(|_| "sessions_revoked")
            }
            ["password-reset"] => {
                admin::send_password_reset(p.app, &tenant, user_id, client).await.map(|_| "reset_sent")
            }
            ["delete"] => {
                let user = admin::user(p.app, &tenant, user_id).await?;
                if value(Some(&form), "confirm").trim() != user.email {
                    let layout = app_layout(p, view, "users", "Delete");
                    return p.card(
                        StatusCode::BAD_REQUEST,
                        &layout,
                        "The email does not match",
                        "Nothing was deleted. Go back and type the user's email exactly.",
                    );
                }
                admin::delete_user(p.app, &tenant, &owner, user_id, client).await?;
                return to(format!("/dashboard/apps/{}/users?done=user_deleted", view.id));
            }
            _ => return Err(Error::NotFound),
        };
        return match done {
            Ok(done) => to(format!("{base}?done={done}")),
            Err(e) => {
                let user = admin::user(p.app, &tenant, user_id).await?;
                let mut layout = app_layout(p, view, "users", &user.email);
                let status = refused(e, &mut [], &mut layout)?;
                user_view(&layout, view, &user, status)
            }
        };
    }
    if !action.is_empty() {
        return Err(Error::NotFound);
    }
    let user = admin::user(p.app, &tenant, user_id).await?;
    let layout = app_layout(p, view, "users", &user.email);
    user_view(&layout, view, &user, StatusCode::OK)
}

fn user_view(
    layout: &Layout,
    view: &AppView,
    user: &shared::model::UserRecord,
    status: StatusCode,
) -> Result<Reply> {
    let shown = admin::AdminUserView::from(user);
    let base = format!("/dashboard/apps/{}/users/{}", view.id, user.user_id);
    let mut page = section(layout, &user.email, "");
    page.links = vec![
        (format!("/dashboard/apps/{}/users", view.id), "All users"),
        (format!("/dashboard/apps/{}/audit?user_id={}", view.id, user.user_id), "This user's audit events"),
    ];
    page.facts = vec![
        ("User id", user.user_id.to_string()),
        ("Email", user.email.clone()),
        ("Name", shown.user.name.clone().unwrap_or_else(|| "—".into())),
        ("Status", status_name(user.status).into()),
        ("Email verified", if user.email_verified { "Yes".into() } else { "No".into() }),
        ("Sign-in methods", shown.user.providers.join(", ")),
        ("Created", user.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
    ];
    let button = |id: &'static str, path: &str, submit: &'static str, danger: bool| Form {
        id,
        action: format!("{base}/{path}"),
        fields: Vec::new(),
        submit,
        danger,
    };
    match user.status {
        UserStatus::Active => page.forms.push((
            "Disable".into(),
            button("disable", "disable", "Disable user (ends their sessions and API keys)", true),
        )),
        UserStatus::Disabled => {
            page.forms.push(("Enable".into(), button("enable", "enable", "Enable user", false)))
        }
        UserStatus::PendingDeletion => {}
    }
    page.forms.push(("Sessions".into(), button("sessions", "revoke-sessions", "Sign out everywhere", false)));
    if user.status == UserStatus::Active {
        page.forms.push((
            "Password".into(),
            button("reset", "password-reset", "Send a password reset mail", false),
        ));
    }
    let mut delete = button("delete", "delete", "Delete user", true);
    delete.fields = vec![
        Field::new("confirm", "Type the user's email to confirm", "text")
            .required()
            .hint("Erases the account, its sessions, keys and audit trail at once. This cannot be undone."),
    ];
    page.forms.push(("Delete".into(), delete));
    views::page(status, &page)
}

// ----- audit -----------------------------------------------------------------------------------------

async fn audit(p: &mut Page<'_>, who: &Identity, view: &AppView) -> Result<Reply> {
    let mut layout = app_layout(p, view, "audit", "Audit log");
    let mut status = StatusCode::OK;
    let tenant = management(p, who, view).await?;
    let filter = p.query("user_id").map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
    let user_id = match &filter {
        Some(raw) => match UserId::parse(raw) {
            Some(id) => Some(id),
            None => {
                layout.error = Some("That is not a user id.".into());
                status = StatusCode::BAD_REQUEST;
                None
            }
        },
        None => None,
    };
    let base = format!("/dashboard/apps/{}/audit", view.id);
    let (rows, next) = if filter.is_some() && user_id.is_none() {
        (Vec::new(), None)
    } else {
        match crate::admin::audit::events(
            p.app,
            &tenant,
            PAGE_SIZE,
            p.query("cursor").as_deref(),
            user_id.as_ref(),
        )
        .await
        {
            Ok(page) => {
                let rows = page
                    .items
                    .into_iter()
                    .map(|e| Row {
                        title: e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                        href: None,
                        cells: vec![
                            e.kind,
                            e.user_id.to_string(),
                            e.ip.unwrap_or_default(),
                            if e.details.is_empty() {
                                String::new()
                            } else {
                                Value::Object(e.details).to_string()
                            },
                        ],
                        actions: Vec::new(),
                    })
                    .collect();
                let next =
                    page.next_cursor.map(|c| next_page(&base, filter.as_deref().map(|u| ("user_id", u)), &c));
                (rows, next)
            }
            Err(e) => {
                status = refused(e, &mut [], &mut layout)?;
                (Vec::new(), None)
            }
        }
    };
    let mut page = section(&layout, "Audit log", "The app's security events, newest first.");
    page.table = Some(Table {
        heading: "Events",
        columns: vec!["When", "Event", "User", "IP address", "Details"],
        rows,
        empty: "No events yet.",
        filter: Some(Filter {
            name: "user_id",
            label: "Filter by user id",
            value: filter.clone().unwrap_or_default(),
            action: base,
        }),
        next,
    });
    views::page(status, &page)
}
