//! Mail through SES v2: every message is `Simple` content with a subject, a plain-text part and an
//! HTML part, rendered from the templates in `shared/templates/` (HTML-escaped by askama).
//!
//! Links are built from the configured `FRONTEND_URL`, never from a request header, so that a forged
//! `Host` cannot point a user's reset link at an attacker.

use askama::Template;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use crate::aws::LazyClient;
use crate::domain::Email;
use crate::error::{Error, Result};
use crate::settings::AppSettings;

/// A rendered message, ready to send.
#[derive(Debug, Clone)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "verify_email.html")]
struct VerifyEmailHtml<'a> {
    name: Option<&'a str>,
    link: &'a str,
    valid_for: &'a str,
    product: &'a str,
}

#[derive(Template)]
#[template(path = "verify_email.txt")]
struct VerifyEmailText<'a> {
    name: Option<&'a str>,
    link: &'a str,
    valid_for: &'a str,
    product: &'a str,
}

#[derive(Template)]
#[template(path = "email_taken_notice.html")]
struct EmailTakenHtml<'a> {
    product: &'a str,
}

#[derive(Template)]
#[template(path = "email_taken_notice.txt")]
struct EmailTakenText<'a> {
    product: &'a str,
}

/// The layout of every other message: a title, paragraphs, an optional action link, closing
/// paragraphs.
#[derive(Template)]
#[template(path = "message.html")]
struct MessageHtml<'a> {
    title: &'a str,
    paragraphs: &'a [String],
    link: Option<&'a str>,
    button: &'a str,
    after: &'a [String],
    product: &'a str,
}

#[derive(Template)]
#[template(path = "message.txt")]
struct MessageText<'a> {
    paragraphs: &'a [String],
    link: Option<&'a str>,
    button: &'a str,
    after: &'a [String],
    product: &'a str,
}

fn message(
    app: &AppSettings,
    title: &str,
    paragraphs: &[String],
    link: Option<(&str, &str)>,
    after: &[String],
) -> Result<Mail> {
    let (button, link) = match link {
        Some((button, link)) => (button, Some(link)),
        None => ("", None),
    };
    let product = app.name.as_str();
    Ok(Mail {
        subject: subject(app, title),
        text: render(MessageText { paragraphs, link, button, after, product })?,
        html: render(MessageHtml { title, paragraphs, link, button, after, product })?,
    })
}

/// Every subject names the app, so that a user of several apps knows which one writes.
fn subject(app: &AppSettings, title: &str) -> String {
    format!("{}: {title}", app.name)
}

impl Mail {
    pub fn password_reset(app: &AppSettings, token: &str, ttl_seconds: u64) -> Result<Mail> {
        let url = link(&app.frontend_url, "reset-password", token);
        message(
            app,
            "Reset your password",
            &[format!(
                "Someone, hopefully you, asked to reset the password of your account. The link works once and expires in {}.",
                human_duration(ttl_seconds)
            )],
            Some(("Choose a new password", &url)),
            &["If you did not ask for this, ignore this email: your password stays as it is.".to_owned()],
        )
    }

    pub fn password_changed(app: &AppSettings, how: &str) -> Result<Mail> {
        message(
            app,
            "Your password was changed",
            &[format!(
                "The password of your account was {how}. Every other signed-in device has been signed out."
            )],
            None,
            &["If this was not you, reset your password at once and review your account.".to_owned()],
        )
    }

    /// Sent once, when an account's password sign-in locks after `failures` failed attempts in a
    /// row.
    pub fn login_locked(app: &AppSettings, failures: u32) -> Result<Mail> {
        message(
            app,
            "Password sign-in to your account is paused",
            &[format!(
                "Someone entered a wrong password for your account {failures} times in a row, so signing in with the password is paused."
            )],
            None,
            &["To sign in again, reset your password or ask for a sign-in link by email. If the attempts were not yours, choose a new password that you use nowhere else.".to_owned()],
        )
    }

