//! End-users' API keys: one item per key that the authorizer finds by id (`T#<t>#APIKEY#<id>`),
//! and an entry per key in its owner's partition, which the list, the limit of live keys and the
//! owner's status changes read strongly consistently. Every write that adds or removes a key bumps
//! the owner's `api_keys_version`, and every status change of the owner is conditioned on it, so a
//! key can never miss its owner's new status.

use super::keys;
use std::future::Future;

use super::items::{decode, delete_item, keyed, n, put, s};
use super::transact::condition_held;
use super::update::{KeysFollowing, UserUpdate};
use super::{Guard, Store, Written};
use crate::error::Result;
use crate::ids::{AppId, KeyId, UserId};
use crate::model::UserRecord;
use crate::model::{ApiKeyRecord, ApiKeyRef};
use chrono::{DateTime, Utc};

/// How many times a status change is tried when keys come or go under it (a user racing their
/// own disabling with key creations and revocations, which are rate-limited).
const STATUS_CHANGE_ATTEMPTS: usize = 5;

/// What the creation of a key found.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyCreated {
    Done,
    /// The owner is no longer active, or their keys changed since they were counted.
    ConditionFailed,
}

impl Store {
    /// The owner's key version and key entries, in that order: a key created between the two
    /// reads shows up in the entries with an older version, which fails the write (never the
    /// other way round).
    pub async fn api_keys_state(
        &self,
        tenant: &AppId,
        user_id: &UserId,
    ) -> Result<Option<(UserRecord, Vec<ApiKeyRef>)>> {
        let Some(user) = self.user(tenant, user_id).await? else {
            return Ok(None);
        };
        let items = self.query_partition(keys::user(tenant, user_id), Some(keys::API_KEY_REF_PREFIX)).await?;
        let refs = items.into_iter().map(decode).collect::<Result<Vec<ApiKeyRef>>>()?;
        Ok(Some((user, refs)))
    }

    /// Stores a new key and its owner's entry, while the owner is active and their keys are still
    /// at `seen_version` (the count of live keys was made at it).
    pub async fn create_api_key(&self, key: &ApiKeyRecord, seen_version: u64) -> Result<KeyCreated> {
        let (t, owner) = (&key.tenant_id, &key.user_id);
        let entry = ApiKeyRef {
            key_id: key.key_id.clone(),
            created_at: key.created_at,
            expires_at: key.expires_at,
            ttl: key.ttl,
        };
        let mut owner_update = UserUpdate::new(Guard::Active);
        owner_update.require_api_keys_version(seen_version).bump_api_keys_version();
        let items = vec![
            put(
                &self.table,
                keyed(keys::api_key(t, &key.key_id), keys::API_KEY, key)?,
                Some("attribute_not_exists(pk)"),
            )?,
            put(&self.table, keyed(keys::user(t, owner), &keys::api_key_ref(&key.key_id), &entry)?, None)?,
            owner_update.transact_item(&self.table, keys::user(t, owner))?,
        ];
        Ok(match self.transact(items).await? {
            Written::Done => KeyCreated::Done,
            Written::ConditionFailed => KeyCreated::ConditionFailed,
        })
    }

    /// A key as stored, by its id within an app (strongly consistent: a revoked key is dead for
    /// the next request).
    pub async fn api_key(&self, tenant: &AppId, key_id: &KeyId) -> Result<Option<ApiKeyRecord>> {
        self.get(keys::api_key(tenant, key_id), keys::API_KEY).await
    }

    /// The keys of a user, oldest first: their entries, then the keys in one batch.
    pub async fn api_keys(&self, tenant: &AppId, user_id: &UserId) -> Result<Vec<ApiKeyRecord>> {
        let items = self.query_partition(keys::user(tenant, user_id), Some(keys::API_KEY_REF_PREFIX)).await?;
        let refs = items.into_iter().map(decode).collect::<Result<Vec<ApiKeyRef>>>()?;
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(100) {
            let wanted =
                chunk.iter().map(|r| (keys::api_key(tenant, &r.key_id), keys::API_KEY.to_owned())).collect();
            for item in self.get_many(wanted).await? {
                let key: ApiKeyRecord = decode(item)?;
                if key.user_id == *user_id {
                    out.push(key);
                }
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.key_id).cmp(&(b.created_at, &b.key_id)));
        Ok(out)
    }

