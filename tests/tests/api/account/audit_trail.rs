//! The audit trail: events in order, paginated, and no secret anywhere in the table or the logs.

use auth_tests::{PASSWORD, TestApp, unique_email};
use serde_json::json;

const AUDIT: &str = "/api/v1/users/me/audit";

#[tokio::test]
async fn events_appear_newest_first_and_paginate() {
    let app = TestApp::spawn().await;
    let email = unique_email("audit");
    app.verified_user(&email).await;
    app.login(&email, "Wrong-Guess-123").await;
    let access = app.login(&email, PASSWORD).await.body["data"]["access_token"].as_str().unwrap().to_owned();

    let r = app.get(AUDIT).bearer(&access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let types: Vec<&str> =
        r.body["data"]["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["login_succeeded", "login_failed", "email_verified", "register"]);
    let first = &r.body["data"]["events"][0];
    for field in ["id", "type", "at", "ip", "user_agent", "details"] {
        assert!(first.get(field).is_some(), "{field}");
    }
    assert_eq!(first["ip"], "203.0.113.10");

    // Two at a time.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("limit=2&cursor={c}"),
            None => "limit=2".to_owned(),
        };
        let page = app.get(AUDIT).query(&q).bearer(&access).send().await;
        assert_eq!(page.status, 200, "{}", page.text);
        let events = page.body["data"]["events"].as_array().unwrap();
        assert!(events.len() <= 2);
        seen.extend(events.iter().map(|e| e["type"].as_str().unwrap().to_owned()));
        match page.body["data"]["next_cursor"].as_str() {
            Some(c) if !events.is_empty() => cursor = Some(c.to_owned()),
            _ => break,
        }
    }
    assert_eq!(seen, types);

    app.get(AUDIT).query("limit=0").bearer(&access).send().await.assert_error(400, "validation_failed");
    app.get(AUDIT).query("cursor=%%%").bearer(&access).send().await.assert_error(400, "validation_failed");
    app.get(AUDIT).send().await.assert_error(401, "unauthorized");
}

#[tokio::test]
async fn no_password_token_or_link_is_stored_or_logged() {
    let logs = auth_tests::Captured::install();

    let app = TestApp::spawn().await;
    let email = unique_email("secrets");
    let mut secrets = vec![PASSWORD.to_owned()];
    app.register(&email, PASSWORD).await;
    let verify = app.token_from_mail(&email, "verify-email").await;
    secrets.push(verify.clone());
    app.post("/api/v1/auth/verify-email", json!({"token": verify})).send().await;
    app.login(&email, "Wrong-Guess-123").await;
    secrets.push("Wrong-Guess-123".to_owned());
    let r = app.login(&email, PASSWORD).await;
    let (access, refresh) = (
        r.body["data"]["access_token"].as_str().unwrap().to_owned(),
        r.body["data"]["refresh_token"].as_str().unwrap().to_owned(),
    );
    let r = app.refresh(&refresh).await;
    let refresh2 = r.body["data"]["refresh_token"].as_str().unwrap().to_owned();
    app.post("/api/v1/auth/password/reset", json!({"email": email})).send().await;
    let reset = app.token_from_mail(&email, "reset-password").await;
    let new_password = "Obsidian-Lantern-77-Quay";
    app.post("/api/v1/auth/password/reset/confirm", json!({"token": reset, "new_password": new_password}))
        .send()
        .await;
    app.post("/api/v1/auth/magic-link", json!({"email": email})).send().await;
    let magic = app.token_from_mail(&email, "magic-link").await;
    app.post("/api/v1/auth/magic-link/verify", json!({"token": magic})).send().await;
    secrets.extend([access, refresh, refresh2, reset, magic, new_password.to_owned()]);
    // An app's secret key: shown once at creation, then only ever presented.
    let dev = app.developer(&unique_email("secrets-dev")).await;
    let id = app.create_app(&dev, json!({})).await;
    let r = app.post(&format!("/api/v1/console/apps/{id}/secret-keys"), json!({})).bearer(&dev).send().await;
    let key = r.body["data"]["key"].as_str().unwrap().to_owned();
    let listed = app.get(&format!("/apps/{id}/api/v1/admin/users")).bearer(&key).send().await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let keys = app.get(&format!("/api/v1/console/apps/{id}/secret-keys")).bearer(&dev).send().await;
    assert!(!keys.text.contains(&key), "no answer after the creation shows the key");
    secrets.extend([dev, key]);
    // A user's API key: shown at creation and at rotation, then only presented (the authorizer
    // and the function both verify it, and record its use).
    let (user_access, _) = app.logged_in(&unique_email("secrets-keys")).await;
    let r = app
        .post("/api/v1/auth/api-keys", json!({"label": "k", "scopes": ["read"]}))
        .bearer(&user_access)
        .send()
        .await;
    let api_key = r.body["data"]["raw_key"].as_str().unwrap().to_owned();
    let key_id = r.body["data"]["api_key"]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/users/me").bearer(&api_key).send().await.status, 200);
    app.authorize(Some(&format!("Bearer {api_key}"))).await;
    let r = app
        .post(&format!("/api/v1/auth/api-keys/{key_id}/rotate"), json!({"grace_seconds": 60}))
        .bearer(&user_access)
        .send()
        .await;
    let rotated = r.body["data"]["new_raw_key"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/users/me").bearer(&rotated).send().await.status, 200);
    app.get("/api/v1/users/me").bearer(&format!("{api_key}x")).send().await;
    // The secrets alone too (the key id is not secret; the part after it is).
    let secret_of = |raw: &str| raw[raw.len() - 43..].to_owned();
    secrets.extend([secret_of(&api_key), secret_of(&rotated), api_key, rotated, user_access]);

    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    // The stream too: every write of the table passes through it (outbox items included).
    let table = format!("{:?}{}", items.items(), app.stream_text().await);
    let logged = logs.text();
    assert!(logged.contains("security event") && logged.contains("\"request\""), "the logs were captured");
    for secret in &secrets {
        assert!(!table.contains(secret.as_str()), "a secret is stored in the table");
        assert!(!logged.contains(secret.as_str()), "a secret is in the logs");
    }
    assert!(!logged.contains("token="), "no mailed link is logged");
}
