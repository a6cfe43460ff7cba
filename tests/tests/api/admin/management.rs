//! Secret keys (console) and the management API (contract, "Management API"): the app's backend
//! with its secret key, or its owner with a console session, manages the app's users.

use auth_tests::{PASSWORD, TestApp, jwt_payload, unique_email};
use serde_json::{Value, json};

/// A developer's app and a secret key of it: (developer token, app base path, app id, key).
async fn app_with_key(app: &TestApp) -> (String, String, String, String) {
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({"frontend_url": "https://backend.example"})).await;
    let r = app
        .post(&format!("/api/v1/console/apps/{id}/secret-keys"), json!({"label": "backend"}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let key = r.body["data"]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk_") && key.len() > 40, "{key}");
    (dev, format!("/apps/{id}"), id, key)
}

#[tokio::test]
async fn a_secret_key_is_shown_once_works_for_its_app_only_and_dies_when_revoked() {
    let app = TestApp::spawn().await;
    let (dev, base, id, key) = app_with_key(&app).await;
    let users = format!("{base}/api/v1/admin/users");
    assert_eq!(app.get(&users).bearer(&key).send().await.status, 200);

    // Listed without the secret.
    let list = app.get(&format!("/api/v1/console/apps/{id}/secret-keys")).bearer(&dev).send().await;
    assert_eq!(list.status, 200, "{}", list.text);
    let listed = &list.body["data"]["secret_keys"][0];
    assert_eq!(listed["label"], "backend");
    assert!(listed.get("key").is_none() && !list.text.contains(&key), "{}", list.text);
    assert!(key.ends_with(&listed["hint"].as_str().unwrap()[6..]), "the hint ends like the key");
    // Nowhere in the table either.
    let scan = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    assert!(!format!("{:?}", scan.items()).contains(&key[3..]), "the secret is stored only hashed");

    // Another app's routes, the root's and the console refuse it.
    let (_, other_base, _, _) = app_with_key(&app).await;
    app.get(&format!("{other_base}/api/v1/admin/users"))
        .bearer(&key)
        .send()
        .await
        .assert_error(401, "unauthorized");
    app.get("/api/v1/admin/users").bearer(&key).send().await.assert_error(401, "unauthorized");
    // At its own app's routes that take sessions only, it is a caller of the wrong kind.
    app.get(&format!("{base}/api/v1/users/me")).bearer(&key).send().await.assert_error(403, "forbidden");

    // Another developer cannot see, make or revoke the app's keys.
    let stranger = app.developer(&unique_email("stranger")).await;
    let key_id = listed["id"].as_str().unwrap();
    app.get(&format!("/api/v1/console/apps/{id}/secret-keys"))
        .bearer(&stranger)
        .send()
        .await
        .assert_error(404, "not_found");
    app.post(&format!("/api/v1/console/apps/{id}/secret-keys"), json!({}))
        .bearer(&stranger)
        .send()
        .await
        .assert_error(404, "not_found");
    app.call("DELETE", &format!("/api/v1/console/apps/{id}/secret-keys/{key_id}"))
        .bearer(&stranger)
        .send()
        .await
        .assert_error(404, "not_found");

    let r = app
        .call("DELETE", &format!("/api/v1/console/apps/{id}/secret-keys/{key_id}"))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get(&users).bearer(&key).send().await.assert_error(401, "unauthorized");
    let list = app.get(&format!("/api/v1/console/apps/{id}/secret-keys")).bearer(&dev).send().await;
    assert_eq!(list.body["data"]["secret_keys"], json!([]));
}

#[tokio::test]
async fn the_backend_creates_a_verified_user_with_tokens_and_an_unverified_one_with_a_mail() {
    let app = TestApp::spawn().await;
    let (_, base, id, key) = app_with_key(&app).await;
    let email = unique_email("server-side");
    let r = app
        .post(
            &format!("{base}/api/v1/admin/users"),
            json!({"email": email, "password": PASSWORD, "email_verified": true, "name": "Grace", "issue_tokens": true}),
        )
        .bearer(&key)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email_verified"], true);
    assert_eq!(r.body["data"]["user"]["disabled"], false);
    let access = r.body["data"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_payload(&access)["tid"], id.as_str());
    let me = app.get(&format!("{base}/api/v1/users/me")).bearer(&access).send().await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["data"]["name"], "Grace");
    // The password the backend set logs in; the address is taken now.
    let login = app
        .post(&format!("{base}/api/v1/auth/login"), json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
    let again =
        app.post(&format!("{base}/api/v1/admin/users"), json!({"email": email})).bearer(&key).send().await;
    again.assert_error(409, "email_taken");

    // Unverified, without a password: a verification mail with the app's link.
    let invited = unique_email("invited");
    let r =
        app.post(&format!("{base}/api/v1/admin/users"), json!({"email": invited})).bearer(&key).send().await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body["data"].get("access_token").is_none());
    let mail = &app.mails_to(&invited).await[0];
    assert!(mail.body.contains("https://backend.example/verify-email?token="), "{}", mail.body);
    // Tokens only for a verified user; the policy applies to a password given.
    let r = app
        .post(
            &format!("{base}/api/v1/admin/users"),
            json!({"email": unique_email("x"), "issue_tokens": true}),
        )
        .bearer(&key)
        .send()
        .await;
    r.assert_error(400, "validation_failed");
    let r = app
        .post(&format!("{base}/api/v1/admin/users"), json!({"email": unique_email("x"), "password": "short"}))
        .bearer(&key)
        .send()
        .await;
    r.assert_error(400, "validation_failed");
    assert!(r.body["error"]["fields"]["password"].is_array());
}

