//! What a user does with the account after signing up: password reset and change, magic links,
//! deletion with a grace period, and the audit trail.
//!
//! Requests that name an email (reset, magic link) answer the same whether or not the address has
//! an account, and do the same store work: an unknown address gets a decoy write of the same shape.

use crate::ids::{AppId, SessionId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::accounts::{self, single_use};
use crate::app::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::crypto;
use crate::domain::{Email, NewPassword};
use crate::error::{Error, Result};
use crate::mfa::{FirstFactor, SignIn};
use crate::model::{AuditRecord, TokenKind, TokenRecord, UserRecord, UserStatus, amr};
use crate::outbox::{self, Letter, OutboxRecord};
use crate::ratelimit::{self, Limits, Route};
use crate::sessions;
use crate::store::{Guard, UserUpdate, Written};
use crate::tenant::Tenant;
use crate::tokens::Identity;

/// A token sent by a client, its record if it is a live token of `kind`.
async fn live_token(
    app: &App,
    tenant: &AppId,
    raw: &str,
    kind: TokenKind,
    now: DateTime<Utc>,
) -> Result<(String, TokenRecord)> {
    let token = accounts::parse_single_use_token(raw)?;
    let hash = crypto::token_hash(token);
    let record = app.store.token(tenant, &hash).await?.ok_or(Error::InvalidToken)?;
    if record.kind != kind || record.is_expired(now) {
        return Err(Error::InvalidToken);
    }
    Ok((hash, record))
}

fn event(
    app: &App,
    user: (&AppId, &UserId),
    kind: EventType,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> AuditRecord {
    audit::record(&app.config, user.0, user.1, kind, client, Default::default(), now)
}

/// A mail to a user's stored address, for the outbox (see `outbox`).
async fn mail(
    app: &App,
    user: &UserRecord,
    letter: &Letter,
    token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<OutboxRecord> {
    let to = Email::from_stored(user.email.clone());
    outbox::compose(&app.sealer, &user.tenant_id, Some(&user.user_id), &to, letter, token, now).await
}

/// What a request that names an unknown (or unsuitable) address costs: the sealing and the write
/// a known address's link costs, so that neither the answer nor its time tells them apart.
async fn decoy(app: &App, tenant: &AppId, now: DateTime<Utc>) -> Result<()> {
    outbox::decoy_seal(&app.sealer, tenant).await?;
    app.store.decoy_write(tenant, now).await
}

// ----- password reset and verification links ------------------------------------------------------------------------------

/// A single-use link to mail: its token's kind and lifetime, the audit event and the letter, and
/// the state the user must still be in when it is written.
struct Link {
    kind: TokenKind,
    ttl_seconds: u64,
    event: EventType,
    letter: Letter,
    guard: Guard,
}

/// Mails `link` to `user`: the token, its audit event and the mail in one transaction. When the
/// user left the guarded state meanwhile, nothing is written or sent, and the answer is the same.
async fn send_link(
    app: &App,
    user: &UserRecord,
    link: Link,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<()> {
    let (token, hash) = crypto::new_token();
    let record = single_use(link.kind, user, now, link.ttl_seconds);
    let audit = event(app, (&user.tenant_id, &user.user_id), link.event, client, now);
    let mail = mail(app, user, &link.letter, Some(&token), now).await?;
    app.store.issue_token(user, &hash, &record, UserUpdate::new(link.guard), &audit, &mail, now).await?;
    Ok(())
}

/// Mails a reset link to a known, active account. The caller answers the same in every case.
pub async fn request_password_reset(
    app: &App,
    tenant: &Tenant,
    email: &Email,
    client: &ClientInfo,
) -> Result<()> {
    let now = Utc::now();
    let user = app.store.user_by_email(&tenant.id, email.normalized()).await?;
    let Some(user) = user.filter(|u| u.status == UserStatus::Active) else {
        return decoy(app, &tenant.id, now).await;
    };
    let ttl_seconds = app.config.reset_token_ttl.as_secs();
    let link = Link {
        kind: TokenKind::PasswordReset,
        ttl_seconds,
        event: EventType::PasswordResetRequested,
        letter: Letter::PasswordReset { ttl_seconds },
        guard: Guard::Active,
    };
    send_link(app, &user, link, client, now).await
}

/// Sends a fresh verification link to an unverified account. The caller answers the same way
/// whatever happens here for an unknown or verified address, so the outcome is not returned.
pub async fn resend_verification(
    app: &App,
    tenant: &Tenant,
    email: &Email,
    client: &ClientInfo,
) -> Result<()> {
    let now = Utc::now();
    let user = app.store.user_by_email(&tenant.id, email.normalized()).await?;
    let Some(user) = user.filter(|u| !u.email_verified && u.status == UserStatus::Active) else {
        audit::log_only(
            EventType::VerificationResent,
            &tenant.id,
            client,
            &audit::details([("outcome", json!("nothing_to_send"))]),
        );
        return decoy(app, &tenant.id, now).await;
    };
    let ttl_seconds = app.config.verify_token_ttl.as_secs();
    let link = Link {
        kind: TokenKind::VerifyEmail,
        ttl_seconds,
        event: EventType::VerificationResent,
        letter: Letter::VerifyEmail { name: user.name.clone(), ttl_seconds },
        // Verified in the meantime: nothing is written and nothing is sent.
        guard: Guard::Unverified,
    };
    send_link(app, &user, link, client, now).await
}

/// Sets a new password with a reset token. The policy is checked before the token is consumed, so
/// a refused password leaves the link usable. Every session of the user ends; nobody is logged in.
pub async fn confirm_password_reset(
    app: &App,
    tenant: &Tenant,
    raw_token: &str,
    new_password: &str,
    client: &ClientInfo,
) -> Result<()> {
    let now = Utc::now();
    let (hash, record) = live_token(app, &tenant.id, raw_token, TokenKind::PasswordReset, now).await?;
    let user = app.store.user(&record.tenant_id, &record.user_id).await?.ok_or(Error::InvalidToken)?;
    let password = parse_new_password(tenant, &user, new_password)?;
    let phc = crypto::hash_password(password.expose()).await?;
    let mut change = UserUpdate::new(Guard::Active);
    // The link came to the mailbox: using it proves the address, as a verification link would.
    // Whoever reset the password may be the owner locking out a thief: nothing the old
    // credential made survives, API keys included (a reset by mail never keeps them).
    change
        .set_str("password_hash", phc)
        .set_bool("email_verified", true)
        .bump_credential_version()
        .end_api_keys();
    let audit = event(app, (&user.tenant_id, &user.user_id), EventType::PasswordResetCompleted, client, now);
    let live: Vec<SessionId> =
        app.store.sessions(&user.tenant_id, &user.user_id).await?.into_iter().map(|s| s.session_id).collect();
    // A reset is the owner's way back in after a lock-out: it forgives the failed sign-ins.
    let forgiven = Limits::forgiving(&user.tenant_id, &user.email_normalized, Route::Login);
    let notice = mail(app, &user, &Letter::PasswordChanged { how: "reset".into() }, None, now).await?;
    if app
        .store
        .consume_token(&hash, &record, change, &audit, &live, forgiven.quotas(), Some(&notice), now)
        .await?
        == Written::ConditionFailed
    {
        return Err(Error::InvalidToken);
    }
    // A session started between the read and the commit (with the old password) ends too.
    if let Err(e) = sessions::revoke_all(app, &user.tenant_id, &user.user_id, None, client).await {
        tracing::error!(error = %e, "sessions started during a password reset could not be revoked");
    }
    Ok(())
}

fn parse_new_password(tenant: &Tenant, user: &UserRecord, raw: &str) -> Result<NewPassword> {
    let profile = user.profile();
    let mut context = profile.guessable_words();
    context.push(&user.email);
    NewPassword::parse(raw, tenant.settings.password_policy, &context).map_err(|rules| {
        let mut fields = crate::error::FieldErrors::new();
        fields.insert("new_password".to_owned(), rules.into_iter().map(str::to_owned).collect());
        Error::Validation(fields)
    })
}

/// A check of the caller's password on a protected route (password change, deletion request) is a
/// login attempt like any other: the account's login quota is taken before the hash, and its
/// consecutive failures count and lock as at login, so that a stolen access token is no way around
/// the login limits.
async fn check_current_password(
    app: &App,
    user: &UserRecord,
    password: &str,
    reason: &str,
    client: &ClientInfo,
) -> Result<()> {
    let email = &user.email_normalized;
    Limits::new(app, &user.tenant_id, Route::Login, client, Some(email)).take(app, client).await?;
    let failures = app.store.failures(&ratelimit::failure_counter(&user.tenant_id, email)).await?;
    if failures >= u64::from(app.config.login_max_consecutive_failures) {
        return Err(Error::LoginLocked);
    }
    let over_long = password.chars().count() > crate::domain::PASSWORD_MAX_CHARS;
    if over_long || !crypto::verify_password(password, user.password_hash.as_deref()).await? {
        let details = audit::details([("reason", json!(reason))]);
        let now = Utc::now();
        let record = audit::record(
            &app.config,
            &user.tenant_id,
            &user.user_id,
            EventType::LoginFailed,
            client,
            details,
            now,
        );
        let counted = Limits::count_failure(&user.tenant_id, email);
        let notice = accounts::lock_notice(app, user, failures + 1, now).await?;
        app.store
            .record_failed_login(&user.tenant_id, Some(&record), now, counted.quotas(), notice.as_ref())
            .await?;
        return Err(Error::InvalidCredentials);
    }
    Ok(())
}

// ----- password change -----------------------------------------------------------------------------

/// Changes the password of the caller, who proves the current one. Every other session ends; the
/// caller's stays. The user's API keys end too, unless the caller chose to keep them.
#[allow(clippy::too_many_arguments)]
pub async fn change_password(
    app: &App,
    tenant: &Tenant,
    who: &Identity,
    current: &str,
    new_password: &str,
    keep_api_keys: bool,
    client: &ClientInfo,
) -> Result<()> {
    let user = app.store.user(&who.tenant_id, &who.user_id).await?.ok_or(Error::Unauthorized)?;
    check_current_password(app, &user, current, "wrong_current_password", client).await?;
    let email = &user.email_normalized;
    let password = parse_new_password(tenant, &user, new_password)?;
    let phc = crypto::hash_password(password.expose()).await?;
    let now = Utc::now();
    let others: Vec<SessionId> = app
        .store
        .sessions(&who.tenant_id, &who.user_id)
        .await?
        .into_iter()
        .map(|s| s.session_id)
        .filter(|id| *id != who.session_id)
        .collect();
    let details =
        audit::details([("revoked_sessions", json!(others)), ("api_keys_kept", json!(keep_api_keys))]);
    let audit = audit::record(
        &app.config,
        &who.tenant_id,
        &who.user_id,
        EventType::PasswordChanged,
        client,
        details,
        now,
    );
    // The new hash, the new credential version, the other sessions' end and the caller's session
    // carried over, all or nothing. A session another sign-in started after the read above was
    // checked against the old version and cannot commit after this.
    let forgiven = Limits::forgiving(&user.tenant_id, email, Route::Login);
    let notice = mail(app, &user, &Letter::PasswordChanged { how: "changed".into() }, None, now).await?;
    if app
        .store
        .change_password(
            &user,
            &phc,
            &who.session_id,
            &others,
            !keep_api_keys,
            &audit,
            forgiven.quotas(),
            &notice,
            now,
        )
        .await?
        == Written::ConditionFailed
    {
        // The account changed (another change, a reset, a disabling) or the caller's session ended
        // since the read: the caller is not who this change was checked for any more.
        return Err(Error::Unauthorized);
    }
    // A sign-in that checked the old password and committed its session between the read above
    // and the change: its refresh already fails (the version moved on), and this ends its access
    // tokens too.
    let stale: Vec<SessionId> = app
        .store
        .sessions(&who.tenant_id, &who.user_id)
        .await?
        .into_iter()
        .filter(|s| s.credential_version <= user.credential_version && s.session_id != who.session_id)
        .map(|s| s.session_id)
        .collect();
    if !stale.is_empty() {
        app.store.revoke_sessions(&who.tenant_id, &who.user_id, &stale, None).await?;
    }
    Ok(())
}

// ----- magic links ----------------------------------------------------------------------------------

/// Mails a one-time sign-in link. For an address without an account the link creates one (verified,
/// since using the link proves the mailbox). Pending-deletion accounts get nothing.
pub async fn request_magic_link(
    app: &App,
    tenant: &Tenant,
    email: &Email,
    client: &ClientInfo,
    provider_page: Option<String>,
    browser: Option<String>,
) -> Result<()> {
    // `provider_page`: the OAuth provider's login page asked, and the link leads to its page.
    // `browser`: the hash of a secret the asking browser keeps; only that browser can use the
    // link (the provider's login page and the dashboard always bind their links).
    // Counted here, whichever page asks (the API or the OAuth provider's login page).
    crate::ratelimit::hit(app, &tenant.id, Route::MagicLink, client, Some(email.normalized())).await?;
    let config = &app.config;
    let settings = &tenant.settings;
    let tenant = &tenant.id;
    let now = Utc::now();
    let ttl = config.magic_link_ttl.as_secs();
    let (token, hash) = crypto::new_token();
    match app.store.user_by_email(tenant, email.normalized()).await? {
        Some(user) if user.status == UserStatus::Active => {
            let record =
                TokenRecord { browser: browser.clone(), ..single_use(TokenKind::MagicLink, &user, now, ttl) };
            let audit =
                event(app, (&user.tenant_id, &user.user_id), EventType::MagicLinkRequested, client, now);
            let letter = Letter::MagicLink { ttl_seconds: ttl, provider_page };
            let mail = mail(app, &user, &letter, Some(&token), now).await?;
            app.store
                .issue_token(&user, &hash, &record, UserUpdate::new(Guard::Active), &audit, &mail, now)
                .await?;
        }
        Some(_) => decoy(app, tenant, now).await?,
        // Sign-up is closed: no link creates an account. The answer stays the same (it must not
        // tell which addresses have accounts); nothing is sent.
        None if !settings.signup_enabled => decoy(app, tenant, now).await?,
        None => {
            let expires_at = now.timestamp() + ttl as i64;
            let record = TokenRecord {
                kind: TokenKind::MagicLink,
                tenant_id: tenant.clone(),
                user_id: UserId::generate(),
                email: Some(email.as_str().to_owned()),
                vouches_for_password: false,
                browser,
                created_at: now,
                expires_at,
                ttl: expires_at,
            };
            let letter = Letter::MagicLink { ttl_seconds: ttl, provider_page };
            let mail = outbox::compose(&app.sealer, tenant, None, email, &letter, Some(&token), now).await?;
            app.store.put_token(&hash, &record, &mail).await?;
            audit::log_only(
                EventType::MagicLinkRequested,
                tenant,
                client,
                &audit::details([("account", json!("new"))]),
            );
        }
    }
    Ok(())
}

/// Signs in with a magic link, creating the account first when the link was sent to a new address.
/// `browser`: the binding secret of the browser that opened it (the dashboard), `None` for an API
/// client. A user with a second factor gets the second step instead of the session.
pub async fn verify_magic_link(
    app: &App,
    tenant: &Tenant,
    raw_token: &str,
    browser: Option<&str>,
    client: &ClientInfo,
    bind_browser: bool,
) -> Result<SignIn> {
    let user = consume_magic_link(app, tenant, raw_token, browser, client).await?;
    // Read after the link was spent, so the account is as the link left it (created, verified).
    let account = app.store.account(&user.tenant_id, &user.user_id).await?.ok_or(Error::InvalidToken)?;
    Box::pin(crate::mfa::sign_in(
        app,
        tenant,
        FirstFactor {
            account: &account,
            client,
            event: EventType::LoginSucceeded,
            method: amr::EMAIL,
            // A magic link is the owner's other way in: it forgives failed password sign-ins.
            limits: &Limits::forgiving(&tenant.id, &user.email_normalized, Route::Login),
            superseded: Error::InvalidToken,
            bind_browser,
        },
    ))
    .await
}

/// Consumes a magic link: its user (created when the link was sent to a new address), the
/// mailbox proven. `verify_magic_link` starts a session with it, the OAuth provider's login page
/// a browser session.
pub async fn consume_magic_link(
    app: &App,
    tenant: &Tenant,
    raw_token: &str,
    browser: Option<&str>,
    client: &ClientInfo,
) -> Result<UserRecord> {
    let now = Utc::now();
    let (hash, record) = live_token(app, &tenant.id, raw_token, TokenKind::MagicLink, now).await?;
    // A link bound to a browser works in that browser only, and a browser takes only a link bound
    // to it: an attacker's own link (asked for in the attacker's browser, or by the API) opened
    // in a victim's browser would otherwise sign the victim into the attacker's account. An API
    // client (`browser: None`) uses the links it asked for without a browser.
    match (&record.browser, browser) {
        (Some(bound), given) => {
            let given = given.map(crypto::token_hash).unwrap_or_default();
            if !bool::from(subtle::ConstantTimeEq::ct_eq(bound.as_bytes(), given.as_bytes())) {
                return Err(Error::InvalidToken);
            }
        }
        (None, Some(_)) => return Err(Error::InvalidToken),
        (None, None) => {}
    }
    let user = match &record.email {
        None => {
            let user =
                app.store.user(&record.tenant_id, &record.user_id).await?.ok_or(Error::InvalidToken)?;
            let mut change = UserUpdate::new(Guard::Active);
            // Following the link proves the mailbox.
            change.set_bool("email_verified", true);
            let unverified = !user.email_verified;
            if unverified {
                // Whoever registered the address without ever proving it may have chosen the
                // password: the mailbox's owner takes the account over without it (and can set one
                // with a reset).
                change.remove("password_hash");
            }
            let audit = event(app, (&user.tenant_id, &user.user_id), EventType::MagicLinkUsed, client, now);
            if app.store.consume_token(&hash, &record, change, &audit, &[], &[], None, now).await?
                == Written::ConditionFailed
            {
                return Err(Error::InvalidToken);
            }
            UserRecord {
                email_verified: true,
                magic_token_hash: None,
                password_hash: if unverified { None } else { user.password_hash },
                ..user
            }
        }
        // A link sent while sign-up was open creates no account once it is closed.
        Some(_) if !tenant.settings.signup_enabled => return Err(Error::Forbidden),
        Some(address) => {
            let email = Email::from_stored(address.clone());
            let user =
                accounts::new_user(&record.tenant_id, &record.user_id, &email, None, "magic_link", true, now);
            let audit = event(app, (&user.tenant_id, &user.user_id), EventType::MagicLinkUsed, client, now);
            // Token, email lock and user in one transaction, as at registration: if the address
            // got an account since the link was sent, this link is dead.
            match app.store.create_user_from_token(&user, &hash, &audit, now).await? {
                Written::Done => user,
                Written::ConditionFailed => return Err(Error::InvalidToken),
            }
        }
    };
    Ok(user)
}

// ----- deletion with a grace period -----------------------------------------------------------------

/// Step 1: the caller proves the password; a confirmation link is mailed.
pub async fn request_deletion(app: &App, who: &Identity, password: &str, client: &ClientInfo) -> Result<()> {
    let config = &app.config;
    let user = app.store.user(&who.tenant_id, &who.user_id).await?.ok_or(Error::Unauthorized)?;
    // An account without a password (made by magic link) proves itself by the confirmation mail.
    if user.password_hash.is_some() {
        check_current_password(app, &user, password, "wrong_password_for_deletion", client).await?;
        let forgiven = Limits::forgiving(&user.tenant_id, &user.email_normalized, Route::Login);
        app.store.take_quotas(forgiven.quotas()).await?;
    }
    let now = Utc::now();
    let ttl = config.deletion_token_ttl.as_secs();
    let (token, hash) = crypto::new_token();
    let record = single_use(TokenKind::DeletionConfirm, &user, now, ttl);
    let mut update = UserUpdate::new(Guard::Active);
    update.set_str("deletion_requested_at", now.to_rfc3339());
    let audit = event(app, (&user.tenant_id, &user.user_id), EventType::DeletionRequested, client, now);
    let mail = mail(app, &user, &Letter::DeletionConfirm { ttl_seconds: ttl }, Some(&token), now).await?;
    if app.store.issue_token(&user, &hash, &record, update, &audit, &mail, now).await?
        == Written::ConditionFailed
    {
        return Err(Error::Unauthorized);
    }
    Ok(())
}

/// Step 2: the link disables the account at once (every session ends, login answers 403) and
/// schedules its erasure; a notice carries a cancel link valid until then.
pub async fn confirm_deletion(
    app: &App,
    tenant: &Tenant,
    raw_token: &str,
    client: &ClientInfo,
) -> Result<DateTime<Utc>> {
    let config = &app.config;
    let now = Utc::now();
    let (hash, record) = live_token(app, &tenant.id, raw_token, TokenKind::DeletionConfirm, now).await?;
    let user = app.store.user(&record.tenant_id, &record.user_id).await?.ok_or(Error::InvalidToken)?;
    // A developer's apps go first: their users would otherwise be left without an owner. The link
    // stays usable for after.
    if tenant.id == AppId::console() && app.store.owned_app_count(&user.user_id).await? > 0 {
        return Err(Error::Conflict);
    }
    let grace = chrono::Duration::from_std(config.deletion_grace).unwrap_or(chrono::Duration::days(30));
    let scheduled_for = now + grace;
    let (cancel, cancel_hash) = crypto::new_token();
    let mut cancel_record =
        single_use(TokenKind::DeletionCancel, &user, now, config.deletion_grace.as_secs());
    cancel_record.ttl = cancel_record.expires_at;
    let mut change = UserUpdate::new(Guard::Active);
    change
        .bump_credential_version()
        .set_str("status", "pending_deletion")
        .set_str("scheduled_for", scheduled_for.to_rfc3339())
        .set_str(TokenKind::DeletionCancel.user_attribute(), cancel_hash.clone())
        // The purge finds accounts due for erasure through the GSI, oldest first.
        .set_str("gsi1pk", crate::store::keys::DELETION_INDEX)
        .set_str("gsi1sk", crate::store::keys::deletion_due(scheduled_for, &user.tenant_id, &user.user_id))
        .remove("deletion_requested_at");
    let audit = audit::record(
        config,
        &user.tenant_id,
        &user.user_id,
        EventType::DeletionConfirmed,
        client,
        audit::details([("scheduled_for", json!(scheduled_for))]),
        now,
    );
    let live: Vec<SessionId> =
        app.store.sessions(&user.tenant_id, &user.user_id).await?.into_iter().map(|s| s.session_id).collect();
    let when = scheduled_for.format("%Y-%m-%d %H:%M UTC").to_string();
    let notice =
        mail(app, &user, &Letter::DeletionScheduled { scheduled_for: when }, Some(&cancel), now).await?;
    if app
        .store
        .consume_token_issuing(
            &hash,
            &record,
            change,
            &audit,
            &cancel_hash,
            &cancel_record,
            &live,
            &notice,
            now,
        )
        .await?
        == Written::ConditionFailed
    {
        return Err(Error::InvalidToken);
    }
    // A session started between the read and the commit ends too.
    if let Err(e) = sessions::revoke_all(app, &user.tenant_id, &user.user_id, None, client).await {
        tracing::error!(error = %e, "sessions started during a deletion could not be revoked");
    }
    Ok(scheduled_for)
}

/// The cancel link of the notice: the account is active again (the user logs in anew).
pub async fn cancel_deletion(app: &App, tenant: &Tenant, raw_token: &str, client: &ClientInfo) -> Result<()> {
    let now = Utc::now();
    let (hash, record) = live_token(app, &tenant.id, raw_token, TokenKind::DeletionCancel, now).await?;
    let mut change = UserUpdate::new(Guard::PendingDeletion);
    change.set_str("status", "active").remove("scheduled_for").remove("gsi1pk").remove("gsi1sk");
    let audit = event(app, (&record.tenant_id, &record.user_id), EventType::DeletionCancelled, client, now);
    if app.store.consume_token(&hash, &record, change, &audit, &[], &[], None, now).await?
        == Written::ConditionFailed
    {
        return Err(Error::InvalidToken);
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct DeletionStatus {
    /// `none`, `requested` (a confirmation link is out) or `pending` (erasure scheduled).
    pub status: &'static str,
    pub scheduled_for: Option<DateTime<Utc>>,
}

/// The deletion state of an account; a request whose confirmation link has expired no longer counts.
pub fn deletion_status(user: &UserRecord, link_lifetime: std::time::Duration) -> DeletionStatus {
    let lifetime = chrono::Duration::from_std(link_lifetime).unwrap_or(chrono::Duration::days(1));
    match user.status {
        UserStatus::PendingDeletion => {
            DeletionStatus { status: "pending", scheduled_for: user.scheduled_for }
        }
        UserStatus::Active if user.deletion_requested_at.is_some_and(|at| at + lifetime > Utc::now()) => {
            DeletionStatus { status: "requested", scheduled_for: None }
        }
        UserStatus::Active | UserStatus::Disabled => DeletionStatus { status: "none", scheduled_for: None },
    }
}

/// The deletion status for the holder of a live cancel link (the account has no sessions then).
pub async fn deletion_status_by_cancel_token(
    app: &App,
    tenant: &Tenant,
    raw_token: &str,
) -> Result<DeletionStatus> {
    let (hash, record) =
        live_token(app, &tenant.id, raw_token, TokenKind::DeletionCancel, Utc::now()).await?;
    let user = app.store.user(&record.tenant_id, &record.user_id).await?.ok_or(Error::InvalidToken)?;
    if user.cancel_token_hash.as_deref() != Some(hash.as_str()) {
        return Err(Error::InvalidToken);
    }
    Ok(deletion_status(&user, app.config.deletion_token_ttl))
}

/// Erases every account whose grace period is over: the user, its email lock, sessions, tokens and
/// audit events, so that the address can register again. Returns how many were erased.
pub async fn purge_due_accounts(app: &App, now: DateTime<Utc>) -> Result<usize> {
    let mut purged = 0;
    for (tenant, user_id) in app.store.deletions_due(now).await? {
        let Some(user) = app.store.user(&tenant, &user_id).await? else { continue };
        // Re-checked on the item itself: a cancellation may have raced the index.
        if user.status != UserStatus::PendingDeletion || user.scheduled_for.is_none_or(|at| at > now) {
            continue;
        }
        app.store.erase_user(&user).await?;
        audit::log_only(
            EventType::AccountPurged,
            &tenant,
            &ClientInfo { request_id: "purge".to_owned(), ..Default::default() },
            &audit::details([("user_id", json!(user_id))]),
        );
        purged += 1;
    }
    Ok(purged)
}

// ----- audit trail -----------------------------------------------------------------------------------

#[derive(Debug, Serialize)]
pub struct AuditView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl From<AuditRecord> for AuditView {
    fn from(r: AuditRecord) -> Self {
        AuditView { id: r.id, kind: r.kind, at: r.at, ip: r.ip, user_agent: r.user_agent, details: r.details }
    }
}
