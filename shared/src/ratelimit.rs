//! Rate limits, counted in DynamoDB: one counter item per (route, client IP or account, 60-second
//! window), expired by TTL. The client IP is API Gateway's `sourceIp`, never a header. The account
//! is the normalised email the request names, whether or not an account has it, so an unknown
//! address is limited exactly like a known one.
//!
//! A request takes its quotas inside the write it makes anyway (`store::Quota`): a conditional
//! `ADD` that refuses the whole transaction once a count has reached the limit. That is atomic
//! (parallel requests cannot all slip under the limit) and costs no DynamoDB call of its own, which
//! is what keeps login at three calls and refresh and registration at one. Login also reads its
//! counters with the email lock, so that a client already over the limit is refused before any
//! password is hashed.
//!
//! Login counts differently for accounts: every attempt counts against the IP, but only failed
//! attempts count against the account, and a success clears the account's count (so a user who
//! finally types the right password is not locked out by their own typos).

use crate::ids::AppId;
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::app::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::error::{Error, Result};
use crate::store::{Committed, Quota, Written};

pub use crate::limits::Route;

const WINDOW_SECONDS: i64 = 60;

/// The current window and the seconds until it ends (at least 1).
fn window(now: DateTime<Utc>) -> (i64, u64) {
    let t = now.timestamp();
    let start = t - t.rem_euclid(WINDOW_SECONDS);
    (start, (start + WINDOW_SECONDS - t).max(1) as u64)
}

fn counter_pk(tenant: &AppId, route: Route, kind: &str, subject: &str) -> String {
    crate::store::schema::rate_limit(tenant, route.name(), kind, subject)
}

const IP: &str = "ip";
const ACCOUNT: &str = "account";

/// What an IP counter counts: an IPv4 address as it is, an IPv6 address by its /64. One IPv6
/// subscriber is routinely handed a whole /64 (and often more), so counting single IPv6 addresses
/// would give one client 2^64 fresh quotas. An IPv4-mapped IPv6 address counts as its IPv4.
pub fn ip_subject(ip: &str) -> String {
    match ip.trim().parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let net = std::net::Ipv6Addr::from(v6.to_bits() & (u128::MAX << 64));
                format!("{net}/64")
            }
        },
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        // API Gateway always gives an address; anything else is counted as given.
        Err(_) => ip.trim().to_owned(),
    }
}

/// The counter of an account's consecutive failed password checks (login and password change),
/// keyed by the normalised email like the account quota: a known and an unknown address count
/// alike, so the lock-out tells nothing about which addresses have accounts. It has no window:
/// only a correct password, a completed reset or a magic-link sign-in clears it.
fn failures_counter(tenant: &AppId, normalized_email: &str) -> String {
    crate::store::schema::failures(tenant, normalized_email)
}

/// How long an untouched failure count is kept (it is refreshed by every failure).
const FAILURES_KEPT_SECONDS: i64 = 90 * 24 * 3600;

/// The consecutive-failure counter of an account (`Store::failures` reads it).
pub fn failure_counter(tenant: &AppId, normalized_email: &str) -> Quota {
    Quota {
        pk: failures_counter(tenant, normalized_email),
        window: 0,
        expires: Utc::now().timestamp() + FAILURES_KEPT_SECONDS,
        limit: None,
        clear: false,
    }
}

/// The quotas one request takes: its client IP's and, when it names one, the account's. Empty when
/// rate limits are off.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The app whose counters these are (every app counts on its own).
    tenant: AppId,
    route: Route,
    quotas: Vec<Quota>,
    kinds: Vec<&'static str>,
    retry_after: u64,
}

impl Limits {
    pub fn new(
        app: &App,
        tenant: &AppId,
        route: Route,
        client: &ClientInfo,
        account: Option<&str>,
    ) -> Limits {
        let (start, retry_after) = window(Utc::now());
        let mut limits =
            Limits { tenant: tenant.clone(), route, quotas: Vec::new(), kinds: Vec::new(), retry_after };
        if !app.config.rate_limits {
            return limits;
        }
        let ip = client.ip.as_deref().map(ip_subject);
        for (kind, subject) in [(IP, ip.as_deref()), (ACCOUNT, account)] {
            if let Some(subject) = subject {
                limits.quotas.push(Quota {
                    pk: counter_pk(tenant, route, kind, subject),
                    window: start,
                    expires: start + 2 * WINDOW_SECONDS,
                    limit: Some(app.config.rate_limit(route)),
                    clear: false,
                });
                limits.kinds.push(kind);
            }
        }
        limits
    }

    /// Takes the quotas now, in a write of their own, before the request does any costly work (a
    /// password hash): of N parallel requests only as many as the limit allows get past this,
    /// exactly as if they had come one after the other.
    pub async fn take(&self, app: &App, client: &ClientInfo) -> Result<()> {
        if self.quotas.is_empty() {
            return Ok(());
        }
        self.check(client, app.store.take_quotas(&self.quotas).await?).map(|_| ())
    }

    /// The consecutive-failure counter of an account, one more failure (not limited here: the
    /// cap is checked on the count read before the password, `Failures::locked`).
    pub fn count_failure(tenant: &AppId, normalized_email: &str) -> Limits {
        Limits {
            tenant: tenant.clone(),
            route: Route::Login,
            quotas: vec![failure_counter(tenant, normalized_email)],
            kinds: vec![ACCOUNT],
            retry_after: 1,
        }
    }

