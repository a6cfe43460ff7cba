//! The public half of the signing keys, published for the functions that only verify.

use super::Store;
use super::items::{PublicKeysItem, decode, internal, keyed};
use super::keys;
use super::transact::unavailable;
use crate::error::Result;
use crate::ids::{AppId, SessionId, UserId};
use crate::keys::PublicKeySet;
use crate::model::SessionRecord;

impl Store {
    /// The public signing keys (`keys::PublicKeySet`), as rotation last published them.
    pub async fn public_keys(&self) -> Result<Option<PublicKeySet>> {
        let (pk, sk) = keys::PUBLIC_KEYS;
        self.get::<PublicKeysItem>(pk.to_owned(), sk).await?.map(PublicKeysItem::into_set).transpose()
    }

    /// A session and the public signing keys, in one strongly consistent `BatchGetItem`: what a
    /// verifying function reads when its cached keys are missing or stale, at no extra call.
    pub async fn session_with_public_keys(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        session_id: &SessionId,
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
}
