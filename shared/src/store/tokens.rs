//! Single-use tokens: issued, consumed and superseded with their user in one transaction.

use super::items::{audit_item, decoy_item, delete_item, internal, keyed, n, outbox_item, put, s};
use super::keys;
use super::transact::{MAX_TRANSACTION_ITEMS, consume_live_token};
use super::update::UserUpdate;
use super::{Committed, Quota, Store, Written};
use crate::error::Result;
use crate::ids::{AppId, SessionId};
use crate::model::TokenKind;
use crate::model::{AuditRecord, TokenRecord, UserRecord};
use crate::outbox::OutboxRecord;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};
use chrono::{DateTime, Utc};

impl Store {
    pub async fn token(&self, tenant: &AppId, token_hash: &str) -> Result<Option<TokenRecord>> {
        self.get(keys::token(tenant, token_hash), keys::TOKEN).await
    }

    /// Issues a single-use token of `kind` to a user and retires the previous one of that kind, in
    /// one transaction: the user item names the newest token of each kind, so only it can be used
    /// (after a resend or a second request, older links are dead). `update` carries the condition the
    /// user must meet (still unverified, still active ...) and any further change to make with the
    /// token; when the condition fails nothing is written.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_token(
        &self,
        user: &UserRecord,
        token_hash: &str,
        token: &TokenRecord,
        mut update: UserUpdate,
        audit: &AuditRecord,
        mail: &OutboxRecord,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let t = &user.tenant_id;
        let attribute = token.kind.user_attribute();
        let previous = user.token_hash(token.kind);
        update.set(attribute, s(token_hash)).set("updated_at", s(now.to_rfc3339()));
        // Only over the token this request saw: of two concurrent requests one wins, and the
        // loser's token is not left behind.
        match previous {
            Some(old) => update.require_equal(attribute, s(old)),
            None => update.require_absent(attribute),
        };
        let mut items = vec![
            put(&self.table, keyed(keys::token(t, token_hash), keys::TOKEN, token)?, None)?,
            update.transact_item(&self.table, keys::user(t, &user.user_id))?,
            put(&self.table, audit_item(audit)?, None)?,
            outbox_item(&self.table, mail)?,
        ];
        if let Some(old) = previous.filter(|old| *old != token_hash) {
            items.push(delete_item(&self.table, keys::token(t, old), keys::TOKEN, None)?);
        }
        self.transact(items).await
    }

    /// Consumes a single-use token and applies `change` to its user, atomically: the token item is
    /// deleted on condition that it still exists and has not expired, and the user is updated on
    /// condition that this token is still the newest of its kind (and that `change`'s own guard
    /// holds). Of any number of concurrent uses exactly one gets `Written::Done`.
    ///
    /// `counters` ride along (a completed reset clears the account's failed sign-ins).
    #[allow(clippy::too_many_arguments)]
    pub async fn consume_token(
        &self,
        token_hash: &str,
        token: &TokenRecord,
        change: UserUpdate,
        audit: &AuditRecord,
        revoke_sessions: &[SessionId],
        counters: &[Quota],
        mail: Option<&OutboxRecord>,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let (t, user_id) = (&token.tenant_id, &token.user_id);
        self.with_keys_following(t, user_id, change, |change| async move {
            let reserved = usize::from(mail.is_some()) + counters.len();
            let mut items =
                self.consumption(token_hash, token, change, audit, revoke_sessions, reserved, now)?;
            if let Some(mail) = mail {
                items.push(outbox_item(&self.table, mail)?);
            }
            Ok(match self.commit(items, counters).await? {
                Committed::Done => Written::Done,
                _ => Written::ConditionFailed,
            })
        })
        .await
    }

    /// Consumes a token, applies `change` and issues a follow-up token (the deletion notice's cancel
    /// link), in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn consume_token_issuing(
        &self,
        token_hash: &str,
        token: &TokenRecord,
        change: UserUpdate,
        audit: &AuditRecord,
        next_hash: &str,
        next: &TokenRecord,
        revoke_sessions: &[SessionId],
        mail: &OutboxRecord,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let (t, user_id) = (&token.tenant_id, &token.user_id);
        self.with_keys_following(t, user_id, change, |change| async move {
            let mut items = self.consumption(token_hash, token, change, audit, revoke_sessions, 3, now)?;
            items.push(outbox_item(&self.table, mail)?);
            items.push(put(
                &self.table,
                keyed(keys::token(&token.tenant_id, next_hash), keys::TOKEN, next)?,
                None,
            )?);
            if token.kind == TokenKind::DeletionConfirm && token.tenant_id == AppId::console() {
                // A developer's deletion commits only while they own no app: an app created after the
                // flow's check, and before this write, refuses it (the app's creation checks in turn
                // that its owner is still active).
                let none_owned = ConditionCheck::builder()
                    .table_name(&self.table)
                    .key("pk", s(keys::developer(&token.user_id)))
                    .key("sk", s(keys::OWNED_APPS_COUNT))
                    .condition_expression("attribute_not_exists(owned) OR owned = :zero")
                    .expression_attribute_values(":zero", n(0))
                    .build()
                    .map_err(internal)?;
                items.push(TransactWriteItem::builder().condition_check(none_owned).build());
            }
            self.transact(items).await
        })
        .await
    }

    /// The items of a token's consumption: the token deleted on condition that it exists and has
    /// not expired, the user updated on condition that this token is still the newest of its kind,
    /// the audit event, and the sessions that must end with the change (a password reset), so that
    /// the change can never commit while they live on.
    #[allow(clippy::too_many_arguments)]
    fn consumption(
        &self,
        token_hash: &str,
        token: &TokenRecord,
        mut change: UserUpdate,
        audit: &AuditRecord,
        revoke_sessions: &[SessionId],
        reserved: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<TransactWriteItem>> {
        let t = &token.tenant_id;
        let attribute = token.kind.user_attribute();
        change
            .require_equal(attribute, s(token_hash))
            .remove(attribute)
            .set("updated_at", s(now.to_rfc3339()));
        let mut items = vec![consume_live_token(&self.table, t, token_hash, now)?];
        items.extend(change.transact_items(&self.table, keys::user(t, &token.user_id))?);
        items.push(put(&self.table, audit_item(audit)?, None)?);
        // The sessions last, as many as fit beside `reserved` items the caller adds: a change that
        // ends sessions also bumps the credential version, under which none of them can refresh.
        let room = MAX_TRANSACTION_ITEMS.saturating_sub(items.len() + reserved);
        for sid in revoke_sessions.iter().take(room) {
            items.push(delete_item(&self.table, keys::user(t, &token.user_id), &keys::session(sid), None)?);
        }
        Ok(items)
    }

    /// Stores a token that names no existing user (a magic link to a new address), with its mail
    /// and a decoy in place of the user update a known address's link makes: the same transaction
    /// shape as `issue_token`.
    pub async fn put_token(&self, token_hash: &str, token: &TokenRecord, mail: &OutboxRecord) -> Result<()> {
        let t = &token.tenant_id;
        self.transact(vec![
            put(&self.table, keyed(keys::token(t, token_hash), keys::TOKEN, token)?, None)?,
            put(&self.table, decoy_item(t, token.created_at), None)?,
            put(&self.table, decoy_item(t, token.created_at), None)?,
            outbox_item(&self.table, mail)?,
        ])
        .await
        .map(|_| ())
    }
}
