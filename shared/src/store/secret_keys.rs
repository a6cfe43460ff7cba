//! Apps' secret keys: the owner's list under the app's item, and a look-up item per key hash that
//! the management API authenticates with. Both are written and deleted together.

use super::items::{decode, delete_item, internal, keyed, put, s};
use super::keys;
use super::{Store, Written};
use crate::error::Result;
use crate::ids::{AppId, KeyId, UserId};
use crate::model::SecretKeyRecord;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use serde::Serialize;

/// What the look-up item of a key holds.
#[derive(Serialize, serde::Deserialize)]
pub struct SecretKeyLookup {
    pub app_id: AppId,
    pub key_id: KeyId,
}

impl Store {
    /// Stores a new key while its app is active and its creator's (`owner`; none for the
    /// operator's keys of `default`, which has no app item): `false` when it is not (the app was
    /// deleted meanwhile).
    pub async fn create_secret_key(&self, key: &SecretKeyRecord, owner: Option<&UserId>) -> Result<bool> {
        let lookup = SecretKeyLookup { app_id: key.app_id.clone(), key_id: key.key_id.clone() };
        let mut items = vec![
            put(
                &self.table,
                keyed(keys::app(&key.app_id), &keys::secret_key(&key.key_id), key)?,
                Some("attribute_not_exists(pk)"),
            )?,
            put(
                &self.table,
                keyed(keys::secret_key_lookup(&key.hash), keys::SECRET_KEY, &lookup)?,
                Some("attribute_not_exists(pk)"),
            )?,
        ];
        let Some(owner) = owner else {
            return Ok(self.transact(items).await? == Written::Done);
        };
        let app_check = super::apps::active_app(&self.table, &key.app_id, owner)?;
        items.push(TransactWriteItem::builder().condition_check(app_check).build());
        Ok(self.transact(items).await? == Written::Done)
    }

    /// The app's keys, oldest first (never a secret: only what `SecretKeyRecord` holds).
    pub async fn secret_keys(&self, app_id: &AppId) -> Result<Vec<SecretKeyRecord>> {
        let items = self.query_partition(keys::app(app_id), Some(keys::SECRET_KEY_PREFIX)).await?;
        let mut out: Vec<SecretKeyRecord> = items.into_iter().map(decode).collect::<Result<_>>()?;
        out.sort_by(|a, b| (a.created_at, &a.key_id).cmp(&(b.created_at, &b.key_id)));
        Ok(out)
    }

    /// Deletes a key and its look-up together: the key is dead for the next request. `false`
    /// when the app has no such key.
    pub async fn revoke_secret_key(&self, app_id: &AppId, key_id: &KeyId) -> Result<bool> {
        let Some(key) = self.get::<SecretKeyRecord>(keys::app(app_id), &keys::secret_key(key_id)).await?
        else {
            return Ok(false);
        };
        let exists = "attribute_exists(pk)";
        let mut listed = Delete::builder()
            .table_name(&self.table)
            .key("pk", s(keys::app(app_id)))
            .key("sk", s(keys::secret_key(key_id)));
        listed = listed.condition_expression(exists);
        let items = vec![
            TransactWriteItem::builder().delete(listed.build().map_err(internal)?).build(),
            delete_item(&self.table, keys::secret_key_lookup(&key.hash), keys::SECRET_KEY, None)?,
        ];
        Ok(self.transact(items).await? == Written::Done)
    }

    /// The app and key a presented secret key's hash names, if it is a live key.
    pub async fn secret_key_by_hash(&self, hash: &str) -> Result<Option<SecretKeyLookup>> {
        self.get(keys::secret_key_lookup(hash), keys::SECRET_KEY).await
    }
}
