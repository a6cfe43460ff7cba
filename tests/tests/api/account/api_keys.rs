//! End-users' API keys (contract, "End-user API keys"): made and managed by the user's sessions,
//! accepted by the profile reads, scoped routes and the authorizer, stopped with their owner.

use std::time::Duration;

use auth_tests::{PASSWORD, TestApp, authorizer_event_at, fresh_rate_window, unique_email};
use authctl::repo_root;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

const KEYS: &str = "/api/v1/auth/api-keys";

/// A new key of the user holding `access`, at the app under `base`: (raw key, key id).
async fn new_key(app: &TestApp, base: &str, access: &str, body: Value) -> (String, String) {
    let r = app.post(&format!("{base}{KEYS}"), body).bearer(access).send().await;
    assert_eq!(r.status, 201, "create key: {}", r.text);
    let raw = r.body["data"]["raw_key"].as_str().expect("raw key").to_owned();
    let id = r.body["data"]["api_key"]["id"].as_str().expect("key id").to_owned();
    (raw, id)
}

async fn me(app: &TestApp, base: &str, key: &str) -> u16 {
    app.get(&format!("{base}/api/v1/users/me")).bearer(key).send().await.status
}

#[tokio::test]
async fn a_key_is_shown_once_and_reads_the_profile_with_its_scopes() {
    let app = TestApp::spawn().await;
    let email = unique_email("keys");
    let (access, _) = app.logged_in(&email).await;
    let r = app
        .post(KEYS, json!({"label": "nightly export", "scopes": ["read", "tasks:read"]}))
        .bearer(&access)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let raw = r.body["data"]["raw_key"].as_str().unwrap().to_owned();
    let key = &r.body["data"]["api_key"];
    let id = key["id"].as_str().unwrap();
    assert!(raw.starts_with(&format!("ak_{id}_")), "{raw}");
    // 256 bits of secret in base64url.
    assert!(raw.len() - format!("ak_{id}_").len() >= 43);
    assert!(raw.starts_with(key["prefix"].as_str().unwrap()) && key["prefix"].as_str().unwrap().len() < 20);
    assert_eq!(key["label"], "nightly export");
    assert_eq!(key["scopes"], json!(["read", "tasks:read"]));
    assert_eq!(key["last_used_at"], Value::Null);
    // No expiry asked: API_KEY_MAX_TTL_DAYS (365) from now.
    let expires: DateTime<Utc> = key["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - Utc::now()).num_hours() as f64 / 24.0;
    assert!((364.9..=365.1).contains(&days), "{days} days");

    // The list never shows the secret.
    let list = app.get(KEYS).bearer(&access).send().await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["data"]["api_keys"][0]["id"], id);
    assert!(!list.text.contains(&raw[raw.len() - 43..]), "{}", list.text);

    let profile = app.get("/api/v1/users/me").bearer(&raw).send().await;
    assert_eq!(profile.status, 200, "{}", profile.text);
    assert_eq!(profile.body["data"]["email"], email);
    let verified = app.get("/api/v1/auth/verify-token").bearer(&raw).send().await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.body["data"]["auth_kind"], "api_key");
    assert_eq!(verified.body["data"]["key_id"], id);
    assert_eq!(verified.body["data"]["scopes"], json!(["read", "tasks:read"]));
    assert_eq!(verified.body["data"]["expires_at"], key["expires_at"]);
}

