//! The DynamoDB store: one table, string keys `pk`/`sk`, one GSI (`gsi1pk`/`gsi1sk`), `ttl` in epoch
//! seconds. Every key starts with the tenant (`T#<tenant>#`), so wave 2's apps add no migration.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | user | `T#<t>#USER#<user_id>` | `PROFILE` |
//! | email lock (uniqueness) | `T#<t>#EMAIL#<normalised email>` | `EMAIL` |
//! | single-use token | `T#<t>#TOKEN#<sha256 hex>` | `TOKEN` |
//! | session | `T#<t>#USER#<user_id>` | `SESSION#<session_id>` |
//! | audit event | `T#<t>#AUDIT#<user_id>` | `EVENT#<uuid v7>` (time-ordered) |
//! | public signing keys (one for the deployment) | `SERVICE#KEYS` | `PUBLIC` |
//! | mail waiting in the outbox | `T#<t>#OUTBOX#<uuid v7>` | `MAIL` |
//! | a user's API key | `T#<t>#APIKEY#<key_id>` | `APIKEY` |
//! | its entry in the owner's partition | `T#<t>#USER#<user_id>` | `APIKEY#<key_id>` |
//!
//! Reads that decide security (sessions, tokens, users) are strongly consistent. Writes that must
//! not half-happen are one conditional write or one transaction. The store knows nothing of HTTP:
//! it answers in domain outcomes and `Error::Dependency` for DynamoDB failing.

use crate::ids::{AppId, SessionId, UserId};
use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ConditionCheck, Delete, DeleteRequest, KeysAndAttributes, Put,
    PutRequest, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aws::LazyClient;
use crate::error::{Error, Result};
use crate::keys::PublicKeySet;
use crate::metrics::CallLog;
use crate::model::{AuditRecord, SessionRecord, TokenRecord, UserRecord};
use crate::outbox::OutboxRecord;

const DYNAMODB: &str = "DynamoDB";

pub mod schema;

pub use admin::Page;
pub use api_keys::KeyCreated;
pub use apps::AppCreated;
pub use oauth_grants::{Redeemed, TokenState};
/// The schema under its older name: every key of the table is built in `schema`.
pub use schema as keys;
pub use secret_keys::SecretKeyLookup;
pub use social::{IdentityOutcome, IdentityRecord};

mod admin;
mod api_keys;
mod apps;
mod audit;
mod oauth_clients;
mod oauth_grants;
mod outbox;
mod providers;
mod public_keys;
mod quotas;
mod secret_keys;
mod sessions;
mod social;
mod tokens;
mod users;

type Item = HashMap<String, AttributeValue>;

#[derive(Clone, Debug)]
pub struct Store {
    client: LazyClient<Client>,
    table: String,
    calls: CallLog,
}

/// A condition on the user item that a token operation requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Only that the user exists.
    Exists,
    /// The user exists and is active (not pending deletion).
    Active,
    /// The user exists, is active and has not verified the email yet.
    Unverified,
    /// The user exists and its deletion is pending.
    PendingDeletion,
    /// The user exists and was disabled by the app's backend.
    Disabled,
}

/// An update of a user item built up from named changes and conditions. Every attribute name goes
/// through a placeholder (`status`, `name` and `ttl` are DynamoDB reserved words).
///
/// An update that sets `status` also writes the new status onto every API key of the user, in the
/// same transaction (`Store::follow_keys`): the authorizer's one read of a key sees its owner's
/// state.
#[derive(Clone)]
pub struct UserUpdate {
    sets: Vec<(String, AttributeValue)>,
    removes: Vec<String>,
    adds: Vec<(String, AttributeValue)>,
    conditions: Vec<(String, Option<AttributeValue>)>,
    /// The status this update sets, if it sets one.
    status: Option<String>,
    /// The user's keys that take that status (or end), read at `api_keys_version`.
    keys: Option<KeysFollowing>,
    /// Whether every live API key of the user ends with this update (a credential reset).
    end_keys: bool,
}

