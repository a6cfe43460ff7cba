//! The mail outbox. A flow never talks to SES: it writes the mail it owes as an item of the table,
//! in the same transaction as the rest of its work, and the `mailer` function, fed by the table's
//! DynamoDB stream, sends it. So a request takes the same time whether it mails or not (an
//! unknown address can no longer be told from a known one by the time SES takes), a mail exists
//! exactly when its work committed, and a request retried after a cold start mails nothing twice.
//!
//! The link's raw token must not sit in the table, the stream or a backup in clear: the item holds
//! it sealed with a KMS key that only the mailer may decrypt with (`Sealer`), and the mailer deletes
//! the item once the mail is sent. The stream trigger passes only outbox inserts
//! (`OUTBOX_FILTER`), not every counter write.
//!
//! Sending claims the item first (a conditional write with a lease), so a record delivered twice
//! sends once. What remains: a mailer that dies after SES accepted a mail and before it deleted the
//! item leaves a claim that expires after `CLAIM_LEASE_SECONDS`; a redelivery after that sends the
//! mail again (`docs/mail.md`).

use crate::ids::{AppId, UserId};
use crate::settings::AppSettings;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::domain::Email;
use crate::error::{Error, Result};
use crate::mailer::Mail;
pub use crate::seal::Sealer;

/// The value of `kind` on outbox items: what the stream filter passes to the mailer.
pub const OUTBOX_KIND: &str = "outbox";

/// The event-source filter of the mailer's trigger, as the template declares it (a test holds
/// the two together, and the local harness applies the same rule): inserts of outbox items only.
pub const OUTBOX_FILTER: &str =
    r#"{"eventName":["INSERT"],"dynamodb":{"NewImage":{"kind":{"S":["outbox"]}}}}"#;

/// How long a claim holds: longer than the mailer's timeout, so a live send is never doubled.
pub const CLAIM_LEASE_SECONDS: i64 = 60;

/// How long an unsent item is kept before TTL removes it (a failed mail has reached the failure
/// destination long before).
const KEEP_SECONDS: i64 = 7 * 24 * 3600;

/// What a mail says, without its link's token: everything needed to render it later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "letter", rename_all = "snake_case")]
pub enum Letter {
    VerifyEmail {
        name: Option<String>,
        ttl_seconds: u64,
    },
    PasswordReset {
        ttl_seconds: u64,
    },
    /// `provider_page`: the link goes to an app's OAuth provider (its login page's magic link)
    /// instead of the app's front end.
    MagicLink {
        ttl_seconds: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_page: Option<String>,
    },
    DeletionConfirm {
        ttl_seconds: u64,
    },
    DeletionScheduled {
        scheduled_for: String,
    },
    PasswordChanged {
        how: String,
    },
    EmailTakenNotice,
    LoginLocked {
        failures: u32,
    },
    /// A change of the account's second factors, told to its owner.
    FactorNotice {
        notice: FactorNotice,
    },
}

pub use crate::mailer::FactorNotice;

impl Letter {
    /// The purpose, for logs and the `mail_failed` audit event.
    pub fn purpose(&self) -> &'static str {
        match self {
            Letter::VerifyEmail { .. } => "verify_email",
            Letter::PasswordReset { .. } => "password_reset",
            Letter::MagicLink { .. } => "magic_link",
            Letter::DeletionConfirm { .. } => "deletion_confirm",
            Letter::DeletionScheduled { .. } => "deletion_scheduled",
            Letter::PasswordChanged { .. } => "password_changed_notice",
            Letter::EmailTakenNotice => "email_taken_notice",
            Letter::LoginLocked { .. } => "login_locked_notice",
            Letter::FactorNotice { .. } => "factor_notice",
        }
    }

    /// The mail, with the link's token where the letter has a link.
    pub fn render(&self, app: &AppSettings, token: Option<&str>) -> Result<Mail> {
        let token = || token.ok_or_else(|| Error::Internal(format!("{} has no token", self.purpose())));
        match self {
            Letter::VerifyEmail { name, ttl_seconds } => {
                Mail::verify_email(app, token()?, name.as_deref(), *ttl_seconds)
            }
            Letter::PasswordReset { ttl_seconds } => Mail::password_reset(app, token()?, *ttl_seconds),
            Letter::MagicLink { ttl_seconds, provider_page } => {
                Mail::magic_link(app, provider_page.as_deref(), token()?, *ttl_seconds)
            }
            Letter::DeletionConfirm { ttl_seconds } => Mail::deletion_confirm(app, token()?, *ttl_seconds),
            Letter::DeletionScheduled { scheduled_for } => {
                Mail::deletion_scheduled(app, token()?, scheduled_for)
            }
            Letter::PasswordChanged { how } => Mail::password_changed(app, how),
            Letter::EmailTakenNotice => Mail::email_taken_notice(app),
            Letter::LoginLocked { failures } => Mail::login_locked(app, *failures),
            Letter::FactorNotice { notice } => Mail::factor_notice(app, notice),
        }
    }
}

