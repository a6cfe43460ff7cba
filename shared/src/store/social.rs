//! Social login: started sign-ins (state), one-time codes, and identities. An identity is one item
//! found by (provider, subject) and an entry in its user's partition, written together.

use super::keys;
use aws_sdk_dynamodb::types::ReturnValue;

use super::items::{decode, delete_item, internal, keyed, n, new_account_items, put, s};
use super::transact::{ConditionalFailure, unavailable};
use super::update::UserUpdate;
use super::{Guard, Store, Written};
use crate::error::Result;
use crate::ids::{AppId, UserId};
use crate::model::UserRecord;
use crate::model::{CodeRecord, StateRecord};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What an identity's write found.
#[derive(Debug, PartialEq, Eq)]
pub enum IdentityOutcome {
    Done,
    /// The identity, the address or the account changed meanwhile.
    Conflict,
}

/// An identity as stored (both items hold the same).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct IdentityRecord {
    pub user_id: UserId,
    pub provider: String,
    pub subject: String,
    pub linked_at: DateTime<Utc>,
}

impl Store {
    pub async fn put_oauth_state(&self, state_hash: &str, record: &StateRecord) -> Result<()> {
        self.put_record(keys::oauth_state(&record.tenant_id, state_hash), keys::OAUTH_STATE, record).await
    }

    async fn put_record<T: Serialize>(&self, pk: String, sk: &str, record: &T) -> Result<()> {
        self.client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(keyed(pk, sk, record)?))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Consumes a started sign-in: deleted only while it exists and is live, and returned as it
    /// was. Of two uses of one state only one gets it.
    pub async fn take_oauth_state(
        &self,
        tenant: &AppId,
        state_hash: &str,
        now: i64,
    ) -> Result<Option<StateRecord>> {
        self.take(keys::oauth_state(tenant, state_hash), keys::OAUTH_STATE, now).await
    }

    pub async fn put_oauth_code(&self, code_hash: &str, record: &CodeRecord) -> Result<()> {
        self.put_record(keys::oauth_code(&record.tenant_id, code_hash), keys::OAUTH_CODE, record).await
    }

