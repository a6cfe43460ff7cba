//! Rate limits, counted in DynamoDB: one counter item per (route, client IP or account, 60-second
//! window), incremented with an atomic `ADD` and expired by TTL. The client IP is API Gateway's
//! `sourceIp`, never a header. The account is the normalised email the request names, whether or
//! not an account has it, so an unknown address is limited exactly like a known one.
//!
//! Login counts differently for accounts: every attempt counts against the IP, but only failed
//! attempts count against the account, and a success clears the account's count (so a user who
//! finally types the right password is not locked out by their own typos).

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::app::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::error::{Error, Result};

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

/// Counts one request against the caller's IP (and the named account, if any) and refuses it with
/// `RateLimited` once a count passes the route's limit.
pub async fn hit(app: &App, route: Route, client: &ClientInfo, account: Option<&str>) -> Result<()> {
    if !app.config.rate_limits {
        return Ok(());
    }
    let now = Utc::now();
    if let Some(ip) = client.ip.as_deref() {
        count(app, route, "ip", ip, client, now).await?;
    }
    if let Some(account) = account {
        count(app, route, "account", account, client, now).await?;
    }
    Ok(())
}

async fn count(
    app: &App,
    route: Route,
    kind: &str,
    subject: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<()> {
    let tenant = &app.config.default_tenant;
    let (start, retry_after) = window(now);
    let n = app
        .store
        .add_to_counter(&counter_pk(tenant, route, kind, subject), start, start + 2 * WINDOW_SECONDS)
        .await?;
    if n > u64::from(app.config.rate_limit(route)) {
        refuse(app, route, kind, client, retry_after)
    } else {
        Ok(())
    }
}

/// Login, before the password is checked: one more attempt against the account, counted with an
/// atomic `ADD` so that parallel guesses cannot all slip under the limit. A success clears the
/// count (`clear_failed_logins`), so what remains is the failed attempts of the window.
pub async fn count_login_attempt(app: &App, account: &str, client: &ClientInfo) -> Result<()> {
    if !app.config.rate_limits {
        return Ok(());
    }
    count(app, Route::Login, "account", account, client, Utc::now()).await
}

/// Login succeeded: the account's failed attempts are forgiven (the IP's count stays).
pub async fn clear_failed_logins(app: &App, account: &str) -> Result<()> {
    if !app.config.rate_limits {
        return Ok(());
    }
    let (start, _) = window(Utc::now());
    let pk = counter_pk(&app.config.default_tenant, Route::Login, "account", account);
    app.store.delete_counter(&pk, start).await
}

fn refuse(app: &App, route: Route, kind: &str, client: &ClientInfo, retry_after: u64) -> Result<()> {
    let details = audit::details([("route", json!(route.name())), ("limit", json!(kind))]);
    audit::log_only(EventType::RateLimited, &app.config.default_tenant, client, &details);
    Err(Error::RateLimited { retry_after_seconds: retry_after })
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
