//! The console's flows: a developer (a user of the `console` app) creates, reads, changes and
//! deletes their apps. Another developer's app, a deleted app and an app that never existed are
//! all the same 404, so that app ids cannot be enumerated.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::error::{Error, Result};
use crate::ids::{AppId, KeyId, UserId};
use crate::model::{AppRecord, AppStatus, ProviderId, ProviderRecord, SecretKeyRecord};
use crate::settings::AppSettings;
use crate::store::AppCreated;
use crate::tokens::Identity;

/// An app as the console shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AppView {
    pub id: AppId,
    pub name: String,
    pub owner: UserId,
    pub created_at: DateTime<Utc>,
    /// Its issuer: the base URL of its routes, discovery document and tokens' `iss`.
    pub issuer: String,
    pub settings: AppSettings,
}

impl AppView {
    fn of(app: &App, record: AppRecord) -> AppView {
        AppView {
            issuer: format!("{}/apps/{}", app.config.jwt_issuer, record.app_id),
            id: record.app_id,
            name: record.settings.name.clone(),
            owner: record.owner,
            created_at: record.created_at,
            settings: record.settings,
        }
    }
}

/// Creates an app owned by the caller: `name` and any settings, the rest as the environment sets
/// them for `default`.
pub async fn create_app(
    app: &App,
    developer: &Identity,
    fields: &Map<String, Value>,
    client: &ClientInfo,
) -> Result<AppView> {
    if !fields.contains_key("name") {
        return Err(Error::field("name", "required"));
    }
    // The `default` app's resource servers are its own, not a new app's.
    let mut settings =
        AppSettings { signup_enabled: true, oauth_resources: Vec::new(), ..app.config.default_app.clone() };
    settings.apply(fields).map_err(Error::Validation)?;
    settings.check_lifetimes().map_err(Error::Validation)?;
    settings.check_resources(&app.config.jwt_issuer, &app.config.jwt_audience).map_err(Error::Validation)?;
    let now = Utc::now();
    let record = AppRecord {
        app_id: AppId::generate(),
        owner: developer.user_id.clone(),
        status: AppStatus::Active,
        settings,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    match app.store.create_app(&record, app.config.max_apps_per_developer).await? {
        AppCreated::Done => {}
        AppCreated::LimitReached => return Err(Error::Conflict),
        AppCreated::OwnerInactive => return Err(Error::Unauthorized),
    }
    trail(app, developer, EventType::AppCreated, &record.app_id, client).await;
    Ok(AppView::of(app, record))
}

pub async fn list_apps(app: &App, developer: &Identity) -> Result<Vec<AppView>> {
    let apps = app.store.apps_of(&developer.user_id).await?;
    Ok(apps.into_iter().map(|a| AppView::of(app, a)).collect())
}

/// The caller's own active app; anything else is 404.
pub(crate) async fn owned(app: &App, developer: &Identity, id: &AppId) -> Result<AppRecord> {
    match app.store.app(id).await? {
        Some(a) if a.owner == developer.user_id && a.status == AppStatus::Active => Ok(a),
        _ => Err(Error::NotFound),
    }
}

pub async fn get_app(app: &App, developer: &Identity, id: &AppId) -> Result<AppView> {
    owned(app, developer, id).await.map(|a| AppView::of(app, a))
}

/// Changes the settings a request names; the others stay.
pub async fn update_app(
    app: &App,
    developer: &Identity,
    id: &AppId,
    fields: &Map<String, Value>,
    client: &ClientInfo,
) -> Result<AppView> {
    let mut record = owned(app, developer, id).await?;
    record.settings.apply(fields).map_err(Error::Validation)?;
    record.settings.check_lifetimes().map_err(Error::Validation)?;
    record
        .settings
        .check_resources(&app.config.jwt_issuer, &app.config.jwt_audience)
        .map_err(Error::Validation)?;
    record.updated_at = Utc::now();
    if !app.store.update_app(&record).await? {
        // Deleted (or handed over) between the read and the write.
        return Err(Error::NotFound);
    }
    app.forget_tenant(id);
    trail(app, developer, EventType::AppUpdated, id, client).await;
    Ok(AppView::of(app, record))
}

/// Deletes an app: every route of it answers 404 from now on (within `APP_CACHE_SECONDS` in
/// other containers that hold its settings). Its record stays as a tombstone.
pub async fn delete_app(app: &App, developer: &Identity, id: &AppId, client: &ClientInfo) -> Result<()> {
    owned(app, developer, id).await?;
    if !app.store.delete_app(id, &developer.user_id, Utc::now()).await? {
        return Err(Error::NotFound);
    }
    app.forget_tenant(id);
    trail(app, developer, EventType::AppDeleted, id, client).await;
    Ok(())
}

// ----- secret keys -----------------------------------------------------------------------------------

/// The prefix that makes a secret key recognisable (in logs, in code review, to secret scanners).
pub const SECRET_KEY_PREFIX: &str = "sk_";

/// A new secret key, with the secret: the only time it is shown.
#[derive(Debug, Serialize)]
pub struct NewSecretKey {
    pub id: KeyId,
    pub label: String,
    pub key: String,
    pub hint: String,
    pub created_at: DateTime<Utc>,
}

/// A secret key as lists show it.
#[derive(Debug, Serialize)]
pub struct SecretKeyView {
    pub id: KeyId,
    pub label: String,
    pub hint: String,
    pub created_at: DateTime<Utc>,
}

impl From<SecretKeyRecord> for SecretKeyView {
    fn from(k: SecretKeyRecord) -> Self {
        SecretKeyView { id: k.key_id, label: k.label, hint: k.hint, created_at: k.created_at }
    }
}

/// Creates a secret key for one of the caller's apps: 256 random bits behind `sk_`, stored only
/// as its SHA-256 (a key this random needs no slow hash: nothing can be guessed from it).
pub async fn create_secret_key(
    app: &App,
    developer: &Identity,
    id: &AppId,
    label: Option<String>,
    client: &ClientInfo,
) -> Result<NewSecretKey> {
    owned(app, developer, id).await?;
    let created = issue_secret_key(app, id, label, Some(&developer.user_id)).await?;
    trail(app, developer, EventType::SecretKeyCreated, id, client).await;
    Ok(created)
}

/// Makes and stores a secret key of an app (its owner's, or the operator's for `default`).
pub async fn issue_secret_key(
    app: &App,
    id: &AppId,
    label: Option<String>,
    owner: Option<&UserId>,
) -> Result<NewSecretKey> {
    let (random, _) = crate::crypto::new_token();
    let key = format!("{SECRET_KEY_PREFIX}{random}");
    let hint = format!("{SECRET_KEY_PREFIX}...{}", &random[random.len() - 4..]);
    let record = SecretKeyRecord {
        key_id: KeyId::generate(),
        app_id: id.clone(),
        label: label.unwrap_or_default(),
        hint: hint.clone(),
        hash: crate::crypto::token_hash(&key),
        created_by: owner.cloned(),
        created_at: Utc::now(),
    };
    if !app.store.create_secret_key(&record, owner).await? {
        return Err(Error::NotFound);
    }
    Ok(NewSecretKey { id: record.key_id, label: record.label, key, hint, created_at: record.created_at })
}

pub async fn list_secret_keys(app: &App, developer: &Identity, id: &AppId) -> Result<Vec<SecretKeyView>> {
    owned(app, developer, id).await?;
    Ok(app.store.secret_keys(id).await?.into_iter().map(SecretKeyView::from).collect())
}

/// Revokes a key: the next request that presents it is refused.
pub async fn revoke_secret_key(
    app: &App,
    developer: &Identity,
    id: &AppId,
    key_id: &KeyId,
    client: &ClientInfo,
) -> Result<()> {
    owned(app, developer, id).await?;
    if !app.store.revoke_secret_key(id, key_id).await? {
        return Err(Error::NotFound);
    }
    trail(app, developer, EventType::SecretKeyRevoked, id, client).await;
    Ok(())
}

// ----- identity providers ----------------------------------------------------------------------

/// A provider as the console shows it: never its secret.
#[derive(Debug, Serialize)]
pub struct ProviderView {
    pub provider: ProviderId,
    pub configured: bool,
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_client_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<ProviderRecord> for ProviderView {
    fn from(r: ProviderRecord) -> Self {
        ProviderView {
            provider: r.provider,
            configured: true,
            client_id: Some(r.client_id),
            extra_client_ids: r.extra_client_ids,
            team_id: r.team_id,
            key_id: r.key_id,
            updated_at: Some(r.updated_at),
        }
    }
}

/// What a developer sets for one provider of their app (parsed and checked at the edge).
pub struct ProviderInput {
    pub client_id: String,
    pub extra_client_ids: Vec<String>,
    /// The client secret (Google, GitHub) or the PKCS#8 PEM key (Apple).
    pub secret: secrecy::SecretString,
    /// Apple's team id and key id.
    pub team_id: Option<String>,
    pub key_id: Option<String>,
}

/// Every provider the service supports, each with the app's configuration or none.
pub async fn list_providers(app: &App, developer: &Identity, id: &AppId) -> Result<Vec<ProviderView>> {
    owned(app, developer, id).await?;
    let mut configured = app.store.providers(id).await?;
    Ok(ProviderId::ALL
        .into_iter()
        .map(|provider| match configured.iter().position(|r| r.provider == provider) {
            Some(i) => ProviderView::from(configured.swap_remove(i)),
            None => ProviderView {
                provider,
                configured: false,
                client_id: None,
                extra_client_ids: Vec::new(),
                team_id: None,
                key_id: None,
                updated_at: None,
            },
        })
        .collect())
}

/// Configures (or reconfigures) a provider of the caller's app: the secret is sealed by the
/// provider key, bound to the app and the provider, before anything is stored.
pub async fn put_provider(
    app: &App,
    developer: &Identity,
    id: &AppId,
    provider: ProviderId,
    input: ProviderInput,
    client: &ClientInfo,
) -> Result<ProviderView> {
    use secrecy::ExposeSecret;
    owned(app, developer, id).await?;
    let context = crate::social::sealing_context(id, provider);
    let sealed_secret = app.provider_sealer.seal(&context, input.secret.expose_secret()).await?;
    let record = ProviderRecord {
        app_id: id.clone(),
        provider,
        client_id: input.client_id,
        extra_client_ids: input.extra_client_ids,
        team_id: input.team_id,
        key_id: input.key_id,
        sealed_secret,
        updated_at: Utc::now(),
    };
    if !app.store.put_provider(&record, &developer.user_id).await? {
        return Err(Error::NotFound);
    }
    provider_trail(app, developer, EventType::ProviderConfigured, id, provider, client).await;
    Ok(ProviderView::from(record))
}

/// Removes a provider of the caller's app: its sign-ins stop at once (a started one fails at its
/// callback). The identities linked through it stay, so that configuring it again finds them.
pub async fn delete_provider(
    app: &App,
    developer: &Identity,
    id: &AppId,
    provider: ProviderId,
    client: &ClientInfo,
) -> Result<()> {
    owned(app, developer, id).await?;
    if !app.store.delete_provider(id, provider).await? {
        return Err(Error::NotFound);
    }
    provider_trail(app, developer, EventType::ProviderRemoved, id, provider, client).await;
    Ok(())
}

async fn provider_trail(
    app: &App,
    developer: &Identity,
    event: EventType,
    id: &AppId,
    provider: ProviderId,
    client: &ClientInfo,
) {
    let details = audit::details([("app_id", json!(id)), ("provider", json!(provider.as_str()))]);
    write_trail(app, developer, event, details, client).await;
}

/// The developer's audit event of a console action, written after the action (which it does not
/// guard): a failed write is logged, the action stands.
async fn trail(app: &App, developer: &Identity, event: EventType, id: &AppId, client: &ClientInfo) {
    write_trail(app, developer, event, audit::details([("app_id", json!(id))]), client).await;
}

pub(crate) async fn write_trail(
    app: &App,
    developer: &Identity,
    event: EventType,
    details: Map<String, Value>,
    client: &ClientInfo,
) {
    let record = audit::record(
        &app.config,
        &developer.tenant_id,
        &developer.user_id,
        event,
        client,
        details,
        Utc::now(),
    );
    app.store.put_audit_or_log(&record).await;
}

/// Erases the data of every deleted app (the scheduled purge): returns (apps finished, users
/// erased). An app not finished in this run stays in the erasure index for the next.
pub async fn erase_deleted_apps(app: &App, now: DateTime<Utc>) -> Result<(usize, usize)> {
    let (mut finished, mut users) = (0, 0);
    for id in app.store.apps_to_erase().await? {
        // One app that fails (a dependency, an item that does not decode) must not hold back the
        // others: it is logged and tried again on the next run.
        match app.store.erase_app(&id, now).await {
            Ok((erased, done)) => {
                users += erased;
                if done {
                    finished += 1;
                    tracing::info!(app_id = id.as_str(), users = erased, "deleted app erased");
                }
            }
            Err(e) => {
                tracing::error!(app_id = id.as_str(), error = %e, "deleted app not erased; retried next run")
            }
        }
    }
    Ok((finished, users))
}
