//! The records the service keeps, as they are stored (one DynamoDB table, see `store`).
//!
//! Times a person reads are RFC 3339 strings; times the store compares (`expires_at`, `ttl`) are
//! epoch seconds, because DynamoDB conditions and TTL compare numbers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Profile;
use crate::ids::{AppId, KeyId, SessionId, UserId};
use crate::settings::AppSettings;

mod mfa;
pub use mfa::{Acr, Authn, FactorKind, FactorRecord, FactorStatus, MfaTokenRecord, RecoveryCodesRecord, amr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    /// Deletion confirmed; erased after the grace period unless cancelled.
    PendingDeletion,
    /// Disabled by the app's backend (management API): no sign-in, no session, until enabled.
    Disabled,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub user_id: UserId,
    pub tenant_id: AppId,
    /// As the user typed it.
    pub email: String,
    pub email_normalized: String,
    /// Argon2id PHC string; absent for accounts made by magic link or social login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    pub email_verified: bool,
    pub status: UserStatus,
    /// How the user can sign in (`password`, later `magic_link`, `google` ...).
    #[serde(default)]
    pub providers: Vec<String>,
    /// Hash of the newest email-verification token: only that one may verify (a resend kills the
    /// older link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_token_hash: Option<String>,
    /// Newest password-reset, magic-link, deletion-confirmation and deletion-cancel tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_token_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magic_token_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_token_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_token_hash: Option<String>,
    /// When the user asked to delete the account (a confirmation mail is out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_requested_at: Option<DateTime<Utc>>,
    /// When a confirmed deletion erases the account, unless cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Bumped by every change that must end the sessions of the old credential (password reset and
    /// change, disabling for deletion). A session records the version it was started under, and
    /// starting or rotating one is conditioned on the user still being at that version, so a login
    /// that checked the old password cannot commit its session after a reset.
    #[serde(default)]
    pub credential_version: u64,
    /// Bumped by every creation and revocation of one of the user's API keys, and by every change
    /// of the user's status: a status change writes the new status onto each key item in the same
    /// transaction, conditioned on this version, so no key created meanwhile escapes it.
    #[serde(default)]
    pub api_keys_version: u64,
    /// How many second factors the user has confirmed: kept by the same writes that confirm and
    /// remove them, so that removing the last one of an app that requires one is refused
    /// atomically.
    #[serde(default)]
    pub mfa_factors: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserRecord {
    /// The newest token of a kind, as the user item names it.
    pub fn token_hash(&self, kind: TokenKind) -> Option<&str> {
        match kind {
            TokenKind::VerifyEmail => self.verify_token_hash.as_deref(),
            TokenKind::PasswordReset => self.reset_token_hash.as_deref(),
            TokenKind::MagicLink => self.magic_token_hash.as_deref(),
            TokenKind::DeletionConfirm => self.deletion_token_hash.as_deref(),
            TokenKind::DeletionCancel => self.cancel_token_hash.as_deref(),
        }
    }

    /// Every single-use token the user item names (for erasure).
    pub fn token_hashes(&self) -> Vec<&str> {
        [
            &self.verify_token_hash,
            &self.reset_token_hash,
            &self.magic_token_hash,
            &self.deletion_token_hash,
            &self.cancel_token_hash,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect()
    }

    pub fn profile(&self) -> Profile {
        Profile {
            name: self.name.clone(),
            username: self.username.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            company_name: self.company_name.clone(),
        }
    }

    pub fn set_profile(&mut self, p: Profile) {
        self.name = p.name;
        self.username = p.username;
        self.first_name = p.first_name;
        self.last_name = p.last_name;
        self.company_name = p.company_name;
    }
}

/// What a single-use token is for. A token of one kind is never accepted as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    VerifyEmail,
    PasswordReset,
    MagicLink,
    DeletionConfirm,
    DeletionCancel,
}

impl TokenKind {
    /// The user attribute that names the newest token of this kind.
    pub fn user_attribute(self) -> &'static str {
        match self {
            TokenKind::VerifyEmail => "verify_token_hash",
            TokenKind::PasswordReset => "reset_token_hash",
            TokenKind::MagicLink => "magic_token_hash",
            TokenKind::DeletionConfirm => "deletion_token_hash",
            TokenKind::DeletionCancel => "cancel_token_hash",
        }
    }
}

