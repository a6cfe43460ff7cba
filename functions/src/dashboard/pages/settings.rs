//! An app's settings, each refusal next to its field, and deleting the app.

use lambda_http::http::StatusCode;
use serde_json::{Map, Value, json};
use shared::console::{self, AppView};
use shared::settings::{AppSettings, LinkByEmail, PasswordPolicyKind, Switch};
use shared::tokens::Identity;

use crate::dashboard::views::{self, Field, Form};
use crate::dashboard::{Page, json_of};
use crate::edge::page::PageResult;

use super::*;

pub(super) const POLICIES: [(&str, &str); 2] =
    [("default", "8+ characters, mixed case and a digit"), ("nist", "NIST SP 800-63B: 15+ characters")];
pub(super) const MFA: [(&str, &str); 3] = [
    ("off", "Off: no second factor"),
    ("optional", "Optional: users may add one, and are then asked for it"),
    ("required", "Required: every sign-in needs one"),
];
pub(super) const SWITCH: [(&str, &str); 2] = [("off", "Off"), ("on", "On")];
pub(super) const LINKING: [(&str, &str); 2] =
    [("verified", "Join an account with the same verified email"), ("off", "Never join accounts by email")];

pub(super) fn settings_fields(s: &AppSettings) -> Vec<Field> {
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
        Field::new("mfa", "Second factor", "select").value(<&str>::from(s.mfa)).options(&MFA),
        Field::new("mfa_methods", "Second factors users may use", "text")
            .value(s.mfa_methods.iter().map(|m| <&str>::from(*m)).collect::<Vec<_>>().join(" "))
            .hint("Separated by spaces: totp, webauthn, recovery_code."),
        Field::new("passkeys", "Passwordless sign-in with a passkey", "select")
            .value(match s.passkeys {
                Switch::Off => "off",
                Switch::On => "on",
            })
            .options(&SWITCH),
        Field::new("webauthn_rp_id", "WebAuthn relying party id", "text")
            .value(s.webauthn_rp_id.clone().unwrap_or_default())
            .hint("The domain security keys and passkeys belong to, e.g. example.com (localhost locally)."),
        Field::new("webauthn_origins", "WebAuthn origins", "textarea")
            .value(lines(&s.webauthn_origins))
            .hint("One per line, each on the relying party id, e.g. https://login.example.com."),
    ]
}

/// The settings form as the API's body.
pub(super) fn settings_json(form: &FormData) -> Map<String, Value> {
    let mut map = json_of(
        form,
        &[
            "name",
            "frontend_url",
            "mail_from_name",
            "password_policy",
            "link_social_by_email",
            "mfa",
            "passkeys",
            "webauthn_rp_id",
        ],
        &[
            "redirect_urls",
            "cors_origins",
            "session_scopes",
            "api_key_scopes",
            "oauth_resources",
            "mfa_methods",
            "webauthn_origins",
        ],
        &["signup_enabled", "prevent_user_existence_errors", "native_nonce_required"],
        &["access_token_ttl_seconds", "refresh_token_ttl_seconds", "max_sessions_per_user"],
    );
    for optional in ["mail_from_name", "webauthn_rp_id"] {
        if map.get(optional).and_then(Value::as_str).is_none_or(str::is_empty) {
            map.insert(optional.into(), Value::Null);
        }
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

pub(super) async fn settings(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    form: Option<FormData>,
) -> PageResult {
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

pub(super) async fn delete_app(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    form: FormData,
) -> PageResult {
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
