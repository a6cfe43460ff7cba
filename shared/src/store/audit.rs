//! Audit events: stored under the user, read back newest first.

use super::Store;
use super::items::{audit_item, decode, s};
use super::keys;
use super::transact::unavailable;
use crate::error::Result;
use crate::ids::{AppId, UserId};
use crate::model::AuditRecord;
use std::collections::HashMap;

impl Store {
    /// One page of a user's audit events, newest first, and the key to continue after it.
    pub async fn audit_page(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        limit: i32,
        after: Option<&str>,
    ) -> Result<(Vec<AuditRecord>, Option<String>)> {
        let pk = keys::audit(tenant, user_id);
        let start =
            after.map(|sk| HashMap::from([("pk".to_owned(), s(pk.clone())), ("sk".to_owned(), s(sk))]));
        let out = self
            .client()
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(false)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(unavailable)?;
        let next =
            out.last_evaluated_key.as_ref().and_then(|k| k.get("sk")).and_then(|v| v.as_s().ok()).cloned();
        let records = out.items.unwrap_or_default().into_iter().map(decode).collect::<Result<Vec<_>>>()?;
        Ok((records, next))
    }

    /// Stores an audit event where the answer must not depend on it (the change it records has
    /// happened, or the answer must look the same for every account): a failure is logged only.
    /// The event's log line was written when it was recorded.
    pub async fn put_audit_or_log(&self, audit: &AuditRecord) {
        if let Err(e) = self.put_audit(audit).await {
            tracing::error!(error = %e, event = audit.kind.as_str(), "audit event could not be stored");
        }
    }

    pub async fn put_audit(&self, audit: &AuditRecord) -> Result<()> {
        self.client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(audit_item(audit)?))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
