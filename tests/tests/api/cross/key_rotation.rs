//! Signing-key rotation: a new key signs at once, previous keys verify until their tokens expire,
//! removed keys verify nothing.

use std::time::Duration;

use auth_tests::{PASSWORD, TestApp, TestResponse, unique_email};
use serde_json::json;

async fn me(app: &std::sync::Arc<shared::App>, test: &TestApp, token: &str) -> TestResponse {
    let event = test.get("/api/v1/users/me").bearer(token).event();
    let req = lambda_http::request::from_str(&event.to_string()).unwrap();
    TestResponse::from_response(functions::routes::dispatch(app.clone(), "users_me", req).await.unwrap())
}

async fn login_on(app: &std::sync::Arc<shared::App>, test: &TestApp, email: &str) -> String {
    let event = test.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD})).event();
    let req = lambda_http::request::from_str(&event.to_string()).unwrap();
    let r =
        TestResponse::from_response(functions::routes::dispatch(app.clone(), "login", req).await.unwrap());
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]["access_token"].as_str().unwrap().to_owned()
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn tokens_of_the_previous_key_keep_verifying_and_the_new_key_signs_at_once() {
    let app = TestApp::spawn().await;
    let email = unique_email("rotation");
    let (old_token, _) = app.logged_in(&email).await;
    let old_kid = kid(&old_token);

    let new_kid = app.rotate_key(Duration::from_secs(86_400)).await;
    assert_ne!(new_kid, old_kid);

    // A container started after the rotation signs with the new key and still accepts the old one.
    let fresh = app.with_config(&[]).await;
    let new_token = login_on(&fresh, &app, &email).await;
    assert_eq!(kid(&new_token), new_kid);
    assert_eq!(me(&fresh, &app, &old_token).await.status, 200);

    // A container that was warm before the rotation meets the new kid and re-reads the keys.
    assert_eq!(app.get("/api/v1/users/me").bearer(&new_token).send().await.status, 200);

    // The JWKS publishes both.
    let jwks = app.get("/.well-known/jwks.json").send().await;
    let kids: Vec<&str> =
        jwks.body["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()), "{kids:?}");
}

#[tokio::test]
async fn a_removed_key_verifies_nothing() {
    let app = TestApp::spawn().await;
    let (old_token, _) = app.logged_in(&unique_email("removed")).await;
    // Keep retired keys for no time at all: the second rotation removes the first key.
    app.rotate_key(Duration::ZERO).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.rotate_key(Duration::ZERO).await;
    let fresh = app.with_config(&[]).await;
    me(&fresh, &app, &old_token).await.assert_error(401, "unauthorized");
    let jwks = TestResponse::from_response(
        functions::routes::dispatch(
            fresh.clone(),
            "jwks",
            lambda_http::request::from_str(&app.get("/.well-known/jwks.json").event().to_string()).unwrap(),
        )
        .await
        .unwrap(),
    );
    assert!(!jwks.text.contains(&kid(&old_token)));
}

#[tokio::test]
async fn eddsa_works_end_to_end() {
    let app = TestApp::spawn_with(&[("JWT_ALGORITHM", "EdDSA")]).await;
    let (access, refresh) = app.logged_in(&unique_email("ed")).await;
    assert_eq!(jsonwebtoken::decode_header(&access).unwrap().alg, jsonwebtoken::Algorithm::EdDSA);
    let r = app.refresh(&refresh).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let access2 = r.body["data"]["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/users/me").bearer(access2).send().await.status, 200);
    let r = app.post("/api/v1/auth/logout", json!({})).bearer(access2).send().await;
    assert_eq!(r.status, 200);
    app.get("/api/v1/users/me").bearer(access2).send().await.assert_error(401, "unauthorized");
}

/// Verifying functions hold only the public keys, read from the table with the first session read
/// of a container (one `BatchGetItem`) and again when a token names a key they do not know; they
/// never ask Secrets Manager (their roles cannot: `authctl iam-check`).
#[tokio::test]
async fn the_authorizer_reads_the_public_keys_with_its_first_session_read_and_on_a_new_kid() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("public-keys")).await;
    let bearer = format!("Bearer {access}");
    let container = app.with_config(&[]).await;
    let authorize = |container: std::sync::Arc<shared::App>, bearer: String| async move {
        let before = container.store.calls().count();
        let r =
            functions::events::authorizer::handle(&container, auth_tests::authorizer_event(Some(&bearer)))
                .await;
        (r.context["auth_kind"].clone(), container.store.calls().since(before))
    };
    assert_eq!(authorize(container.clone(), bearer.clone()).await, (json!("session"), vec!["BatchGetItem"]));
    assert_eq!(authorize(container.clone(), bearer.clone()).await, (json!("session"), vec!["GetItem"]));

    // A key rotated in elsewhere: the first token it signed makes the container read the keys anew.
    app.rotate_key(Duration::from_secs(86_400)).await;
    let signer = app.with_config(&[]).await;
    let second = unique_email("public-keys-new");
    app.verified_user(&second).await;
    let new_token = login_on(&signer, &app, &second).await;
    let (kind, calls) = authorize(container.clone(), format!("Bearer {new_token}")).await;
    assert_eq!(kind, "session");
    assert_eq!(calls, ["BatchGetItem"], "the unknown kid made one read of keys and session");

    // The item holds public parameters only.
    let item = app
        .dynamodb()
        .await
        .get_item()
        .table_name(&app.config.table_name)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("SERVICE#KEYS".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("PUBLIC".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the public keys are published");
    let jwks: serde_json::Value = serde_json::from_str(item["jwks"].as_s().unwrap()).unwrap();
    for key in jwks["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "{private} in {key}");
        }
    }
    assert!(!format!("{item:?}").contains("PRIVATE KEY"));
}