#[tokio::test]
async fn users_are_listed_newest_first_page_by_page_and_searched_by_email_prefix() {
    let app = TestApp::spawn().await;
    let (_, base, _, key) = app_with_key(&app).await;
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let mut created = Vec::new();
    for who in ["ann", "bob", "ann2"] {
        let email = format!("{who}.{tag}@example.com");
        let r = app
            .post(&format!("{base}/api/v1/admin/users"), json!({"email": email, "email_verified": true}))
            .bearer(&key)
            .send()
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        created.push(email);
    }
    let first = app.get(&format!("{base}/api/v1/admin/users")).query("limit=2").bearer(&key).send().await;
    assert_eq!(first.status, 200, "{}", first.text);
    let emails = |r: &auth_tests::TestResponse| -> Vec<String> {
        r.body["data"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(emails(&first), vec![created[2].clone(), created[1].clone()], "newest first");
    let cursor = first.body["data"]["next_cursor"].as_str().expect("a next page").to_owned();
    let second = app
        .get(&format!("{base}/api/v1/admin/users"))
        .query(&format!("limit=2&cursor={cursor}"))
        .bearer(&key)
        .send()
        .await;
    assert_eq!(emails(&second), vec![created[0].clone()]);
    let search = app.get(&format!("{base}/api/v1/admin/users")).query("email=ANN").bearer(&key).send().await;
    assert_eq!(emails(&search), vec![created[2].clone(), created[0].clone()], "a case-insensitive prefix");
    let bad = app.get(&format!("{base}/api/v1/admin/users")).query("cursor=bm9wZQ").bearer(&key).send().await;
    bad.assert_error(400, "validation_failed");
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_every_session_ends() {
    let app = TestApp::spawn().await;
    let (_, base, _, key) = app_with_key(&app).await;
    let email = unique_email("disabled");
    let (access, refresh) = app.logged_in_at(&base, &email).await;
    let user_id = jwt_payload(&access)["sub"].as_str().unwrap().to_owned();
    let user = format!("{base}/api/v1/admin/users/{user_id}");

    let r = app.call("PATCH", &user).json(json!({"disabled": true})).bearer(&key).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["disabled"], true);
    app.get(&format!("{base}/api/v1/users/me"))
        .bearer(&access)
        .send()
        .await
        .assert_error(401, "unauthorized");
    app.post(&format!("{base}/api/v1/auth/token/refresh"), json!({"refresh_token": refresh}))
        .send()
        .await
        .assert_error(401, "unauthorized");
    let login = app.post(&format!("{base}/api/v1/auth/login"), json!({"email": email, "password": PASSWORD}));
    login.send().await.assert_error(403, "account_disabled");
    // Only after the right password: a wrong one says nothing more.
    app.post(&format!("{base}/api/v1/auth/login"), json!({"email": email, "password": "Wrong-password-123"}))
        .send()
        .await
        .assert_error(401, "invalid_credentials");

    let r =
        app.call("PATCH", &user).json(json!({"disabled": false, "name": "Back"})).bearer(&key).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["name"], "Back");
    let login = app
        .post(&format!("{base}/api/v1/auth/login"), json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
}

#[tokio::test]
async fn the_backend_revokes_sessions_sends_a_reset_deletes_and_reads_the_audit() {
    let app = TestApp::spawn().await;
    let (_, base, _, key) = app_with_key(&app).await;
    let email = unique_email("managed");
    let (access, _) = app.logged_in_at(&base, &email).await;
    let user_id = jwt_payload(&access)["sub"].as_str().unwrap().to_owned();
    let user = format!("{base}/api/v1/admin/users/{user_id}");

    let got = app.get(&user).bearer(&key).send().await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["data"]["email"], email.as_str());

    let r = app.call("DELETE", &format!("{user}/sessions")).bearer(&key).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["revoked"], 1);
    app.get(&format!("{base}/api/v1/users/me"))
        .bearer(&access)
        .send()
        .await
        .assert_error(401, "unauthorized");

    let r = app.post(&format!("{user}/password-reset"), json!({})).bearer(&key).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mail = app.mails_to(&email).await.pop().unwrap();
    assert!(mail.body.contains("https://backend.example/reset-password?token="), "{}", mail.body);

    let audit = app.get(&format!("{base}/api/v1/admin/audit")).bearer(&key).send().await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    let types: Vec<&str> = audit.body["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for expected in ["register", "login_succeeded", "session_revoked", "password_reset_requested"] {
        assert!(types.contains(&expected), "{expected} in {types:?}");
    }
    let mine = app
        .get(&format!("{base}/api/v1/admin/audit"))
        .query(&format!("user_id={user_id}"))
        .bearer(&key)
        .send()
        .await;
    assert!(mine.body["data"]["events"].as_array().unwrap().iter().all(|e| e["user_id"] == user_id.as_str()));

    let r = app.call("DELETE", &user).bearer(&key).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get(&user).bearer(&key).send().await.assert_error(404, "not_found");
    app.post(&format!("{base}/api/v1/auth/login"), json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .assert_error(401, "invalid_credentials");
    // The address is free again.
    let r =
        app.post(&format!("{base}/api/v1/admin/users"), json!({"email": email})).bearer(&key).send().await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn the_owners_console_session_works_anyone_elses_is_not_found_and_end_users_are_forbidden() {
    let app = TestApp::spawn().await;
    let (dev, base, _, _) = app_with_key(&app).await;
    let users = format!("{base}/api/v1/admin/users");
    let r = app.get(&users).bearer(&dev).send().await;
    assert_eq!(r.status, 200, "the owner's console token: {}", r.text);
    let stranger = app.developer(&unique_email("stranger")).await;
    app.get(&users).bearer(&stranger).send().await.assert_error(404, "not_found");
    let (end_user, _) = app.logged_in_at(&base, &unique_email("end-user")).await;
    app.get(&users).bearer(&end_user).send().await.assert_error(403, "forbidden");
    app.get(&users).send().await.assert_error(401, "unauthorized");
    // Users of another app are not found through this one.
    let (other_dev, other_base, _, other_key) = app_with_key(&app).await;
    let (theirs, _) = app.logged_in_at(&other_base, &unique_email("theirs")).await;
    let their_id = jwt_payload(&theirs)["sub"].as_str().unwrap().to_owned();
    app.get(&format!("{users}/{their_id}")).bearer(&dev).send().await.assert_error(404, "not_found");
    assert_eq!(
        app.get(&format!("{other_base}/api/v1/admin/users/{their_id}"))
            .bearer(&other_key)
            .send()
            .await
            .status,
        200
    );
    // The authorizer resolves the same callers.
    let event = auth_tests::authorizer_event_at(&users, Some(&format!("Bearer {other_dev}")));
    let decision = functions::events::authorizer::handle(&app.app, event).await;
    assert_eq!(decision.context["auth_kind"], "none", "not the owner");
    let event = auth_tests::authorizer_event_at(&users, Some(&format!("Bearer {dev}")));
    let decision = functions::events::authorizer::handle(&app.app, event).await;
    assert_eq!(decision.context["auth_kind"], "app_owner", "{:?}", decision.context);
}

#[tokio::test]
async fn the_default_apps_management_api_takes_the_operators_keys() {
    let app = TestApp::spawn().await;
    let key =
        shared::console::issue_secret_key(&app.app, &shared::AppId::default_app(), Some("ops".into()), None)
            .await
            .unwrap();
    let email = unique_email("default-admin");
    let r = app
        .post("/api/v1/admin/users", json!({"email": email, "email_verified": true}))
        .bearer(&key.key)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id: Value = r.body["data"]["user"]["id"].clone();
    let got = app.get(&format!("/api/v1/admin/users/{}", id.as_str().unwrap())).bearer(&key.key).send().await;
    assert_eq!(got.status, 200, "{}", got.text);
    // A developer's console token owns nothing of `default`.
    let dev = app.developer(&unique_email("dev")).await;
    app.get("/api/v1/admin/users").bearer(&dev).send().await.assert_error(404, "not_found");
}
