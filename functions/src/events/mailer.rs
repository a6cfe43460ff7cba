//! The mailer: sends the mails flows leave in the outbox (`shared::outbox`), fed by the table's
//! DynamoDB stream. Its trigger passes outbox inserts only; it claims each item before sending, so
//! a record delivered twice sends once, deletes the item (and with it the sealed token) once SES
//! has the mail, and reports the records it could not send yet, which the stream retries and
//! finally hands to the failure destination (template: `MailerFunction`).

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use chrono::Utc;
use serde_json::json;
use shared::App;
use shared::audit::{self, ClientInfo, EventType};
use shared::domain::Email;
use shared::error::{Error, Result};
use shared::outbox::{self, CLAIM_LEASE_SECONDS, OUTBOX_KIND, OutboxRecord};
use shared::store::Claim;

/// Handles one batch of stream records; the response names the records to retry.
pub async fn handle(app: &App, event: Event) -> DynamoDbEventResponse {
    shared::iam::as_function(crate::routes::MAILER, Box::pin(deliver_all(app, event))).await
}

async fn deliver_all(app: &App, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        let Some(mail) = outbox_insert(&record) else { continue };
        if let Err(e) = deliver(app, &mail).await {
            tracing::warn!(error = %e, outbox_id = mail.id.as_str(), "mail not sent yet; the stream retries it");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// The outbox item a record inserted, if it is one (the trigger's filter already passes only
/// these; the check stays so that a wider filter can never send anything else).
fn outbox_insert(record: &EventRecord) -> Option<OutboxRecord> {
    if record.event_name != "INSERT" {
        return None;
    }
    let mail: OutboxRecord = match serde_dynamo::from_item(record.change.new_image.clone()) {
        Ok(mail) => mail,
        Err(_) => return None,
    };
    (mail.kind == OUTBOX_KIND).then_some(mail)
}

/// Claims, renders, sends and deletes one mail. `Err` asks the stream to deliver the record again:
/// a claim another mailer holds (it may have died; its lease runs out), or a failure that may pass
/// (throttling, a network error). A mail that can never go out (SES refuses it as such, or it cannot
/// be rendered) is audited, removed from the outbox and not retried: it must not hold back the mails
/// behind it in its shard.
async fn deliver(app: &App, mail: &OutboxRecord) -> Result<()> {
    let attempt = match app.store.claim_outbox(mail, Utc::now(), CLAIM_LEASE_SECONDS).await? {
        Claim::Claimed { attempt } => attempt,
        Claim::Gone => {
            tracing::info!(outbox_id = mail.id.as_str(), "mail already sent");
            return Ok(());
        }
        Claim::Held => return Err(Error::dependency("outbox", "claimed by another mailer")),
    };
    let sent = async {
        let token = outbox::open_token(&app.sealer, mail).await?;
        // The links of the mail's own app.
        let tenant = app.tenant(&mail.tenant_id).await.map_err(|e| match e {
            // The app was deleted since: nobody is left to write to.
            Error::NotFound => Error::Undeliverable("the mail's app no longer exists".into()),
            other => other,
        })?;
        let rendered = outbox::render(mail, &tenant.settings, token.as_ref())?;
        let to = Email::from_stored(mail.to.clone());
        app.mailer.send(&to, rendered, tenant.settings.mail_from_name.as_deref()).await
    }
    .await;
    match sent {
        Ok(()) => {
            // Sent: the item (and its sealed token) goes. Should this fail, the record's next
            // delivery finds the claim and, after the lease, sends again: `docs/mail.md`'s one case.
            app.store.delete_outbox(mail).await?;
            tracing::info!(outbox_id = mail.id.as_str(), "mail sent");
            Ok(())
        }
        Err(e @ (Error::Undeliverable(_) | Error::Internal(_))) => {
            log_failure(app, mail, &e, true).await;
            app.store.delete_outbox(mail).await
        }
        Err(e) => {
            if attempt == 1 {
                log_failure(app, mail, &e, false).await;
            }
            // Give the claim back, so that the stream's retry sends it.
            if let Err(release) = app.store.release_outbox(mail).await {
                tracing::error!(error = %release, "outbox claim could not be released; it expires by itself");
            }
            Err(e)
        }
    }
}

/// A mail that could not be sent never loses the account: the failure is logged and, for an
/// account, audited (`mail_failed`, once: at the first failed attempt or when it is given up).
async fn log_failure(app: &App, mail: &OutboxRecord, error: &Error, final_: bool) {
    let purpose = mail.letter().map(|l| l.purpose()).unwrap_or("unknown");
    tracing::error!(
        error = %error,
        source = ?std::error::Error::source(error).map(|s| s.to_string()),
        outbox_id = mail.id.as_str(),
        purpose,
        final_,
        "mail could not be sent"
    );
    if let Some(user_id) = &mail.user_id {
        let details = audit::details([("purpose", json!(purpose)), ("given_up", json!(final_))]);
        let client = ClientInfo { request_id: format!("outbox-{}", mail.id), ..Default::default() };
        let event = audit::record(
            &app.config,
            &mail.tenant_id,
            user_id,
            EventType::MailFailed,
            &client,
            details,
            Utc::now(),
        );
        app.store.put_audit_or_log(&event).await;
    }
}