#[tokio::test]
async fn a_route_refuses_a_key_without_its_scope_and_unknown_scopes_are_refused_at_creation() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("scopes")).await;
    let (reader, _) = new_key(&app, "", &access, json!({"label": "r", "scopes": ["read"]})).await;
    let r = app.get("/api/v1/health/detailed").bearer(&reader).send().await;
    r.assert_error(403, "insufficient_scope");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\", scope=\"system:read\"")
    );

    // `system:read` is not among the default scopes of a user's key: an app (for `default`, the
    // deployment's `API_KEY_SCOPES`) that wants its users to read the dependencies names it.
    let r = app.post(KEYS, json!({"label": "ops", "scopes": ["system:read"]})).bearer(&access).send().await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["scopes"], json!(["not_allowed"]));
    let ops_app = app.with_config(&[("API_KEY_SCOPES", "read system:read")]).await;
    let call = app.post(KEYS, json!({"label": "ops", "scopes": ["system:read"]})).bearer(&access);
    let r = app.send_to(&ops_app, call).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let ops = r.body["data"]["raw_key"].as_str().unwrap().to_owned();
    let r = app.get("/api/v1/health/detailed").bearer(&ops).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["dependencies"]["dynamodb"], "ok");

    let r = app.post(KEYS, json!({"label": "x", "scopes": ["admin"]})).bearer(&access).send().await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["scopes"], json!(["not_allowed"]));
    for bad in [
        json!({"label": "x"}),
        json!({"label": "x", "scopes": []}),
        json!({"scopes": ["read"]}),
        json!({"label": "x", "scopes": "read"}),
        json!({"label": "x", "scopes": [1]}),
    ] {
        app.post(KEYS, bad).bearer(&access).send().await.assert_error(400, "validation_failed");
    }

    // An app chooses its own allowed scopes.
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({"api_key_scopes": ["orders:read"]})).await;
    let base = format!("/apps/{id}");
    let (user, _) = app.logged_in_at(&base, &unique_email("app-user")).await;
    new_key(&app, &base, &user, json!({"label": "orders", "scopes": ["orders:read"]})).await;
    app.post(&format!("{base}{KEYS}"), json!({"label": "r", "scopes": ["read"]}))
        .bearer(&user)
        .send()
        .await
        .assert_error(400, "validation_failed");
}

