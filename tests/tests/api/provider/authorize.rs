//! The app's OAuth provider for users (contract: "The OAuth2 / OpenID Connect provider"): the
//! authorization endpoint with its login and consent pages, the authorization_code grant with
//! PKCE, refresh rotation, ID tokens, userinfo, RP-initiated logout and the user's connected apps.
//! The negative cases are the ones the OpenID conformance suite and Keycloak's tests use.

use std::collections::BTreeMap;

use auth_tests::{Jar, PASSWORD, TestApp, TestResponse, jwt_payload, set_cookies, unique_email};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

const REDIRECT: &str = "https://rp.example/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A relying party registered at an app, and a verified user of that app.
pub(crate) struct Rp {
    pub(crate) app: TestApp,
    pub(crate) dev: String,
    pub(crate) base: String,
    pub(crate) client_id: String,
    pub(crate) secret: Option<String>,
    pub(crate) email: String,
}

async fn rp_at(app: TestApp, client: Value) -> Rp {
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({"name": "Acme"})).await;
    rp_of(app, dev, id, client).await
}

async fn rp_of(app: TestApp, dev: String, id: String, client: Value) -> Rp {
    let mut body = json!({
        "name": "Photo Printer",
        "type": "confidential",
        "redirect_uris": [REDIRECT, "https://rp.example/cb?x=1"],
        "post_logout_redirect_uris": ["https://rp.example/bye"],
        "scopes": ["openid", "profile", "email", "offline_access"],
        "grant_types": ["authorization_code", "refresh_token"],
    });
    for (k, v) in client.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = app.post(&format!("/api/v1/console/apps/{id}/oauth-clients"), body).bearer(&dev).send().await;
    assert_eq!(r.status, 201, "{}", r.text);
    let base = format!("/apps/{id}");
    let email = unique_email("user");
    app.verified_user_at(&base, &email).await;
    Rp {
        client_id: r.body["data"]["client_id"].as_str().unwrap().to_owned(),
        secret: r.body["data"]["client_secret"].as_str().map(str::to_owned),
        app,
        dev,
        base,
        email,
    }
}

pub(crate) async fn rp(client: Value) -> Rp {
    rp_at(TestApp::spawn().await, client).await
}

/// A hidden field of a page's form.
pub(crate) fn field(page: &TestResponse, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start =
        page.text.find(&marker).unwrap_or_else(|| panic!("no {name} in {}", page.text)) + marker.len();
    page.text[start..].split('"').next().unwrap().to_owned()
}

fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// The query parameters of a redirect's `Location`.
pub(crate) fn location(r: &TestResponse) -> BTreeMap<String, String> {
    assert_eq!(r.status, 302, "{}", r.text);
    let url = url::Url::parse(r.header("location").unwrap()).unwrap();
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

impl Rp {
    fn issuer(&self) -> String {
        format!("https://auth.test{}", self.base)
    }

    fn request(&self, extra: &[(&str, &str)]) -> String {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile email offline_access"),
            ("state", "st-123"),
            ("nonce", "n-456"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in extra {
            pairs.retain(|(n, _)| n != k);
            if !v.is_empty() {
                pairs.push((k, v));
            }
        }
        query(&pairs)
    }

    pub(crate) async fn authorize(&self, browser: &mut Jar, extra: &[(&str, &str)]) -> TestResponse {
        browser.get(&self.app, &format!("{}/oauth/authorize", self.base), &self.request(extra)).await
    }

    pub(crate) async fn sign_in(
        &self,
        browser: &mut Jar,
        page: &TestResponse,
        password: &str,
    ) -> TestResponse {
        self.sign_in_as(browser, page, &self.email, password).await
    }

    async fn sign_in_as(
        &self,
        browser: &mut Jar,
        page: &TestResponse,
        email: &str,
        password: &str,
    ) -> TestResponse {
        let (request, csrf) = (field(page, "request"), field(page, "csrf_token"));
        let form = [
            ("request", request.as_str()),
            ("csrf_token", csrf.as_str()),
            ("email", email),
            ("password", password),
        ];
        browser.post(&self.app, &format!("{}/oauth/authorize/login", self.base), &form).await
    }

    /// The login page's form that uses a mailed sign-in link, posted from `page` in `browser`.
    async fn use_link(&self, browser: &mut Jar, page: &TestResponse, token: &str) -> TestResponse {
        let (request, csrf) = (field(page, "request"), field(page, "csrf_token"));
        let form = [
            ("request", request.as_str()),
            ("csrf_token", csrf.as_str()),
            ("method", "magic_link_verify"),
            ("token", token),
        ];
        browser.post(&self.app, &format!("{}/oauth/authorize/login", self.base), &form).await
    }

    pub(crate) async fn decide(
        &self,
        browser: &mut Jar,
        page: &TestResponse,
        decision: &str,
    ) -> TestResponse {
        let (request, csrf) = (field(page, "request"), field(page, "csrf_token"));
        let form = [("request", request.as_str()), ("csrf_token", csrf.as_str()), ("decision", decision)];
        browser.post(&self.app, &format!("{}/oauth/authorize/consent", self.base), &form).await
    }

    /// Login page, password, consent page, allow: the code.
    async fn code(&self, browser: &mut Jar, extra: &[(&str, &str)]) -> String {
        let page = self.authorize(browser, extra).await;
        assert_eq!(page.status, 200, "{} {:?}", page.text, page.header("location"));
        let consent = self.sign_in(browser, &page, PASSWORD).await;
        assert_eq!(consent.status, 200, "{}", consent.text);
        assert!(consent.text.contains("Allow"), "{}", consent.text);
        location(&self.decide(browser, &consent, "allow").await)["code"].clone()
    }

    fn auth(&self) -> Option<String> {
        self.secret.as_ref().map(|s| format!("Basic {}", STANDARD.encode(format!("{}:{s}", self.client_id))))
    }

    async fn token(&self, form: &[(&str, &str)]) -> TestResponse {
        let mut form = form.to_vec();
        if self.secret.is_none() {
            form.push(("client_id", &self.client_id));
        }
        let mut call = self.app.call("POST", &format!("{}/oauth/token", self.base)).form(&form);
        if let Some(a) = self.auth() {
            call = call.header("authorization", &a);
        }
        call.send().await
    }

    pub(crate) async fn exchange(&self, code: &str) -> TestResponse {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .await
    }

    async fn introspect(&self, token: &str) -> Value {
        let mut call =
            self.app.call("POST", &format!("{}/oauth/introspect", self.base)).form(&[("token", token)]);
        if let Some(a) = self.auth() {
            call = call.header("authorization", &a);
        }
        let r = call.send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// The user's events, read through the management API by the app's owner.
    async fn audit_types(&self, user_id: &str) -> Vec<String> {
        let r = self
            .app
            .get(&format!("{}/api/v1/admin/audit", self.base))
            .query(&format!("user_id={user_id}"))
            .bearer(&self.dev)
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["data"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn userinfo(&self, token: &str) -> TestResponse {
        self.app.get(&format!("{}/oauth/userinfo", self.base)).bearer(token).send().await
    }
}

fn assert_oauth_error(r: &TestResponse, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["error"], error, "{}", r.text);
}

/// An HTML page that must not send the browser anywhere.
fn assert_error_page(r: &TestResponse) {
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.header("location").is_none());
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
}

#[tokio::test]
async fn a_user_signs_in_consents_and_the_client_gets_tokens_an_id_token_and_userinfo() {
    let rp = rp(json!({})).await;
    let mut browser = Jar::default();
    let page = rp.authorize(&mut browser, &[("login_hint", &rp.email)]).await;
    assert_eq!(page.status, 200, "{}", page.text);
    // The pages: HTML, the app's and the client's names, a CSRF token, no framing, a strict CSP.
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text.contains("Acme") && page.text.contains("Photo Printer"));
    assert!(page.text.contains(&rp.email), "login_hint prefills the email");
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self' https://rp.example"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let csrf_cookie = browser.jar.keys().find(|k| k.starts_with("__Host-op-csrf-")).cloned();
    assert!(csrf_cookie.is_some(), "{:?}", browser.jar);
    // A wrong password shows the page again.
    let wrong = rp.sign_in(&mut browser, &page, "Wrong-Password-123").await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert!(wrong.text.contains("not correct"));
    let consent = rp.sign_in(&mut browser, &wrong, PASSWORD).await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    let session_cookie = set_cookies(&consent).into_iter().find(|c| c.starts_with("__Host-op-")).unwrap();
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session_cookie.contains(attribute), "{session_cookie}");
    }
    // Each scope in words.
    for words in ["Know who you are", "See your profile", "See your email address", "Stay connected"] {
        assert!(consent.text.contains(words), "{words}: {}", consent.text);
    }
    assert_eq!(consent.header("x-frame-options"), Some("DENY"));
    let back = location(&rp.decide(&mut browser, &consent, "allow").await);
    assert_eq!(back["state"], "st-123");
    assert_eq!(back["iss"], rp.issuer());
    let r = rp.exchange(&back["code"]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scope"], "openid profile email offline_access");
    let access = r.body["access_token"].as_str().unwrap();
    assert!(r.body["refresh_token"].is_string());
    let id = jwt_payload(r.body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], rp.client_id.as_str());
    assert_eq!(id["iss"], rp.issuer());
    assert_eq!(id["nonce"], "n-456");
    assert!(id["auth_time"].as_i64().unwrap() <= id["iat"].as_i64().unwrap());
    assert_eq!(id["email"], rp.email.as_str());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access.as_bytes());
    assert_eq!(id["at_hash"], URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]));
    let at = jwt_payload(access);
    assert_eq!(at["client_id"], rp.client_id.as_str());
    assert_eq!(at["sub"], id["sub"]);
    // Userinfo, GET and POST.
    let info = rp.userinfo(access).await;
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(info.body["sub"], id["sub"]);
    assert_eq!(info.body["email"], rp.email.as_str());
    assert_eq!(info.body["email_verified"], true);
    let posted = rp.app.call("POST", &format!("{}/oauth/userinfo", rp.base)).bearer(access).send().await;
    assert_eq!(posted.body["sub"], id["sub"]);
    // The second authorization asks for nothing: the browser session and the consent are known.
    let again = location(&rp.authorize(&mut browser, &[]).await);
    assert!(again.contains_key("code"), "{again:?}");
    // prompt=consent asks again, prompt=login and max_age=0 ask for the password again.
    assert!(rp.authorize(&mut browser, &[("prompt", "consent")]).await.text.contains("Allow"));
    for extra in [("prompt", "login"), ("max_age", "0")] {
        let page = rp.authorize(&mut browser, &[extra]).await;
        assert!(page.text.contains("type=\"password\""), "{extra:?}: {}", page.text);
    }
    let types = rp.audit_types(id["sub"].as_str().unwrap()).await;
    for t in ["oauth_consent_granted", "oauth_token_issued", "login_succeeded"] {
        assert!(types.iter().any(|x| x == t), "{t} in {types:?}");
    }
}

#[tokio::test]
async fn a_code_works_once_and_a_second_use_kills_what_the_first_issued() {
    let rp = rp(json!({})).await;
    let code = rp.code(&mut Jar::default(), &[]).await;
    let first = rp.exchange(&code).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let access = first.body["access_token"].as_str().unwrap();
    assert_eq!(rp.introspect(access).await["active"], true);
    assert_oauth_error(&rp.exchange(&code).await, 400, "invalid_grant");
    assert_eq!(rp.introspect(access).await, json!({"active": false}));
    assert_eq!(rp.userinfo(access).await.status, 401);
    let refresh = first.body["refresh_token"].as_str().unwrap();
    assert_oauth_error(
        &rp.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await,
        400,
        "invalid_grant",
    );
    let user = jwt_payload(access)["sub"].as_str().unwrap().to_owned();
    assert!(rp.audit_types(&user).await.iter().any(|t| t == "oauth_code_reused"));
}

#[tokio::test]
async fn ten_concurrent_exchanges_of_one_code_give_exactly_one_success() {
    let rp = rp(json!({})).await;
    let code = rp.code(&mut Jar::default(), &[]).await;
    let results = futures::future::join_all((0..10).map(|_| rp.exchange(&code))).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{:?}", results.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>());
    for r in results.iter().filter(|r| r.status != 200) {
        assert_oauth_error(r, 400, "invalid_grant");
    }
}