/// The API keys a status change writes its status onto.
#[derive(Clone)]
struct KeysFollowing {
    tenant: AppId,
    version: u64,
    key_ids: Vec<crate::ids::KeyId>,
}

impl UserUpdate {
    pub fn new(guard: Guard) -> Self {
        let mut u = UserUpdate {
            sets: Vec::new(),
            removes: Vec::new(),
            adds: Vec::new(),
            conditions: Vec::new(),
            status: None,
            keys: None,
            end_keys: false,
        };
        match guard {
            Guard::Exists => {}
            Guard::Active => {
                u.require_equal("status", s("active"));
            }
            Guard::Unverified => {
                u.require_equal("status", s("active"));
                u.require_equal("email_verified", AttributeValue::Bool(false));
            }
            Guard::PendingDeletion => {
                u.require_equal("status", s("pending_deletion"));
            }
            Guard::Disabled => {
                u.require_equal("status", s("disabled"));
            }
        }
        u
    }

    fn set(&mut self, attribute: &str, value: AttributeValue) -> &mut Self {
        if attribute == "status" {
            self.status = value.as_s().ok().cloned();
        }
        self.sets.push((attribute.to_owned(), value));
        self
    }

    pub fn set_str(&mut self, attribute: &str, value: impl Into<String>) -> &mut Self {
        self.set(attribute, s(value))
    }

    pub fn set_bool(&mut self, attribute: &str, value: bool) -> &mut Self {
        self.set(attribute, AttributeValue::Bool(value))
    }

    pub fn set_num(&mut self, attribute: &str, value: i64) -> &mut Self {
        self.set(attribute, n(value))
    }

    pub fn remove(&mut self, attribute: &str) -> &mut Self {
        self.removes.push(attribute.to_owned());
        self
    }

    /// Ends every session of the credential as it was: no session started or rotated under the
    /// previous version can commit after this update (`UserRecord::credential_version`).
    pub fn bump_credential_version(&mut self) -> &mut Self {
        self.adds.push((CREDENTIAL_VERSION.to_owned(), n(1)));
        self
    }

    /// Ends every live API key of the user in the same transaction (`Store::follow_keys` reads
    /// them): a key created meanwhile fails the write, which is tried again with it.
    pub fn end_api_keys(&mut self) -> &mut Self {
        self.end_keys = true;
        self
    }

    /// Whether the write must carry the user's keys: a status change, or their end.
    fn needs_keys(&self) -> bool {
        self.status.is_some() || self.end_keys
    }

    /// Only while the user is still at the credential version this request read.
    pub fn require_credential_version(&mut self, version: u64) -> &mut Self {
        match version {
            // Never bumped: the attribute may be missing on accounts older than it.
            0 => self.conditions.push((CREDENTIAL_VERSION.to_owned(), None)),
            v => self.conditions.push((CREDENTIAL_VERSION.to_owned(), Some(n(v as i64)))),
        }
        self
    }

    /// Only while the user's keys are still at the version this request read.
    fn require_api_keys_version(&mut self, version: u64) -> &mut Self {
        match version {
            0 => self.conditions.push((API_KEYS_VERSION.to_owned(), None)),
            v => self.conditions.push((API_KEYS_VERSION.to_owned(), Some(n(v as i64)))),
        }
        self
    }

    /// A key of the user came or went.
    fn bump_api_keys_version(&mut self) -> &mut Self {
        self.adds.push((API_KEYS_VERSION.to_owned(), n(1)));
        self
    }

    fn require_equal(&mut self, attribute: &str, value: AttributeValue) -> &mut Self {
        self.conditions.push((attribute.to_owned(), Some(value)));
        self
    }

    fn require_absent(&mut self, attribute: &str) -> &mut Self {
        self.conditions.push((attribute.to_owned(), None));
        self
    }

