//! A real relying party against the app's OAuth provider served over HTTP: panva's certified
//! `openid-client` (discovery, PKCE, state, nonce, the code exchange with the ID token's and
//! RFC 9207's checks, userinfo, refresh, introspection, revocation, RP-initiated logout), with
//! `playwright-core` driving Debian's Chromium through the login and consent pages. The script is
//! `tests/rp/rp.mjs`; `make test` installs its packages (`npm ci`) and Chromium (apt).
//!
//! It runs twice: against the API served in-process over HTTP (fast, and `RP_SCREENSHOTS=<dir>`
//! saves the pages' screenshots there, as `docs/` keeps them), and against `make dev`'s way of
//! serving it, `cargo lambda watch` with each function its own process under the emulated Lambda
//! runtime.

use auth_tests::browser;
use auth_tests::{PASSWORD, TestApp, unique_email};
use authctl::repo_root;
use serde_json::{Value, json};

#[tokio::test]
async fn openid_client_signs_a_user_in_through_the_pages_in_chromium() {
    let (listener, base) = browser::listener().await;
    // With GitHub (its stand-in) configured for the app, so the login page offers it too.
    let (app, _github) = TestApp::with_github(&[("JWT_ISSUER", base.as_str())]).await;
    let _served = browser::serve(app.app.clone(), listener);
    relying_party(&app, &base).await;
}

#[tokio::test]
async fn openid_client_signs_a_user_in_through_cargo_lambda_watch() {
    let port = authctl::moto::free_port().expect("a free port");
    let base = format!("http://127.0.0.1:{port}");
    let (app, _github) = TestApp::with_github(&[("JWT_ISSUER", base.as_str())]).await;
    let _watch = crate::cross::smoke::start_watch(&app, port);
    crate::cross::smoke::wait_until_up(&base).await;
    relying_party(&app, &base).await;
}

/// A developer, an app with GitHub sign-in, a confidential client and a verified user, set up
/// through the API in-process (the same table), then `rp.mjs` against the API at `base`.
async fn relying_party(app: &TestApp, base: &str) {
    let dev = app.developer(&unique_email("dev")).await;
    // The relying party's server (in rp.mjs) on a loopback port of its own.
    let rp_base = format!("http://127.0.0.1:{}", authctl::moto::free_port().expect("a free port"));
    let (callback, signed_out) = (format!("{rp_base}/callback"), format!("{rp_base}/signed-out"));
    // The app asks its users for a second factor; this one has a TOTP app.
    let id = app.create_app(&dev, json!({"name": "Acme Photos", "mfa": "optional"})).await;
    let r = app
        .post(
            &format!("/api/v1/console/apps/{id}/oauth-clients"),
            json!({
                "name": "Print Studio",
                "redirect_uris": [callback],
                "post_logout_redirect_uris": [signed_out],
                "scopes": ["openid", "profile", "email", "offline_access"],
            }),
        )
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let put = app
        .call("PUT", &format!("/api/v1/console/apps/{id}/providers/github"))
        .json(json!({"client_id": "stand-in-client", "client_secret": "stand-in-secret"}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    let client_id = r.body["data"]["client_id"].as_str().unwrap().to_owned();
    let secret = r.body["data"]["client_secret"].as_str().unwrap().to_owned();
    let email = unique_email("rp-user");
    let user_id = app.verified_user_at(&format!("/apps/{id}"), &email).await;
    let totp_secret = crate::mfa::enrolled_totp(app, &format!("/apps/{id}"), &email).await;
    let issuer = format!("{base}/apps/{id}");

    let rp = repo_root().join("tests/rp");
    let mut node = tokio::process::Command::new("node");
    node.arg(rp.join("rp.mjs"))
        .current_dir(&rp)
        .env("RP_ISSUER", &issuer)
        .env("RP_CLIENT_ID", &client_id)
        .env("RP_CLIENT_SECRET", &secret)
        .env("RP_REDIRECT_URI", &callback)
        .env("RP_POST_LOGOUT_URI", &signed_out)
        .env("RP_EMAIL", &email)
        .env("RP_PASSWORD", PASSWORD)
        .env("RP_TOTP_SECRET", &totp_secret);
    let out = tokio::time::timeout(std::time::Duration::from_secs(300), node.output())
        .await
        .expect("the relying party finishes within five minutes")
        .expect("node runs (make test installs tests/rp's packages)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "rp.mjs failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("one JSON line");

    assert_eq!(seen["login_status"], 200);
    assert!(seen["login_csp"].as_str().unwrap().contains("frame-ancestors 'none'"), "{seen}");
    assert_eq!(seen["login_frame_options"], "DENY");
    assert_eq!(seen["email_prefilled"], email.as_str(), "login_hint");
    assert_eq!(seen["offers_github"], true);
    let consent = seen["consent_text"].as_str().unwrap();
    for words in ["Print Studio", "Acme Photos", "See your email address", "Stay connected"] {
        assert!(consent.contains(words), "{words} in {consent}");
    }
    assert_eq!(seen["sub"], user_id.as_str());
    assert_eq!(seen["id_token_aud"], client_id.as_str());
    assert!(seen["id_token_nonce"].is_string());
    let second = seen["second_factor_text"].as_str().unwrap();
    assert!(second.contains("Two-step verification") && second.contains("Recovery code"), "{second}");
    assert_eq!(seen["id_token_acr"], "aal2", "{seen}");
    assert_eq!(seen["id_token_amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(seen["callback_iss"], issuer.as_str());
    assert_eq!(seen["scope"], "openid profile email offline_access");
    assert_eq!(seen["userinfo_email"], email.as_str());
    assert_eq!(seen["userinfo_email_verified"], true);
    assert_eq!(seen["refresh_rotated"], true);
    assert_eq!(seen["introspection_active"], true);
    assert_eq!(seen["introspection_sub"], user_id.as_str());
    assert_eq!(seen["old_refresh"], "invalid_grant");
    assert_eq!(seen["after_revocation_active"], false);
    assert_eq!(seen["logout_state"], "bye");
    assert_eq!(seen["login_again"], true);
}