#[tokio::test]
async fn a_key_expires_and_its_lifetime_is_bounded_by_configuration() {
    let app = TestApp::spawn_with(&[("API_KEY_MAX_TTL_DAYS", "1")]).await;
    let (access, _) = app.logged_in(&unique_email("expiry")).await;
    let soon = (Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (key, _) =
        new_key(&app, "", &access, json!({"label": "short", "scopes": ["read"], "expires_at": soon})).await;
    assert_eq!(me(&app, "", &key).await, 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    app.get("/api/v1/users/me").bearer(&key).send().await.assert_error(401, "unauthorized");
    let list = app.get(KEYS).bearer(&access).send().await;
    assert_eq!(list.body["data"]["api_keys"], json!([]), "an expired key is not listed");

    let (_, id) = new_key(&app, "", &access, json!({"label": "default", "scopes": ["read"]})).await;
    let list = app.get(KEYS).bearer(&access).send().await;
    let expires: DateTime<Utc> =
        list.body["data"]["api_keys"][0]["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(list.body["data"]["api_keys"][0]["id"], id);
    assert!((expires - Utc::now() - chrono::Duration::days(1)).num_seconds().abs() < 60, "{expires}");
    for at in [Utc::now() - chrono::Duration::minutes(1), Utc::now() + chrono::Duration::days(2)] {
        let r = app
            .post(KEYS, json!({"label": "x", "scopes": ["read"], "expires_at": at.to_rfc3339()}))
            .bearer(&access)
            .send()
            .await;
        r.assert_error(400, "validation_failed");
        assert!(r.body["error"]["fields"]["expires_at"].is_array(), "{}", r.text);
    }
    app.post(KEYS, json!({"label": "x", "scopes": ["read"], "expires_at": "tomorrow"}))
        .bearer(&access)
        .send()
        .await
        .assert_error(400, "validation_failed");
}

#[tokio::test]
async fn revoking_kills_a_key_at_once_and_another_users_key_is_not_found() {
    let app = TestApp::spawn().await;
    let (alice, _) = app.logged_in(&unique_email("alice")).await;
    let (bob, _) = app.logged_in(&unique_email("bob")).await;
    let (key, id) = new_key(&app, "", &alice, json!({"label": "a", "scopes": ["read"]})).await;
    assert_eq!(me(&app, "", &key).await, 200);

    // Bob cannot touch Alice's key, and cannot tell it exists.
    app.call("DELETE", &format!("{KEYS}/{id}")).bearer(&bob).send().await.assert_error(404, "not_found");
    app.post(&format!("{KEYS}/{id}/rotate"), json!({}))
        .bearer(&bob)
        .send()
        .await
        .assert_error(404, "not_found");
    app.call("DELETE", &format!("{KEYS}/not-a-key")).bearer(&bob).send().await.assert_error(404, "not_found");
    assert_eq!(me(&app, "", &key).await, 200);

    let r = app.call("DELETE", &format!("{KEYS}/{id}")).bearer(&alice).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get("/api/v1/users/me").bearer(&key).send().await.assert_error(401, "unauthorized");
    app.call("DELETE", &format!("{KEYS}/{id}")).bearer(&alice).send().await.assert_error(404, "not_found");
    assert_eq!(app.get(KEYS).bearer(&alice).send().await.body["data"]["api_keys"], json!([]));
}

#[tokio::test]
async fn rotation_without_grace_kills_the_old_secret_and_with_grace_keeps_it_a_while() {
    let app = TestApp::spawn().await;
    let email = unique_email("rotate");
    let (access, _) = app.logged_in(&email).await;
    let (old, id) = new_key(&app, "", &access, json!({"label": "svc", "scopes": ["read"]})).await;
    let r = app.post(&format!("{KEYS}/{id}/rotate"), json!({})).bearer(&access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new = r.body["data"]["new_raw_key"].as_str().unwrap().to_owned();
    assert_eq!(r.body["data"]["api_key"]["id"], id.as_str());
    assert!(new.starts_with(&format!("ak_{id}_")) && new != old);
    app.get("/api/v1/users/me").bearer(&old).send().await.assert_error(401, "unauthorized");
    assert_eq!(me(&app, "", &new).await, 200);

    // With grace: both work, then only the new one.
    let r =
        app.post(&format!("{KEYS}/{id}/rotate"), json!({"grace_seconds": 2})).bearer(&access).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let newer = r.body["data"]["new_raw_key"].as_str().unwrap().to_owned();
    assert_eq!(me(&app, "", &new).await, 200, "the old secret works during the grace");
    assert_eq!(me(&app, "", &newer).await, 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    app.get("/api/v1/users/me").bearer(&new).send().await.assert_error(401, "unauthorized");
    assert_eq!(me(&app, "", &newer).await, 200);

    for bad in [json!({"grace_seconds": 86_401}), json!({"grace_seconds": -1}), json!({"grace_seconds": "1"})]
    {
        app.post(&format!("{KEYS}/{id}/rotate"), bad)
            .bearer(&access)
            .send()
            .await
            .assert_error(400, "validation_failed");
    }
    let user_id = app.get("/api/v1/users/me").bearer(&newer).send().await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let types = app.audit_types(&user_id).await;
    for event in ["api_key_created", "api_key_rotated"] {
        assert!(types.iter().any(|t| t == event), "{event} in {types:?}");
    }
    app.call("DELETE", &format!("{KEYS}/{id}")).bearer(&access).send().await;
    assert!(app.audit_types(&user_id).await.iter().any(|t| t == "api_key_revoked"));
}

/// An API key is not a session: it cannot manage keys, credentials or sessions.
#[tokio::test]
async fn a_key_cannot_manage_keys_credentials_or_sessions() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("not-a-session")).await;
    let (key, id) = new_key(&app, "", &access, json!({"label": "k", "scopes": ["read", "write"]})).await;
    let forbidden = [
        app.post(KEYS, json!({"label": "more", "scopes": ["read"]})).bearer(&key),
        app.get(KEYS).bearer(&key),
        app.post(&format!("{KEYS}/{id}/rotate"), json!({})).bearer(&key),
        app.call("DELETE", &format!("{KEYS}/{id}")).bearer(&key),
        app.post(
            "/api/v1/auth/password/change",
            json!({"current_password": PASSWORD, "new_password": "Quartz-Meadow-91-Sail"}),
        )
        .bearer(&key),
        app.get("/api/v1/auth/sessions").bearer(&key),
        app.call("DELETE", "/api/v1/auth/sessions").bearer(&key),
        app.post("/api/v1/auth/logout", json!({})).bearer(&key),
        app.post("/api/v1/account/deletion", json!({"password": PASSWORD})).bearer(&key),
        app.call("PATCH", "/api/v1/users/me").json(json!({"name": "Mallory"})).bearer(&key),
    ];
    for call in forbidden {
        let path = format!("{} {}", call.method, call.path);
        let r = call.send().await;
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{path}: {}", r.text);
    }
    assert_eq!(me(&app, "", &key).await, 200, "the key still works");

    // Nor can an app's secret key (its backend) make keys for anyone.
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({})).await;
    let r = app.post(&format!("/api/v1/console/apps/{id}/secret-keys"), json!({})).bearer(&dev).send().await;
    let secret = r.body["data"]["key"].as_str().unwrap().to_owned();
    let some_key = "0190f7c2-1a2b-7c3d-8e4f-0123456789ab";
    for call in [
        app.post(&format!("/apps/{id}{KEYS}"), json!({"label": "x", "scopes": ["read"]})).bearer(&secret),
        app.get(&format!("/apps/{id}{KEYS}")).bearer(&secret),
        app.post(&format!("/apps/{id}{KEYS}/{some_key}/rotate"), json!({})).bearer(&secret),
        app.call("DELETE", &format!("/apps/{id}{KEYS}/{some_key}")).bearer(&secret),
    ] {
        let r = call.send().await;
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.text);
    }
}

#[tokio::test]
async fn keys_stop_with_their_owner_disabled_or_deleting_and_the_erasure_removes_them() {
    let app = TestApp::spawn_with(&[("DELETION_GRACE_SECONDS", "3600")]).await;
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({})).await;
    let base = format!("/apps/{id}");
    let email = unique_email("owner");
    let (access, _) = app.logged_in_at(&base, &email).await;
    let (key, key_id) = new_key(&app, &base, &access, json!({"label": "k", "scopes": ["read"]})).await;
    let (second, _) = new_key(&app, &base, &access, json!({"label": "k2", "scopes": ["read"]})).await;
    let user_id = app.get(&format!("{base}/api/v1/users/me")).bearer(&key).send().await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_user = format!("{base}/api/v1/admin/users/{user_id}");

    // Disabled by the management API: every key stops at once; enabled: they work again.
    let r = app.call("PATCH", &admin_user).json(json!({"disabled": true})).bearer(&dev).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    for k in [&key, &second] {
        app.get(&format!("{base}/api/v1/users/me")).bearer(k).send().await.assert_error(401, "unauthorized");
        let decision = app.app.clone();
        let d = functions::events::authorizer::handle(
            &decision,
            authorizer_event_at(&format!("{base}/api/v1/users/me"), Some(&format!("Bearer {k}"))),
        )
        .await;
        assert_eq!(d.context["auth_kind"], "none", "the authorizer refuses it too");
    }
    let r = app.call("PATCH", &admin_user).json(json!({"disabled": false})).bearer(&dev).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(me(&app, &base, &key).await, 200);

    // A confirmed deletion stops them; a cancelled one brings them back. (The disabling ended the
    // sessions: a new login.)
    let login = app
        .post(&format!("{base}/api/v1/auth/login"), json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    let access = login.body["data"]["access_token"].as_str().expect("a new session").to_owned();
    let r = app
        .post(&format!("{base}/api/v1/account/deletion"), json!({"password": PASSWORD}))
        .bearer(&access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let confirm = app.token_from_mail(&email, "confirm-deletion").await;
    let r =
        app.post(&format!("{base}/api/v1/account/deletion/confirm"), json!({"token": confirm})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get(&format!("{base}/api/v1/users/me")).bearer(&key).send().await.assert_error(401, "unauthorized");
    let cancel = app.token_from_mail(&email, "cancel-deletion").await;
    let r =
        app.post(&format!("{base}/api/v1/account/deletion/cancel"), json!({"token": cancel})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(me(&app, &base, &key).await, 200);

    // Erased by the management API: the keys are gone from the table.
    let r = app.call("DELETE", &admin_user).bearer(&dev).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get(&format!("{base}/api/v1/users/me")).bearer(&key).send().await.assert_error(401, "unauthorized");
    let scan = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    assert!(!format!("{:?}", scan.items()).contains(&key_id), "no item of the key is left");
}

#[tokio::test]
async fn a_key_works_only_at_its_own_app() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let a = format!("/apps/{}", app.create_app(&dev, json!({})).await);
    let b = format!("/apps/{}", app.create_app(&dev, json!({})).await);
    let (access, _) = app.logged_in_at(&a, &unique_email("tenant")).await;
    let (key, _) = new_key(&app, &a, &access, json!({"label": "k", "scopes": ["read"]})).await;
    assert_eq!(me(&app, &a, &key).await, 200);
    for other in [b.as_str(), ""] {
        app.get(&format!("{other}/api/v1/users/me"))
            .bearer(&key)
            .send()
            .await
            .assert_error(401, "unauthorized");
        let d = functions::events::authorizer::handle(
            &app.app,
            authorizer_event_at(&format!("{other}/api/v1/users/me"), Some(&format!("Bearer {key}"))),
        )
        .await;
        assert_eq!(d.context["auth_kind"], "none", "at {other:?}");
    }
}

#[tokio::test]
async fn tampered_and_malformed_keys_are_401_never_500() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("tamper")).await;
    let (key, id) = new_key(&app, "", &access, json!({"label": "k", "scopes": ["read"]})).await;
    let mut tampered = key.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let huge = format!("ak_{id}_{}", "x".repeat(10 * 1024));
    let other_id = format!("ak_{}_{}", "0".repeat(20), &key[key.len() - 43..]);
    for bad in
        ["ak_", "ak_x_", "ak__", &format!("ak_{id}_"), &format!("ak_{id}"), &tampered, &huge, &other_id]
    {
        let r = app.get("/api/v1/users/me").bearer(bad).send().await;
        assert_eq!((r.status, r.code()), (401, "unauthorized"), "{bad:.40}: {}", r.text);
        let d = functions::events::authorizer::handle(
            &app.app,
            authorizer_event_at("/api/v1/users/me", Some(&format!("Bearer {bad}"))),
        )
        .await;
        assert_eq!(d.context["auth_kind"], "none");
    }
    assert_eq!(me(&app, "", &key).await, 200);
}

#[tokio::test]
async fn a_user_holds_at_most_the_configured_number_of_live_keys() {
    let app = TestApp::spawn_with(&[("MAX_API_KEYS_PER_USER", "3")]).await;
    let (access, _) = app.logged_in(&unique_email("limit")).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(new_key(&app, "", &access, json!({"label": format!("k{n}"), "scopes": ["read"]})).await.1);
    }
    app.post(KEYS, json!({"label": "one more", "scopes": ["read"]}))
        .bearer(&access)
        .send()
        .await
        .assert_error(409, "conflict");
    app.call("DELETE", &format!("{KEYS}/{}", ids[0])).bearer(&access).send().await;
    new_key(&app, "", &access, json!({"label": "room again", "scopes": ["read"]})).await;
    assert_eq!(
        app.get(KEYS).bearer(&access).send().await.body["data"]["api_keys"].as_array().unwrap().len(),
        3
    );
}

