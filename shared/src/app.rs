//! Everything a function needs, built once per cold start and shared by every invocation of that
//! container: configuration, AWS clients (with their connection pools) and the signing keys.
//!
//! Each AWS client is built on its first use rather than here, and only from the code that uses
//! it: a function that never sends mail never references the SES client's constructor, so the
//! linker leaves the SES SDK out of its binary (likewise DynamoDB and Secrets Manager for the
//! functions that touch neither). See `docs/performance.md`.

use aws_config::SdkConfig;

pub use crate::aws::sdk_config;

use crate::config::{Config, ConfigError};
use crate::ids::AppId;
use crate::keys::{Keys, PublicKeys, Verifier};
use crate::mailer::Mailer;
use crate::outbox::Sealer;
use crate::store::Store;
use crate::tenant::Tenant;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::model::AppStatus;

pub struct App {
    pub config: Config,
    pub store: Store,
    pub mailer: Mailer,
    /// Seals link tokens for the outbox (flows) and opens them (the mailer).
    pub sealer: Sealer,
    /// Seals the identity-provider secrets apps configure (the console) and opens them (the
    /// social sign-in's code exchanges).
    pub provider_sealer: Sealer,
    /// The private ring (Secrets Manager): only the functions that sign touch it.
    pub keys: Keys,
    /// The public keys (the table): what every function that verifies uses.
    pub public_keys: PublicKeys,
    /// Other secrets read by id (the identity providers' client secrets).
    pub secrets: crate::secrets::Secrets,
    /// The apps that always exist, resolved once per cold start.
    default_tenant: Arc<Tenant>,
    console_tenant: Arc<Tenant>,
    /// Created apps read from the table, each kept for `APP_CACHE_SECONDS`: a warm function serves
    /// an app's requests without reading its settings each time.
    apps: Mutex<HashMap<AppId, (Instant, Arc<Tenant>)>>,
}

impl App {
    /// Reads the configuration and the SDK settings from the Lambda environment (region,
    /// credentials, and `AWS_ENDPOINT_URL` when pointed at moto). No network call happens here.
    pub fn from_env() -> Result<App, ConfigError> {
        let config = Config::from_env()?;
        let sdk = sdk_config(config.aws_timeout, |name| std::env::var(name).ok())?;
        Ok(App::new(config, &sdk))
    }

    /// An app whose clients each have their own SDK configuration: tests point one dependency at
    /// a dead endpoint to watch the service fail closed while the others work.
    pub fn with_sdk_configs(
        config: Config,
        dynamodb: &SdkConfig,
        ses: &SdkConfig,
        secrets: &SdkConfig,
    ) -> App {
        App {
            store: Store::new(dynamodb, config.table_name.clone()),
            mailer: Mailer::new(ses, config.mail_from.clone()),
            sealer: Sealer::new(dynamodb, config.outbox_key_id.clone(), crate::iam::resource::OUTBOX_KEY),
            provider_sealer: Sealer::new(
                dynamodb,
                config.social.provider_key_id.clone(),
                crate::iam::resource::PROVIDER_KEY,
            ),
            keys: Keys::new(secrets, config.signing_key_secret_id.clone(), config.key_cache),
            public_keys: PublicKeys::new(config.key_cache),
            secrets: {
                if let Some(id) = &config.social.secret_id {
                    crate::iam::name_secret(id, crate::iam::resource::SOCIAL_SECRET);
                }
                crate::secrets::Secrets::new(secrets, config.key_cache)
            },
            default_tenant: Arc::new(Tenant::default_app(&config)),
            console_tenant: Arc::new(Tenant::console(&config)),
            apps: Mutex::new(HashMap::new()),
            config,
        }
    }

    pub fn new(config: Config, sdk: &SdkConfig) -> App {
        App::with_sdk_configs(config, sdk, sdk, sdk)
    }

    /// The app an id names, with its settings; 404 `not_found` for an app that does not exist.
    pub async fn tenant(&self, id: &AppId) -> crate::Result<Arc<Tenant>> {
        match id.as_str() {
            AppId::DEFAULT => Ok(self.default_tenant.clone()),
            AppId::CONSOLE => Ok(self.console_tenant.clone()),
            _ => {
                crate::iam::need_app_read();
                if let Some(tenant) = self.cached_tenant(id) {
                    return Ok(tenant);
                }
                let record = self.store.app(id).await?;
                let Some(record) = record.filter(|a| a.status == AppStatus::Active) else {
                    return Err(crate::Error::NotFound);
                };
                let tenant = Arc::new(Tenant::of_app(&self.config, record));
                if let Ok(mut apps) = self.apps.lock() {
                    apps.insert(id.clone(), (Instant::now(), tenant.clone()));
                }
                Ok(tenant)
            }
        }
    }

    fn cached_tenant(&self, id: &AppId) -> Option<Arc<Tenant>> {
        let apps = self.apps.lock().ok()?;
        let (at, tenant) = apps.get(id)?;
        (at.elapsed() < self.config.app_cache).then(|| tenant.clone())
    }

    /// Forgets a cached app, so that the next request reads its settings anew (after this
    /// container changed or deleted it).
    pub fn forget_tenant(&self, id: &AppId) {
        if let Ok(mut apps) = self.apps.lock() {
            apps.remove(id);
        }
    }

    /// The `default` app, for the work that runs outside any request (the purge, `authctl`).
    pub fn default_tenant(&self) -> Arc<Tenant> {
        self.default_tenant.clone()
    }

    /// The public keys that should know `kid`: the cached ones, or the table's item read anew
    /// (when none are cached, they are stale, or `kid` is new to them). A failed read keeps
    /// serving keys already held; with none it is an error (503).
    pub async fn verifier(&self, kid: Option<&str>) -> crate::Result<Arc<Verifier>> {
        if let Some(verifier) = self.public_keys.cached_for(kid).await {
            return Ok(verifier);
        }
        match self.store.public_keys().await {
            Ok(set) => self.public_keys.install(set).await,
            Err(e) => match self.public_keys.stale().await {
                Some(verifier) => {
                    tracing::warn!(error = %e, "public keys could not be re-read; keeping the cached ones");
                    Ok(verifier)
                }
                None => Err(e),
            },
        }
    }
}