/// A single-use token, stored under the SHA-256 of its value (never the value itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    pub kind: TokenKind,
    pub tenant_id: AppId,
    pub user_id: UserId,
    /// The address a magic link was sent to when no account had it yet: using the link creates
    /// the account (with `user_id` as its id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A verification link mailed by the registration that set the account's password: following
    /// it proves that the mailbox's owner made that registration, so the password stays. Every
    /// other link (a resend) proves the mailbox only, and verifying with it drops a password that
    /// whoever registered may have chosen (`docs/api.md`, "Pre-registration").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub vouches_for_password: bool,
    /// A magic link asked for on the OAuth provider's login page: the SHA-256 of a secret that only
    /// the asking browser holds (its pending cookie). Only that browser can use the link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Epoch seconds; checked by the code on every use (DynamoDB TTL deletes lazily).
    pub expires_at: i64,
    pub ttl: i64,
}

impl TokenRecord {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now.timestamp() >= self.expires_at
    }
}

/// A login session: the family of refresh tokens that descend from one login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub session_id: SessionId,
    pub tenant_id: AppId,
    pub user_id: UserId,
    /// SHA-256 of the current refresh token; only it may rotate the session.
    pub refresh_hash: String,
    /// Rotation generation of the current refresh token (1 after login).
    pub generation: u64,
    /// The refresh token this one replaced, and when: presenting it again within the grace window
    /// is a client's benign retry; later, or any older token, is theft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<DateTime<Utc>>,
    #[serde(default = "yes")]
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Epoch seconds at which the current refresh token expires.
    pub expires_at: i64,
    /// Epoch seconds at which the session ends whatever happens: its login plus
    /// `SESSION_MAX_LIFETIME_SECONDS`. Rotation never moves it. 0 on sessions stored before it
    /// existed; their next rotation sets it.
    #[serde(default)]
    pub absolute_expires_at: i64,
    /// Epoch seconds at which the session ends unless it is used (refreshed) before, when an idle
    /// timeout is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_expires_at: Option<i64>,
    /// The user's `credential_version` when the session started (see `UserRecord`).
    #[serde(default)]
    pub credential_version: u64,
    /// How and when the user last proved who they are in this session (a step-up raises it).
    #[serde(default)]
    pub authn: Authn,
    pub ttl: i64,
}

fn yes() -> bool {
    true
}

impl BrowserSessionRecord {
    /// How and when its user signed in.
    pub fn authn(&self) -> Authn {
        Authn { amr: self.amr.clone(), acr: self.acr, auth_time: self.auth_time }
    }
}

impl SessionRecord {
    /// Whether the session may still be used: its refresh token, its absolute lifetime and its
    /// idle timeout all unexpired. Exact to the second, no leeway.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        let t = now.timestamp();
        t < self.expires_at
            && (self.absolute_expires_at == 0 || t < self.absolute_expires_at)
            && self.idle_expires_at.is_none_or(|idle| t < idle)
    }
}

/// One security event, as stored and as `GET /api/v1/users/me/audit` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: DateTime<Utc>,
    pub tenant_id: AppId,
    pub user_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub details: serde_json::Map<String, serde_json::Value>,
    pub ttl: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppStatus {
    Active,
    /// Deleted by its owner: unknown to every route. The item stays as a tombstone, so that the id
    /// is never handed out again.
    Deleted,
}

/// A developer's app (tenant), with its settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppRecord {
    pub app_id: AppId,
    /// The developer (a user of the `console` app) who owns it.
    pub owner: UserId,
    pub status: AppStatus,
    pub settings: AppSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// An app's secret key, as its owner's list shows it: never the secret, only its SHA-256 (which
