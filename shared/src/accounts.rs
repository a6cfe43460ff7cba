//! The account flows of wave 1: register, verify email, resend verification, login, and the
//! verification of a bearer token that every protected route (and the authorizer) relies on.
//!
//! Inputs are domain types already parsed at the edge; outputs are domain values. Nothing here
//! knows about HTTP or Lambda.

use crate::ids::{AppId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::app::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::crypto;
use crate::domain::{Email, NewPassword, PASSWORD_MAX_CHARS, Profile};
use crate::error::{Error, Result};
use crate::mfa::{self, FirstFactor, SignIn};
use crate::model::amr;
use crate::model::{TokenKind, TokenRecord, UserRecord, UserStatus};
use crate::outbox::{self, Letter, OutboxRecord};
use crate::ratelimit::{self, Limits, Route};
use crate::store::Account;
use crate::store::{Committed, Guard, UserUpdate, Written};
use crate::tenant::Tenant;
use crate::tokens::{self, Identity, TokenUse};

/// The public view of a user, as `GET /api/v1/users/me` and login show it.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub name: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub email_verified: bool,
    pub providers: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        UserView {
            id: u.user_id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            username: u.username.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            company_name: u.company_name.clone(),
            email_verified: u.email_verified,
            providers: u.providers.clone(),
            created_at: u.created_at,
        }
    }
}

// ----- register ----------------------------------------------------------------------------------

pub struct RegisterInput {
    pub email: Email,
    pub password: NewPassword,
    pub profile: Profile,
}

#[derive(Debug, Serialize)]
pub struct Registered {
    pub user_id: UserId,
    pub email: String,
    pub email_verified: bool,
}

pub async fn register(
    app: &App,
    tenant: &Tenant,
    input: RegisterInput,
    client: &ClientInfo,
) -> Result<Registered> {
    let config = &app.config;
    let settings = &tenant.settings;
    let tenant = &tenant.id;
    if !settings.signup_enabled {
        return Err(Error::Forbidden);
    }
    // The quotas before the hash: a flood over the limit costs no Argon2 work.
    Limits::new(app, tenant, Route::Register, client, Some(input.email.normalized()))
        .take(app, client)
        .await?;
    let now = Utc::now();
    let password_hash = crypto::hash_password(input.password.expose()).await?;
    let user_id = UserId::generate();
    let mut user = new_user(tenant, &user_id, &input.email, Some(password_hash), "password", false, now);
    user.set_profile(input.profile);
    let (token, token_hash) = crypto::new_token();
    user.verify_token_hash = Some(token_hash.clone());
    let mut token_record = single_use(TokenKind::VerifyEmail, &user, now, config.verify_token_ttl.as_secs());
    token_record.vouches_for_password = true;
    let event = audit::record(config, tenant, &user_id, EventType::Register, client, Default::default(), now);

    let letter =
        Letter::VerifyEmail { name: user.name.clone(), ttl_seconds: config.verify_token_ttl.as_secs() };
    let mail = outbox::compose(&app.sealer, tenant, Some(&user_id), &input.email, &letter, Some(&token), now)
        .await?;
    if app.store.create_user(&user, &token_hash, &token_record, &event, &mail).await? != Committed::Done {
        // The address is taken. If its account never proved the mailbox, whoever registered it
        // may not own it, and someone (perhaps the owner) now tries again: the first
        // registration's link stops vouching for its password by dying. The owner gets a link by
        // resend, and a resent link drops the password it cannot vouch for.
        let owner = app.store.user_by_email(tenant, input.email.normalized()).await?;
        if let Some(unproven) = owner.as_ref().filter(|o| !o.email_verified) {
            let mut dead_link = UserUpdate::new(Guard::Unverified);
            dead_link.remove(TokenKind::VerifyEmail.user_attribute());
            app.store.update_user_with(tenant, &unproven.user_id, dead_link, now).await?;
        }
        if !settings.prevent_user_existence_errors {
            return Err(Error::EmailTaken);
        }
        // Answer exactly as for a new account, and tell the owner of the address instead: at the
        // address as the account stores it, never as this request typed it.
        match owner {
            Some(owner) => {
                let to = Email::from_stored(owner.email.clone());
                let notice = outbox::compose(
                    &app.sealer,
                    tenant,
                    Some(&owner.user_id),
                    &to,
                    &Letter::EmailTakenNotice,
                    None,
                    now,
                )
                .await?;
                app.store.put_outbox(&notice).await?;
            }
            // Erased between the two writes: nobody to tell.
            None => app.store.decoy_write(tenant, now).await?,
        }
        return Ok(Registered {
            user_id: UserId::generate(),
            email: input.email.as_str().to_owned(),
            email_verified: false,
        });
    }
    if settings.prevent_user_existence_errors {
        // The reads and the write a taken address costs, so that a new one takes as long.
        app.store.user_by_email(tenant, input.email.normalized()).await?;
        app.store.decoy_write(tenant, now).await?;
    }
    Ok(Registered { user_id, email: user.email, email_verified: false })
}