#[tokio::test]
async fn a_redirect_uri_that_is_not_registered_exactly_is_an_error_page_never_a_redirect() {
    let rp = rp(json!({})).await;
    let mut browser = Jar::default();
    for uri in [
        "https://RP.example/cb",
        "https://rp.example/CB",
        "https://rp.example/cb/extra",
        "https://rp.example/cb?x=2",
        "https://rp.example/cb?x=1&y=2",
        "https://rp.example/cb/%2E%2E/evil",
        "https://rp.example/cb/../cb",
        "https://evil.example/cb",
        "",
    ] {
        assert_error_page(&rp.authorize(&mut browser, &[("redirect_uri", uri)]).await);
    }
    // A registered URI with its own query is fine, and keeps it.
    let page = rp
        .authorize(&mut browser, &[("redirect_uri", "https://rp.example/cb?x=1"), ("prompt", "none")])
        .await;
    assert!(page.header("location").unwrap().starts_with("https://rp.example/cb?x=1&error=login_required"));
    // Unknown client: an error page too.
    assert_error_page(&rp.authorize(&mut browser, &[("client_id", "oc_nosuchclientxxxxxxxxxxxxx")]).await);
    assert_error_page(&rp.authorize(&mut browser, &[("client_id", "")]).await);
}

#[tokio::test]
async fn other_request_errors_go_back_to_the_client_with_state_and_iss() {
    let rp = rp(json!({})).await;
    let mut browser = Jar::default();
    let cases: [(&[(&str, &str)], &str); 8] = [
        (&[("response_type", "token")], "unsupported_response_type"),
        (&[("response_type", "")], "invalid_request"),
        (&[("request", "eyJhbGciOiJub25lIn0.e30.")], "request_not_supported"),
        (&[("request_uri", "https://rp.example/req")], "request_uri_not_supported"),
        (&[("scope", "openid admin")], "invalid_scope"),
        (&[("code_challenge_method", "plain")], "invalid_request"),
        (&[("code_challenge_method", "")], "invalid_request"),
        (&[("prompt", "none login")], "invalid_request"),
    ];
    for (extra, error) in cases {
        let back = location(&rp.authorize(&mut browser, extra).await);
        assert_eq!(back["error"], error, "{extra:?}");
        assert_eq!(back["state"], "st-123");
        assert_eq!(back["iss"], rp.issuer());
    }
}

