//! The one error type of the service. Every failure a client can see is one of these variants; the
//! HTTP layer (`functions::http`) maps each to its status, code and envelope in one place.
//!
//! Variants never carry secrets or dependency error text: `Dependency` keeps the cause for the log
//! line written at the edge, and its `Display` names only the dependency.

use std::collections::BTreeMap;

/// Field name → the rules it broke, in the order they were checked.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not JSON, not a JSON object, or not decodable at all.
    #[error("{0}")]
    MalformedRequest(String),
    #[error("the request has invalid fields")]
    Validation(FieldErrors),
    /// A single-use token that is unknown, used, superseded or expired.
    #[error("the token is invalid or has expired")]
    InvalidToken,
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// A body of a media type the route does not declare.
    #[error("the request body's media type is not supported here")]
    UnsupportedMediaType,
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    #[error("the email address has not been verified")]
    EmailNotVerified,
    /// Missing, malformed, expired, forged or revoked bearer token.
    #[error("authentication is required")]
    Unauthorized,
    #[error("this action is not allowed")]
    Forbidden,
    /// The caller is of a kind the route accepts but lacks one of its scopes (named, for the
    /// `WWW-Authenticate` header of RFC 6750).
    #[error("the credential lacks a scope this action requires")]
    InsufficientScope { needed: &'static str },
    #[error("the account is scheduled for deletion")]
    AccountPendingDeletion,
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("the resource was not found")]
    NotFound,
    #[error("an account with this email already exists")]
    EmailTaken,
    /// A social sign-in failed at or with the provider (denied, a bad code or ID token, a state
    /// that is expired, used or not this browser's). The text says which, never with a secret.
    #[error("the sign-in with the provider failed: {0}")]
    OAuthFailed(String),
    /// A new social identity whose address belongs to an account the app does not link by email
    /// (`link_social_by_email: off`, or a provider not authoritative for the address): sign in
    /// and link instead.
    #[error(
        "an account with this email exists: sign in to it and link the provider from that session (POST /api/v1/auth/oauth/{{provider}}/link)"
    )]
    IdentityConflict,
    /// The request conflicts with the state of the resource (an app limit reached, a developer
    /// who still owns apps).
    #[error("the request conflicts with the current state")]
    Conflict,
    #[error("too many requests")]
    RateLimited { retry_after_seconds: u64 },
    /// Password sign-in is locked after too many consecutive failures, until the owner resets the
    /// password or signs in with a magic link.
    #[error("too many failed sign-ins: reset the password or sign in with a magic link")]
    LoginLocked,
    /// A change of the account's sign-in factors needs a sign-in of the last ten minutes.
    #[error("this action needs a recent sign-in: sign in again (or verify a second factor) and retry")]
    ReauthenticationRequired,
    /// A second-factor code (TOTP or recovery code) or credential that is wrong, used or not the
    /// user's.
    #[error("the second-factor code is incorrect or has been used")]
    InvalidMfaCode,
    /// The app requires a second factor and this is the user's last one.
    #[error("the app requires a second factor: enrol another one before removing this one")]
    FactorRequired,
    /// DynamoDB, SES or Secrets Manager failed, throttled or timed out.
    #[error("{dependency} is unavailable")]
    Dependency {
        dependency: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A mail SES refuses for good (a malformed or rejected message): retrying cannot help.
    #[error("the mail was refused by the mail service")]
    Undeliverable(String),
    /// A bug: an invariant of our own code did not hold.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn dependency(
        dependency: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Dependency { dependency, source: source.into() }
    }

    /// One invalid field with one broken rule.
    pub fn field(field: &str, rule: &str) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), vec![rule.to_owned()]);
        Error::Validation(fields)
    }

    /// The contract's `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::MalformedRequest(_) => "malformed_request",
            Error::Validation(_) => "validation_failed",
            Error::InvalidToken => "invalid_token",
            Error::PayloadTooLarge => "payload_too_large",
            Error::UnsupportedMediaType => "unsupported_media_type",
            Error::InvalidCredentials => "invalid_credentials",
            Error::EmailNotVerified => "email_not_verified",
            Error::Unauthorized => "unauthorized",
            Error::Forbidden => "forbidden",
            Error::InsufficientScope { .. } => "insufficient_scope",
            Error::AccountPendingDeletion => "account_pending_deletion",
            Error::AccountDisabled => "account_disabled",
            Error::NotFound => "not_found",
            Error::EmailTaken => "email_taken",
            Error::OAuthFailed(_) => "oauth_failed",
            Error::IdentityConflict => "identity_conflict",
            Error::Conflict => "conflict",
            Error::RateLimited { .. } => "rate_limited",
            Error::LoginLocked => "login_locked",
            Error::ReauthenticationRequired => "reauthentication_required",
            Error::InvalidMfaCode => "invalid_mfa_code",
            Error::FactorRequired => "factor_required",
            Error::Dependency { .. } => "service_unavailable",
            Error::Internal(_) => "internal_error",
            Error::Undeliverable(_) => "undeliverable",
        }
    }

    /// The sentence a client may show. Internal and dependency details stay in the logs.
    pub fn public_message(&self) -> String {
        match self {
            Error::Dependency { .. } => {
                "The service is temporarily unavailable; please retry shortly.".to_owned()
            }
            Error::Internal(_) => "An unexpected error occurred.".to_owned(),
            other => {
                let mut s = other.to_string();
                if let Some(first) = s.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                s.push('.');
                s
            }
        }
    }
}

/// A setting that stops the cold start, named so that the operator can fix it.
#[derive(Debug, thiserror::Error)]
#[error("configuration variable {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
