//! Social login (contract, "Social login") against the local OpenID Provider (panva's
//! `oidc-provider`, certified) standing in for Google: the real protocol end to end.

use auth_tests::{PASSWORD, TestApp, unique_email};
use serde_json::json;

const START: &str = "/api/v1/auth/oauth/google";

#[tokio::test]
async fn a_new_person_signs_up_with_google_and_signs_in_again_to_the_same_account() {
    let (app, google) = TestApp::with_google(&[]).await;
    let listed = app.get("/api/v1/auth/oauth/providers").send().await;
    assert_eq!(listed.body["data"]["providers"], json!([{"id": "google", "name": "Google"}]));

    let email = unique_email("google");
    let back = google.sign_in(&app, START, &email).await;
    let r = back.callback(&app).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let access = r.body["data"]["access_token"].as_str().unwrap().to_owned();
    let user = &r.body["data"]["user"];
    assert_eq!(user["email"], email);
    assert_eq!(user["email_verified"], true);
    let me = app.get("/api/v1/users/me").bearer(&access).send().await;
    assert_eq!(me.body["data"]["providers"], json!(["google"]));

    // Again: the same identity, the same account.
    let back = google.sign_in(&app, START, &email).await;
    let again = back.callback(&app).send().await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["data"]["user"]["id"], user["id"]);
}

