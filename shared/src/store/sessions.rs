//! Sessions: start, rotation, revocation, and the password change that carries sessions over.

use super::items::{
    CREDENTIAL_VERSION, audit_item, decode, delete_item, delete_request, internal, keyed, n, outbox_item,
    put, put_request, s,
};
use super::keys;
use super::transact::{MAX_TRANSACTION_ITEMS, condition_held, user_state_check};
use super::update::UserUpdate;
use super::{Committed, Guard, Quota, Rotated, SessionRotation, Store, Written};
use crate::error::Result;
use crate::ids::{AppId, SessionId, UserId};
use crate::model::{AuditRecord, SessionRecord, UserRecord};
use crate::outbox::OutboxRecord;
use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

impl Store {
    /// Stores a new session and its audit event, deletes the sessions it evicts and takes the
    /// login's quotas, in one transaction (the session id is fresh, and deleting a session that is
    /// already gone is harmless, so only the quotas have conditions).
    /// The user must still be active and at the session's credential version (the one the caller
    /// read with the credential it checked): otherwise `ConditionFailed` and nothing is written.
    /// With a `second` step, the sign-in's `mfa_token` and its proof are spent in the same
    /// transaction: of racing requests with one code, one signs in.
    pub async fn start_session(
        &self,
        session: &SessionRecord,
        evict: &[SessionId],
        audit: &AuditRecord,
        quotas: &[Quota],
        second: Option<&super::SecondStep>,
    ) -> Result<Committed> {
        let user_pk = keys::user(&session.tenant_id, &session.user_id);
        let mut items = vec![
            put(&self.table, keyed(user_pk.clone(), &keys::session(&session.session_id), session)?, None)?,
            put(&self.table, audit_item(audit)?, None)?,
            user_state_check(
                &self.table,
                &session.tenant_id,
                &session.user_id,
                Some(session.credential_version),
            )?,
        ];
        if let Some(second) = second {
            items.extend(self.second_step_items(second)?);
        }
        // A transaction holds at most 100 items; sessions left over go at a later login.
        for sid in evict.iter().take(MAX_TRANSACTION_ITEMS - items.len() - quotas.len()) {
            items.push(delete_item(&self.table, user_pk.clone(), &keys::session(sid), None)?);
        }
        self.commit(items, quotas).await
    }

