//! A user's own factors: enrolling and confirming a TOTP app, the list, removal, new recovery
//! codes; and the app's backend removing every factor of a user who lost their device.

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::json;

use super::{
    FactorView, RECENT, codes, failure_quotas, forgive, live_token, parse_token, take_attempt, totp,
};
use crate::app::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::domain::Email;
use crate::error::{Error, Result};
use crate::ids::{AppId, FactorId, UserId};
use crate::model::{FactorKind, FactorRecord, FactorStatus, RecoveryCodesRecord, UserRecord};
use crate::outbox::{self, FactorNotice, Letter, OutboxRecord};
use crate::settings::{MfaMethod, MfaMode};
use crate::store::{Account, Written};
use crate::tenant::Tenant;
use crate::tokens::Identity;

/// A user may hold this many factors, confirmed or not.
const MAX_FACTORS: usize = 10;
/// An unconfirmed factor is forgotten after this long.
const PENDING_SECONDS: i64 = 600;

/// Who enrols a factor: the user's session, or (the app requires a factor the user has yet to
/// enrol) the `mfa_token` of the sign-in that found none.
pub enum Enroller<'a> {
    Session(&'a Identity),
    Pending { mfa_token: &'a str, browser: Option<&'a str> },
}

/// Which factor change needs which freshness of the session's sign-in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// A sign-in of the last ten minutes (adding a factor, new codes, removal).
    Recent,
    /// Any live session (confirming a factor this user just added).
    Session,
}

impl Enroller<'_> {
    /// The user's partition, once the enroller is shown to be who it says.
    async fn account(&self, app: &App, tenant: &Tenant, needs: Needs, now: DateTime<Utc>) -> Result<Account> {
        match self {
            Enroller::Session(who) => {
                if needs == Needs::Recent && !who.signed_in_recently(now, RECENT) {
                    return Err(Error::ReauthenticationRequired);
                }
                app.store.account(&tenant.id, &who.user_id).await?.ok_or(Error::Unauthorized)
            }
            Enroller::Pending { mfa_token, browser } => {
                let (user_id, hash) = parse_token(mfa_token)?;
                let account = app.store.account(&tenant.id, &user_id).await?.ok_or(Error::InvalidToken)?;
                let token = live_token(&account, &hash, *browser, now)?;
                // Only a sign-in that must enrol may, and only while the user still has no factor:
                // once one is enrolled, the password alone no longer adds another.
                if !token.enrolment_required || super::need(tenant, &account) != super::Need::Enrolment {
                    return Err(Error::InvalidToken);
                }
                Ok(account)
            }
        }
    }

    fn token_hash(&self) -> Option<String> {
        match self {
            Enroller::Session(_) => None,
            Enroller::Pending { mfa_token, .. } => parse_token(mfa_token).ok().map(|(_, h)| h),
        }
    }
}

/// A TOTP factor enrolled, waiting for its first code.
#[derive(Debug, serde::Serialize)]
pub struct Enrolled {
    pub factor_id: FactorId,
    /// The secret in base32, for an app that cannot scan the URI. Shown this once.
    pub secret: String,
    pub otpauth_uri: String,
}

/// A factor confirmed; with the user's first factor, their recovery codes (shown this once).
#[derive(Debug, serde::Serialize)]
pub struct Confirmed {
    pub factor: FactorView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// What binds a sealed TOTP secret: the app, the user and the factor.
fn secret_context<'a>(
    tenant: &'a AppId,
    user: &'a UserId,
    factor: &'a FactorId,
) -> [(&'static str, &'a str); 4] {
    [
        ("purpose", "totp-secret"),
        ("tenant", tenant.as_str()),
        ("user", user.as_str()),
        ("factor", factor.as_str()),
    ]
}

/// The secret of a TOTP factor, opened by KMS.
pub(super) async fn open_secret(app: &App, factor: &FactorRecord) -> Result<secrecy::SecretString> {
    let sealed = factor
        .sealed_secret
        .as_deref()
        .ok_or_else(|| Error::Internal("a TOTP factor without a secret".into()))?;
    app.provider_sealer
        .open(&secret_context(&factor.tenant_id, &factor.user_id, &factor.factor_id), sealed)
        .await
}