    /// A status change is only ever written with its keys (`Store::follow_keys`).
    fn check_keys_follow(&self) -> Result<()> {
        if self.needs_keys() && self.keys.is_none() {
            return Err(Error::Internal("a status change without its API keys".into()));
        }
        Ok(())
    }

    /// The update expression, condition, and their names and values.
    fn parts(mut self) -> UpdateParts {
        if let Some(following) = self.keys.take() {
            // Only while the user's keys are still the ones the key items beside it were read for.
            self.require_api_keys_version(following.version).bump_api_keys_version();
        }
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let name = |attribute: &str, names: &mut HashMap<String, String>| {
            let placeholder = format!("#a{}", names.len());
            names.insert(placeholder.clone(), attribute.to_owned());
            placeholder
        };
        let mut sets = Vec::new();
        for (i, (attribute, value)) in self.sets.into_iter().enumerate() {
            let n = name(&attribute, &mut names);
            sets.push(format!("{n} = :s{i}"));
            values.insert(format!(":s{i}"), value);
        }
        let removes: Vec<String> = self.removes.iter().map(|a| name(a, &mut names)).collect();
        let mut adds = Vec::new();
        for (i, (attribute, value)) in self.adds.into_iter().enumerate() {
            let n = name(&attribute, &mut names);
            adds.push(format!("{n} :d{i}"));
            values.insert(format!(":d{i}"), value);
        }
        let mut conditions = vec!["attribute_exists(pk)".to_owned()];
        for (i, (attribute, value)) in self.conditions.into_iter().enumerate() {
            let n = name(&attribute, &mut names);
            match value {
                // A version 0 condition holds while the attribute was never written or is 0.
                None if attribute == CREDENTIAL_VERSION || attribute == API_KEYS_VERSION => {
                    conditions.push(format!("(attribute_not_exists({n}) OR {n} = :c{i})"));
                    values.insert(format!(":c{i}"), self::n(0));
                }
                Some(v) => {
                    conditions.push(format!("{n} = :c{i}"));
                    values.insert(format!(":c{i}"), v);
                }
                None => conditions.push(format!("attribute_not_exists({n})")),
            }
        }
        let mut expression = String::new();
        if !sets.is_empty() {
            expression.push_str(&format!("SET {}", sets.join(", ")));
        }
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        if !adds.is_empty() {
            expression.push_str(&format!(" ADD {}", adds.join(", ")));
        }
        UpdateParts {
            expression: expression.trim().to_owned(),
            condition: conditions.join(" AND "),
            names,
            values: (!values.is_empty()).then_some(values),
        }
    }

    /// The update as transaction items: the user's, then (a status change) each key's.
    fn transact_items(self, table: &str, pk: String) -> Result<Vec<TransactWriteItem>> {
        let key_items = match (&self.keys, &self.status) {
            // Each key item and its entry in the user's partition: two items a key, within the
            // transaction's 100 since a user holds at most 45 live keys (`MAX_API_KEYS_PER_USER`).
            (Some(following), _) if self.end_keys => {
                let mut items = Vec::with_capacity(following.key_ids.len() * 2);
                for key_id in &following.key_ids {
                    items.push(delete_item(
                        table,
                        keys::api_key(&following.tenant, key_id),
                        keys::API_KEY,
                        None,
                    )?);
                    items.push(delete_item(table, pk.clone(), &keys::api_key_ref(key_id), None)?);
                }
                items
            }
            (Some(following), Some(status)) => following
                .key_ids
                .iter()
                .map(|key_id| key_status_item(table, &following.tenant, key_id, status))
                .collect::<Result<Vec<_>>>()?,
            _ => Vec::new(),
        };
        let mut items = vec![self.transact_item(table, pk)?];
        items.extend(key_items);
        Ok(items)
    }