/// A new account's record (no profile fields yet, no tokens).
pub(crate) fn new_user(
    tenant: &AppId,
    user_id: &UserId,
    email: &Email,
    password_hash: Option<String>,
    provider: &str,
    email_verified: bool,
    now: DateTime<Utc>,
) -> UserRecord {
    UserRecord {
        user_id: user_id.to_owned(),
        tenant_id: tenant.to_owned(),
        email: email.as_str().to_owned(),
        email_normalized: email.normalized().to_owned(),
        password_hash,
        name: None,
        username: None,
        first_name: None,
        last_name: None,
        company_name: None,
        email_verified,
        status: UserStatus::Active,
        providers: vec![provider.to_owned()],
        verify_token_hash: None,
        reset_token_hash: None,
        magic_token_hash: None,
        deletion_token_hash: None,
        cancel_token_hash: None,
        deletion_requested_at: None,
        scheduled_for: None,
        credential_version: 0,
        api_keys_version: 0,
        mfa_factors: 0,
        created_at: now,
        updated_at: now,
    }
}

pub(crate) fn single_use(
    kind: TokenKind,
    user: &UserRecord,
    now: DateTime<Utc>,
    ttl_seconds: u64,
) -> TokenRecord {
    let expires_at = now.timestamp() + ttl_seconds as i64;
    TokenRecord {
        kind,
        tenant_id: user.tenant_id.clone(),
        user_id: user.user_id.clone(),
        email: None,
        vouches_for_password: false,
        browser: None,
        created_at: now,
        expires_at,
        ttl: expires_at,
    }
}

/// A single-use token as a client sent it. Anything that cannot be one of ours is refused before
/// the store is asked.
pub fn parse_single_use_token(raw: &str) -> Result<&str> {
    let t = raw.trim();
    if crypto::could_be_token(t) { Ok(t) } else { Err(Error::InvalidToken) }
}

// ----- verify email ------------------------------------------------------------------------------

/// Marks the address verified. A link that does not vouch for the account's password (one sent
/// by a resend, which anyone may ask for) verifies the mailbox but drops the password: whoever
/// registered the address first may have been someone else, pre-registering it with a password
/// of their own to take the account over once its owner verifies. The owner then sets a password
/// with a reset or signs in by magic link; `password_set` in the answer says which case it was.
pub async fn verify_email(
    app: &App,
    tenant: &Tenant,
    token: &str,
    client: &ClientInfo,
) -> Result<UserRecord> {
    let tenant = &tenant.id;
    let token = parse_single_use_token(token)?;
    let hash = crypto::token_hash(token);
    let now = Utc::now();
    let record = app.store.token(tenant, &hash).await?.ok_or(Error::InvalidToken)?;
    if record.kind != TokenKind::VerifyEmail || record.is_expired(now) {
        return Err(Error::InvalidToken);
    }
    // Read before the write, so that a failure after the commit cannot turn a success into an error.
    let mut user = app.store.user(tenant, &record.user_id).await?.ok_or(Error::InvalidToken)?;
    let event = audit::record(
        &app.config,
        tenant,
        &record.user_id,
        EventType::EmailVerified,
        client,
        Default::default(),
        now,
    );
    let mut change = UserUpdate::new(Guard::Active);
    change.set_bool("email_verified", true);
    let drop_password = !record.vouches_for_password && user.password_hash.is_some();
    if drop_password {
        change.remove("password_hash");
    }
    match app.store.consume_token(&hash, &record, change, &event, &[], &[], None, now).await? {
        Written::Done => {}
        Written::ConditionFailed => return Err(Error::InvalidToken),
    }
    user.email_verified = true;
    user.verify_token_hash = None;
    if drop_password {
        user.password_hash = None;
    }
    Ok(user)
}