    /// Deletes a key of `owner` and its entry together; `false` when the owner has no such key.
    pub async fn revoke_api_key(&self, tenant: &AppId, owner: &UserId, key_id: &KeyId) -> Result<bool> {
        let mine = ("attribute_exists(pk) AND user_id = :owner", ":owner", s(owner.as_str()));
        let mut owner_update = UserUpdate::new(Guard::Exists);
        owner_update.bump_api_keys_version();
        let items = vec![
            delete_item(&self.table, keys::api_key(tenant, key_id), keys::API_KEY, Some(mine))?,
            delete_item(&self.table, keys::user(tenant, owner), &keys::api_key_ref(key_id), None)?,
            owner_update.transact_item(&self.table, keys::user(tenant, owner))?,
        ];
        Ok(self.transact(items).await? == Written::Done)
    }

    /// Replaces a key's secret, only over the secret this request read (of two concurrent
    /// rotations one wins). With `grace_until` the old secret keeps working until then; without,
    /// any earlier grace ends too.
    pub async fn rotate_api_key(
        &self,
        key: &ApiKeyRecord,
        new_hash: &str,
        new_prefix: &str,
        grace_until: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut update = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::api_key(&key.tenant_id, &key.key_id)))
            .key("sk", s(keys::API_KEY))
            .condition_expression("attribute_exists(pk) AND #hash = :old AND user_id = :owner")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_values(":old", s(key.hash.clone()))
            .expression_attribute_values(":owner", s(key.user_id.as_str()))
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":prefix", s(new_prefix))
            .expression_attribute_values(":now", s(now.to_rfc3339()));
        update = match grace_until {
            Some(until) => update
                .update_expression(
                    "SET #hash = :new, prefix = :prefix, rotated_at = :now, previous_hash = :old, previous_valid_until = :until",
                )
                .expression_attribute_values(":until", n(until)),
            None => update.update_expression(
                "SET #hash = :new, prefix = :prefix, rotated_at = :now REMOVE previous_hash, previous_valid_until",
            ),
        };
        condition_held(update.send().await)
    }

    /// Records that a key was used (at most once a minute per key: see `api_keys::authenticate`).
    pub async fn touch_api_key(&self, tenant: &AppId, key_id: &KeyId, now: DateTime<Utc>) -> Result<()> {
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::api_key(tenant, key_id)))
            .key("sk", s(keys::API_KEY))
            .update_expression("SET last_used_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .send()
            .await;
        // A key revoked meanwhile is simply not touched.
        condition_held(result).map(|_| ())
    }

    /// Runs a write that applies `update` to a user: when it changes the user's status, with every
    /// key of the user taking that status in the same transaction (`follow_keys`), tried again
    /// when a key came or went between the read of the keys and the write.
    pub(super) async fn with_keys_following<'a, F, Fut>(
        &'a self,
        tenant: &'a AppId,
        user_id: &'a UserId,
        update: UserUpdate,
        write: F,
    ) -> Result<Written>
    where
        F: Fn(UserUpdate) -> Fut,
        Fut: Future<Output = Result<Written>> + 'a,
    {
        if !update.needs_keys() {
            return write(update).await;
        }
        for attempt in 1..=STATUS_CHANGE_ATTEMPTS {
            let mut following = update.clone();
            let Some(seen) = self.follow_keys(tenant, user_id, &mut following).await? else {
                return Ok(Written::ConditionFailed); // no such user
            };
            let outcome = write(following).await?;
            if outcome == Written::Done || attempt == STATUS_CHANGE_ATTEMPTS {
                return Ok(outcome);
            }
            // Failed: because of the write's own conditions, or because the keys changed.
            match self.user(tenant, user_id).await? {
                Some(user) if user.api_keys_version != seen => {
                    tokio::time::sleep(std::time::Duration::from_millis(10 << attempt)).await;
                }
                _ => return Ok(outcome),
            }
        }
        Ok(Written::ConditionFailed)
    }

    /// Reads the user's keys into a status change, and returns the key version it was read at.
    async fn follow_keys(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        update: &mut UserUpdate,
    ) -> Result<Option<u64>> {
        let Some((user, refs)) = self.api_keys_state(tenant, user_id).await? else {
            return Ok(None);
        };
        let version = user.api_keys_version;
        // The live keys only: at most `MAX_API_KEYS_PER_USER` (their count is held at creation),
        // so the transaction stays within DynamoDB's 100 items however many keys have expired.
        // An expired key is refused by its expiry whatever its owner's state; one that expires
        // during this write is still there (TTL removes a key only a day after its expiry).
        let now = Utc::now().timestamp();
        let key_ids = refs.into_iter().filter(|r| r.expires_at > now).map(|r| r.key_id).collect();
        update.keys = Some(KeysFollowing { tenant: tenant.clone(), version, key_ids });
        Ok(Some(version))
    }
}
