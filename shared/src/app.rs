//! Everything a function needs, built once per cold start and shared by every invocation of that
//! container: configuration, AWS clients (with their connection pools) and the signing keys.

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

use crate::config::{Config, ConfigError};
use crate::keys::Keys;
use crate::mailer::Mailer;
use crate::store::Store;

pub struct App {
    pub config: Config,
    pub store: Store,
    pub mailer: Mailer,
    pub keys: Keys,
}

impl App {
    /// Reads the configuration and builds the clients from the Lambda environment (region,
    /// credentials, and `AWS_ENDPOINT_URL` when pointed at moto). No network call happens here.
    pub async fn from_env() -> Result<App, ConfigError> {
        let config = Config::from_env()?;
        let sdk = sdk_config(&config).await;
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
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(ses), config.mail_from.clone()),
            keys: Keys::new(
                aws_sdk_secretsmanager::Client::new(secrets),
                config.signing_key_secret_id.clone(),
                config.key_cache,
            ),
            config,
        }
    }

    pub fn new(config: Config, sdk: &SdkConfig) -> App {
        App {
            store: Store::new(sdk, config.table_name.clone()),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(sdk), config.mail_from.clone()),
            keys: Keys::new(
                aws_sdk_secretsmanager::Client::new(sdk),
                config.signing_key_secret_id.clone(),
                config.key_cache,
            ),
            config,
        }
    }
}

/// The shared SDK configuration. Every call has a deadline, so a hung dependency turns into a 503
/// within seconds instead of running the function into its Lambda timeout.
pub async fn sdk_config(config: &Config) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(2).min(config.aws_timeout))
        .operation_attempt_timeout(config.aws_timeout)
        .operation_timeout(config.aws_timeout * 2)
        .build();
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts).load().await
}
