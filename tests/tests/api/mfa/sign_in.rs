//! The second step of a sign-in, its rules (single use, limits, one app), step-up and the claims.

use auth_tests::{TestApp, jwt_payload};
use serde_json::json;

use super::{app_with, code, login, refresh, totp_factor, user, verify};

#[tokio::test]
async fn a_user_with_a_factor_signs_in_in_two_steps_and_the_tokens_say_aal2() {
    let t = TestApp::spawn().await;
    let (_, base) = app_with(&t, json!({"mfa": "optional"})).await;
    let (email, access, _) = user(&t, &base).await;
    assert_eq!(jwt_payload(&access)["acr"], "aal1");
    assert_eq!(jwt_payload(&access)["amr"], json!(["pwd"]));
    let (factor, secret, _) = totp_factor(&t, &base, &access).await;

    let first = login(&t, &base, &email).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let data = &first.body["data"];
    assert_eq!(data["mfa_required"], true);
    assert!(data.get("access_token").is_none() && data.get("refresh_token").is_none(), "{}", first.text);
    assert_eq!(data["factors"][0], json!({"id": factor, "type": "totp", "name": "Phone"}));
    assert_eq!(data["factors"][1], json!({"type": "recovery_code"}));
    assert_eq!(first.header("cache-control"), Some("no-store"));
    let token = data["mfa_token"].as_str().unwrap().to_owned();

    let challenge = t
        .post(&format!("{base}/api/v1/auth/mfa/challenge"), json!({"mfa_token": token, "factor_id": factor}))
        .send()
        .await;
    assert_eq!(challenge.status, 200, "{}", challenge.text);
    assert_eq!(challenge.body["data"]["type"], "totp");

    // The confirmation spent this step's code: the next step's (one step of drift) signs in.
    let (r, calls) = t
        .counted(t.post(
            &format!("{base}/api/v1/auth/mfa/verify"),
            json!({"mfa_token": token, "factor_id": factor, "code": code(&secret, 1)}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(calls.len() <= 3, "mfa/verify: {calls:?}");
    let claims = jwt_payload(r.body["data"]["access_token"].as_str().unwrap());
    assert_eq!(claims["acr"], "aal2");
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert!((claims["auth_time"].as_i64().unwrap() - chrono::Utc::now().timestamp()).abs() < 60);
    let refreshed = refresh(&t, &base, r.body["data"]["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    assert_eq!(
        jwt_payload(refreshed.body["data"]["access_token"].as_str().unwrap())["acr"],
        "aal2",
        "a refresh keeps it"
    );

    // The token is single use; the code too, in another sign-in.
    verify(&t, &base, json!({"mfa_token": token, "factor_id": factor, "code": code(&secret, 1)}))
        .await
        .assert_error(400, "invalid_token");
    let again = login(&t, &base, &email).await.body["data"]["mfa_token"].as_str().unwrap().to_owned();
    verify(&t, &base, json!({"mfa_token": again, "factor_id": factor, "code": code(&secret, 1)}))
        .await
        .assert_error(401, "invalid_mfa_code");
    verify(&t, &base, json!({"mfa_token": again, "factor_id": factor, "code": code(&secret, 0)}))
        .await
        .assert_error(401, "invalid_mfa_code");
    // Neither token nor session: nobody to sign in.
    verify(&t, &base, json!({"factor_id": factor, "code": "123456"}))
        .await
        .assert_error(400, "validation_failed");
}

#[tokio::test]
async fn wrong_codes_are_limited_per_user_and_an_mfa_token_works_at_its_own_app_only() {
    let t = TestApp::spawn().await;
    let (_, base) = app_with(&t, json!({"mfa": "optional"})).await;
    let (email, access, _) = user(&t, &base).await;
    let (factor, secret, _) = totp_factor(&t, &base, &access).await;
    let token = login(&t, &base, &email).await.body["data"]["mfa_token"].as_str().unwrap().to_owned();

    // At another app the token names nobody.
    let (_, other) = app_with(&t, json!({"mfa": "optional"})).await;
    verify(&t, &other, json!({"mfa_token": token, "factor_id": factor, "code": code(&secret, 1)}))
        .await
        .assert_error(400, "invalid_token");
    verify(&t, "", json!({"mfa_token": token, "factor_id": factor, "code": code(&secret, 1)}))
        .await
        .assert_error(400, "invalid_token");

    // Wrong codes count in five-minute windows: all of these in one.
    let into = chrono::Utc::now().timestamp() % 300;
    if into > 285 {
        tokio::time::sleep(std::time::Duration::from_secs((301 - into) as u64)).await;
    }
    let right = code(&secret, 1);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    // Five guesses in parallel: each is counted before it is checked.
    let guesses =
        (0..5).map(|_| verify(&t, &base, json!({"mfa_token": token, "factor_id": factor, "code": wrong})));
    for r in futures::future::join_all(guesses).await {
        r.assert_error(401, "invalid_mfa_code");
    }
    let limited = verify(&t, &base, json!({"mfa_token": token, "factor_id": factor, "code": right})).await;
    limited.assert_error(429, "rate_limited");
    assert!(limited.header("retry-after").is_some());
    // The user's count holds for a new sign-in too.
    let fresh = login(&t, &base, &email).await.body["data"]["mfa_token"].as_str().unwrap().to_owned();
    verify(&t, &base, json!({"mfa_token": fresh, "recovery_code": "aaaa-bbbb-cccc"}))
        .await
        .assert_error(429, "rate_limited");
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let t = TestApp::spawn().await;
    let (_, base) = app_with(&t, json!({"mfa": "optional"})).await;
    let (email, access, _) = user(&t, &base).await;
    let (_, _, confirmed) = totp_factor(&t, &base, &access).await;
    let code = confirmed.body["data"]["recovery_codes"][3].as_str().unwrap().to_uppercase();
    let token = login(&t, &base, &email).await.body["data"]["mfa_token"].as_str().unwrap().to_owned();
    let (r, calls) = t
        .counted(t.post(
            &format!("{base}/api/v1/auth/mfa/verify"),
            json!({"mfa_token": token, "recovery_code": code}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(calls.len() <= 3, "the notice rides on the sign-in's write: {calls:?}");
    assert_eq!(jwt_payload(r.body["data"]["access_token"].as_str().unwrap())["acr"], "aal2");
    let token = login(&t, &base, &email).await.body["data"]["mfa_token"].as_str().unwrap().to_owned();
    verify(&t, &base, json!({"mfa_token": token, "recovery_code": code}))
        .await
        .assert_error(401, "invalid_mfa_code");
    t.deliver_mail().await;
    let mails = t.sent_mails_to(&email).await;
    let used =
        mails.iter().find(|m| m.subject.contains("recovery code of your account was used")).expect("notice");
    assert!(used.body.contains("9 unused codes"), "{}", used.body);
}

#[tokio::test]
async fn a_session_steps_up_with_a_factor_and_the_authorizer_passes_acr() {
    let t = TestApp::spawn().await;
    let (_, base) = app_with(&t, json!({"mfa": "optional"})).await;
    let (_, access, old_refresh) = user(&t, &base).await;
    let (factor, secret, _) = totp_factor(&t, &base, &access).await;
    let app = t.app.clone();
    let path = format!("{base}/api/v1/users/me");
    let decision = |token: String| {
        let event = auth_tests::authorizer_event_at(&path, Some(&format!("Bearer {token}")));
        let app = app.clone();
        async move { functions::events::authorizer::handle(&app, event).await }
    };
    let before = decision(access.clone()).await;
    assert_eq!(before.context["acr"], "aal1", "{:?}", before.context);

    let r = t
        .post(
            &format!("{base}/api/v1/auth/mfa/verify"),
            json!({"factor_id": factor, "code": code(&secret, 1)}),
        )
        .bearer(&access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let raised = r.body["data"]["access_token"].as_str().unwrap().to_owned();
    let claims = jwt_payload(&raised);
    assert_eq!(claims["acr"], "aal2");
    assert_eq!(claims["sid"], jwt_payload(&access)["sid"], "the same session");
    let after = decision(raised).await;
    assert_eq!(after.context["acr"], "aal2", "{:?}", after.context);
    assert_eq!(after.context["amr"], "pwd otp mfa");
    assert!(after.context["auth_time"].as_i64().is_some());
    // The pair the step-up replaced is spent.
    assert_eq!(refresh(&t, &base, &old_refresh).await.status, 401);
    let next = refresh(&t, &base, r.body["data"]["refresh_token"].as_str().unwrap()).await;
    assert_eq!(jwt_payload(next.body["data"]["access_token"].as_str().unwrap())["acr"], "aal2");
}

#[tokio::test]
async fn a_magic_link_sign_in_asks_for_the_factor_too() {
    let t = TestApp::spawn().await;
    let (_, base) = app_with(&t, json!({"mfa": "optional"})).await;
    let (email, access, _) = user(&t, &base).await;
    let (factor, secret, _) = totp_factor(&t, &base, &access).await;
    let asked = t.post(&format!("{base}/api/v1/auth/magic-link"), json!({"email": email})).send().await;
    assert_eq!(asked.status, 200, "{}", asked.text);
    let link = t.token_from_mail(&email, "magic-link").await;
    let r = t.post(&format!("{base}/api/v1/auth/magic-link/verify"), json!({"token": link})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["mfa_required"], true, "{}", r.text);
    let token = r.body["data"]["mfa_token"].as_str().unwrap();
    let done =
        verify(&t, &base, json!({"mfa_token": token, "factor_id": factor, "code": code(&secret, 1)})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(
        jwt_payload(done.body["data"]["access_token"].as_str().unwrap())["amr"],
        json!(["email", "otp", "mfa"])
    );
}

#[tokio::test]
async fn guesses_with_a_made_up_token_count_for_nothing() {
    let t = TestApp::spawn().await;
    let (_, base) = app_with(&t, json!({"mfa": "optional"})).await;
    let (email, access, _) = user(&t, &base).await;
    let (factor, secret, _) = totp_factor(&t, &base, &access).await;
    let user_id = jwt_payload(&access)["sub"].as_str().unwrap().to_owned();
    // Whoever knows the user's id (an ID token's `sub`) but not the password makes up tokens.
    for _ in 0..8 {
        let forged = format!("{user_id}.{}", shared::crypto::new_token().0);
        verify(&t, &base, json!({"mfa_token": forged, "recovery_code": "2222-2222-2222"}))
            .await
            .assert_error(400, "invalid_token");
    }
    let token = login(&t, &base, &email).await.body["data"]["mfa_token"].as_str().unwrap().to_owned();
    let r =
        verify(&t, &base, json!({"mfa_token": token, "factor_id": factor, "code": code(&secret, 1)})).await;
    assert_eq!(r.status, 200, "the user is not locked out: {}", r.text);
}