// ----- login ---------------------------------------------------------------------------------------

pub use crate::sessions::LoggedIn;

/// Checks an email and password and starts a session. In order: the request's quotas (per IP and
/// per account) are taken in a write of their own, before anything is read or hashed, so that N
/// parallel guesses get exactly as far as N sequential ones; then the account and its count of
/// consecutive failures are read, and an account at `LOGIN_MAX_CONSECUTIVE_FAILURES` is refused
/// before any hashing; then the password is checked (against a dummy hash for an unknown address).
/// A failure counts one more consecutive failure; a correct password forgives the account's quota
/// and its failures (not the IP's count).
///
/// A user with a second factor (or of an app that requires one) gets no session yet: the
/// second step (`mfa::SignIn::SecondFactor`).
pub async fn login(
    app: &App,
    app_context: &Tenant,
    email: &Email,
    password: &str,
    client: &ClientInfo,
    bind_browser: bool,
) -> Result<SignIn> {
    // Boxed: the two futures are large, and a page that signs in (the dashboard's) nests them.
    let checked = Box::pin(check_password(app, app_context, email, password, client)).await?;
    Box::pin(mfa::sign_in(
        app,
        app_context,
        FirstFactor {
            account: &checked.account,
            client,
            event: EventType::LoginSucceeded,
            method: amr::PWD,
            limits: &checked.forgiven,
            // The password checked is no longer the account's (a reset or change committed meanwhile).
            superseded: Error::InvalidCredentials,
            bind_browser,
        },
    ))
    .await
}

/// A correct password of an account that may sign in, as `check_password` found it.
pub struct PasswordChecked {
    pub user: UserRecord,
    /// The user's partition as read with the password's check (sessions, factors).
    pub account: Account,
    /// The quotas to take with the sign-in's write: the account's own are forgiven.
    pub forgiven: Limits,
}

/// Everything `login` does before it starts a session (see there): the quotas, the lock, the
/// password, and the account's state. The OAuth provider's login page signs in with it too.
pub async fn check_password(
    app: &App,
    app_context: &Tenant,
    email: &Email,
    password: &str,
    client: &ClientInfo,
) -> Result<PasswordChecked> {
    let config = &app.config;
    let tenant = &app_context.id;
    if password.chars().count() > PASSWORD_MAX_CHARS {
        // No password we accept is this long: refuse before any hashing work.
        return Err(Error::InvalidCredentials);
    }
    Limits::new(app, tenant, Route::Login, client, Some(email.normalized())).take(app, client).await?;
    let view = app
        .store
        .login_view(tenant, email.normalized(), &ratelimit::failure_counter(tenant, email.normalized()))
        .await?;
    if view.failures >= u64::from(config.login_max_consecutive_failures) {
        audit::log_only(
            EventType::RateLimited,
            tenant,
            client,
            &audit::details([("route", json!("login")), ("limit", json!("consecutive_failures"))]),
        );
        return Err(Error::LoginLocked);
    }
    let account = view.found;
    let user = account.as_ref().map(|a| a.user.clone());
    let ok =
        crypto::verify_password(password, user.as_ref().and_then(|u| u.password_hash.as_deref())).await?;
    let now = Utc::now();
    let forgiven = Limits::forgiving(tenant, email.normalized(), Route::Login);
    let user = match user {
        Some(u) if ok => u,
        other => {
            let details = audit::details([("reason", json!("invalid_credentials"))]);
            let event = other.as_ref().map(|u| {
                audit::record(
                    config,
                    tenant,
                    &u.user_id,
                    EventType::LoginFailed,
                    client,
                    details.clone(),
                    now,
                )
            });
            if event.is_none() {
                audit::log_only(EventType::LoginFailed, tenant, client, &details);
            }
            // A known account's failure writes its audit item, an unknown one a decoy: the same
            // write, so both take as long; either counts one more consecutive failure.
            let counted = Limits::count_failure(tenant, email.normalized());
            let notice = match &other {
                Some(u) => lock_notice(app, u, view.failures + 1, now).await?,
                None => None,
            };
            app.store
                .record_failed_login(tenant, event.as_ref(), now, counted.quotas(), notice.as_ref())
                .await?;
            return Err(Error::InvalidCredentials);
        }
    };
    // Only after a correct password may the answer say more about the account.
    if user.status == UserStatus::Disabled {
        app.store.take_quotas(forgiven.quotas()).await?;
        return Err(Error::AccountDisabled);
    }
    if user.status == UserStatus::PendingDeletion {
        app.store.take_quotas(forgiven.quotas()).await?;
        return Err(Error::AccountPendingDeletion);
    }
    if !user.email_verified {
        let details = audit::details([("reason", json!("email_not_verified"))]);
        let event =
            audit::record(config, tenant, &user.user_id, EventType::LoginFailed, client, details, now);
        app.store.record_failed_login(tenant, Some(&event), now, forgiven.quotas(), None).await?;
        return Err(Error::EmailNotVerified);
    }
    let account = account.ok_or_else(|| Error::Internal("a checked password without its account".into()))?;
    Ok(PasswordChecked { user, account, forgiven })
}