#[tokio::test]
async fn creating_keys_is_rate_limited_per_user() {
    fresh_rate_window().await;
    let app = TestApp::spawn_with(&[
        ("RATE_LIMITS", "on"),
        ("RATE_LIMIT_API_KEYS", "2"),
        ("RATE_LIMIT_LOGIN", "100"),
        ("RATE_LIMIT_REGISTER", "100"),
        ("RATE_LIMIT_VERIFY_EMAIL", "100"),
    ])
    .await;
    let (access, _) = app.logged_in(&unique_email("flood")).await;
    let mut ids = Vec::new();
    for n in 0..2 {
        ids.push(new_key(&app, "", &access, json!({"label": format!("k{n}"), "scopes": ["read"]})).await.1);
    }
    let r = app.post(KEYS, json!({"label": "k3", "scopes": ["read"]})).bearer(&access).send().await;
    r.assert_error(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    // Rotating and revoking count against the same quota.
    let id = &ids[0];
    let r = app.post(&format!("{KEYS}/{id}/rotate"), json!({})).bearer(&access).send().await;
    r.assert_error(429, "rate_limited");
    let r = app.call("DELETE", &format!("{KEYS}/{id}")).bearer(&access).send().await;
    r.assert_error(429, "rate_limited");
}

/// `last_used_at` moves, but is written at most once a minute per key: the authorizer's cost for a
/// key is then one DynamoDB read.
#[tokio::test]
async fn last_use_is_recorded_at_most_once_a_minute_and_the_authorizer_reads_once() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("used")).await;
    let (key, _) = new_key(&app, "", &access, json!({"label": "k", "scopes": ["read"]})).await;
    let bearer = format!("Bearer {key}");

    let (first, calls) = app.authorize_counted(Some(&bearer)).await;
    assert_eq!(first.context["auth_kind"], "api_key");
    assert_eq!(calls, vec!["GetItem", "UpdateItem"], "the first use is recorded");
    let listed = app.get(KEYS).bearer(&access).send().await;
    let used: DateTime<Utc> =
        listed.body["data"]["api_keys"][0]["last_used_at"].as_str().unwrap().parse().unwrap();
    assert!((Utc::now() - used).num_seconds() < 30);

    for _ in 0..3 {
        let (again, calls) = app.authorize_counted(Some(&bearer)).await;
        assert_eq!(again.context["auth_kind"], "api_key");
        assert_eq!(calls, vec!["GetItem"], "one read by key id, no write within the minute");
    }
    // Another container (a fresh process would have an empty memory) also sees the recent use on
    // the key item itself and writes nothing.
    let (r, calls) = app.counted(app.get("/api/v1/users/me").bearer(&key)).await;
    assert_eq!(r.status, 200);
    assert!(!calls.contains(&"UpdateItem"), "{calls:?}");
    let listed = app.get(KEYS).bearer(&access).send().await;
    assert_eq!(
        listed.body["data"]["api_keys"][0]["last_used_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        used
    );
}

