//! The identity providers apps configure through the console: one item per provider under the
//! app's item, its secret sealed (the store never sees it in clear).

use super::items::{decode, keyed, put, s};
use super::keys;
use super::transact::condition_held;
use super::{Store, Written};
use crate::error::Result;
use crate::ids::{AppId, UserId};
use crate::model::{ProviderId, ProviderRecord};
use aws_sdk_dynamodb::types::TransactWriteItem;

impl Store {
    /// An app's configured providers.
    pub async fn providers(&self, app_id: &AppId) -> Result<Vec<ProviderRecord>> {
        let items = self.query_partition(keys::app(app_id), Some(keys::PROVIDER_PREFIX)).await?;
        items.into_iter().map(decode).collect()
    }

    /// Writes (or replaces) a provider while the app is active and `owner`'s: `false` when it is
    /// not (deleted meanwhile), so no provider outlives its app's erasure.
    pub async fn put_provider(&self, record: &ProviderRecord, owner: &UserId) -> Result<bool> {
        let items = vec![
            put(
                &self.table,
                keyed(keys::app(&record.app_id), &keys::provider(record.provider.as_str()), record)?,
                None,
            )?,
            TransactWriteItem::builder()
                .condition_check(super::apps::active_app(&self.table, &record.app_id, owner)?)
                .build(),
        ];
        Ok(self.transact(items).await? == Written::Done)
    }

    /// Removes a provider: `false` when the app had none of it.
    pub async fn delete_provider(&self, app_id: &AppId, provider: ProviderId) -> Result<bool> {
        let out = self
            .client()
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(keys::app(app_id)))
            .key("sk", s(keys::provider(provider.as_str())))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        condition_held(out)
    }
}