#[tokio::test]
async fn pkce_is_required_of_public_clients_and_the_verifier_must_match() {
    let rp = rp(json!({"type": "public"})).await;
    let mut browser = Jar::default();
    let back =
        location(&rp.authorize(&mut browser, &[("code_challenge", ""), ("code_challenge_method", "")]).await);
    assert_eq!(back["error"], "invalid_request");
    let code = rp.code(&mut browser, &[]).await;
    let wrong = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let base = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT)];
    assert_oauth_error(
        &rp.token(&[&base[..], &[("code_verifier", wrong)]].concat()).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(&rp.token(&base).await, 400, "invalid_grant");
    // A wrong redirect_uri at the token endpoint, too.
    let other = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://rp.example/cb?x=1"),
        ("code_verifier", VERIFIER),
    ];
    assert_oauth_error(&rp.token(&other).await, 400, "invalid_grant");
    // A public client gets its tokens with its id alone and the verifier (signed in and
    // consented already: straight back with a code).
    let code = location(&rp.authorize(&mut browser, &[]).await)["code"].clone();
    let r = rp.exchange(&code).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_wrong_secret_a_foreign_client_and_an_expired_code_are_refused() {
    let app = TestApp::spawn_with(&[("OAUTH_CODE_TTL_SECONDS", "1")]).await;
    let rp = rp_at(app, json!({})).await;
    let code = rp.code(&mut Jar::default(), &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let wrong = format!("Basic {}", STANDARD.encode(format!("{}:ocs_wrong", rp.client_id)));
    let r = rp
        .app
        .call("POST", &format!("{}/oauth/token", rp.base))
        .form(&form)
        .header("authorization", &wrong)
        .send()
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    // The client of app A does not exist at app B.
    let other = rp.app.create_app(&rp.dev, json!({"name": "Other"})).await;
    let r = rp
        .app
        .call("POST", &format!("/apps/{other}/oauth/token"))
        .form(&form)
        .header("authorization", &rp.auth().unwrap())
        .send()
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
    let q = rp.request(&[]);
    assert_error_page(&rp.app.get(&format!("/apps/{other}/oauth/authorize")).query(&q).send().await);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_oauth_error(&rp.exchange(&code).await, 400, "invalid_grant");
}

#[tokio::test]
async fn prompt_none_never_shows_a_page_and_consent_can_be_denied() {
    let rp = rp(json!({})).await;
    let mut browser = Jar::default();
    let back = location(&rp.authorize(&mut browser, &[("prompt", "none")]).await);
    assert_eq!(back["error"], "login_required");
    assert_eq!(back["state"], "st-123");
    let page = rp.authorize(&mut browser, &[]).await;
    let consent = rp.sign_in(&mut browser, &page, PASSWORD).await;
    // Signed in, but no consent yet.
    let back = location(&rp.authorize(&mut browser, &[("prompt", "none")]).await);
    assert_eq!(back["error"], "consent_required");
    let back = location(&rp.decide(&mut browser, &consent, "deny").await);
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["iss"], rp.issuer());
    assert!(!back.contains_key("code"));
    // After consent, prompt=none answers with a code; an id_token_hint for another user does not.
    let code = rp.code(&mut browser, &[]).await;
    let id_token = rp.exchange(&code).await.body["id_token"].as_str().unwrap().to_owned();
    let back =
        location(&rp.authorize(&mut browser, &[("prompt", "none"), ("id_token_hint", &id_token)]).await);
    assert!(back.contains_key("code"), "{back:?}");
    // Another user's ID token as the hint: that user must sign in (never a code for the wrong one).
    let other = unique_email("other");
    rp.app.verified_user_at(&rp.base, &other).await;
    let mut theirs = Jar::default();
    let page = rp.authorize(&mut theirs, &[]).await;
    let consent = rp.sign_in_as(&mut theirs, &page, &other, PASSWORD).await;
    let code = location(&rp.decide(&mut theirs, &consent, "allow").await)["code"].clone();
    let other_token = rp.exchange(&code).await.body["id_token"].as_str().unwrap().to_owned();
    let back =
        location(&rp.authorize(&mut browser, &[("prompt", "none"), ("id_token_hint", &other_token)]).await);
    assert_eq!(back["error"], "login_required");
    let page = rp.authorize(&mut browser, &[("id_token_hint", &other_token)]).await;
    assert!(page.text.contains("type=\"password\""), "{}", page.text);
    // A hint that is no ID token of this client: invalid_request.
    let back = location(&rp.authorize(&mut browser, &[("id_token_hint", "garbage")]).await);
    assert_eq!(back["error"], "invalid_request");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_grant() {
    let rp = rp_at(TestApp::spawn_with(&[("REFRESH_REUSE_GRACE_SECONDS", "1")]).await, json!({})).await;
    let code = rp.code(&mut Jar::default(), &[]).await;
    let first = rp.exchange(&code).await;
    let r1 = first.body["refresh_token"].as_str().unwrap();
    let second = rp.token(&[("grant_type", "refresh_token"), ("refresh_token", r1)]).await;
    assert_eq!(second.status, 200, "{}", second.text);
    let r2 = second.body["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    let access = second.body["access_token"].as_str().unwrap();
    assert_eq!(rp.introspect(access).await["active"], true);
    // A refresh cannot widen the grant.
    let wider =
        rp.token(&[("grant_type", "refresh_token"), ("refresh_token", r2), ("scope", "openid admin")]).await;
    assert_oauth_error(&wider, 400, "invalid_scope");
    // The first token again, after the grace window: the grant ends, every token with it.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_oauth_error(
        &rp.token(&[("grant_type", "refresh_token"), ("refresh_token", r1)]).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &rp.token(&[("grant_type", "refresh_token"), ("refresh_token", r2)]).await,
        400,
        "invalid_grant",
    );
    assert_eq!(rp.introspect(access).await, json!({"active": false}));
    let user = jwt_payload(access)["sub"].as_str().unwrap().to_owned();
    assert!(rp.audit_types(&user).await.iter().any(|t| t == "refresh_reuse_detected"));
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token_and_without_openid_no_userinfo() {
    let rp = rp(json!({"scopes": ["profile", "email", "openid"]})).await;
    let code = rp.code(&mut Jar::default(), &[("scope", "profile email")]).await;
    let r = rp.exchange(&code).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("refresh_token").is_none() && r.body.get("id_token").is_none(), "{}", r.text);
    let info = rp.userinfo(r.body["access_token"].as_str().unwrap()).await;
    assert_eq!(info.status, 403, "{}", info.text);
    assert_eq!(info.body["error"], "insufficient_scope");
    assert!(info.header("www-authenticate").unwrap().contains("insufficient_scope"));
    let bad = rp.userinfo("not-a-token").await;
    assert_eq!(bad.status, 401);
    assert!(bad.header("www-authenticate").unwrap().starts_with("Bearer"));
}

#[tokio::test]
async fn introspection_and_revocation_of_user_tokens() {
    let rp = rp(json!({})).await;
    let code = rp.code(&mut Jar::default(), &[]).await;
    let r = rp.exchange(&code).await;
    let (access, refresh) =
        (r.body["access_token"].as_str().unwrap(), r.body["refresh_token"].as_str().unwrap());
    let live = rp.introspect(access).await;
    assert_eq!(live["active"], true);
    assert_eq!(live["client_id"], rp.client_id.as_str());
    assert_eq!(live["scope"], "openid profile email offline_access");
    let refresh_seen = rp.introspect(refresh).await;
    assert_eq!(refresh_seen["active"], true);
    assert_eq!(refresh_seen["scope"], "openid profile email offline_access");
    assert_eq!(refresh_seen["token_type"], "refresh_token");
    // Another app's token, and garbage: inactive.
    let (session_token, _) = rp.app.logged_in(&unique_email("elsewhere")).await;
    assert_eq!(rp.introspect(&session_token).await, json!({"active": false}));
    assert_eq!(rp.introspect("garbage").await, json!({"active": false}));
    // Revoking the refresh token ends the grant: its access token too. Revoke is always 200.
    let revoke = |token: String| {
        let call = rp.app.call("POST", &format!("{}/oauth/revoke", rp.base)).form(&[("token", &token)]);
        call.header("authorization", &rp.auth().unwrap()).send()
    };
    assert_eq!(revoke(refresh.to_owned()).await.status, 200);
    assert_eq!(rp.introspect(access).await, json!({"active": false}));
    assert_eq!(rp.introspect(refresh).await, json!({"active": false}));
    assert_eq!(revoke(refresh.to_owned()).await.status, 200);
    assert_eq!(revoke("garbage".to_owned()).await.status, 200);
}

#[tokio::test]
async fn the_forms_need_their_csrf_token_and_the_browser_that_got_the_page() {
    let rp = rp(json!({})).await;
    let mut browser = Jar::default();
    let page = rp.authorize(&mut browser, &[]).await;
    let (request, csrf) = (field(&page, "request"), field(&page, "csrf_token"));
    let login = format!("{}/oauth/authorize/login", rp.base);
    let creds = [("email", rp.email.as_str()), ("password", PASSWORD)];
    // No token, a wrong token, no request: refused, and no session cookie.
    for form in [
        vec![("request", request.as_str())],
        vec![("request", request.as_str()), ("csrf_token", "forged")],
        vec![("csrf_token", csrf.as_str())],
    ] {
        let r = browser.post(&rp.app, &login, &[&form[..], &creds[..]].concat()).await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(!browser.jar.keys().any(|k| k.starts_with("__Host-op-") && !k.starts_with("__Host-op-csrf")));
    }
    // The page's form sent from another browser (no CSRF cookie): refused.
    let mut other = Jar::default();
    let form = [("request", request.as_str()), ("csrf_token", csrf.as_str())];
    assert_eq!(other.post(&rp.app, &login, &[&form[..], &creds[..]].concat()).await.status, 403);
    // The consent form, likewise.
    let consent = rp.sign_in(&mut browser, &page, PASSWORD).await;
    let consent_path = format!("{}/oauth/authorize/consent", rp.base);
    let r = browser
        .post(&rp.app, &consent_path, &[("request", &field(&consent, "request")), ("decision", "allow")])
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.header("location").is_none());
    // A consent page's request is for its user only: a login form's sealed request is not one.
    let r = browser
        .post(&rp.app, &consent_path, &[("request", &request), ("csrf_token", &csrf), ("decision", "allow")])
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test]
async fn a_user_lists_and_disconnects_apps_and_their_tokens_die_at_once() {
    let rp = rp(json!({})).await;
    let code = rp.code(&mut Jar::default(), &[]).await;
    let tokens = rp.exchange(&code).await;
    let access = tokens.body["access_token"].as_str().unwrap();
    let (session, _) = {
        let r = rp
            .app
            .post(&format!("{}/api/v1/auth/login", rp.base), json!({"email": rp.email, "password": PASSWORD}))
            .send()
            .await;
        (r.body["data"]["access_token"].as_str().unwrap().to_owned(), ())
    };
    let list = rp.app.get(&format!("{}/api/v1/auth/consents", rp.base)).bearer(&session).send().await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["data"]["consents"][0]["client_id"], rp.client_id.as_str());
    assert_eq!(list.body["data"]["consents"][0]["name"], "Photo Printer");
    // A third party never manages consents.
    let path = format!("{}/api/v1/auth/consents/{}", rp.base, rp.client_id);
    let r = rp.app.call("DELETE", &path).authorizer_context(json!({})).bearer(access).send().await;
    assert!(r.status == 401 || r.status == 403, "{}", r.text);
    let r = rp.app.call("DELETE", &path).bearer(&session).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(rp.userinfo(access).await.status, 401);
    assert_eq!(rp.introspect(access).await, json!({"active": false}));
    let refresh = tokens.body["refresh_token"].as_str().unwrap();
    assert_oauth_error(
        &rp.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await,
        400,
        "invalid_grant",
    );
    let list = rp.app.get(&format!("{}/api/v1/auth/consents", rp.base)).bearer(&session).send().await;
    assert_eq!(list.body["data"]["consents"], json!([]));
    rp.app.call("DELETE", &path).bearer(&session).send().await.assert_error(404, "not_found");
    let user = jwt_payload(access)["sub"].as_str().unwrap().to_owned();
    assert!(rp.audit_types(&user).await.iter().any(|t| t == "oauth_consent_revoked"));
}

