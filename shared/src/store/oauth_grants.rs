//! What the app's OAuth provider keeps about users: browser sessions at its login page,
//! authorization codes, grants (with their refresh-token families) and consents.

use super::items::{audit_item, decode, delete_item, delete_request, internal, keyed, n, put, s};
use super::keys;
use super::transact::{unavailable, user_state_check};
use super::{Store, Written};
use crate::error::Result;
use crate::ids::ClientId;
use crate::ids::{AppId, UserId};
use crate::model::{AuditRecord, UserRecord};
use crate::model::{
    AuthorizationCodeRecord, BrowserSessionRecord, ConsentRecord, OAuthClientRecord, OAuthGrantRecord,
};
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

/// What one verification of a provider's access token needs, read together.
pub struct TokenState {
    pub revoked: bool,
    pub client: Option<OAuthClientRecord>,
    /// The grant and its user, for a token issued for a user.
    pub grant: Option<OAuthGrantRecord>,
    pub user: Option<UserRecord>,
}

/// The outcome of redeeming an authorization code.
pub enum Redeemed {
    Done,
    /// Redeemed before (or expired, or its user no longer active): nothing was issued.
    Refused,
}

impl Store {
    /// Stores a browser session and its entry in the user's partition, together.
    pub async fn put_browser_session(&self, cookie_hash: &str, session: &BrowserSessionRecord) -> Result<()> {
        let item =
            keyed(keys::browser_session(&session.tenant_id, cookie_hash), keys::BROWSER_SESSION, session)?;
        let entry = keyed(
            keys::user(&session.tenant_id, &session.user_id),
            &keys::browser_session_ref(cookie_hash),
            session,
        )?;
        self.transact(vec![put(&self.table, item, None)?, put(&self.table, entry, None)?]).await?;
        Ok(())
    }

    /// Ends every browser session of a user (signing out everywhere, a password reset).
    pub async fn end_browser_sessions(&self, tenant: &AppId, user_id: &UserId) -> Result<()> {
        let partition = keys::user(tenant, user_id);
        let mut requests = Vec::new();
        for item in self.query_partition(partition.clone(), Some(keys::BROWSER_SESSION_REF_PREFIX)).await? {
            if let Some(sk) = item.get("sk").and_then(|v| v.as_s().ok()) {
                let hash = sk.trim_start_matches(keys::BROWSER_SESSION_REF_PREFIX);
                requests.push(delete_request(
                    keys::browser_session(tenant, hash),
                    keys::BROWSER_SESSION.to_owned(),
                )?);
                requests.push(delete_request(partition.clone(), sk.clone())?);
            }
        }
        for chunk in requests.chunks(24) {
            self.batch_write(chunk.to_vec()).await?;
        }
        Ok(())
    }

    pub async fn browser_session(
        &self,
        tenant: &AppId,
        cookie_hash: &str,
    ) -> Result<Option<BrowserSessionRecord>> {
        self.get(keys::browser_session(tenant, cookie_hash), keys::BROWSER_SESSION).await
    }

    pub async fn delete_browser_session(&self, tenant: &AppId, cookie_hash: &str) -> Result<()> {
        let mut requests = vec![delete_request(
            keys::browser_session(tenant, cookie_hash),
            keys::BROWSER_SESSION.to_owned(),
        )?];
        if let Some(session) = self.browser_session(tenant, cookie_hash).await? {
            requests.push(delete_request(
                keys::user(tenant, &session.user_id),
                keys::browser_session_ref(cookie_hash),
            )?);
        }
        self.batch_write(requests).await
    }

