//! Users: the account item, its email lock, look-ups, profile changes, erasure.

use super::index::{Index, IndexQuery};
use super::items::{
    EmailLock, audit_item, count_of, counter_sk, decode, delete_item, delete_request, keyed,
    new_account_items, outbox_item, put, s,
};
use super::keys;
use super::transact::{condition_held, consume_live_token, unavailable};
use super::update::UserUpdate;
use super::{Committed, Guard, LoginView, Quota, Store, Written};
use crate::error::Result;
use crate::ids::{AppId, UserId};
use crate::model::{AuditRecord, TokenRecord, UserRecord};
use crate::outbox::OutboxRecord;
use chrono::{DateTime, Utc};

impl Store {
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
        let [lock, profile] = new_account_items(&self.table, user)?;
        let items = vec![
            outbox_item(&self.table, mail)?,
            lock,
            profile,
            put(&self.table, keyed(keys::token(t, token_hash), keys::TOKEN, token)?, None)?,
            put(&self.table, audit_item(audit)?, None)?,
        ];
        self.commit(items, &[]).await
    }

    pub async fn user(&self, tenant: &AppId, user_id: &UserId) -> Result<Option<UserRecord>> {
        self.get(keys::user(tenant, user_id), keys::PROFILE).await
    }

    /// Finds a user by normalised email: the lock item names the user, then the user item is read.
    /// Both reads are strongly consistent, so a password changed a moment ago is the one checked.
    pub async fn user_by_email(&self, tenant: &AppId, normalized_email: &str) -> Result<Option<UserRecord>> {
        let Some(lock) = self.get::<EmailLock>(keys::email(tenant, normalized_email), keys::EMAIL).await?
        else {
            // The second read a known address costs, so that both take as long.
            self.get::<EmailLock>(keys::decoy_user(tenant), keys::PROFILE).await?;
            return Ok(None);
        };
        self.user(tenant, &lock.user_id).await
    }

    /// Applies a profile change: `Some(value)` sets a field, `None` removes it; fields not listed
    /// stay. Returns the user as stored afterwards.
    pub async fn update_profile(
        &self,
        tenant: &AppId,
        user_id: &UserId,
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
        let [lock, profile] = new_account_items(&self.table, user)?;
        self.transact(vec![
            consume_live_token(&self.table, t, token_hash, now)?,
            lock,
            profile,
            put(&self.table, audit_item(audit)?, None)?,
        ])
        .await
    }

    /// Applies an update built with `UserUpdate` to a user on its own; `false` when its conditions
    /// do not hold.
    pub async fn update_user_with(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        mut update: UserUpdate,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        update.set_str("updated_at", now.to_rfc3339());
        if update.status.is_some() {
            // A status change: a transaction, with the user's keys.
            let written = self
                .with_keys_following(tenant, user_id, update, |update| async move {
                    self.transact(update.transact_items(&self.table, keys::user(tenant, user_id))?).await
                })
                .await?;
            return Ok(written == Written::Done);
        }
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
        condition_held(result)
    }

    /// Sets (`Some`) or removes (`None`) user attributes under a guard; `false` when the guard (or
    /// the user's existence) does not hold.
    pub async fn update_user(
        &self,
        tenant: &AppId,
        user_id: &UserId,
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
    pub async fn deletions_due(&self, now: DateTime<Utc>) -> Result<Vec<(AppId, UserId)>> {
        let upper = format!("{}~", now.format("%Y-%m-%dT%H:%M:%SZ"));
        let due =
            self.index_all(&IndexQuery::new(Index::Gsi1, keys::DELETION_INDEX).sk_at_most(upper)).await?;
        Ok(due
            .iter()
            .filter_map(|item| {
                let tenant =
                    item.get("tenant_id").and_then(|v| v.as_s().ok()).and_then(|t| AppId::parse(t))?;
                let user = item.get("user_id").and_then(|v| v.as_s().ok()).and_then(|u| UserId::parse(u))?;
                Some((tenant, user))
            })
            .collect())
    }

    /// Erases an account: its partition (profile, sessions, key and identity entries), its API
    /// keys and social identities, email lock, every token it names and its audit partition.
    pub async fn erase_user(&self, user: &UserRecord) -> Result<()> {
        let t = &user.tenant_id;
        let mut requests = Vec::new();
        let mut key_items = Vec::new();
        for item in self.query_partition(keys::user(t, &user.user_id), None).await? {
            // The profile goes last (below): while it exists, the purge finds the account again.
            if let Some(sk) = item.get("sk").and_then(|v| v.as_s().ok()).filter(|sk| *sk != keys::PROFILE) {
                requests.push(delete_request(keys::user(t, &user.user_id), sk.clone())?);
                // A key's entry: the key itself goes after every entry (below). An erasure that
                // fails half-way may leave a key without its entry (refused all the same: the
                // erasure runs only once the owner is disabled or pending deletion, which the key
                // carries; TTL removes it), never an entry without its key, which would make
                // every later status change of the user fail.
                if let Some(key_id) =
                    sk.strip_prefix(keys::API_KEY_REF_PREFIX).and_then(crate::ids::KeyId::parse)
                {
                    key_items.push(delete_request(keys::api_key(t, &key_id), keys::API_KEY.to_owned())?);
                }
                // A browser session at the OAuth provider: its look-up item by cookie hash.
                if let Some(hash) = sk.strip_prefix(keys::BROWSER_SESSION_REF_PREFIX) {
                    requests.push(delete_request(
                        keys::browser_session(t, hash),
                        keys::BROWSER_SESSION.to_owned(),
                    )?);
                }
                // A social identity's look-up item: left behind, it would keep the provider's
                // subject and send every later sign-in with it to an account that is gone.
                if sk.starts_with(keys::IDENTITY_REF_PREFIX) {
                    let identity: super::IdentityRecord = decode(item.clone())?;
                    let hash = crate::crypto::token_hash(&identity.subject);
                    requests.push(delete_request(
                        keys::identity(t, &identity.provider, &hash),
                        keys::IDENTITY.to_owned(),
                    )?);
                }
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
        for chunk in requests.chunks(25).chain(key_items.chunks(25)) {
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

    /// What login needs, in two reads: the email lock with the account's consecutive-failure
    /// count (one strongly consistent batch), then the user's partition (profile and sessions). An
    /// unknown address costs the same two reads (the second of an empty partition), so that the
    /// time of a login does not tell whether the address has an account.
    pub async fn login_view(
        &self,
        tenant: &AppId,
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
            Some(lock) => self.account(tenant, &lock.user_id).await?,
            None => {
                self.query_partition(keys::decoy_user(tenant), None).await?;
                None
            }
        };
        Ok(LoginView { found, failures })
    }
}
