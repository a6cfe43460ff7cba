//! Second factors: the user's partition as a sign-in reads it, factors confirmed and removed with
//! the user's count of them, recovery codes, and the pending second steps (`mfa_token`).

use super::items::{audit_item, decode, delete_item, internal, keyed, n, outbox_item, put, s};
use super::keys;
use super::transact::user_state_check;
use super::{Committed, Quota, Store, Written};
use crate::error::Result;
use crate::ids::{AppId, FactorId, UserId};
use crate::model::{
    AuditRecord, FactorRecord, MfaTokenRecord, RecoveryCodesRecord, SessionRecord, UserRecord,
};
use crate::outbox::OutboxRecord;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::{DateTime, Utc};

/// Everything a user's partition holds that a sign-in needs, from one strongly consistent query.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: UserRecord,
    pub sessions: Vec<SessionRecord>,
    pub factors: Vec<FactorRecord>,
    pub recovery_codes: Option<RecoveryCodesRecord>,
    /// The pending second steps, each by the SHA-256 of its token.
    pub mfa_tokens: Vec<(String, MfaTokenRecord)>,
}

impl Account {
    /// The confirmed factors.
    pub fn active_factors(&self) -> impl Iterator<Item = &FactorRecord> {
        self.factors.iter().filter(|f| f.is_active())
    }

    pub fn mfa_token(&self, hash: &str) -> Option<&MfaTokenRecord> {
        self.mfa_tokens.iter().find(|(h, _)| h == hash).map(|(_, t)| t)
    }
}

/// What a second step spends in the write that completes it: the `mfa_token` (when it signs in)
/// and the proof, so that neither can be used twice however many requests race.
#[derive(Debug, Clone)]
pub struct SecondStep {
    pub tenant: AppId,
    pub user_id: UserId,
    /// The SHA-256 of the `mfa_token`; `None` for a step-up of a session.
    pub mfa_token: Option<String>,
    pub proof: Proof,
    /// The notice the step sends (a spent recovery code), in the same write.
    pub mail: Option<OutboxRecord>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum Proof {
    /// A TOTP code of time step `step`: only while the factor's last accepted step is earlier.
    Totp { factor_id: FactorId, step: i64 },
    /// A recovery code, by its SHA-256: only while it is still in the set.
    RecoveryCode { hash: String },
}

impl Store {
    /// The user's partition: profile, sessions, factors, recovery codes and pending second steps.
    pub async fn account(&self, tenant: &AppId, user_id: &UserId) -> Result<Option<Account>> {
        let items = self.query_partition(keys::user(tenant, user_id), None).await?;
        let (mut user, mut sessions, mut factors, mut recovery_codes, mut mfa_tokens) =
            (None, Vec::new(), Vec::new(), None, Vec::new());
        for item in items {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if sk == keys::PROFILE {
                user = Some(decode::<UserRecord>(item)?);
            } else if sk.starts_with(keys::SESSION_PREFIX) {
                sessions.push(decode(item)?);
            } else if sk.starts_with(keys::FACTOR_PREFIX) {
                factors.push(decode(item)?);
            } else if sk == keys::RECOVERY_CODES {
                recovery_codes = Some(decode(item)?);
            } else if let Some(hash) = sk.strip_prefix(keys::MFA_TOKEN_PREFIX) {
                mfa_tokens.push((hash.to_owned(), decode(item)?));
            }
        }
        Ok(user.map(|user| Account { user, sessions, factors, recovery_codes, mfa_tokens }))
    }

    /// A new, unconfirmed factor, while its user is active.
    pub async fn put_pending_factor(&self, factor: &FactorRecord) -> Result<Written> {
        let pk = keys::user(&factor.tenant_id, &factor.user_id);
        let items = vec![
            put(
                &self.table,
                keyed(pk, &keys::factor(&factor.factor_id), factor)?,
                Some("attribute_not_exists(pk)"),
            )?,
            user_state_check(&self.table, &factor.tenant_id, &factor.user_id, None)?,
        ];
        self.transact(items).await
    }

