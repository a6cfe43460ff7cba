//! The management API's flows: what an app's backend (its secret key) or its owner (a console
//! session) does with the app's users and reads of its audit trail. Every user named here is
//! looked up within the route's app only.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::accounts::{self, LoggedIn, UserView};
use crate::app::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::caller::Caller;
use crate::crypto;
use crate::domain::{Email, NewPassword, Profile};
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::model::{AuditRecord, TokenKind, UserRecord, UserStatus};
use crate::outbox::{self, Letter};
use crate::ratelimit::Limits;
use crate::sessions;
use crate::store::{Guard, Page, UserUpdate, Written};
use crate::tenant::Tenant;

/// A user as the management API shows it: as `GET /users/me` does, and whether it is disabled.
#[derive(Debug, Serialize)]
pub struct AdminUserView {
    #[serde(flatten)]
    pub user: UserView,
    pub disabled: bool,
    /// `active`, `disabled` or `pending_deletion`.
    pub status: UserStatus,
}

impl From<&UserRecord> for AdminUserView {
    fn from(u: &UserRecord) -> Self {
        AdminUserView {
            user: UserView::from(u),
            disabled: u.status == UserStatus::Disabled,
            status: u.status,
        }
    }
}

/// An audit event of the app, with the user it is about.
#[derive(Debug, Serialize)]
pub struct AdminAuditView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: DateTime<Utc>,
    pub user_id: UserId,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl From<AuditRecord> for AdminAuditView {
    fn from(r: AuditRecord) -> Self {
        AdminAuditView {
            id: r.id,
            kind: r.kind,
            at: r.at,
            user_id: r.user_id,
            ip: r.ip,
            user_agent: r.user_agent,
            details: r.details,
        }
    }
}

pub struct NewUser {
    pub email: Email,
    pub password: Option<NewPassword>,
    pub email_verified: bool,
    pub profile: Profile,
    pub issue_tokens: bool,
}

/// Creates a user (seed 003's server-side sign-up). A user who is not verified gets the
/// verification mail; with `issue_tokens` (verified users only) a session starts as at login.
pub async fn create_user(
    app: &App,
    tenant: &Tenant,
    caller: &Caller,
    input: NewUser,
    client: &ClientInfo,
) -> Result<(UserRecord, Option<LoggedIn>)> {
    if input.issue_tokens && !input.email_verified {
        return Err(Error::field("issue_tokens", "requires_email_verified"));
    }
    let now = Utc::now();
    let password_hash = match &input.password {
        Some(p) => Some(crypto::hash_password(p.expose()).await?),
        None => None,
    };
    let provider = if password_hash.is_some() { "password" } else { "admin" };
    let mut user = accounts::new_user(
        &tenant.id,
        &UserId::generate(),
        &input.email,
        password_hash,
        provider,
        input.email_verified,
        now,
    );
    user.set_profile(input.profile);
    if provider == "admin" {
        user.providers.clear();
    }
    let details = audit::details([("by", json!(caller.actor()))]);
    let event = audit::record(
        &app.config,
        &tenant.id,
        &user.user_id,
        EventType::UserCreatedByAdmin,
        client,
        details,
        now,
    );
    let mut link = None;
    if !input.email_verified {
        let (token, hash) = crypto::new_token();
        user.verify_token_hash = Some(hash.clone());
        let ttl = app.config.verify_token_ttl.as_secs();
        let mut record = accounts::single_use(TokenKind::VerifyEmail, &user, now, ttl);
        // The app's own backend set the password: the link vouches for it.
        record.vouches_for_password = true;
        let letter = Letter::VerifyEmail { name: user.name.clone(), ttl_seconds: ttl };
        let mail = outbox::compose(
            &app.sealer,
            &tenant.id,
            Some(&user.user_id),
            &input.email,
            &letter,
            Some(&token),
            now,
        )
        .await?;
        link = Some((hash, record, mail));
    }
    let written = app
        .store
        .create_user_by_admin(&user, &event, link.as_ref().map(|(h, t, m)| (h.as_str(), t, m)))
        .await?;
    if written == Written::ConditionFailed {
        return Err(Error::EmailTaken);
    }
    if !input.issue_tokens {
        return Ok((user, None));
    }
    // The app's backend vouches for the user it creates: a session without a second factor (a new
    // user has none to give), as a sign-in by the first factor it was made with.
    let (pair, session_id) = sessions::start(
        app,
        tenant,
        sessions::Begin {
            user: &user,
            existing: &[],
            client,
            now,
            event: EventType::LoginSucceeded,
            authn: crate::model::Authn::first(crate::model::amr::PWD, now),
            limits: &Limits::none(&tenant.id),
            superseded: Error::Conflict,
            second: None,
        },
    )
    .await?;
    Ok((user.clone(), Some(LoggedIn { pair, user, session_id })))
}

/// A user of the route's app; any other id is 404.
pub async fn user(app: &App, tenant: &Tenant, user_id: &UserId) -> Result<UserRecord> {
    app.store.user(&tenant.id, user_id).await?.ok_or(Error::NotFound)
}

pub async fn list_users(
    app: &App,
    tenant: &Tenant,
    limit: i32,
    cursor: Option<&str>,
    email_prefix: Option<&str>,
) -> Result<Page<AdminUserView>> {
    let page = app.store.users_page(&tenant.id, limit, cursor, email_prefix).await?;
    Ok(Page { items: page.items.iter().map(AdminUserView::from).collect(), next_cursor: page.next_cursor })
}

