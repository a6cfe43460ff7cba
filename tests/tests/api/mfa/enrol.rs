//! Enrolling, listing and removing factors, recovery codes, and what a change needs.

use auth_tests::{TestApp, jwt_payload};
use serde_json::json;

use super::{app_with, code, totp_factor, user};

#[tokio::test]
async fn a_totp_app_is_confirmed_by_its_first_code_and_the_first_factor_brings_ten_codes_once() {
    let t = TestApp::spawn().await;
    let (_, base) = app_with(&t, json!({"mfa": "optional"})).await;
    let (email, access, _) = user(&t, &base).await;
    let r = t
        .post(&format!("{base}/api/v1/auth/mfa/totp"), json!({"name": "Phone"}))
        .bearer(&access)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let factor = r.body["data"]["factor_id"].as_str().unwrap().to_owned();
    let secret = r.body["data"]["secret"].as_str().unwrap().to_owned();
    let uri = r.body["data"]["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Test%20app:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert_eq!(secret.len(), 32, "160 bits in base32");

    // Pending: not listed, and no sign-in asks for it.
    let list = t.get(&format!("{base}/api/v1/auth/mfa/factors")).bearer(&access).send().await;
    assert_eq!(list.body["data"]["factors"], json!([]), "{}", list.text);
    let confirm = |c: String| {
        t.post(&format!("{base}/api/v1/auth/mfa/totp/{factor}/confirm"), json!({"code": c}))
            .bearer(&access)
            .send()
    };
    let wrong = if code(&secret, 0) == "000000" { "111111" } else { "000000" };
    confirm(wrong.to_owned()).await.assert_error(401, "invalid_mfa_code");
    let ok = confirm(code(&secret, 0)).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let codes = ok.body["data"]["recovery_codes"].as_array().expect("codes").clone();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.as_str().unwrap().len() == 14), "{codes:?}");
    assert_eq!(ok.body["data"]["factor"]["type"], "totp");
    confirm(code(&secret, 0)).await.assert_error(404, "not_found");

    let list = t.get(&format!("{base}/api/v1/auth/mfa/factors")).bearer(&access).send().await;
    let factors = list.body["data"]["factors"].as_array().unwrap();
    assert_eq!(factors.len(), 1, "{}", list.text);
    assert_eq!(factors[0]["id"], factor.as_str());
    assert_eq!(factors[0]["name"], "Phone");
    assert!(factors[0]["created_at"].is_string() && factors[0]["last_used_at"].is_string());
    assert!(!list.text.contains(&secret), "the secret is shown once");

    // The second factor brings no new codes.
    let (_, _, second) = totp_factor(&t, &base, &access).await;
    assert!(second.body["data"].get("recovery_codes").is_none(), "{}", second.text);
    t.deliver_mail().await;
    let mails = t.sent_mails_to(&email).await;
    assert_eq!(mails.iter().filter(|m| m.subject.contains("second factor was added")).count(), 2);
}

#[tokio::test]
async fn changing_factors_needs_a_sign_in_of_the_last_ten_minutes() {
    let t = TestApp::spawn().await;
    let (_, base) = app_with(&t, json!({"mfa": "optional"})).await;
    let (_, access, _) = user(&t, &base).await;
    let (factor, _, _) = totp_factor(&t, &base, &access).await;
    // The session as the authorizer hands it over, signed in an hour ago.
    let claims = jwt_payload(&access);
    let context = json!({
        "auth_kind": "session", "user_id": claims["sub"], "tenant_id": claims["tid"],
        "session_id": claims["sid"], "scopes": "read write", "expires_at": claims["exp"],
        "acr": "aal1", "amr": "pwd", "auth_time": chrono::Utc::now().timestamp() - 3600,
    });
    let stale = |method: &str, path: String, body| {
        t.call(method, &path).json(body).authorizer_context(context.clone()).send()
    };
    let r = stale("DELETE", format!("{base}/api/v1/auth/mfa/factors/{factor}"), json!({})).await;
    r.assert_error(401, "reauthentication_required");
    assert!(r.header("www-authenticate").unwrap().contains("insufficient_user_authentication"));
    stale("POST", format!("{base}/api/v1/auth/mfa/totp"), json!({"name": "x"}))
        .await
        .assert_error(401, "reauthentication_required");
    stale("POST", format!("{base}/api/v1/auth/mfa/recovery-codes"), json!({}))
        .await
        .assert_error(401, "reauthentication_required");
    // Listing needs none.
    assert_eq!(stale("GET", format!("{base}/api/v1/auth/mfa/factors"), json!({})).await.status, 200);
}

