//! The accounts a social sign-in lands on: found by identity, linked by an authoritative email,
//! or created; a user's linked identities and unlinking one; the session it starts.

use super::ProviderProfile;
use crate::App;
use crate::accounts;
use crate::audit;
use crate::audit::ClientInfo;
use crate::audit::EventType;
use crate::error::Error;
use crate::error::Result;
use crate::ids::AppId;
use crate::ids::UserId;
use crate::limits::Route;
use crate::mfa::{FirstFactor, SignIn};
use crate::model::ProviderId;
use crate::model::UserRecord;
use crate::model::UserStatus;
use crate::ratelimit::Limits;
use crate::store::IdentityOutcome;
use crate::tenant::Tenant;
use chrono::Utc;
use serde_json::json;

/// The providers linked to a user, oldest first.
pub async fn identities(
    app: &App,
    tenant: &AppId,
    user_id: &UserId,
) -> Result<Vec<crate::store::IdentityRecord>> {
    app.store.identities(tenant, user_id).await
}

/// Unlinks a provider from the user; refused (409) when it is the last way to sign in (no
/// password, no other identity).
pub async fn unlink(
    app: &App,
    tenant: &AppId,
    user_id: &UserId,
    provider: ProviderId,
    client: &ClientInfo,
) -> Result<()> {
    let user = app.store.user(tenant, user_id).await?.ok_or(Error::Unauthorized)?;
    let linked = app.store.identities(tenant, user_id).await?;
    let identity = linked.iter().find(|i| i.provider == provider.as_str()).ok_or(Error::NotFound)?;
    if user.password_hash.is_none() && linked.len() <= 1 {
        return Err(Error::Conflict);
    }
    match app.store.unlink_identity(&user, identity).await? {
        IdentityOutcome::Done => {}
        IdentityOutcome::Conflict => return Err(Error::Conflict),
    }
    trail(app, &user, EventType::IdentityUnlinked, provider, client).await;
    Ok(())
}

pub(super) fn check_status(user: &UserRecord) -> Result<()> {
    match user.status {
        UserStatus::Active => Ok(()),
        UserStatus::Disabled => Err(Error::AccountDisabled),
        UserStatus::PendingDeletion => Err(Error::AccountPendingDeletion),
    }
}

/// The account of the person the provider vouches for: a known identity's user; for a new
/// identity, an address the provider vouches for, then a new verified account or, when the app
/// links social sign-ins by email (`link_social_by_email: verified`), the account that has it.
pub async fn account(
    app: &App,
    tenant: &Tenant,
    provider: ProviderId,
    profile: &ProviderProfile,
    client: &ClientInfo,
) -> Result<UserRecord> {
    let now = Utc::now();
    let user = match app.store.identity_user(&tenant.id, provider.as_str(), &profile.subject).await? {
        Some(user_id) => app
            .store
            .user(&tenant.id, &user_id)
            .await?
            .ok_or_else(|| Error::OAuthFailed("the account no longer exists".into()))?,
        None => {
            let email = profile.email.as_deref().filter(|_| profile.email_verified).ok_or_else(|| {
                Error::OAuthFailed("the provider does not vouch for an email address".into())
            })?;
            let email = crate::domain::Email::parse(email)
                .map_err(|_| Error::OAuthFailed("the provider's email address is not usable".into()))?;
            match app.store.user_by_email(&tenant.id, email.normalized()).await? {
                None => {
                    if !tenant.settings.signup_enabled {
                        return Err(Error::Forbidden);
                    }
                    let mut user = accounts::new_user(
                        &tenant.id,
                        &UserId::generate(),
                        &email,
                        None,
                        provider.as_str(),
                        true,
                        now,
                    );
                    user.name = profile.name.clone();
                    match app
                        .store
                        .create_user_with_identity(&user, provider.as_str(), &profile.subject)
                        .await?
                    {
                        IdentityOutcome::Done => user,
                        IdentityOutcome::Conflict => return Err(Error::Conflict),
                    }
                }
                Some(existing) => {
                    // Only a provider that runs the mailbox may vouch for the account's owner:
                    // anyone else signs in and links from that session instead.
                    if tenant.settings.link_social_by_email != crate::settings::LinkByEmail::Verified
                        || !profile.authoritative_for(provider, &email)
                    {
                        return Err(Error::IdentityConflict);
                    }
                    // A disabled account, or one being deleted, gains no way in.
                    check_status(&existing)?;
                    match app.store.link_identity(&existing, provider.as_str(), &profile.subject, now).await?
                    {
                        IdentityOutcome::Done => {}
                        IdentityOutcome::Conflict => return Err(Error::Conflict),
                    }
                    trail(app, &existing, EventType::IdentityLinked, provider, client).await;
                    app.store.user(&tenant.id, &existing.user_id).await?.ok_or(Error::Conflict)?
                }
            }
        }
    };
    check_status(&user)?;
    Ok(user)
}

/// Links the identity to the signed-in user who asked for it: an identity of someone else is 409
/// `identity_conflict`; one already theirs is fine.
pub(super) async fn link_to(
    app: &App,
    tenant: &Tenant,
    provider: ProviderId,
    profile: &ProviderProfile,
    user_id: &UserId,
    client: &ClientInfo,
) -> Result<()> {
    match app.store.identity_user(&tenant.id, provider.as_str(), &profile.subject).await? {
        Some(owner) if owner == *user_id => return Ok(()),
        Some(_) => return Err(Error::IdentityConflict),
        None => {}
    }
    let user = app.store.user(&tenant.id, user_id).await?.ok_or(Error::Unauthorized)?;
    check_status(&user)?;
    match app.store.add_identity(&user, provider.as_str(), &profile.subject, false, Utc::now()).await? {
        IdentityOutcome::Done => {}
        // This user already has another identity of this provider, or the account changed.
        IdentityOutcome::Conflict => return Err(Error::Conflict),
    }
    trail(app, &user, EventType::IdentityLinked, provider, client).await;
    Ok(())
}

/// A new session for a user a provider (or a one-time code) vouched for, or (a second factor to
/// use) the second step.
pub(super) async fn start_session(
    app: &App,
    tenant: &Tenant,
    user: &UserRecord,
    client: &ClientInfo,
) -> Result<SignIn> {
    let account = app.store.account(&tenant.id, &user.user_id).await?.ok_or(Error::Conflict)?;
    crate::mfa::sign_in(
        app,
        tenant,
        FirstFactor {
            account: &account,
            client,
            event: EventType::SocialLogin,
            method: crate::model::amr::FED,
            // The provider proved the person: failed password sign-ins are forgiven, as by a magic link.
            limits: &Limits::forgiving(&tenant.id, &user.email_normalized, Route::Login),
            superseded: Error::Conflict,
            // In cookie mode the second step belongs to the browser the answer goes to.
            bind_browser: app.config.refresh_token_cookie,
        },
    )
    .await
}

pub(super) async fn trail(
    app: &App,
    user: &UserRecord,
    event: EventType,
    provider: ProviderId,
    client: &ClientInfo,
) {
    let details = audit::details([("provider", json!(provider.as_str()))]);
    let record =
        audit::record(&app.config, &user.tenant_id, &user.user_id, event, client, details, Utc::now());
    app.store.put_audit_or_log(&record).await;
}
