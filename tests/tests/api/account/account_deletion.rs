use std::time::Duration;

use auth_tests::{PASSWORD, TestApp, jwt_payload, unique_email};
use serde_json::json;

const DELETION: &str = "/api/v1/account/deletion";

async fn request_and_confirm(app: &TestApp, email: &str, access: &str) -> (String, serde_json::Value) {
    let r = app.post(DELETION, json!({"password": PASSWORD})).bearer(access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let status = app.get(DELETION).bearer(access).send().await;
    assert_eq!(status.body["data"]["status"], "requested");
    let confirm = app.token_from_mail(email, "confirm-deletion").await;
    let r = app.post(&format!("{DELETION}/confirm"), json!({"token": confirm})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    (app.token_from_mail(email, "cancel-deletion").await, r.body["data"].clone())
}

#[tokio::test]
async fn confirming_disables_at_once_and_cancelling_restores() {
    let app = TestApp::spawn_with(&[("DELETION_GRACE_SECONDS", "3600")]).await;
    let email = unique_email("delete");
    let (access, refresh) = app.logged_in(&email).await;
    assert_eq!(app.get(DELETION).bearer(&access).send().await.body["data"]["status"], "none");

    // The password is checked before anything is mailed.
    app.post(DELETION, json!({"password": "Wrong-Guess-123"}))
        .bearer(&access)
        .send()
        .await
        .assert_error(401, "invalid_credentials");
    assert!(app.mails_to(&email).await.iter().all(|m| m.link_token("confirm-deletion").is_none()));

    let (cancel, data) = request_and_confirm(&app, &email, &access).await;
    let scheduled = chrono::DateTime::parse_from_rfc3339(data["scheduled_for"].as_str().unwrap()).unwrap();
    let in_an_hour = chrono::Utc::now() + chrono::Duration::seconds(3600);
    assert!((scheduled.timestamp() - in_an_hour.timestamp()).abs() < 60);

    // Disabled now: sessions dead, login says so after the right password only.
    app.get("/api/v1/users/me").bearer(&access).send().await.assert_error(401, "unauthorized");
    app.refresh(&refresh).await.assert_error(401, "unauthorized");
    app.login(&email, PASSWORD).await.assert_error(403, "account_pending_deletion");
    app.login(&email, "Wrong-Guess-123").await.assert_error(401, "invalid_credentials");

    // The holder of the cancel link sees the schedule.
    let status = app.get(DELETION).query(&format!("token={cancel}")).send().await;
    assert_eq!(status.status, 200, "{}", status.text);
    assert_eq!(status.body["data"]["status"], "pending");
    assert_eq!(status.body["data"]["scheduled_for"], data["scheduled_for"]);

    let r = app.post(&format!("{DELETION}/cancel"), json!({"token": cancel})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.post(&format!("{DELETION}/cancel"), json!({"token": cancel}))
        .send()
        .await
        .assert_error(400, "invalid_token");
    let r = app.login(&email, PASSWORD).await;
    assert_eq!(r.status, 200, "the account is active again: {}", r.text);
    let access = r.body["data"]["access_token"].as_str().unwrap();
    assert_eq!(app.get(DELETION).bearer(access).send().await.body["data"]["status"], "none");
}

#[tokio::test]
async fn the_purge_erases_everything_after_the_grace_period_and_the_email_registers_again() {
    let app = TestApp::spawn_with(&[("DELETION_GRACE_SECONDS", "3")]).await;
    let email = unique_email("purge");
    let (access, _) = app.logged_in(&email).await;
    let user_id = jwt_payload(&access)["sub"].as_str().unwrap().to_owned();
    // An API key: its item names the user, so the scan below finds it unless it was erased too.
    let r = app
        .post("/api/v1/auth/api-keys", json!({"label": "k", "scopes": ["read"]}))
        .bearer(&access)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Someone else's account stays.
    let bystander = unique_email("bystander");
    app.verified_user(&bystander).await;

    let grace = Duration::from_secs(3);
    let before = std::time::Instant::now();
    request_and_confirm(&app, &email, &access).await;
    // Not yet due: nothing happens. (Asserted only when this machine was quick enough for the
    // purge to start inside the grace period; a loaded one may take longer.)
    let early = functions::events::purge_accounts::handle(app.app.clone(), json!({})).await.unwrap();
    if before.elapsed() < grace {
        assert_eq!(early["purged"], 0);
    }
    tokio::time::sleep(grace + Duration::from_millis(100)).await;
    let out = functions::events::purge_accounts::handle(app.app.clone(), json!({})).await.unwrap();
    assert_eq!(out["purged"], 1);

    // Nothing of the account is left in the table.
    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    let dump = format!("{:?}", items.items());
    assert!(!dump.contains(&user_id), "an item of the purged user survived");
    assert!(!dump.contains(&email.to_lowercase()));
    assert!(dump.contains(&bystander.to_lowercase()), "other accounts are untouched");

    app.login(&email, PASSWORD).await.assert_error(401, "invalid_credentials");
    assert_eq!(app.register(&email, PASSWORD).await.status, 201, "the address can register again");
}

#[tokio::test]
async fn deletion_links_are_checked() {
    let app = TestApp::spawn().await;
    app.post(&format!("{DELETION}/confirm"), json!({"token": "garbage"}))
        .send()
        .await
        .assert_error(400, "invalid_token");
    app.post(&format!("{DELETION}/cancel"), json!({})).send().await.assert_error(400, "validation_failed");
    app.get(DELETION).query("token=garbage").send().await.assert_error(400, "invalid_token");
    app.get(DELETION).send().await.assert_error(401, "unauthorized");
    app.post(DELETION, json!({"password": PASSWORD})).send().await.assert_error(401, "unauthorized");
}

#[tokio::test]
async fn a_second_deletion_request_kills_the_first_link() {
    let app = TestApp::spawn().await;
    let email = unique_email("delete-twice");
    let (access, _) = app.logged_in(&email).await;
    let r = app.post(DELETION, json!({"password": PASSWORD})).bearer(&access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let first = app.token_from_mail(&email, "confirm-deletion").await;
    let r = app.post(DELETION, json!({"password": PASSWORD})).bearer(&access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let second = app.token_from_mail(&email, "confirm-deletion").await;
    assert_ne!(first, second);
    app.post(&format!("{DELETION}/confirm"), json!({"token": first}))
        .send()
        .await
        .assert_error(400, "invalid_token");
    let r = app.post(&format!("{DELETION}/confirm"), json!({"token": second})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
}
