use auth_tests::{PASSWORD, TestApp, jwt_payload, unique_email};
use serde_json::json;

const LOGIN: &str = "/api/v1/auth/login";

#[tokio::test]
async fn login_returns_a_token_pair_and_the_user() {
    let app = TestApp::spawn().await;
    let email = unique_email("login");
    let user_id = app.verified_user(&email).await;
    let r = app.login(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let d = &r.body["data"];
    assert_eq!(d["token_type"], "Bearer");
    assert_eq!(d["expires_in"], 3600);
    assert_eq!(d["user"]["id"], user_id.as_str());
    assert_eq!(d["user"]["email"], email.as_str());
    assert_eq!(d["user"]["email_verified"], true);
    assert!(d["user"].get("password_hash").is_none());

    let access = jwt_payload(d["access_token"].as_str().unwrap());
    let refresh = jwt_payload(d["refresh_token"].as_str().unwrap());
    assert_eq!(access["token_use"], "access");
    assert_eq!(refresh["token_use"], "refresh");
    assert_eq!(access["sub"], user_id.as_str());
    assert_eq!(access["sid"], refresh["sid"], "both tokens belong to one session");
    assert_eq!(access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(), 3600);
    assert_eq!(refresh["exp"].as_i64().unwrap() - refresh["iat"].as_i64().unwrap(), 30 * 86_400);
}

#[tokio::test]
async fn login_session_is_stored_with_the_refresh_hash_only() {
    let app = TestApp::spawn().await;
    let email = unique_email("session");
    let (access, refresh) = app.logged_in(&email).await;
    let claims = jwt_payload(&access);
    let item = app
        .dynamodb()
        .await
        .get_item()
        .table_name(&app.config.table_name)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!(
                "T#default#USER#{}",
                claims["sub"].as_str().unwrap()
            )),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!(
                "SESSION#{}",
                claims["sid"].as_str().unwrap()
            )),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("a session item");
    let stored = format!("{item:?}");
    assert!(!stored.contains(&refresh), "the refresh token itself is never stored");
    assert_eq!(item["refresh_hash"].as_s().unwrap(), &shared::crypto::token_hash(&refresh));
    assert_eq!(item["ip"].as_s().unwrap(), "203.0.113.10", "the address API Gateway saw");
    assert!(item.contains_key("ttl"));
}

#[tokio::test]
async fn the_oauth2_password_form_logs_in_too() {
    let app = TestApp::spawn().await;
    let email = unique_email("form");
    app.verified_user(&email).await;
    let r = app.call("POST", LOGIN).form(&[("username", &email), ("password", PASSWORD)]).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["data"]["access_token"].is_string());
    let r = app.call("POST", LOGIN).form(&[("username", &email)]).send().await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["password"], json!(["required"]));
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let app = TestApp::spawn().await;
    let email = unique_email("creds");
    app.verified_user(&email).await;
    let wrong = app.login(&email, "Wrong-Password-123").await;
    let unknown = app.login(&unique_email("nobody"), PASSWORD).await;
    wrong.assert_error(401, "invalid_credentials");
    unknown.assert_error(401, "invalid_credentials");
    assert_eq!(wrong.body["message"], unknown.body["message"]);
    assert!(wrong.header("www-authenticate").is_some());
}

#[tokio::test]
async fn an_unverified_account_is_told_so_only_after_the_right_password() {
    let app = TestApp::spawn().await;
    let email = unique_email("unverified");
    app.register(&email, PASSWORD).await;
    app.login(&email, PASSWORD).await.assert_error(401, "email_not_verified");
    app.login(&email, "Wrong-Password-123").await.assert_error(401, "invalid_credentials");
}

#[tokio::test]
async fn bad_login_requests_are_refused() {
    let app = TestApp::spawn().await;
    app.call("POST", LOGIN)
        .raw("{\"email\":", "application/json")
        .send()
        .await
        .assert_error(400, "malformed_request");
    let r = app.post(LOGIN, json!({"email": "a@example.com"})).send().await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["password"], json!(["required"]));
    let r = app.post(LOGIN, json!({"email": true, "password": 1})).send().await;
    assert_eq!(r.body["error"]["fields"]["email"], json!(["must_be_string"]));
    assert_eq!(r.body["error"]["fields"]["password"], json!(["must_be_string"]));
    let long = "x".repeat(200);
    app.post(LOGIN, json!({"email": "a@example.com", "password": long}))
        .send()
        .await
        .assert_error(401, "invalid_credentials");
}

/// A stored hash is trusted for its parameters only within bounds: a genuine hash of the password
/// made with more passes than allowed does not log in (an 8 GiB one would otherwise be run).
#[tokio::test]
async fn a_stored_hash_beyond_the_argon2_bounds_is_refused() {
    use argon2::PasswordHasher;
    let app = TestApp::spawn().await;
    let email = unique_email("argon-bounds");
    let user_id = app.verified_user(&email).await;
    let over = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(64, 11, 1, None).unwrap(),
    )
    .hash_password(PASSWORD.as_bytes())
    .unwrap()
    .to_string();
    app.dynamodb()
        .await
        .update_item()
        .table_name(&app.config.table_name)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("T#default#USER#{user_id}")))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("PROFILE".into()))
        .update_expression("SET password_hash = :h")
        .expression_attribute_values(":h", aws_sdk_dynamodb::types::AttributeValue::S(over))
        .send()
        .await
        .unwrap();
    app.login(&email, PASSWORD).await.assert_error(401, "invalid_credentials");
}
