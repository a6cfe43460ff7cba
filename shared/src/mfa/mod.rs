//! A second factor: TOTP apps and recovery codes, the sign-in that waits for one (`mfa_token`),
//! enrolment, removal, and the step-up of a session.
//!
//! A sign-in whose user has a confirmed factor (or whose app requires one) gets no token: it gets
//! an `mfa_token`, single use, five minutes, bound to the user's partition (so to the app) and,
//! in cookie mode, to the browser. `verify` spends it with a factor and starts the session in one
//! transaction. Wrong codes count per user and per `mfa_token`, five per five minutes, taken
//! before any code is checked.

pub mod codes;
mod manage;
pub mod totp;
mod verify;

pub use manage::{
    Confirmed, Enrolled, Enroller, confirm_totp, enrol_totp, factors, regenerate_codes, remove_all,
    remove_factor,
};
pub use verify::{Answer, StepUp, challenge, step_up, verify, verify_for_browser};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::app::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::crypto;
use crate::error::{Error, Result};
use crate::ids::{AppId, FactorId, UserId};
use crate::model::{Authn, FactorKind, FactorRecord, MfaTokenRecord};
use crate::ratelimit::Limits;
use crate::sessions::LoggedIn;
use crate::sessions::{self, Begin};
use crate::settings::{MfaMethod, MfaMode};
pub use crate::store::Account;
use crate::store::{Committed, Quota};
use crate::tenant::Tenant;

/// How long an `mfa_token` lives.
pub const MFA_TOKEN_SECONDS: i64 = 300;
/// How old a session's last authentication may be for a change of its factors.
pub const RECENT: std::time::Duration = std::time::Duration::from_secs(600);
/// Wrong second-factor codes allowed per user and per `mfa_token` in `FAILURE_WINDOW` seconds.
const FAILURE_LIMIT: u32 = 5;
const FAILURE_WINDOW: i64 = 300;

/// A factor as its owner (and the sign-in that asks for it) sees it.
#[derive(Debug, Clone, Serialize)]
pub struct FactorView {
    pub id: FactorId,
    #[serde(rename = "type")]
    pub kind: FactorKind,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&FactorRecord> for FactorView {
    fn from(f: &FactorRecord) -> Self {
        FactorView {
            id: f.factor_id.clone(),
            kind: f.kind,
            name: f.name.clone(),
            created_at: f.created_at,
            last_used_at: f.last_used_at,
        }
    }
}

/// The outcome of a first factor.
pub enum SignIn {
    /// No second factor asked: the session.
    Tokens(Box<LoggedIn>),
    /// A second factor (or, `enrolment_required`, its enrolment) comes first.
    SecondFactor(Pending),
}

/// A sign-in waiting for its second factor.
#[derive(Debug)]
pub struct Pending {
    pub mfa_token: String,
    pub enrolment_required: bool,
    /// The factors it may use (`type: recovery_code` stands for the user's recovery codes).
    pub factors: Vec<serde_json::Value>,
    /// In cookie mode: the secret of the browser's binding cookie (the token works only with it).
    pub browser_secret: Option<String>,
}

/// A first factor just checked: a password, a magic link, a social provider.
pub struct FirstFactor<'a> {
    pub account: &'a Account,
    pub client: &'a ClientInfo,
    pub event: EventType,
    /// The first factor's method (`model::amr`).
    pub method: &'static str,
    /// The quotas the sign-in's write takes (the first factor forgives the account's own).
    pub limits: &'a Limits,
    pub superseded: Error,
    /// Bind the `mfa_token` to the browser (cookie mode).
    pub bind_browser: bool,
}

/// The factors of `account` that its app lets it use now.
fn usable<'a>(tenant: &Tenant, account: &'a Account) -> Vec<&'a FactorRecord> {
    let s = &tenant.settings;
    account
        .active_factors()
        .filter(|f| match f.kind {
            FactorKind::Totp => s.allows(MfaMethod::Totp),
            FactorKind::Webauthn => s.allows(MfaMethod::Webauthn),
        })
        .collect()
}

/// Whether the user has recovery codes left that the app accepts.
fn has_codes(tenant: &Tenant, account: &Account) -> bool {
    tenant.settings.allows(MfaMethod::RecoveryCode)
        && account.recovery_codes.as_ref().is_some_and(|c| !c.codes.is_empty())
}

/// What a first factor of `account` still needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: the session.
    Nothing,
    /// One of the user's factors.
    Factor,
    /// The app requires a factor and the user has none it allows: enrol one first.
    Enrolment,
}

/// With `mfa: off` no second factor is ever asked.
pub fn need(tenant: &Tenant, account: &Account) -> Need {
    match tenant.settings.mfa {
        MfaMode::Off => Need::Nothing,
        _ if !usable(tenant, account).is_empty() => Need::Factor,
        MfaMode::Required => Need::Enrolment,
        MfaMode::Optional => Need::Nothing,
    }
}

/// After a first factor: the session, or (a factor to use, or one the app requires) the second
/// step.
pub async fn sign_in(app: &App, tenant: &Tenant, first: FirstFactor<'_>) -> Result<SignIn> {
    let now = Utc::now();
    let account = first.account;
    let authn = Authn::first(first.method, now);
    let need = need(tenant, account);
    if need == Need::Nothing {
        let (pair, session_id) = Box::pin(sessions::start(
            app,
            tenant,
            Begin {
                user: &account.user,
                existing: &account.sessions,
                client: first.client,
                now,
                event: first.event,
                authn,
                limits: first.limits,
                superseded: first.superseded,
                second: None,
            },
        ))
        .await?;
        return Ok(SignIn::Tokens(Box::new(LoggedIn { pair, user: account.user.clone(), session_id })));
    }
    let step = Step { authn, event: first.event, need, bind_browser: first.bind_browser };
    begin(app, tenant, account, step, first.limits, first.client).await.map(SignIn::SecondFactor)
}

