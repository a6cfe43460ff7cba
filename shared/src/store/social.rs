//! Social login: started sign-ins (state), one-time codes, and identities. An identity is one item
//! found by (provider, subject) and an entry in its user's partition, written together.

use aws_sdk_dynamodb::types::ReturnValue;

use super::*;
use crate::ids::{AppId, UserId};
use crate::model::{CodeRecord, StateRecord};

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
        let mut providers = user.providers.clone();
        if !providers.iter().any(|p| p == provider) {
            providers.push(provider.to_owned());
        }
        if !user.email_verified {
            providers.retain(|p| p != "password");
        }
        let mut update = UserUpdate::new(Guard::Active);
        update
            .require_credential_version(user.credential_version)
            .set("providers", AttributeValue::L(providers.into_iter().map(s).collect()))
            .set_bool("email_verified", true)
            .set_str("updated_at", now.to_rfc3339());
        if !user.email_verified {
            update.remove("password_hash").bump_credential_version();
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
}