/// The authorizer on a customer's own route (stage variable `auth_app_id`): the sample event is
/// denied as it is (no credential); with a key of the app it is allowed, with the key's user,
/// scopes and id in the context for the customer's function.
#[tokio::test]
async fn on_a_customers_route_the_authorizer_denies_the_unidentified_and_passes_a_keys_scopes() {
    let app = TestApp::spawn().await;
    let text = std::fs::read_to_string(repo_root().join("events/authorizer_customer_route.json")).unwrap();
    let sample: Value = serde_json::from_str(&text).unwrap();
    let with = |authorization: Option<&str>, app_id: &str| {
        let mut event = sample.clone();
        event["stageVariables"]["auth_app_id"] = json!(app_id);
        if let Some(a) = authorization {
            event["headers"]["authorization"] = json!(a);
        }
        serde_json::from_value::<functions::events::authorizer::AuthorizerRequest>(event).unwrap()
    };
    let denied = functions::events::authorizer::handle(&app.app, with(None, "default")).await;
    assert!(!denied.is_authorized);

    let (access, _) = app.logged_in(&unique_email("customer")).await;
    let (key, key_id) =
        new_key(&app, "", &access, json!({"label": "orders", "scopes": ["tasks:read", "read"]})).await;
    let allowed =
        functions::events::authorizer::handle(&app.app, with(Some(&format!("Bearer {key}")), "default"))
            .await;
    assert!(allowed.is_authorized);
    assert_eq!(allowed.context["auth_kind"], "api_key");
    assert_eq!(allowed.context["key_id"], key_id.as_str());
    assert_eq!(allowed.context["scopes"], "tasks:read read");
    assert!(allowed.context["user_id"].as_str().is_some_and(|u| !u.is_empty()));

    let session =
        functions::events::authorizer::handle(&app.app, with(Some(&format!("Bearer {access}")), "default"))
            .await;
    assert!(session.is_authorized);
    assert_eq!(session.context["auth_kind"], "session");

    // A key of this app at a route of another app, garbage, an unknown app: denied.
    let dev = app.developer(&unique_email("dev")).await;
    let other = app.create_app(&dev, json!({})).await;
    for (authorization, app_id) in [
        (format!("Bearer {key}"), other.as_str()),
        ("Bearer ak_nonsense".to_owned(), "default"),
        (format!("Bearer {key}"), "app_0000000000000000"),
        (format!("Bearer {key}"), "not an app"),
    ] {
        let d = functions::events::authorizer::handle(&app.app, with(Some(&authorization), app_id)).await;
        assert!(!d.is_authorized, "{app_id}");
    }
    app.call("DELETE", &format!("{KEYS}/{key_id}")).bearer(&access).send().await;
    let revoked =
        functions::events::authorizer::handle(&app.app, with(Some(&format!("Bearer {key}")), "default"))
            .await;
    assert!(!revoked.is_authorized, "a revoked key is denied at once");
}

