//! Sessions and the refresh-token lifecycle: start (login), rotation with reuse detection,
//! revocation, and the caller's list.
//!
//! A session is one login's family of refresh tokens. Its item keeps only the SHA-256 and the
//! generation of the current refresh token, plus the one it replaced and when. Rotation is one
//! conditional write on (hash, generation), so of any number of concurrent refreshes with one token
//! exactly one succeeds. Presenting the token that was just replaced within the grace window is a
//! client's retry racing itself: refused with 401, session kept. Presenting it later, or any older
//! token, means two parties hold the family: the session is revoked and the event audited.

use crate::ids::{AppId, SessionId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::app::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::crypto;
use crate::error::{Error, Result};
use crate::model::{Authn, SessionRecord, UserRecord, UserStatus};
use crate::ratelimit::{Limits, Route};
use crate::store::{Rotated, SecondStep, SessionRotation, Written};
use crate::tenant::Tenant;
use crate::tokens::{self, IssuedPair, PairRequest, TokenUse};

/// A session just started: its pair, its user and its id (every way to sign in ends with one).
pub struct LoggedIn {
    pub pair: IssuedPair,
    pub user: UserRecord,
    pub session_id: SessionId,
}

/// A sign-in that may start a session: who, how, and what its write takes and spends.
pub struct Begin<'a> {
    /// The record as read before the proof was checked: the session commits only while the
    /// account is still active and at that credential version.
    pub user: &'a UserRecord,
    pub existing: &'a [SessionRecord],
    pub client: &'a ClientInfo,
    pub now: DateTime<Utc>,
    pub event: EventType,
    pub authn: Authn,
    pub limits: &'a Limits,
    /// The error of a sign-in that raced a password reset, a password change or a disabling.
    pub superseded: Error,
    /// The second step this sign-in completes, spent in the same write.
    pub second: Option<&'a SecondStep>,
}

/// Starts a session for a user who just proved who they are, evicting the oldest live sessions
/// beyond `MAX_SESSIONS_PER_USER` (and dropping expired ones) and taking the request's quotas in the
/// same write. `user` is the record as read before the proof was checked: the session commits only
/// while the account is still active and at that credential version, so a sign-in that raced a
/// password reset, a password change or a disabling is refused with `superseded`, not let in.
pub async fn start(app: &App, tenant: &Tenant, begin: Begin<'_>) -> Result<(IssuedPair, SessionId)> {
    let Begin { user, existing, client, now, event, authn, limits, superseded, second } = begin;
    let config = &app.config;
    let ring = app.keys.ring().await?;
    let session_id = SessionId::generate();
    let absolute_expires_at = now.timestamp().saturating_add(config.session_max_lifetime.as_secs() as i64);
    let pair = tokens::issue_pair(
        &ring,
        tenant,
        &PairRequest {
            user_id: &user.user_id,
            session_id: &session_id,
            email_verified: user.email_verified,
            generation: 1,
            now,
            session_ends_at: absolute_expires_at,
            authn: &authn,
        },
    )?;
    let session = SessionRecord {
        session_id: session_id.clone(),
        tenant_id: user.tenant_id.clone(),
        user_id: user.user_id.clone(),
        refresh_hash: pair.refresh_hash.clone(),
        generation: 1,
        prev_hash: None,
        rotated_at: None,
        email_verified: user.email_verified,
        created_at: now,
        last_used_at: now,
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        expires_at: pair.refresh_expires_at.timestamp(),
        absolute_expires_at,
        idle_expires_at: idle_deadline(config, now),
        credential_version: user.credential_version,
        authn: authn.clone(),
        ttl: pair.refresh_expires_at.timestamp(),
    };
    let evict = to_evict(existing, tenant.settings.max_sessions_per_user as usize, now);
    let details = audit::details([
        ("session_id", json!(session_id)),
        ("evicted_sessions", json!(evict)),
        ("amr", json!(authn.amr)),
        ("acr", json!(authn.acr)),
    ]);
    let record = audit::record(config, &user.tenant_id, &user.user_id, event, client, details, now);
    let committed = app.store.start_session(&session, &evict, &record, limits.quotas(), second).await?;
    match limits.check(client, committed)? {
        Written::Done => Ok((pair, session_id)),
        Written::ConditionFailed => Err(superseded),
    }
}