/// revocation needs to find the look-up item) and a hint to tell keys apart.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretKeyRecord {
    pub key_id: KeyId,
    pub app_id: AppId,
    pub label: String,
    /// `sk_...` and the key's last four characters.
    pub hint: String,
    pub hash: String,
    /// The developer who created it; none for the operator's keys of `default` (`authctl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// An end-user's API key, as the authorizer reads it in its one look-up by key id: never the
/// secret, only its SHA-256, and the owner's status, written in the same transactions that change
/// it, so that the one read also says whether the owner may act.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub key_id: KeyId,
    pub tenant_id: AppId,
    pub user_id: UserId,
    pub label: String,
    /// The first characters of the raw key, to tell keys apart in a list.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub hash: String,
    /// The secret before the last rotation, valid until `previous_valid_until` (epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_valid_until: Option<i64>,
    pub owner_status: UserStatus,
    pub created_at: DateTime<Utc>,
    /// Epoch seconds: the key is refused from then on.
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<DateTime<Utc>>,
    /// TTL: a day after `expires_at` (the key is refused by its expiry; TTL only tidies up).
    pub ttl: i64,
}

/// A key's entry in its owner's partition: what the list, the limit of live keys and a change of
/// the owner's status read, in one strongly consistent query.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyRef {
    pub key_id: KeyId,
    pub created_at: DateTime<Utc>,
    pub expires_at: i64,
    pub ttl: i64,
}

// ----- social login -----------------------------------------------------------------------------

/// The providers the service signs in with.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ProviderId {
    Google,
    Apple,
    #[serde(rename = "github")]
    #[strum(serialize = "github")]
    GitHub,
}

impl ProviderId {
    /// Every provider, in the order lists show them.
    pub const ALL: [ProviderId; 3] = [ProviderId::Google, ProviderId::Apple, ProviderId::GitHub];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn name(self) -> &'static str {
        match self {
            ProviderId::Google => "Google",
            ProviderId::Apple => "Apple",
            ProviderId::GitHub => "GitHub",
        }
    }

    pub fn parse(raw: &str) -> Option<ProviderId> {
        raw.parse().ok()
    }
}

/// What a started sign-in stores under its state's hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateRecord {
    pub tenant_id: AppId,
    pub provider: ProviderId,
    pub pkce_verifier: String,
    pub nonce: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<String>,
    /// The client's own PKCE challenge (S256), which the one-time code's exchange must answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    /// A link started by a signed-in user (`POST /oauth/{provider}/link`): the identity joins them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_user: Option<UserId>,
    /// The session that started the link: it must still be live when the link completes, so that
    /// a session ended meanwhile (logged out, revoked, a stolen token's) links nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_session: Option<SessionId>,
    pub expires_at: i64,
    pub ttl: i64,
}

/// What a one-time code stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeRecord {
    pub tenant_id: AppId,
    pub user_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    pub expires_at: i64,
    pub ttl: i64,
}

/// One identity provider as an app configured it through the console. The secret (a client
/// secret, or Apple's private key) is only ever stored sealed by the provider key, bound to the
/// app and the provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProviderRecord {
    pub app_id: AppId,
    pub provider: ProviderId,
    pub client_id: String,
    /// Audiences of ID tokens the app's native clients bring (an iOS bundle id, an Android
    /// client id), accepted beside `client_id`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_client_ids: Vec<String>,
    /// Apple's team id and key id (the client secret is a JWT signed with the sealed key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The client secret (Google, GitHub) or the PKCS#8 PEM key (Apple), sealed.
    pub sealed_secret: String,
    pub updated_at: DateTime<Utc>,
}

/// Whether an OAuth client can keep a secret (RFC 6749 section 2.1): a server-side app
/// (`confidential`, authenticated by its secret) or a browser or native app (`public`, bound to
/// its PKCE verifier instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    Confidential,
    Public,
}

