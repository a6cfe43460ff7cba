//! Creates what the service needs, idempotently: the table (from `infra/template.yaml`), the
//! signing-key secret holding a fresh key, and the mail sender identity.

use anyhow::{Context, Result, anyhow};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use chrono::Utc;
use serde_yaml::Value;
use shared::keys::{KeyAlgorithm, KeySetDocument, StoredKey};

/// Creates the table as the template defines it (keys, GSIs, TTL attribute), unless it exists.
pub async fn ensure_table(sdk: &SdkConfig, table_name: &str, template: &Value) -> Result<()> {
    let def = crate::template::table(template)?;
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let key_schema = |v: &Value| -> Result<Vec<KeySchemaElement>> {
        v.as_sequence()
            .ok_or_else(|| anyhow!("KeySchema is not a list"))?
            .iter()
            .map(|k| {
                let key_type = match k["KeyType"].as_str() {
                    Some("HASH") => KeyType::Hash,
                    Some("RANGE") => KeyType::Range,
                    other => return Err(anyhow!("unknown KeyType {other:?}")),
                };
                Ok(KeySchemaElement::builder()
                    .attribute_name(k["AttributeName"].as_str().unwrap_or_default())
                    .key_type(key_type)
                    .build()?)
            })
            .collect()
    };
    let attributes = def["AttributeDefinitions"]
        .as_sequence()
        .ok_or_else(|| anyhow!("AttributeDefinitions is not a list"))?
        .iter()
        .map(|a| {
            Ok(AttributeDefinition::builder()
                .attribute_name(a["AttributeName"].as_str().unwrap_or_default())
                .attribute_type(ScalarAttributeType::from(a["AttributeType"].as_str().unwrap_or("S")))
                .build()?)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut request = client
        .create_table()
        .table_name(table_name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&def["KeySchema"])?));
    if let Some(view) = def["StreamSpecification"]["StreamViewType"].as_str() {
        request = request.stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::from(view))
                .build()?,
        );
    }
    for gsi in def["GlobalSecondaryIndexes"].as_sequence().into_iter().flatten() {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(gsi["IndexName"].as_str().unwrap_or_default())
                .set_key_schema(Some(key_schema(&gsi["KeySchema"])?))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(()),
        Err(e) => {
            return Err(anyhow!(aws_sdk_dynamodb::error::DisplayErrorContext(e)))
                .context("creating the table");
        }
    }
    if let Some(ttl) = def["TimeToLiveSpecification"]["AttributeName"].as_str() {
        client
            .update_time_to_live()
            .table_name(table_name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().attribute_name(ttl).enabled(true).build()?,
            )
            .send()
            .await
            .map_err(|e| anyhow!(aws_sdk_dynamodb::error::DisplayErrorContext(e)))
            .context("enabling TTL")?;
    }
    Ok(())
}

/// Publishes the public half of a key set in the table, where the verifying functions read it.
async fn publish(sdk: &SdkConfig, table: &str, doc: &KeySetDocument) -> Result<()> {
    let ring = shared::keys::KeyRing::from_document(doc).map_err(|e| anyhow!(e.to_string()))?;
    shared::store::Store::new(sdk, table)
        .put_public_keys(&ring.public_set(Utc::now()))
        .await
        .map_err(|e| anyhow!("{e}: {:?}", std::error::Error::source(&e).map(|s| s.to_string())))
        .context("publishing the public keys in the table")
}

