//! The records of second factors: a user's factors, recovery codes and pending second steps, all
//! in the user's partition, so that the one read of a sign-in (the partition) finds them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AppId, FactorId, UserId};

/// The authentication methods of RFC 8176 that tokens name in `amr`.
pub mod amr {
    /// A password.
    pub const PWD: &str = "pwd";
    /// A one-time code: a TOTP app's or a recovery code.
    pub const OTP: &str = "otp";
    /// A hardware-bound key: a security key or a passkey.
    pub const HWK: &str = "hwk";
    /// The user was verified by the authenticator (a PIN or biometrics on a passkey).
    pub const USER: &str = "user";
    /// More than one factor.
    pub const MFA: &str = "mfa";
    /// A link mailed to the address (a magic link). Not in RFC 8176's registry, which has none for it.
    pub const EMAIL: &str = "email";
    /// A social identity provider vouched for the user (as Microsoft's tokens name it).
    pub const FED: &str = "fed";
}

/// NIST SP 800-63B's authenticator assurance level, a token's `acr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Acr {
    /// One factor.
    #[default]
    Aal1,
    /// Two factors, or a passkey with user verification.
    Aal2,
}

impl Acr {
    pub fn as_str(self) -> &'static str {
        match self {
            Acr::Aal1 => "aal1",
            Acr::Aal2 => "aal2",
        }
    }

    pub fn parse(raw: &str) -> Option<Acr> {
        match raw {
            "aal1" => Some(Acr::Aal1),
            "aal2" => Some(Acr::Aal2),
            _ => None,
        }
    }
}

/// How and when a session's user last proved who they are: what tokens carry as `amr`, `acr`
/// and `auth_time`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Authn {
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(default)]
    pub acr: Acr,
    /// Epoch seconds of the last authentication (0 on sessions older than the field).
    #[serde(default)]
    pub auth_time: i64,
}

impl Authn {
    /// A first factor, just now.
    pub fn first(method: &str, now: DateTime<Utc>) -> Authn {
        Authn { amr: vec![method.to_owned()], acr: Acr::Aal1, auth_time: now.timestamp() }
    }

    /// This authentication raised by a second factor `method`, just now.
    pub fn with_second(&self, method: &str, now: DateTime<Utc>) -> Authn {
        let mut amr = self.amr.clone();
        for m in [method, amr::MFA] {
            if !amr.iter().any(|a| a == m) {
                amr.push(m.to_owned());
            }
        }
        Authn { amr, acr: Acr::Aal2, auth_time: now.timestamp() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    Totp,
    Webauthn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorStatus {
    /// Enrolled but not yet confirmed with a code: no sign-in asks for it, and it expires.
    Pending,
    Active,
}

/// One second factor of a user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FactorRecord {
    pub factor_id: FactorId,
    pub tenant_id: AppId,
    pub user_id: UserId,
    pub kind: FactorKind,
    pub name: String,
    pub status: FactorStatus,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// TOTP: the secret, sealed by KMS (bound to the app, the user and the factor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_secret: Option<String>,
    /// TOTP: the last time step a code was accepted for. A code of this step or an earlier one
    /// is refused (RFC 6238 section 5.2: each code once).
    #[serde(default)]
    pub last_step: i64,
    /// A pending factor's expiry (DynamoDB TTL); a confirmed one has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

impl FactorRecord {
    pub fn is_active(&self) -> bool {
        self.status == FactorStatus::Active
    }
}

/// A user's recovery codes, each by its SHA-256, removed from the map as it is used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryCodesRecord {
    pub tenant_id: AppId,
    pub user_id: UserId,
    pub codes: BTreeMap<String, bool>,
    pub created_at: DateTime<Utc>,
}

/// A sign-in waiting for its second factor: what the `mfa_token` names, in the user's partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MfaTokenRecord {
    pub tenant_id: AppId,
    pub user_id: UserId,
    /// The first factor's authentication.
    pub authn: Authn,
    /// The event the session's start records (`login_succeeded`, `social_login`).
    pub event: String,
    /// The app requires a factor and the user has none: the token may enrol one first.
    #[serde(default)]
    pub enrolment_required: bool,
    /// The user's credential version at the first factor: a password reset meanwhile ends it.
    pub credential_version: u64,
    /// In cookie mode, the SHA-256 of the secret of the browser that signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: i64,
    pub ttl: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_factor_raises_the_level_and_names_both_methods_once() {
        let now = Utc::now();
        let first = Authn::first(amr::PWD, now);
        assert_eq!(first.acr, Acr::Aal1);
        let second = first.with_second(amr::OTP, now).with_second(amr::OTP, now);
        assert_eq!(second.amr, vec!["pwd", "otp", "mfa"]);
        assert_eq!(second.acr, Acr::Aal2);
        assert!(Acr::Aal2 > Acr::Aal1);
    }
}