/// The grants an OAuth client may use at `/oauth/token`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::EnumString, strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

/// What a developer chooses for an OAuth client of their app (the console's fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientSettings {
    pub name: String,
    /// Exact-match redirect URIs (compared as strings, as RFC 6749 and OAuth 2.1 require).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back (exact match).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes the client may ask for.
    pub scopes: Vec<String>,
    pub grant_types: Vec<GrantType>,
    /// An app of the developer's own: its users are not asked for consent.
    pub first_party: bool,
    /// A resource server of the app: its introspection answers about every token of the app,
    /// not only its own (RFC 7662 section 4).
    #[serde(default)]
    pub introspect_any: bool,
    /// A confidential client must send PKCE too (RFC 9700 section 2.1.1); public clients always
    /// must. False for clients stored before the setting existed, true for every new one.
    #[serde(default)]
    pub require_pkce: bool,
}

/// An OAuth client as stored, under its app's item. The secret only as its SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthClientRecord {
    pub app_id: AppId,
    pub client_id: crate::ids::ClientId,
    #[serde(rename = "type")]
    pub client_type: ClientType,
    #[serde(flatten)]
    pub settings: ClientSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    /// The secret's last characters, for lists (`ocs_...x7Qz`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hint: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a user's authorization gave one client: the scopes, and the family of refresh tokens it
/// started, which rotates like a session's (the current token's SHA-256 and generation, the one it
/// replaced and when). In the user's partition, so the user's erasure takes it; deleting it ends
/// every token the grant issued (access tokens name it, and their verification reads it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthGrantRecord {
    pub grant_id: String,
    pub tenant_id: AppId,
    pub user_id: UserId,
    pub client_id: crate::ids::ClientId,
    pub scopes: Vec<String>,
    /// When the user last proved who they are at the provider (the ID token's `auth_time`), how
    /// (`amr`) and to which level (`acr`).
    pub auth_time: i64,
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(default)]
    pub acr: Acr,
    /// The user's credential version when granted: a password reset or change ends the grant.
    #[serde(default)]
    pub credential_version: u64,
    pub created_at: DateTime<Utc>,
    /// The current refresh token (`offline_access` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_hash: Option<String>,
    pub generation: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<DateTime<Utc>>,
    /// The grant ends when its last token would have.
    pub expires_at: i64,
    pub ttl: i64,
}

/// A user's consent to a client's scopes, remembered so that the next authorization asking for no
/// more does not ask again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub tenant_id: AppId,
    pub user_id: UserId,
    pub client_id: crate::ids::ClientId,
    pub scopes: Vec<String>,
    pub granted_at: DateTime<Utc>,
}

/// An authorization code, by its SHA-256: what the exchange needs to check and issue. Kept after
/// its redemption (`redeemed_at`) until it expires, so that a second presentation is recognised
/// and what the first one issued can be revoked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizationCodeRecord {
    pub tenant_id: AppId,
    pub client_id: crate::ids::ClientId,
    pub user_id: UserId,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// PKCE (S256 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(default)]
    pub acr: Acr,
    /// The grant the exchange creates: named in advance, so a second presentation can end it.
    pub grant_id: String,
    /// The user's credential version at the sign-in: a password change meanwhile voids the code.
    #[serde(default)]
    pub credential_version: u64,
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redeemed_at: Option<DateTime<Utc>>,
    pub ttl: i64,
}

/// The provider's browser session: who signed in at the login page and when, found by the SHA-256
/// of its cookie. Valid only while the user is active at the same credential version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BrowserSessionRecord {
    pub tenant_id: AppId,
    pub user_id: UserId,
    pub auth_time: i64,
    /// How the user signed in (RFC 8176) and the level it reached.
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(default)]
    pub acr: Acr,
    pub credential_version: u64,
    pub expires_at: i64,
    pub ttl: i64,
}