    fn transact_item(self, table: &str, pk: String) -> Result<TransactWriteItem> {
        self.check_keys_follow()?;
        let p = self.parts();
        let update = Update::builder()
            .table_name(table)
            .key("pk", s(pk))
            .key("sk", s(keys::PROFILE))
            .update_expression(p.expression)
            .condition_expression(p.condition)
            .set_expression_attribute_names(Some(p.names))
            .set_expression_attribute_values(p.values)
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

struct UpdateParts {
    expression: String,
    condition: String,
    names: HashMap<String, String>,
    values: Option<HashMap<String, AttributeValue>>,
}

/// A refresh-token rotation: the presented token (hash, generation) and its successor.
pub struct SessionRotation<'a> {
    pub tenant: &'a AppId,
    pub user_id: &'a UserId,
    pub session_id: &'a SessionId,
    pub presented_hash: &'a str,
    pub generation: u64,
    pub new_hash: &'a str,
    pub expires_at: i64,
    /// The session's absolute end (set here for sessions stored before it existed).
    pub absolute_expires_at: i64,
    pub idle_expires_at: Option<i64>,
    /// The credential version the session was started under: the user must still be at it.
    pub credential_version: u64,
    pub now: DateTime<Utc>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

pub enum Rotated {
    Done,
    /// The condition failed; the session as it is now, if it still exists.
    Lost(Option<Box<SessionRecord>>),
    /// Nothing was written: the quota at this index had reached its limit.
    OverLimit(usize),
}

/// What login reads before it checks the password.
pub struct LoginView {
    pub found: Option<(UserRecord, Vec<SessionRecord>)>,
    /// The account's consecutive failed password checks.
    pub failures: u64,
}

/// What the mailer's claim on an outbox item found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// This mailer may send; the how-manieth attempt it is.
    Claimed { attempt: u64 },
    /// The item is gone: the mail was sent.
    Gone,
    /// Another mailer holds a live claim: it is sending now, or died and its lease has yet to run
    /// out. Try again later.
    Held,
}

/// Outcome of a write whose condition may legitimately fail (a race lost, a token superseded).
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Done,
    ConditionFailed,
}

/// A rate-limit counter that a write takes one from (or, `clear`, resets), in the same transaction
/// as the write it limits: the counter's condition refuses the whole write once the window's count
/// has reached the limit, so parallel requests cannot all slip under it, and the limit costs no
/// DynamoDB call of its own.
#[derive(Debug, Clone)]
pub struct Quota {
    pub pk: String,
    /// The window's start (epoch seconds): one counter item per window.
    pub window: i64,
    pub expires: i64,
    /// The count at which the quota refuses; `None` counts without ever refusing (the
    /// consecutive-failure counter, whose cap is checked before the password is).
    pub limit: Option<u32>,
    /// Delete the counter instead of adding to it (a proven password forgives the account's
    /// failed attempts).
    pub clear: bool,
}

/// Outcome of a write that carries quotas.
#[derive(Debug, PartialEq, Eq)]
pub enum Committed {
    Done,
    /// Nothing was written: the quota at this index had reached its limit.
    OverLimit(usize),
    /// Nothing was written: a condition of the write itself failed.
    ConditionFailed,
}

impl Store {
    /// A store on its own client, whose calls are counted (`calls`).
    pub fn new(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Store { client: LazyClient::new(sdk), table: table.into(), calls: CallLog::default() }
    }