    /// Sent at every change of the account's second factors, so that a change the owner did not
    /// make does not go unseen.
    pub fn factor_notice(app: &AppSettings, notice: &FactorNotice) -> Result<Mail> {
        let (subject, text) = match notice {
            FactorNotice::Enrolled { name } => (
                "A second factor was added to your account",
                format!("The second factor \u{201c}{name}\u{201d} was added to your account. Signing in now asks for it."),
            ),
            FactorNotice::Removed { name } => (
                "A second factor was removed from your account",
                format!("The second factor \u{201c}{name}\u{201d} was removed from your account."),
            ),
            FactorNotice::AllRemoved => (
                "The second factors of your account were removed",
                "Every second factor and recovery code of your account was removed by the app's support. You can enrol a new one once signed in.".to_owned(),
            ),
            FactorNotice::RecoveryCodeUsed { left } => (
                "A recovery code of your account was used",
                format!("A recovery code was used to sign in to your account. {left} unused codes are left; you can make a new set once signed in."),
            ),
            FactorNotice::RecoveryCodesRegenerated => (
                "New recovery codes for your account",
                "A new set of recovery codes was made for your account. The previous codes no longer work.".to_owned(),
            ),
        };
        message(
            app,
            subject,
            &[text],
            None,
            &["If this was not you, reset your password at once and review your account's second factors."
                .to_owned()],
        )
    }

    pub fn magic_link(
        app: &AppSettings,
        provider_page: Option<&str>,
        token: &str,
        ttl_seconds: u64,
    ) -> Result<Mail> {
        let url = match provider_page {
            Some(page) => format!("{page}?token={token}"),
            None => link(&app.frontend_url, "magic-link", token),
        };
        message(
            app,
            "Your sign-in link",
            &[format!(
                "Use this link to sign in. It works once and expires in {}.",
                human_duration(ttl_seconds)
            )],
            Some(("Sign in", &url)),
            &["If you did not ask for it, ignore this email.".to_owned()],
        )
    }

    pub fn deletion_confirm(app: &AppSettings, token: &str, ttl_seconds: u64) -> Result<Mail> {
        let url = link(&app.frontend_url, "confirm-deletion", token);
        message(
            app,
            "Confirm the deletion of your account",
            &[format!(
                "You asked to delete your account. Confirm with this link (valid for {}); the account is then disabled at once and erased after a grace period, during which you can still cancel.",
                human_duration(ttl_seconds)
            )],
            Some(("Delete my account", &url)),
            &["If you did not ask for this, ignore this email and consider changing your password."
                .to_owned()],
        )
    }

    pub fn deletion_scheduled(app: &AppSettings, cancel_token: &str, scheduled_for: &str) -> Result<Mail> {
        let url = link(&app.frontend_url, "cancel-deletion", cancel_token);
        message(
            app,
            "Your account will be deleted",
            &[format!(
                "Your account is disabled and will be erased on {scheduled_for}. Until then you can keep it with this link."
            )],
            Some(("Keep my account", &url)),
            &[],
        )
    }

    pub fn verify_email(
        app: &AppSettings,
        token: &str,
        name: Option<&str>,
        ttl_seconds: u64,
    ) -> Result<Mail> {
        let link = link(&app.frontend_url, "verify-email", token);
        let valid_for = human_duration(ttl_seconds);
        let product = app.name.as_str();
        Ok(Mail {
            subject: subject(app, "Verify your email address"),
            text: render(VerifyEmailText { name, link: &link, valid_for: &valid_for, product })?,
            html: render(VerifyEmailHtml { name, link: &link, valid_for: &valid_for, product })?,
        })
    }

    /// Sent instead of a second account when `PREVENT_USER_EXISTENCE_ERRORS` hides that the email
    /// is registered.
    pub fn email_taken_notice(app: &AppSettings) -> Result<Mail> {
        let product = app.name.as_str();
        Ok(Mail {
            subject: subject(app, "Someone tried to sign up with your email"),
            text: render(EmailTakenText { product })?,
            html: render(EmailTakenHtml { product })?,
        })
    }
}

/// `<FRONTEND_URL>/<page>?token=<t>`. Tokens are base64url, so they need no escaping.
pub fn link(frontend_url: &str, page: &str, token: &str) -> String {
    format!("{}/{page}?token={token}", frontend_url.trim_end_matches('/'))
}

fn human_duration(seconds: u64) -> String {
    let plural = |n: u64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    match seconds {
        s if s >= 86_400 && s % 86_400 == 0 => plural(s / 86_400, "day"),
        s if s >= 3_600 && s % 3_600 == 0 => plural(s / 3_600, "hour"),
        s if s >= 60 && s % 60 == 0 => plural(s / 60, "minute"),
        s => plural(s, "second"),
    }
}

fn render(t: impl Template) -> Result<String> {
    t.render().map_err(|e| Error::Internal(format!("mail template: {e}")))
}

#[derive(Clone, Debug)]
pub struct Mailer {
    client: LazyClient<Client>,
    from: String,
}

