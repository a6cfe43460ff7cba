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
//!
//! Reads that decide security (sessions, tokens, users) are strongly consistent. Writes that must
//! not half-happen are one conditional write or one transaction. The store knows nothing of HTTP:
//! it answers in domain outcomes and `Error::Dependency` for DynamoDB failing.

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

use crate::app::LazyClient;
use crate::error::{Error, Result};
use crate::keys::PublicKeySet;
use crate::metrics::CallLog;
use crate::model::{AuditRecord, SessionRecord, TokenRecord, UserRecord};
use crate::outbox::OutboxRecord;

const DYNAMODB: &str = "DynamoDB";

/// Key builders. Kept in one place so that no two features invent different spellings.
pub mod keys {
    pub const PROFILE: &str = "PROFILE";
    pub const EMAIL: &str = "EMAIL";
    pub const TOKEN: &str = "TOKEN";
    pub const SESSION_PREFIX: &str = "SESSION#";
    /// `gsi1pk` of every account whose deletion is pending, across tenants.
    pub const DELETION_INDEX: &str = "DELETION";
    pub const DECOY: &str = "DECOY";
    /// The public half of the signing keys: one ring signs for every app.
    pub const PUBLIC_KEYS: (&str, &str) = ("SERVICE#KEYS", "PUBLIC");

    /// `gsi1sk` of a pending deletion: due time first, so the purge reads the due ones in order.
    pub fn deletion_due(at: chrono::DateTime<chrono::Utc>, tenant: &str, user_id: &str) -> String {
        format!("{}#{tenant}#{user_id}", at.format("%Y-%m-%dT%H:%M:%SZ"))
    }

    pub fn user(tenant: &str, user_id: &str) -> String {
        format!("T#{tenant}#USER#{user_id}")
    }
    pub fn email(tenant: &str, normalized_email: &str) -> String {
        format!("T#{tenant}#EMAIL#{normalized_email}")
    }
    pub fn token(tenant: &str, token_hash: &str) -> String {
        format!("T#{tenant}#TOKEN#{token_hash}")
    }
    pub fn session(session_id: &str) -> String {
        format!("{SESSION_PREFIX}{session_id}")
    }
    pub fn audit(tenant: &str, user_id: &str) -> String {
        format!("T#{tenant}#AUDIT#{user_id}")
    }
    pub fn audit_event(event_id: &str) -> String {
        format!("EVENT#{event_id}")
    }
    pub fn outbox(tenant: &str, id: &str) -> String {
        format!("T#{tenant}#OUTBOX#{id}")
    }
    pub const MAIL: &str = "MAIL";
}

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
}

/// An update of a user item built up from named changes and conditions. Every attribute name goes
/// through a placeholder (`status`, `name` and `ttl` are DynamoDB reserved words).
pub struct UserUpdate {
    sets: Vec<(String, AttributeValue)>,
    removes: Vec<String>,
    adds: Vec<(String, AttributeValue)>,
    conditions: Vec<(String, Option<AttributeValue>)>,
}

