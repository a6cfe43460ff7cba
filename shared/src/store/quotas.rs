//! Rate-limit quotas and the writes that carry only them (decoys, failed logins).

use super::items::{audit_item, counter_sk, decoy_item, outbox_item, put};
use super::{Committed, Quota, Store};
use crate::error::Result;
use crate::ids::AppId;
use crate::model::AuditRecord;
use crate::outbox::OutboxRecord;
use chrono::{DateTime, Utc};

impl Store {
    /// The write an unknown address costs, so that it costs the same as a known one's
    /// `issue_token`: a transaction of as many items, each already expired and never read.
    pub async fn decoy_write(&self, tenant: &AppId, now: DateTime<Utc>) -> Result<()> {
        let items = (0..4).map(|_| put(&self.table, decoy_item(tenant, now), None)).collect::<Result<_>>()?;
        self.transact(items).await.map(|_| ())
    }

    /// What a refused login writes: the audit event of the account it named (or, for an unknown
    /// address, a decoy item in its place, so both cost the same write) and its quotas.
    pub async fn record_failed_login(
        &self,
        tenant: &AppId,
        audit: Option<&AuditRecord>,
        now: DateTime<Utc>,
        quotas: &[Quota],
        mail: Option<&OutboxRecord>,
    ) -> Result<Committed> {
        let item = match audit {
            Some(audit) => audit_item(audit)?,
            None => decoy_item(tenant, now),
        };
        let mut items = vec![put(&self.table, item, None)?];
        if let Some(mail) = mail {
            items.push(outbox_item(&self.table, mail)?);
        }
        self.commit(items, quotas).await
    }

    /// Takes quotas with no other write.
    pub async fn take_quotas(&self, quotas: &[Quota]) -> Result<Committed> {
        self.commit(Vec::new(), quotas).await
    }

    /// An account's consecutive failed password checks (`ratelimit::failure_counter`).
    pub async fn failures(&self, counter: &Quota) -> Result<u64> {
        #[derive(serde::Deserialize)]
        struct Counter {
            #[serde(default)]
            count: u64,
        }
        let item: Option<Counter> = self.get(counter.pk.clone(), &counter_sk(counter.window)).await?;
        Ok(item.map_or(0, |c| c.count))
    }
}
