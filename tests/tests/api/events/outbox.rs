//! The mail outbox: flows write their mail in their own transaction, the mailer (fed by the
//! table's stream) sends it. Link tokens never sit in clear in the table or the stream.

use auth_tests::{Broken, PASSWORD, TestApp, unique_email};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

/// The outbox items of the app's table.
async fn outbox_items(app: &TestApp) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    items
        .items()
        .iter()
        .filter(|i| i.get("kind").and_then(|k| k.as_s().ok()).is_some_and(|k| k == "outbox"))
        .cloned()
        .collect()
}

/// Sets an outbox item's claim to run out `seconds` from now (negative: ran out already).
async fn set_claim(app: &TestApp, item: &std::collections::HashMap<String, AttributeValue>, seconds: i64) {
    app.dynamodb()
        .await
        .update_item()
        .table_name(&app.config.table_name)
        .key("pk", item["pk"].clone())
        .key("sk", item["sk"].clone())
        .update_expression("SET claimed_until = :t")
        .expression_attribute_values(
            ":t",
            AttributeValue::N((chrono::Utc::now().timestamp() + seconds).to_string()),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn mail_leaves_the_request_path_and_its_link_is_never_stored_in_clear() {
    let app = TestApp::spawn().await;
    let email = unique_email("outbox");
    assert_eq!(app.register(&email, PASSWORD).await.status, 201);
    // Committed with the account, not sent by the request.
    assert!(app.sent_mails_to(&email).await.is_empty(), "the request itself sent nothing");
    let pending = outbox_items(&app).await;
    assert_eq!(pending.len(), 1);
    assert!(pending[0].get("sealed_token").is_some_and(|t| t.as_s().is_ok_and(|t| !t.is_empty())));

    let token = app.token_from_mail(&email, "verify-email").await;
    assert!(outbox_items(&app).await.is_empty(), "a sent mail leaves the outbox");
    let table = format!(
        "{:?}",
        app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap().items()
    );
    assert!(!table.contains(&token), "the link's token is not in the table");
    let stream = app.stream_text().await;
    assert!(stream.contains("sealed_token"), "the stream was read");
    assert!(!stream.contains(&token), "the link's token is not in the stream in clear");
    assert_eq!(app.post("/api/v1/auth/verify-email", json!({"token": token})).send().await.status, 200);
}

/// A record delivered again (a retry, a second consumer) finds the item claimed or gone and
/// sends nothing; so does a record whose item another mailer is sending right now.
#[tokio::test]
async fn a_redelivered_record_sends_nothing() {
    let app = TestApp::spawn().await;
    let email = unique_email("redelivered");
    app.register(&email, PASSWORD).await;
    assert_eq!(app.deliver_mail().await, 1);
    let sdk = authctl::local_sdk_config(&app.moto).await;
    let again = authctl::outbox::Pump::new(&sdk, app.config.table_name.clone());
    assert_eq!(again.run(&app.app).await.unwrap(), 1, "the record is handed over a second time");
    assert_eq!(app.sent_mails_to(&email).await.len(), 1, "and sent once");

    // A mail whose item is claimed by a live mailer is left to it.
    let other = unique_email("claimed");
    app.post("/api/v1/auth/magic-link", json!({"email": other})).send().await;
    let item = outbox_items(&app).await.pop().expect("the magic link's mail is pending");
    set_claim(&app, &item, 60).await;
    app.deliver_mail().await;
    assert!(app.sent_mails_to(&other).await.is_empty(), "a live claim is left to its holder");
    // Its holder died: once the lease has run out, the retried record sends the mail, once.
    set_claim(&app, &item, -1).await;
    assert_eq!(app.mails_to(&other).await.len(), 1, "the mail is not lost with its mailer");
    app.deliver_mail().await;
    assert_eq!(app.sent_mails_to(&other).await.len(), 1);
}

/// A mail SES refuses as such fails the same way on every retry: it is audited and dropped at
/// once, so it never holds back the mails behind it in its shard.
#[tokio::test]
async fn a_mail_refused_for_good_is_dropped_and_holds_nothing_back() {
    let app = TestApp::spawn().await;
    let first = unique_email("refused");
    let r = app.register(&first, PASSWORD).await;
    let user_id = r.body["data"]["user_id"].as_str().unwrap().to_owned();
    let second = unique_email("behind");
    app.register(&second, PASSWORD).await;
    // A mailer whose sender SES has never verified: SES refuses every message (MessageRejected).
    let refusing = app.with_config(&[("MAIL_FROM", "nobody@unverified.test")]).await;
    let sdk = authctl::local_sdk_config(&app.moto).await;
    let pump = authctl::outbox::Pump::new(&sdk, app.config.table_name.clone());
    assert_eq!(pump.run(&refusing).await.unwrap(), 2, "both records were handed over, in one run");
    assert!(outbox_items(&app).await.is_empty(), "refused mails leave the outbox");
    assert!(app.audit_types(&user_id).await.contains(&"mail_failed".to_owned()));
    assert!(app.sent_mails_to(&first).await.is_empty());
}

/// Only outbox inserts reach the mailer: a login writes sessions, counters and audit events, and
/// the mailer is handed nothing. The local harness's filter is the template's.
#[tokio::test]
async fn only_outbox_inserts_reach_the_mailer() {
    let app = TestApp::spawn_with(&[("RATE_LIMITS", "on")]).await;
    let email = unique_email("filter");
    app.verified_user(&email).await;
    app.deliver_mail().await;
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
    app.login(&email, "Wrong-Guess-123").await;
    assert_eq!(app.deliver_mail().await, 0, "nothing but outbox inserts is handed over");

    let template = authctl::template::load().unwrap();
    let pattern = template["Resources"]["MailerFunction"]["Properties"]["Events"]["Outbox"]["Properties"]
        ["FilterCriteria"]["Filters"][0]["Pattern"]
        .as_str()
        .expect("the mailer's trigger has a filter");
    let parsed: serde_json::Value = serde_json::from_str(pattern).unwrap();
    assert_eq!(parsed, serde_json::from_str::<serde_json::Value>(shared::outbox::OUTBOX_FILTER).unwrap());
}

/// Known and unknown addresses cost the same store work, in the same order, now that no request
/// sends mail: reset, resend and magic link; and registration with hidden existence.
#[tokio::test]
async fn known_and_unknown_addresses_do_the_same_store_work() {
    let app = TestApp::spawn_with(&[("PREVENT_USER_EXISTENCE_ERRORS", "true")]).await;
    let verified = unique_email("work-verified");
    app.verified_user(&verified).await;
    let unverified = unique_email("work-unverified");
    app.register(&unverified, PASSWORD).await;
    for (path, known) in [
        ("/api/v1/auth/password/reset", &verified),
        ("/api/v1/auth/resend-verification", &unverified),
        ("/api/v1/auth/magic-link", &verified),
    ] {
        let kms = app.app.sealer.calls().count();
        let (a, known_calls) = app.counted(app.post(path, json!({"email": known}))).await;
        let known_kms = app.app.sealer.calls().since(kms);
        let kms = app.app.sealer.calls().count();
        let (b, unknown_calls) =
            app.counted(app.post(path, json!({"email": unique_email("work-nobody")}))).await;
        let unknown_kms = app.app.sealer.calls().since(kms);
        assert_eq!((a.status, b.status), (200, 200));
        assert_eq!(known_calls, unknown_calls, "{path}: DynamoDB");
        assert_eq!(known_kms, ["Encrypt"], "{path}: the known address's link is sealed");
        assert_eq!(known_kms, unknown_kms, "{path}: KMS");
    }
    let (a, taken) = app
        .counted(app.post("/api/v1/auth/register", json!({"email": verified, "password": PASSWORD})))
        .await;
    let (b, new) = app
        .counted(
            app.post(
                "/api/v1/auth/register",
                json!({"email": unique_email("work-new"), "password": PASSWORD}),
            ),
        )
        .await;
    assert_eq!((a.status, b.status), (201, 201));
    assert_eq!(taken, new, "registration");
}

/// A mail SES refuses stays in the outbox, its claim given back, the failure audited; the retried
/// record goes out once SES works again. The account never depended on it.
#[tokio::test]
async fn a_mail_that_cannot_be_sent_is_audited_and_retried() {
    let app = TestApp::spawn().await;
    let email = unique_email("deadses");
    let r = app.register(&email, PASSWORD).await;
    let user_id = r.body["data"]["user_id"].as_str().unwrap().to_owned();
    let broken = app.with_broken(Broken::Ses).await;
    let sdk = authctl::local_sdk_config(&app.moto).await;
    let dead_mailer = authctl::outbox::Pump::new(&sdk, app.config.table_name.clone());
    assert_eq!(dead_mailer.run(&broken).await.unwrap(), 1);
    assert!(app.sent_mails_to(&email).await.is_empty());
    assert!(app.audit_types(&user_id).await.contains(&"mail_failed".to_owned()));
    let pending = outbox_items(&app).await;
    assert_eq!(pending.len(), 1, "the mail waits in the outbox");
    assert!(!pending[0].contains_key("claimed_until"), "its claim was given back");

    let token = app.token_from_mail(&email, "verify-email").await;
    assert_eq!(app.post("/api/v1/auth/verify-email", json!({"token": token})).send().await.status, 200);
}