/// Makes sure the secret holds a usable key set: creates the secret with one fresh key when it does
/// not exist, or puts one when it exists without keys (as CloudFormation creates it). A secret that
/// already holds keys is left alone. Either way its public half is (re)published in the table, so
/// that a deployment whose table lacks it (a new table, or one from before it existed) gets it.
/// Returns whether a key was created.
pub async fn ensure_signing_key(
    sdk: &SdkConfig,
    secret_id: &str,
    table: &str,
    alg: KeyAlgorithm,
) -> Result<bool> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let current = client.get_secret_value().secret_id(secret_id).send().await;
    let existing = match current {
        Ok(out) => Some(out.secret_string().unwrap_or_default().to_owned()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => None,
        Err(e) => {
            return Err(anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
                .context("reading the signing-key secret");
        }
    };
    if let Some(json) = &existing {
        if let Ok(doc) = serde_json::from_str::<KeySetDocument>(json) {
            if !doc.keys.is_empty() {
                publish(sdk, table, &doc).await?;
                return Ok(false);
            }
        } else if !json.trim().is_empty() {
            return Err(anyhow!(
                "secret {secret_id} holds something that is not a key set; refusing to overwrite it"
            ));
        }
    }
    let key = StoredKey::generate(alg, Utc::now()).map_err(|e| anyhow!(e.to_string()))?;
    let doc = KeySetDocument { current_kid: key.kid.clone(), keys: vec![key] };
    let json = serde_json::to_string(&doc)?;
    // The ring must load before it is stored; its public half is published before the secret
    // holds it, so that no token can be signed by a key the verifiers cannot find.
    shared::keys::KeyRing::from_json(&json).map_err(|e| anyhow!(e.to_string()))?;
    publish(sdk, table, &doc).await?;
    let mut exists = existing.is_some();
    if !exists {
        match client
            .create_secret()
            .name(secret_id)
            .description("JWT signing keys of the authentication service")
            .secret_string(&json)
            .send()
            .await
        {
            Ok(_) => return Ok(true),
            // Created without a value elsewhere: fall through to putting the value.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => exists = true,
            Err(e) => {
                return Err(anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
                    .context("creating the signing-key secret");
            }
        }
    }
    if exists {
        client
            .put_secret_value()
            .secret_id(secret_id)
            .secret_string(&json)
            .send()
            .await
            .map_err(|e| anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
            .context("storing the signing key")?;
    }
    Ok(true)
}

/// Puts a new signing key into the secret and makes it current. The previous key keeps verifying
/// until every token it signed has expired (`keep_for`, the longest token lifetime), after which a
/// later rotation removes it. Returns the new kid and the kids removed.
///
/// The public half goes to the table first, then the secret: verifiers know the new key before
/// anything is signed with it. Should the secret's write fail, the table merely lists a key that
/// never signs, and the next rotation or `keys ensure` publishes the secret's set again.
pub async fn rotate_signing_key(
    sdk: &SdkConfig,
    secret_id: &str,
    table: &str,
    alg: KeyAlgorithm,
    keep_for: std::time::Duration,
) -> Result<(String, Vec<String>)> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
        .context("reading the signing-key secret")?;
    let mut doc: KeySetDocument = serde_json::from_str(out.secret_string().unwrap_or_default())
        .context("the secret does not hold a key set (run `authctl keys ensure` first)")?;
    let now = Utc::now();
    let key = StoredKey::generate(alg, now).map_err(|e| anyhow!(e.to_string()))?;
    let kid = key.kid.clone();
    let removed = doc.rotate(key, now, keep_for);
    let json = serde_json::to_string(&doc)?;
    shared::keys::KeyRing::from_json(&json).map_err(|e| anyhow!(e.to_string()))?;
    publish(sdk, table, &doc).await?;
    client
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(json)
        .send()
        .await
        .map_err(|e| anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
        .context("storing the rotated key set")?;
    Ok((kid, removed))
}

/// Makes sure a KMS key exists under `alias` (moto for `make dev` and the tests; on AWS the stack
/// creates the outbox and provider keys and passes their ARNs as `OUTBOX_KEY_ID` and
/// `PROVIDER_KEY_ID`). An id or ARN is taken as given.
pub async fn ensure_kms_key(sdk: &SdkConfig, key_id: &str, description: &str) -> Result<()> {
    let Some(alias) = key_id.strip_prefix("alias/") else { return Ok(()) };
    let client = aws_sdk_kms::Client::new(sdk);
    if client.describe_key().key_id(key_id).send().await.is_ok() {
        return Ok(());
    }
    let key = client
        .create_key()
        .description(description)
        .send()
        .await
        .map_err(|e| anyhow!(aws_sdk_kms::error::DisplayErrorContext(e)))
        .with_context(|| format!("creating the key {key_id}"))?;
    let created = key.key_metadata().map(|m| m.key_id().to_owned()).unwrap_or_default();
    match client.create_alias().alias_name(format!("alias/{alias}")).target_key_id(created).send().await {
        Ok(_) => Ok(()),
        // Another process (a parallel test) named its key first: that one serves.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => Ok(()),
        Err(e) => Err(anyhow!(aws_sdk_kms::error::DisplayErrorContext(e)))
            .with_context(|| format!("naming the key {key_id}")),
    }
}

/// Stores `value` as the secret `secret_id`, creating it when it does not exist (the `default`
/// app's social secret of `make dev` and the tests).
pub async fn put_secret(sdk: &SdkConfig, secret_id: &str, value: &str) -> Result<()> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    match client.create_secret().name(secret_id).secret_string(value).send().await {
        Ok(_) => return Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => {}
        Err(e) => {
            return Err(anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
                .with_context(|| format!("creating the secret {secret_id}"));
        }
    }
    client
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(value)
        .send()
        .await
        .map_err(|e| anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
        .with_context(|| format!("storing the secret {secret_id}"))?;
    Ok(())
}

/// Registers the sender address with SES (moto accepts it at once; on AWS the owner confirms it).
pub async fn ensure_mail_identity(sdk: &SdkConfig, address: &str) -> Result<()> {
    let client = aws_sdk_sesv2::Client::new(sdk);
    match client.create_email_identity().email_identity(address).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => Ok(()),
        Err(e) => {
            Err(anyhow!(aws_sdk_sesv2::error::DisplayErrorContext(e))).context("creating the SES identity")
        }
    }
}

/// Everything the service needs, where `sdk` points (moto for `make dev` and the tests, AWS for
/// `authctl bootstrap`), named as `config` says.
pub async fn local(sdk: &SdkConfig, config: &shared::config::Config) -> Result<()> {
    let template = crate::template::load()?;
    ensure_table(sdk, &config.table_name, &template).await?;
    ensure_signing_key(sdk, &config.signing_key_secret_id, &config.table_name, config.jwt_algorithm).await?;
    ensure_mail_identity(sdk, &config.mail_from).await?;
    ensure_kms_key(sdk, &config.outbox_key_id, "Seals the link tokens of mails waiting in the outbox")
        .await?;
    ensure_kms_key(sdk, &config.social.provider_key_id, "Seals the apps' identity-provider secrets").await?;
    Ok(())
}
