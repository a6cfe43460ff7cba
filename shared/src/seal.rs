//! Secrets the table holds sealed by a KMS key: the outbox's link tokens (`OutboxKey`, opened only
//! by the mailer) and the apps' identity-provider secrets (`ProviderKey`). Each ciphertext is bound
//! by KMS's encryption context to what it is for (purpose, tenant, provider): one copied into
//! another item, another app or another purpose does not open.

use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;

use crate::aws::LazyClient;
use crate::error::{Error, Result};

/// The encryption context of a ciphertext: pairs KMS checks on decryption.
pub type Context<'a> = [(&'a str, &'a str)];

/// Seals and opens with one KMS key.
#[derive(Clone, Debug)]
pub struct Sealer {
    client: LazyClient<Client>,
    key_id: String,
    /// The template's name of the key, for the IAM check.
    resource: &'static str,
    calls: crate::metrics::CallLog,
}

impl Sealer {
    pub fn new(sdk: &aws_config::SdkConfig, key_id: impl Into<String>, resource: &'static str) -> Self {
        Sealer { client: LazyClient::new(sdk), key_id: key_id.into(), resource, calls: Default::default() }
    }

    fn client(&self) -> &Client {
        self.client.get(|sdk| {
            Client::from_conf(
                aws_sdk_kms::config::Builder::from(sdk)
                    .interceptor(self.calls.interceptor())
                    .interceptor(crate::iam::kms(self.resource))
                    .build(),
            )
        })
    }

    /// Every KMS call this sealer's client has sent.
    pub fn calls(&self) -> &crate::metrics::CallLog {
        &self.calls
    }

    /// The base64 of the ciphertext of `plain`, bound to `context`.
    pub async fn seal(&self, context: &Context<'_>, plain: &str) -> Result<String> {
        let mut request = self.client().encrypt().key_id(&self.key_id).plaintext(Blob::new(plain.as_bytes()));
        for (k, v) in context {
            request = request.encryption_context(*k, *v);
        }
        let out = request.send().await.map_err(|e| Error::dependency("KMS", e))?;
        let blob = out.ciphertext_blob.ok_or_else(|| Error::Internal("KMS returned no ciphertext".into()))?;
        Ok(STANDARD.encode(blob.as_ref()))
    }

    /// What `seal` sealed, under the same context.
    pub async fn open(&self, context: &Context<'_>, sealed: &str) -> Result<SecretString> {
        let blob =
            STANDARD.decode(sealed).map_err(|_| Error::Internal("a sealed value is not base64".into()))?;
        let mut request = self.client().decrypt().key_id(&self.key_id).ciphertext_blob(Blob::new(blob));
        for (k, v) in context {
            request = request.encryption_context(*k, *v);
        }
        let out = request.send().await.map_err(|e| Error::dependency("KMS", e))?;
        let plain = out.plaintext.ok_or_else(|| Error::Internal("KMS returned no plaintext".into()))?;
        String::from_utf8(plain.into_inner())
            .map(SecretString::from)
            .map_err(|_| Error::Internal("a sealed value is not text".into()))
    }
}
