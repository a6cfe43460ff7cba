//! Sessions cannot outlive a credential change, their absolute lifetime or their idle timeout.

use std::time::Duration;

use auth_tests::{PASSWORD, TestApp, jwt_payload, unique_email};
use chrono::Utc;
use serde_json::json;
use shared::audit::{ClientInfo, EventType};
use shared::error::Error;
use shared::ratelimit::Limits;

const ME: &str = "/api/v1/users/me";
const NEW_PASSWORD: &str = "Obsidian-Lantern-77-Quay";

/// A sign-in that checked the old password (and so read the account before the change) and
/// commits its session after the change: the commit is conditioned on the account's credential
/// version, so it fails instead of leaving a session of the old password alive.
#[tokio::test]
async fn a_sign_in_checked_before_a_reset_cannot_commit_after_it() {
    let app = TestApp::spawn().await;
    let email = unique_email("race-reset");
    let user_id = shared::UserId::parse(&app.verified_user(&email).await).unwrap();
    let read_before = app.app.store.user(&shared::AppId::default_app(), &user_id).await.unwrap().unwrap();

    app.post("/api/v1/auth/password/reset", json!({"email": email})).send().await;
    let token = app.token_from_mail(&email, "reset-password").await;
    let r = app
        .post("/api/v1/auth/password/reset/confirm", json!({"token": token, "new_password": NEW_PASSWORD}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let late = start(&app, &read_before).await;
    assert!(matches!(late, Err(Error::InvalidCredentials)), "{:?}", late.err());
    let sessions = app.app.store.sessions(&shared::AppId::default_app(), &user_id).await.unwrap();
    assert!(sessions.is_empty(), "no session was stored: {sessions:?}");
    // The control: read after the reset, the same start succeeds.
    let read_after = app.app.store.user(&shared::AppId::default_app(), &user_id).await.unwrap().unwrap();
    assert!(start(&app, &read_after).await.is_ok());
}

/// The same race against a password change and against the account's disabling for deletion.
#[tokio::test]
async fn a_sign_in_checked_before_a_change_or_a_disabling_cannot_commit_after_it() {
    let app = TestApp::spawn().await;
    let email = unique_email("race-change");
    let user_id = shared::UserId::parse(&app.verified_user(&email).await).unwrap();
    let (access, _) = tokens(&app.login(&email, PASSWORD).await);
    let before_change = app.app.store.user(&shared::AppId::default_app(), &user_id).await.unwrap().unwrap();
    let r = app
        .post(
            "/api/v1/auth/password/change",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .bearer(&access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(matches!(start(&app, &before_change).await, Err(Error::InvalidCredentials)));

    let before_disabling =
        app.app.store.user(&shared::AppId::default_app(), &user_id).await.unwrap().unwrap();
    let r =
        app.post("/api/v1/account/deletion", json!({"password": NEW_PASSWORD})).bearer(&access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = app.token_from_mail(&email, "confirm-deletion").await;
    let r = app.post("/api/v1/account/deletion/confirm", json!({"token": token})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(matches!(start(&app, &before_disabling).await, Err(Error::InvalidCredentials)));
}

async fn start(
    app: &TestApp,
    user: &shared::model::UserRecord,
) -> shared::Result<(shared::tokens::IssuedPair, shared::SessionId)> {
    let now = Utc::now();
    shared::sessions::start(
        &app.app,
        &app.app.default_tenant(),
        shared::sessions::Begin {
            user,
            existing: &[],
            client: &ClientInfo::default(),
            now,
            event: EventType::LoginSucceeded,
            authn: shared::model::Authn::first(shared::model::amr::PWD, now),
            limits: &Limits::none(&shared::AppId::default_app()),
            superseded: Error::InvalidCredentials,
            second: None,
        },
    )
    .await
}

fn tokens(r: &auth_tests::TestResponse) -> (String, String) {
    assert_eq!(r.status, 200, "{}", r.text);
    (
        r.body["data"]["access_token"].as_str().unwrap().to_owned(),
        r.body["data"]["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// Password change is one transaction (new hash, other sessions ended, caller's carried over), and
/// the caller's session keeps refreshing under the new credential.
#[tokio::test]
async fn a_password_change_is_one_write_and_the_callers_session_lives_on() {
    let app = TestApp::spawn().await;
    let email = unique_email("change-one-write");
    app.verified_user(&email).await;
    let (access, refresh) = tokens(&app.login(&email, PASSWORD).await);
    let (other_access, other_refresh) = tokens(&app.login(&email, PASSWORD).await);
    let change = app
        .post(
            "/api/v1/auth/password/change",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .bearer(&access);
    let (r, calls) = app.counted(change).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let writes: Vec<_> =
        calls.iter().filter(|c| !matches!(**c, "GetItem" | "Query" | "BatchGetItem")).collect();
    assert_eq!(writes, [&"TransactWriteItems"], "the change wrote {calls:?}");
    app.get(ME).bearer(&other_access).send().await.assert_error(401, "unauthorized");
    app.refresh(&other_refresh).await.assert_error(401, "unauthorized");
    assert_eq!(app.get(ME).bearer(&access).send().await.status, 200);
    let (access2, _) = tokens(&app.refresh(&refresh).await);
    assert_eq!(app.get(ME).bearer(&access2).send().await.status, 200);
}

/// `SESSION_MAX_LIFETIME_SECONDS`: rotation never extends a session past its login plus the
/// lifetime, and neither token is issued beyond it.
#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_often_it_is_refreshed() {
    let app = TestApp::spawn_with(&[("SESSION_MAX_LIFETIME_SECONDS", "4")]).await;
    let email = unique_email("absolute");
    app.verified_user(&email).await;
    let login = app.login(&email, PASSWORD).await;
    let (_, refresh) = tokens(&login);
    let ends = jwt_payload(&refresh)["iat"].as_i64().unwrap() + 4;
    assert!(login.body["data"]["expires_in"].as_u64().unwrap() <= 4);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (access, refresh) = tokens(&app.refresh(&refresh).await);
    assert!(jwt_payload(&refresh)["exp"].as_i64().unwrap() <= ends, "rotation does not extend it");
    assert!(jwt_payload(&access)["exp"].as_i64().unwrap() <= ends);
    while Utc::now().timestamp() < ends {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.get(ME).bearer(&access).send().await.assert_error(401, "unauthorized");
    app.refresh(&refresh).await.assert_error(401, "unauthorized");
}

/// `SESSION_IDLE_TIMEOUT_SECONDS`: a session that is refreshed lives on; one left unused ends.
/// Times are taken from the tokens' `iat` (when the server decided), so a slow request under load
/// does not move the deadlines the test checks against, and each check is seconds from a deadline.
#[tokio::test]
async fn an_idle_session_ends_and_a_used_one_does_not() {
    const IDLE: i64 = 6;
    let app =
        TestApp::spawn_with(&[("SESSION_IDLE_TIMEOUT_SECONDS", "6"), ("ACCESS_TOKEN_TTL_SECONDS", "6")])
            .await;
    let email = unique_email("idle");
    app.verified_user(&email).await;
    let (_, refresh) = tokens(&app.login(&email, PASSWORD).await);
    let login_at = jwt_payload(&refresh)["iat"].as_i64().unwrap();
    sleep_until(login_at + 3).await;
    let (access, refresh) = tokens(&app.refresh(&refresh).await);
    let refreshed_at = jwt_payload(&refresh)["iat"].as_i64().unwrap();
    // Past the login's idle deadline, within the refresh's.
    sleep_until(login_at + IDLE + 1).await;
    assert!(Utc::now().timestamp() < refreshed_at + IDLE, "the machine was too slow to check this");
    assert_eq!(app.get(ME).bearer(&access).send().await.status, 200, "used since: still live");
    sleep_until(refreshed_at + IDLE + 1).await;
    app.get(ME).bearer(&access).send().await.assert_error(401, "unauthorized");
    app.refresh(&refresh).await.assert_error(401, "unauthorized");
}

async fn sleep_until(epoch_seconds: i64) {
    while Utc::now().timestamp() < epoch_seconds {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