    /// Confirms a pending factor with a code of time step `step` (which it will not accept again),
    /// counts it on the user and, for the user's first factor, stores their recovery codes.
    pub async fn confirm_factor(
        &self,
        factor: &FactorRecord,
        step: i64,
        codes: Option<&RecoveryCodesRecord>,
        audit: &AuditRecord,
        mail: &OutboxRecord,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let (t, u) = (&factor.tenant_id, &factor.user_id);
        let confirm = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::user(t, u)))
            .key("sk", s(keys::factor(&factor.factor_id)))
            .update_expression("SET #status = :active, last_step = :step, last_used_at = :now REMOVE #ttl")
            .condition_expression("attribute_exists(pk) AND #status = :pending AND last_step < :step")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":active", s("active"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":step", n(step))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .build()
            .map_err(internal)?;
        let mut items = vec![
            TransactWriteItem::builder().update(confirm).build(),
            self.count_factors(t, u, 1, None)?,
            put(&self.table, audit_item(audit)?, None)?,
            outbox_item(&self.table, mail)?,
        ];
        if let Some(codes) = codes {
            let item = keyed(keys::user(t, u), keys::RECOVERY_CODES, codes)?;
            items.push(put(&self.table, item, None)?);
        }
        self.transact(items).await
    }

    /// Removes a confirmed factor. With `keep_one` (the app requires a factor) only while the user
    /// keeps another: `ConditionFailed` otherwise, and when the factor is gone.
    pub async fn remove_factor(
        &self,
        factor: &FactorRecord,
        keep_one: bool,
        audit: &AuditRecord,
        mail: &OutboxRecord,
    ) -> Result<Written> {
        let (t, u) = (&factor.tenant_id, &factor.user_id);
        let exists = ("factor_id = :id", ":id", s(factor.factor_id.as_str()));
        let mut items = vec![
            delete_factor(&self.table, factor, Some(exists))?,
            put(&self.table, audit_item(audit)?, None)?,
            outbox_item(&self.table, mail)?,
        ];
        if factor.is_active() {
            items.push(self.count_factors(t, u, -1, keep_one.then_some(1))?);
        }
        self.transact(items).await
    }

    /// Removes every factor of a user and their recovery codes (the app's backend, for a user who
    /// lost their device): the count goes back to none.
    pub async fn remove_all_factors(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        factors: &[FactorRecord],
        audit: &AuditRecord,
        mail: &OutboxRecord,
    ) -> Result<Written> {
        let pk = keys::user(tenant, user_id);
        let reset = Update::builder()
            .table_name(&self.table)
            .key("pk", s(pk.clone()))
            .key("sk", s(keys::PROFILE))
            .update_expression("SET mfa_factors = :zero")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(internal)?;
        let mut items = vec![
            TransactWriteItem::builder().update(reset).build(),
            delete_item(&self.table, pk, keys::RECOVERY_CODES, None)?,
            put(&self.table, audit_item(audit)?, None)?,
            outbox_item(&self.table, mail)?,
        ];
        for factor in factors.iter().take(super::transact::MAX_TRANSACTION_ITEMS - items.len()) {
            items.push(delete_factor(&self.table, factor, None)?);
        }
        self.transact(items).await
    }

    /// A new set of recovery codes in place of the old one, while the user has a factor.
    pub async fn replace_recovery_codes(
        &self,
        codes: &RecoveryCodesRecord,
        audit: &AuditRecord,
        mail: &OutboxRecord,
    ) -> Result<Written> {
        let (t, u) = (&codes.tenant_id, &codes.user_id);
        let has_factor = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::user(t, u)))
            .key("sk", s(keys::PROFILE))
            .update_expression("SET updated_at = updated_at")
            .condition_expression("attribute_exists(pk) AND mfa_factors > :zero")
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(internal)?;
        let items = vec![
            put(&self.table, keyed(keys::user(t, u), keys::RECOVERY_CODES, codes)?, None)?,
            TransactWriteItem::builder().update(has_factor).build(),
            put(&self.table, audit_item(audit)?, None)?,
            outbox_item(&self.table, mail)?,
        ];
        self.transact(items).await
    }

    /// A sign-in waiting for its second factor, with the quotas of its first.
    pub async fn put_mfa_token(
        &self,
        hash: &str,
        token: &MfaTokenRecord,
        quotas: &[Quota],
    ) -> Result<Committed> {
        let item = keyed(keys::user(&token.tenant_id, &token.user_id), &keys::mfa_token(hash), token)?;
        self.commit(vec![put(&self.table, item, None)?], quotas).await
    }

    /// A session raised by a second factor: its new authentication and a new refresh token (the
    /// one it had is replaced, as by a rotation), only while it is as read, with the proof spent
    /// and the audit event in the same write.
    #[allow(clippy::too_many_arguments)]
    pub async fn raise_session(
        &self,
        session: &SessionRecord,
        new_hash: &str,
        expires_at: i64,
        idle_expires_at: Option<i64>,
        authn: &crate::model::Authn,
        audit: &AuditRecord,
        second: &SecondStep,
        quotas: &[Quota],
    ) -> Result<Written> {
        let authn: aws_sdk_dynamodb::types::AttributeValue =
            serde_dynamo::to_attribute_value(authn).map_err(internal)?;
        // Like a rotation: the idle clock restarts (or stays off), and only a session still
        // within its lifetimes is raised.
        let idle = match idle_expires_at {
            Some(_) => ", idle_expires_at = :idle",
            None => "",
        };
        let mut raise = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::user(&session.tenant_id, &session.user_id)))
            .key("sk", s(keys::session(&session.session_id)))
            .update_expression(format!(
                "SET authn = :authn, refresh_hash = :new, generation = :next, prev_hash = :old, \
                 rotated_at = :now, last_used_at = :now, expires_at = :exp, #ttl = :exp{idle}"
            ))
            .condition_expression(
                "attribute_exists(pk) AND refresh_hash = :old AND generation = :gen AND expires_at > :epoch \
                 AND (attribute_not_exists(idle_expires_at) OR idle_expires_at > :epoch)",
            )
            .expression_attribute_values(":epoch", n(second.now.timestamp()))
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":authn", authn)
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(session.refresh_hash.as_str()))
            .expression_attribute_values(":gen", n(session.generation as i64))
            .expression_attribute_values(":next", n(session.generation as i64 + 1))
            .expression_attribute_values(":now", s(second.now.to_rfc3339()))
            .expression_attribute_values(":exp", n(expires_at));
        if let Some(idle) = idle_expires_at {
            raise = raise.expression_attribute_values(":idle", n(idle));
        }
        let mut items = vec![
            TransactWriteItem::builder().update(raise.build().map_err(internal)?).build(),
            put(&self.table, audit_item(audit)?, None)?,
            user_state_check(
                &self.table,
                &session.tenant_id,
                &session.user_id,
                Some(session.credential_version),
            )?,
        ];
        items.extend(self.second_step_items(second)?);
        Ok(match self.commit(items, quotas).await? {
            Committed::Done => Written::Done,
            _ => Written::ConditionFailed,
        })
    }

    /// A second step spent on its own (the OAuth provider's browser session follows it), with its
    /// audit event.
    pub async fn spend_second_step(
        &self,
        second: &SecondStep,
        audit: &AuditRecord,
        quotas: &[Quota],
    ) -> Result<Written> {
        let mut items = vec![put(&self.table, audit_item(audit)?, None)?];
        items.extend(self.second_step_items(second)?);
        Ok(match self.commit(items, quotas).await? {
            Committed::Done => Written::Done,
            _ => Written::ConditionFailed,
        })
    }

    /// The items that spend a second step: its `mfa_token` (while it lives) and its proof.
    pub(super) fn second_step_items(&self, step: &SecondStep) -> Result<Vec<TransactWriteItem>> {
        let pk = keys::user(&step.tenant, &step.user_id);
        let mut items = Vec::new();
        if let Some(hash) = &step.mfa_token {
            let live = ("attribute_exists(pk) AND expires_at > :now", ":now", n(step.now.timestamp()));
            items.push(delete_item(&self.table, pk.clone(), &keys::mfa_token(hash), Some(live))?);
        }
        let update = match &step.proof {
            Proof::Totp { factor_id, step: time_step } => Update::builder()
                .table_name(&self.table)
                .key("pk", s(pk))
                .key("sk", s(keys::factor(factor_id)))
                .update_expression("SET last_step = :step, last_used_at = :now")
                .condition_expression("attribute_exists(pk) AND #status = :active AND last_step < :step")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":active", s("active"))
                .expression_attribute_values(":step", n(*time_step))
                .expression_attribute_values(":now", s(step.now.to_rfc3339())),
            Proof::RecoveryCode { hash } => Update::builder()
                .table_name(&self.table)
                .key("pk", s(pk))
                .key("sk", s(keys::RECOVERY_CODES))
                .update_expression("REMOVE codes.#code")
                .condition_expression("attribute_exists(codes.#code)")
                .expression_attribute_names("#code", hash.as_str()),
        };
        items.push(TransactWriteItem::builder().update(update.build().map_err(internal)?).build());
        if let Some(mail) = &step.mail {
            items.push(outbox_item(&self.table, mail)?);
        }
        Ok(items)
    }

    /// The user's count of confirmed factors moved by `by`; with `at_least`, only while it stays
    /// at or above that.
    fn count_factors(
        &self,
        t: &AppId,
        u: &UserId,
        by: i64,
        at_least: Option<i64>,
    ) -> Result<TransactWriteItem> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::user(t, u)))
            .key("sk", s(keys::PROFILE))
            .update_expression("ADD mfa_factors :by")
            .expression_attribute_values(":by", n(by));
        update = match at_least {
            Some(min) => update
                .condition_expression("attribute_exists(pk) AND mfa_factors > :min")
                .expression_attribute_values(":min", n(min)),
            None => update.condition_expression("attribute_exists(pk)"),
        };
        Ok(TransactWriteItem::builder().update(update.build().map_err(internal)?).build())
    }
}

fn delete_factor(
    table: &str,
    factor: &FactorRecord,
    condition: Option<(&str, &str, aws_sdk_dynamodb::types::AttributeValue)>,
) -> Result<TransactWriteItem> {
    let pk = keys::user(&factor.tenant_id, &factor.user_id);
    delete_item(table, pk, &keys::factor(&factor.factor_id), condition)
}
