use auth_tests::{PASSWORD, TestApp, jwt_payload, unique_email};
use serde_json::json;

const ME: &str = "/api/v1/users/me";
const SESSIONS: &str = "/api/v1/auth/sessions";

async fn second_login(app: &TestApp, email: &str, ua: &str) -> (String, String) {
    let r = app
        .post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD}))
        .header("user-agent", ua)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    (
        r.body["data"]["access_token"].as_str().unwrap().to_owned(),
        r.body["data"]["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn logout_refuses_the_access_token_on_the_next_call_and_the_refresh_token_too() {
    let app = TestApp::spawn().await;
    let (access, refresh) = app.logged_in(&unique_email("logout")).await;
    let r = app.post("/api/v1/auth/logout", json!({})).bearer(&access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get(ME).bearer(&access).send().await.assert_error(401, "unauthorized");
    app.refresh(&refresh).await.assert_error(401, "unauthorized");
    let decision = app.authorize(Some(&format!("Bearer {access}"))).await;
    assert!(decision.context.get("user_id").is_none(), "the authorizer no longer identifies it");
    // Logging out needs a session.
    app.post("/api/v1/auth/logout", json!({})).send().await.assert_error(401, "unauthorized");
}

#[tokio::test]
async fn sessions_are_listed_revoked_one_by_one_and_all_at_once() {
    let app = TestApp::spawn().await;
    let email = unique_email("sessions");
    let (first_access, _) = app.logged_in(&email).await;
    let (second_access, _) = second_login(&app, &email, "phone-app/2.0").await;
    let (third_access, _) = second_login(&app, &email, "laptop/1.0").await;

    let r = app.get(SESSIONS).bearer(&second_access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = r.body["data"]["sessions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 3);
    let second_sid = jwt_payload(&second_access)["sid"].clone();
    for s in &list {
        for field in ["id", "created_at", "last_used_at", "ip", "user_agent", "current"] {
            assert!(s.get(field).is_some(), "{field} in {s}");
        }
        assert_eq!(s["current"], s["id"] == second_sid);
    }
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(list.iter().any(|s| s["user_agent"] == "phone-app/2.0"));
    assert_eq!(list[0]["id"], jwt_payload(&third_access)["sid"], "newest first");

    // Revoke the first session from the second.
    let first_sid = jwt_payload(&first_access)["sid"].as_str().unwrap().to_owned();
    let r = app.call("DELETE", &format!("{SESSIONS}/{first_sid}")).bearer(&second_access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get(ME).bearer(&first_access).send().await.assert_error(401, "unauthorized");
    app.call("DELETE", &format!("{SESSIONS}/{first_sid}"))
        .bearer(&second_access)
        .send()
        .await
        .assert_error(404, "not_found");
    let r = app.get(SESSIONS).bearer(&second_access).send().await;
    assert_eq!(r.body["data"]["sessions"].as_array().unwrap().len(), 2);

    // Revoke all, the current one included.
    let r = app.call("DELETE", SESSIONS).bearer(&second_access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["revoked"], 2);
    app.get(ME).bearer(&second_access).send().await.assert_error(401, "unauthorized");
    app.get(ME).bearer(&third_access).send().await.assert_error(401, "unauthorized");
}

#[tokio::test]
async fn another_users_session_is_not_found() {
    let app = TestApp::spawn().await;
    let (mallory, _) = app.logged_in(&unique_email("mallory")).await;
    let (alice, _) = app.logged_in(&unique_email("alice")).await;
    let alice_sid = jwt_payload(&alice)["sid"].as_str().unwrap().to_owned();
    app.call("DELETE", &format!("{SESSIONS}/{alice_sid}"))
        .bearer(&mallory)
        .send()
        .await
        .assert_error(404, "not_found");
    assert_eq!(app.get(ME).bearer(&alice).send().await.status, 200, "alice is still logged in");
    app.call("DELETE", &format!("{SESSIONS}/not-a-session-id!"))
        .bearer(&mallory)
        .send()
        .await
        .assert_error(404, "not_found");
    app.call("DELETE", &format!("{SESSIONS}/{alice_sid}")).send().await.assert_error(401, "unauthorized");
}

#[tokio::test]
async fn the_sixth_login_evicts_the_first_session() {
    let app = TestApp::spawn().await;
    let email = unique_email("evict");
    let (first, first_refresh) = app.logged_in(&email).await;
    let mut latest = String::new();
    for i in 0..5 {
        latest = second_login(&app, &email, &format!("device-{i}")).await.0;
    }
    app.get(ME).bearer(&first).send().await.assert_error(401, "unauthorized");
    app.refresh(&first_refresh).await.assert_error(401, "unauthorized");
    let r = app.get(SESSIONS).bearer(&latest).send().await;
    assert_eq!(r.body["data"]["sessions"].as_array().unwrap().len(), 5);
}
