//! The OAuth provider's browser session: who is signed in at the login page, how (`amr`, `acr`)
//! and when, and the sign-ins that start it: a password, a social provider or a magic link, each
//! followed by the user's second factor when the app asks for one (`mfa`).

use chrono::Utc;
use serde_json::json;

use crate::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::crypto;
use crate::error::{Error, Result};
use crate::ids::ClientId;
use crate::mfa::{self, Answer, Need, Pending};
use crate::model::{Authn, BrowserSessionRecord, UserRecord, UserStatus, amr};
use crate::ratelimit::{Limits, Route};
use crate::tenant::Tenant;

/// The browser's signed-in user at the provider, if its session cookie names a live session of an
/// active user at the credential the session was made with (a password reset ends it).
pub async fn browser_user(
    app: &App,
    tenant: &Tenant,
    cookie: Option<&str>,
) -> Result<Option<(BrowserSessionRecord, UserRecord)>> {
    let Some(cookie) = cookie else { return Ok(None) };
    let Some(session) = app.store.browser_session(&tenant.id, &crypto::token_hash(cookie)).await? else {
        return Ok(None);
    };
    if session.expires_at <= Utc::now().timestamp() {
        return Ok(None);
    }
    let user = app.store.user(&tenant.id, &session.user_id).await?;
    Ok(user
        .filter(|u| u.status == UserStatus::Active && u.credential_version == session.credential_version)
        .map(|u| (session, u)))
}

/// Starts the provider's browser session for a user who just signed in: the cookie's value (256
/// random bits, stored only as its SHA-256).
pub async fn start_browser_session(
    app: &App,
    tenant: &Tenant,
    user: &UserRecord,
    authn: &Authn,
) -> Result<String> {
    let (cookie, hash) = crypto::new_token();
    let now = Utc::now().timestamp();
    let expires_at = now + app.config.social.browser_session_lifetime.as_secs() as i64;
    let session = BrowserSessionRecord {
        tenant_id: tenant.id.clone(),
        user_id: user.user_id.clone(),
        auth_time: authn.auth_time,
        amr: authn.amr.clone(),
        acr: authn.acr,
        credential_version: user.credential_version,
        expires_at,
        ttl: expires_at,
    };
    app.store.put_browser_session(&hash, &session).await?;
    Ok(cookie)
}

/// How a sign-in at the login page ended.
pub enum BrowserSignIn {
    /// The browser session: its cookie's value, and how the user signed in.
    Session { user: UserRecord, cookie: String, authn: Authn },
    /// The user's second factor comes first (its page carries the `mfa_token`).
    SecondFactor { pending: Pending },
}

/// Signs a browser in at the provider's login page: the same checks, limits and lock as the
/// service's login, then (no second factor asked) a browser session instead of a token pair.
pub async fn sign_in(
    app: &App,
    tenant: &Tenant,
    email: &crate::domain::Email,
    password: &str,
    client_id: &ClientId,
    client_info: &ClientInfo,
) -> Result<BrowserSignIn> {
    let checked =
        Box::pin(crate::accounts::check_password(app, tenant, email, password, client_info)).await?;
    let authn = Authn::first(amr::PWD, Utc::now());
    let via = [("via", json!("oauth_authorize")), ("client_id", json!(client_id))];
    first_factor_done(app, tenant, &checked.account, authn, &checked.forgiven, via, client_info).await
}

/// The provider's page where a sign-in by a social provider or a magic link comes back to the
/// authorization in progress.
pub fn continue_page(tenant: &Tenant) -> String {
    tenant.provider_continue_page()
}

/// A sign-in by another way than the password (`via`: a social provider, a magic link), followed
/// by the user's second factor when the app asks for one.
pub async fn signed_in_otherwise(
    app: &App,
    tenant: &Tenant,
    user: &UserRecord,
    via: &str,
    client_info: &ClientInfo,
) -> Result<BrowserSignIn> {
    if user.status != UserStatus::Active {
        return Err(Error::AccountDisabled);
    }
    let account = app.store.account(&tenant.id, &user.user_id).await?.ok_or(Error::AccountDisabled)?;
    let method = if via == "magic_link" { amr::EMAIL } else { amr::FED };
    let authn = Authn::first(method, Utc::now());
    let limits = Limits::forgiving(&tenant.id, &user.email_normalized, Route::Login);
    first_factor_done(
        app,
        tenant,
        &account,
        authn,
        &limits,
        [("via", json!(via)), ("client_id", json!(null))],
        client_info,
    )
    .await
}

/// After a first factor at the login page: the browser session, or the second step. A user of an
/// app that requires a factor and who has none enrols it in the app first: the provider's pages
/// ask for factors, they do not enrol them.
async fn first_factor_done(
    app: &App,
    tenant: &Tenant,
    account: &mfa::Account,
    authn: Authn,
    limits: &Limits,
    via: [(&str, serde_json::Value); 2],
    client_info: &ClientInfo,
) -> Result<BrowserSignIn> {
    match mfa::need(tenant, account) {
        Need::Nothing => {
            app.store.take_quotas(limits.quotas()).await?;
            let user = account.user.clone();
            let cookie = start_browser_session(app, tenant, &user, &authn).await?;
            let details: serde_json::Map<String, serde_json::Value> =
                audit::details(via).into_iter().filter(|(_, v)| !v.is_null()).collect();
            let record = audit::record(
                &app.config,
                &tenant.id,
                &user.user_id,
                EventType::LoginSucceeded,
                client_info,
                details,
                Utc::now(),
            );
            app.store.put_audit_or_log(&record).await;
            Ok(BrowserSignIn::Session { user, cookie, authn })
        }
        Need::Enrolment => Err(Error::FactorRequired),
        Need::Factor => {
            let step = mfa::Step {
                authn,
                event: EventType::LoginSucceeded,
                need: Need::Factor,
                bind_browser: false,
            };
            let pending = mfa::begin(app, tenant, account, step, limits, client_info).await?;
            Ok(BrowserSignIn::SecondFactor { pending })
        }
    }
}

/// The second factor's page answered: the browser session at `aal2`.
pub async fn second_factor(
    app: &App,
    tenant: &Tenant,
    mfa_token: &str,
    answer: Answer<'_>,
    client_info: &ClientInfo,
) -> Result<(UserRecord, String, Authn)> {
    let (user, authn) = mfa::verify_for_browser(app, tenant, mfa_token, answer, client_info).await?;
    let cookie = start_browser_session(app, tenant, &user, &authn).await?;
    Ok((user, cookie, authn))
}

/// A signed-in browser whose authorization asks for `aal2` (`acr_values`) steps up: the second
/// step of its user, or `None` when the user has no factor to give.
pub async fn step_up(
    app: &App,
    tenant: &Tenant,
    user: &UserRecord,
    authn: &Authn,
) -> Result<Option<Pending>> {
    let account = app.store.account(&tenant.id, &user.user_id).await?.ok_or(Error::Unauthorized)?;
    if mfa::need(tenant, &account) != Need::Factor {
        return Ok(None);
    }
    let step = mfa::Step {
        authn: authn.clone(),
        event: EventType::LoginSucceeded,
        need: Need::Factor,
        bind_browser: false,
    };
    // No quotas ride on this write, so nothing here is refused for a client's count.
    mfa::begin(app, tenant, &account, step, &Limits::none(&tenant.id), &ClientInfo::default()).await.map(Some)
}

/// Ends the browser session a cookie names (logout).
pub async fn end_browser_session(app: &App, tenant: &Tenant, cookie: &str) -> Result<()> {
    app.store.delete_browser_session(&tenant.id, &crypto::token_hash(cookie)).await
}
