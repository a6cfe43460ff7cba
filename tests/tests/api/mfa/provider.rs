//! The OAuth provider's login page asks for the second factor on a page of its own, steps a
//! one-factor browser session up for `acr_values=aal2`, and puts `amr` and `acr` in the ID token.

use auth_tests::{Jar, PASSWORD, TestResponse, jwt_payload};
use serde_json::json;

use super::{code, enrolled_totp};
use crate::provider::authorize::{Rp, field, location, rp};

/// A relying party of an app with `mfa: optional`, and a TOTP factor of its user: (rp, secret).
async fn rp_with_factor() -> (Rp, String) {
    let rp = mfa_rp().await;
    let secret = enrolled_totp(&rp.app, &rp.base, &rp.email).await;
    (rp, secret)
}

async fn mfa_rp() -> Rp {
    let rp = rp(json!({})).await;
    let id = rp.base.trim_start_matches("/apps/");
    let r = rp
        .app
        .call("PATCH", &format!("/api/v1/console/apps/{id}"))
        .json(json!({"mfa": "optional"}))
        .bearer(&rp.dev)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    rp
}

async fn answer(rp: &Rp, browser: &mut Jar, page: &TestResponse, pairs: &[(&str, &str)]) -> TestResponse {
    let (request, csrf, token) =
        (field(page, "request"), field(page, "csrf_token"), field(page, "mfa_token"));
    let mut form = vec![
        ("request", request.as_str()),
        ("csrf_token", csrf.as_str()),
        ("method", "second_factor"),
        ("mfa_token", token.as_str()),
    ];
    form.extend_from_slice(pairs);
    browser.post(&rp.app, &format!("{}/oauth/authorize/login", rp.base), &form).await
}

#[tokio::test]
async fn the_login_page_asks_for_the_code_after_the_password_and_the_id_token_says_aal2() {
    let (rp, secret) = rp_with_factor().await;
    let mut browser = Jar::default();
    let page = rp.authorize(&mut browser, &[]).await;
    let second = rp.sign_in(&mut browser, &page, PASSWORD).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert!(second.text.contains("Two-step verification"), "{}", second.text);
    assert!(second.text.contains("autocomplete=\"one-time-code\""));
    assert!(second.text.contains("Use a recovery code"));
    assert!(
        !browser.jar.keys().any(|k| k.starts_with("__Host-op-session")),
        "no session before the factor: {:?}",
        browser.jar
    );
    let csp = second.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe"), "{csp}");

    let wrong = if code(&secret, 1) == "000000" { "111111" } else { "000000" };
    let again = answer(&rp, &mut browser, &second, &[("code", wrong)]).await;
    assert_eq!(again.status, 401, "{}", again.text);
    assert!(again.text.contains("not right"), "{}", again.text);
    let consent = answer(&rp, &mut browser, &again, &[("code", &code(&secret, 1))]).await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    assert!(consent.text.contains("Allow"), "{}", consent.text);
    let back = location(&rp.decide(&mut browser, &consent, "allow").await);
    let tokens = rp.exchange(&back["code"]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let id = jwt_payload(tokens.body["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], "aal2", "{id}");
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));
    // The code of the second step is spent: a replay on a new sign-in is refused.
    let mut other = Jar::default();
    let page = rp.authorize(&mut other, &[("prompt", "login")]).await;
    let second = rp.sign_in(&mut other, &page, PASSWORD).await;
    let replay = answer(&rp, &mut other, &second, &[("code", &code(&secret, 1))]).await;
    assert_eq!(replay.status, 401, "{}", replay.text);
}

#[tokio::test]
async fn acr_values_aal2_steps_a_one_factor_browser_session_up() {
    let rp = mfa_rp().await;
    let mut browser = Jar::default();
    // Signed in with the password alone (no factor yet), consented.
    let page = rp.authorize(&mut browser, &[]).await;
    let consent = rp.sign_in(&mut browser, &page, PASSWORD).await;
    let back = location(&rp.decide(&mut browser, &consent, "allow").await);
    let id = jwt_payload(rp.exchange(&back["code"]).await.body["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], "aal1");
    assert_eq!(id["amr"], json!(["pwd"]));
    // No factor to give: the client hears so.
    let unmet = location(&rp.authorize(&mut browser, &[("acr_values", "aal2")]).await);
    assert_eq!(unmet["error"], "unmet_authentication_requirements", "{unmet:?}");
    let none = location(&rp.authorize(&mut browser, &[("acr_values", "aal2"), ("prompt", "none")]).await);
    assert_eq!(none["error"], "interaction_required", "{none:?}");

    // With a factor, the same browser is asked for it, and only for it.
    let secret = enrolled_totp(&rp.app, &rp.base, &rp.email).await;
    let step_up = rp.authorize(&mut browser, &[("acr_values", "aal2")]).await;
    assert_eq!(step_up.status, 200, "{}", step_up.text);
    assert!(step_up.text.contains("Two-step verification"), "{}", step_up.text);
    let done = location(&answer(&rp, &mut browser, &step_up, &[("code", &code(&secret, 1))]).await);
    let id = jwt_payload(rp.exchange(&done["code"]).await.body["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], "aal2", "{id}");
    // The raised session serves the next aal2 request without asking.
    let next = location(&rp.authorize(&mut browser, &[("acr_values", "aal2")]).await);
    assert!(next.contains_key("code"), "{next:?}");
    let discovery = rp.app.get(&format!("{}/.well-known/openid-configuration", rp.base)).send().await;
    assert_eq!(discovery.body["acr_values_supported"], json!(["aal1", "aal2"]));
}
