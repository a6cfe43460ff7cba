//! The item codecs: records to DynamoDB items and back, each item kind's transaction item, and
//! the attribute helpers.

use super::keys;
use super::{Item, Quota};
use crate::error::{Error, Result};
use crate::ids::{AppId, UserId};
use crate::keys::PublicKeySet;
use crate::model::{AuditRecord, UserRecord};
use crate::outbox::OutboxRecord;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, Put, PutRequest, TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Serialize, serde::Deserialize)]
pub(super) struct EmailLock {
    pub(super) user_id: UserId,
}

/// The public keys item: the JWKS kept as its JSON text, exactly as published.
#[derive(Serialize, serde::Deserialize)]
pub(super) struct PublicKeysItem {
    pub(super) current_kid: String,
    pub(super) jwks: String,
    pub(super) updated_at: DateTime<Utc>,
}

impl PublicKeysItem {
    pub(super) fn into_set(self) -> Result<PublicKeySet> {
        let jwks = serde_json::from_str(&self.jwks)
            .map_err(|e| Error::Internal(format!("the public keys item does not decode: {e}")))?;
        Ok(PublicKeySet { current_kid: self.current_kid, jwks, updated_at: self.updated_at })
    }
}

pub(super) fn decode<T: DeserializeOwned>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|e| Error::Internal(format!("stored item does not decode: {e}")))
}

pub(super) fn put_request(item: Item) -> Result<WriteRequest> {
    let put = PutRequest::builder().set_item(Some(item)).build().map_err(internal)?;
    Ok(WriteRequest::builder().put_request(put).build())
}

pub(super) fn delete_request(pk: String, sk: String) -> Result<WriteRequest> {
    let delete = DeleteRequest::builder().key("pk", s(pk)).key("sk", s(sk)).build().map_err(internal)?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

/// The record's attributes plus its keys.
pub(super) fn keyed<T: Serialize>(pk: String, sk: &str, record: &T) -> Result<Item> {
    let mut item: Item =
        serde_dynamo::to_item(record).map_err(|e| Error::Internal(format!("record does not encode: {e}")))?;
    item.insert("pk".to_owned(), s(pk));
    item.insert("sk".to_owned(), s(sk));
    Ok(item)
}

/// A mail for the outbox, as a transaction item.
pub(super) fn outbox_item(table: &str, mail: &OutboxRecord) -> Result<TransactWriteItem> {
    put(table, keyed(keys::outbox(&mail.tenant_id, &mail.id), keys::MAIL, mail)?, None)
}

/// An audit event, in its user's partition and in its app's index (`gsi2`).
pub(super) fn audit_item(audit: &AuditRecord) -> Result<Item> {
    let mut item =
        keyed(keys::audit(&audit.tenant_id, &audit.user_id), &keys::audit_event(&audit.id), audit)?;
    item.insert("gsi2pk".to_owned(), s(keys::app_audit(&audit.tenant_id)));
    item.insert("gsi2sk".to_owned(), s(&audit.id));
    Ok(item)
}

/// A user's profile item, in its app's index of users (`gsi2`) too.
pub(super) fn user_item(user: &UserRecord) -> Result<Item> {
    let mut item = keyed(keys::user(&user.tenant_id, &user.user_id), keys::PROFILE, user)?;
    item.insert("gsi2pk".to_owned(), s(keys::app_users(&user.tenant_id)));
    item.insert("gsi2sk".to_owned(), s(keys::user_created(user.created_at, &user.user_id)));
    Ok(item)
}

pub(super) fn delete_item(
    table: &str,
    pk: String,
    sk: &str,
    condition: Option<(&str, &str, AttributeValue)>,
) -> Result<TransactWriteItem> {
    let mut delete = Delete::builder().table_name(table).key("pk", s(pk)).key("sk", s(sk));
    if let Some((expression, name, value)) = condition {
        delete = delete.condition_expression(expression).expression_attribute_values(name, value);
    }
    Ok(TransactWriteItem::builder().delete(delete.build().map_err(internal)?).build())
}

/// The user attribute that counts credential changes (`UserRecord::credential_version`).
pub(super) const CREDENTIAL_VERSION: &str = "credential_version";

/// The user attribute that counts changes of the user's keys (`UserRecord::api_keys_version`).
pub(super) const API_KEYS_VERSION: &str = "api_keys_version";

/// A key taking its owner's new status, in the owner's status change. Only a key that still
/// exists: one revoked meanwhile also bumped the owner's key version, which fails the change (and
/// it is retried over the keys as they are now).
pub(super) fn key_status_item(
    table: &str,
    tenant: &AppId,
    key_id: &crate::ids::KeyId,
    status: &str,
) -> Result<TransactWriteItem> {
    let update = Update::builder()
        .table_name(table)
        .key("pk", s(keys::api_key(tenant, key_id)))
        .key("sk", s(keys::API_KEY))
        .update_expression("SET owner_status = :status")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":status", s(status))
        .build()
        .map_err(internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// The attribute a rate-limit counter counts in.
pub(super) const COUNT: &str = "count";

pub(super) fn counter_sk(window: i64) -> String {
    keys::counter_window(window)
}

/// One quota as a transaction item: `ADD` one to the window's counter (or delete it, `clear`),
/// only while the count is under the limit. The counter expires with TTL after its window.
pub(super) fn quota_item(table: &str, q: &Quota) -> Result<TransactWriteItem> {
    if q.clear {
        let delete = Delete::builder()
            .table_name(table)
            .key("pk", s(&q.pk))
            .key("sk", s(counter_sk(q.window)))
            .build()
            .map_err(internal)?;
        return Ok(TransactWriteItem::builder().delete(delete).build());
    }
    let mut update = Update::builder()
        .table_name(table)
        .key("pk", s(&q.pk))
        .key("sk", s(counter_sk(q.window)))
        .update_expression("ADD #count :one SET #ttl = :ttl")
        .expression_attribute_names("#count", COUNT)
        .expression_attribute_names("#ttl", "ttl")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":ttl", n(q.expires));
    if let Some(limit) = q.limit {
        update = update
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_values(":limit", n(i64::from(limit)));
    }
    Ok(TransactWriteItem::builder().update(update.build().map_err(internal)?).build())
}

/// The count of a counter item as read, 0 when there is none.
pub(super) fn count_of(item: Option<&Item>) -> u64 {
    item.and_then(|i| i.get(COUNT)).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// An item that is already expired and that nothing ever reads.
pub(super) fn decoy_item(tenant: &AppId, now: DateTime<Utc>) -> Item {
    let (_, hash) = crate::crypto::new_token();
    Item::from([
        ("pk".to_owned(), s(keys::decoy(tenant, &hash))),
        ("sk".to_owned(), s(keys::DECOY)),
        ("expires_at".to_owned(), n(now.timestamp())),
        ("ttl".to_owned(), n(now.timestamp())),
    ])
}

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The email lock and the profile of a new account, each only if absent: what every way of
/// creating an account writes in its transaction.
pub(super) fn new_account_items(table: &str, user: &UserRecord) -> Result<[TransactWriteItem; 2]> {
    let lock = keyed(
        keys::email(&user.tenant_id, &user.email_normalized),
        keys::EMAIL,
        &EmailLock { user_id: user.user_id.clone() },
    )?;
    Ok([
        put(table, lock, Some("attribute_not_exists(pk)"))?,
        put(table, user_item(user)?, Some("attribute_not_exists(pk)"))?,
    ])
}

pub(super) fn put(table: &str, item: Item, condition: Option<&str>) -> Result<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .map_err(internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

pub(super) fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("request construction: {e}"))
}
