//! The second step: what a challenge sends (nothing, for a code), the check of a code or recovery
//! code, and what it completes: a sign-in (the `mfa_token`'s session) or a session's step-up.

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::manage::{failed, notice, open_secret};
use super::{failure_quotas, forgive, has_codes, live_token, parse_token, take_attempt, totp, usable};
use crate::app::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::error::{Error, Result};
use crate::ids::{FactorId, SessionId};
use crate::model::{Authn, FactorKind, amr};
use crate::outbox::{FactorNotice, OutboxRecord};
use crate::ratelimit::{Limits, Route};
use crate::sessions::LoggedIn;
use crate::sessions::{self, Begin};
use crate::store::{Account, Proof, SecondStep, Written};
use crate::tenant::Tenant;
use crate::tokens::{self, Identity, IssuedPair, PairRequest};

/// What the user answers the second step with.
pub enum Answer<'a> {
    /// A code of one of their TOTP factors.
    Code { factor_id: &'a FactorId, code: &'a str },
    /// A code of whichever of their TOTP factors it belongs to (a login page that asks for "the
    /// code from your app").
    AnyCode(&'a str),
    /// One of their recovery codes.
    RecoveryCode(&'a str),
}

/// What a sign-in's second step must send before its answer: nothing for a TOTP factor (the
/// app shows the code). Checks that the token is live and the factor one it may use.
pub async fn challenge(
    app: &App,
    tenant: &Tenant,
    mfa_token: &str,
    browser: Option<&str>,
    factor_id: &FactorId,
) -> Result<Value> {
    let now = Utc::now();
    let (user_id, hash) = parse_token(mfa_token)?;
    let account = app.store.account(&tenant.id, &user_id).await?.ok_or(Error::InvalidToken)?;
    live_token(&account, &hash, browser, now)?;
    let factor =
        usable(tenant, &account).into_iter().find(|f| f.factor_id == *factor_id).ok_or(Error::NotFound)?;
    match factor.kind {
        FactorKind::Totp => Ok(json!({"factor_id": factor.factor_id, "type": "totp"})),
        // Security keys and passkeys answer with an assertion the browser makes; their request
        // options come with WebAuthn's support.
        FactorKind::Webauthn => Err(Error::Forbidden),
    }
}

/// The proof an answer gives, checked against the user's factors: the method it adds to `amr`.
async fn check(
    app: &App,
    tenant: &Tenant,
    account: &Account,
    answer: &Answer<'_>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(Proof, &'static str)> {
    match answer {
        Answer::Code { factor_id, code } => {
            let factor = usable(tenant, account).into_iter().find(|f| f.factor_id == **factor_id);
            let Some(factor) = factor.filter(|f| f.kind == FactorKind::Totp) else {
                return Err(failed(app, &account.user, None, client, now).await);
            };
            let secret = open_secret(app, factor).await?;
            match totp::step_of(secret.expose_secret(), code, now.timestamp() as u64)? {
                // A code of a step already used (this one, or one before it) is a replay.
                Some(step) if step > factor.last_step => {
                    Ok((Proof::Totp { factor_id: factor.factor_id.clone(), step }, amr::OTP))
                }
                _ => Err(failed(app, &account.user, Some(factor), client, now).await),
            }
        }
        Answer::AnyCode(code) => {
            for factor in usable(tenant, account).into_iter().filter(|f| f.kind == FactorKind::Totp) {
                let secret = open_secret(app, factor).await?;
                if let Some(step) = totp::step_of(secret.expose_secret(), code, now.timestamp() as u64)?
                    && step > factor.last_step
                {
                    return Ok((Proof::Totp { factor_id: factor.factor_id.clone(), step }, amr::OTP));
                }
            }
            Err(failed(app, &account.user, None, client, now).await)
        }
        Answer::RecoveryCode(typed) => {
            let hash = super::codes::hash(typed);
            let stored = account.recovery_codes.as_ref();
            match hash
                .filter(|h| has_codes(tenant, account) && stored.is_some_and(|c| c.codes.contains_key(h)))
            {
                Some(hash) => Ok((Proof::RecoveryCode { hash }, amr::OTP)),
                None => Err(failed(app, &account.user, None, client, now).await),
            }
        }
    }
}

/// The event a completed second step records, and the mail a spent recovery code sends.
fn event_of(proof: &Proof) -> EventType {
    match proof {
        Proof::Totp { .. } => EventType::MfaVerified,
        Proof::RecoveryCode { .. } => EventType::RecoveryCodeUsed,
    }
}

/// The notice a spent recovery code sends (with how many are left), for the write that spends it.
async fn code_used_notice(
    app: &App,
    account: &Account,
    proof: &Proof,
    now: DateTime<Utc>,
) -> Result<Option<OutboxRecord>> {
    match proof {
        Proof::RecoveryCode { .. } => {
            let left = account.recovery_codes.as_ref().map_or(0, |c| c.codes.len().saturating_sub(1));
            notice(app, &account.user, FactorNotice::RecoveryCodeUsed { left }, now).await.map(Some)
        }
        Proof::Totp { .. } => Ok(None),
    }
}

/// Completes a sign-in: the `mfa_token` and the answer are spent with the session's start, in
/// one write. Three DynamoDB calls: the attempt counted, the user's partition, the write.
pub async fn verify(
    app: &App,
    tenant: &Tenant,
    mfa_token: &str,
    browser: Option<&str>,
    answer: Answer<'_>,
    client: &ClientInfo,
) -> Result<LoggedIn> {
    let now = Utc::now();
    let (user_id, hash) = parse_token(mfa_token)?;
    let quotas = failure_quotas(&tenant.id, &user_id, Some(&hash), now);
    // The token proven live before any attempt is counted: the user's count is not anyone's to
    // spend who merely knows the user's id. Then the attempt, before the code is checked.
    let account = app.store.account(&tenant.id, &user_id).await?.ok_or(Error::InvalidToken)?;
    let token = live_token(&account, &hash, browser, now)?.clone();
    take_attempt(app, &quotas, &tenant.id, client, now).await?;
    let (proof, method) = check(app, tenant, &account, &answer, client, now).await?;
    let second = SecondStep {
        tenant: tenant.id.clone(),
        user_id: user_id.clone(),
        mfa_token: Some(hash),
        mail: code_used_notice(app, &account, &proof, now).await?,
        proof: proof.clone(),
        now,
    };
    let (pair, session_id) = sessions::start(
        app,
        tenant,
        Begin {
            user: &account.user,
            existing: &account.sessions,
            client,
            now,
            event: event_of(&proof),
            authn: token.authn.with_second(method, now),
            limits: &Limits::of(&tenant.id, Route::Login, forgive(&quotas)),
            // The token or the code was spent by a racing request, or the account changed.
            superseded: Error::InvalidToken,
            second: Some(&second),
        },
    )
    .await?;
    Ok(LoggedIn { pair, user: account.user, session_id })
}

/// Completes a sign-in at the OAuth provider's login page: the `mfa_token` and the answer spent
/// with the event in one write; the provider then starts its browser session with the returned
/// authentication.
pub async fn verify_for_browser(
    app: &App,
    tenant: &Tenant,
    mfa_token: &str,
    answer: Answer<'_>,
    client: &ClientInfo,
) -> Result<(crate::model::UserRecord, Authn)> {
    let now = Utc::now();
    let (user_id, hash) = parse_token(mfa_token)?;
    let quotas = failure_quotas(&tenant.id, &user_id, Some(&hash), now);
    // The token proven live before any attempt is counted: the user's count is not anyone's to
    // spend who merely knows the user's id. Then the attempt, before the code is checked.
    let account = app.store.account(&tenant.id, &user_id).await?.ok_or(Error::InvalidToken)?;
    let token = live_token(&account, &hash, None, now)?.clone();
    take_attempt(app, &quotas, &tenant.id, client, now).await?;
    let (proof, method) = check(app, tenant, &account, &answer, client, now).await?;
    let authn = token.authn.with_second(method, now);
    let details = audit::details([("via", json!("oauth_authorize")), ("amr", json!(authn.amr))]);
    let record = audit::record(&app.config, &tenant.id, &user_id, event_of(&proof), client, details, now);
    let mail = code_used_notice(app, &account, &proof, now).await?;
    let second = SecondStep {
        tenant: tenant.id.clone(),
        user_id,
        mfa_token: Some(hash),
        mail,
        proof: proof.clone(),
        now,
    };
    if app.store.spend_second_step(&second, &record, &forgive(&quotas)).await? == Written::ConditionFailed {
        return Err(Error::InvalidToken);
    }
    Ok((account.user, authn))
}

/// A session raised to `aal2`: the same session, a new pair (the previous refresh token is
/// replaced).
pub struct StepUp {
    pub pair: IssuedPair,
    pub session_id: SessionId,
    pub user: crate::model::UserRecord,
}

/// Raises the caller's session with a second factor.
pub async fn step_up(
    app: &App,
    tenant: &Tenant,
    who: &Identity,
    answer: Answer<'_>,
    client: &ClientInfo,
) -> Result<StepUp> {
    let now = Utc::now();
    let quotas = failure_quotas(&tenant.id, &who.user_id, None, now);
    take_attempt(app, &quotas, &tenant.id, client, now).await?;
    let account = app.store.account(&tenant.id, &who.user_id).await?.ok_or(Error::Unauthorized)?;
    let session = account
        .sessions
        .iter()
        .find(|s| s.session_id == who.session_id && s.is_live(now))
        .ok_or(Error::Unauthorized)?;
    let (proof, method) = check(app, tenant, &account, &answer, client, now).await?;
    let authn: Authn = session.authn.with_second(method, now);
    let ring = app.keys.ring().await?;
    let ends_at = match session.absolute_expires_at {
        0 => session.created_at.timestamp().saturating_add(app.config.session_max_lifetime.as_secs() as i64),
        at => at,
    };
    let pair = tokens::issue_pair(
        &ring,
        tenant,
        &PairRequest {
            user_id: &who.user_id,
            session_id: &who.session_id,
            email_verified: session.email_verified,
            generation: session.generation + 1,
            now,
            session_ends_at: ends_at,
            authn: &authn,
        },
    )?;
    let details = audit::details([
        ("session_id", json!(who.session_id)),
        ("amr", json!(authn.amr)),
        ("step_up", json!(true)),
    ]);
    let record = audit::record(&app.config, &tenant.id, &who.user_id, event_of(&proof), client, details, now);
    let mail = code_used_notice(app, &account, &proof, now).await?;
    let second = SecondStep {
        tenant: tenant.id.clone(),
        user_id: who.user_id.clone(),
        mfa_token: None,
        mail,
        proof: proof.clone(),
        now,
    };
    let raised = app
        .store
        .raise_session(
            session,
            &pair.refresh_hash,
            pair.refresh_expires_at.timestamp(),
            sessions::idle_deadline(&app.config, now),
            &authn,
            &record,
            &second,
            &forgive(&quotas),
        )
        .await?;
    if raised == Written::ConditionFailed {
        // The session rotated, ended or its code was spent meanwhile.
        return Err(Error::InvalidMfaCode);
    }
    Ok(StepUp { pair, session_id: who.session_id.clone(), user: account.user })
}
