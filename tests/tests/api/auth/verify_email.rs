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

/// Pre-hijacking: someone registers the victim's address with a password of their own and waits
/// for the owner to verify it. The owner, finding the address taken, asks for a new link: that
/// link proves the mailbox but not the password, so verifying with it drops the password, and the
/// one who registered cannot sign in. The owner sets a password with a reset.
#[tokio::test]
async fn verifying_through_a_resent_link_drops_a_password_the_owner_did_not_set() {
    let app = TestApp::spawn().await;
    let victim = unique_email("prehijack");
    let attacker_password = "Attacker-Chose-This-77";
    assert_eq!(app.register(&victim, attacker_password).await.status, 201);
    let attackers_link = app.token_from_mail(&victim, "verify-email").await;
    app.register(&victim, PASSWORD).await.assert_error(409, "email_taken");
    // The first registration's link, sitting in the victim's inbox, no longer verifies: it was
    // the one link that would have kept the attacker's password.
    app.post("/api/v1/auth/verify-email", json!({"token": attackers_link}))
        .send()
        .await
        .assert_error(400, "invalid_token");

    let r = app.post("/api/v1/auth/resend-verification", json!({"email": victim})).send().await;
    assert_eq!(r.status, 200);
    let resent = app.token_from_mail(&victim, "verify-email").await;
    let v = app.post("/api/v1/auth/verify-email", json!({"token": resent})).send().await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.body["data"]["password_set"], false);
    app.login(&victim, attacker_password).await.assert_error(401, "invalid_credentials");

    // The owner sets their own password and signs in with it.
    app.post("/api/v1/auth/password/reset", json!({"email": victim})).send().await;
    let reset = app.token_from_mail(&victim, "reset-password").await;
    let c = app
        .post("/api/v1/auth/password/reset/confirm", json!({"token": reset, "new_password": PASSWORD}))
        .send()
        .await;
    assert_eq!(c.status, 200, "{}", c.text);
    assert_eq!(app.login(&victim, PASSWORD).await.status, 200);
}

/// The registration's own link vouches for its password: the ordinary sign-up keeps it.
#[tokio::test]
async fn the_registrations_own_link_keeps_the_password() {
    let app = TestApp::spawn().await;
    let email = unique_email("ownlink");
    app.register(&email, PASSWORD).await;
    let token = app.token_from_mail(&email, "verify-email").await;
    let v = app.post("/api/v1/auth/verify-email", json!({"token": token})).send().await;
    assert_eq!(v.body["data"]["password_set"], true, "{}", v.text);
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
}

/// A reset link reaches the mailbox too: completing a reset verifies an unverified address.
#[tokio::test]
async fn a_completed_reset_verifies_the_address() {
    let app = TestApp::spawn().await;
    let email = unique_email("resetverifies");
    app.register(&email, "Someone-Else-Typed-9").await;
    app.post("/api/v1/auth/password/reset", json!({"email": email})).send().await;
    let reset = app.token_from_mail(&email, "reset-password").await;
    let c = app
        .post("/api/v1/auth/password/reset/confirm", json!({"token": reset, "new_password": PASSWORD}))
        .send()
        .await;
    assert_eq!(c.status, 200, "{}", c.text);
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
}