    fn client(&self) -> &Client {
        self.client.get(|sdk| {
            Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(sdk)
                    .interceptor(self.calls.interceptor())
                    .interceptor(crate::iam::dynamodb())
                    .build(),
            )
        })
    }

    /// Opens the client's connection to DynamoDB (TCP, TLS, the first request signed) during a cold
    /// start, with the cheapest call the functions' roles allow: a read of an item that never
    /// exists. Its answer does not matter, and a failure is left for the first request to meet.
    pub async fn warm_up(&self) {
        let read = self
            .client()
            .get_item()
            .table_name(&self.table)
            .key("pk", s("WARM-UP"))
            .key("sk", s("WARM-UP"))
            .send()
            .await;
        if let Err(e) = read {
            tracing::debug!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "DynamoDB warm-up read failed");
        }
    }

    /// Every DynamoDB call this store's client has sent.
    pub fn calls(&self) -> &CallLog {
        &self.calls
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// BatchWriteItem, retrying what DynamoDB hands back unprocessed under load a few times before
    /// calling the store unavailable.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<()> {
        if requests.is_empty() {
            return Ok(());
        }
        let mut pending = HashMap::from([(self.table.clone(), requests)]);
        for attempt in 0..4 {
            let out = self
                .client()
                .batch_write_item()
                .set_request_items(Some(pending))
                .send()
                .await
                .map_err(unavailable)?;
            pending = out.unprocessed_items.unwrap_or_default();
            pending.retain(|_, v| !v.is_empty());
            if pending.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
        }
        Err(Error::dependency(DYNAMODB, "unprocessed items after retries"))
    }

    /// Every item of a partition (optionally only sort keys with a prefix), strongly consistent.
    async fn query_partition(&self, pk: String, sk_prefix: Option<&str>) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client()
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_values(":pk", s(pk.clone()))
                .set_exclusive_start_key(start.take());
            q = match sk_prefix {
                Some(prefix) => q
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", s(prefix)),
                None => q.key_condition_expression("pk = :pk"),
            };
            let out = q.send().await.map_err(unavailable)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    async fn get<T: DeserializeOwned>(&self, pk: String, sk: &str) -> Result<Option<T>> {
        let out = self
            .client()
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item.map(decode).transpose()
    }

    /// Runs a transaction. The SDK fills in a `ClientRequestToken` per call and reuses it on its own
    /// retries, so a retried commit is idempotent rather than a failed condition.
    /// A failed condition is an outcome, not an error. A conflict with a
    /// concurrent transaction is retried a few times, so that the loser of a race sees the
    /// winner's write (and so a failed condition) rather than a spurious 503.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Written> {
        Ok(match self.commit(items, &[]).await? {
            Committed::Done => Written::Done,
            _ => Written::ConditionFailed,
        })
    }

    /// `transact` with quotas appended to the write.
    async fn commit(&self, items: Vec<TransactWriteItem>, quotas: &[Quota]) -> Result<Committed> {
        Ok(self.commit_with_reasons(items, quotas).await?.0)
    }

    /// `commit`, with DynamoDB's cancellation reasons (one per item, in order) when it failed.
    async fn commit_with_reasons(
        &self,
        mut items: Vec<TransactWriteItem>,
        quotas: &[Quota],
    ) -> Result<(Committed, Vec<CancellationReason>)> {
        let first_quota = items.len();
        for q in quotas {
            items.push(quota_item(&self.table, q)?);
        }
        if items.is_empty() {
            return Ok((Committed::Done, Vec::new()));
        }
        let mut attempt = 0u32;
        loop {
            let result =
                self.client().transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let err = match result {
                Ok(_) => return Ok((Committed::Done, Vec::new())),
                Err(err) => err,
            };
            let reasons = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                    e.cancellation_reasons().to_vec()
                }
                _ => Vec::new(),
            };
            let failed = |r: &CancellationReason| r.code() == Some("ConditionalCheckFailed");
            // A quota at its limit wins over the write's own condition: the request is refused
            // whatever it would have done.
            if let Some(i) = reasons.iter().skip(first_quota).position(failed) {
                return Ok((Committed::OverLimit(i), reasons));
            }
            if reasons.iter().any(failed) {
                return Ok((Committed::ConditionFailed, reasons));
            }
            if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) && attempt < 5 {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt))).await;
                continue;
            }
            return Err(unavailable(err));
        }
    }

    /// Strongly consistent reads of several items in one request (`BatchGetItem`), in no order.
    async fn get_many(&self, wanted: Vec<(String, String)>) -> Result<Vec<Item>> {
        let keys: Vec<Item> = wanted
            .into_iter()
            .map(|(pk, sk)| Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))]))
            .collect();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(internal)?,
        );
        let mut items = Vec::new();
        for attempt in 0..4 {
            let Some(request) = pending.take() else { return Ok(items) };
            let out = self
                .client()
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
            pending =
                out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys.is_empty());
            if pending.is_some() {
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
        }
        match pending {
            None => Ok(items),
            Some(_) => Err(Error::dependency(DYNAMODB, "unprocessed keys after retries")),
        }
    }
}

