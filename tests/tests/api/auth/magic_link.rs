use std::time::Duration;

use auth_tests::{TestApp, unique_email};
use serde_json::json;

const REQUEST: &str = "/api/v1/auth/magic-link";
const VERIFY: &str = "/api/v1/auth/magic-link/verify";

#[tokio::test]
async fn a_magic_link_logs_in_once() {
    let app = TestApp::spawn().await;
    let email = unique_email("magic");
    let user_id = app.verified_user(&email).await;
    let r = app.post(REQUEST, json!({"email": email})).send().await;
    assert_eq!(r.status, 200);
    let token = app.token_from_mail(&email, "magic-link").await;
    let r = app.post(VERIFY, json!({"token": token})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["data"]["user"]["id"], user_id.as_str());
    let access = r.body["data"]["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/users/me").bearer(access).send().await.status, 200);
    app.post(VERIFY, json!({"token": token})).send().await.assert_error(400, "invalid_token");
}

#[tokio::test]
async fn a_new_address_gets_a_verified_account_and_the_answer_does_not_tell() {
    let app = TestApp::spawn().await;
    let known = unique_email("magic-known");
    app.verified_user(&known).await;
    let new = unique_email("magic-new");
    let a = app.post(REQUEST, json!({"email": known})).send().await;
    let b = app.post(REQUEST, json!({"email": new})).send().await;
    assert_eq!(a.body["message"], b.body["message"]);
    let token = app.token_from_mail(&new, "magic-link").await;
    let r = app.post(VERIFY, json!({"token": token})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email"], new.as_str());
    assert_eq!(r.body["data"]["user"]["email_verified"], true);
    assert_eq!(r.body["data"]["user"]["providers"], json!(["magic_link"]));
    // The address now has an account: registering it again is a conflict.
    app.register(&new, auth_tests::PASSWORD).await.assert_error(409, "email_taken");
}

#[tokio::test]
async fn an_expired_or_superseded_magic_link_is_refused() {
    let app = TestApp::spawn_with(&[("MAGIC_LINK_TTL_SECONDS", "1")]).await;
    let email = unique_email("magic-old");
    app.verified_user(&email).await;
    app.post(REQUEST, json!({"email": email})).send().await;
    let token = app.token_from_mail(&email, "magic-link").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.post(VERIFY, json!({"token": token})).send().await.assert_error(400, "invalid_token");

    let app = TestApp::spawn().await;
    let email = unique_email("magic-twice");
    app.verified_user(&email).await;
    app.post(REQUEST, json!({"email": email})).send().await;
    let older = app.token_from_mail(&email, "magic-link").await;
    app.post(REQUEST, json!({"email": email})).send().await;
    let newer = app.token_from_mail(&email, "magic-link").await;
    app.post(VERIFY, json!({"token": older})).send().await.assert_error(400, "invalid_token");
    assert_eq!(app.post(VERIFY, json!({"token": newer})).send().await.status, 200);
}

/// Account pre-hijacking: someone registers the victim's address with their own password and never
/// verifies it. When the victim signs in by magic link, that password must stop working.
#[tokio::test]
async fn a_magic_link_to_an_unverified_account_drops_the_password_someone_else_chose() {
    let app = TestApp::spawn().await;
    let email = unique_email("victim");
    app.register(&email, auth_tests::PASSWORD).await;
    app.post(REQUEST, json!({"email": email})).send().await;
    let token = app.token_from_mail(&email, "magic-link").await;
    let r = app.post(VERIFY, json!({"token": token})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.login(&email, auth_tests::PASSWORD).await.assert_error(401, "invalid_credentials");
}