pub async fn enrol_totp(app: &App, tenant: &Tenant, enroller: Enroller<'_>, name: &str) -> Result<Enrolled> {
    if !tenant.settings.allows(MfaMethod::Totp) {
        return Err(Error::Forbidden);
    }
    let now = Utc::now();
    let account = enroller.account(app, tenant, Needs::Recent, now).await?;
    let live = account.factors.iter().filter(|f| f.is_active() || f.ttl.is_some_and(|t| t > now.timestamp()));
    if live.count() >= MAX_FACTORS {
        return Err(Error::Conflict);
    }
    let user = &account.user;
    let factor_id = FactorId::generate();
    let secret = totp::new_secret();
    let sealed =
        app.provider_sealer.seal(&secret_context(&tenant.id, &user.user_id, &factor_id), &secret).await?;
    let factor = FactorRecord {
        factor_id: factor_id.clone(),
        tenant_id: tenant.id.clone(),
        user_id: user.user_id.clone(),
        kind: FactorKind::Totp,
        name: name.to_owned(),
        status: FactorStatus::Pending,
        created_at: now,
        last_used_at: None,
        sealed_secret: Some(sealed),
        last_step: 0,
        ttl: Some(now.timestamp() + PENDING_SECONDS),
    };
    if app.store.put_pending_factor(&factor).await? == Written::ConditionFailed {
        return Err(Error::Unauthorized);
    }
    let otpauth_uri = totp::uri(&secret, &tenant.settings.name, &user.email)?;
    Ok(Enrolled { factor_id, secret, otpauth_uri })
}

/// Confirms a pending TOTP factor with its first code. Wrong codes count like a sign-in's.
pub async fn confirm_totp(
    app: &App,
    tenant: &Tenant,
    enroller: Enroller<'_>,
    factor_id: &FactorId,
    code: &str,
    client: &ClientInfo,
) -> Result<Confirmed> {
    let now = Utc::now();
    let account = enroller.account(app, tenant, Needs::Session, now).await?;
    let user = &account.user;
    let quotas = failure_quotas(&tenant.id, &user.user_id, enroller.token_hash().as_deref(), now);
    take_attempt(app, &quotas, &tenant.id, client, now).await?;
    let factor = account
        .factors
        .iter()
        .find(|f| {
            f.factor_id == *factor_id && f.kind == FactorKind::Totp && f.status == FactorStatus::Pending
        })
        .filter(|f| f.ttl.is_none_or(|t| t > now.timestamp()))
        .ok_or(Error::NotFound)?;
    let secret = open_secret(app, factor).await?;
    let Some(step) = totp::step_of(secret.expose_secret(), code, now.timestamp() as u64)? else {
        return Err(failed(app, user, Some(factor), client, now).await);
    };
    // The first factor brings the recovery codes, where the app takes them.
    let first = account.active_factors().next().is_none();
    let fresh_codes = (first && tenant.settings.allows(MfaMethod::RecoveryCode)).then(codes::generate);
    let stored_codes = fresh_codes.as_ref().map(|(_, hashes)| RecoveryCodesRecord {
        tenant_id: tenant.id.clone(),
        user_id: user.user_id.clone(),
        codes: hashes.clone(),
        created_at: now,
    });
    let details = audit::details([("factor_id", json!(factor_id)), ("type", json!("totp"))]);
    let record =
        audit::record(&app.config, &tenant.id, &user.user_id, EventType::MfaEnrolled, client, details, now);
    let mail = notice(app, user, FactorNotice::Enrolled { name: factor.name.clone() }, now).await?;
    match app.store.confirm_factor(factor, step, stored_codes.as_ref(), &record, &mail, now).await? {
        Written::Done => {}
        // Confirmed meanwhile by a racing request with the same code, or removed.
        Written::ConditionFailed => return Err(Error::InvalidMfaCode),
    }
    app.store.take_quotas(&forgive(&quotas)).await?;
    let mut view = FactorView::from(factor);
    view.last_used_at = Some(now);
    Ok(Confirmed { factor: view, recovery_codes: fresh_codes.map(|(codes, _)| codes) })
}

