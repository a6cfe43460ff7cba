//! What the management API reads and writes beyond the wave-1 flows: users created by the app's
//! backend, and the app's users and audit events listed through the app's index (`gsi2`).

use super::keys;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::index::{Index, IndexQuery};
use super::items::{audit_item, decode, keyed, new_account_items, outbox_item, put, s};
use super::{Item, Store, Written};
use crate::error::{Error, Result};
use crate::ids::{AppId, UserId};
use crate::model::{AuditRecord, TokenRecord, UserRecord};
use crate::outbox::OutboxRecord;

/// One page of a list and the cursor of the next (opaque to clients: base64url of the position).
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl Store {
    /// Creates a user the app's backend sends: the user and its email lock and the audit event,
    /// with a verification link and its mail when the address is not taken as verified, all in one
    /// transaction. A taken address is `ConditionFailed`.
    pub async fn create_user_by_admin(
        &self,
        user: &UserRecord,
        audit: &AuditRecord,
        link: Option<(&str, &TokenRecord, &OutboxRecord)>,
    ) -> Result<Written> {
        let t = &user.tenant_id;
        let [lock, profile] = new_account_items(&self.table, user)?;
        let mut items = vec![lock, profile, put(&self.table, audit_item(audit)?, None)?];
        if let Some((hash, token, mail)) = link {
            items.push(put(&self.table, keyed(keys::token(t, hash), keys::TOKEN, token)?, None)?);
            items.push(outbox_item(&self.table, mail)?);
        }
        self.transact(items).await
    }

    /// A page of the app's users, newest first; with `email_prefix`, only those whose normalised
    /// email starts with it (a filter on the page read: a page may then hold fewer than `limit`,
    /// and the cursor still moves on).
    pub async fn users_page(
        &self,
        tenant: &AppId,
        limit: i32,
        cursor: Option<&str>,
        email_prefix: Option<&str>,
    ) -> Result<Page<UserRecord>> {
        let start = match cursor {
            Some(c) => Some(self.cursor_key(c, |user_id, sk| {
                Some(Item::from([
                    ("pk".to_owned(), s(keys::user(tenant, &UserId::parse(user_id)?))),
                    ("sk".to_owned(), s(keys::PROFILE)),
                    ("gsi2pk".to_owned(), s(keys::app_users(tenant))),
                    ("gsi2sk".to_owned(), s(sk)),
                ]))
            })?),
            None => None,
        };
        let query = IndexQuery::new(Index::Gsi2, keys::app_users(tenant))
            .newest_first()
            .limit(limit)
            .begins_with("email_normalized", email_prefix);
        let (items, next) = self.index_page(&query, start).await?;
        let next_cursor = next.as_ref().and_then(cursor_after);
        let items = items.into_iter().map(decode).collect::<Result<Vec<UserRecord>>>()?;
        Ok(Page { items, next_cursor })
    }

    /// A page of the app's audit events (every user's), newest first.
    pub async fn app_audit_page(
        &self,
        tenant: &AppId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<AuditRecord>> {
        let start = match cursor {
            Some(c) => Some(self.cursor_key(c, |user_id, event_id| {
                Some(Item::from([
                    ("pk".to_owned(), s(keys::audit(tenant, &UserId::parse(user_id)?))),
                    ("sk".to_owned(), s(keys::audit_event(event_id))),
                    ("gsi2pk".to_owned(), s(keys::app_audit(tenant))),
                    ("gsi2sk".to_owned(), s(event_id)),
                ]))
            })?),
            None => None,
        };
        let query = IndexQuery::new(Index::Gsi2, keys::app_audit(tenant)).newest_first().limit(limit);
        let (items, next) = self.index_page(&query, start).await?;
        let next_cursor = next.as_ref().and_then(cursor_after);
        let items = items.into_iter().map(decode).collect::<Result<Vec<AuditRecord>>>()?;
        Ok(Page { items, next_cursor })
    }

    /// The start key a cursor stands for, rebuilt from its parts for this app only: a cursor is
    /// never trusted to name a key, so one made up or taken from another app cannot read there.
    fn cursor_key(&self, cursor: &str, key: impl FnOnce(&str, &str) -> Option<Item>) -> Result<Item> {
        let bad = || Error::field("cursor", "invalid");
        let raw = URL_SAFE_NO_PAD.decode(cursor.as_bytes()).map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let (user, sk) = text.split_once('\n').ok_or_else(bad)?;
        let plausible = |v: &str| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic());
        if !plausible(sk) {
            return Err(bad());
        }
        key(user, sk).ok_or_else(bad)
    }
}

/// The cursor of the page after the one that ended at `key` (an item of a user's partition in
/// the app's index): the user's id and the index position, nothing that names a table key.
fn cursor_after(key: &Item) -> Option<String> {
    let user = key.get("pk")?.as_s().ok()?.rsplit('#').next()?;
    Some(encode_cursor(user, key.get("gsi2sk")?.as_s().ok()?))
}

fn encode_cursor(user: &str, sk: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{user}\n{sk}"))
}