/// When a session unused from `now` on ends, with an idle timeout configured.
pub(crate) fn idle_deadline(config: &crate::config::Config, now: DateTime<Utc>) -> Option<i64> {
    config.session_idle_timeout.map(|idle| now.timestamp().saturating_add(idle.as_secs() as i64))
}

/// The sessions to delete so that, with one new session, at most `max` are live: every expired
/// one, and the oldest live ones beyond `max - 1`.
fn to_evict(existing: &[SessionRecord], max: usize, now: DateTime<Utc>) -> Vec<SessionId> {
    let (mut live, expired): (Vec<&SessionRecord>, Vec<&SessionRecord>) =
        existing.iter().partition(|s| s.is_live(now));
    live.sort_by(|a, b| (a.created_at, &a.session_id).cmp(&(b.created_at, &b.session_id)));
    let surplus = (live.len() + 1).saturating_sub(max.max(1));
    expired.iter().chain(live.iter().take(surplus)).map(|s| s.session_id.clone()).collect()
}

pub struct Refreshed {
    pub pair: IssuedPair,
    pub session_id: SessionId,
}

/// Rotates a refresh token: a new pair, the presented token dead. Two calls: the session and its
/// user read together, then one transaction that rotates only while both are as read (the token
/// current, the session within its lifetime and idle timeout, the user active at the session's
/// credential version), with the audit event and the rate limit.
pub async fn refresh(
    app: &App,
    tenant: &Tenant,
    refresh_token: &str,
    client: &ClientInfo,
) -> Result<Refreshed> {
    let config = &app.config;
    let ring = app.keys.ring_for(tokens::kid_of(refresh_token).as_deref()).await?;
    let claims = tokens::verify(ring.verifier(), tenant, refresh_token, TokenUse::Refresh)
        .ok_or(Error::Unauthorized)?;
    let generation = claims.generation.ok_or(Error::Unauthorized)?;
    let presented = crypto::token_hash(refresh_token);
    let now = Utc::now();
    let (session, user) = app.store.session_with_user(&claims.tid, &claims.sub, &claims.sid).await?;
    // Revoked, expired, evicted, or its user erased, disabled or at another credential.
    let Some(current) = session.filter(|s| s.is_live(now)) else { return Err(Error::Unauthorized) };
    let user_current = user.is_some_and(|u| {
        u.status == UserStatus::Active && u.credential_version == current.credential_version
    });
    if !user_current {
        return Err(Error::Unauthorized);
    }
    // Hashes compared in constant time: how long the comparison takes says nothing of how much of
    // a guessed token's hash matched.
    let same = |a: &str, b: &str| bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()));
    if !same(&current.refresh_hash, &presented) || current.generation != generation {
        return Err(replayed(app, &claims, &presented, generation, &current, now, client).await);
    }
    // Sessions stored before the absolute lifetime existed get it from their login time now.
    let absolute_expires_at = match current.absolute_expires_at {
        0 => current.created_at.timestamp().saturating_add(config.session_max_lifetime.as_secs() as i64),
        at => at,
    };
    let pair = tokens::issue_pair(
        &ring,
        tenant,
        &PairRequest {
            user_id: &claims.sub,
            session_id: &claims.sid,
            email_verified: claims.email_verified,
            generation: generation + 1,
            now,
            session_ends_at: absolute_expires_at,
            // As the session last authenticated (a step-up since the token was issued counts).
            authn: &current.authn,
        },
    )?;
    let rotation = SessionRotation {
        tenant: &claims.tid,
        user_id: &claims.sub,
        session_id: &claims.sid,
        presented_hash: &presented,
        generation,
        new_hash: &pair.refresh_hash,
        expires_at: pair.refresh_expires_at.timestamp(),
        absolute_expires_at,
        idle_expires_at: idle_deadline(config, now),
        credential_version: current.credential_version,
        now,
        ip: client.ip.as_deref(),
        user_agent: client.user_agent.as_deref(),
    };
    let details = audit::details([("session_id", json!(claims.sid)), ("generation", json!(generation + 1))]);
    let record =
        audit::record(config, &claims.tid, &claims.sub, EventType::TokenRefreshed, client, details, now);
    // The rotation, its audit event and the rate limit are one write.
    let limits = Limits::new(app, &tenant.id, Route::Refresh, client, None);
    match app.store.rotate_session(&rotation, &record, limits.quotas()).await? {
        Rotated::Done => Ok(Refreshed { pair, session_id: claims.sid }),
        Rotated::OverLimit(index) => Err(limits.refuse(client, index)),
        // Revoked, expired or evicted meanwhile, or its user changed.
        Rotated::Lost(None) => Err(Error::Unauthorized),
        Rotated::Lost(Some(now_stored)) if now_stored.is_live(now) => {
            Err(replayed(app, &claims, &presented, generation, &now_stored, now, client).await)
        }
        Rotated::Lost(Some(_)) => Err(Error::Unauthorized),
    }
}