/// A wrong code: audited, and the answer every wrong code gets.
pub(super) async fn failed(
    app: &App,
    user: &UserRecord,
    factor: Option<&FactorRecord>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Error {
    let details = audit::details([("factor_id", json!(factor.map(|f| &f.factor_id)))]);
    let record = audit::record(
        &app.config,
        &user.tenant_id,
        &user.user_id,
        EventType::MfaFailed,
        client,
        details,
        now,
    );
    app.store.put_audit_or_log(&record).await;
    Error::InvalidMfaCode
}

/// The mail that tells the owner of a change of their factors.
pub(super) async fn notice(
    app: &App,
    user: &UserRecord,
    notice: FactorNotice,
    now: DateTime<Utc>,
) -> Result<OutboxRecord> {
    let to = Email::from_stored(user.email.clone());
    let letter = Letter::FactorNotice { notice };
    outbox::compose(&app.sealer, &user.tenant_id, Some(&user.user_id), &to, &letter, None, now).await
}

/// The user's confirmed factors, oldest first.
pub async fn factors(app: &App, tenant: &AppId, user_id: &UserId) -> Result<Vec<FactorView>> {
    let account = app.store.account(tenant, user_id).await?.ok_or(Error::Unauthorized)?;
    let mut factors: Vec<FactorView> = account.active_factors().map(FactorView::from).collect();
    factors.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(factors)
}

/// Removes one of the caller's factors. The last factor of an app that requires one stays.
pub async fn remove_factor(
    app: &App,
    tenant: &Tenant,
    who: &Identity,
    factor_id: &FactorId,
    client: &ClientInfo,
) -> Result<()> {
    let now = Utc::now();
    let account = Enroller::Session(who).account(app, tenant, Needs::Recent, now).await?;
    let factor = account.factors.iter().find(|f| f.factor_id == *factor_id).ok_or(Error::NotFound)?;
    let keep_one = tenant.settings.mfa == MfaMode::Required;
    let details = audit::details([("factor_id", json!(factor_id)), ("type", json!(factor.kind))]);
    let record =
        audit::record(&app.config, &tenant.id, &who.user_id, EventType::MfaRemoved, client, details, now);
    let mail = notice(app, &account.user, FactorNotice::Removed { name: factor.name.clone() }, now).await?;
    match app.store.remove_factor(factor, keep_one, &record, &mail).await? {
        Written::Done => Ok(()),
        Written::ConditionFailed if keep_one && factor.is_active() => Err(Error::FactorRequired),
        Written::ConditionFailed => Err(Error::NotFound),
    }
}

/// A new set of recovery codes for a user with a factor; the old set dies.
pub async fn regenerate_codes(
    app: &App,
    tenant: &Tenant,
    who: &Identity,
    client: &ClientInfo,
) -> Result<Vec<String>> {
    if !tenant.settings.allows(MfaMethod::RecoveryCode) {
        return Err(Error::Forbidden);
    }
    let now = Utc::now();
    let account = Enroller::Session(who).account(app, tenant, Needs::Recent, now).await?;
    let (fresh, hashes) = codes::generate();
    let stored = RecoveryCodesRecord {
        tenant_id: tenant.id.clone(),
        user_id: who.user_id.clone(),
        codes: hashes,
        created_at: now,
    };
    let record = audit::record(
        &app.config,
        &tenant.id,
        &who.user_id,
        EventType::RecoveryCodesRegenerated,
        client,
        Default::default(),
        now,
    );
    let mail = notice(app, &account.user, FactorNotice::RecoveryCodesRegenerated, now).await?;
    match app.store.replace_recovery_codes(&stored, &record, &mail).await? {
        Written::Done => Ok(fresh),
        // Recovery codes stand in for a factor: without one there is nothing to recover.
        Written::ConditionFailed => Err(Error::Conflict),
    }
}

/// The app's backend removes every factor and recovery code of a user (a lost device); the user
/// is told by mail. `actor` names who did it, for the audit trail.
pub async fn remove_all(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    actor: &str,
    client: &ClientInfo,
) -> Result<usize> {
    let now = Utc::now();
    let account = app.store.account(&tenant.id, user_id).await?.ok_or(Error::NotFound)?;
    let details = audit::details([
        ("all", json!(true)),
        ("by", json!(actor)),
        ("factors", json!(account.factors.len())),
    ]);
    let record = audit::record(&app.config, &tenant.id, user_id, EventType::MfaRemoved, client, details, now);
    let mail = notice(app, &account.user, FactorNotice::AllRemoved, now).await?;
    match app.store.remove_all_factors(&tenant.id, user_id, &account.factors, &record, &mail).await? {
        Written::Done => Ok(account.active_factors().count()),
        Written::ConditionFailed => Err(Error::NotFound),
    }
}
