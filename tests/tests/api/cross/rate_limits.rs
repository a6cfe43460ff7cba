//! Rate limits per client IP (API Gateway's `sourceIp`, never `X-Forwarded-For`) and per account.

use auth_tests::{PASSWORD, TestApp, fresh_rate_window, unique_email};
use serde_json::json;

async fn limited() -> TestApp {
    let app = TestApp::spawn_with(&[("RATE_LIMITS", "on")]).await;
    fresh_rate_window().await;
    app
}

fn assert_limited(r: &auth_tests::TestResponse) {
    r.assert_error(429, "rate_limited");
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
}

#[tokio::test]
async fn wrong_logins_from_one_address_are_limited_whatever_x_forwarded_for_says() {
    let app = limited().await;
    let email = unique_email("xff");
    app.verified_user(&email).await;
    for i in 0..5 {
        let r = app
            .post("/api/v1/auth/login", json!({"email": email, "password": "Wrong-Guess-123"}))
            .header("x-forwarded-for", &format!("198.51.100.{i}"))
            .send()
            .await;
        r.assert_error(401, "invalid_credentials");
    }
    let r = app
        .post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD}))
        .header("x-forwarded-for", "198.51.100.99")
        .send()
        .await;
    assert_limited(&r);
}

#[tokio::test]
async fn an_account_is_limited_across_addresses_and_an_unknown_one_alike() {
    let app = limited().await;
    let known = unique_email("known");
    app.verified_user(&known).await;
    let unknown = unique_email("unknown");
    for email in [&known, &unknown] {
        for i in 0..5 {
            let r = app
                .post("/api/v1/auth/login", json!({"email": email, "password": "Wrong-Guess-123"}))
                .source_ip(&format!("192.0.2.{}", i + 1))
                .send()
                .await;
            r.assert_error(401, "invalid_credentials");
        }
        let r = app
            .post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD}))
            .source_ip("192.0.2.200")
            .send()
            .await;
        assert_limited(&r);
    }
}

#[tokio::test]
async fn parallel_wrong_logins_count_against_the_account_exactly_once_each() {
    let app = limited().await;
    let email = unique_email("parallel");
    app.verified_user(&email).await;
    // Twelve guesses at once, each from its own address: the account's limit (5 a minute) must
    // let exactly five be answered as guesses, as if they had come one after the other. Each
    // failure takes the quota inside its own conditional write, which DynamoDB (and the test moto,
    // tools/moto_serve.py) applies atomically.
    let guesses = (0..12).map(|i| {
        app.post("/api/v1/auth/login", json!({"email": email, "password": "Wrong-Guess-123"}))
            .source_ip(&format!("192.0.2.{}", 100 + i))
            .send()
    });
    let results = futures::future::join_all(guesses).await;
    let codes: Vec<&str> = results.iter().map(|r| r.code()).collect();
    assert_eq!(codes.iter().filter(|c| **c == "invalid_credentials").count(), 5, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == "rate_limited").count(), 7, "{codes:?}");
    // The right password from a fresh address is refused too: the account is at its limit.
    let r = app
        .post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD}))
        .source_ip("192.0.2.250")
        .send()
        .await;
    assert_limited(&r);
}

#[tokio::test]
async fn a_successful_login_forgives_the_accounts_failures_but_not_the_ips_count() {
    let app = limited().await;
    let email = unique_email("forgive");
    app.verified_user(&email).await;
    for i in 0..4 {
        app.post("/api/v1/auth/login", json!({"email": email, "password": "Wrong-Guess-123"}))
            .source_ip(&format!("192.0.2.{}", i + 10))
            .send()
            .await;
    }
    let ok = app
        .post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD}))
        .source_ip("192.0.2.50")
        .send()
        .await;
    assert_eq!(ok.status, 200);
    // The account starts over: four more failures from new addresses are still answered.
    for i in 0..4 {
        let r = app
            .post("/api/v1/auth/login", json!({"email": email, "password": "Wrong-Guess-123"}))
            .source_ip(&format!("192.0.2.{}", i + 20))
            .send()
            .await;
        r.assert_error(401, "invalid_credentials");
    }
    // The IP that succeeded keeps its count: five attempts were made from it in total here.
    for _ in 0..4 {
        app.post("/api/v1/auth/login", json!({"email": unique_email("other"), "password": "x"}))
            .source_ip("192.0.2.50")
            .send()
            .await;
    }
    assert_limited(
        &app.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD}))
            .source_ip("192.0.2.50")
            .send()
            .await,
    );
}