/// A refresh token that is not the session's current one. The one just replaced, within the grace
/// window, is a client's retry racing itself: refused, session kept. Any older one means two
/// parties hold the family: the session ends and the event is audited. Always `Unauthorized`.
async fn replayed(
    app: &App,
    claims: &tokens::Claims,
    presented: &str,
    generation: u64,
    current: &SessionRecord,
    now: DateTime<Utc>,
    client: &ClientInfo,
) -> Error {
    let config = &app.config;
    let just_replaced = current.generation == generation + 1
        && current.prev_hash.as_deref().is_some_and(|prev| {
            bool::from(subtle::ConstantTimeEq::ct_eq(prev.as_bytes(), presented.as_bytes()))
        })
        && current.rotated_at.is_some_and(|at| {
            now.signed_duration_since(at).to_std().unwrap_or_default() <= config.refresh_reuse_grace
        });
    if just_replaced {
        // A retry racing its own rotation: keep the session; the client uses the pair the
        // winning request received.
        tracing::info!(session_id = claims.sid.as_str(), "refresh token replayed within the grace window");
        return Error::Unauthorized;
    }
    if current.generation > generation {
        // An older token came back after its successor was issued: whoever holds it is not the
        // client that rotated. End the whole family.
        let details = audit::details([
            ("session_id", json!(claims.sid)),
            ("presented_generation", json!(generation)),
            ("current_generation", json!(current.generation)),
        ]);
        let record = audit::record(
            config,
            &claims.tid,
            &claims.sub,
            EventType::RefreshReuseDetected,
            client,
            details,
            now,
        );
        let revoked = app
            .store
            .revoke_sessions(&claims.tid, &claims.sub, std::slice::from_ref(&claims.sid), Some(&record))
            .await;
        if let Err(e) = revoked {
            return e;
        }
    }
    Error::Unauthorized
}

/// One session as its owner sees it.
#[derive(Debug, Serialize)]
pub struct SessionView {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub current: bool,
}

/// The caller's live sessions, newest first.
pub async fn list(
    app: &App,
    tenant: &AppId,
    user_id: &UserId,
    current: &SessionId,
) -> Result<Vec<SessionView>> {
    let now = Utc::now();
    let mut sessions: Vec<SessionRecord> =
        app.store.sessions(tenant, user_id).await?.into_iter().filter(|s| s.is_live(now)).collect();
    sessions.sort_by(|a, b| (b.created_at, &b.session_id).cmp(&(a.created_at, &a.session_id)));
    Ok(sessions
        .into_iter()
        .map(|s| SessionView {
            current: s.session_id == *current,
            expires_at: DateTime::from_timestamp(s.expires_at, 0),
            id: s.session_id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            ip: s.ip.filter(|v| !v.is_empty()),
            user_agent: s.user_agent.filter(|v| !v.is_empty()),
        })
        .collect())
}