#[tokio::test]
async fn a_removed_factor_is_gone_and_new_recovery_codes_replace_the_old_set() {
    let t = TestApp::spawn().await;
    let (_, base) = app_with(&t, json!({"mfa": "optional"})).await;
    let (email, access, _) = user(&t, &base).await;
    // No factor: nothing to recover.
    let none =
        t.post(&format!("{base}/api/v1/auth/mfa/recovery-codes"), json!({})).bearer(&access).send().await;
    none.assert_error(409, "conflict");
    let (factor, _, confirmed) = totp_factor(&t, &base, &access).await;
    let old: Vec<String> = confirmed.body["data"]["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let fresh =
        t.post(&format!("{base}/api/v1/auth/mfa/recovery-codes"), json!({})).bearer(&access).send().await;
    assert_eq!(fresh.status, 201, "{}", fresh.text);
    let new = fresh.body["data"]["recovery_codes"].as_array().unwrap();
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !old.contains(&c.as_str().unwrap().to_owned())));

    // An old code no longer works; a new one does.
    let login = super::login(&t, &base, &email).await;
    let token = login.body["data"]["mfa_token"].as_str().unwrap().to_owned();
    super::verify(&t, &base, json!({"mfa_token": token, "recovery_code": old[0]}))
        .await
        .assert_error(401, "invalid_mfa_code");
    let used = super::verify(&t, &base, json!({"mfa_token": token, "recovery_code": new[0]})).await;
    assert_eq!(used.status, 200, "{}", used.text);

    let removed =
        t.call("DELETE", &format!("{base}/api/v1/auth/mfa/factors/{factor}")).bearer(&access).send().await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    let again =
        t.call("DELETE", &format!("{base}/api/v1/auth/mfa/factors/{factor}")).bearer(&access).send().await;
    again.assert_error(404, "not_found");
    let list = t.get(&format!("{base}/api/v1/auth/mfa/factors")).bearer(&access).send().await;
    assert_eq!(list.body["data"]["factors"], json!([]));
    t.deliver_mail().await;
    let subjects: Vec<String> = t.sent_mails_to(&email).await.into_iter().map(|m| m.subject).collect();
    for wanted in [
        "second factor was added",
        "New recovery codes",
        "recovery code of your account was used",
        "second factor was removed",
    ] {
        assert!(subjects.iter().any(|s| s.contains(wanted)), "{wanted}: {subjects:?}");
    }
}

#[tokio::test]
async fn an_app_without_mfa_offers_none_and_bad_input_is_named() {
    let t = TestApp::spawn().await;
    let (access, _) = t.logged_in(&auth_tests::unique_email("no-mfa")).await;
    t.post("/api/v1/auth/mfa/totp", json!({"name": "Phone"}))
        .bearer(&access)
        .send()
        .await
        .assert_error(403, "forbidden");
    let (_, base) = app_with(&t, json!({"mfa": "optional", "mfa_methods": ["recovery_code"]})).await;
    let (_, access, _) = user(&t, &base).await;
    t.post(&format!("{base}/api/v1/auth/mfa/totp"), json!({"name": "Phone"}))
        .bearer(&access)
        .send()
        .await
        .assert_error(403, "forbidden");
    let (_, base) = app_with(&t, json!({"mfa": "optional"})).await;
    let (_, access, _) = user(&t, &base).await;
    let r = t
        .post(&format!("{base}/api/v1/auth/mfa/totp"), json!({"name": "x".repeat(65)}))
        .bearer(&access)
        .send()
        .await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["name"], json!(["too_long"]));
    let r = t.post(&format!("{base}/api/v1/auth/mfa/totp"), json!({})).bearer(&access).send().await;
    assert_eq!(r.body["error"]["fields"]["name"], json!(["required"]), "{}", r.text);
    let r = t
        .post(&format!("{base}/api/v1/auth/mfa/totp/not%23an-id/confirm"), json!({"code": "123456"}))
        .bearer(&access)
        .send()
        .await;
    r.assert_error(404, "not_found");
    t.post(&format!("{base}/api/v1/auth/mfa/totp"), json!({"name": "x"}))
        .send()
        .await
        .assert_error(401, "unauthorized");
    // The settings' own rules.
    let (developer, base) = app_with(&t, json!({})).await;
    let id = base.trim_start_matches("/apps/");
    let r = t
        .call("PATCH", &format!("/api/v1/console/apps/{id}"))
        .json(json!({"mfa": "always", "webauthn_rp_id": "127.0.0.1", "webauthn_origins": ["https://x.example"]}))
        .bearer(&developer)
        .send()
        .await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["mfa"], json!(["must_be_off_optional_or_required"]), "{}", r.text);
    assert_eq!(r.body["error"]["fields"]["webauthn_rp_id"], json!(["no_ip_address"]));
    let shown = t.get(&format!("/api/v1/console/apps/{id}")).bearer(&developer).send().await;
    assert_eq!(shown.body["data"]["settings"]["mfa"], "off", "{}", shown.text);
    assert_eq!(shown.body["data"]["settings"]["mfa_methods"], json!(["totp", "webauthn", "recovery_code"]));
}