/// A second step about to begin: the first factor's authentication, the event its session
/// records, what it needs, whether it binds the browser.
pub struct Step {
    pub authn: Authn,
    pub event: EventType,
    pub need: Need,
    pub bind_browser: bool,
}

/// Writes a second step's `mfa_token` (with the first factor's quotas) and lists what it may use.
pub async fn begin(
    app: &App,
    tenant: &Tenant,
    account: &Account,
    step: Step,
    limits: &Limits,
    client: &ClientInfo,
) -> Result<Pending> {
    let now = Utc::now();
    let enrolment_required = step.need == Need::Enrolment;
    let (secret, _) = crypto::new_token();
    let mfa_token = format!("{}.{secret}", account.user.user_id);
    let browser_secret = step.bind_browser.then(|| crypto::new_token().0);
    let expires_at = now.timestamp() + MFA_TOKEN_SECONDS;
    let record = MfaTokenRecord {
        tenant_id: tenant.id.clone(),
        user_id: account.user.user_id.clone(),
        authn: step.authn,
        event: step.event.as_str().to_owned(),
        enrolment_required,
        credential_version: account.user.credential_version,
        browser: browser_secret.as_deref().map(crypto::token_hash),
        created_at: now,
        expires_at,
        ttl: expires_at,
    };
    let committed =
        app.store.put_mfa_token(&crypto::token_hash(&mfa_token), &record, limits.quotas()).await?;
    limits.check(client, committed)?;
    let mut listed: Vec<serde_json::Value> = usable(tenant, account)
        .iter()
        .map(|f| json!({"id": f.factor_id, "type": f.kind, "name": f.name}))
        .collect();
    if has_codes(tenant, account) && !enrolment_required {
        listed.push(json!({"type": "recovery_code"}));
    }
    Ok(Pending { mfa_token, enrolment_required, factors: listed, browser_secret })
}

/// An `mfa_token` as a client sent it: the user it names and the SHA-256 it is stored under.
pub(crate) fn parse_token(raw: &str) -> Result<(UserId, String)> {
    let raw = raw.trim();
    let (user, secret) = raw.split_once('.').ok_or(Error::InvalidToken)?;
    let user_id = UserId::parse(user).ok_or(Error::InvalidToken)?;
    if !crypto::could_be_token(secret) {
        return Err(Error::InvalidToken);
    }
    Ok((user_id, crypto::token_hash(raw)))
}

/// A pending second step of `tenant`, alive, of a user still at the credential it was made
/// under, and (when it was bound) presented by its browser.
pub(crate) fn live_token<'a>(
    account: &'a Account,
    hash: &str,
    browser: Option<&str>,
    now: DateTime<Utc>,
) -> Result<&'a MfaTokenRecord> {
    let token = account.mfa_token(hash).ok_or(Error::InvalidToken)?;
    let current = token.expires_at > now.timestamp()
        && token.credential_version == account.user.credential_version
        && account.user.status == crate::model::UserStatus::Active;
    let bound = match &token.browser {
        Some(bound) => {
            let given = browser.map(crypto::token_hash).unwrap_or_default();
            bool::from(subtle::ConstantTimeEq::ct_eq(bound.as_bytes(), given.as_bytes()))
        }
        None => true,
    };
    if current && bound { Ok(token) } else { Err(Error::InvalidToken) }
}

/// The wrong-code counters of a second step: the user's and, for a sign-in, its token's.
fn failure_quotas(
    tenant: &AppId,
    user_id: &UserId,
    token_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Vec<Quota> {
    let t = now.timestamp();
    let start = t - t.rem_euclid(FAILURE_WINDOW);
    let quota = |kind: &str, subject: &str| Quota {
        pk: crate::store::schema::mfa_failures(tenant, kind, subject),
        window: start,
        expires: start + 2 * FAILURE_WINDOW,
        limit: Some(FAILURE_LIMIT),
        clear: false,
    };
    let mut quotas = vec![quota("user", user_id.as_str())];
    if let Some(hash) = token_hash {
        quotas.push(quota("token", hash));
    }
    quotas
}

/// Takes one attempt from each counter before a code is checked: of N parallel guesses only as
/// many as the limit allows get to be checked.
async fn take_attempt(
    app: &App,
    quotas: &[Quota],
    tenant: &AppId,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<()> {
    match app.store.take_quotas(quotas).await? {
        Committed::OverLimit(_) => {
            let details = audit::details([("route", json!("mfa_verify")), ("limit", json!("mfa_failures"))]);
            audit::log_only(EventType::RateLimited, tenant, client, &details);
            let t = now.timestamp();
            let retry = FAILURE_WINDOW - t.rem_euclid(FAILURE_WINDOW);
            Err(Error::RateLimited { retry_after_seconds: retry.max(1) as u64 })
        }
        _ => Ok(()),
    }
}

/// The user's counter forgiven by a right code (the token's dies with the token).
fn forgive(quotas: &[Quota]) -> Vec<Quota> {
    quotas.iter().take(1).map(|q| Quota { clear: true, ..q.clone() }).collect()
}
