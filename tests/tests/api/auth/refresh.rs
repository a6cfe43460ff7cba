use std::time::Duration;

use auth_tests::{TestApp, jwt_payload, unique_email};
use futures::future::join_all;
use serde_json::json;

#[tokio::test]
async fn rotation_gives_a_working_pair_and_a_retry_inside_the_window_keeps_the_session() {
    let app = TestApp::spawn().await;
    let (access, refresh) = app.logged_in(&unique_email("rotate")).await;

    let r = app.refresh(&refresh).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let (access2, refresh2) =
        (r.body["data"]["access_token"].as_str().unwrap(), r.body["data"]["refresh_token"].as_str().unwrap());
    assert_ne!(refresh2, refresh);
    assert_eq!(jwt_payload(refresh2)["generation"], 2);
    assert_eq!(jwt_payload(refresh2)["sid"], jwt_payload(&refresh)["sid"], "the same session");
    assert_eq!(app.get("/api/v1/users/me").bearer(access2).send().await.status, 200);

    // The client retries with the token it just rotated: refused, but nobody is logged out.
    app.refresh(&refresh).await.assert_error(401, "unauthorized");
    assert_eq!(app.get("/api/v1/users/me").bearer(&access).send().await.status, 200);
    let r = app.refresh(refresh2).await;
    assert_eq!(r.status, 200, "the child still rotates: {}", r.text);
}

#[tokio::test]
async fn a_rotated_token_replayed_after_the_window_revokes_the_whole_session() {
    let app = TestApp::spawn_with(&[("REFRESH_REUSE_GRACE_SECONDS", "1")]).await;
    let email = unique_email("theft");
    let (_, refresh) = app.logged_in(&email).await;
    let user_id = jwt_payload(&refresh)["sub"].as_str().unwrap().to_owned();
    let r = app.refresh(&refresh).await;
    let (access2, refresh2) = (
        r.body["data"]["access_token"].as_str().unwrap().to_owned(),
        r.body["data"]["refresh_token"].as_str().unwrap().to_owned(),
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;

    app.refresh(&refresh).await.assert_error(401, "unauthorized");
    // The family is dead: the child refresh token and its access token too.
    app.refresh(&refresh2).await.assert_error(401, "unauthorized");
    app.get("/api/v1/users/me").bearer(&access2).send().await.assert_error(401, "unauthorized");
    assert!(app.audit_types(&user_id).await.contains(&"refresh_reuse_detected".to_owned()));
}

#[tokio::test]
async fn ten_concurrent_refreshes_with_one_token_have_exactly_one_winner() {
    let app = TestApp::spawn().await;
    let email = unique_email("race");
    let (_, refresh) = app.logged_in(&email).await;
    let results = join_all((0..10).map(|_| app.refresh(&refresh))).await;
    let children: Vec<String> = results
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.body["data"]["refresh_token"].as_str().unwrap().to_owned())
        .collect();
    // The rotation is one conditional write: DynamoDB (and the test moto, whose DynamoDB requests
    // are serialised by tools/moto_serve.py) lets exactly one through.
    let statuses: Vec<(u16, &str)> = results.iter().map(|r| (r.status, r.code())).collect();
    assert_eq!(children.len(), 1, "{statuses:?}");
    assert_eq!(results.iter().filter(|r| r.code() == "unauthorized").count(), 9, "{statuses:?}");
    // The losers were the same client retrying inside the grace window: nothing was revoked, and
    // the winner's child works.
    let next = app.refresh(&children[0]).await;
    assert_eq!(next.status, 200, "{}", next.text);
}

#[tokio::test]
async fn only_refresh_tokens_refresh() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("kinds")).await;
    app.refresh(&access).await.assert_error(401, "unauthorized");
    app.refresh("not-a-jwt").await.assert_error(401, "unauthorized");
    let r = app.post("/api/v1/auth/token/refresh", json!({})).send().await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["refresh_token"], json!(["required"]));
    app.post("/api/v1/auth/token/refresh", json!({"refresh_token": 5}))
        .send()
        .await
        .assert_error(400, "validation_failed");
}
