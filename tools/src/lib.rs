//! `authctl`: the operator's tool. It runs moto for local development and tests, creates what the
//! service needs in an AWS account or in moto (the table from `infra/template.yaml`, the signing-key
//! secret with a fresh key, the mail identity), and manages signing keys. The same code talks to moto
//! and to AWS: only the endpoint differs.

pub mod bootstrap;
pub mod docs;
pub mod iam;
pub mod moto;
pub mod outbox;
pub mod standins;
pub mod template;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// The repository root (where `Cargo.toml` of the workspace is).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(|p| p.to_path_buf()).unwrap_or_default()
}

/// An SDK configuration for a local endpoint (moto): fixed region and dummy credentials, so that no
/// AWS profile of the developer is ever used by accident.
pub async fn local_sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "local"))
        .load()
        .await
}