#[tokio::test]
async fn a_first_party_client_skips_consent() {
    let rp = rp(json!({"first_party": true})).await;
    let mut browser = Jar::default();
    let page = rp.authorize(&mut browser, &[("scope", "openid")]).await;
    let back = location(&rp.sign_in(&mut browser, &page, PASSWORD).await);
    assert_eq!(rp.exchange(&back["code"]).await.status, 200);
    // prompt=consent still asks, first party or not.
    assert!(rp.authorize(&mut browser, &[("prompt", "consent")]).await.text.contains("Allow"));
    // More scopes later: still no page, and the connected app lists them.
    let back = location(
        &rp.authorize(&mut browser, &[("scope", "openid email offline_access"), ("prompt", "none")]).await,
    );
    assert!(back.contains_key("code"), "{back:?}");
}

#[tokio::test]
async fn rp_initiated_logout_ends_the_browser_session() {
    let rp = rp(json!({})).await;
    let mut browser = Jar::default();
    let code = rp.code(&mut browser, &[]).await;
    let id_token = rp.exchange(&code).await.body["id_token"].as_str().unwrap().to_owned();
    let logout = format!("{}/oauth/logout", rp.base);
    // Not a registered post-logout URI: an error page, and the session stays.
    let r = browser
        .get(
            &rp.app,
            &logout,
            &query(&[("id_token_hint", &id_token), ("post_logout_redirect_uri", "https://evil.example/")]),
        )
        .await;
    assert_error_page(&r);
    assert!(location(&rp.authorize(&mut browser, &[("prompt", "none")]).await).contains_key("code"));
    let r = browser
        .get(
            &rp.app,
            &logout,
            &query(&[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", "https://rp.example/bye"),
                ("state", "s1"),
            ]),
        )
        .await;
    assert_eq!(r.header("location"), Some("https://rp.example/bye?state=s1"));
    let back = location(&rp.authorize(&mut browser, &[("prompt", "none")]).await);
    assert_eq!(back["error"], "login_required");
    let signed_out = browser.get(&rp.app, &logout, "").await;
    assert_eq!(signed_out.status, 200);
    assert!(signed_out.text.contains("signed out"));
    // Without a hint for the signed-in user, any site could sign them out: the user is asked.
    let page = rp.authorize(&mut browser, &[]).await;
    let code = location(&rp.sign_in(&mut browser, &page, PASSWORD).await)["code"].clone();
    assert_eq!(rp.exchange(&code).await.status, 200);
    let asked = browser
        .get(
            &rp.app,
            &logout,
            &query(&[("client_id", &rp.client_id), ("post_logout_redirect_uri", "https://rp.example/bye")]),
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.text);
    assert!(asked.text.contains("Do you want to sign out"), "{}", asked.text);
    assert!(
        location(&rp.authorize(&mut browser, &[("prompt", "none")]).await).contains_key("code"),
        "still signed in"
    );
    let confirm = |csrf: String| {
        vec![
            ("csrf_token", csrf),
            ("client_id", field(&asked, "client_id")),
            ("post_logout_redirect_uri", field(&asked, "post_logout_redirect_uri")),
        ]
    };
    let forged: Vec<(String, String)> =
        confirm("forged".to_owned()).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let forged: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(browser.post(&rp.app, &logout, &forged).await.status, 403);
    let real: Vec<(String, String)> =
        confirm(field(&asked, "csrf_token")).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let real: Vec<(&str, &str)> = real.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let done = browser.post(&rp.app, &logout, &real).await;
    assert_eq!(done.header("location"), Some("https://rp.example/bye"));
    assert_eq!(location(&rp.authorize(&mut browser, &[("prompt", "none")]).await)["error"], "login_required");
}

#[tokio::test]
async fn the_authorization_endpoint_takes_its_parameters_as_a_form_too() {
    let rp = rp(json!({})).await;
    let mut browser = Jar::default();
    let params: Vec<(String, String)> = serde_urlencoded::from_str(&rp.request(&[])).unwrap();
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = browser.post(&rp.app, &format!("{}/oauth/authorize", rp.base), &params).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let consent = rp.sign_in(&mut browser, &page, PASSWORD).await;
    assert!(location(&rp.decide(&mut browser, &consent, "allow").await).contains_key("code"));
    // Signed in and consented: the form answers with a code at once.
    let again = browser.post(&rp.app, &format!("{}/oauth/authorize", rp.base), &params).await;
    assert_eq!(rp.exchange(&location(&again)["code"]).await.status, 200);
}

