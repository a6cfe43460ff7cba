//! Brute force closed everywhere: quotas taken before any hash, password change counted like
//! login, a cap on consecutive failures, limits on the token routes, IPv6 counted by its /64.

use auth_tests::{PASSWORD, TestApp, fresh_rate_window, unique_email};
use serde_json::json;

const LOGIN: &str = "/api/v1/auth/login";
const WRONG: &str = "Wrong-Guess-123";

async fn limited(extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("RATE_LIMITS", "on")];
    vars.extend_from_slice(extra);
    let app = TestApp::spawn_with(&vars).await;
    fresh_rate_window().await;
    app
}

/// Twelve parallel guesses at one account (limit 5 a minute), each from its own address and its
/// own function container: five are answered, and each of the seven refused ones cost exactly one
/// write, the refused quota, so it never read the account nor hashed a password: in parallel
/// they get no further than one after the other would.
#[tokio::test]
async fn parallel_guesses_over_the_account_limit_are_refused_before_any_read_or_hash() {
    let app = limited(&[]).await;
    let email = unique_email("parallel-cost");
    app.verified_user(&email).await;
    let mut containers = Vec::new();
    for _ in 0..12 {
        containers.push(app.with_config(&[]).await);
    }
    let guesses = containers.iter().enumerate().map(|(i, container)| {
        let call = app
            .post(LOGIN, json!({"email": email, "password": WRONG}))
            .source_ip(&format!("192.0.2.{}", 20 + i));
        app.send_to(container, call)
    });
    let answers = futures::future::join_all(guesses).await;
    let mut answered = 0;
    for (answer, container) in answers.iter().zip(&containers) {
        let calls = container.store.calls().since(0);
        match answer.code() {
            "invalid_credentials" => answered += 1,
            "rate_limited" => assert_eq!(calls, ["TransactWriteItems"], "a refused guess cost {calls:?}"),
            other => panic!("unexpected answer {other}: {}", answer.text),
        }
    }
    assert_eq!(answered, 5);
}

/// A wrong current password at password change is a guess like a wrong login: it takes the
/// account's login quota, so a stolen access token does not open a way around the login limit.
#[tokio::test]
async fn wrong_current_passwords_count_against_the_login_limit() {
    let app = limited(&[]).await;
    let email = unique_email("change-guess");
    let (access, _) = app.logged_in(&email).await;
    for i in 0..5 {
        let r = app
            .post(
                "/api/v1/auth/password/change",
                json!({"current_password": WRONG, "new_password": "Obsidian-Lantern-77-Quay"}),
            )
            .bearer(&access)
            .source_ip(&format!("198.51.100.{}", 30 + i))
            .send()
            .await;
        r.assert_error(401, "invalid_credentials");
    }
    // Five guesses: the account is at its limit (the login before was forgiven by its success).
    let r = app
        .post(LOGIN, json!({"email": email, "password": PASSWORD}))
        .source_ip("198.51.100.60")
        .send()
        .await;
    r.assert_error(429, "rate_limited");
}

/// `LOGIN_MAX_CONSECUTIVE_FAILURES`: at the cap the password sign-in answers 429 `login_locked`
/// (the right password included) until the owner signs in another way; the owner is mailed once;
/// an unknown address locks alike, so the lock tells nothing about which addresses exist.
#[tokio::test]
async fn consecutive_failures_lock_password_sign_in_until_a_magic_link() {
    let app = TestApp::spawn_with(&[("LOGIN_MAX_CONSECUTIVE_FAILURES", "3")]).await;
    let email = unique_email("lockout");
    app.verified_user(&email).await;
    for _ in 0..3 {
        app.login(&email, WRONG).await.assert_error(401, "invalid_credentials");
    }
    let locked = app.login(&email, PASSWORD).await;
    locked.assert_error(429, "login_locked");
    assert!(locked.header("retry-after").is_some());
    let notices: Vec<_> =
        app.mails_to(&email).await.into_iter().filter(|m| m.subject.contains("paused")).collect();
    assert_eq!(notices.len(), 1, "the owner is told once");
    let nobody = unique_email("lockout-nobody");
    for _ in 0..3 {
        app.login(&nobody, WRONG).await.assert_error(401, "invalid_credentials");
    }
    app.login(&nobody, PASSWORD).await.assert_error(429, "login_locked");

    // The owner signs in by magic link: that forgives the failures.
    app.post("/api/v1/auth/magic-link", json!({"email": email})).send().await;
    let token = app.token_from_mail(&email, "magic-link").await;
    assert_eq!(app.post("/api/v1/auth/magic-link/verify", json!({"token": token})).send().await.status, 200);
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
}

