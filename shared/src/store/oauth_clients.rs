//! OAuth clients of apps: one item per client under the app's item (the secret only hashed).

use super::items::{decode, internal, keyed, n, s};
use super::keys;
use super::transact::{condition_held, unavailable};
use super::{Store, Written};
use crate::error::Result;
use crate::ids::{AppId, ClientId, UserId};
use crate::model::OAuthClientRecord;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};

impl Store {
    /// Stores a new client while its app is active and `owner`'s: `false` when it is not.
    pub async fn create_oauth_client(&self, client: &OAuthClientRecord, owner: &UserId) -> Result<bool> {
        self.put_oauth_client(client, owner, None).await
    }

    /// Replaces a client as it was read (its `updated_at` unchanged: a concurrent change, such as a
    /// rotated secret, is never written over), while its app is active and `owner`'s: `false`
    /// otherwise.
    pub async fn replace_oauth_client(
        &self,
        client: &OAuthClientRecord,
        read_at: DateTime<Utc>,
        owner: &UserId,
    ) -> Result<bool> {
        self.put_oauth_client(client, owner, Some(read_at)).await
    }

    /// Writes a client: a new one (`read_at` none) only where none is, an existing one only as it
    /// was read.
    async fn put_oauth_client(
        &self,
        client: &OAuthClientRecord,
        owner: &UserId,
        read_at: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let item = keyed(keys::app(&client.app_id), &keys::oauth_client(&client.client_id), client)?;
        let mut write = Put::builder().table_name(&self.table).set_item(Some(item));
        write = match read_at {
            None => write.condition_expression("attribute_not_exists(pk)"),
            Some(at) => write.condition_expression("updated_at = :read_at").expression_attribute_values(
                ":read_at",
                s(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            ),
        };
        let items = vec![
            TransactWriteItem::builder().put(write.build().map_err(internal)?).build(),
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
            // Past `exp` by more than the verifiers' clock leeway, so the mark outlives the token.
            .item("ttl", n(exp + 120))
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
