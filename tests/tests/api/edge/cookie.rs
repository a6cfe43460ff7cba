//! `REFRESH_TOKEN_COOKIE=true`: the refresh token also travels as an HttpOnly cookie, and a request
//! that authenticates with that cookie must come from an allowed origin.

use auth_tests::{PASSWORD, TestApp, set_cookies, unique_email};
use serde_json::json;

const REFRESH: &str = "/api/v1/auth/token/refresh";

fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim_start_matches("refresh_token=").to_owned()
}

#[tokio::test]
async fn login_and_refresh_set_the_cookie_and_only_our_origin_may_use_it() {
    let app = TestApp::spawn_with(&[
        ("REFRESH_TOKEN_COOKIE", "true"),
        ("CORS_ALLOWED_ORIGINS", "https://app.test"),
    ])
    .await;
    let email = unique_email("cookie");
    app.verified_user(&email).await;
    let login = |origin: Option<&'static str>| {
        let call = app.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD}));
        match origin {
            Some(o) => call.header("origin", o),
            None => call,
        }
        .send()
    };
    // Login CSRF: a cross-site form posting credentials would plant a session cookie.
    login(Some("https://evil.example")).await.assert_error(403, "forbidden");
    login(None).await.assert_error(403, "forbidden");
    let r = login(Some("https://app.test")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cookies = set_cookies(&r);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let c = &cookies[0];
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/v1/auth", "Max-Age=2592000"] {
        assert!(c.contains(attribute), "{attribute} in {c}");
    }
    let token = cookie_value(c);
    assert_eq!(token, r.body["data"]["refresh_token"].as_str().unwrap(), "body mode keeps working");

    // A cross-site page: the browser attaches the cookie, but the origin is foreign.
    let r = app
        .call("POST", REFRESH)
        .header("cookie", &format!("refresh_token={token}"))
        .header("origin", "https://evil.example")
        .header("x-requested-with", "XMLHttpRequest")
        .send()
        .await;
    r.assert_error(403, "forbidden");
    // Neither an origin nor X-Requested-With: refused too.
    app.call("POST", REFRESH)
        .header("cookie", &format!("refresh_token={token}"))
        .send()
        .await
        .assert_error(403, "forbidden");

    // Our front end.
    let r = app
        .call("POST", REFRESH)
        .header("cookie", &format!("theme=dark; refresh_token={token}"))
        .header("origin", "https://app.test")
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rotated = cookie_value(&set_cookies(&r)[0]);
    assert_ne!(rotated, token);

    // A script with X-Requested-With and no Origin (same-origin fetch) is accepted as well.
    let r = app
        .call("POST", REFRESH)
        .header("cookie", &format!("refresh_token={rotated}"))
        .header("x-requested-with", "XMLHttpRequest")
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let access = r.body["data"]["access_token"].as_str().unwrap().to_owned();

    // Logout clears the cookie.
    let r = app.post("/api/v1/auth/logout", json!({})).bearer(&access).send().await;
    assert_eq!(r.status, 200);
    let cleared = set_cookies(&r);
    assert!(cleared[0].starts_with("refresh_token=;") && cleared[0].contains("Max-Age=0"), "{cleared:?}");
}

#[tokio::test]
async fn without_cookie_mode_no_cookie_is_set_or_read() {
    let app = TestApp::spawn().await;
    let email = unique_email("nocookie");
    app.verified_user(&email).await;
    let r = app.login(&email, PASSWORD).await;
    assert!(set_cookies(&r).is_empty());
    let token = r.body["data"]["refresh_token"].as_str().unwrap();
    let r = app
        .call("POST", REFRESH)
        .header("cookie", &format!("refresh_token={token}"))
        .header("x-requested-with", "x")
        .send()
        .await;
    r.assert_error(400, "validation_failed");
}

#[tokio::test]
async fn in_cookie_mode_a_magic_link_signs_in_only_from_our_origin() {
    let app = TestApp::spawn_with(&[
        ("REFRESH_TOKEN_COOKIE", "true"),
        ("CORS_ALLOWED_ORIGINS", "https://app.test"),
    ])
    .await;
    let email = unique_email("cookie-magic");
    let r = app.post("/api/v1/auth/magic-link", json!({"email": email})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = app.token_from_mail(&email, "magic-link").await;
    let verify = "/api/v1/auth/magic-link/verify";
    app.post(verify, json!({"token": token}))
        .header("origin", "https://evil.example")
        .send()
        .await
        .assert_error(403, "forbidden");
    // Refused before the token was looked at: it still works from our front end.
    let r = app.post(verify, json!({"token": token})).header("origin", "https://app.test").send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(set_cookies(&r).len(), 1);
}
