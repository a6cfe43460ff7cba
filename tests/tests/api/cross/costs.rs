//! DynamoDB calls per request: what a request costs, counted by the interceptor on the store's
//! client (every call that leaves the process), with rate limits on as deployed. The goals: the
//! authorizer at most 1 call, login at most 4 (its quotas are a write of their own, taken before
//! anything is read or hashed), refresh at most 2, registration two transactions (the quotas
//! before the hash, then the account). Counts are deterministic; nothing here is timed.

use auth_tests::{PASSWORD, TestApp, unique_email};
use serde_json::json;

async fn deployed_defaults() -> TestApp {
    TestApp::spawn_with(&[("RATE_LIMITS", "on")]).await
}

#[tokio::test]
async fn registration_is_its_quotas_then_one_transaction() {
    let app = deployed_defaults().await;
    let body = json!({"email": unique_email("cost-reg"), "password": PASSWORD, "name": "Ada"});
    let (r, calls) = app.counted(app.post("/api/v1/auth/register", body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(calls, ["TransactWriteItems", "TransactWriteItems"], "register sent {calls:?}");
}

#[tokio::test]
async fn login_costs_at_most_four_calls_whether_it_succeeds_or_not() {
    let app = deployed_defaults().await;
    let email = unique_email("cost-login");
    app.verified_user(&email).await;

    let (ok, calls) =
        app.counted(app.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD}))).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(calls.len() <= 4, "a successful login sent {calls:?}");

    let wrong = json!({"email": email, "password": "Wrong-Guess-123"});
    let (r, calls) = app.counted(app.post("/api/v1/auth/login", wrong).source_ip("198.51.100.7")).await;
    r.assert_error(401, "invalid_credentials");
    assert!(calls.len() <= 4, "a wrong password sent {calls:?}");

    let unknown = json!({"email": unique_email("cost-nobody"), "password": PASSWORD});
    let (r, calls) = app.counted(app.post("/api/v1/auth/login", unknown).source_ip("198.51.100.8")).await;
    r.assert_error(401, "invalid_credentials");
    assert!(calls.len() <= 4, "an unknown address sent {calls:?}");
}

#[tokio::test]
async fn a_client_over_its_login_limit_costs_one_call() {
    let app = deployed_defaults().await;
    auth_tests::fresh_rate_window().await;
    let email = unique_email("cost-limited");
    for _ in 0..5 {
        app.post("/api/v1/auth/login", json!({"email": email, "password": "Wrong-Guess-123"})).send().await;
    }
    let (r, calls) =
        app.counted(app.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD}))).await;
    r.assert_error(429, "rate_limited");
    assert_eq!(calls.len(), 1, "a refused login sent {calls:?}");
}

#[tokio::test]
async fn refresh_costs_at_most_two_calls() {
    let app = deployed_defaults().await;
    let (_, refresh) = app.logged_in(&unique_email("cost-refresh")).await;
    let (r, calls) =
        app.counted(app.post("/api/v1/auth/token/refresh", json!({"refresh_token": refresh}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(calls.len() <= 2, "refresh sent {calls:?}");
}

#[tokio::test]
async fn the_authorizer_costs_at_most_one_call() {
    let app = deployed_defaults().await;
    let (access, _) = app.logged_in(&unique_email("cost-authz")).await;
    let (r, calls) = app.authorize_counted(Some(&format!("Bearer {access}"))).await;
    assert_eq!(r.context["auth_kind"], "session", "{:?}", r.context);
    assert!(calls.len() <= 1, "the authorizer sent {calls:?}");
    // A token that fails its signature check costs nothing at all.
    let (r, calls) = app.authorize_counted(Some("Bearer not.a.jwt")).await;
    assert_eq!(r.context["auth_kind"], "none");
    assert!(calls.is_empty(), "a forged token sent {calls:?}");
}