/// Revokes one session of the caller; `NotFound` when the caller has no such session.
pub async fn revoke(
    app: &App,
    tenant: &AppId,
    user_id: &UserId,
    session_id: &SessionId,
    event: EventType,
    client: &ClientInfo,
) -> Result<()> {
    if !app.store.revoke_session(tenant, user_id, session_id).await? {
        return Err(Error::NotFound);
    }
    let details = audit::details([("session_id", json!(session_id))]);
    let record = audit::record(&app.config, tenant, user_id, event, client, details, Utc::now());
    app.store.put_audit_or_log(&record).await;
    Ok(())
}

/// Revokes every session of a user, the caller's included; returns how many there were. Sessions
/// listed in `keep` survive (a password change keeps the caller's).
pub async fn revoke_all(
    app: &App,
    tenant: &AppId,
    user_id: &UserId,
    keep: Option<&str>,
    client: &ClientInfo,
) -> Result<usize> {
    let ids: Vec<SessionId> = app
        .store
        .sessions(tenant, user_id)
        .await?
        .into_iter()
        .map(|s| s.session_id)
        .filter(|id| Some(id.as_str()) != keep)
        .collect();
    let details = audit::details([("sessions", json!(ids)), ("all", json!(keep.is_none()))]);
    let record =
        audit::record(&app.config, tenant, user_id, EventType::SessionRevoked, client, details, Utc::now());
    app.store.revoke_sessions(tenant, user_id, &ids, Some(&record)).await?;
    // Signed out everywhere: at the app's OAuth provider too.
    app.store.end_browser_sessions(tenant, user_id).await?;
    Ok(ids.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, created_secs_ago: i64, expires_in: i64, now: DateTime<Utc>) -> SessionRecord {
        SessionRecord {
            session_id: SessionId::parse(id).unwrap(),
            tenant_id: AppId::default_app(),
            user_id: UserId::parse("u").unwrap(),
            refresh_hash: "h".into(),
            generation: 1,
            prev_hash: None,
            rotated_at: None,
            email_verified: true,
            created_at: now - chrono::Duration::seconds(created_secs_ago),
            last_used_at: now,
            ip: None,
            user_agent: None,
            expires_at: now.timestamp() + expires_in,
            absolute_expires_at: 0,
            idle_expires_at: None,
            credential_version: 0,
            authn: Default::default(),
            ttl: now.timestamp() + expires_in,
        }
    }

    #[test]
    fn a_session_lives_within_every_bound_and_not_a_second_longer() {
        let now = Utc::now();
        let mut s = session("s", 10, 3600, now);
        assert!(s.is_live(now));
        s.absolute_expires_at = now.timestamp();
        assert!(!s.is_live(now), "absolute lifetime, no leeway");
        s.absolute_expires_at = now.timestamp() + 1;
        s.idle_expires_at = Some(now.timestamp());
        assert!(!s.is_live(now), "idle timeout");
        s.idle_expires_at = Some(now.timestamp() + 1);
        assert!(s.is_live(now));
    }

    #[test]
    fn a_new_session_evicts_the_oldest_beyond_the_limit_and_every_expired_one() {
        let now = Utc::now();
        let existing: Vec<_> = (0..5).map(|i| session(&format!("s{i}"), 100 - i, 3600, now)).collect();
        assert_eq!(to_evict(&existing, 5, now), vec!["s0"]);
        assert!(to_evict(&existing[..4], 5, now).is_empty());
        let mut with_expired = existing[..2].to_vec();
        with_expired.push(session("old", 1000, -1, now));
        assert_eq!(to_evict(&with_expired, 5, now), vec!["old"]);
        assert_eq!(to_evict(&existing, 1, now), vec!["s0", "s1", "s2", "s3", "s4"]);
    }
}
