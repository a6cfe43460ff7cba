//! Apps: the app item, its owner's references and the count that the app limit checks.

use super::index::{Index, IndexQuery};
use super::items::{decode, delete_item, delete_request, internal, keyed, n, put, s};
use super::keys;
use super::transact::condition_held;
use super::{Committed, Item, Store, Written};
use crate::error::{Error, Result};
use crate::ids::{AppId, UserId};
use crate::model::AppRecord;
use crate::model::UserRecord;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

/// What creating an app came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppCreated {
    Done,
    /// The owner already has the most apps allowed.
    LimitReached,
    /// The owner's account is not active any more.
    OwnerInactive,
}

/// Pages of an index one erasure run reads at most (100 items each).
const MAX_ERASE_PAGES: usize = 50;

/// The attribute of the owner's count item.
const OWNED: &str = "owned";

impl Store {
    /// Creates an app, its owner's reference to it and one more in the owner's count, in one
    /// transaction: the count's condition holds the limit even for concurrent creations, and an id
    /// that ever existed (a tombstone included) is never taken again.
    pub async fn create_app(&self, app: &AppRecord, max_per_owner: u32) -> Result<AppCreated> {
        let owner = keys::developer(&app.owner);
        let reference = Item::from([
            ("pk".to_owned(), s(owner.clone())),
            ("sk".to_owned(), s(keys::owned_app(&app.app_id))),
            ("app_id".to_owned(), s(app.app_id.as_str())),
        ]);
        let count = Update::builder()
            .table_name(&self.table)
            .key("pk", s(owner))
            .key("sk", s(keys::OWNED_APPS_COUNT))
            .update_expression("ADD #owned :one")
            .condition_expression("attribute_not_exists(#owned) OR #owned < :max")
            .expression_attribute_names("#owned", OWNED)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(i64::from(max_per_owner)))
            .build()
            .map_err(internal)?;
        // Only an active developer creates apps: one whose deletion committed meanwhile does not.
        let owner_active = ConditionCheck::builder()
            .table_name(&self.table)
            .key("pk", s(keys::user(&AppId::console(), &app.owner)))
            .key("sk", s(keys::PROFILE))
            .condition_expression("#status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s("active"))
            .build()
            .map_err(internal)?;
        let items = vec![
            put(
                &self.table,
                keyed(keys::app(&app.app_id), keys::APP, app)?,
                Some("attribute_not_exists(pk)"),
            )?,
            put(&self.table, reference, None)?,
            TransactWriteItem::builder().update(count).build(),
            TransactWriteItem::builder().condition_check(owner_active).build(),
        ];
        let (committed, reasons) = self.commit_with_reasons(items, &[]).await?;
        Ok(match committed {
            Committed::Done => AppCreated::Done,
            _ if reasons.get(2).and_then(|r| r.code()) == Some("ConditionalCheckFailed") => {
                AppCreated::LimitReached
            }
            // The developer's account is no longer active (its deletion committed meanwhile).
            _ if reasons.get(3).and_then(|r| r.code()) == Some("ConditionalCheckFailed") => {
                AppCreated::OwnerInactive
            }
            // The random id met an existing one (about one chance in 2^82): a bug to look at, not
            // a conflict to report.
            _ => return Err(Error::Internal("a new app id was already taken".into())),
        })
    }

    /// An app as stored, tombstones included.
    pub async fn app(&self, app_id: &AppId) -> Result<Option<AppRecord>> {
        self.get(keys::app(app_id), keys::APP).await
    }

    /// The apps a developer owns (not deleted), oldest first.
    pub async fn apps_of(&self, owner: &UserId) -> Result<Vec<AppRecord>> {
        let refs = self.query_partition(keys::developer(owner), Some(keys::OWNED_APP_PREFIX)).await?;
        let wanted: Vec<(String, String)> = refs
            .iter()
            .filter_map(|r| r.get("app_id").and_then(|v| v.as_s().ok()).and_then(|id| AppId::parse(id)))
            .map(|id| (keys::app(&id), keys::APP.to_owned()))
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut apps: Vec<AppRecord> = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(100) {
            for item in self.get_many(chunk.to_vec()).await? {
                apps.push(decode(item)?);
            }
        }
        apps.retain(|a| a.owner == *owner && a.status == crate::model::AppStatus::Active);
        apps.sort_by(|a, b| (a.created_at, &a.app_id).cmp(&(b.created_at, &b.app_id)));
        Ok(apps)
    }