#[tokio::test]
async fn a_callback_without_this_browsers_state_or_a_replayed_one_is_refused() {
    let (app, google) = TestApp::with_google(&[]).await;
    // The cookie: a `__Host-` cookie (no sibling subdomain can plant one), HttpOnly, Secure,
    // Lax, named after the app and the provider (a sign-in with another provider, or at another
    // app, in the same browser keeps its own).
    let started = app.get(START).send().await;
    let cookie = auth_tests::set_cookies(&started)
        .into_iter()
        .find(|c| c.starts_with(auth_tests::STATE_COOKIE))
        .unwrap();
    assert!(cookie.starts_with("__Host-oauth-state-default-google="), "{cookie}");
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/;"] {
        assert!(format!("{cookie};").contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let email = unique_email("csrf");
    let back = google.sign_in(&app, START, &email).await;
    // Another browser (no cookie), or a cookie of another sign-in: login CSRF.
    back.callback_without_cookie(&app).send().await.assert_error(400, "oauth_failed");
    back.callback_without_cookie(&app)
        .header("cookie", "__Host-oauth-state-default-google=someone-elses")
        .send()
        .await
        .assert_error(400, "oauth_failed");
    // Cookie tossing: the right state beside a planted copy of the name is refused too.
    let ours = back.state_cookie.clone();
    back.callback_without_cookie(&app)
        .header("cookie", &format!("{ours}; __Host-oauth-state-default-google=planted"))
        .send()
        .await
        .assert_error(400, "oauth_failed");
    let ok = back.callback(&app).send().await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    // The state is single use.
    back.callback(&app).send().await.assert_error(400, "oauth_failed");
    // A denial at the provider.
    app.get("/api/v1/auth/oauth/google/callback")
        .query("error=access_denied&state=x")
        .header("cookie", "__Host-oauth-state-default-google=x")
        .send()
        .await
        .assert_error(400, "oauth_failed");
}

/// An erased account takes its identities with it: the same Google account then signs up anew,
/// and nothing of the old identity stays in the table.
#[tokio::test]
async fn an_erased_account_leaves_no_identity_behind() {
    let (app, google) = TestApp::with_google(&[]).await;
    let email = unique_email("erased");
    let first = google.sign_in(&app, START, &email).await.callback(&app).send().await;
    assert_eq!(first.status, 200, "{}", first.text);
    let user_id = first.body["data"]["user"]["id"].as_str().unwrap().to_owned();
    let key =
        shared::console::issue_secret_key(&app.app, &shared::AppId::default_app(), None, None).await.unwrap();
    let r = app.call("DELETE", &format!("/api/v1/admin/users/{user_id}")).bearer(&key.key).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    let table = format!("{:?}", items.items());
    assert!(!table.contains("IDENTITY#"), "an identity item outlived its account");
    let again = google.sign_in(&app, START, &email).await.callback(&app).send().await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_ne!(again.body["data"]["user"]["id"], user_id.as_str(), "a new account");
}

/// With the refresh token in a cookie, the code exchange and the native sign-in are sign-ins like
/// login: a foreign page cannot post them into the browser (login CSRF).
#[tokio::test]
async fn in_cookie_mode_social_sign_ins_come_from_the_apps_own_sites_only() {
    let (app, google) = TestApp::with_google(&[
        ("REFRESH_TOKEN_COOKIE", "true"),
        ("CORS_ALLOWED_ORIGINS", "https://app.test"),
    ])
    .await;
    let email = unique_email("cookie-mode");
    let token = google.id_token(&email, "n").await;
    let foreign =
        |path: &str, body: serde_json::Value| app.post(path, body).header("origin", "https://evil.example");
    foreign(NATIVE, json!({"id_token": token, "nonce": "n"})).send().await.assert_error(403, "forbidden");
    foreign("/api/v1/auth/oauth/exchange", json!({"code": "x"})).send().await.assert_error(403, "forbidden");
    let r = app
        .post(NATIVE, json!({"id_token": token, "nonce": "n"}))
        .header("origin", "https://app.test")
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(auth_tests::set_cookies(&r).iter().any(|c| c.contains("HttpOnly")), "the refresh cookie");
}

/// A state lives `OAUTH_STATE_TTL_SECONDS`: a callback after that is refused, and creates nothing.
#[tokio::test]
async fn an_expired_state_is_refused() {
    let (app, google) = TestApp::with_google(&[("OAUTH_STATE_TTL_SECONDS", "1")]).await;
    let started = app.get(START).send().await;
    assert!(
        auth_tests::set_cookies(&started).iter().any(|c| c.contains("Max-Age=1")),
        "{:?}",
        started.headers
    );
    let email = unique_email("late");
    let back = google.sign_in(&app, START, &email).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    back.callback(&app).send().await.assert_error(400, "oauth_failed");
    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    assert!(!format!("{:?}", items.items()).contains(&email), "no account was created");
}

/// `signup_enabled: false` refuses a new account by social login as by registration; nothing is
/// created.
#[tokio::test]
async fn without_signup_a_new_person_gets_no_account_by_social_login() {
    let (app, google) = TestApp::with_google(&[("SIGNUP_ENABLED", "false")]).await;
    let email = unique_email("closed");
    let back = google.sign_in(&app, START, &email).await;
    back.callback(&app).send().await.assert_error(403, "forbidden");
    let token = google.id_token(&email, "n").await;
    app.post(NATIVE, json!({"id_token": token, "nonce": "n"})).send().await.assert_error(403, "forbidden");
    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    assert!(!format!("{:?}", items.items()).contains(&email), "no account was created");
}

/// The social routes share one per-IP limit (`RATE_LIMIT_SOCIAL`): start, callback, exchange and
/// the native endpoint.
#[tokio::test]
async fn social_sign_ins_are_rate_limited_per_address() {
    let (app, _google) = TestApp::with_google(&[("RATE_LIMITS", "on"), ("RATE_LIMIT_SOCIAL", "3")]).await;
    let ip = "198.51.100.77";
    for _ in 0..2 {
        assert_eq!(app.get(START).source_ip(ip).send().await.status, 302);
    }
    let r = app.post("/api/v1/auth/oauth/exchange", json!({"code": "x"})).source_ip(ip).send().await;
    r.assert_error(400, "invalid_token");
    let r = app.post(NATIVE, json!({"id_token": "x.y.z"})).source_ip(ip).send().await;
    r.assert_error(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    app.get(START).source_ip(ip).send().await.assert_error(429, "rate_limited");
    assert_eq!(app.get(START).source_ip("198.51.100.78").send().await.status, 302, "another address");
}

/// An address at `domain`, unique to the test.
fn email_at(tag: &str, domain: &str) -> String {
    unique_email(tag).replace("@example.com", &format!("@{domain}"))
}

#[tokio::test]
async fn a_verified_address_links_to_its_account_where_the_provider_is_authoritative() {
    let (app, google) = TestApp::with_google(&[]).await;
    // A verified password account at Gmail, whose mailboxes Google runs: linked, and it keeps
    // its password.
    let email = email_at("linked", "gmail.com");
    let (access, _) = app.logged_in(&email).await;
    let back = google.sign_in(&app, START, &email).await;
    let r = back.callback(&app).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me = app.get("/api/v1/users/me").bearer(&access).send().await;
    assert_eq!(me.body["data"]["providers"], json!(["password", "google"]));
    assert_eq!(app.login(&email, PASSWORD).await.status, 200, "the password still works");

    // An unverified account: the provider proved the mailbox, whoever registered did not. The
    // account is verified and loses the unproven password.
    let pending = email_at("pending", "googlemail.com");
    assert_eq!(app.register(&pending, PASSWORD).await.status, 201);
    let back = google.sign_in(&app, START, &pending).await;
    let r = back.callback(&app).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email_verified"], true);
    app.login(&pending, PASSWORD).await.assert_error(401, "invalid_credentials");

    // A Workspace account: the ID token's `hd` names the address's domain.
    let workspace = email_at("staff", "workspace.acme.test");
    let (access, _) = app.logged_in(&workspace).await;
    assert_eq!(google.sign_in(&app, START, &workspace).await.callback(&app).send().await.status, 200);
    let me = app.get("/api/v1/users/me").bearer(&access).send().await;
    assert_eq!(me.body["data"]["providers"], json!(["password", "google"]));

    // Any other address Google vouches for without running it (no `hd`): 409 with the way to
    // link, and nothing linked.
    let elsewhere = unique_email("elsewhere");
    let (access, _) = app.logged_in(&elsewhere).await;
    let r = google.sign_in(&app, START, &elsewhere).await.callback(&app).send().await;
    r.assert_error(409, "identity_conflict");
    assert!(r.text.contains("/oauth/{provider}/link"), "{}", r.text);
    let me = app.get("/api/v1/users/me").bearer(&access).send().await;
    assert_eq!(me.body["data"]["providers"], json!(["password"]));

    // `link_social_by_email: off`: 409 even at Gmail, nothing linked.
    let (app, google) = TestApp::with_google(&[("LINK_SOCIAL_BY_EMAIL", "off")]).await;
    let email = email_at("off", "gmail.com");
    let (access, _) = app.logged_in(&email).await;
    let back = google.sign_in(&app, START, &email).await;
    back.callback(&app).send().await.assert_error(409, "identity_conflict");
    let me = app.get("/api/v1/users/me").bearer(&access).send().await;
    assert_eq!(me.body["data"]["providers"], json!(["password"]));
}

#[tokio::test]
async fn an_address_the_provider_does_not_vouch_for_creates_nothing() {
    let (app, google) = TestApp::with_google(&[]).await;
    let email = unique_email("unverified.person");
    let login = format!("unverified.{email}");
    let back = google.sign_in(&app, START, &login).await;
    back.callback(&app).send().await.assert_error(400, "oauth_failed");
    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    assert!(!format!("{:?}", items.items()).contains(&email), "no account was created");
}

/// GitHub's verified primary address is not authoritative (GitHub does not run the mailbox):
/// a GitHub sign-in never joins an existing account by address, verified or not; it creates a new
/// one where none has the address, and links from the owner's session.
#[tokio::test]
async fn github_never_links_by_address() {
    let (app, _github) = TestApp::with_github(&[]).await;
    let email = email_at("gh-linked", "gmail.com");
    let (access, _) = app.logged_in(&email).await;
    let r = app.github_sign_in(&email).await.callback(&app).send().await;
    r.assert_error(409, "identity_conflict");
    let me = app.get("/api/v1/users/me").bearer(&access).send().await;
    assert_eq!(me.body["data"]["providers"], json!(["password"]));
    // An unverified account keeps its password: nobody proved anything about it.
    let pending = unique_email("gh-pending");
    assert_eq!(app.register(&pending, PASSWORD).await.status, 201);
    app.github_sign_in(&pending).await.callback(&app).send().await.assert_error(409, "identity_conflict");
    // A new address: a new account.
    let fresh = unique_email("gh-new");
    let r = app.github_sign_in(&fresh).await.callback(&app).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["providers"], json!(["github"]));
}

#[tokio::test]
async fn apple_links_by_verified_address_under_the_same_rules() {
    let (app, apple) = TestApp::with_apple(&[]).await;
    let email = unique_email("apple-linked");
    let (access, _) = app.logged_in(&email).await;
    assert_eq!(app.apple_sign_in(&apple, &email).await.send().await.status, 200);
    let me = app.get("/api/v1/users/me").bearer(&access).send().await;
    assert_eq!(me.body["data"]["providers"], json!(["password", "apple"]));
    let pending = unique_email("apple-pending");
    assert_eq!(app.register(&pending, PASSWORD).await.status, 201);
    let r = app.apple_sign_in(&apple, &pending).await.send().await;
    assert_eq!(r.body["data"]["user"]["email_verified"], true, "{}", r.text);
    app.login(&pending, PASSWORD).await.assert_error(401, "invalid_credentials");

    let (app, apple) = TestApp::with_apple(&[("LINK_SOCIAL_BY_EMAIL", "off")]).await;
    let email = unique_email("apple-off");
    app.logged_in(&email).await;
    app.apple_sign_in(&apple, &email).await.send().await.assert_error(409, "identity_conflict");
}

#[tokio::test]
async fn with_redirect_to_the_flow_ends_in_a_one_time_code_bound_to_the_clients_pkce() {
    let (app, google) = TestApp::with_google(&[("REDIRECT_URLS", "https://app.test/after-login")]).await;
    // Outside the allow-list: refused before anything is stored.
    app.get(START)
        .query("redirect_to=https://evil.test/")
        .send()
        .await
        .assert_error(400, "validation_failed");

    let verifier = "a-client-verifier-of-enough-length-0123456789abcdef";
    let challenge = auth_tests::b64url(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
    );
    let start = format!(
        "{START}?redirect_to=https://app.test/after-login&code_challenge={challenge}&code_challenge_method=S256"
    );
    let email = unique_email("redirect");
    let back = google.sign_in(&app, &start, &email).await;
    let r = back.callback(&app).send().await;
    assert_eq!(r.status, 302, "{}", r.text);
    let location = url::Url::parse(r.header("location").unwrap()).unwrap();
    assert_eq!(
        format!("{}://{}{}", location.scheme(), location.host_str().unwrap(), location.path()),
        "https://app.test/after-login"
    );
    let code =
        location.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("a code");
    assert!(!location.as_str().contains("token"), "no token in a URL");

    // Without the verifier: refused, and the code is spent (a code is tried once).
    app.post("/api/v1/auth/oauth/exchange", json!({"code": code}))
        .send()
        .await
        .assert_error(400, "invalid_token");
    app.post("/api/v1/auth/oauth/exchange", json!({"code": code, "code_verifier": verifier}))
        .send()
        .await
        .assert_error(400, "invalid_token");

    // A second sign-in, exchanged with the verifier: our pair, once.
    let back = google.sign_in(&app, &start, &email).await;
    let r = back.callback(&app).send().await;
    let location = url::Url::parse(r.header("location").unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).unwrap();
    let r = app
        .post("/api/v1/auth/oauth/exchange", json!({"code": code, "code_verifier": verifier}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email"], email);
    app.post("/api/v1/auth/oauth/exchange", json!({"code": code, "code_verifier": verifier}))
        .send()
        .await
        .assert_error(400, "invalid_token");

    // A sign-in that fails after the provider (an address it does not vouch for) or at it (a
    // denial) still ends at the app's page, with our error code and no code.
    let unverified = format!("unverified.{}", unique_email("redirect"));
    let back = google.sign_in(&app, &start, &unverified).await;
    let r = back.callback(&app).send().await;
    assert_eq!(r.status, 302, "{}", r.text);
    let location = url::Url::parse(r.header("location").unwrap()).unwrap();
    let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert_eq!(pairs, [("error".to_owned(), "oauth_failed".to_owned())], "{location}");
    assert!(location.as_str().starts_with("https://app.test/after-login?"));
    let started = app.get(START).query("redirect_to=https://app.test/after-login").send().await;
    let cookie = auth_tests::state_cookie(&started);
    let state = cookie.split_once('=').unwrap().1;
    let r = app
        .get("/api/v1/auth/oauth/google/callback")
        .query(&format!("error=access_denied&state={state}"))
        .header("cookie", &cookie)
        .send()
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(r.header("location"), Some("https://app.test/after-login?error=oauth_failed"));
}

/// Provider credentials are per app: the `default` app's Google never serves a created app, which
/// has configured none.
#[tokio::test]
async fn another_apps_paths_have_none_of_the_default_apps_providers() {
    let (app, google) = TestApp::with_google(&[]).await;
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({})).await;
    let base = format!("/apps/{id}");
    let r = app.get(&format!("{base}/api/v1/auth/oauth/providers")).send().await;
    assert_eq!(r.body["data"]["providers"], json!([]));
    app.get(&format!("{base}{START}")).send().await.assert_error(404, "not_found");
    // A live state and code of the default app, brought to the other app's callback: refused
    // there, and still good at its own.
    let back = google.sign_in(&app, START, &unique_email("crossing")).await;
    app.get(&format!("{base}{}", back.path))
        .query(&back.query)
        .header("cookie", &back.state_cookie)
        .send()
        .await
        .assert_error(400, "oauth_failed");
    assert_eq!(back.callback(&app).send().await.status, 200);
    app.post(&format!("{base}/api/v1/auth/oauth/exchange"), json!({"code": "x"}))
        .send()
        .await
        .assert_error(400, "invalid_token");
}

/// GitHub is plain OAuth2: the person is `/user`, the address the primary verified one of
/// `/user/emails`; an account without one gets nothing.
#[tokio::test]
async fn github_signs_in_with_the_primary_verified_address_only() {
    let (app, _github) = TestApp::with_github(&[]).await;
    let listed = app.get("/api/v1/auth/oauth/providers").send().await;
    assert_eq!(listed.body["data"]["providers"], json!([{"id": "github", "name": "GitHub"}]));
    let email = unique_email("octo");
    let back = app.github_sign_in(&email).await;
    let r = back.callback(&app).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email"], email, "the primary address, not the other verified one");
    let access = r.body["data"]["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/users/me").bearer(access).send().await;
    assert_eq!(me.body["data"]["providers"], json!(["github"]));
    let again = app.github_sign_in(&email).await.callback(&app).send().await;
    assert_eq!(again.body["data"]["user"]["id"], r.body["data"]["user"]["id"]);

    let unverified = format!("noverified.{}", unique_email("octo"));
    let back = app.github_sign_in(&unverified).await;
    back.callback(&app).send().await.assert_error(400, "oauth_failed");
}

const NATIVE: &str = "/api/v1/auth/oauth/google/token";

/// A native app posts the ID token it got from the provider's SDK: verified against the
/// provider's keys, for this app's client id, with the nonce the app sent.
#[tokio::test]
async fn a_native_app_signs_in_with_a_provider_id_token_that_passes_every_check() {
    let (app, google) = TestApp::with_google(&[]).await;
    let email = unique_email("native");
    let token = google.id_token(&email, "nonce-one").await;
    let r = app.post(NATIVE, json!({"id_token": token, "nonce": "nonce-one"})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email"], email);

    // The app's own authorization code, with its verifier and redirect URI; a wrong verifier fails
    // at the provider.
    let callback = "https://auth.test/api/v1/auth/oauth/google/callback";
    let issuer = &google.endpoints.google;
    let (code, verifier) = auth_tests::code_at(issuer, &google.client_id, callback, &email, "n").await;
    let r = app
        .post(NATIVE, json!({"code": code, "code_verifier": verifier, "redirect_uri": callback}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email"], email);
    let (code, _) = auth_tests::code_at(issuer, &google.client_id, callback, &email, "n").await;
    let wrong = "w".repeat(43);
    let r = app
        .post(NATIVE, json!({"code": code, "code_verifier": wrong, "redirect_uri": callback}))
        .send()
        .await;
    r.assert_error(400, "oauth_failed");

    // A wrong nonce.
    let token = google.id_token(&email, "nonce-two").await;
    let r = app.post(NATIVE, json!({"id_token": token, "nonce": "another"})).send().await;
    r.assert_error(400, "oauth_failed");
    assert!(r.text.contains("nonce"), "{}", r.text);

    // A token for another client of the same provider (another audience); accepted once the
    // deployment names that client among the default app's extra ones.
    let (other_id, other_secret) = auth_tests::register_client(&google.endpoints.google).await;
    let foreign =
        auth_tests::id_token_at(&google.endpoints.google, &other_id, &other_secret, &email, "n").await;
    let r = app.post(NATIVE, json!({"id_token": foreign, "nonce": "n"})).send().await;
    r.assert_error(400, "oauth_failed");
    assert!(r.text.contains("audience"), "{}", r.text);
    let widened = app.with_config(&[("GOOGLE_EXTRA_CLIENT_IDS", &format!("ios-client, {other_id}"))]).await;
    let r = app.send_to(&widened, app.post(NATIVE, json!({"id_token": foreign, "nonce": "n"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A token of another issuer ("Apple"), and one signed by a key the provider never published.
    let (apple_id, apple_secret) = auth_tests::register_client(&google.endpoints.apple).await;
    let apple = auth_tests::id_token_at(&google.endpoints.apple, &apple_id, &apple_secret, &email, "n").await;
    app.post(NATIVE, json!({"id_token": apple, "nonce": "n"})).send().await.assert_error(400, "oauth_failed");
    let forged = forge(&google.endpoints.google, &google.client_id, &email);
    let r = app.post(NATIVE, json!({"id_token": forged, "nonce": "n"})).send().await;
    r.assert_error(400, "oauth_failed");
    assert!(r.text.contains("unknown key"), "{}", r.text);
    for garbage in ["", "not.a.jwt", "eyJhbGciOiJub25lIn0.e30."] {
        let r = app.post(NATIVE, json!({"id_token": garbage, "nonce": "n"})).send().await;
        assert_eq!(r.status, 400, "{garbage}: {}", r.text);
    }
    // GitHub has no ID tokens; an unknown provider is 404.
    app.post("/api/v1/auth/oauth/nope/token", json!({"id_token": "x"}))
        .send()
        .await
        .assert_error(404, "not_found");
}

/// A native sign-in by ID token carries the app's nonce (unless the app turns that off), and a
/// token for several audiences passes only when its `azp` is one of the app's clients.
#[tokio::test]
async fn a_native_id_token_needs_a_nonce_and_an_authorized_party_of_the_app() {
    let (app, google) = TestApp::with_google(&[]).await;
    let issuer = &google.endpoints.google;
    let email = unique_email("nonce");
    let now = chrono::Utc::now().timestamp();
    let token = google.id_token(&email, "n-1").await;
    let r = app.post(NATIVE, json!({"id_token": token})).send().await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["nonce"], json!(["required"]), "{}", r.text);
    // The token carries the nonce's hash: whoever holds only the token cannot answer with the
    // nonce (sending the claim back is refused), the app that made the nonce can.
    let claim = auth_tests::jwt_payload(&token)["nonce"].as_str().unwrap().to_owned();
    assert_eq!(claim, auth_tests::native_nonce("n-1"));
    let r = app.post(NATIVE, json!({"id_token": token, "nonce": claim})).send().await;
    r.assert_error(400, "oauth_failed");
    let r = app.post(NATIVE, json!({"id_token": token, "nonce": "n-1"})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    // An app that turned the rule off takes a token without one (a nonce sent is still checked).
    let lax = app.with_config(&[("NATIVE_NONCE_REQUIRED", "false")]).await;
    // (A minted token names its own subject: each of these sign-ins is an account of its own.)
    let bare = auth_tests::minted_id_token_of(
        issuer,
        json!({"aud": google.client_id, "email": unique_email("lax"), "iat": now, "exp": now + 600}),
    )
    .await;
    let r = app.send_to(&lax, app.post(NATIVE, json!({"id_token": bare}))).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Several audiences: the authorized party must be ours.
    let several_email = unique_email("several");
    let several = |azp: Option<&str>| {
        let mut fields = json!({"aud": [google.client_id, "someone-else"], "email": several_email,
                                "nonce": auth_tests::native_nonce("n"), "iat": now, "exp": now + 600});
        if let Some(azp) = azp {
            fields["azp"] = json!(azp);
        }
        auth_tests::minted_id_token_of(issuer, fields)
    };
    for azp in [None, Some("someone-else")] {
        let r = app.post(NATIVE, json!({"id_token": several(azp).await, "nonce": "n"})).send().await;
        r.assert_error(400, "oauth_failed");
        assert!(r.text.contains("authorized party"), "{}", r.text);
    }
    let r = app
        .post(NATIVE, json!({"id_token": several(Some(&google.client_id)).await, "nonce": "n"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// An ID token the provider really signed, for this app, with the right nonce, but expired or
/// issued in the future, is refused; the same token in its time passes.
#[tokio::test]
async fn an_id_token_out_of_its_time_is_refused() {
    let (app, google) = TestApp::with_google(&[]).await;
    let issuer = &google.endpoints.google;
    let email = unique_email("timely");
    let now = chrono::Utc::now().timestamp();
    let expired =
        auth_tests::minted_id_token(issuer, &google.client_id, &email, "n", now - 7200, now - 3600).await;
    let r = app.post(NATIVE, json!({"id_token": expired, "nonce": "n"})).send().await;
    r.assert_error(400, "oauth_failed");
    assert!(r.text.contains("expired"), "{}", r.text);
    let future =
        auth_tests::minted_id_token(issuer, &google.client_id, &email, "n", now + 3600, now + 7200).await;
    app.post(NATIVE, json!({"id_token": future, "nonce": "n"}))
        .send()
        .await
        .assert_error(400, "oauth_failed");
    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    assert!(!format!("{:?}", items.items()).contains(&email), "no account was created");
    let timely = auth_tests::minted_id_token(issuer, &google.client_id, &email, "n", now, now + 600).await;
    let r = app.post(NATIVE, json!({"id_token": timely, "nonce": "n"})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// An ID token shaped like the provider's, signed with a key of our own (kid unknown there).
fn forge(issuer: &str, audience: &str, email: &str) -> String {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    let encoding = jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref());
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("forged-key".into());
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": issuer, "aud": audience, "sub": "forged", "email": email, "email_verified": true,
                        "iat": now, "exp": now + 600});
    jsonwebtoken::encode(&header, &claims, &encoding).unwrap()
}

#[tokio::test]
async fn identities_are_listed_and_the_last_way_in_cannot_be_unlinked() {
    let (app, google) = TestApp::with_google(&[]).await;
    // Signed up with Google only: Google is the one way in.
    let email = unique_email("only-google");
    let back = google.sign_in(&app, START, &email).await;
    let r = back.callback(&app).send().await;
    let access = r.body["data"]["access_token"].as_str().unwrap().to_owned();
    let listed = app.get("/api/v1/auth/identities").bearer(&access).send().await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["data"]["identities"][0]["provider"], "google");
    app.call("DELETE", "/api/v1/auth/identities/google")
        .bearer(&access)
        .send()
        .await
        .assert_error(409, "conflict");
    app.call("DELETE", "/api/v1/auth/identities/github")
        .bearer(&access)
        .send()
        .await
        .assert_error(404, "not_found");

    // A password account that linked Google may unlink it; signing in with Google then makes a
    // link again (an address Google is authoritative for), never a second account.
    let email = email_at("both", "gmail.com");
    let (access, _) = app.logged_in(&email).await;
    let back = google.sign_in(&app, START, &email).await;
    let linked = back.callback(&app).send().await;
    assert_eq!(linked.status, 200, "{}", linked.text);
    let r = app.call("DELETE", "/api/v1/auth/identities/google").bearer(&access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me = app.get("/api/v1/users/me").bearer(&access).send().await;
    assert_eq!(me.body["data"]["providers"], json!(["password"]));
    assert_eq!(
        app.get("/api/v1/auth/identities").bearer(&access).send().await.body["data"]["identities"],
        json!([])
    );
    let user_id = me.body["data"]["id"].as_str().unwrap().to_owned();
    let types = app.audit_types(&user_id).await;
    for event in ["identity_linked", "identity_unlinked", "social_login"] {
        assert!(types.iter().any(|t| t == event), "{event} in {types:?}");
    }
}

/// Nothing of a social sign-in that could sign someone in is stored or logged: the client secret,
/// the state, the provider's code and ID token, our one-time code, our tokens.
#[tokio::test]
async fn no_provider_secret_state_code_or_token_is_stored_or_logged() {
    let logs = auth_tests::Captured::install();
    let (app, google) = TestApp::with_google(&[("REDIRECT_URLS", "https://app.test/done")]).await;
    let email = unique_email("secrets");
    let mut secrets = vec![google.client_secret.clone()];
    let back = google.sign_in(&app, &format!("{START}?redirect_to=https://app.test/done"), &email).await;
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(back.query.as_bytes()).into_owned().collect();
    secrets.extend(query.iter().filter(|(k, _)| k == "code" || k == "state").map(|(_, v)| v.clone()));
    let r = back.callback(&app).send().await;
    let location = url::Url::parse(r.header("location").expect("a redirect")).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).unwrap();
    let r = app.post("/api/v1/auth/oauth/exchange", json!({"code": code})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    secrets.push(code);
    secrets.push(r.body["data"]["access_token"].as_str().unwrap().to_owned());
    secrets.push(r.body["data"]["refresh_token"].as_str().unwrap().to_owned());
    let id_token = google.id_token(&email, "n").await;
    let r = app.post(NATIVE, json!({"id_token": id_token, "nonce": "n"})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    secrets.push(id_token);

    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    let table = format!("{:?}{}", items.items(), app.stream_text().await);
    let logged = logs.text();
    assert!(logged.contains("\"request\""), "the logs were captured");
    for secret in &secrets {
        assert!(!table.contains(secret.as_str()), "a secret is stored in the table: {secret:.12}");
        assert!(!logged.contains(secret.as_str()), "a secret is in the logs: {secret:.12}");
    }
}

/// A provider that cannot be reached is 503 (retry later), never a 500 or a hang.
#[tokio::test]
async fn a_provider_that_cannot_be_reached_is_503() {
    let dead = format!("http://127.0.0.1:{}", authctl::moto::free_port().unwrap());
    let (app, _google) = TestApp::with_google(&[("GOOGLE_ISSUER", dead.as_str())]).await;
    let r = app.get(START).send().await;
    r.assert_error(503, "service_unavailable");
    assert!(r.header("retry-after").is_some());
}

/// A signed-in user links Google under any address: the identity joins them (not an account of
/// that address), signs them in from then on, and cannot be linked to a second user.
#[tokio::test]
async fn a_signed_in_user_links_a_provider_from_this_browser() {
    let (app, google) = TestApp::with_google(&[]).await;
    // A link started with `access`, completed at the provider as `login`, back at our callback
    // in the same browser; `before_provider` runs between the start and the provider.
    let link = |access: String, login: String, before_provider: Option<String>| {
        let (app, issuer) = (&app, google.endpoints.google.clone());
        async move {
            let r = app.post("/api/v1/auth/oauth/google/link", json!({})).bearer(&access).send().await;
            assert_eq!(r.status, 200, "{}", r.text);
            let authorize = r.body["data"]["authorization_url"].as_str().unwrap().to_owned();
            let state_cookie = auth_tests::state_cookie(&r);
            if let Some(path) = before_provider {
                assert_eq!(app.post(&path, json!({})).bearer(&access).send().await.status, 200);
            }
            let back = auth_tests::drive_provider(&issuer, &authorize, &login).await;
            app.get(back.path())
                .query(back.query().unwrap_or_default())
                .header("cookie", &state_cookie)
                .send()
                .await
        }
    };
    let email = unique_email("linker");
    let (access, _) = app.logged_in(&email).await;
    let google_login = unique_email("their-google");
    let r = link(access.clone(), google_login.clone(), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["provider"], "google");
    assert!(r.body["data"].get("access_token").is_none(), "a link signs nobody in");
    let me = app.get("/api/v1/users/me").bearer(&access).send().await;
    assert_eq!(me.body["data"]["providers"], json!(["password", "google"]));

    // Signing in with that Google account now reaches this user.
    let back = google.sign_in(&app, START, &google_login).await;
    let r = back.callback(&app).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email"], email);

    // Another user cannot take it over.
    let (other, _) = app.logged_in(&unique_email("other")).await;
    link(other, google_login.clone(), None).await.assert_error(409, "identity_conflict");

    // A link whose session ended before it completed (logged out, revoked, a stolen token's)
    // links nothing.
    let (third, _) = app.logged_in(&unique_email("third")).await;
    let r = app.post("/api/v1/auth/oauth/github/link", json!({})).bearer(&third).send().await;
    r.assert_error(404, "not_found");
    let r = link(third, unique_email("late"), Some("/api/v1/auth/logout".to_owned())).await;
    r.assert_error(400, "oauth_failed");
    assert!(r.text.contains("session"), "{}", r.text);
}

/// Sign in with Apple against the stand-in: a client secret the service signs (ES256, team id,
/// client id, Apple's audience), the `form_post` answer to our POST callback with its
/// `SameSite=None` state cookie, `email_verified` as a string, and the name from Apple's `user`
/// field, which only the first sign-in carries.
#[tokio::test]
async fn apple_signs_in_through_form_post_with_a_signed_client_secret() {
    let (app, apple) = TestApp::with_apple(&[]).await;
    let listed = app.get("/api/v1/auth/oauth/providers").send().await;
    assert_eq!(listed.body["data"]["providers"], json!([{"id": "apple", "name": "Apple"}]));
    let email = unique_email("apple");
    let r = app.apple_sign_in(&apple, &email).await.send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email"], email);
    assert_eq!(r.body["data"]["user"]["email_verified"], true);
    assert!(r.body["data"]["user"]["name"].as_str().is_some_and(|n| n.starts_with("Stand-in")), "{}", r.text);
    // Again: the same account (and no `user` field this time).
    let again = app.apple_sign_in(&apple, &email).await.send().await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["data"]["user"]["id"], r.body["data"]["user"]["id"]);

    // "Hide My Email": the relay address is the account's verified address, like any other.
    let relay = format!("{}@privaterelay.appleid.com", uuid::Uuid::new_v4().simple());
    let r = app.apple_sign_in(&apple, &relay).await.send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email"], relay);
    assert_eq!(r.body["data"]["user"]["email_verified"], true);
    assert_ne!(r.body["data"]["user"]["id"], again.body["data"]["user"]["id"]);

    // Without the browser's cookie: refused.
    let call = app.apple_sign_in(&apple, &unique_email("apple-csrf")).await;
    let form = call.event()["body"].as_str().unwrap().to_owned();
    app.call("POST", "/api/v1/auth/oauth/apple/callback")
        .raw(&form, "application/x-www-form-urlencoded")
        .send()
        .await
        .assert_error(400, "oauth_failed");
}

/// The stand-in checks the client secret as Apple does: one signed for another team is refused at
/// its token endpoint, and the sign-in fails cleanly with nothing created.
#[tokio::test]
async fn an_apple_client_secret_of_another_team_is_refused() {
    let (app, apple) = TestApp::with_apple(&[("APPLE_TEAM_ID", "OTHERTEAM1")]).await;
    let call = app.apple_sign_in(&apple, &unique_email("apple-team")).await;
    call.send().await.assert_error(400, "oauth_failed");
}
