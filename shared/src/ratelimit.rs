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

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::app::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::error::{Error, Result};
use crate::store::{Committed, Quota, Written};

/// The rate-limited routes and their default limits per minute (`API.md`); each can be changed
/// with `RATE_LIMIT_<NAME>` (for example `RATE_LIMIT_LOGIN=10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Login,
    Register,
    ResendVerification,
    PasswordReset,
    MagicLink,
    Deletion,
    Refresh,
    VerifyEmail,
}

impl Route {
    pub const ALL: [Route; 8] = [
        Route::Login,
        Route::Register,
        Route::ResendVerification,
        Route::PasswordReset,
        Route::MagicLink,
        Route::Deletion,
        Route::Refresh,
        Route::VerifyEmail,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Route::Login => "login",
            Route::Register => "register",
            Route::ResendVerification => "resend_verification",
            Route::PasswordReset => "password_reset",
            Route::MagicLink => "magic_link",
            Route::Deletion => "deletion",
            Route::Refresh => "refresh",
            Route::VerifyEmail => "verify_email",
        }
    }

    pub fn default_per_minute(self) -> u32 {
        match self {
            Route::Login => 5,
            Route::Register
            | Route::ResendVerification
            | Route::PasswordReset
            | Route::MagicLink
            | Route::Deletion => 3,
            Route::Refresh => 30,
            Route::VerifyEmail => 10,
        }
    }

    /// The variable that overrides the limit.
    pub fn variable(self) -> String {
        format!("RATE_LIMIT_{}", self.name().to_ascii_uppercase())
    }
}

const WINDOW_SECONDS: i64 = 60;

/// The current window and the seconds until it ends (at least 1).
fn window(now: DateTime<Utc>) -> (i64, u64) {
    let t = now.timestamp();
    let start = t - t.rem_euclid(WINDOW_SECONDS);
    (start, (start + WINDOW_SECONDS - t).max(1) as u64)
}

fn counter_pk(tenant: &str, route: Route, kind: &str, subject: &str) -> String {
    format!("T#{tenant}#RL#{}#{kind}#{subject}", route.name())
}

const IP: &str = "ip";
const ACCOUNT: &str = "account";

/// The quotas one request takes: its client IP's and, when it names one, the account's. Empty when
/// rate limits are off.
#[derive(Debug, Clone)]
pub struct Limits {
    route: Route,
    quotas: Vec<Quota>,
    kinds: Vec<&'static str>,
    retry_after: u64,
}

impl Limits {
    pub fn new(app: &App, route: Route, client: &ClientInfo, account: Option<&str>) -> Limits {
        let (start, retry_after) = window(Utc::now());
        let mut limits = Limits { route, quotas: Vec::new(), kinds: Vec::new(), retry_after };
        if !app.config.rate_limits {
            return limits;
        }
        let tenant = &app.config.default_tenant;
        for (kind, subject) in [(IP, client.ip.as_deref()), (ACCOUNT, account)] {
            if let Some(subject) = subject {
                limits.quotas.push(Quota {
                    pk: counter_pk(tenant, route, kind, subject),
                    window: start,
                    expires: start + 2 * WINDOW_SECONDS,
                    limit: app.config.rate_limit(route),
                    clear: false,
                });
                limits.kinds.push(kind);
            }
        }
        limits
    }

    /// No quotas (a sign-in whose request was limited before, by `hit`).
    pub fn none() -> Limits {
        Limits { route: Route::Login, quotas: Vec::new(), kinds: Vec::new(), retry_after: 1 }
    }

    pub fn quotas(&self) -> &[Quota] {
        &self.quotas
    }

    /// The same limits without the account's quota (a login whose password was right but which
    /// is refused for another reason is not a failed guess).
    pub fn ip_only(&self) -> Limits {
        self.keeping(|kind, q| (kind == IP).then(|| q.clone()))
    }

    /// The same limits, with the account's count cleared instead of added to (a login that
    /// succeeded). The clear is still refused while the account is at its limit.
    pub fn clearing_account(&self) -> Limits {
        self.keeping(|kind, q| Some(Quota { clear: kind == ACCOUNT, ..q.clone() }))
    }

    fn keeping(&self, f: impl Fn(&str, &Quota) -> Option<Quota>) -> Limits {
        let (kinds, quotas) =
            self.kinds.iter().zip(&self.quotas).filter_map(|(k, q)| f(k, q).map(|q| (*k, q))).unzip();
        Limits { route: self.route, quotas, kinds, retry_after: self.retry_after }
    }

    /// The outcome of a write that carried these quotas: a quota at its limit refuses the request
    /// (`RateLimited`, and a `rate_limited` log line); anything else is the write's own outcome.
    pub fn check(&self, app: &App, client: &ClientInfo, committed: Committed) -> Result<Written> {
        match committed {
            Committed::Done => Ok(Written::Done),
            Committed::ConditionFailed => Ok(Written::ConditionFailed),
            Committed::OverLimit(i) => Err(self.refuse(app, client, i)),
        }
    }

    /// Refuses the request because the quota at `index` is at its limit.
    pub fn refuse(&self, app: &App, client: &ClientInfo, index: usize) -> Error {
        let kind = self.kinds.get(index).copied().unwrap_or(IP);
        let details = audit::details([("route", json!(self.route.name())), ("limit", json!(kind))]);
        audit::log_only(EventType::RateLimited, &app.config.default_tenant, client, &details);
        Error::RateLimited { retry_after_seconds: self.retry_after }
    }
}

/// Counts one request against the caller's IP (and the named account, if any), in one write of
/// its own, and refuses it with `RateLimited` once a count has reached the route's limit. For
/// routes whose own write comes later or not at all.
pub async fn hit(app: &App, route: Route, client: &ClientInfo, account: Option<&str>) -> Result<()> {
    let limits = Limits::new(app, route, client, account);
    if limits.quotas().is_empty() {
        return Ok(());
    }
    let committed = app.store.take_quotas(limits.quotas()).await?;
    limits.check(app, client, committed).map(|_| ())
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
    fn defaults_are_the_contracts() {
        assert_eq!(Route::Login.default_per_minute(), 5);
        assert_eq!(Route::Refresh.default_per_minute(), 30);
        assert_eq!(Route::VerifyEmail.default_per_minute(), 10);
        assert_eq!(Route::MagicLink.variable(), "RATE_LIMIT_MAGIC_LINK");
    }
}