#[tokio::test]
async fn reset_resend_magic_link_and_register_are_limited_per_account() {
    let app = limited().await;
    let email = unique_email("flood");
    for (path, body) in [
        ("/api/v1/auth/password/reset", json!({"email": email})),
        ("/api/v1/auth/resend-verification", json!({"email": email})),
        ("/api/v1/auth/magic-link", json!({"email": email})),
    ] {
        for i in 0..3 {
            let r = app.post(path, body.clone()).source_ip(&format!("203.0.113.{}", i + 1)).send().await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
        }
        assert_limited(&app.post(path, body.clone()).source_ip("203.0.113.99").send().await);
    }
    let r = app.register(&unique_email("reg"), PASSWORD).await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn limits_can_be_changed_per_route_and_switched_off() {
    let app = TestApp::spawn_with(&[("RATE_LIMITS", "on"), ("RATE_LIMIT_VERIFY_EMAIL", "2")]).await;
    fresh_rate_window().await;
    for _ in 0..2 {
        app.post("/api/v1/auth/verify-email", json!({"token": "x"}))
            .send()
            .await
            .assert_error(400, "invalid_token");
    }
    assert_limited(&app.post("/api/v1/auth/verify-email", json!({"token": "x"})).send().await);

    let off = TestApp::spawn().await;
    for _ in 0..12 {
        off.post("/api/v1/auth/verify-email", json!({"token": "x"}))
            .send()
            .await
            .assert_error(400, "invalid_token");
    }
}

#[tokio::test]
async fn registration_is_limited_inside_its_own_transaction() {
    let app = limited().await;
    for _ in 0..3 {
        let r = app.register(&unique_email("reg-flood"), PASSWORD).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    // A fourth address from the same client is refused, and no account was created for it: the
    // same address from elsewhere registers.
    let fourth = unique_email("reg-flood");
    assert_limited(&app.register(&fourth, PASSWORD).await);
    let elsewhere = app
        .post("/api/v1/auth/register", json!({"email": fourth, "password": PASSWORD}))
        .source_ip("198.51.100.77")
        .send()
        .await;
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.text);
    // Probing a taken address counts too.
    for i in 0..2 {
        let r = app
            .post("/api/v1/auth/register", json!({"email": fourth, "password": PASSWORD}))
            .source_ip("198.51.100.77")
            .send()
            .await;
        assert_eq!(r.status, 409, "attempt {i}: {}", r.text);
    }
    let r = app
        .post("/api/v1/auth/register", json!({"email": fourth, "password": PASSWORD}))
        .source_ip("198.51.100.77")
        .send()
        .await;
    assert_limited(&r);
}

#[tokio::test]
async fn a_refused_refresh_rotates_nothing() {
    let app = TestApp::spawn_with(&[("RATE_LIMITS", "on"), ("RATE_LIMIT_REFRESH", "1")]).await;
    fresh_rate_window().await;
    let (_, refresh) = app.logged_in(&unique_email("refresh-limit")).await;
    let first = app.refresh(&refresh).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let next = first.body["data"]["refresh_token"].as_str().expect("refresh").to_owned();
    assert_limited(&app.refresh(&next).await);
    // The refused token is still the session's current one: from another address it rotates.
    let r = app
        .post("/api/v1/auth/token/refresh", json!({"refresh_token": next}))
        .source_ip("198.51.100.78")
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// `GET /health/detailed` asks every dependency on each request: it is limited per caller, from
/// any address, and one caller's use leaves another's alone.
#[tokio::test]
async fn the_detailed_health_is_limited_per_caller() {
    let app = TestApp::spawn_with(&[
        ("RATE_LIMITS", "on"),
        ("RATE_LIMIT_HEALTH_DETAILED", "2"),
        // The sign-ups and sign-ins that set the test up come from one address.
        ("RATE_LIMIT_REGISTER", "50"),
        ("RATE_LIMIT_LOGIN", "50"),
        ("RATE_LIMIT_VERIFY_EMAIL", "50"),
    ])
    .await;
    fresh_rate_window().await;
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({"session_scopes": ["read", "system:read"]})).await;
    let base = format!("/apps/{id}");
    let (ops, _) = app.logged_in_at(&base, &unique_email("ops")).await;
    let (other, _) = app.logged_in_at(&base, &unique_email("other-ops")).await;
    let health = format!("{base}/api/v1/health/detailed");
    for i in 0..2 {
        let r = app.get(&health).bearer(&ops).source_ip(&format!("198.51.100.{}", 10 + i)).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_limited(&app.get(&health).bearer(&ops).source_ip("198.51.100.20").send().await);
    let r = app.get(&health).bearer(&other).source_ip("198.51.100.21").send().await;
    assert_eq!(r.status, 200, "another caller: {}", r.text);
}
