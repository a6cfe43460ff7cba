use auth_tests::{PASSWORD, TestApp, unique_email};
use serde_json::json;

const VERIFY: &str = "/api/v1/auth/verify-email";

#[tokio::test]
async fn the_mailed_token_verifies_once() {
    let app = TestApp::spawn().await;
    let email = unique_email("verify");
    app.register(&email, PASSWORD).await;
    let token = app.token_from_mail(&email, "verify-email").await;

    let r = app.post(VERIFY, json!({"token": token})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["email_verified"], true);
    assert_eq!(r.body["data"]["email"], email.as_str());

    app.post(VERIFY, json!({"token": token})).send().await.assert_error(400, "invalid_token");
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn garbage_and_missing_tokens_are_refused() {
    let app = TestApp::spawn().await;
    for token in
        ["x", "not a token at all", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "../../etc/passwd"]
    {
        app.post(VERIFY, json!({"token": token})).send().await.assert_error(400, "invalid_token");
    }
    let r = app.post(VERIFY, json!({})).send().await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["token"], json!(["required"]));
    app.post(VERIFY, json!({"token": 5})).send().await.assert_error(400, "validation_failed");
    app.call("POST", VERIFY)
        .raw("token=abc", "application/json")
        .send()
        .await
        .assert_error(400, "malformed_request");
}

#[tokio::test]
async fn twenty_concurrent_uses_of_one_token_give_exactly_one_success() {
    let app = TestApp::spawn().await;
    let email = unique_email("verify-race");
    app.register(&email, PASSWORD).await;
    let token = app.token_from_mail(&email, "verify-email").await;
    let calls = (0..20).map(|_| app.post(VERIFY, json!({"token": token})).send());
    let results = futures::future::join_all(calls).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    let refused = results.iter().filter(|r| r.status == 400 && r.code() == "invalid_token").count();
    assert_eq!((ok, refused), (1, 19), "{:?}", results.iter().map(|r| &r.text).collect::<Vec<_>>());
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = TestApp::spawn_with(&[("VERIFY_TOKEN_TTL_SECONDS", "1")]).await;
    let email = unique_email("verify-expired");
    app.register(&email, PASSWORD).await;
    let token = app.token_from_mail(&email, "verify-email").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    app.post(VERIFY, json!({"token": token})).send().await.assert_error(400, "invalid_token");
    app.login(&email, PASSWORD).await.assert_error(401, "email_not_verified");
}