/// The notice to the owner when this failure is the one that locks password sign-in, for the
/// failure's own write. Concurrent failures may each believe so; a second notice then is the price
/// of not reading the count back.
pub(crate) async fn lock_notice(
    app: &App,
    user: &UserRecord,
    failures: u64,
    now: DateTime<Utc>,
) -> Result<Option<OutboxRecord>> {
    let cap = app.config.login_max_consecutive_failures;
    if failures != u64::from(cap) {
        return Ok(None);
    }
    tracing::warn!(user_id = user.user_id.as_str(), failures, "password sign-in locked");
    let to = Email::from_stored(user.email.clone());
    let letter = Letter::LoginLocked { failures: cap };
    outbox::compose(&app.sealer, &user.tenant_id, Some(&user.user_id), &to, &letter, None, now)
        .await
        .map(Some)
}

// ----- bearer verification -------------------------------------------------------------------------

/// The one verification of a bearer token, used by the authorizer and by any protected function
/// that runs without an authorizer in front of it. Checks the JWT (signature, key, algorithm,
/// `iss`, `aud`, `exp`, `nbf`, `token_use: access`) and that its session is still live, so that a
/// revoked session's access tokens stop working at once.
///
/// A failing dependency is an error (503), never a pass: the check fails closed.
/// Only a token of `tenant`, the app of the route, counts: another app's token is no credential.
pub async fn authenticate(app: &App, tenant: &Tenant, bearer: Option<&str>) -> Result<Identity> {
    let token = bearer.ok_or(Error::Unauthorized)?;
    let kid = tokens::kid_of(token);
    let (claims, session) = match app.public_keys.cached_for(kid.as_deref()).await {
        Some(keys) => {
            let claims = tokens::verify(&keys, tenant, token, TokenUse::Access).ok_or(Error::Unauthorized)?;
            let session = app.store.session(&claims.tid, &claims.sub, &claims.sid).await?;
            (claims, session)
        }
        None => {
            // The public keys are read with the session, in one call: the session by the ids the
            // token names, which count for nothing until the signature has checked out.
            let (tid, sub, sid) = tokens::unverified_ids(token).ok_or(Error::Unauthorized)?;
            if tid != tenant.id {
                // Another app's token: not worth a read.
                return Err(Error::Unauthorized);
            }
            let (session, keys) = app.store.session_with_public_keys(&tid, &sub, &sid).await?;
            let keys = app.public_keys.install(keys).await?;
            let claims = tokens::verify(&keys, tenant, token, TokenUse::Access).ok_or(Error::Unauthorized)?;
            if (&claims.tid, &claims.sub, &claims.sid) != (&tid, &sub, &sid) {
                return Err(Error::Unauthorized);
            }
            (claims, session)
        }
    };
    if !session.is_some_and(|s| s.is_live(Utc::now())) {
        return Err(Error::Unauthorized);
    }
    Ok(Identity {
        user_id: claims.sub,
        tenant_id: claims.tid,
        session_id: claims.sid,
        scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
        expires_at: claims.exp,
        authn: crate::model::Authn { amr: claims.amr, acr: claims.acr, auth_time: claims.auth_time },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_use_tokens_must_look_like_ours() {
        assert!(parse_single_use_token("abcDEF012-_").is_ok());
        assert!(parse_single_use_token("").is_err());
        assert!(parse_single_use_token("a b").is_err());
        assert!(parse_single_use_token(&"a".repeat(200)).is_err());
        assert!(parse_single_use_token("abc\r\n").is_ok(), "surrounding whitespace is trimmed");
    }
}