#[derive(Serialize, serde::Deserialize)]
struct EmailLock {
    user_id: UserId,
}

/// The public keys item: the JWKS kept as its JSON text, exactly as published.
#[derive(Serialize, serde::Deserialize)]
struct PublicKeysItem {
    current_kid: String,
    jwks: String,
    updated_at: DateTime<Utc>,
}

impl PublicKeysItem {
    fn into_set(self) -> Result<PublicKeySet> {
        let jwks = serde_json::from_str(&self.jwks)
            .map_err(|e| Error::Internal(format!("the public keys item does not decode: {e}")))?;
        Ok(PublicKeySet { current_kid: self.current_kid, jwks, updated_at: self.updated_at })
    }
}

fn decode<T: DeserializeOwned>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|e| Error::Internal(format!("stored item does not decode: {e}")))
}

fn put_request(item: Item) -> Result<WriteRequest> {
    let put = PutRequest::builder().set_item(Some(item)).build().map_err(internal)?;
    Ok(WriteRequest::builder().put_request(put).build())
}

fn delete_request(pk: String, sk: String) -> Result<WriteRequest> {
    let delete = DeleteRequest::builder().key("pk", s(pk)).key("sk", s(sk)).build().map_err(internal)?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

/// The record's attributes plus its keys.
fn keyed<T: Serialize>(pk: String, sk: &str, record: &T) -> Result<Item> {
    let mut item: Item =
        serde_dynamo::to_item(record).map_err(|e| Error::Internal(format!("record does not encode: {e}")))?;
    item.insert("pk".to_owned(), s(pk));
    item.insert("sk".to_owned(), s(sk));
    Ok(item)
}

/// A mail for the outbox, as a transaction item.
fn outbox_item(table: &str, mail: &OutboxRecord) -> Result<TransactWriteItem> {
    put(table, keyed(keys::outbox(&mail.tenant_id, &mail.id), keys::MAIL, mail)?, None)
}

/// An audit event, in its user's partition and in its app's index (`gsi2`).
fn audit_item(audit: &AuditRecord) -> Result<Item> {
    let mut item =
        keyed(keys::audit(&audit.tenant_id, &audit.user_id), &keys::audit_event(&audit.id), audit)?;
    item.insert("gsi2pk".to_owned(), s(keys::app_audit(&audit.tenant_id)));
    item.insert("gsi2sk".to_owned(), s(&audit.id));
    Ok(item)
}

/// A user's profile item, in its app's index of users (`gsi2`) too.
fn user_item(user: &UserRecord) -> Result<Item> {
    let mut item = keyed(keys::user(&user.tenant_id, &user.user_id), keys::PROFILE, user)?;
    item.insert("gsi2pk".to_owned(), s(keys::app_users(&user.tenant_id)));
    item.insert("gsi2sk".to_owned(), s(keys::user_created(user.created_at, &user.user_id)));
    Ok(item)
}

fn delete_item(
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

/// A single-use token's deletion, only while it exists and has not expired: what consuming one is.
fn consume_live_token(
    table: &str,
    tenant: &AppId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<TransactWriteItem> {
    let live = ("attribute_exists(pk) AND expires_at > :now", ":now", n(now.timestamp()));
    delete_item(table, keys::token(tenant, token_hash), keys::TOKEN, Some(live))
}

fn put(table: &str, item: Item, condition: Option<&str>) -> Result<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .map_err(internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The user attribute that counts credential changes (`UserRecord::credential_version`).
const CREDENTIAL_VERSION: &str = "credential_version";
/// The user attribute that counts changes of the user's keys (`UserRecord::api_keys_version`).
const API_KEYS_VERSION: &str = "api_keys_version";

/// A key taking its owner's new status, in the owner's status change. Only a key that still
/// exists: one revoked meanwhile also bumped the owner's key version, which fails the change (and
/// it is retried over the keys as they are now).
fn key_status_item(
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

/// A condition on the user item, as a transaction item: it exists, is active and is still at the
/// credential version `version`. Session starts and rotations carry it, so that neither commits
/// after the credential it was checked against has changed or the account was disabled.
fn user_state_check(
    table: &str,
    tenant: &AppId,
    user_id: &UserId,
    version: u64,
) -> Result<TransactWriteItem> {
    let mut check = ConditionCheck::builder()
        .table_name(table)
        .key("pk", s(keys::user(tenant, user_id)))
        .key("sk", s(keys::PROFILE))
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#cv", CREDENTIAL_VERSION)
        .expression_attribute_values(":active", s("active"))
        .expression_attribute_values(":cv", n(version as i64));
    check = if version == 0 {
        check.condition_expression(
            "attribute_exists(pk) AND #status = :active AND (attribute_not_exists(#cv) OR #cv = :cv)",
        )
    } else {
        check.condition_expression("attribute_exists(pk) AND #status = :active AND #cv = :cv")
    };
    Ok(TransactWriteItem::builder().condition_check(check.build().map_err(internal)?).build())
}

/// A transaction holds at most 100 items.
const MAX_TRANSACTION_ITEMS: usize = 100;

/// The attribute a rate-limit counter counts in.
const COUNT: &str = "count";

fn counter_sk(window: i64) -> String {
    keys::counter_window(window)
}

/// One quota as a transaction item: `ADD` one to the window's counter (or delete it, `clear`),
/// only while the count is under the limit. The counter expires with TTL after its window.
fn quota_item(table: &str, q: &Quota) -> Result<TransactWriteItem> {
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
fn count_of(item: Option<&Item>) -> u64 {
    item.and_then(|i| i.get(COUNT)).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// An item that is already expired and that nothing ever reads.
fn decoy_item(tenant: &AppId, now: DateTime<Utc>) -> Item {
    let (_, hash) = crate::crypto::new_token();
    Item::from([
        ("pk".to_owned(), s(keys::decoy(tenant, &hash))),
        ("sk".to_owned(), s(keys::DECOY)),
        ("expires_at".to_owned(), n(now.timestamp())),
        ("ttl".to_owned(), n(now.timestamp())),
    ])
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("request construction: {e}"))
}

/// The outcome of a single conditional write: `false` when its condition did not hold (an
/// outcome, not an error), the store unavailable for anything else.
fn condition_held<O, E, R>(result: std::result::Result<O, SdkError<E, R>>) -> Result<bool>
where
    E: std::error::Error + Send + Sync + 'static + ConditionalFailure,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(ConditionalFailure::is_condition_failed) => Ok(false),
        Err(e) => Err(unavailable(e)),
    }
}

/// The service errors of DynamoDB's single-item writes that say the condition did not hold.
trait ConditionalFailure {
    fn is_condition_failed(&self) -> bool;
}

macro_rules! conditional_failure {
    ($($error:ty),*) => {$(
        impl ConditionalFailure for $error {
            fn is_condition_failed(&self) -> bool {
                self.is_conditional_check_failed_exception()
            }
        }
    )*};
}

conditional_failure!(
    aws_sdk_dynamodb::operation::update_item::UpdateItemError,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemError,
    aws_sdk_dynamodb::operation::put_item::PutItemError
);

/// The email lock and the profile of a new account, each only if absent: what every way of
/// creating an account writes in its transaction.
fn new_account_items(table: &str, user: &UserRecord) -> Result<[TransactWriteItem; 2]> {
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

/// Any SDK failure (throttling, timeout, network, 5xx) makes the store unavailable for this
/// request. The SDK's error, kept as the source, goes to the log line only.
fn unavailable<E, R>(e: SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Error::dependency(DYNAMODB, e)
}