    /// Replaces an app's settings while it is active and still its owner's; `false` when it is not.
    pub async fn update_app(&self, app: &AppRecord) -> Result<bool> {
        let settings = serde_dynamo::to_attribute_value(&app.settings)
            .map_err(|e| Error::Internal(format!("settings do not encode: {e}")))?;
        let out = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::app(&app.app_id)))
            .key("sk", s(keys::APP))
            .update_expression("SET #settings = :settings, updated_at = :now")
            .condition_expression("#owner = :owner AND #status = :active")
            .expression_attribute_names("#settings", "settings")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":settings", settings)
            .expression_attribute_values(":now", s(app.updated_at.to_rfc3339()))
            .expression_attribute_values(":owner", s(app.owner.as_str()))
            .expression_attribute_values(":active", s("active"))
            .send()
            .await;
        condition_held(out)
    }

    /// Marks an app deleted (its tombstone keeps the id taken), drops its owner's reference and
    /// gives the owner's count back, in one transaction; `false` when it was not the owner's
    /// active app.
    pub async fn delete_app(&self, app_id: &AppId, owner: &UserId, now: DateTime<Utc>) -> Result<bool> {
        let tombstone = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::app(app_id)))
            .key("sk", s(keys::APP))
            // In the erasure index until the purge has erased every item of the app.
            .update_expression(
                "SET #status = :deleted, deleted_at = :now, updated_at = :now, gsi1pk = :erasure, gsi1sk = :due",
            )
            .expression_attribute_values(":erasure", s(keys::APP_ERASURE_INDEX))
            .expression_attribute_values(":due", s(format!("{}#{app_id}", now.to_rfc3339())))
            .condition_expression("#owner = :owner AND #status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":deleted", s("deleted"))
            .expression_attribute_values(":active", s("active"))
            .expression_attribute_values(":owner", s(owner.as_str()))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .build()
            .map_err(internal)?;
        let count = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::developer(owner)))
            .key("sk", s(keys::OWNED_APPS_COUNT))
            .update_expression("ADD #owned :minus")
            .expression_attribute_names("#owned", OWNED)
            .expression_attribute_values(":minus", n(-1))
            .build()
            .map_err(internal)?;
        let items = vec![
            TransactWriteItem::builder().update(tombstone).build(),
            delete_item(&self.table, keys::developer(owner), &keys::owned_app(app_id), None)?,
            TransactWriteItem::builder().update(count).build(),
        ];
        Ok(self.transact(items).await? == Written::Done)
    }

    /// Deleted apps whose data is still to be erased, oldest deletion first.
    pub async fn apps_to_erase(&self) -> Result<Vec<AppId>> {
        let items = self.index_all(&IndexQuery::new(Index::Gsi1, keys::APP_ERASURE_INDEX)).await?;
        Ok(items
            .iter()
            .filter_map(|i| i.get("app_id").and_then(|v| v.as_s().ok()).and_then(|id| AppId::parse(id)))
            .collect())
    }

    /// Erases everything a deleted app left: its users (with their sessions, tokens, email locks,
    /// failure counters and audit trails), any audit event left in its index, and its secret keys.
    /// Each step deletes what it finds, so a run that stops half-way is finished by the next; the
    /// tombstone leaves the erasure index last, and keeps the id taken for good.
    ///
    /// Returns how many users were erased, and whether the app is done: a run reads at most
    /// `MAX_ERASE_PAGES` pages of each index, so that one large app cannot hold the purge past its
    /// timeout (and an index that lags behind the table cannot keep it looping).
    pub async fn erase_app(&self, app_id: &AppId, now: DateTime<Utc>) -> Result<(usize, bool)> {
        let mut erased = 0;
        let mut done = false;
        for _ in 0..MAX_ERASE_PAGES {
            let users = self.erasable(keys::app_users(app_id)).await?;
            if users.is_empty() {
                done = true;
                break;
            }
            for item in users {
                let user: UserRecord = decode(item)?;
                self.erase_user(&user).await?;
                let fails =
                    delete_request(keys::failures(app_id, &user.email_normalized), keys::counter_window(0))?;
                self.batch_write(vec![fails]).await?;
                erased += 1;
            }
        }
        if !done {
            return Ok((erased, false));
        }
        done = false;
        for _ in 0..MAX_ERASE_PAGES {
            let events = self.erasable(keys::app_audit(app_id)).await?;
            if events.is_empty() {
                done = true;
                break;
            }
            let mut requests = Vec::new();
            for item in &events {
                if let (Some(pk), Some(sk)) =
                    (item.get("pk").and_then(|v| v.as_s().ok()), item.get("sk").and_then(|v| v.as_s().ok()))
                {
                    requests.push(delete_request(pk.clone(), sk.clone())?);
                }
            }
            for chunk in requests.chunks(25) {
                self.batch_write(chunk.to_vec()).await?;
            }
        }
        if !done {
            return Ok((erased, false));
        }
        for key in self.secret_keys(app_id).await? {
            self.revoke_secret_key(app_id, &key.key_id).await?;
        }
        for provider in self.providers(app_id).await? {
            self.delete_provider(app_id, provider.provider).await?;
        }
        for client in self.oauth_clients(app_id).await? {
            self.delete_oauth_client(app_id, &client.client_id).await?;
        }
        let finished = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::app(app_id)))
            .key("sk", s(keys::APP))
            .update_expression("REMOVE gsi1pk, gsi1sk SET erased_at = :now")
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .build()
            .map_err(internal)?;
        self.transact(vec![TransactWriteItem::builder().update(finished).build()]).await?;
        Ok((erased, true))
    }

    /// Up to 100 items of an app's index (`gsi2`), to erase.
    async fn erasable(&self, gsi2pk: String) -> Result<Vec<Item>> {
        Ok(self.index_page(&IndexQuery::new(Index::Gsi2, gsi2pk).limit(100), None).await?.0)
    }

    /// How many apps a developer owns now (what confirming their account's deletion checks).
    pub async fn owned_app_count(&self, owner: &UserId) -> Result<u64> {
        #[derive(serde::Deserialize)]
        struct Owned {
            #[serde(default)]
            owned: u64,
        }
        let count: Option<Owned> = self.get(keys::developer(owner), keys::OWNED_APPS_COUNT).await?;
        Ok(count.map_or(0, |c| c.owned))
    }
}

/// The condition that an app is active and its owner's.
pub(super) fn active_app(table: &str, app_id: &AppId, owner: &UserId) -> Result<ConditionCheck> {
    ConditionCheck::builder()
        .table_name(table)
        .key("pk", s(keys::app(app_id)))
        .key("sk", s(keys::APP))
        .condition_expression("#owner = :owner AND #status = :active")
        .expression_attribute_names("#owner", "owner")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":owner", s(owner.as_str()))
        .expression_attribute_values(":active", s("active"))
        .build()
        .map_err(internal)
}