/// An outbox item as the table (and so the stream) holds it. Nothing in it is secret in clear.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxRecord {
    /// Always `OUTBOX_KIND`.
    pub kind: String,
    pub id: String,
    pub tenant_id: AppId,
    /// The account the mail is about, when there is one (for the `mail_failed` audit event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// The address as the account stores it.
    pub to: String,
    /// The `Letter`, as JSON.
    pub letter: String,
    /// The link's token, sealed by `Sealer` (base64 of the KMS ciphertext).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_token: Option<String>,
    pub created_at: DateTime<Utc>,
    pub ttl: i64,
}

impl OutboxRecord {
    pub fn letter(&self) -> Result<Letter> {
        serde_json::from_str(&self.letter)
            .map_err(|e| Error::Internal(format!("outbox item {} has no readable letter: {e}", self.id)))
    }
}

/// Whether a stream record (in the JSON form Lambda delivers) passes `OUTBOX_FILTER`, by the rules
/// of Lambda's event filtering for this pattern's kind: each key of the pattern must be present, an
/// object matches recursively, a list names the values allowed. The local harness filters with it,
/// so the filter tested against the template is the one applied.
pub fn matches_filter(record: &serde_json::Value) -> bool {
    fn matches(pattern: &serde_json::Value, value: &serde_json::Value) -> bool {
        match pattern {
            serde_json::Value::Object(fields) => {
                fields.iter().all(|(key, inner)| value.get(key).is_some_and(|v| matches(inner, v)))
            }
            serde_json::Value::Array(allowed) => allowed.contains(value),
            exact => exact == value,
        }
    }
    serde_json::from_str::<serde_json::Value>(OUTBOX_FILTER).is_ok_and(|pattern| matches(&pattern, record))
}

/// A mail for the outbox: `letter` to `to`, with its link's `token` sealed. The caller writes it
/// in the transaction of the work it belongs to.
pub async fn compose(
    sealer: &Sealer,
    tenant: &AppId,
    user_id: Option<&UserId>,
    to: &Email,
    letter: &Letter,
    token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<OutboxRecord> {
    let sealed_token = match token {
        Some(t) => Some(sealer.seal(&link_context(tenant), t).await?),
        None => None,
    };
    Ok(OutboxRecord {
        kind: OUTBOX_KIND.to_owned(),
        id: crate::crypto::new_id(),
        tenant_id: tenant.clone(),
        user_id: user_id.cloned(),
        to: to.as_str().to_owned(),
        letter: serde_json::to_string(letter).map_err(|e| Error::Internal(e.to_string()))?,
        sealed_token,
        created_at: now,
        ttl: now.timestamp() + KEEP_SECONDS,
    })
}

/// What a link token is sealed to: its purpose and its tenant, so that a ciphertext copied into
/// another tenant's item does not open.
fn link_context(tenant: &AppId) -> [(&'static str, &str); 2] {
    [("purpose", "outbox-link"), ("tenant", tenant.as_str())]
}

/// The sealing a known address's mail costs, spent on an unknown one, so that the two take as long.
pub async fn decoy_seal(sealer: &Sealer, tenant: &AppId) -> Result<()> {
    let (random, _) = crate::crypto::new_token();
    sealer.seal(&link_context(tenant), &random).await.map(|_| ())
}

/// Opens an item's token for rendering (the mailer).
pub async fn open_token(sealer: &Sealer, record: &OutboxRecord) -> Result<Option<SecretString>> {
    match &record.sealed_token {
        Some(sealed) => sealer.open(&link_context(&record.tenant_id), sealed).await.map(Some),
        None => Ok(None),
    }
}

/// Renders an item's mail (the mailer), its token opened.
pub fn render(record: &OutboxRecord, app: &AppSettings, token: Option<&SecretString>) -> Result<Mail> {
    record.letter()?.render(app, token.map(|t| t.expose_secret()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> AppSettings {
        AppSettings {
            frontend_url: "https://app.example".into(),
            ..crate::config::Config::defaults().default_app
        }
    }

    #[test]
    fn letters_round_trip_and_render_with_their_token() {
        let letter = Letter::VerifyEmail { name: Some("Ada".into()), ttl_seconds: 86_400 };
        let json = serde_json::to_string(&letter).unwrap();
        assert_eq!(serde_json::from_str::<Letter>(&json).unwrap(), letter);
        let mail = letter.render(&app(), Some("tok123")).unwrap();
        assert!(mail.text.contains("https://app.example/verify-email?token=tok123"));
        assert!(letter.render(&app(), None).is_err(), "a link needs its token");
        assert!(Letter::EmailTakenNotice.render(&app(), None).is_ok());
    }

    #[test]
    fn the_filter_passes_outbox_inserts_only() {
        let record = |event: &str, kind: &str| serde_json::json!({"eventName": event, "dynamodb": {"NewImage": {"kind": {"S": kind}, "id": {"S": "x"}}}});
        assert!(matches_filter(&record("INSERT", "outbox")));
        assert!(!matches_filter(&record("MODIFY", "outbox")));
        assert!(!matches_filter(&record("REMOVE", "outbox")));
        assert!(!matches_filter(&record("INSERT", "session")));
        assert!(!matches_filter(&serde_json::json!({"eventName": "INSERT", "dynamodb": {"NewImage": {}}})));
    }
}