/// Concurrent creations cannot pass the limit together: each counts the live keys and writes under
/// the user's key version, so of racing writers at one version only one commits.
#[tokio::test]
async fn concurrent_creations_never_pass_the_limit() {
    let app = TestApp::spawn_with(&[("MAX_API_KEYS_PER_USER", "3")]).await;
    let (access, _) = app.logged_in(&unique_email("race-limit")).await;
    let calls = (0..8).map(|i| {
        app.post(KEYS, json!({"label": format!("k{i}"), "scopes": ["read"]})).bearer(&access).send()
    });
    let answers = futures::future::join_all(calls).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    for r in &answers {
        assert!(r.status == 201 || r.code() == "conflict", "{}", r.text);
    }
    assert!((1..=3).contains(&created), "{created} created");
    let listed =
        app.get(KEYS).bearer(&access).send().await.body["data"]["api_keys"].as_array().unwrap().len();
    assert_eq!(listed, created);
}

/// A key whose creation races its owner's disabling cannot come out working: the disabling writes
/// its status onto every key it read, and commits only if no key came since (the key version).
/// Creations are staggered across the disabling's reads and write, over several rounds.
#[tokio::test]
async fn a_key_created_while_its_owner_is_being_disabled_is_stopped_too() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({})).await;
    let base = format!("/apps/{id}");
    let email = unique_email("race-disable");
    let (mut access, _) = app.logged_in_at(&base, &email).await;
    let user_id = app.get(&format!("{base}/api/v1/users/me")).bearer(&access).send().await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_user = format!("{base}/api/v1/admin/users/{user_id}");
    let mut raced = 0;
    for round in 0..8 {
        let creations = (0..6).map(|i| {
            let call = app
                .post(&format!("{base}{KEYS}"), json!({"label": format!("r{round}k{i}"), "scopes": ["read"]}))
                .bearer(&access);
            async move {
                tokio::time::sleep(Duration::from_millis(4 * i)).await;
                call.send().await
            }
        });
        let disable = app.call("PATCH", &admin_user).json(json!({"disabled": true})).bearer(&dev).send();
        let (created, disabled) = futures::future::join(futures::future::join_all(creations), disable).await;
        assert_eq!(disabled.status, 200, "{}", disabled.text);
        let made: Vec<&str> = created
            .iter()
            .filter(|r| r.status == 201)
            .map(|r| r.body["data"]["raw_key"].as_str().unwrap())
            .collect();
        raced += usize::from(!made.is_empty() && made.len() < created.len());
        for key in made {
            app.get(&format!("{base}/api/v1/users/me"))
                .bearer(key)
                .send()
                .await
                .assert_error(401, "unauthorized");
        }
        // Enabled again, with a new session (the disabling ended them); its keys all work again.
        let r = app.call("PATCH", &admin_user).json(json!({"disabled": false})).bearer(&dev).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        let login = app
            .post(&format!("{base}/api/v1/auth/login"), json!({"email": email, "password": PASSWORD}))
            .send()
            .await;
        access = login.body["data"]["access_token"].as_str().unwrap().to_owned();
        let revoke_all = app.get(&format!("{base}{KEYS}")).bearer(&access).send().await;
        for key in revoke_all.body["data"]["api_keys"].as_array().unwrap() {
            app.call("DELETE", &format!("{base}{KEYS}/{}", key["id"].as_str().unwrap()))
                .bearer(&access)
                .send()
                .await;
        }
    }
    assert!(raced > 0, "some round had creations on both sides of the disabling");
}

