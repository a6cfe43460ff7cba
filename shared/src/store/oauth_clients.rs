//! OAuth clients of apps: one item per client under the app's item (the secret only hashed).

use super::*;
use crate::ids::{AppId, ClientId, UserId};
use crate::model::OAuthClientRecord;

impl Store {
    /// Stores a new client while its app is active and `owner`'s: `false` when it is not.
    pub async fn create_oauth_client(&self, client: &OAuthClientRecord, owner: &UserId) -> Result<bool> {
        self.put_oauth_client(client, owner, "attribute_not_exists(pk)").await
    }

    /// Replaces a client that exists, while its app is active and `owner`'s: `false` otherwise.
    pub async fn replace_oauth_client(&self, client: &OAuthClientRecord, owner: &UserId) -> Result<bool> {
        self.put_oauth_client(client, owner, "attribute_exists(pk)").await
    }

    async fn put_oauth_client(
        &self,
        client: &OAuthClientRecord,
        owner: &UserId,
        condition: &str,
    ) -> Result<bool> {
        let items = vec![
            put(
                &self.table,
                keyed(keys::app(&client.app_id), &keys::oauth_client(&client.client_id), client)?,
                Some(condition),
            )?,
            TransactWriteItem::builder()
                .condition_check(super::apps::active_app(&self.table, &client.app_id, owner)?)
                .build(),
        ];
        Ok(self.transact(items).await? == Written::Done)
    }

    /// One client of an app (strongly consistent: a rotated secret or a deleted client counts at
    /// once).
    pub async fn oauth_client(
        &self,
        app_id: &AppId,
        client_id: &ClientId,
    ) -> Result<Option<OAuthClientRecord>> {
        self.get(keys::app(app_id), &keys::oauth_client(client_id)).await
    }

    /// An app's clients, oldest first.
    pub async fn oauth_clients(&self, app_id: &AppId) -> Result<Vec<OAuthClientRecord>> {
        let items = self.query_partition(keys::app(app_id), Some(keys::OAUTH_CLIENT_PREFIX)).await?;
        let mut out: Vec<OAuthClientRecord> = items.into_iter().map(decode).collect::<Result<_>>()?;
        out.sort_by(|a, b| (a.created_at, &a.client_id).cmp(&(b.created_at, &b.client_id)));
        Ok(out)
    }

    /// Deletes a client: `false` when the app has no such client.
    pub async fn delete_oauth_client(&self, app_id: &AppId, client_id: &ClientId) -> Result<bool> {
        let out = self
            .client()
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(keys::app(app_id)))
            .key("sk", s(keys::oauth_client(client_id)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        condition_held(out)
    }

    /// Marks an access token (its `jti`) revoked until `exp`, when TTL removes the mark.
    pub async fn revoke_token_id(&self, tenant: &AppId, jti: &str, exp: i64) -> Result<()> {
        self.client()
            .put_item()
            .table_name(&self.table)
            .item("pk", s(keys::revoked_token(tenant, jti)))
            .item("sk", s(keys::REVOKED))
            .item("ttl", n(exp))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Whether an access token (its `jti`) was revoked (strongly consistent: a revocation counts
    /// from the next request on).
    pub async fn is_revoked(&self, tenant: &AppId, jti: &str) -> Result<bool> {
        let out = self
            .client()
            .get_item()
            .table_name(&self.table)
            .key("pk", s(keys::revoked_token(tenant, jti)))
            .key("sk", s(keys::REVOKED))
            .consistent_read(true)
            .projection_expression("pk")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item.is_some())
    }
}