/// What a `PATCH` of a user changes.
#[derive(Default)]
pub struct UserChanges {
    pub disabled: Option<bool>,
    pub email_verified: Option<bool>,
    pub profile: Vec<(&'static str, Option<String>)>,
}

/// Disables or enables a user, marks the address verified or not, changes profile fields.
/// Disabling ends every session at once and stops any further sign-in (403 `account_disabled`
/// after a correct password); a user pending deletion cannot be disabled or enabled (409).
pub async fn update_user(
    app: &App,
    tenant: &Tenant,
    caller: &Caller,
    user_id: &UserId,
    changes: UserChanges,
    client: &ClientInfo,
) -> Result<UserRecord> {
    let current = user(app, tenant, user_id).await?;
    let now = Utc::now();
    if let Some(disable) = changes.disabled.filter(|d| *d != (current.status == UserStatus::Disabled)) {
        if current.status == UserStatus::PendingDeletion {
            return Err(Error::Conflict);
        }
        let mut update = UserUpdate::new(if disable { Guard::Active } else { Guard::Disabled });
        update.set_str("status", if disable { "disabled" } else { "active" });
        if disable {
            // No session started under the old credential can commit or rotate after this.
            update.bump_credential_version();
        }
        if !app.store.update_user_with(&tenant.id, user_id, update, now).await? {
            return Err(Error::Conflict);
        }
        let event = if disable { EventType::UserDisabled } else { EventType::UserEnabled };
        trail(app, tenant, caller, user_id, event, client).await;
    }
    if changes.disabled == Some(true) {
        // Also when the user was disabled already: a disabling whose revocation failed (503) is
        // finished by its retry.
        sessions::revoke_all(app, &tenant.id, user_id, None, client).await?;
    }
    if let Some(verified) = changes.email_verified {
        let mut update = UserUpdate::new(Guard::Exists);
        update.set_bool("email_verified", verified);
        if !app.store.update_user_with(&tenant.id, user_id, update, now).await? {
            return Err(Error::NotFound);
        }
    }
    if !changes.profile.is_empty() {
        app.store.update_profile(&tenant.id, user_id, &changes.profile, now).await?.ok_or(Error::NotFound)?;
    }
    if changes.email_verified.is_some() || !changes.profile.is_empty() {
        trail(app, tenant, caller, user_id, EventType::UserUpdatedByAdmin, client).await;
    }
    user(app, tenant, user_id).await
}

/// Erases a user at once: the account, its email lock, sessions, tokens and audit trail. The
/// address can register again.
pub async fn delete_user(
    app: &App,
    tenant: &Tenant,
    caller: &Caller,
    user_id: &UserId,
    client: &ClientInfo,
) -> Result<()> {
    let found = user(app, tenant, user_id).await?;
    // Disabled first, at a new credential version: a sign-in that races the erasure cannot commit
    // a session that would outlive the account.
    let mut stop = UserUpdate::new(Guard::Exists);
    stop.set_str("status", "disabled").bump_credential_version();
    // Its keys stop in the same write, and none can be made after it (a key is made only for an
    // active user): the erasure below cannot leave a working key behind.
    if !app.store.update_user_with(&tenant.id, user_id, stop, Utc::now()).await? {
        return Err(Error::Conflict);
    }
    app.store.erase_user(&found).await?;
    let details = audit::details([("user_id", json!(user_id)), ("by", json!(caller.actor()))]);
    audit::log_only(EventType::UserDeletedByAdmin, &tenant.id, client, &details);
    Ok(())
}

/// Ends every session of a user; how many there were.
pub async fn revoke_sessions(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    client: &ClientInfo,
) -> Result<usize> {
    user(app, tenant, user_id).await?;
    sessions::revoke_all(app, &tenant.id, user_id, None, client).await
}

/// Mails the user a password-reset link: also the way to invite a user created without a
/// password. A user who is not active gets nothing (409).
pub async fn send_password_reset(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    client: &ClientInfo,
) -> Result<()> {
    let found = user(app, tenant, user_id).await?;
    if found.status != UserStatus::Active {
        return Err(Error::Conflict);
    }
    crate::recovery::request_password_reset(app, tenant, &Email::from_stored(found.email), client).await
}

/// The app's audit events, newest first; with a user, that user's only.
pub async fn audit(
    app: &App,
    tenant: &Tenant,
    limit: i32,
    cursor: Option<&str>,
    user_id: Option<&UserId>,
) -> Result<Page<AdminAuditView>> {
    let page = match user_id {
        Some(user_id) => {
            let (records, next) = app.store.audit_page(&tenant.id, user_id, limit, cursor).await?;
            Page { items: records, next_cursor: next }
        }
        None => app.store.app_audit_page(&tenant.id, limit, cursor).await?,
    };
    Ok(Page {
        items: page.items.into_iter().map(AdminAuditView::from).collect(),
        next_cursor: page.next_cursor,
    })
}

async fn trail(
    app: &App,
    tenant: &Tenant,
    caller: &Caller,
    user_id: &UserId,
    event: EventType,
    client: &ClientInfo,
) {
    let details = audit::details([("by", json!(caller.actor()))]);
    let record = audit::record(&app.config, &tenant.id, user_id, event, client, details, Utc::now());
    app.store.put_audit_or_log(&record).await;
}