impl UserUpdate {
    pub fn new(guard: Guard) -> Self {
        let mut u =
            UserUpdate { sets: Vec::new(), removes: Vec::new(), adds: Vec::new(), conditions: Vec::new() };
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
        }
        u
    }

    fn set(&mut self, attribute: &str, value: AttributeValue) -> &mut Self {
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

    /// Only while the user is still at the credential version this request read.
    pub fn require_credential_version(&mut self, version: u64) -> &mut Self {
        match version {
            // Never bumped: the attribute may be missing on accounts older than it.
            0 => self.conditions.push((CREDENTIAL_VERSION.to_owned(), None)),
            v => self.conditions.push((CREDENTIAL_VERSION.to_owned(), Some(n(v as i64)))),
        }
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

    /// The update expression, condition, and their names and values.
    fn parts(self) -> UpdateParts {
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
                None if attribute == CREDENTIAL_VERSION => {
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

    fn transact_item(self, table: &str, pk: String) -> Result<TransactWriteItem> {
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
    pub tenant: &'a str,
    pub user_id: &'a str,
    pub session_id: &'a str,
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

    // ----- users -----------------------------------------------------------------------------

    /// Writes the user, its email lock, its verification token, the `register` audit event and the
    /// request's quotas in one transaction: either the account exists completely or not at all. A
    /// taken email (the lock exists) is `ConditionFailed`, and then no quota was taken.
    pub async fn create_user(
        &self,
        user: &UserRecord,
        token_hash: &str,
        token: &TokenRecord,
        audit: &AuditRecord,
        mail: &OutboxRecord,
    ) -> Result<Committed> {
        let t = &user.tenant_id;
        let lock = keyed(
            keys::email(t, &user.email_normalized),
            keys::EMAIL,
            &EmailLock { user_id: user.user_id.clone() },
        )?;
        let items = vec![
            outbox_item(&self.table, mail)?,
            put(&self.table, lock, Some("attribute_not_exists(pk)"))?,
            put(
                &self.table,
                keyed(keys::user(t, &user.user_id), keys::PROFILE, user)?,
                Some("attribute_not_exists(pk)"),
            )?,
            put(&self.table, keyed(keys::token(t, token_hash), keys::TOKEN, token)?, None)?,
            put(&self.table, audit_item(audit)?, None)?,
        ];
        self.commit(items, &[]).await
    }

    pub async fn user(&self, tenant: &str, user_id: &str) -> Result<Option<UserRecord>> {
        self.get(keys::user(tenant, user_id), keys::PROFILE).await
    }

    /// Finds a user by normalised email: the lock item names the user, then the user item is read.
    /// Both reads are strongly consistent, so a password changed a moment ago is the one checked.
    pub async fn user_by_email(&self, tenant: &str, normalized_email: &str) -> Result<Option<UserRecord>> {
        let Some(lock) = self.get::<EmailLock>(keys::email(tenant, normalized_email), keys::EMAIL).await?
        else {
            // The second read a known address costs, so that both take as long.
            self.get::<EmailLock>(keys::user(tenant, keys::DECOY), keys::PROFILE).await?;
            return Ok(None);
        };
        self.user(tenant, &lock.user_id).await
    }

    /// Applies a profile change: `Some(value)` sets a field, `None` removes it; fields not listed
    /// stay. Returns the user as stored afterwards.
    pub async fn update_profile(
        &self,
        tenant: &str,
        user_id: &str,
        changes: &[(&str, Option<String>)],
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>> {
        let mut sets = vec!["updated_at = :at".to_owned()];
        let mut removes = Vec::new();
        let mut update = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::user(tenant, user_id)))
            .key("sk", s(keys::PROFILE))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", s(now.to_rfc3339()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        for (i, (field, value)) in changes.iter().enumerate() {
            // Placeholders for every name: `name` is a DynamoDB reserved word.
            update = update.expression_attribute_names(format!("#f{i}"), *field);
            match value {
                Some(v) => {
                    sets.push(format!("#f{i} = :v{i}"));
                    update = update.expression_attribute_values(format!(":v{i}"), s(v.clone()));
                }
                None => removes.push(format!("#f{i}")),
            }
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        match update.update_expression(expression).send().await {
            Ok(out) => out.attributes.map(decode).transpose(),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(None)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    // ----- single-use tokens -------------------------------------------------------------------

    pub async fn token(&self, tenant: &str, token_hash: &str) -> Result<Option<TokenRecord>> {
        self.get(keys::token(tenant, token_hash), keys::TOKEN).await
    }

    /// Issues a single-use token of `kind` to a user and retires the previous one of that kind, in
    /// one transaction: the user item names the newest token of each kind, so only it can be used
    /// (after a resend or a second request, older links are dead). `update` carries the condition the
    /// user must meet (still unverified, still active ...) and any further change to make with the
    /// token; when the condition fails nothing is written.
    pub async fn issue_token(
        &self,
        user: &UserRecord,
        token_hash: &str,
        token: &TokenRecord,
        mut update: UserUpdate,
        audit: &AuditRecord,
        mail: &OutboxRecord,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let t = &user.tenant_id;
        let attribute = token.kind.user_attribute();
        let previous = user.token_hash(token.kind);
        update.set(attribute, s(token_hash)).set("updated_at", s(now.to_rfc3339()));
        // Only over the token this request saw: of two concurrent requests one wins, and the
        // loser's token is not left behind.
        match previous {
            Some(old) => update.require_equal(attribute, s(old)),
            None => update.require_absent(attribute),
        };
        let mut items = vec![
            put(&self.table, keyed(keys::token(t, token_hash), keys::TOKEN, token)?, None)?,
            update.transact_item(&self.table, keys::user(t, &user.user_id))?,
            put(&self.table, audit_item(audit)?, None)?,
            outbox_item(&self.table, mail)?,
        ];
        if let Some(old) = previous.filter(|old| *old != token_hash) {
            items.push(delete_item(&self.table, keys::token(t, old), keys::TOKEN, None)?);
        }
        self.transact(items).await
    }

    /// Consumes a single-use token and applies `change` to its user, atomically: the token item is
    /// deleted on condition that it still exists and has not expired, and the user is updated on
    /// condition that this token is still the newest of its kind (and that `change`'s own guard
    /// holds). Of any number of concurrent uses exactly one gets `Written::Done`.
    ///
    /// `counters` ride along (a completed reset clears the account's failed sign-ins).
    #[allow(clippy::too_many_arguments)]
    pub async fn consume_token(
        &self,
        token_hash: &str,
        token: &TokenRecord,
        change: UserUpdate,
        audit: &AuditRecord,
        revoke_sessions: &[String],
        counters: &[Quota],
        mail: Option<&OutboxRecord>,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let mut items = self.consumption(token_hash, token, change, audit, revoke_sessions, now)?;
        if let Some(mail) = mail {
            items.push(outbox_item(&self.table, mail)?);
        }
        Ok(match self.commit(items, counters).await? {
            Committed::Done => Written::Done,
            _ => Written::ConditionFailed,
        })
    }

    /// Consumes a token, applies `change` and issues a follow-up token (the deletion notice's cancel
    /// link), in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn consume_token_issuing(
        &self,
        token_hash: &str,
        token: &TokenRecord,
        change: UserUpdate,
        audit: &AuditRecord,
        next_hash: &str,
        next: &TokenRecord,
        revoke_sessions: &[String],
        mail: &OutboxRecord,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let mut items = self.consumption(token_hash, token, change, audit, revoke_sessions, now)?;
        items.push(outbox_item(&self.table, mail)?);
        items.push(put(
            &self.table,
            keyed(keys::token(&token.tenant_id, next_hash), keys::TOKEN, next)?,
            None,
        )?);
        self.transact(items).await
    }

    /// The items of a token's consumption: the token deleted on condition that it exists and has
    /// not expired, the user updated on condition that this token is still the newest of its kind,
    /// the audit event, and the sessions that must end with the change (a password reset), so that
    /// the change can never commit while they live on.
    fn consumption(
        &self,
        token_hash: &str,
        token: &TokenRecord,
        mut change: UserUpdate,
        audit: &AuditRecord,
        revoke_sessions: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<TransactWriteItem>> {
        let t = &token.tenant_id;
        let attribute = token.kind.user_attribute();
        change
            .require_equal(attribute, s(token_hash))
            .remove(attribute)
            .set("updated_at", s(now.to_rfc3339()));
        let mut items = vec![
            delete_item(
                &self.table,
                keys::token(t, token_hash),
                keys::TOKEN,
                Some(("attribute_exists(pk) AND expires_at > :now", ":now", n(now.timestamp()))),
            )?,
            change.transact_item(&self.table, keys::user(t, &token.user_id))?,
            put(&self.table, audit_item(audit)?, None)?,
        ];
        for sid in revoke_sessions {
            items.push(delete_item(&self.table, keys::user(t, &token.user_id), &keys::session(sid), None)?);
        }
        Ok(items)
    }

    /// Stores a token that names no existing user (a magic link to a new address), with its mail
    /// and a decoy in place of the user update a known address's link makes: the same transaction
    /// shape as `issue_token`.
    pub async fn put_token(&self, token_hash: &str, token: &TokenRecord, mail: &OutboxRecord) -> Result<()> {
        let t = &token.tenant_id;
        self.transact(vec![
            put(&self.table, keyed(keys::token(t, token_hash), keys::TOKEN, token)?, None)?,
            put(&self.table, decoy_item(t, token.created_at), None)?,
            put(&self.table, decoy_item(t, token.created_at), None)?,
            outbox_item(&self.table, mail)?,
        ])
        .await
        .map(|_| ())
    }

    /// The write an unknown address costs, so that it costs the same as a known one's
    /// `issue_token`: a transaction of as many items, each already expired and never read.
    pub async fn decoy_write(&self, tenant: &str, now: DateTime<Utc>) -> Result<()> {
        let items = (0..4).map(|_| put(&self.table, decoy_item(tenant, now), None)).collect::<Result<_>>()?;
        self.transact(items).await.map(|_| ())
    }

    /// A mail with no other work to commit with (the existing-account notice).
    pub async fn put_outbox(&self, mail: &OutboxRecord) -> Result<()> {
        self.transact(vec![outbox_item(&self.table, mail)?]).await.map(|_| ())
    }

    /// The mailer's claim on an item before it sends: only while the item is unclaimed, or its
    /// claim's lease has run out (a mailer that died mid-send). Each claim counts an attempt.
    pub async fn claim_outbox(
        &self,
        mail: &OutboxRecord,
        now: DateTime<Utc>,
        lease_seconds: i64,
    ) -> Result<Claim> {
        let pk = keys::outbox(&mail.tenant_id, &mail.id);
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk.clone()))
            .key("sk", s(keys::MAIL))
            .update_expression("SET claimed_until = :until ADD attempts :one")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(claimed_until) OR claimed_until < :now)",
            )
            .expression_attribute_values(":until", n(now.timestamp() + lease_seconds))
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let attempt = out
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get("attempts"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                Ok(Claim::Claimed { attempt })
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                // Gone (sent and deleted) or held by a live claim: the read tells which.
                Ok(match self.get::<OutboxRecord>(pk, keys::MAIL).await? {
                    None => Claim::Gone,
                    Some(_) => Claim::Held,
                })
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Gives a claim back after a send failed, so that the stream's retry sends it.
    pub async fn release_outbox(&self, mail: &OutboxRecord) -> Result<()> {
        self.client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::outbox(&mail.tenant_id, &mail.id)))
            .key("sk", s(keys::MAIL))
            .update_expression("REMOVE claimed_until")
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Removes a sent mail (and with it the sealed token).
    pub async fn delete_outbox(&self, mail: &OutboxRecord) -> Result<()> {
        self.client()
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(keys::outbox(&mail.tenant_id, &mail.id)))
            .key("sk", s(keys::MAIL))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// What a refused login writes: the audit event of the account it named (or, for an unknown
    /// address, a decoy item in its place, so both cost the same write) and its quotas.
    pub async fn record_failed_login(
        &self,
        tenant: &str,
        audit: Option<&AuditRecord>,
        now: DateTime<Utc>,
        quotas: &[Quota],
        mail: Option<&OutboxRecord>,
    ) -> Result<Committed> {
        let item = match audit {
            Some(audit) => audit_item(audit)?,
            None => decoy_item(tenant, now),
        };
        let mut items = vec![put(&self.table, item, None)?];
        if let Some(mail) = mail {
            items.push(outbox_item(&self.table, mail)?);
        }
        self.commit(items, quotas).await
    }

    /// Takes quotas with no other write.
    pub async fn take_quotas(&self, quotas: &[Quota]) -> Result<Committed> {
        self.commit(Vec::new(), quotas).await
    }

    /// Creates a verified account from a magic link sent to a new address: the token, the email
    /// lock and the user in one transaction, as at registration.
    pub async fn create_user_from_token(
        &self,
        user: &UserRecord,
        token_hash: &str,
        audit: &AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let t = &user.tenant_id;
        self.transact(vec![
            delete_item(
                &self.table,
                keys::token(t, token_hash),
                keys::TOKEN,
                Some(("attribute_exists(pk) AND expires_at > :now", ":now", n(now.timestamp()))),
            )?,
            put(
                &self.table,
                keyed(
                    keys::email(t, &user.email_normalized),
                    keys::EMAIL,
                    &EmailLock { user_id: user.user_id.clone() },
                )?,
                Some("attribute_not_exists(pk)"),
            )?,
            put(
                &self.table,
                keyed(keys::user(t, &user.user_id), keys::PROFILE, user)?,
                Some("attribute_not_exists(pk)"),
            )?,
            put(&self.table, audit_item(audit)?, None)?,
        ])
        .await
    }

    /// Applies an update built with `UserUpdate` to a user on its own; `false` when its conditions
    /// do not hold.
    pub async fn update_user_with(
        &self,
        tenant: &str,
        user_id: &str,
        mut update: UserUpdate,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        update.set_str("updated_at", now.to_rfc3339());
        let p = update.parts();
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::user(tenant, user_id)))
            .key("sk", s(keys::PROFILE))
            .update_expression(p.expression)
            .condition_expression(p.condition)
            .set_expression_attribute_names(Some(p.names))
            .set_expression_attribute_values(p.values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(false)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Sets (`Some`) or removes (`None`) user attributes under a guard; `false` when the guard (or
    /// the user's existence) does not hold.
    pub async fn update_user(
        &self,
        tenant: &str,
        user_id: &str,
        changes: &[(&str, Option<String>)],
        guard: Guard,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut update = UserUpdate::new(guard);
        for (attribute, value) in changes {
            match value {
                Some(v) => update.set_str(attribute, v.clone()),
                None => update.remove(attribute),
            };
        }
        self.update_user_with(tenant, user_id, update, now).await
    }

    /// Accounts whose erasure is due, as (tenant, user id), from the deletion index.
    pub async fn deletions_due(&self, now: DateTime<Utc>) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        let upper = format!("{}~", now.format("%Y-%m-%dT%H:%M:%SZ"));
        loop {
            let page = self
                .client()
                .query()
                .table_name(&self.table)
                .index_name("gsi1")
                .key_condition_expression("gsi1pk = :pk AND gsi1sk <= :due")
                .expression_attribute_values(":pk", s(keys::DELETION_INDEX))
                .expression_attribute_values(":due", s(upper.clone()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                if let (Some(t), Some(u)) = (
                    item.get("tenant_id").and_then(|v| v.as_s().ok()),
                    item.get("user_id").and_then(|v| v.as_s().ok()),
                ) {
                    out.push((t.clone(), u.clone()));
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// Erases an account: its partition (profile, sessions), email lock, every token it names and
    /// its audit partition.
    pub async fn erase_user(&self, user: &UserRecord) -> Result<()> {
        let t = &user.tenant_id;
        let mut requests = Vec::new();
        for item in self.query_partition(keys::user(t, &user.user_id), None).await? {
            // The profile goes last (below): while it exists, the purge finds the account again.
            if let Some(sk) = item.get("sk").and_then(|v| v.as_s().ok()).filter(|sk| *sk != keys::PROFILE) {
                requests.push(delete_request(keys::user(t, &user.user_id), sk.clone())?);
            }
        }
        for item in self.query_partition(keys::audit(t, &user.user_id), None).await? {
            if let Some(sk) = item.get("sk").and_then(|v| v.as_s().ok()) {
                requests.push(delete_request(keys::audit(t, &user.user_id), sk.clone())?);
            }
        }
        for hash in user.token_hashes() {
            requests.push(delete_request(keys::token(t, hash), keys::TOKEN.to_owned())?);
        }
        for chunk in requests.chunks(25) {
            self.batch_write(chunk.to_vec()).await?;
        }
        // The profile and the lock last, together: if anything before failed, the account is still
        // found (and its address still taken) and the next purge finishes the job.
        self.transact(vec![
            delete_item(&self.table, keys::user(t, &user.user_id), keys::PROFILE, None)?,
            delete_item(&self.table, keys::email(t, &user.email_normalized), keys::EMAIL, None)?,
        ])
        .await
        .map(|_| ())
    }

    /// One page of a user's audit events, newest first, and the key to continue after it.
    pub async fn audit_page(
        &self,
        tenant: &str,
        user_id: &str,
        limit: i32,
        after: Option<&str>,
    ) -> Result<(Vec<AuditRecord>, Option<String>)> {
        let pk = keys::audit(tenant, user_id);
        let start =
            after.map(|sk| HashMap::from([("pk".to_owned(), s(pk.clone())), ("sk".to_owned(), s(sk))]));
        let out = self
            .client()
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(false)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(unavailable)?;
        let next =
            out.last_evaluated_key.as_ref().and_then(|k| k.get("sk")).and_then(|v| v.as_s().ok()).cloned();
        let records = out.items.unwrap_or_default().into_iter().map(decode).collect::<Result<Vec<_>>>()?;
        Ok((records, next))
    }

    // ----- sessions ----------------------------------------------------------------------------

    /// Stores a new session and its audit event, deletes the sessions it evicts and takes the
    /// login's quotas, in one transaction (the session id is fresh, and deleting a session that is
    /// already gone is harmless, so only the quotas have conditions).
    /// The user must still be active and at the session's credential version (the one the caller
    /// read with the credential it checked): otherwise `ConditionFailed` and nothing is written.
    pub async fn start_session(
        &self,
        session: &SessionRecord,
        evict: &[String],
        audit: &AuditRecord,
        quotas: &[Quota],
    ) -> Result<Committed> {
        let user_pk = keys::user(&session.tenant_id, &session.user_id);
        let mut items = vec![
            put(&self.table, keyed(user_pk.clone(), &keys::session(&session.session_id), session)?, None)?,
            put(&self.table, audit_item(audit)?, None)?,
            user_state_check(&self.table, &session.tenant_id, &session.user_id, session.credential_version)?,
        ];
        // A transaction holds at most 100 items; sessions left over go at a later login.
        for sid in evict.iter().take(MAX_TRANSACTION_ITEMS - items.len() - quotas.len()) {
            items.push(delete_item(&self.table, user_pk.clone(), &keys::session(sid), None)?);
        }
        self.commit(items, quotas).await
    }

    /// The user and its sessions, in one strongly consistent query of the user's partition.
    pub async fn user_with_sessions(
        &self,
        tenant: &str,
        user_id: &str,
    ) -> Result<Option<(UserRecord, Vec<SessionRecord>)>> {
        let items = self.query_partition(keys::user(tenant, user_id), None).await?;
        let mut user = None;
        let mut sessions = Vec::new();
        for item in items {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if sk == keys::PROFILE {
                user = Some(decode::<UserRecord>(item)?);
            } else if sk.starts_with(keys::SESSION_PREFIX) {
                sessions.push(decode::<SessionRecord>(item)?);
            }
        }
        Ok(user.map(|u| (u, sessions)))
    }

    /// What login needs, in two reads: the email lock with the account's consecutive-failure
    /// count (one strongly consistent batch), then the user's partition (profile and sessions). An
    /// unknown address costs the same two reads (the second of an empty partition), so that the
    /// time of a login does not tell whether the address has an account.
    pub async fn login_view(
        &self,
        tenant: &str,
        normalized_email: &str,
        failures: &Quota,
    ) -> Result<LoginView> {
        let lock_pk = keys::email(tenant, normalized_email);
        let wanted = vec![
            (lock_pk.clone(), keys::EMAIL.to_owned()),
            (failures.pk.clone(), counter_sk(failures.window)),
        ];
        let items = self.get_many(wanted).await?;
        let find = |pk: &str| {
            items.iter().find(|i| i.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|v| v == pk))
        };
        let failures = count_of(find(&failures.pk));
        let found = match find(&lock_pk).cloned().map(decode::<EmailLock>).transpose()? {
            Some(lock) => self.user_with_sessions(tenant, &lock.user_id).await?,
            None => {
                self.query_partition(keys::user(tenant, keys::DECOY), None).await?;
                None
            }
        };
        Ok(LoginView { found, failures })
    }

    /// An account's consecutive failed password checks (`ratelimit::failure_counter`).
    pub async fn failures(&self, counter: &Quota) -> Result<u64> {
        #[derive(serde::Deserialize)]
        struct Counter {
            #[serde(default)]
            count: u64,
        }
        let item: Option<Counter> = self.get(counter.pk.clone(), &counter_sk(counter.window)).await?;
        Ok(item.map_or(0, |c| c.count))
    }

    /// The public signing keys (`keys::PublicKeySet`), as rotation last published them.
    pub async fn public_keys(&self) -> Result<Option<PublicKeySet>> {
        let (pk, sk) = keys::PUBLIC_KEYS;
        self.get::<PublicKeysItem>(pk.to_owned(), sk).await?.map(PublicKeysItem::into_set).transpose()
    }

    /// A session and the public signing keys, in one strongly consistent `BatchGetItem`: what a
    /// verifying function reads when its cached keys are missing or stale, at no extra call.
    pub async fn session_with_public_keys(
        &self,
        tenant: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<(Option<SessionRecord>, Option<PublicKeySet>)> {
        let (keys_pk, keys_sk) = keys::PUBLIC_KEYS;
        let items = self
            .get_many(vec![
                (keys::user(tenant, user_id), keys::session(session_id)),
                (keys_pk.to_owned(), keys_sk.to_owned()),
            ])
            .await?;
        let (mut session, mut public) = (None, None);
        for item in items {
            if item.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk == keys_pk) {
                public = Some(decode::<PublicKeysItem>(item)?.into_set()?);
            } else {
                session = Some(decode(item)?);
            }
        }
        Ok((session, public))
    }

    /// Publishes the public signing keys (rotation, `authctl keys ensure`).
    pub async fn put_public_keys(&self, set: &PublicKeySet) -> Result<()> {
        let (pk, sk) = keys::PUBLIC_KEYS;
        let jwks = serde_json::to_string(&set.jwks).map_err(internal)?;
        let item = PublicKeysItem { current_kid: set.current_kid.clone(), jwks, updated_at: set.updated_at };
        self.client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(keyed(pk.to_owned(), sk, &item)?))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// A session and its user, in one strongly consistent `BatchGetItem`.
    pub async fn session_with_user(
        &self,
        tenant: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<(Option<SessionRecord>, Option<UserRecord>)> {
        let pk = keys::user(tenant, user_id);
        let items = self
            .get_many(vec![(pk.clone(), keys::session(session_id)), (pk, keys::PROFILE.to_owned())])
            .await?;
        let (mut session, mut user) = (None, None);
        for item in items {
            match item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) {
                Some(keys::PROFILE) => user = Some(decode(item)?),
                Some(_) => session = Some(decode(item)?),
                None => {}
            }
        }
        Ok((session, user))
    }

    /// A password change, in one transaction: the new hash and a new credential version (only
    /// while the user is active and still at the version `user` was read with), the caller's
    /// session carried over to the new version, every other session deleted, the audit event.
    /// `ConditionFailed` when the user or the caller's session changed meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_password(
        &self,
        user: &UserRecord,
        password_hash: &str,
        keep_session: &str,
        revoke: &[String],
        audit: &AuditRecord,
        counters: &[Quota],
        mail: &OutboxRecord,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let (t, id) = (&user.tenant_id, &user.user_id);
        let mut change = UserUpdate::new(Guard::Active);
        change
            .require_credential_version(user.credential_version)
            .set_str("password_hash", password_hash)
            .set_str("updated_at", now.to_rfc3339())
            .bump_credential_version();
        let kept = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::user(t, id)))
            .key("sk", s(keys::session(keep_session)))
            .update_expression("SET #cv = :cv")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#cv", CREDENTIAL_VERSION)
            .expression_attribute_values(":cv", n(user.credential_version as i64 + 1))
            .build()
            .map_err(internal)?;
        let mut items = vec![
            change.transact_item(&self.table, keys::user(t, id))?,
            TransactWriteItem::builder().update(kept).build(),
            put(&self.table, audit_item(audit)?, None)?,
            outbox_item(&self.table, mail)?,
        ];
        let room = MAX_TRANSACTION_ITEMS - items.len() - counters.len();
        for sid in revoke.iter().filter(|sid| *sid != keep_session).take(room) {
            items.push(delete_item(&self.table, keys::user(t, id), &keys::session(sid), None)?);
        }
        Ok(match self.commit(items, counters).await? {
            Committed::Done => Written::Done,
            _ => Written::ConditionFailed,
        })
    }

    /// Every session item of a user (live or expired but not yet removed by TTL).
    pub async fn sessions(&self, tenant: &str, user_id: &str) -> Result<Vec<SessionRecord>> {
        self.query_partition(keys::user(tenant, user_id), Some(keys::SESSION_PREFIX))
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// Rotates a session's refresh token, writes its audit event and takes the request's quotas in
    /// one transaction: only the holder of the current token (its hash and generation) wins, so
    /// concurrent refreshes leave exactly one live child. A lost condition hands back the session
    /// as it is now (or `None` when it is gone) so that the caller can tell a benign retry from a
    /// replayed token.
    pub async fn rotate_session(
        &self,
        rotation: &SessionRotation<'_>,
        audit: &AuditRecord,
        quotas: &[Quota],
    ) -> Result<Rotated> {
        let r = rotation;
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::user(r.tenant, r.user_id)))
            .key("sk", s(keys::session(r.session_id)))
            .update_expression(match r.idle_expires_at {
                Some(_) => {
                    "SET refresh_hash = :new, generation = :next, prev_hash = :old, rotated_at = :now, \
                     last_used_at = :now, expires_at = :exp, #ttl = :exp, ip = :ip, user_agent = :ua, \
                     absolute_expires_at = :abs, idle_expires_at = :idle"
                }
                None => {
                    "SET refresh_hash = :new, generation = :next, prev_hash = :old, rotated_at = :now, \
                     last_used_at = :now, expires_at = :exp, #ttl = :exp, ip = :ip, user_agent = :ua, \
                     absolute_expires_at = :abs REMOVE idle_expires_at"
                }
            })
            // The session as it was read: current token, unexpired in every sense. No leeway.
            .condition_expression(
                "attribute_exists(pk) AND refresh_hash = :old AND generation = :gen AND expires_at > :epoch \
                 AND (attribute_not_exists(absolute_expires_at) OR absolute_expires_at = :zero \
                 OR absolute_expires_at > :epoch) \
                 AND (attribute_not_exists(idle_expires_at) OR idle_expires_at > :epoch)",
            )
            .expression_attribute_values(":abs", n(r.absolute_expires_at))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":new", s(r.new_hash))
            .expression_attribute_values(":old", s(r.presented_hash))
            .expression_attribute_values(":gen", n(r.generation as i64))
            .expression_attribute_values(":next", n(r.generation as i64 + 1))
            .expression_attribute_values(":now", s(r.now.to_rfc3339()))
            .expression_attribute_values(":epoch", n(r.now.timestamp()))
            .expression_attribute_values(":exp", n(r.expires_at))
            .expression_attribute_values(":ip", s(r.ip.unwrap_or_default()))
            .expression_attribute_values(":ua", s(r.user_agent.unwrap_or_default()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(idle) = r.idle_expires_at {
            update = update.expression_attribute_values(":idle", n(idle));
        }
        let items = vec![
            TransactWriteItem::builder().update(update.build().map_err(internal)?).build(),
            put(&self.table, audit_item(audit)?, None)?,
            user_state_check(&self.table, r.tenant, r.user_id, r.credential_version)?,
        ];
        match self.commit_with_reasons(items, quotas).await? {
            (Committed::Done, _) => Ok(Rotated::Done),
            (Committed::OverLimit(i), _) => Ok(Rotated::OverLimit(i)),
            (Committed::ConditionFailed, reasons)
                if reasons.first().is_none_or(|r| r.code() != Some("ConditionalCheckFailed")) =>
            {
                // The session was as read, but its user changed credential or state meanwhile.
                Ok(Rotated::Lost(None))
            }
            (Committed::ConditionFailed, reasons) => {
                let returned = reasons.into_iter().next().and_then(|r| r.item);
                let current = match returned {
                    Some(item) => Some(Box::new(decode::<SessionRecord>(item)?)),
                    // Not every DynamoDB returns the item: read it.
                    None => self.session(r.tenant, r.user_id, r.session_id).await?.map(Box::new),
                };
                Ok(Rotated::Lost(current))
            }
        }
    }

    /// Deletes one session of a user; `false` when the user has no such session.
    pub async fn revoke_session(&self, tenant: &str, user_id: &str, session_id: &str) -> Result<bool> {
        let result = self
            .client()
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(keys::user(tenant, user_id)))
            .key("sk", s(keys::session(session_id)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(false)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Deletes sessions of a user (and stores an audit event) in batches.
    pub async fn revoke_sessions(
        &self,
        tenant: &str,
        user_id: &str,
        session_ids: &[String],
        audit: Option<&AuditRecord>,
    ) -> Result<()> {
        let mut requests = Vec::new();
        for sid in session_ids {
            requests.push(delete_request(keys::user(tenant, user_id), keys::session(sid))?);
        }
        if let Some(a) = audit {
            requests.push(put_request(audit_item(a)?)?);
        }
        for chunk in requests.chunks(25) {
            self.batch_write(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// The session as stored, or `None` when it was revoked (deleted). Strongly consistent: a
    /// revocation must bite on the very next request.
    pub async fn session(
        &self,
        tenant: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionRecord>> {
        self.get(keys::user(tenant, user_id), &keys::session(session_id)).await
    }

    // ----- audit -------------------------------------------------------------------------------

    /// Stores an audit event where the answer must not depend on it (the change it records has
    /// happened, or the answer must look the same for every account): a failure is logged only.
    /// The event's log line was written when it was recorded.
    pub async fn put_audit_or_log(&self, audit: &AuditRecord) {
        if let Err(e) = self.put_audit(audit).await {
            tracing::error!(error = %e, event = audit.kind.as_str(), "audit event could not be stored");
        }
    }

    pub async fn put_audit(&self, audit: &AuditRecord) -> Result<()> {
        self.client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(audit_item(audit)?))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    // ----- plumbing ----------------------------------------------------------------------------

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
    user_id: String,
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

fn audit_item(audit: &AuditRecord) -> Result<Item> {
    keyed(keys::audit(&audit.tenant_id, &audit.user_id), &keys::audit_event(&audit.id), audit)
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

/// A condition on the user item, as a transaction item: it exists, is active and is still at the
/// credential version `version`. Session starts and rotations carry it, so that neither commits
/// after the credential it was checked against has changed or the account was disabled.
fn user_state_check(table: &str, tenant: &str, user_id: &str, version: u64) -> Result<TransactWriteItem> {
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
    format!("W#{window}")
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
fn decoy_item(tenant: &str, now: DateTime<Utc>) -> Item {
    let (_, hash) = crate::crypto::new_token();
    Item::from([
        ("pk".to_owned(), s(format!("T#{tenant}#{}#{hash}", keys::DECOY))),
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

/// Any SDK failure (throttling, timeout, network, 5xx) makes the store unavailable for this
/// request. The SDK's error, kept as the source, goes to the log line only.
fn unavailable<E, R>(e: SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Error::dependency(DYNAMODB, e)
}
