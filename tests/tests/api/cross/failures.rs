//! Failure handling: a dependency that fails answers 503 `service_unavailable` with `Retry-After`,
//! leaves nothing half-written, and security checks fail closed.

use auth_tests::{Broken, PASSWORD, TestApp, unique_email};
use serde_json::json;

fn assert_unavailable(r: &auth_tests::TestResponse) {
    r.assert_error(503, "service_unavailable");
    assert!(r.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok()));
    assert!(
        !r.text.to_lowercase().contains("dispatch") && !r.text.contains("127.0.0.1"),
        "no SDK text: {}",
        r.text
    );
}

#[tokio::test]
async fn a_dead_table_is_a_503_for_every_flow_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let email = unique_email("deaddb");
    let (access, refresh) = app.logged_in(&email).await;
    let broken = app.with_broken(Broken::DynamoDb).await;

    let newcomer = unique_email("newcomer");
    let r = app
        .send_to(&broken, app.post("/api/v1/auth/register", json!({"email": newcomer, "password": PASSWORD})))
        .await;
    assert_unavailable(&r);
    assert_unavailable(
        &app.send_to(&broken, app.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD})))
            .await,
    );
    assert_unavailable(
        &app.send_to(&broken, app.post("/api/v1/auth/token/refresh", json!({"refresh_token": refresh})))
            .await,
    );
    // A protected route cannot read the session: it refuses with 503, never serves.
    assert_unavailable(&app.send_to(&broken, app.get("/api/v1/users/me").bearer(&access)).await);

    // Nothing of the failed registration exists, and the old session was not touched.
    assert!(app.mails_to(&newcomer).await.is_empty());
    assert_eq!(app.register(&newcomer, PASSWORD).await.status, 201);
    assert_eq!(app.refresh(&refresh).await.status, 200);
}

#[tokio::test]
async fn a_dead_mail_service_never_loses_the_account() {
    let app = TestApp::spawn().await;
    let email = unique_email("deadses");
    let broken = app.with_broken(Broken::Ses).await;
    let r = app
        .send_to(&broken, app.post("/api/v1/auth/register", json!({"email": email, "password": PASSWORD})))
        .await;
    // No request talks to SES any more: the mail waits in the outbox for the mailer (see
    // outbox.rs for a mailer that meets a dead SES).
    assert_eq!(r.status, 201, "the account is created even when SES is down: {}", r.text);
    let token = app.token_from_mail(&email, "verify-email").await;
    assert_eq!(app.post("/api/v1/auth/verify-email", json!({"token": token})).send().await.status, 200);
}

#[tokio::test]
async fn dead_signing_keys_fail_closed_and_start_no_session() {
    let app = TestApp::spawn().await;
    let email = unique_email("deadkeys");
    let (access, _) = app.logged_in(&email).await;
    let broken = app.with_broken(Broken::SecretsManager).await;
    assert_unavailable(
        &app.send_to(&broken, app.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD})))
            .await,
    );
    // Functions that only verify never reach Secrets Manager: they read the public keys from the
    // table, and keep working while the private ring is out of reach.
    assert_eq!(app.send_to(&broken, app.get("/api/v1/users/me").bearer(&access)).await.status, 200);
    assert_eq!(app.send_to(&broken, app.get("/.well-known/jwks.json")).await.status, 200);
    let bearer = format!("Bearer {access}");
    let decision =
        functions::events::authorizer::handle(&broken, auth_tests::authorizer_event(Some(&bearer))).await;
    assert_eq!(decision.context["auth_kind"], "session", "{:?}", decision.context);
    // Only the first login's session exists.
    let sessions = app.get("/api/v1/auth/sessions").bearer(&access).send().await;
    assert_eq!(sessions.body["data"]["sessions"].as_array().unwrap().len(), 1);
}
