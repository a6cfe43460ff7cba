use auth_tests::{PASSWORD, TestApp, unique_email};
use serde_json::json;

const RESEND: &str = "/api/v1/auth/resend-verification";

#[tokio::test]
async fn after_a_resend_only_the_newest_link_works() {
    let app = TestApp::spawn().await;
    let email = unique_email("resend");
    app.register(&email, PASSWORD).await;
    let first = app.token_from_mail(&email, "verify-email").await;

    let r = app.post(RESEND, json!({"email": email.to_uppercase()})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mails = app.mails_to(&email).await;
    assert_eq!(mails.len(), 2);
    let second = mails[1].link_token("verify-email").unwrap();
    assert_ne!(first, second);

    app.post("/api/v1/auth/verify-email", json!({"token": first}))
        .send()
        .await
        .assert_error(400, "invalid_token");
    let ok = app.post("/api/v1/auth/verify-email", json!({"token": second})).send().await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

#[tokio::test]
async fn the_answer_is_the_same_for_unknown_unverified_and_verified_addresses() {
    let app = TestApp::spawn().await;
    let unverified = unique_email("resend-u");
    app.register(&unverified, PASSWORD).await;
    let verified = unique_email("resend-v");
    app.verified_user(&verified).await;
    let unknown = unique_email("resend-x");

    let answers: Vec<_> = futures::future::join_all(
        [&unverified, &verified, &unknown].map(|e| app.post(RESEND, json!({"email": e})).send()),
    )
    .await;
    for a in &answers {
        assert_eq!(a.status, 200);
        assert_eq!(a.body["message"], answers[0].body["message"]);
        assert_eq!(a.body["data"], answers[0].body["data"]);
    }
    assert_eq!(app.mails_to(&unverified).await.len(), 2, "a new link for the unverified account");
    assert_eq!(app.mails_to(&verified).await.len(), 1, "nothing new for a verified account");
    assert!(app.mails_to(&unknown).await.is_empty());
}

#[tokio::test]
async fn bad_input_is_refused() {
    let app = TestApp::spawn().await;
    app.post(RESEND, json!({})).send().await.assert_error(400, "validation_failed");
    app.post(RESEND, json!({"email": "nope"})).send().await.assert_error(400, "validation_failed");
    app.call("POST", RESEND).raw("{", "application/json").send().await.assert_error(400, "malformed_request");
}
