//! CORS: only the origins of `CORS_ALLOWED_ORIGINS`, never `*`, preflights answered.

use auth_tests::TestApp;

#[tokio::test]
async fn preflight_from_an_allowed_and_from_a_foreign_origin() {
    let app = TestApp::spawn_with(&[("CORS_ALLOWED_ORIGINS", "https://app.test,https://admin.test")]).await;
    let ok = app
        .call("OPTIONS", "/api/v1/auth/login")
        .header("origin", "https://app.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await;
    assert_eq!(ok.status, 204, "{}", ok.text);
    assert_eq!(ok.header("access-control-allow-origin"), Some("https://app.test"));
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    assert!(
        ok.header("access-control-allow-methods").is_some_and(|m| m.contains("POST") && m.contains("PATCH"))
    );
    assert!(ok.header("access-control-allow-headers").is_some_and(|h| h.contains("authorization")));
    assert!(ok.text.is_empty());

    let foreign = app
        .call("OPTIONS", "/api/v1/users/me")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await;
    foreign.assert_error(403, "forbidden");
    assert!(foreign.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn answers_name_an_allowed_origin_and_never_a_wildcard() {
    let app = TestApp::spawn_with(&[("CORS_ALLOWED_ORIGINS", "https://app.test")]).await;
    let r = app.get("/api/v1/health").header("origin", "https://app.test").send().await;
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.test"));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert!(r.headers.get_all("vary").iter().any(|v| v == "Origin"));
    // Errors too.
    let r = app.get("/api/v1/users/me").header("origin", "https://app.test").send().await;
    assert_eq!((r.status, r.header("access-control-allow-origin")), (401, Some("https://app.test")));
    // A foreign origin gets no CORS header at all.
    let r = app.get("/api/v1/health").header("origin", "https://evil.example").send().await;
    assert!(r.header("access-control-allow-origin").is_none());
    assert!(r.header("access-control-allow-credentials").is_none());
    // No origins configured: nobody.
    let closed = TestApp::spawn().await;
    let r = closed.get("/api/v1/health").header("origin", "https://app.test").send().await;
    assert!(r.header("access-control-allow-origin").is_none());
}