    /// Stores a new authorization code (its hash is 256 random bits: no collision to guard).
    pub async fn put_authorization_code(
        &self,
        code_hash: &str,
        code: &AuthorizationCodeRecord,
    ) -> Result<()> {
        let item =
            keyed(keys::authorization_code(&code.tenant_id, code_hash), keys::AUTHORIZATION_CODE, code)?;
        self.client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub async fn authorization_code(
        &self,
        tenant: &AppId,
        code_hash: &str,
    ) -> Result<Option<AuthorizationCodeRecord>> {
        self.get(keys::authorization_code(tenant, code_hash), keys::AUTHORIZATION_CODE).await
    }

    /// Redeems a code and creates its grant in one transaction: only while the code is unredeemed
    /// and unexpired and its user active, so of any number of concurrent exchanges exactly one
    /// issues tokens.
    pub async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        grant: &OAuthGrantRecord,
        audit: &AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<Redeemed> {
        let redeem = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::authorization_code(&grant.tenant_id, code_hash)))
            .key("sk", s(keys::AUTHORIZATION_CODE))
            .update_expression("SET redeemed_at = :at")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(redeemed_at) AND expires_at > :now",
            )
            .expression_attribute_values(":at", s(now.to_rfc3339()))
            .expression_attribute_values(":now", n(now.timestamp()))
            .build()
            .map_err(internal)?;
        let items = vec![
            TransactWriteItem::builder().update(redeem).build(),
            put(
                &self.table,
                keyed(
                    keys::user(&grant.tenant_id, &grant.user_id),
                    &keys::oauth_grant(&grant.grant_id),
                    grant,
                )?,
                Some("attribute_not_exists(pk)"),
            )?,
            user_state_check(&self.table, &grant.tenant_id, &grant.user_id, Some(grant.credential_version))?,
            // A disconnect between the code's issue and its redemption leaves nothing behind.
            consent_check(&self.table, grant)?,
            put(&self.table, audit_item(audit)?, None)?,
        ];
        Ok(match self.transact(items).await? {
            Written::Done => Redeemed::Done,
            Written::ConditionFailed => Redeemed::Refused,
        })
    }

    pub async fn oauth_grant(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        grant_id: &str,
    ) -> Result<Option<OAuthGrantRecord>> {
        self.get(keys::user(tenant, user_id), &keys::oauth_grant(grant_id)).await
    }

    /// Ends a grant (and so every token it issued), with the event that says why.
    pub async fn delete_oauth_grant(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        grant_id: &str,
        audit: Option<&AuditRecord>,
    ) -> Result<()> {
        let mut items =
            vec![delete_item(&self.table, keys::user(tenant, user_id), &keys::oauth_grant(grant_id), None)?];
        if let Some(audit) = audit {
            items.push(put(&self.table, audit_item(audit)?, None)?);
        }
        self.transact(items).await?;
        Ok(())
    }

    /// Rotates a grant's refresh token: only while the presented one is still current (its hash
    /// and generation) and the user active, so of concurrent refreshes exactly one wins.
    #[allow(clippy::too_many_arguments)]
    pub async fn rotate_oauth_grant(
        &self,
        grant: &OAuthGrantRecord,
        presented_hash: &str,
        new_hash: &str,
        expires_at: i64,
        audit: &AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let rotate = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::user(&grant.tenant_id, &grant.user_id)))
            .key("sk", s(keys::oauth_grant(&grant.grant_id)))
            .update_expression(
                "SET refresh_hash = :new, generation = :next, prev_hash = :old, rotated_at = :at, \
                 expires_at = :exp, #ttl = :exp",
            )
            .condition_expression("refresh_hash = :old AND generation = :gen")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(presented_hash))
            .expression_attribute_values(":gen", n(grant.generation as i64))
            .expression_attribute_values(":next", n(grant.generation as i64 + 1))
            .expression_attribute_values(":at", s(now.to_rfc3339()))
            .expression_attribute_values(":exp", n(expires_at))
            .build()
            .map_err(internal)?;
        self.transact(vec![
            TransactWriteItem::builder().update(rotate).build(),
            user_state_check(&self.table, &grant.tenant_id, &grant.user_id, Some(grant.credential_version))?,
            put(&self.table, audit_item(audit)?, None)?,
        ])
        .await
    }

    pub async fn consent(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        client_id: &ClientId,
    ) -> Result<Option<ConsentRecord>> {
        self.get(keys::user(tenant, user_id), &keys::consent(client_id)).await
    }

    /// A user's consents, oldest first.
    pub async fn consents(&self, tenant: &AppId, user_id: &UserId) -> Result<Vec<ConsentRecord>> {
        let items = self.query_partition(keys::user(tenant, user_id), Some(keys::CONSENT_PREFIX)).await?;
        let mut out: Vec<ConsentRecord> = items.into_iter().map(decode).collect::<Result<_>>()?;
        out.sort_by(|a, b| (a.granted_at, &a.client_id).cmp(&(b.granted_at, &b.client_id)));
        Ok(out)
    }

    /// Remembers a consent (replacing the one before), with its event, while the user is active.
    pub async fn put_consent(&self, consent: &ConsentRecord, audit: Option<&AuditRecord>) -> Result<Written> {
        let mut items = vec![
            put(
                &self.table,
                keyed(
                    keys::user(&consent.tenant_id, &consent.user_id),
                    &keys::consent(&consent.client_id),
                    consent,
                )?,
                None,
            )?,
            user_state_check(&self.table, &consent.tenant_id, &consent.user_id, None)?,
        ];
        if let Some(audit) = audit {
            items.push(put(&self.table, audit_item(audit)?, None)?);
        }
        self.transact(items).await
    }

    /// Revokes a user's consent to a client and every grant the client holds for the user: `false`
    /// when there was neither. The consent goes first (with its event): from then on no code
    /// redeems (redemption checks the consent in its transaction), so the grants read afterwards,
    /// strongly consistent, are all there are.
    pub async fn revoke_consent(
        &self,
        tenant: &AppId,
        user_id: &UserId,
        client_id: &ClientId,
        audit: &AuditRecord,
    ) -> Result<bool> {
        let partition = keys::user(tenant, user_id);
        let existed = self.consent(tenant, user_id, client_id).await?.is_some();
        if existed {
            let consent = delete_item(&self.table, partition.clone(), &keys::consent(client_id), None)?;
            self.transact(vec![consent, put(&self.table, audit_item(audit)?, None)?]).await?;
        }
        let mut grants = Vec::new();
        for item in self.query_partition(partition.clone(), Some(keys::OAUTH_GRANT_PREFIX)).await? {
            let grant: OAuthGrantRecord = decode(item)?;
            if &grant.client_id == client_id {
                grants.push(delete_request(partition.clone(), keys::oauth_grant(&grant.grant_id))?);
            }
        }
        if !existed && grants.is_empty() {
            return Ok(false);
        }
        for chunk in grants.chunks(25) {
            self.batch_write(chunk.to_vec()).await?;
        }
        if !existed {
            self.put_audit(audit).await?;
        }
        Ok(true)
    }

    /// A user's grants, for the list of connected apps.
    pub async fn oauth_grants(&self, tenant: &AppId, user_id: &UserId) -> Result<Vec<OAuthGrantRecord>> {
        let items = self.query_partition(keys::user(tenant, user_id), Some(keys::OAUTH_GRANT_PREFIX)).await?;
        items.into_iter().map(decode).collect()
    }

    /// Everything a provider's access token depends on, in one strongly consistent read: its
    /// revocation mark, its client, and (for a user's token) its grant and user.
    pub async fn oauth_token_state(
        &self,
        tenant: &AppId,
        jti: &str,
        client_id: &ClientId,
        grant: Option<(&UserId, &str)>,
    ) -> Result<TokenState> {
        let revoked_pk = keys::revoked_token(tenant, jti);
        let client_pk = keys::app(tenant);
        let client_sk = keys::oauth_client(client_id);
        let mut wanted =
            vec![(revoked_pk.clone(), keys::REVOKED.to_owned()), (client_pk.clone(), client_sk.clone())];
        let (user_pk, grant_sk) = match grant {
            Some((user_id, grant_id)) => {
                (Some(keys::user(tenant, user_id)), Some(keys::oauth_grant(grant_id)))
            }
            None => (None, None),
        };
        if let (Some(pk), Some(sk)) = (&user_pk, &grant_sk) {
            wanted.push((pk.clone(), sk.clone()));
            wanted.push((pk.clone(), keys::PROFILE.to_owned()));
        }
        let mut state = TokenState { revoked: false, client: None, grant: None, user: None };
        for item in self.get_many(wanted).await? {
            let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if pk == revoked_pk {
                state.revoked = true;
            } else if pk == client_pk && sk == client_sk {
                state.client = Some(decode(item)?);
            } else if Some(&pk) == user_pk.as_ref() && Some(&sk) == grant_sk.as_ref() {
                state.grant = Some(decode(item)?);
            } else if Some(&pk) == user_pk.as_ref() && sk == keys::PROFILE {
                state.user = Some(decode(item)?);
            }
        }
        Ok(state)
    }
}

/// A condition that the user's consent to the grant's client still exists.
fn consent_check(table: &str, grant: &OAuthGrantRecord) -> Result<TransactWriteItem> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .key("pk", s(keys::user(&grant.tenant_id, &grant.user_id)))
        .key("sk", s(keys::consent(&grant.client_id)))
        .condition_expression("attribute_exists(pk)")
        .build()
        .map_err(internal)?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}