/// Nothing the old credential made outlives a reset: a password reset by mail ends every key of
/// the user; a change ends them too unless the user says `keep_api_keys: true`. A key made after
/// the change works.
#[tokio::test]
async fn a_password_reset_or_change_ends_the_users_keys_unless_a_change_keeps_them() {
    let app = TestApp::spawn().await;
    let email = unique_email("keys-reset");
    let (access, _) = app.logged_in(&email).await;
    let (first, _) = new_key(&app, "", &access, json!({"label": "ci", "scopes": ["read"]})).await;
    let (second, _) = new_key(&app, "", &access, json!({"label": "backup", "scopes": ["read"]})).await;
    assert_eq!((me(&app, "", &first).await, me(&app, "", &second).await), (200, 200));

    // A change that keeps them.
    let change = |current: &str, new: &str, keep: Option<Value>| {
        let mut body = json!({"current_password": current, "new_password": new});
        if let Some(keep) = keep {
            body["keep_api_keys"] = keep;
        }
        app.post("/api/v1/auth/password/change", body).bearer(&access).send()
    };
    let r = change(PASSWORD, "Obsidian-Lantern-77-Quay", Some(json!(true))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((me(&app, "", &first).await, me(&app, "", &second).await), (200, 200), "kept");
    change("Obsidian-Lantern-77-Quay", "Basalt-Harbour-31-Veil", Some(json!("yes")))
        .await
        .assert_error(400, "validation_failed");
    // A change that does not say: they end, and vanish from the list.
    let r = change("Obsidian-Lantern-77-Quay", "Basalt-Harbour-31-Veil", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((me(&app, "", &first).await, me(&app, "", &second).await), (401, 401));
    let list = app.get(KEYS).bearer(&access).send().await;
    assert_eq!(list.body["data"]["api_keys"], json!([]), "{}", list.text);
    let (third, _) = new_key(&app, "", &access, json!({"label": "after", "scopes": ["read"]})).await;
    assert_eq!(me(&app, "", &third).await, 200);

    // A reset by mail never keeps them.
    app.post("/api/v1/auth/password/reset", json!({"email": email})).send().await;
    let token = app.token_from_mail(&email, "reset-password").await;
    let r = app
        .post(
            "/api/v1/auth/password/reset/confirm",
            json!({"token": token, "new_password": "Granite-Meadow-58-Spire", "keep_api_keys": true}),
        )
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(me(&app, "", &third).await, 401);
}

/// The most keys a user may hold, with sessions beside them, all end in the reset's one
/// transaction (DynamoDB's 100 items: two a key, and the sessions as many as fit, whose
/// credential version ends the rest).
#[tokio::test]
async fn a_reset_ends_the_most_keys_a_user_may_hold() {
    let app = TestApp::spawn_with(&[("MAX_API_KEYS_PER_USER", "45"), ("MAX_SESSIONS_PER_USER", "10")]).await;
    let email = unique_email("many-keys");
    let (access, _) = app.logged_in(&email).await;
    let mut raws = Vec::new();
    for i in 0..45 {
        raws.push(new_key(&app, "", &access, json!({"label": format!("k{i}"), "scopes": ["read"]})).await.0);
    }
    for _ in 0..9 {
        assert_eq!(app.login(&email, PASSWORD).await.status, 200);
    }
    app.post("/api/v1/auth/password/reset", json!({"email": email})).send().await;
    let token = app.token_from_mail(&email, "reset-password").await;
    let r = app
        .post(
            "/api/v1/auth/password/reset/confirm",
            json!({"token": token, "new_password": "Granite-Meadow-58-Spire"}),
        )
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for raw in [&raws[0], &raws[22], &raws[44]] {
        assert_eq!(me(&app, "", raw).await, 401);
    }
    let fresh = app.login(&email, "Granite-Meadow-58-Spire").await;
    let fresh = fresh.body["data"]["access_token"].as_str().unwrap().to_owned();
    let list = app.get(KEYS).bearer(&fresh).send().await;
    assert_eq!(list.body["data"]["api_keys"], json!([]), "{}", list.text);
    // The entries went with the keys: the user may hold 45 again.
    for i in 0..45 {
        new_key(&app, "", &fresh, json!({"label": format!("again{i}"), "scopes": ["read"]})).await;
    }
}
