//! `mfa: required`: enrolment before the first token, the last factor kept, the backend's reset.

use auth_tests::{TestApp, jwt_payload, unique_email};
use serde_json::json;

use super::{app_with, code, login, verify};

#[tokio::test]
async fn an_app_that_requires_a_factor_has_its_users_enrol_before_the_first_token() {
    let t = TestApp::spawn().await;
    let (developer, base) = app_with(&t, json!({"mfa": "required"})).await;
    let email = unique_email("must-enrol");
    let user_id = t.verified_user_at(&base, &email).await;

    let first = login(&t, &base, &email).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["data"]["mfa_required"], true);
    assert_eq!(first.body["data"]["enrolment_required"], true);
    assert_eq!(first.body["data"]["factors"], json!([]));
    assert!(first.body["data"].get("access_token").is_none());
    let token = first.body["data"]["mfa_token"].as_str().unwrap().to_owned();
    // The token is no session.
    t.get(&format!("{base}/api/v1/users/me")).bearer(&token).send().await.assert_error(401, "unauthorized");
    t.get(&format!("{base}/api/v1/auth/mfa/factors"))
        .bearer(&token)
        .send()
        .await
        .assert_error(401, "unauthorized");

    let enrolled = t
        .post(&format!("{base}/api/v1/auth/mfa/totp"), json!({"name": "Phone", "mfa_token": token}))
        .send()
        .await;
    assert_eq!(enrolled.status, 201, "{}", enrolled.text);
    let factor = enrolled.body["data"]["factor_id"].as_str().unwrap().to_owned();
    let secret = enrolled.body["data"]["secret"].as_str().unwrap().to_owned();
    let confirmed = t
        .post(
            &format!("{base}/api/v1/auth/mfa/totp/{factor}/confirm"),
            json!({"code": code(&secret, 0), "mfa_token": token}),
        )
        .send()
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert_eq!(confirmed.body["data"]["recovery_codes"].as_array().unwrap().len(), 10);
    // Enrolled now: the same password-only token adds no second factor of its own.
    let another = t
        .post(&format!("{base}/api/v1/auth/mfa/totp"), json!({"name": "Other", "mfa_token": token}))
        .send()
        .await;
    another.assert_error(400, "invalid_token");
    let done =
        verify(&t, &base, json!({"mfa_token": token, "factor_id": factor, "code": code(&secret, 1)})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let access = done.body["data"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_payload(&access)["acr"], "aal2");

    // The only factor of a user of this app stays.
    let r =
        t.call("DELETE", &format!("{base}/api/v1/auth/mfa/factors/{factor}")).bearer(&access).send().await;
    r.assert_error(409, "factor_required");

    // An enrolment token cannot enrol for a user who has a factor now, nor sign in without one.
    let pending = login(&t, &base, &email).await;
    assert!(pending.body["data"].get("enrolment_required").is_none(), "{}", pending.text);
    let pending = pending.body["data"]["mfa_token"].as_str().unwrap().to_owned();
    t.post(&format!("{base}/api/v1/auth/mfa/totp"), json!({"name": "Laptop", "mfa_token": pending}))
        .send()
        .await
        .assert_error(400, "invalid_token");

    // The backend removes every factor of a user who lost the device; the user is told.
    let reset =
        t.call("DELETE", &format!("{base}/api/v1/admin/users/{user_id}/mfa")).bearer(&developer).send().await;
    assert_eq!(reset.status, 200, "{}", reset.text);
    assert_eq!(reset.body["data"]["removed"], 1);
    let after = login(&t, &base, &email).await;
    assert_eq!(after.body["data"]["enrolment_required"], true, "{}", after.text);
    t.deliver_mail().await;
    assert!(
        t.sent_mails_to(&email)
            .await
            .iter()
            .any(|m| m.subject.contains("second factors of your account were removed"))
    );
    let stranger = t
        .call("DELETE", &format!("{base}/api/v1/admin/users/{}/mfa", uuid::Uuid::now_v7()))
        .bearer(&developer)
        .send()
        .await;
    stranger.assert_error(404, "not_found");
}
