//! The Lambda authorizer, and a protected function behind it reading the context it passes.

use auth_tests::{TestApp, jwt_payload, unique_email};
use serde_json::json;

#[tokio::test]
async fn a_valid_token_is_authorized_with_the_identity_in_the_context() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("authz")).await;
    let claims = jwt_payload(&access);
    let decision = app.authorize(Some(&format!("Bearer {access}"))).await;
    assert!(decision.is_authorized);
    let ctx = &decision.context;
    assert_eq!(ctx["user_id"], claims["sub"]);
    assert_eq!(ctx["tenant_id"], "default");
    assert_eq!(ctx["session_id"], claims["sid"]);
    assert_eq!(ctx["scopes"], "read write", "the app's session scopes");
    assert_eq!(ctx["auth_kind"], "session");
    assert_eq!(ctx["expires_at"], claims["exp"]);
    // API Gateway's simple-response shape.
    let wire = serde_json::to_value(&decision).unwrap();
    assert_eq!(wire["isAuthorized"], true);
}

#[tokio::test]
async fn no_header_passes_no_identity_and_the_function_answers_401() {
    let app = TestApp::spawn().await;
    let decision = app.authorize(None).await;
    // Never a bare gateway 403: the function behind answers in the contract's envelope.
    assert!(decision.is_authorized);
    assert_eq!(decision.context, json!({"auth_kind": "none"}));
    let r = app.get("/api/v1/users/me").authorizer_context(decision.context).send().await;
    r.assert_error(401, "unauthorized");
    assert_eq!(r.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
}

#[tokio::test]
async fn a_function_behind_the_authorizer_uses_its_context() {
    let app = TestApp::spawn().await;
    let email = unique_email("ctx");
    let (access, _) = app.logged_in(&email).await;
    let decision = app.authorize(Some(&format!("Bearer {access}"))).await;
    // API Gateway forwards the request with the context and without re-checking the header.
    let r = app.get("/api/v1/users/me").authorizer_context(decision.context.clone()).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["email"], email.as_str());
}

#[tokio::test]
async fn a_function_behind_the_authorizer_uses_an_api_keys_context() {
    let app = TestApp::spawn().await;
    let email = unique_email("keyctx");
    let (access, _) = app.logged_in(&email).await;
    let r = app
        .post("/api/v1/auth/api-keys", json!({"label": "ctx", "scopes": ["read"]}))
        .bearer(&access)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let key = r.body["data"]["raw_key"].as_str().unwrap().to_owned();
    let decision = app.authorize(Some(&format!("Bearer {key}"))).await;
    assert_eq!(decision.context["auth_kind"], "api_key");
    assert_eq!(decision.context["scopes"], "read");
    assert_eq!(decision.context["key_id"], r.body["data"]["api_key"]["id"]);
    // The function takes the key's caller from the context: its profile route answers; a route
    // for sessions only refuses it, as it would the key itself.
    let me = app.get("/api/v1/users/me").authorizer_context(decision.context.clone()).send().await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["data"]["email"], email.as_str());
    let sessions = app.get("/api/v1/auth/sessions").authorizer_context(decision.context).send().await;
    sessions.assert_error(403, "forbidden");
}

#[tokio::test]
async fn the_authorizer_fails_closed_when_its_store_is_unreachable() {
    let app = TestApp::spawn().await;
    let email = unique_email("closed");
    let (access, _) = app.logged_in(&email).await;
    // The same deployment, but DynamoDB points at a table that does not exist.
    let broken = app.with_config(&[("TABLE_NAME", "no-such-table"), ("AWS_TIMEOUT_SECONDS", "2")]).await;
    let event = serde_json::from_value(json!({
        "version": "2.0", "type": "REQUEST", "routeArn": "arn:aws:execute-api:us-east-1:1:a/$default/GET/x",
        "identitySource": [format!("Bearer {access}")],
        "headers": {"authorization": format!("Bearer {access}")},
        "requestContext": {"requestId": "r", "http": {"method": "GET", "sourceIp": "203.0.113.10"}},
    }))
    .unwrap();
    let decision = functions::events::authorizer::handle(&broken, event).await;
    assert_eq!(decision.context, json!({"auth_kind": "none"}), "no identity when the session cannot be read");

    // The function behind it, on the same broken store, answers 503 with Retry-After, never 200.
    let call = app.get("/api/v1/users/me").bearer(&access).authorizer_context(decision.context).event();
    let req = lambda_http::request::from_str(&call.to_string()).unwrap();
    let resp = auth_tests::TestResponse::from_response(
        functions::routes::dispatch(broken.clone(), "users_me", req).await.unwrap(),
    );
    resp.assert_error(503, "service_unavailable");
    assert!(resp.header("retry-after").is_some());
    assert!(!resp.text.contains("no-such-table"), "no AWS error text reaches the client");
}

/// A route that is not one of ours is a customer's: without a stage variable naming its app
/// (absent, misspelt) or with one naming no app, the authorizer denies, even a valid token of
/// the app its path seems to name.
#[tokio::test]
async fn on_a_route_not_ours_the_authorizer_fails_closed_without_the_apps_stage_variable() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("closed")).await;
    let bearer = format!("Bearer {access}");
    let at = |path: &str, variables: serde_json::Value| {
        let mut event = serde_json::to_value(auth_tests::authorizer_event_at(path, Some(&bearer))).unwrap();
        event["stageVariables"] = variables;
        serde_json::from_value::<functions::events::authorizer::AuthorizerRequest>(event).unwrap()
    };
    for (path, variables) in [
        ("/orders", json!({})),
        ("/api/v1/orders", json!({})),
        ("/apps/default/orders", json!({})),
        ("/orders", json!({"auth_appid": "default"})),
        ("/orders", json!({"AUTH_APP_ID": "default"})),
        ("/orders", json!({"auth_app_id": "no-such-app"})),
        ("/orders", json!({"auth_app_id": "Not An Id!"})),
        // A customer's path that one of our public routes would match.
        ("/dashboard/orders", json!({})),
    ] {
        let decision = functions::events::authorizer::handle(&app.app, at(path, variables.clone())).await;
        assert!(!decision.is_authorized, "{path} with {variables} let a token in");
        assert_eq!(decision.context, json!({"auth_kind": "none"}));
    }
    // A customer's route whose path is one of our protected ones, under a route key of its own.
    let mut event = serde_json::to_value(at("/api/v1/users/me", json!({}))).unwrap();
    event["routeKey"] = json!("GET /{proxy+}");
    let decision =
        functions::events::authorizer::handle(&app.app, serde_json::from_value(event).unwrap()).await;
    assert!(!decision.is_authorized, "a route key not ours");
    // The same token, with the stage variable naming its app, and on our own route.
    assert!(
        functions::events::authorizer::handle(&app.app, at("/orders", json!({"auth_app_id": "default"})))
            .await
            .is_authorized
    );
    let ours = functions::events::authorizer::handle(&app.app, at("/api/v1/users/me", json!({}))).await;
    assert_eq!(ours.context["auth_kind"], "session");
}
