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

use crate::aws::LazyClient;
use crate::error::{Error, Result};
use crate::ids::{AppId, SessionId, UserId};
use crate::metrics::CallLog;
use crate::model::SessionRecord;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, KeysAndAttributes, TransactWriteItem, WriteRequest,
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
pub mod schema;
pub use admin::Page;
pub use api_keys::KeyCreated;
pub use apps::AppCreated;
use items::{decode, internal, quota_item, s};
pub use mfa::{Account, Proof, SecondStep};
pub use oauth_grants::{Redeemed, TokenState};
pub use secret_keys::SecretKeyLookup;
pub use social::{IdentityOutcome, IdentityRecord};
use transact::{DYNAMODB, unavailable};
pub use update::UserUpdate;
mod index;
mod items;
mod transact;
mod update;

mod admin;
mod api_keys;
mod apps;
mod audit;
mod mfa;
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

/// The schema under its older name: every key of the table is built in `schema`.
pub use schema as keys;

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
    pub found: Option<Account>,
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
