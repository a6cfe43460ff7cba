use auth_tests::{TestApp, unique_email};
use serde_json::json;

const ME: &str = "/api/v1/users/me";

#[tokio::test]
async fn the_profile_is_updated_cleared_and_validated() {
    let app = TestApp::spawn().await;
    let email = unique_email("profile");
    let (access, _) = app.logged_in(&email).await;

    let r = app
        .call("PATCH", ME)
        .json(json!({"name": " Ada Lovelace ", "username": "ada_l", "company_name": "Analytical Engines", "first_name": "Ada"}))
        .bearer(&access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["name"], "Ada Lovelace");
    assert_eq!(r.body["data"]["username"], "ada_l");
    assert_eq!(r.body["data"]["company_name"], "Analytical Engines");

    // null clears, absent stays, unknown and protected fields are ignored.
    let r = app
        .call("PATCH", ME)
        .json(json!({"company_name": null, "email_verified": false, "email": "other@example.com", "tenant_id": "x"}))
        .bearer(&access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["company_name"], serde_json::Value::Null);
    assert_eq!(r.body["data"]["name"], "Ada Lovelace");
    assert_eq!(r.body["data"]["email"], email.as_str());
    assert_eq!(r.body["data"]["email_verified"], true);

    let me = app.get(ME).bearer(&access).send().await;
    assert_eq!(me.body["data"]["name"], "Ada Lovelace");
    assert_eq!(me.body["data"]["first_name"], "Ada");

    // Each broken rule is named; nothing is written.
    let r = app
        .call("PATCH", ME)
        .json(json!({"username": "a b", "name": "x\ny", "last_name": 7, "first_name": "Grace"}))
        .bearer(&access)
        .send()
        .await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["username"], json!(["allowed_characters"]));
    assert_eq!(r.body["error"]["fields"]["name"], json!(["no_control_characters"]));
    assert_eq!(r.body["error"]["fields"]["last_name"], json!(["must_be_string"]));
    assert_eq!(app.get(ME).bearer(&access).send().await.body["data"]["first_name"], "Ada");

    app.call("PATCH", ME)
        .raw("[]", "application/json")
        .bearer(&access)
        .send()
        .await
        .assert_error(400, "malformed_request");
    app.call("PATCH", ME).json(json!({"name": "x"})).send().await.assert_error(401, "unauthorized");
}
