//! Security events: one DynamoDB item per event (per user, newest first, kept for
//! `AUDIT_RETENTION_DAYS`) and one structured JSON log line. Neither ever holds a password, a token
//! or a link: `details` carries only identifiers and reasons.

use crate::ids::{AppId, UserId};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::crypto;
use crate::model::AuditRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum EventType {
    Register,
    EmailVerified,
    VerificationResent,
    LoginSucceeded,
    LoginFailed,
    TokenRefreshed,
    RefreshReuseDetected,
    Logout,
    SessionRevoked,
    PasswordResetRequested,
    PasswordResetCompleted,
    PasswordChanged,
    MagicLinkRequested,
    MagicLinkUsed,
    DeletionRequested,
    DeletionConfirmed,
    DeletionCancelled,
    AccountPurged,
    RateLimited,
    /// A mail could not be sent; the account is intact and the user can ask again.
    MailFailed,
    /// A developer's console actions, in the developer's own trail.
    AppCreated,
    AppUpdated,
    AppDeleted,
    SecretKeyCreated,
    SecretKeyRevoked,
    ProviderConfigured,
    ProviderRemoved,
    #[strum(serialize = "oauth_client_created")]
    OAuthClientCreated,
    #[strum(serialize = "oauth_client_updated")]
    OAuthClientUpdated,
    #[strum(serialize = "oauth_client_deleted")]
    OAuthClientDeleted,
    #[strum(serialize = "oauth_client_secret_rotated")]
    OAuthClientSecretRotated,
    /// The app's backend (management API) acted on a user.
    UserCreatedByAdmin,
    UserUpdatedByAdmin,
    UserDisabled,
    UserEnabled,
    UserDeletedByAdmin,
    /// A user's own API keys.
    ApiKeyCreated,
    ApiKeyRevoked,
    ApiKeyRotated,
    /// The app's OAuth provider: a user allowed or revoked a client, a client got tokens for a
    /// user, an authorization code came back a second time.
    #[strum(serialize = "oauth_consent_granted")]
    OAuthConsentGranted,
    #[strum(serialize = "oauth_consent_revoked")]
    OAuthConsentRevoked,
    #[strum(serialize = "oauth_token_issued")]
    OAuthTokenIssued,
    #[strum(serialize = "oauth_code_reused")]
    OAuthCodeReused,
    /// Social login (Google, Apple, GitHub).
    SocialLogin,
    IdentityLinked,
    IdentityUnlinked,
    /// Second factors: a factor confirmed or removed, a sign-in or step-up completed with one, a
    /// wrong code, a recovery code spent, a new set of codes, a passwordless passkey sign-in, a
    /// security key whose counter went back (a cloned credential).
    MfaEnrolled,
    MfaRemoved,
    MfaVerified,
    MfaFailed,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    PasskeyLogin,
    WebauthnCloneSuspected,
}

impl EventType {
    /// The event's `type`, as stored and shown (`login_failed` ...).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What the edge knows about the caller, for audit events and sessions.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// API Gateway's `requestContext.http.sourceIp`; never a request header.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
}

/// Builds the event and writes its log line. The caller stores the record, usually in the same
/// transaction as the change it records.
pub fn record(
    config: &Config,
    tenant_id: &AppId,
    user_id: &UserId,
    event: EventType,
    client: &ClientInfo,
    details: Map<String, Value>,
    now: DateTime<Utc>,
) -> AuditRecord {
    let retention = i64::from(config.audit_retention_days) * 86_400;
    let record = AuditRecord {
        id: crypto::new_id(),
        kind: event.as_str().to_owned(),
        at: now,
        tenant_id: tenant_id.to_owned(),
        user_id: user_id.to_owned(),
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        details,
        ttl: now.timestamp() + retention,
    };
    log(&record, &client.request_id);
    record
}

/// The log line alone, for events about no known account (a failed login for an unknown email).
pub fn log_only(event: EventType, tenant_id: &AppId, client: &ClientInfo, details: &Map<String, Value>) {
    let details = Value::Object(details.clone()).to_string();
    tracing::info!(
        target: "audit",
        event = event.as_str(),
        tenant_id = tenant_id.as_str(),
        ip = client.ip.as_deref().unwrap_or(""),
        user_agent = client.user_agent.as_deref().unwrap_or(""),
        request_id = client.request_id.as_str(),
        details = details.as_str(),
        "security event"
    );
}

fn log(r: &AuditRecord, request_id: &str) {
    let details = Value::Object(r.details.clone()).to_string();
    tracing::info!(
        target: "audit",
        event = r.kind.as_str(),
        event_id = r.id.as_str(),
        tenant_id = r.tenant_id.as_str(),
        user_id = r.user_id.as_str(),
        ip = r.ip.as_deref().unwrap_or(""),
        user_agent = r.user_agent.as_deref().unwrap_or(""),
        request_id,
        details = details.as_str(),
        "security event"
    );
}

/// `details` from pairs of plain identifiers and reasons.
pub fn details<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The opaque cursor of a user's audit trail (`next_cursor`): where the previous page ended,
/// base64url, so that a client never builds one.
pub fn encode_cursor(after: &str) -> String {
    URL_SAFE_NO_PAD.encode(after)
}

/// The position a cursor of `encode_cursor` stands for; `None` for anything else (a cursor only
/// ever continues within one trail's events).
pub fn decode_cursor(cursor: &str) -> Option<String> {
    let sk = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let id = sk.strip_prefix("EVENT#")?;
    (id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')).then_some(sk)
}
