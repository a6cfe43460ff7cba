//! Social sign-in in a real browser (Chromium, through chromedriver) against the API served over
//! HTTP on loopback and the local OpenID Providers: the state cookie, the redirects and Apple's
//! cross-site `form_post` as a browser really handles them.

use auth_tests::browser::{self, Browser};
use auth_tests::{TestApp, stand_ins, unique_email};
use serde_json::{Value, json};

#[tokio::test]
async fn google_sign_in_in_chromium_ends_at_the_apps_page_with_a_one_time_code() {
    let (listener, base) = browser::listener().await;
    let endpoints = stand_ins();
    let callback = format!("{base}/api/v1/auth/oauth/google/callback");
    let (client_id, secret) = auth_tests::register_client_at(&endpoints.google, &callback).await;
    let secret_id = auth_tests::social_secret(json!({ "google_client_secret": secret })).await;
    // The app's page the flow ends at: any page of the served origin will do.
    let done = format!("{base}/api/v1/health");
    let app = TestApp::spawn_with(&[
        ("JWT_ISSUER", base.as_str()),
        ("GOOGLE_ISSUER", endpoints.google.as_str()),
        ("GOOGLE_CLIENT_ID", client_id.as_str()),
        ("SOCIAL_SECRET_ID", secret_id.as_str()),
        ("REDIRECT_URLS", done.as_str()),
    ])
    .await;
    let _served = browser::serve(app.app.clone(), listener);
    let chromium = Browser::start().await;

    let email = unique_email("chromium");
    let start = format!("{base}/api/v1/auth/oauth/google?redirect_to={done}");
    chromium.client.goto(&start).await.expect("the start page");
    chromium.sign_in_at_provider(&email).await;
    let landed = chromium.wait_for_url(&done).await;
    let code = landed.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned());
    let code = code.unwrap_or_else(|| panic!("no one-time code at {landed}"));
    assert!(!landed.as_str().contains("token"), "no token in the URL: {landed}");
    let r = app.post("/api/v1/auth/oauth/exchange", json!({"code": code})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email"], email);
    assert_eq!(r.body["data"]["user"]["email_verified"], true);
}

/// "Apple" is served as `localhost`, another site than the API's `127.0.0.1`, so its `form_post`
/// back to the callback is a cross-site POST, as it is from appleid.apple.com: the state cookie,
/// `SameSite=None` (a `__Host-` cookie of the app and the provider), reaches it; the same cookie made `SameSite=Lax`
/// does not, and the sign-in fails as one from another browser.
#[tokio::test]
async fn apple_form_post_is_cross_site_and_only_a_samesite_none_cookie_reaches_the_callback() {
    let stand_ins = authctl::standins::StandIns::start_with(None, Some("localhost")).expect("the stand-ins");
    let apple_issuer = stand_ins.endpoints.apple.clone();
    assert!(apple_issuer.starts_with("http://localhost:"), "{apple_issuer}");
    let (listener, base) = browser::listener().await;
    let callback = format!("{base}/api/v1/auth/oauth/apple/callback");
    let (client_id, pem) = auth_tests::apple_client(&apple_issuer, &callback).await;
    let secret_id = auth_tests::social_secret(json!({ "apple_private_key": pem })).await;
    let app = TestApp::spawn_with(&[
        ("JWT_ISSUER", base.as_str()),
        ("APPLE_ISSUER", apple_issuer.as_str()),
        ("APPLE_CLIENT_ID", client_id.as_str()),
        ("APPLE_TEAM_ID", auth_tests::APPLE_TEAM_ID),
        ("APPLE_KEY_ID", auth_tests::APPLE_KEY_ID),
        ("SOCIAL_SECRET_ID", secret_id.as_str()),
    ])
    .await;
    let _served = browser::serve(app.app.clone(), listener);
    let start = format!("{base}/api/v1/auth/oauth/apple");

    // As Apple's answer reaches a real browser: the POST carries the cookie and signs in.
    let chromium = Browser::start().await;
    let email = unique_email("apple-chromium");
    chromium.client.goto(&start).await.expect("the start page");
    chromium.sign_in_at_provider(&email).await;
    chromium.wait_for_url(&callback).await;
    let answer: Value = serde_json::from_str(&chromium.body_text().await).expect("a JSON answer");
    assert_eq!(answer["success"], true, "{answer}");
    assert_eq!(answer["data"]["user"]["email"], email);
    assert!(answer["data"]["user"]["name"].as_str().is_some_and(|n| n.starts_with("Stand-in")), "{answer}");
    drop(chromium);

    // The same flow with the state cookie turned into SameSite=Lax before the provider answers.
    let chromium = Browser::start().await;
    let email = unique_email("apple-lax");
    chromium.client.goto(&start).await.expect("the start page");
    let at_apple = chromium.wait_for_url(&apple_issuer).await;
    // WebDriver reads and writes the cookies of the page it is on: a page of the API's origin.
    chromium.client.goto(&callback).await.expect("a page of the cookie's origin");
    let name = "__Host-oauth-state-default-apple";
    let cookie = chromium.client.get_named_cookie(name).await.expect("the state cookie");
    assert_eq!(cookie.same_site(), Some(cookie::SameSite::None));
    assert_eq!(cookie.path(), Some("/"));
    // A `__Host-` cookie: Secure, `Path=/`.
    let mut lax = cookie::Cookie::new(name, cookie.value().to_owned());
    lax.set_path("/");
    lax.set_same_site(cookie::SameSite::Lax);
    lax.set_http_only(true);
    lax.set_secure(true);
    // WebDriver needs a domain; for an IP address the cookie stays host-only.
    lax.set_domain("127.0.0.1");
    chromium.client.delete_cookie(name).await.expect("the cookie deleted");
    chromium.client.add_cookie(lax).await.expect("the Lax cookie set");
    chromium.client.goto(at_apple.as_str()).await.expect("back at Apple");
    chromium.sign_in_at_provider(&email).await;
    chromium.wait_for_url(&callback).await;
    let answer: Value = serde_json::from_str(&chromium.body_text().await).expect("a JSON answer");
    assert_eq!(answer["error"]["code"], "oauth_failed", "{answer}");
    assert!(answer["message"].as_str().is_some_and(|m| m.contains("another browser")), "{answer}");
    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    assert!(!format!("{:?}", items.items()).contains(&email), "no account was created");
}
