//! The mail outbox as the mailer sees it: claim, release, delete (flows write their mail in
//! their own transactions; `shared::outbox`).

use super::items::{n, outbox_item, s};
use super::keys;
use super::transact::unavailable;
use super::{Claim, Store};
use crate::error::Result;
use crate::outbox::OutboxRecord;
use chrono::{DateTime, Utc};

impl Store {
    /// A mail with no other work to commit with (the existing-account notice).
    pub async fn put_outbox(&self, mail: &OutboxRecord) -> Result<()> {
        self.transact(vec![outbox_item(&self.table, mail)?]).await.map(|_| ())
    }

    /// The mailer's claim on an item before it sends: only while the item is unclaimed, or its
    /// claim's lease has run out (a mailer that died mid-send). Each claim counts an attempt.
    pub async fn claim_outbox(
        &self,
        mail: &OutboxRecord,
        now: DateTime<Utc>,
        lease_seconds: i64,
    ) -> Result<Claim> {
        let pk = keys::outbox(&mail.tenant_id, &mail.id);
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk.clone()))
            .key("sk", s(keys::MAIL))
            .update_expression("SET claimed_until = :until ADD attempts :one")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(claimed_until) OR claimed_until < :now)",
            )
            .expression_attribute_values(":until", n(now.timestamp() + lease_seconds))
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let attempt = out
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get("attempts"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                Ok(Claim::Claimed { attempt })
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                // Gone (sent and deleted) or held by a live claim: the read tells which.
                Ok(match self.get::<OutboxRecord>(pk, keys::MAIL).await? {
                    None => Claim::Gone,
                    Some(_) => Claim::Held,
                })
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Gives a claim back after a send failed, so that the stream's retry sends it.
    pub async fn release_outbox(&self, mail: &OutboxRecord) -> Result<()> {
        self.client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::outbox(&mail.tenant_id, &mail.id)))
            .key("sk", s(keys::MAIL))
            .update_expression("REMOVE claimed_until")
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Removes a sent mail (and with it the sealed token).
    pub async fn delete_outbox(&self, mail: &OutboxRecord) -> Result<()> {
        self.client()
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(keys::outbox(&mail.tenant_id, &mail.id)))
            .key("sk", s(keys::MAIL))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
