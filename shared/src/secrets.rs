//! Secrets read by id other than the key ring (the identity providers' client secrets), each kept
//! for `KEY_CACHE_SECONDS` per container.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;

use crate::aws::LazyClient;
use crate::error::{Error, Result};

pub struct Secrets {
    client: LazyClient<Client>,
    max_age: Duration,
    cached: Mutex<HashMap<String, (Instant, String)>>,
}

impl Secrets {
    pub fn new(sdk: &aws_config::SdkConfig, max_age: Duration) -> Secrets {
        Secrets { client: LazyClient::new(sdk), max_age, cached: Mutex::new(HashMap::new()) }
    }

    /// The secret's string value (never logged, never in an error).
    pub async fn string(&self, secret_id: &str) -> Result<String> {
        crate::iam::need_secret(secret_id);
        if let Some((at, value)) = self.cached.lock().ok().and_then(|c| c.get(secret_id).cloned())
            && at.elapsed() < self.max_age
        {
            return Ok(value);
        }
        let client = self.client.get(|sdk| {
            Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(sdk)
                    .interceptor(crate::iam::secrets_manager())
                    .build(),
            )
        });
        let out = client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| Error::dependency("Secrets Manager", e))?;
        let value = out.secret_string().unwrap_or_default().to_owned();
        if let Ok(mut c) = self.cached.lock() {
            c.insert(secret_id.to_owned(), (Instant::now(), value.clone()));
        }
        Ok(value)
    }
}
