use std::time::Duration;

use auth_tests::{PASSWORD, TestApp, unique_email};
use futures::future::join_all;
use serde_json::json;

const RESET: &str = "/api/v1/auth/password/reset";
const CONFIRM: &str = "/api/v1/auth/password/reset/confirm";
const CHANGE: &str = "/api/v1/auth/password/change";
const NEW_PASSWORD: &str = "Obsidian-Lantern-77-Quay";

#[tokio::test]
async fn reset_answers_alike_for_known_and_unknown_addresses_and_mails_only_the_known() {
    let app = TestApp::spawn().await;
    let known = unique_email("reset-known");
    app.verified_user(&known).await;
    let unknown = unique_email("reset-unknown");
    let a = app.post(RESET, json!({"email": known})).send().await;
    let b = app.post(RESET, json!({"email": unknown})).send().await;
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(a.body["message"], b.body["message"]);
    assert_eq!(a.body["data"], b.body["data"]);
    assert!(app.mails_to(&known).await.iter().any(|m| m.link_token("reset-password").is_some()));
    assert!(app.mails_to(&unknown).await.is_empty());
    app.post(RESET, json!({"email": "nope"})).send().await.assert_error(400, "validation_failed");
}

#[tokio::test]
async fn a_reset_sets_the_password_ends_every_session_and_works_once() {
    let app = TestApp::spawn().await;
    let email = unique_email("reset");
    let (access, refresh) = app.logged_in(&email).await;
    app.post(RESET, json!({"email": email})).send().await;
    let token = app.token_from_mail(&email, "reset-password").await;

    // A weak password is refused and the token stays usable.
    let r = app.post(CONFIRM, json!({"token": token, "new_password": "password"})).send().await;
    r.assert_error(400, "validation_failed");
    assert!(r.body["error"]["fields"]["new_password"].as_array().unwrap().contains(&json!("not_common")));

    let r = app.post(CONFIRM, json!({"token": token, "new_password": NEW_PASSWORD})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["data"].get("access_token").is_none(), "a reset does not log in");
    app.post(CONFIRM, json!({"token": token, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .assert_error(400, "invalid_token");

    app.login(&email, PASSWORD).await.assert_error(401, "invalid_credentials");
    assert_eq!(app.login(&email, NEW_PASSWORD).await.status, 200);
    app.get("/api/v1/users/me").bearer(&access).send().await.assert_error(401, "unauthorized");
    app.refresh(&refresh).await.assert_error(401, "unauthorized");
    let mails = app.mails_to(&email).await;
    assert_eq!(mails.last().unwrap().subject, "Auth: Your password was changed");
}

#[tokio::test]
async fn twenty_concurrent_confirms_of_one_reset_token_give_one_success() {
    let app = TestApp::spawn().await;
    let email = unique_email("reset-race");
    app.verified_user(&email).await;
    app.post(RESET, json!({"email": email})).send().await;
    let token = app.token_from_mail(&email, "reset-password").await;
    let results = join_all(
        (0..20).map(|_| app.post(CONFIRM, json!({"token": token, "new_password": NEW_PASSWORD})).send()),
    )
    .await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    let refused = results.iter().filter(|r| r.code() == "invalid_token").count();
    assert_eq!((ok, refused), (1, 19));
}

#[tokio::test]
async fn expired_and_superseded_reset_tokens_are_refused() {
    let app = TestApp::spawn_with(&[("RESET_TOKEN_TTL_SECONDS", "1")]).await;
    let email = unique_email("reset-old");
    app.verified_user(&email).await;
    app.post(RESET, json!({"email": email})).send().await;
    let first = app.token_from_mail(&email, "reset-password").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.post(CONFIRM, json!({"token": first, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .assert_error(400, "invalid_token");

    let app = TestApp::spawn().await;
    let email = unique_email("reset-twice");
    app.verified_user(&email).await;
    app.post(RESET, json!({"email": email})).send().await;
    let older = app.token_from_mail(&email, "reset-password").await;
    app.post(RESET, json!({"email": email})).send().await;
    let newer = app.token_from_mail(&email, "reset-password").await;
    assert_ne!(older, newer);
    app.post(CONFIRM, json!({"token": older, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .assert_error(400, "invalid_token");
    assert_eq!(
        app.post(CONFIRM, json!({"token": newer, "new_password": NEW_PASSWORD})).send().await.status,
        200
    );
}

#[tokio::test]
async fn change_needs_the_current_password_and_ends_the_other_sessions_only() {
    let app = TestApp::spawn().await;
    let email = unique_email("change");
    let (mine, _) = app.logged_in(&email).await;
    let other = app.login(&email, PASSWORD).await.body["data"]["access_token"].as_str().unwrap().to_owned();

    let r = app
        .post(CHANGE, json!({"current_password": "Wrong-Guess-123", "new_password": NEW_PASSWORD}))
        .bearer(&mine)
        .send()
        .await;
    r.assert_error(401, "invalid_credentials");
    let r = app
        .post(CHANGE, json!({"current_password": PASSWORD, "new_password": "short"}))
        .bearer(&mine)
        .send()
        .await;
    r.assert_error(400, "validation_failed");

    let r = app
        .post(CHANGE, json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .bearer(&mine)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.get("/api/v1/users/me").bearer(&mine).send().await.status, 200, "the caller stays");
    app.get("/api/v1/users/me").bearer(&other).send().await.assert_error(401, "unauthorized");
    app.login(&email, PASSWORD).await.assert_error(401, "invalid_credentials");
    assert_eq!(app.login(&email, NEW_PASSWORD).await.status, 200);
    assert_eq!(app.mails_to(&email).await.last().unwrap().subject, "Auth: Your password was changed");
    app.post(CHANGE, json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .assert_error(401, "unauthorized");
}