/// A completed password reset unlocks too, and a correct password before the cap forgives the
/// count (the cap is on consecutive failures).
#[tokio::test]
async fn a_reset_unlocks_and_a_correct_password_starts_the_count_over() {
    let app = TestApp::spawn_with(&[("LOGIN_MAX_CONSECUTIVE_FAILURES", "3")]).await;
    let email = unique_email("lockout-reset");
    app.verified_user(&email).await;
    for _ in 0..2 {
        app.login(&email, WRONG).await.assert_error(401, "invalid_credentials");
    }
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
    for _ in 0..2 {
        app.login(&email, WRONG).await.assert_error(401, "invalid_credentials");
    }
    assert_eq!(app.login(&email, PASSWORD).await.status, 200, "the count started over");
    for _ in 0..3 {
        app.login(&email, WRONG).await.assert_error(401, "invalid_credentials");
    }
    app.login(&email, PASSWORD).await.assert_error(429, "login_locked");
    app.post("/api/v1/auth/password/reset", json!({"email": email})).send().await;
    let token = app.token_from_mail(&email, "reset-password").await;
    let new_password = "Obsidian-Lantern-77-Quay";
    let r = app
        .post("/api/v1/auth/password/reset/confirm", json!({"token": token, "new_password": new_password}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.login(&email, new_password).await.status, 200);
}

/// The routes that take a mailed token are limited per IP.
#[tokio::test]
async fn token_routes_are_limited_per_ip() {
    let app = limited(&[
        ("RATE_LIMIT_PASSWORD_RESET_CONFIRM", "2"),
        ("RATE_LIMIT_DELETION_CONFIRM", "2"),
        ("RATE_LIMIT_DELETION_CANCEL", "2"),
        ("RATE_LIMIT_DELETION_STATUS", "2"),
    ])
    .await;
    let token = "a".repeat(43);
    let calls = [
        ("POST", "/api/v1/auth/password/reset/confirm", json!({"token": token, "new_password": PASSWORD})),
        ("POST", "/api/v1/account/deletion/confirm", json!({"token": token})),
        ("POST", "/api/v1/account/deletion/cancel", json!({"token": token})),
        ("GET", "/api/v1/account/deletion", json!(null)),
    ];
    for (method, path, body) in calls {
        let send = || {
            let call = app.call(method, path).source_ip("203.0.113.77");
            if body.is_null() { call.query(&format!("token={token}")) } else { call.json(body.clone()) }
        };
        for _ in 0..2 {
            send().send().await.assert_error(400, "invalid_token");
        }
        send().send().await.assert_error(429, "rate_limited");
        let other_ip = send().source_ip("203.0.113.78").send().await;
        other_ip.assert_error(400, "invalid_token");
    }
}

/// An IPv6 client holds a whole /64: its addresses share one count; the next /64 has its own.
#[tokio::test]
async fn ipv6_addresses_are_counted_by_their_64() {
    let app = limited(&[]).await;
    for i in 1..=5 {
        let r = app
            .post(LOGIN, json!({"email": unique_email("v6"), "password": WRONG}))
            .source_ip(&format!("2001:db8:1:2::{i:x}"))
            .send()
            .await;
        r.assert_error(401, "invalid_credentials");
    }
    let same_64 = app
        .post(LOGIN, json!({"email": unique_email("v6"), "password": WRONG}))
        .source_ip("2001:db8:1:2:ffff:1234:5678:9abc")
        .send()
        .await;
    same_64.assert_error(429, "rate_limited");
    let next_64 = app
        .post(LOGIN, json!({"email": unique_email("v6"), "password": WRONG}))
        .source_ip("2001:db8:1:3::1")
        .send()
        .await;
    next_64.assert_error(401, "invalid_credentials");
}
