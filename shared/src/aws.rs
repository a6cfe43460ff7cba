//! The AWS side of a cold start: the SDK configuration a function runs with, and clients built on
//! first use. Nothing here knows the service's own types, so every client module (store, keys,
//! mailer, outbox) can use it without reaching up to `App`.

use std::sync::OnceLock;
use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;

use crate::error::ConfigError;

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
/// `timeout` bounds each attempt (`AWS_TIMEOUT_SECONDS`).
pub fn sdk_config(timeout: Duration, env: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, ConfigError> {
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| ConfigError {
            name: "AWS_REGION",
            problem: "is not set (Lambda sets it; locally, set it next to AWS_ENDPOINT_URL)".into(),
        })?;
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2).min(timeout))
        .operation_attempt_timeout(timeout)
        .operation_timeout(timeout * 2)
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
        let timeout = Duration::from_secs(5);
        let sdk = sdk_config(
            timeout,
            env(&[("AWS_REGION", "eu-west-1"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]),
        )
        .unwrap();
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:5000"));
        let sdk = sdk_config(timeout, env(&[("AWS_DEFAULT_REGION", "us-east-2")])).unwrap();
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("us-east-2"));
        assert_eq!(sdk.endpoint_url(), None);
    }

    #[test]
    fn a_missing_region_stops_the_cold_start_with_its_name() {
        let err = sdk_config(Duration::from_secs(5), env(&[("AWS_REGION", " ")])).unwrap_err();
        assert_eq!(err.name, "AWS_REGION");
    }
}
