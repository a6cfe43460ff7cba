//! Everything a function needs, built once per cold start and shared by every invocation of that
//! container: configuration, AWS clients (with their connection pools) and the signing keys.
//!
//! Each AWS client is built on its first use rather than here, and only from the code that uses
//! it: a function that never sends mail never references the SES client's constructor, so the
//! linker leaves the SES SDK out of its binary (likewise DynamoDB and Secrets Manager for the
//! functions that touch neither). See README "Performance".

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use std::sync::OnceLock;

use crate::config::{Config, ConfigError};
use crate::keys::{Keys, PublicKeys, Verifier};
use crate::mailer::Mailer;
use crate::outbox::Sealer;
use crate::store::Store;
use std::sync::Arc;

pub struct App {
    pub config: Config,
    pub store: Store,
    pub mailer: Mailer,
    /// Seals link tokens for the outbox (flows) and opens them (the mailer).
    pub sealer: Sealer,
    /// The private ring (Secrets Manager): only the functions that sign touch it.
    pub keys: Keys,
    /// The public keys (the table): what every function that verifies uses.
    pub public_keys: PublicKeys,
}

impl App {
    /// Reads the configuration and the SDK settings from the Lambda environment (region,
    /// credentials, and `AWS_ENDPOINT_URL` when pointed at moto). No network call happens here.
    pub fn from_env() -> Result<App, ConfigError> {
        let config = Config::from_env()?;
        let sdk = sdk_config(&config, |name| std::env::var(name).ok())?;
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
            sealer: Sealer::new(dynamodb, config.outbox_key_id.clone()),
            keys: Keys::new(secrets, config.signing_key_secret_id.clone(), config.key_cache),
            public_keys: PublicKeys::new(config.key_cache),
            config,
        }
    }

    pub fn new(config: Config, sdk: &SdkConfig) -> App {
        App::with_sdk_configs(config, sdk, sdk, sdk)
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

/// An AWS client built on its first use from the container's SDK configuration, then shared by
/// every invocation. The constructor is the closure passed to `get`, so it is linked only into the
/// functions that call the client (module documentation).
#[derive(Clone, Debug)]
pub(crate) struct LazyClient<C> {
    sdk: SdkConfig,
    client: OnceLock<C>,
}

impl<C> LazyClient<C> {
    pub(crate) fn new(sdk: &SdkConfig) -> Self {
        LazyClient { sdk: sdk.clone(), client: OnceLock::new() }
    }

    pub(crate) fn get(&self, build: impl FnOnce(&SdkConfig) -> C) -> &C {
        self.client.get_or_init(|| build(&self.sdk))
    }
}

/// The SDK configuration a function runs with, from the variables Lambda sets: `AWS_REGION`,
/// the execution role's `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, and
/// `AWS_ENDPOINT_URL` when it is set (moto in `make dev` and the tests).
///
/// Deliberately not `aws_config::load_defaults`: its provider chain (profile files, SSO, STS web
/// identity, ECS, IMDS) looks for things a Lambda container never has, and referencing it links
/// three more SDK clients into every function. Every call has a deadline, so a hung dependency
/// turns into a 503 within seconds instead of running the function into its Lambda timeout.
pub fn sdk_config(config: &Config, env: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, ConfigError> {
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| ConfigError {
            name: "AWS_REGION",
            problem: "is not set (Lambda sets it; locally, set it next to AWS_ENDPOINT_URL)".into(),
        })?;
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(2).min(config.aws_timeout))
        .operation_attempt_timeout(config.aws_timeout)
        .operation_timeout(config.aws_timeout * 2)
        .build();
    let mut sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()))
        .retry_config(RetryConfig::standard())
        .timeout_config(timeouts);
    if let Some(url) = env("AWS_ENDPOINT_URL").filter(|u| !u.trim().is_empty()) {
        sdk = sdk.endpoint_url(url);
    }
    Ok(sdk.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn region_and_endpoint_come_from_the_environment() {
        let config = Config::defaults();
        let sdk = sdk_config(
            &config,
            env(&[("AWS_REGION", "eu-west-1"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]),
        )
        .unwrap();
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:5000"));
        let sdk = sdk_config(&config, env(&[("AWS_DEFAULT_REGION", "us-east-2")])).unwrap();
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("us-east-2"));
        assert_eq!(sdk.endpoint_url(), None);
    }

    #[test]
    fn a_missing_region_stops_the_cold_start_with_its_name() {
        let err = sdk_config(&Config::defaults(), env(&[("AWS_REGION", " ")])).unwrap_err();
        assert_eq!(err.name, "AWS_REGION");
    }
}