    /// What proving the password (or the mailbox) forgives: the account's quota in this window and
    /// its consecutive failures. The IP's count stays.
    pub fn forgiving(tenant: &AppId, normalized_email: &str, route: Route) -> Limits {
        let (start, _) = window(Utc::now());
        let clear = |pk: String, window: i64| Quota { pk, window, expires: 0, limit: None, clear: true };
        Limits {
            tenant: tenant.clone(),
            route,
            quotas: vec![
                clear(counter_pk(tenant, route, ACCOUNT, normalized_email), start),
                clear(failures_counter(tenant, normalized_email), 0),
            ],
            kinds: vec![ACCOUNT, ACCOUNT],
            retry_after: 1,
        }
    }

    /// Quotas of a route's own (the second factor's wrong codes), taken by the write they ride on.
    pub fn of(tenant: &AppId, route: Route, quotas: Vec<Quota>) -> Limits {
        let kinds = quotas.iter().map(|_| ACCOUNT).collect();
        Limits { tenant: tenant.clone(), route, quotas, kinds, retry_after: 1 }
    }

    /// No quotas (a sign-in whose request was limited before, by `hit`).
    pub fn none(tenant: &AppId) -> Limits {
        Limits {
            tenant: tenant.clone(),
            route: Route::Login,
            quotas: Vec::new(),
            kinds: Vec::new(),
            retry_after: 1,
        }
    }

    pub fn quotas(&self) -> &[Quota] {
        &self.quotas
    }

    /// The outcome of a write that carried these quotas: a quota at its limit refuses the request
    /// (`RateLimited`, and a `rate_limited` log line); anything else is the write's own outcome.
    pub fn check(&self, client: &ClientInfo, committed: Committed) -> Result<Written> {
        match committed {
            Committed::Done => Ok(Written::Done),
            Committed::ConditionFailed => Ok(Written::ConditionFailed),
            Committed::OverLimit(i) => Err(self.refuse(client, i)),
        }
    }

    /// Refuses the request because the quota at `index` is at its limit.
    pub fn refuse(&self, client: &ClientInfo, index: usize) -> Error {
        let kind = self.kinds.get(index).copied().unwrap_or(IP);
        let details = audit::details([("route", json!(self.route.name())), ("limit", json!(kind))]);
        audit::log_only(EventType::RateLimited, &self.tenant, client, &details);
        Error::RateLimited { retry_after_seconds: self.retry_after }
    }
}

/// Counts one request against the caller's IP (and the named account, if any), in one write of
/// its own, and refuses it with `RateLimited` once a count has reached the route's limit. For
/// routes whose own write comes later or not at all.
pub async fn hit(
    app: &App,
    tenant: &AppId,
    route: Route,
    client: &ClientInfo,
    account: Option<&str>,
) -> Result<()> {
    let limits = Limits::new(app, tenant, route, client, account);
    if limits.quotas().is_empty() {
        // With `RATE_LIMITS=off` (local experiments, most of the suite) nothing is written; a
        // deployment, where limits are on by default, writes the quota (a transaction's update):
        // recorded here so that the function's policy is held to it either way.
        crate::iam::need("dynamodb:UpdateItem", crate::iam::resource::TABLE);
        return Ok(());
    }
    let committed = app.store.take_quotas(limits.quotas()).await?;
    limits.check(client, committed).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_fixed_sixty_second_slots() {
        let t = DateTime::from_timestamp(1_800_000_030, 0).unwrap();
        let (start, retry) = window(t);
        assert_eq!(start % 60, 0);
        assert!(start <= t.timestamp() && t.timestamp() < start + 60);
        assert_eq!(retry as i64, start + 60 - t.timestamp());
        let edge = DateTime::from_timestamp(start + 59, 0).unwrap();
        assert_eq!(window(edge).1, 1);
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(ip_subject("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(ip_subject("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(ip_subject("2001:db8:1:3::1"), ip_subject("2001:db8:1:2::1"));
        assert_eq!(ip_subject("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(ip_subject("203.0.113.9"), "203.0.113.9");
    }

    #[test]
    fn defaults_are_the_contracts() {
        assert_eq!(Route::Login.default_per_minute(), 5);
        assert_eq!(Route::Refresh.default_per_minute(), 30);
        assert_eq!(Route::VerifyEmail.default_per_minute(), 10);
        assert_eq!(Route::MagicLink.variable(), "RATE_LIMIT_MAGIC_LINK");
    }

    #[test]
    fn names_are_the_stored_and_documented_ones() {
        assert_eq!(Route::all().count(), 19);
        assert_eq!(Route::HealthDetailed.variable(), "RATE_LIMIT_HEALTH_DETAILED");
        assert_eq!(Route::OAuthPages.variable(), "RATE_LIMIT_OAUTH_PAGES");
        assert_eq!(Route::OAuthToken.variable(), "RATE_LIMIT_OAUTH_TOKEN");
        assert_eq!(EventType::OAuthClientCreated.as_str(), "oauth_client_created");
        assert_eq!(Route::ApiKeys.variable(), "RATE_LIMIT_API_KEYS");
        assert_eq!(Route::PasswordResetConfirm.name(), "password_reset_confirm");
        assert_eq!(Route::DeletionStatus.variable(), "RATE_LIMIT_DELETION_STATUS");
        assert_eq!(EventType::RefreshReuseDetected.as_str(), "refresh_reuse_detected");
        assert_eq!(EventType::MailFailed.as_str(), "mail_failed");
        assert_eq!(EventType::ApiKeyRotated.as_str(), "api_key_rotated");
    }
}