impl Mailer {
    pub fn new(sdk: &aws_config::SdkConfig, from: impl Into<String>) -> Self {
        Mailer { client: LazyClient::new(sdk), from: from.into() }
    }

    fn client(&self) -> &Client {
        self.client.get(|sdk| {
            let record = crate::iam::ses(self.from.clone());
            Client::from_conf(aws_sdk_sesv2::config::Builder::from(sdk).interceptor(record).build())
        })
    }

    /// Whether SES answers for the sender's identity (a read; nothing is sent).
    pub async fn check(&self) -> Result<()> {
        let address = self.from.rsplit_once('<').map_or(self.from.as_str(), |(_, a)| a.trim_end_matches('>'));
        self.client()
            .get_email_identity()
            .email_identity(address)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::dependency("SES", e))
    }

    /// Sends a mail from the deployment's address, under the app's display name if it has one.
    pub async fn send(&self, to: &Email, mail: Mail, from_name: Option<&str>) -> Result<()> {
        let content = |data: String| {
            Content::builder().data(data).charset("UTF-8").build().map_err(|e| Error::Internal(e.to_string()))
        };
        let message = Message::builder()
            .subject(content(mail.subject)?)
            .body(Body::builder().text(content(mail.text)?).html(content(mail.html)?).build())
            .build();
        self.client()
            .send_email()
            .from_email_address(sender(from_name, &self.from))
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| {
                // A message SES refuses as such (an address it cannot take, content it rejects)
                // fails the same way on every retry; anything else (throttling, a paused account,
                // the network) may pass later.
                let refused = e
                    .as_service_error()
                    .is_some_and(|s| s.is_bad_request_exception() || s.is_message_rejected());
                if refused {
                    Error::Undeliverable(aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string())
                } else {
                    Error::dependency("SES", e)
                }
            })?;
        Ok(())
    }
}

/// `"Display Name" <address>` (RFC 5322): an ASCII name as a quoted string with `\` and `"`
/// escaped, any other as an RFC 2047 encoded word, which is what SES asks for non-ASCII names.
/// Control characters never get here (the settings refuse them) and are dropped all the same.
pub fn sender(name: Option<&str>, address: &str) -> String {
    let Some(name) = name.map(|n| n.chars().filter(|c| !c.is_control()).collect::<String>()) else {
        return address.to_owned();
    };
    if name.trim().is_empty() {
        return address.to_owned();
    }
    if name.is_ascii() {
        let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{quoted}\" <{address}>")
    } else {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(name.as_bytes());
        format!("=?UTF-8?B?{encoded}?= <{address}>")
    }
}

/// What changed among an account's second factors (the factor notice's subject and text).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FactorNotice {
    Enrolled {
        name: String,
    },
    Removed {
        name: String,
    },
    /// The app's backend removed every factor (a lost device).
    AllRemoved,
    RecoveryCodeUsed {
        left: usize,
    },
    RecoveryCodesRegenerated,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_is_quoted_or_encoded_never_injected() {
        assert_eq!(sender(None, "a@x.example"), "a@x.example");
        assert_eq!(sender(Some("Acme"), "a@x.example"), "\"Acme\" <a@x.example>");
        assert_eq!(sender(Some("Ac\"me\\"), "a@x.example"), "\"Ac\\\"me\\\\\" <a@x.example>");
        assert_eq!(sender(Some("Acme\r\nBcc: e@v.il"), "a@x.example"), "\"AcmeBcc: e@v.il\" <a@x.example>");
        assert_eq!(sender(Some("Café"), "a@x.example"), "=?UTF-8?B?Q2Fmw6k=?= <a@x.example>");
    }

    #[test]
    fn verification_mail_has_both_parts_and_the_link() {
        let app = AppSettings {
            frontend_url: "https://app.example".into(),
            ..crate::config::Config::defaults().default_app
        };
        let m = Mail::verify_email(&app, "tok123", Some("<Ada>"), 86_400).unwrap();
        assert!(m.text.contains("https://app.example/verify-email?token=tok123"));
        assert!(m.html.contains("https://app.example/verify-email?token=tok123"));
        assert!(m.text.contains("1 day"));
        // Names are escaped in HTML: no markup injection through a profile field.
        assert!(m.html.contains("Ada"));
        assert!(!m.html.contains("<Ada>"));
        assert!(m.text.contains("<Ada>"), "plain text is not escaped");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(600), "10 minutes");
        assert_eq!(human_duration(3600), "1 hour");
        assert_eq!(human_duration(90), "90 seconds");
        assert_eq!(human_duration(172_800), "2 days");
    }
}