    pub async fn take_oauth_code(
        &self,
        tenant: &AppId,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<CodeRecord>> {
        self.take(keys::oauth_code(tenant, code_hash), keys::OAUTH_CODE, now).await
    }

    async fn take<T: serde::de::DeserializeOwned>(
        &self,
        pk: String,
        sk: &str,
        now: i64,
    ) -> Result<Option<T>> {
        let result = self
            .client()
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => out.attributes.map(decode).transpose(),
            Err(e) if e.as_service_error().is_some_and(ConditionalFailure::is_condition_failed) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// The user an identity belongs to.
    pub async fn identity_user(
        &self,
        tenant: &AppId,
        provider: &str,
        subject: &str,
    ) -> Result<Option<UserId>> {
        let record: Option<IdentityRecord> = self
            .get(keys::identity(tenant, provider, &crate::crypto::token_hash(subject)), keys::IDENTITY)
            .await?;
        Ok(record.map(|r| r.user_id))
    }

    /// A new verified account with its first identity, in one transaction (the address or the
    /// identity taken meanwhile: `Conflict`, nothing written).
    pub async fn create_user_with_identity(
        &self,
        user: &UserRecord,
        provider: &str,
        subject: &str,
    ) -> Result<IdentityOutcome> {
        let mut items = new_account_items(&self.table, user)?.to_vec();
        items.extend(self.identity_items(user, provider, subject, user.created_at)?);
        Ok(match self.transact(items).await? {
            Written::Done => IdentityOutcome::Done,
            Written::ConditionFailed => IdentityOutcome::Conflict,
        })
    }

    /// Links an identity to an existing account, which the provider proved the address of: the
    /// account becomes verified, and an account that was not loses its unproven password (and the
    /// sessions of it), as with a magic link. Only over the account as it was read.
    pub async fn link_identity(
        &self,
        user: &UserRecord,
        provider: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<IdentityOutcome> {
        self.add_identity(user, provider, subject, true, now).await
    }

    /// Adds an identity to an account; `proves_address`: the provider vouched for the account's own
    /// address (a link by email), which verifies it (see `link_identity`). A link the signed-in
    /// user asked for proves nothing about the account's address and changes nothing else.
    pub async fn add_identity(
        &self,
        user: &UserRecord,
        provider: &str,
        subject: &str,
        proves_address: bool,
        now: DateTime<Utc>,
    ) -> Result<IdentityOutcome> {
        let proves_address = proves_address && !user.email_verified;
        let mut providers = user.providers.clone();
        if !providers.iter().any(|p| p == provider) {
            providers.push(provider.to_owned());
        }
        if proves_address {
            providers.retain(|p| p != "password");
        }
        let mut update = UserUpdate::new(Guard::Active);
        update
            .require_credential_version(user.credential_version)
            .set("providers", AttributeValue::L(providers.into_iter().map(s).collect()))
            .set_str("updated_at", now.to_rfc3339());
        if proves_address {
            update.set_bool("email_verified", true).remove("password_hash").bump_credential_version();
        }
        let mut items = vec![update.transact_item(&self.table, keys::user(&user.tenant_id, &user.user_id))?];
        items.extend(self.identity_items(user, provider, subject, now)?);
        Ok(match self.transact(items).await? {
            Written::Done => IdentityOutcome::Done,
            Written::ConditionFailed => IdentityOutcome::Conflict,
        })
    }

    fn identity_items(
        &self,
        user: &UserRecord,
        provider: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<[TransactWriteItem; 2]> {
        let t = &user.tenant_id;
        let record = IdentityRecord {
            user_id: user.user_id.clone(),
            provider: provider.to_owned(),
            subject: subject.to_owned(),
            linked_at: now,
        };
        let hash = crate::crypto::token_hash(subject);
        Ok([
            put(
                &self.table,
                keyed(keys::identity(t, provider, &hash), keys::IDENTITY, &record)?,
                Some("attribute_not_exists(pk)"),
            )?,
            put(
                &self.table,
                keyed(keys::user(t, &user.user_id), &keys::identity_ref(provider), &record)?,
                Some("attribute_not_exists(pk)"),
            )?,
        ])
    }

    /// The identities of a user, oldest first (their entries in the user's partition).
    pub async fn identities(&self, tenant: &AppId, user_id: &UserId) -> Result<Vec<IdentityRecord>> {
        let items =
            self.query_partition(keys::user(tenant, user_id), Some(keys::IDENTITY_REF_PREFIX)).await?;
        let mut out = items.into_iter().map(decode).collect::<Result<Vec<IdentityRecord>>>()?;
        out.sort_by_key(|i| i.linked_at);
        Ok(out)
    }

    /// Removes an identity and its provider from the user, only while the user is as read (the
    /// caller checked that another way to sign in remains).
    pub async fn unlink_identity(
        &self,
        user: &UserRecord,
        identity: &IdentityRecord,
    ) -> Result<IdentityOutcome> {
        let t = &user.tenant_id;
        let providers: Vec<AttributeValue> =
            user.providers.iter().filter(|p| **p != identity.provider).map(|p| s(p.clone())).collect();
        // Only over the providers as read: an identity linked or unlinked meanwhile changes them.
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::user(t, &user.user_id)))
            .key("sk", s(keys::PROFILE))
            .update_expression("SET providers = :providers, updated_at = :now")
            .condition_expression(
                "attribute_exists(pk) AND size(providers) = :count AND contains(providers, :provider)",
            )
            .expression_attribute_values(":providers", AttributeValue::L(providers))
            .expression_attribute_values(":now", s(Utc::now().to_rfc3339()))
            .expression_attribute_values(":count", n(user.providers.len() as i64))
            .expression_attribute_values(":provider", s(identity.provider.clone()))
            .build()
            .map_err(internal)?;
        let mine = ("attribute_exists(pk) AND user_id = :owner", ":owner", s(user.user_id.as_str()));
        let hash = crate::crypto::token_hash(&identity.subject);
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            delete_item(
                &self.table,
                keys::identity(t, &identity.provider, &hash),
                keys::IDENTITY,
                Some(mine),
            )?,
            delete_item(
                &self.table,
                keys::user(t, &user.user_id),
                &keys::identity_ref(&identity.provider),
                None,
            )?,
        ];
        Ok(match self.transact(items).await? {
            Written::Done => IdentityOutcome::Done,
            Written::ConditionFailed => IdentityOutcome::Conflict,
        })
    }
}