    /// A session and its user, in one strongly consistent `BatchGetItem`.
    pub async fn session_with_user(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        session_id: &SessionId,
    ) -> Result<(Option<SessionRecord>, Option<UserRecord>)> {
        let pk = keys::user(tenant, user_id);
        let items = self
            .get_many(vec![(pk.clone(), keys::session(session_id)), (pk, keys::PROFILE.to_owned())])
            .await?;
        let (mut session, mut user) = (None, None);
        for item in items {
            match item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) {
                Some(keys::PROFILE) => user = Some(decode(item)?),
                Some(_) => session = Some(decode(item)?),
                None => {}
            }
        }
        Ok((session, user))
    }

    /// A password change, in one transaction: the new hash and a new credential version (only
    /// while the user is active and still at the version `user` was read with), the caller's
    /// session carried over to the new version, every other session deleted, the audit event,
    /// and (`end_api_keys`) every live API key of the user deleted. `ConditionFailed` when the
    /// user or the caller's session changed meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_password(
        &self,
        user: &UserRecord,
        password_hash: &str,
        keep_session: &SessionId,
        revoke: &[SessionId],
        end_api_keys: bool,
        audit: &AuditRecord,
        counters: &[Quota],
        mail: &OutboxRecord,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let (t, id) = (&user.tenant_id, &user.user_id);
        let mut change = UserUpdate::new(Guard::Active);
        change
            .require_credential_version(user.credential_version)
            .set_str("password_hash", password_hash)
            .set_str("updated_at", now.to_rfc3339())
            .bump_credential_version();
        if end_api_keys {
            change.end_api_keys();
        }
        self.with_keys_following(t, id, change, |change| async move {
            let kept = Update::builder()
                .table_name(&self.table)
                .key("pk", s(keys::user(t, id)))
                .key("sk", s(keys::session(keep_session)))
                .update_expression("SET #cv = :cv")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#cv", CREDENTIAL_VERSION)
                .expression_attribute_values(":cv", n(user.credential_version as i64 + 1))
                .build()
                .map_err(internal)?;
            let mut items = change.transact_items(&self.table, keys::user(t, id))?;
            items.extend([
                TransactWriteItem::builder().update(kept).build(),
                put(&self.table, audit_item(audit)?, None)?,
                outbox_item(&self.table, mail)?,
            ]);
            // The sessions as many as fit: the bumped credential version ends the rest.
            let room = MAX_TRANSACTION_ITEMS.saturating_sub(items.len() + counters.len());
            for sid in revoke.iter().filter(|sid| *sid != keep_session).take(room) {
                items.push(delete_item(&self.table, keys::user(t, id), &keys::session(sid), None)?);
            }
            Ok(match self.commit(items, counters).await? {
                Committed::Done => Written::Done,
                _ => Written::ConditionFailed,
            })
        })
        .await
    }

    /// Every session item of a user (live or expired but not yet removed by TTL).
    pub async fn sessions(&self, tenant: &AppId, user_id: &UserId) -> Result<Vec<SessionRecord>> {
        self.query_partition(keys::user(tenant, user_id), Some(keys::SESSION_PREFIX))
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// Rotates a session's refresh token, writes its audit event and takes the request's quotas in
    /// one transaction: only the holder of the current token (its hash and generation) wins, so
    /// concurrent refreshes leave exactly one live child. A lost condition hands back the session
    /// as it is now (or `None` when it is gone) so that the caller can tell a benign retry from a
    /// replayed token.
    pub async fn rotate_session(
        &self,
        rotation: &SessionRotation<'_>,
        audit: &AuditRecord,
        quotas: &[Quota],
    ) -> Result<Rotated> {
        let r = rotation;
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::user(r.tenant, r.user_id)))
            .key("sk", s(keys::session(r.session_id)))
            .update_expression(match r.idle_expires_at {
                Some(_) => {
                    "SET refresh_hash = :new, generation = :next, prev_hash = :old, rotated_at = :now, \
                     last_used_at = :now, expires_at = :exp, #ttl = :exp, ip = :ip, user_agent = :ua, \
                     absolute_expires_at = :abs, idle_expires_at = :idle"
                }
                None => {
                    "SET refresh_hash = :new, generation = :next, prev_hash = :old, rotated_at = :now, \
                     last_used_at = :now, expires_at = :exp, #ttl = :exp, ip = :ip, user_agent = :ua, \
                     absolute_expires_at = :abs REMOVE idle_expires_at"
                }
            })
            // The session as it was read: current token, unexpired in every sense. No leeway.
            .condition_expression(
                "attribute_exists(pk) AND refresh_hash = :old AND generation = :gen AND expires_at > :epoch \
                 AND (attribute_not_exists(absolute_expires_at) OR absolute_expires_at = :zero \
                 OR absolute_expires_at > :epoch) \
                 AND (attribute_not_exists(idle_expires_at) OR idle_expires_at > :epoch)",
            )
            .expression_attribute_values(":abs", n(r.absolute_expires_at))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":new", s(r.new_hash))
            .expression_attribute_values(":old", s(r.presented_hash))
            .expression_attribute_values(":gen", n(r.generation as i64))
            .expression_attribute_values(":next", n(r.generation as i64 + 1))
            .expression_attribute_values(":now", s(r.now.to_rfc3339()))
            .expression_attribute_values(":epoch", n(r.now.timestamp()))
            .expression_attribute_values(":exp", n(r.expires_at))
            .expression_attribute_values(":ip", s(r.ip.unwrap_or_default()))
            .expression_attribute_values(":ua", s(r.user_agent.unwrap_or_default()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(idle) = r.idle_expires_at {
            update = update.expression_attribute_values(":idle", n(idle));
        }
        let items = vec![
            TransactWriteItem::builder().update(update.build().map_err(internal)?).build(),
            put(&self.table, audit_item(audit)?, None)?,
            user_state_check(&self.table, r.tenant, r.user_id, Some(r.credential_version))?,
        ];
        match self.commit_with_reasons(items, quotas).await? {
            (Committed::Done, _) => Ok(Rotated::Done),
            (Committed::OverLimit(i), _) => Ok(Rotated::OverLimit(i)),
            (Committed::ConditionFailed, reasons)
                if reasons.first().is_none_or(|r| r.code() != Some("ConditionalCheckFailed")) =>
            {
                // The session was as read, but its user changed credential or state meanwhile.
                Ok(Rotated::Lost(None))
            }
            (Committed::ConditionFailed, reasons) => {
                let returned = reasons.into_iter().next().and_then(|r| r.item);
                let current = match returned {
                    Some(item) => Some(Box::new(decode::<SessionRecord>(item)?)),
                    // Not every DynamoDB returns the item: read it.
                    None => self.session(r.tenant, r.user_id, r.session_id).await?.map(Box::new),
                };
                Ok(Rotated::Lost(current))
            }
        }
    }

    /// Deletes one session of a user; `false` when the user has no such session.
    pub async fn revoke_session(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        session_id: &SessionId,
    ) -> Result<bool> {
        let result = self
            .client()
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(keys::user(tenant, user_id)))
            .key("sk", s(keys::session(session_id)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        condition_held(result)
    }

    /// Deletes sessions of a user (and stores an audit event) in batches.
    pub async fn revoke_sessions(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        session_ids: &[SessionId],
        audit: Option<&AuditRecord>,
    ) -> Result<()> {
        let mut requests = Vec::new();
        for sid in session_ids {
            requests.push(delete_request(keys::user(tenant, user_id), keys::session(sid))?);
        }
        if let Some(a) = audit {
            requests.push(put_request(audit_item(a)?)?);
        }
        for chunk in requests.chunks(25) {
            self.batch_write(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// The session as stored, or `None` when it was revoked (deleted). Strongly consistent: a
    /// revocation must bite on the very next request.
    pub async fn session(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        session_id: &SessionId,
    ) -> Result<Option<SessionRecord>> {
        self.get(keys::user(tenant, user_id), &keys::session(session_id)).await
    }
}
