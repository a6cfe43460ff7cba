//! Nothing tells whether an address has an account: not the answer, not its timing.

use std::time::{Duration, Instant};

use auth_tests::{TestApp, unique_email};
use serde_json::json;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A correctness check, not a benchmark: an unknown email is checked against a dummy hash with the
/// same cost as a real one, so the two answers take about as long.
#[tokio::test]
async fn unknown_email_and_wrong_password_take_about_as_long() {
    let app = TestApp::spawn().await;
    let email = unique_email("timing");
    app.verified_user(&email).await;
    // Warm both paths (the dummy hash is built on first use outside the login function).
    app.login(&email, "Wrong-Guess-123").await;
    app.login(&unique_email("warm"), "Wrong-Guess-123").await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let t = Instant::now();
        app.login(&email, "Wrong-Guess-123").await.assert_error(401, "invalid_credentials");
        known.push(t.elapsed());
        let t = Instant::now();
        app.login(&unique_email("nobody"), "Wrong-Guess-123").await.assert_error(401, "invalid_credentials");
        unknown.push(t.elapsed());
    }
    let (k, u) = (median(known), median(unknown));
    let ratio = k.as_secs_f64().max(u.as_secs_f64()) / k.as_secs_f64().min(u.as_secs_f64());
    assert!(ratio < 2.0, "known {k:?} vs unknown {u:?}");
}

#[tokio::test]
async fn reset_resend_and_magic_link_answer_identically() {
    let app = TestApp::spawn().await;
    let known = unique_email("same-known");
    app.verified_user(&known).await;
    let unverified = unique_email("same-unverified");
    app.register(&unverified, auth_tests::PASSWORD).await;
    for path in ["/api/v1/auth/password/reset", "/api/v1/auth/resend-verification", "/api/v1/auth/magic-link"]
    {
        let answers = futures::future::join_all(
            [&known, &unverified, &unique_email("same-unknown")]
                .map(|e| app.post(path, json!({"email": e})).send()),
        )
        .await;
        for a in &answers {
            assert_eq!(a.status, 200, "{path}: {}", a.text);
            assert_eq!(a.body["success"], answers[0].body["success"]);
            assert_eq!(a.body["message"], answers[0].body["message"], "{path}");
            assert_eq!(a.body["data"], answers[0].body["data"], "{path}");
        }
    }
}