#[tokio::test]
async fn a_password_change_ends_the_users_grants() {
    let rp = rp(json!({})).await;
    let code = rp.code(&mut Jar::default(), &[]).await;
    let tokens = rp.exchange(&code).await;
    let access = tokens.body["access_token"].as_str().unwrap();
    assert_eq!(rp.userinfo(access).await.status, 200);
    let session = rp
        .app
        .post(&format!("{}/api/v1/auth/login", rp.base), json!({"email": rp.email, "password": PASSWORD}))
        .send()
        .await;
    let session = session.body["data"]["access_token"].as_str().unwrap().to_owned();
    let changed = rp
        .app
        .post(
            &format!("{}/api/v1/auth/password/change", rp.base),
            json!({"current_password": PASSWORD, "new_password": "Another-Kettle-77-Drift"}),
        )
        .bearer(&session)
        .send()
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(rp.userinfo(access).await.status, 401);
    assert_eq!(rp.introspect(access).await, json!({"active": false}));
    let refresh = tokens.body["refresh_token"].as_str().unwrap();
    assert_oauth_error(
        &rp.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn the_login_page_signs_in_with_the_apps_social_provider_and_comes_back_to_the_authorization() {
    let (app, github) = TestApp::with_github(&[]).await;
    let rp = rp_at(app, json!({})).await;
    let id = rp.base.trim_start_matches("/apps/").to_owned();
    let put = rp
        .app
        .call("PUT", &format!("/api/v1/console/apps/{id}/providers/github"))
        .json(json!({"client_id": "stand-in-client", "client_secret": "stand-in-secret"}))
        .bearer(&rp.dev)
        .send()
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    let mut browser = Jar::default();
    let page = rp.authorize(&mut browser, &[]).await;
    assert!(page.text.contains("Continue with GitHub"), "{}", page.text);
    let (request, csrf) = (field(&page, "request"), field(&page, "csrf_token"));
    let login = format!("{}/oauth/authorize/login", rp.base);
    let off = browser
        .post(&rp.app, &login, &[("request", &request), ("csrf_token", &csrf), ("method", "github")])
        .await;
    assert_eq!(off.status, 302, "{}", off.text);
    let to_github = off.header("location").unwrap().to_owned();
    assert!(to_github.starts_with(&github.github), "{to_github}");
    // GitHub signs the person in (the stand-in at once) and sends the browser to our callback.
    let newcomer = unique_email("octo");
    let mut url = url::Url::parse(&to_github).unwrap();
    url.query_pairs_mut().append_pair("login", &newcomer);
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let back = plain.get(url).send().await.unwrap();
    let callback = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    let r = browser.get(&rp.app, callback.path(), callback.query().unwrap()).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let cont = url::Url::parse(r.header("location").unwrap()).unwrap();
    assert_eq!(cont.path(), format!("{}/oauth/authorize/continue", rp.base));
    // Another browser cannot continue it: the pending authorization is this browser's.
    let elsewhere = Jar::default().get(&rp.app, cont.path(), cont.query().unwrap()).await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.text);
    // An attacker's own code, from a sign-in started through the API without this browser's
    // verifier, does not sign this browser in (login CSRF): the page asks again.
    let attacker = unique_email("attacker");
    let planted = rp
        .app
        .get(&format!("{}/api/v1/auth/oauth/github", rp.base))
        .query(&query(&[("redirect_to", &format!("https://auth.test{}", cont.path()))]))
        .send()
        .await;
    assert_eq!(planted.status, 302, "{}", planted.text);
    let mut url = url::Url::parse(planted.header("location").unwrap()).unwrap();
    url.query_pairs_mut().append_pair("login", &attacker);
    let back = plain.get(url).send().await.unwrap();
    let cb = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    let state = auth_tests::state_cookie(&planted);
    let r = rp.app.get(cb.path()).query(cb.query().unwrap()).header("cookie", &state).send().await;
    let attackers = url::Url::parse(r.header("location").unwrap()).unwrap();
    let refused = browser.get(&rp.app, attackers.path(), attackers.query().unwrap()).await;
    assert!(refused.text.contains("type=\"password\""), "{}", refused.text);
    assert!(!refused.text.contains(&attacker));
    // The browser's own sign-in, started again, continues.
    let page = rp.authorize(&mut browser, &[]).await;
    let (request, csrf) = (field(&page, "request"), field(&page, "csrf_token"));
    let off = browser
        .post(&rp.app, &login, &[("request", &request), ("csrf_token", &csrf), ("method", "github")])
        .await;
    let mut url = url::Url::parse(off.header("location").unwrap()).unwrap();
    url.query_pairs_mut().append_pair("login", &newcomer);
    let back = plain.get(url).send().await.unwrap();
    let callback = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    let r = browser.get(&rp.app, callback.path(), callback.query().unwrap()).await;
    let cont = url::Url::parse(r.header("location").unwrap()).unwrap();
    let consent = browser.get(&rp.app, cont.path(), cont.query().unwrap()).await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    assert!(consent.text.contains(&newcomer) && consent.text.contains("Allow"), "{}", consent.text);
    let code = location(&rp.decide(&mut browser, &consent, "allow").await)["code"].clone();
    let tokens = rp.exchange(&code).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert_eq!(jwt_payload(tokens.body["id_token"].as_str().unwrap())["email"], newcomer.as_str());
}

#[tokio::test]
async fn the_login_page_mails_a_magic_link_that_continues_the_authorization_in_the_same_browser() {
    let rp = rp(json!({})).await;
    let mut browser = Jar::default();
    let page = rp.authorize(&mut browser, &[]).await;
    let (request, csrf) = (field(&page, "request"), field(&page, "csrf_token"));
    let login = format!("{}/oauth/authorize/login", rp.base);
    let form = [
        ("request", request.as_str()),
        ("csrf_token", &csrf),
        ("method", "magic_link"),
        ("email", &rp.email),
    ];
    let sent = browser.post(&rp.app, &login, &form).await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert!(sent.text.contains("sign-in link is on its way"), "{}", sent.text);
    let token = rp.app.token_from_mail(&rp.email, "oauth/authorize/continue").await;
    let path = format!("{}/oauth/authorize/continue", rp.base);
    // Following the link (a mail scanner does) consumes nothing: it is a page with a button.
    let landing = browser.get(&rp.app, &path, &query(&[("token", &token)])).await;
    assert_eq!(landing.status, 200, "{}", landing.text);
    let landing = browser.get(&rp.app, &path, &query(&[("token", &token)])).await;
    assert!(landing.text.contains("Continue"), "{}", landing.text);
    // In another browser the link leads nowhere.
    assert_eq!(Jar::default().get(&rp.app, &path, &query(&[("token", &token)])).await.status, 400);
    let form = [
        ("request", field(&landing, "request")),
        ("csrf_token", field(&landing, "csrf_token")),
        ("method", field(&landing, "method")),
        ("token", field(&landing, "token")),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let consent = browser.post(&rp.app, &login, &form).await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    assert!(consent.text.contains("Allow"), "{}", consent.text);
    assert!(location(&rp.decide(&mut browser, &consent, "allow").await).contains_key("code"));
    // The link worked once.
    let again = browser.post(&rp.app, &login, &form).await;
    assert!(again.text.contains("invalid, expired or used"), "{}", again.text);
    // A link is bound to the browser that asked for it: one sent to someone else's browser (with
    // an authorization of its own in progress) does not sign that browser in, nor does the API.
    let form = [
        ("request", request.as_str()),
        ("csrf_token", &csrf),
        ("method", "magic_link"),
        ("email", &rp.email),
    ];
    browser.post(&rp.app, &login, &form).await;
    let token = rp.app.token_from_mail(&rp.email, "oauth/authorize/continue").await;
    let mut victim = Jar::default();
    let page = rp.authorize(&mut victim, &[]).await;
    let refused = rp.use_link(&mut victim, &page, &token).await;
    assert!(refused.text.contains("invalid, expired or used"), "{}", refused.text);
    let api = rp
        .app
        .post(&format!("{}/api/v1/auth/magic-link/verify", rp.base), json!({"token": token}))
        .send()
        .await;
    api.assert_error(400, "invalid_token");
    // A link asked for through the API (bound to no browser) signs no browser in at the login
    // page, whether the browser asked for a link of its own or not; the API still takes it.
    let r =
        rp.app.post(&format!("{}/api/v1/auth/magic-link", rp.base), json!({"email": rp.email})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let unbound = rp.app.token_from_mail(&rp.email, "magic-link").await;
    for jar in [&mut browser, &mut victim] {
        let page = rp.authorize(jar, &[("prompt", "login")]).await;
        let refused = rp.use_link(jar, &page, &unbound).await;
        assert!(refused.text.contains("invalid, expired or used"), "{}", refused.text);
    }
    let api = rp
        .app
        .post(&format!("{}/api/v1/auth/magic-link/verify", rp.base), json!({"token": unbound}))
        .send()
        .await;
    assert_eq!(api.status, 200, "{}", api.text);
}

#[tokio::test]
async fn the_login_pages_magic_link_counts_against_the_same_per_account_limit_as_the_api() {
    let app = TestApp::spawn_with(&[("RATE_LIMITS", "on")]).await;
    auth_tests::fresh_rate_window().await;
    let rp = rp_at(app, json!({})).await;
    let mut browser = Jar::default();
    let page = rp.authorize(&mut browser, &[]).await;
    let (request, csrf) = (field(&page, "request"), field(&page, "csrf_token"));
    let login = format!("{}/oauth/authorize/login", rp.base);
    let form = [
        ("request", request.as_str()),
        ("csrf_token", &csrf),
        ("method", "magic_link"),
        ("email", &rp.email),
    ];
    // Three links a minute per address (RATE_LIMIT_MAGIC_LINK), through the API or the page.
    for _ in 0..2 {
        let r = rp
            .app
            .post(&format!("{}/api/v1/auth/magic-link", rp.base), json!({"email": rp.email}))
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(browser.post(&rp.app, &login, &form).await.status, 200);
    let limited = browser.post(&rp.app, &login, &form).await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert!(limited.header("retry-after").is_some());
    assert!(limited.header("content-type").unwrap().starts_with("text/html"));
}

#[tokio::test]
async fn verify_token_shows_a_third_party_only_what_its_scopes_open() {
    let rp = rp(json!({})).await;
    let mut browser = Jar::default();
    let code = rp.code(&mut browser, &[("scope", "openid")]).await;
    let narrow = rp.exchange(&code).await.body["access_token"].as_str().unwrap().to_owned();
    let r = rp.app.get(&format!("{}/api/v1/auth/verify-token", rp.base)).bearer(&narrow).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let user = &r.body["data"]["user"];
    assert!(user["sub"].is_string(), "{}", r.text);
    assert!(user.get("email").is_none() && user.get("providers").is_none(), "{}", r.text);
    assert_eq!(r.body["data"]["client_id"], rp.client_id.as_str());
    // Asking for more shows the consent page again.
    let page = rp.authorize(&mut browser, &[("scope", "openid email")]).await;
    assert!(page.text.contains("See your email address") && page.text.contains("Allow"), "{}", page.text);
}

#[tokio::test]
async fn signing_out_everywhere_ends_the_browser_session_at_the_provider() {
    let rp = rp(json!({})).await;
    let mut browser = Jar::default();
    let _ = rp.code(&mut browser, &[]).await;
    assert!(location(&rp.authorize(&mut browser, &[("prompt", "none")]).await).contains_key("code"));
    let session = rp
        .app
        .post(&format!("{}/api/v1/auth/login", rp.base), json!({"email": rp.email, "password": PASSWORD}))
        .send()
        .await;
    let session = session.body["data"]["access_token"].as_str().unwrap().to_owned();
    let r = rp.app.call("DELETE", &format!("{}/api/v1/auth/sessions", rp.base)).bearer(&session).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(location(&rp.authorize(&mut browser, &[("prompt", "none")]).await)["error"], "login_required");
}

#[tokio::test]
async fn another_clients_token_introspects_inactive_unless_introspect_any_and_a_deleted_clients_always() {
    let rp = rp(json!({})).await;
    let code = rp.code(&mut Jar::default(), &[]).await;
    let refresh = rp.exchange(&code).await.body["refresh_token"].as_str().unwrap().to_owned();
    let id = rp.base.trim_start_matches("/apps/");
    let other = rp
        .app
        .post(
            &format!("/api/v1/console/apps/{id}/oauth-clients"),
            json!({"name": "Auditor", "redirect_uris": [REDIRECT]}),
        )
        .bearer(&rp.dev)
        .send()
        .await;
    let auditor = format!(
        "Basic {}",
        STANDARD.encode(format!(
            "{}:{}",
            other.body["data"]["client_id"].as_str().unwrap(),
            other.body["data"]["client_secret"].as_str().unwrap()
        ))
    );
    let introspect = || {
        rp.app
            .call("POST", &format!("{}/oauth/introspect", rp.base))
            .form(&[("token", &refresh)])
            .header("authorization", &auditor)
            .send()
    };
    // RFC 7662 section 4: a client learns nothing of another client's token...
    assert_eq!(introspect().await.body, json!({"active": false}));
    // ...unless the app marks it a resource server of its own.
    let auditor_id = other.body["data"]["client_id"].as_str().unwrap();
    let r = rp
        .app
        .call("PATCH", &format!("/api/v1/console/apps/{id}/oauth-clients/{auditor_id}"))
        .json(json!({"introspect_any": true}))
        .bearer(&rp.dev)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["introspect_any"], true);
    assert_eq!(introspect().await.body["active"], true);
    let path = format!("/api/v1/console/apps/{id}/oauth-clients/{}", rp.client_id);
    assert_eq!(rp.app.call("DELETE", &path).bearer(&rp.dev).send().await.status, 200);
    assert_eq!(introspect().await.body, json!({"active": false}));
}

/// OIDC Core 5.4: a third party's token reads at `GET /users/me` only what its consent page
/// named, in that route's field names.
#[tokio::test]
async fn users_me_shows_a_third_party_only_what_its_scopes_open() {
    let rp = rp(json!({})).await;
    let code = rp.code(&mut Jar::default(), &[("scope", "openid profile")]).await;
    let profile_only = rp.exchange(&code).await.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        jwt_payload(&profile_only)["aud"],
        format!("{}/oauth", rp.issuer()),
        "not a session's audience"
    );
    let r = rp.app.get(&format!("{}/api/v1/users/me", rp.base)).bearer(&profile_only).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me = r.body["data"].as_object().unwrap();
    assert!(me["id"].is_string(), "{}", r.text);
    assert!(me.contains_key("name") && me.contains_key("first_name"), "{}", r.text);
    for hidden in ["email", "email_verified", "providers", "company_name", "created_at"] {
        assert!(!me.contains_key(hidden), "{hidden} shown to an `openid profile` token: {}", r.text);
    }
    let code = rp.code(&mut Jar::default(), &[("scope", "openid profile email")]).await;
    let with_email = rp.exchange(&code).await.body["access_token"].as_str().unwrap().to_owned();
    let r = rp.app.get(&format!("{}/api/v1/users/me", rp.base)).bearer(&with_email).send().await;
    assert_eq!(r.body["data"]["email"], rp.email.as_str(), "{}", r.text);
    assert_eq!(r.body["data"]["email_verified"], true);
    assert!(r.body["data"].get("providers").is_none() && r.body["data"].get("created_at").is_none());
    // The user's own session still sees the whole profile.
    let session = rp
        .app
        .post(&format!("{}/api/v1/auth/login", rp.base), json!({"email": rp.email, "password": PASSWORD}))
        .send()
        .await;
    let session = session.body["data"]["access_token"].as_str().unwrap().to_owned();
    let r = rp.app.get(&format!("{}/api/v1/users/me", rp.base)).bearer(&session).send().await;
    assert!(r.body["data"]["providers"].is_array() && r.body["data"]["created_at"].is_string(), "{}", r.text);
}

/// RFC 9700 2.1.1: a confidential client registered now must send PKCE too, unless its
/// developer turns `require_pkce` off; a public client can never turn it off.
#[tokio::test]
async fn new_confidential_clients_require_pkce_unless_turned_off() {
    let rp = rp(json!({})).await;
    let id = rp.base.trim_start_matches("/apps/");
    let path = format!("/api/v1/console/apps/{id}/oauth-clients/{}", rp.client_id);
    let shown = rp.app.get(&path).bearer(&rp.dev).send().await;
    assert_eq!(shown.body["data"]["require_pkce"], true, "{}", shown.text);
    assert_eq!(shown.body["data"]["introspect_any"], false);
    let mut browser = Jar::default();
    let without = [("code_challenge", ""), ("code_challenge_method", "")];
    let back = location(&rp.authorize(&mut browser, &without).await);
    assert_eq!(back["error"], "invalid_request", "{back:?}");
    let r = rp.app.call("PATCH", &path).json(json!({"require_pkce": false})).bearer(&rp.dev).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let page = rp.authorize(&mut browser, &without).await;
    assert_eq!(page.status, 200, "the login page: PKCE is the client's choice now");
    // A public client cannot do without.
    let public = rp_at(rp.app, json!({"type": "public"})).await;
    let id = public.base.trim_start_matches("/apps/");
    let r = public
        .app
        .call("PATCH", &format!("/api/v1/console/apps/{id}/oauth-clients/{}", public.client_id))
        .json(json!({"require_pkce": false, "introspect_any": true}))
        .bearer(&public.dev)
        .send()
        .await;
    r.assert_error(400, "validation_failed");
    assert_eq!(
        r.body["error"]["fields"]["require_pkce"],
        json!(["public_clients_always_use_pkce"]),
        "{}",
        r.text
    );
}

/// A grant has an absolute lifetime from its consent (`OAUTH_GRANT_MAX_LIFETIME_SECONDS`), as a
/// session does: no token of it outlives that, and refresh rotation never carries it further.
#[tokio::test]
async fn refresh_rotation_never_extends_a_grant_past_its_absolute_lifetime() {
    let app = TestApp::spawn_with(&[("OAUTH_GRANT_MAX_LIFETIME_SECONDS", "4")]).await;
    let rp = rp_at(app, json!({})).await;
    let code = rp.code(&mut Jar::default(), &[]).await;
    let first = rp.exchange(&code).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let granted_at = jwt_payload(first.body["access_token"].as_str().unwrap())["iat"].as_i64().unwrap();
    let mut refresh = first.body["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let r = rp.token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        for token in ["access_token", "refresh_token"] {
            let exp = jwt_payload(r.body[token].as_str().unwrap())["exp"].as_i64().unwrap();
            assert!(exp <= granted_at + 5, "{token} outlives the grant: {exp} > {granted_at} + 4");
        }
        assert!(r.body["expires_in"].as_u64().unwrap() <= 4, "{}", r.text);
        refresh = r.body["refresh_token"].as_str().unwrap().to_owned();
    }
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let r = rp.token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

/// RFC 6750 2.2 (the OpenID conformance suite's `oidcc-userinfo-post-body`): `POST /oauth/userinfo`
/// takes the token as the form's `access_token` too; never from the query string, and never in
/// two ways at once.
#[tokio::test]
async fn userinfo_takes_the_token_in_a_posted_form_but_never_from_the_query() {
    let rp = rp(json!({})).await;
    let code = rp.code(&mut Jar::default(), &[]).await;
    let access = rp.exchange(&code).await.body["access_token"].as_str().unwrap().to_owned();
    let path = format!("{}/oauth/userinfo", rp.base);
    let r = rp.app.call("POST", &path).form(&[("access_token", access.as_str())]).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["email"], rp.email.as_str());
    let r = rp.app.call("POST", &path).bearer(&access).send().await;
    assert_eq!(r.status, 200, "the header alone: {}", r.text);
    let r =
        rp.app.call("POST", &path).form(&[("access_token", access.as_str())]).bearer(&access).send().await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"], "invalid_request");
    for method in ["GET", "POST"] {
        let r = rp.app.call(method, &path).query(&query(&[("access_token", &access)])).send().await;
        assert_eq!(r.status, 401, "{method} with the token in the query: {}", r.text);
        assert_eq!(r.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
    }
    let r = rp.app.call("POST", &path).form(&[("access_token", "garbage")]).send().await;
    assert_eq!(r.status, 401, "{}", r.text);
}
