//! Apps: the console API that developers manage them with, the per-app settings every wave-1 flow
//! honours, and the isolation between apps (contract, "Apps", "Console API").

use auth_tests::{PASSWORD, TestApp, authorizer_event_at, jwt_payload, unique_email};
use serde_json::json;

// ----- console -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_developer_creates_lists_reads_changes_and_deletes_an_app() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;

    let r = app
        .post("/api/v1/console/apps", json!({"name": "Acme", "frontend_url": "https://acme.example/"}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let created = &r.body["data"];
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("app_") && id.len() == 20, "{id}");
    assert_eq!(created["name"], "Acme");
    assert_eq!(created["settings"]["frontend_url"], "https://acme.example");
    assert_eq!(created["settings"]["signup_enabled"], true);
    assert_eq!(created["settings"]["session_scopes"], json!(["read", "write"]));
    assert_eq!(created["settings"]["access_token_ttl_seconds"], 3600);
    assert_eq!(created["issuer"], format!("{}/apps/{id}", app.config.jwt_issuer));
    assert_eq!(created["owner"], jwt_payload(&dev)["sub"]);

    let list = app.get("/api/v1/console/apps").bearer(&dev).send().await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["data"]["apps"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["data"]["apps"][0]["id"], id.as_str());

    let get = app.get(&format!("/api/v1/console/apps/{id}")).bearer(&dev).send().await;
    assert_eq!(get.status, 200, "{}", get.text);
    assert_eq!(get.body["data"]["name"], "Acme");

    let bad = app
        .call("PATCH", &format!("/api/v1/console/apps/{id}"))
        .json(json!({"cors_origins": ["http://evil.example"], "redirect_urls": ["https://*.acme.example"]}))
        .bearer(&dev)
        .send()
        .await;
    bad.assert_error(400, "validation_failed");
    assert_eq!(bad.body["error"]["fields"]["cors_origins"], json!(["must_be_https"]));
    assert_eq!(bad.body["error"]["fields"]["redirect_urls"], json!(["no_wildcards"]));

    let patched = app
        .call("PATCH", &format!("/api/v1/console/apps/{id}"))
        .json(json!({"name": "Acme 2", "password_policy": "nist"}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["data"]["name"], "Acme 2");
    assert_eq!(patched.body["data"]["settings"]["password_policy"], "nist");
    assert_eq!(patched.body["data"]["settings"]["frontend_url"], "https://acme.example", "untouched");

    let deleted = app.call("DELETE", &format!("/api/v1/console/apps/{id}")).bearer(&dev).send().await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    app.get(&format!("/api/v1/console/apps/{id}")).bearer(&dev).send().await.assert_error(404, "not_found");
    let list = app.get("/api/v1/console/apps").bearer(&dev).send().await;
    assert_eq!(list.body["data"]["apps"], json!([]));
    // Every route of the deleted app is gone.
    app.get(&format!("/apps/{id}/api/v1/health")).send().await.assert_error(404, "not_found");
    app.post(
        &format!("/apps/{id}/api/v1/auth/register"),
        json!({"email": unique_email("gone"), "password": PASSWORD}),
    )
    .send()
    .await
    .assert_error(404, "not_found");
}

#[tokio::test]
async fn another_developers_app_is_not_found_and_unknown_ids_too() {
    let app = TestApp::spawn().await;
    let owner = app.developer(&unique_email("owner")).await;
    let other = app.developer(&unique_email("other")).await;
    let id = app.create_app(&owner, json!({})).await;
    let path = format!("/api/v1/console/apps/{id}");
    app.get(&path).bearer(&other).send().await.assert_error(404, "not_found");
    app.call("PATCH", &path)
        .json(json!({"name": "Mine"}))
        .bearer(&other)
        .send()
        .await
        .assert_error(404, "not_found");
    app.call("DELETE", &path).bearer(&other).send().await.assert_error(404, "not_found");
    let list = app.get("/api/v1/console/apps").bearer(&other).send().await;
    assert_eq!(list.body["data"]["apps"], json!([]));
    for unknown in ["app_0000000000000000", "app_NOTANID", "default", "x"] {
        app.get(&format!("/api/v1/console/apps/{unknown}"))
            .bearer(&owner)
            .send()
            .await
            .assert_error(404, "not_found");
    }
    // Still the owner's, unchanged.
    assert_eq!(app.get(&path).bearer(&owner).send().await.body["data"]["name"], "Test app");
}

#[tokio::test]
async fn the_console_takes_only_console_sessions() {
    let app = TestApp::spawn().await;
    let (user_of_default, _) = app.logged_in(&unique_email("enduser")).await;
    app.get("/api/v1/console/apps").bearer(&user_of_default).send().await.assert_error(401, "unauthorized");
    app.post("/api/v1/console/apps", json!({"name": "X"})).send().await.assert_error(401, "unauthorized");
    let dev = app.developer(&unique_email("dev")).await;
    app.post("/api/v1/console/apps", json!({}))
        .bearer(&dev)
        .send()
        .await
        .assert_error(400, "validation_failed");
}

#[tokio::test]
async fn a_developer_owns_at_most_max_apps_per_developer() {
    let app = TestApp::spawn_with(&[("MAX_APPS_PER_DEVELOPER", "2")]).await;
    let dev = app.developer(&unique_email("dev")).await;
    let first = app.create_app(&dev, json!({})).await;
    app.create_app(&dev, json!({})).await;
    let third = app.post("/api/v1/console/apps", json!({"name": "Third"})).bearer(&dev).send().await;
    third.assert_error(409, "conflict");
    // Deleting one makes room again.
    let r = app.call("DELETE", &format!("/api/v1/console/apps/{first}")).bearer(&dev).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.create_app(&dev, json!({})).await;
    // Another developer has a limit of their own.
    let other = app.developer(&unique_email("other")).await;
    app.create_app(&other, json!({})).await;
}

#[tokio::test]
async fn closed_console_signup_refuses_every_way_of_becoming_a_developer() {
    let app = TestApp::spawn_with(&[("CONSOLE_SIGNUP", "closed")]).await;
    let email = unique_email("would-be-dev");
    app.post("/apps/console/api/v1/auth/register", json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .assert_error(403, "forbidden");
    // The magic link answers as always (it must not tell which addresses have accounts) and sends
    // nothing that could create one.
    let r = app.post("/apps/console/api/v1/auth/magic-link", json!({"email": email})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(app.mails_to(&email).await.is_empty());
    // End users of the default app still sign up.
    app.verified_user(&unique_email("enduser")).await;
}

#[tokio::test]
async fn a_developer_who_owns_apps_cannot_confirm_their_accounts_deletion() {
    let app = TestApp::spawn().await;
    let email = unique_email("leaving-dev");
    let dev = app.developer(&email).await;
    let id = app.create_app(&dev, json!({})).await;
    let r = app
        .post("/apps/console/api/v1/account/deletion", json!({"password": PASSWORD}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = app.token_from_mail(&email, "confirm-deletion").await;
    let confirm = app.post("/apps/console/api/v1/account/deletion/confirm", json!({"token": token}));
    confirm.send().await.assert_error(409, "conflict");
    let r = app.call("DELETE", &format!("/api/v1/console/apps/{id}")).bearer(&dev).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.post("/apps/console/api/v1/account/deletion/confirm", json!({"token": token})).send().await;
    assert_eq!(r.status, 200, "the same link works once the apps are gone: {}", r.text);
}

// ----- per-app settings -----------------------------------------------------------------------------

#[tokio::test]
async fn each_app_has_its_own_issuer_audience_links_name_and_policies() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let id = app
        .create_app(
            &dev,
            json!({"name": "Acme", "frontend_url": "https://acme.example", "mail_from_name": "Acme Team",
                   "access_token_ttl_seconds": 600, "session_scopes": ["profile"]}),
        )
        .await;
    let base = format!("/apps/{id}");
    let email = unique_email("acme-user");
    let (access, _) = app.logged_in_at(&base, &email).await;

    // The verification mail: the app's links, its name, its sender.
    let mail = &app.mails_to(&email).await[0];
    assert!(mail.body.contains("https://acme.example/verify-email?token="), "{}", mail.body);
    assert_eq!(mail.subject, "Acme: Verify your email address");
    assert!(mail.body.contains("Acme"));
    assert!(mail.from.contains("Acme Team"), "{}", mail.from);

    // Its tokens: issuer, audience, tenant, lifetime and scopes.
    let claims = jwt_payload(&access);
    assert_eq!(claims["iss"], format!("{}/apps/{id}", app.config.jwt_issuer));
    assert_eq!(claims["aud"], id.as_str());
    assert_eq!(claims["tid"], id.as_str());
    assert_eq!(claims["scope"], "profile");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 600);
    let me = app.get(&format!("{base}/api/v1/users/me")).bearer(&access).send().await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["data"]["email"], email.as_str());

    // Its discovery document, at its base path.
    let d = app.get(&format!("{base}/.well-known/openid-configuration")).send().await;
    assert_eq!(d.body["issuer"], format!("{}/apps/{id}", app.config.jwt_issuer));
    assert_eq!(d.body["jwks_uri"], format!("{}/apps/{id}/.well-known/jwks.json", app.config.jwt_issuer));
    let jwks = app.get(&format!("{base}/.well-known/jwks.json")).send().await;
    assert_eq!(jwks.body, app.get("/.well-known/jwks.json").send().await.body, "one key ring signs for all");
}

#[tokio::test]
async fn password_policy_signup_and_cors_are_per_app() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let nist = app
        .create_app(&dev, json!({"password_policy": "nist", "cors_origins": ["https://nist.example"]}))
        .await;
    let closed = app.create_app(&dev, json!({"signup_enabled": false})).await;

    // Meets the default policy (at the root) but is shorter than NIST's 15 characters.
    let short = "Kettle-42-Dr1f";
    let r = app
        .post(
            &format!("/apps/{nist}/api/v1/auth/register"),
            json!({"email": unique_email("n"), "password": short}),
        )
        .send()
        .await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["password"], json!(["min_length_15"]));
    let r = app
        .post("/api/v1/auth/register", json!({"email": unique_email("n"), "password": short}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(
            &format!("/apps/{nist}/api/v1/auth/register"),
            json!({"email": unique_email("n"), "password": "a long passphrase nobody guesses"}),
        )
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    app.post(
        &format!("/apps/{closed}/api/v1/auth/register"),
        json!({"email": unique_email("c"), "password": PASSWORD}),
    )
    .send()
    .await
    .assert_error(403, "forbidden");

    // CORS answers the app's own origins at its paths, and only there; preflights too.
    let preflight = app
        .call("OPTIONS", &format!("/apps/{nist}/api/v1/auth/login"))
        .header("origin", "https://nist.example")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(preflight.status, 204, "{}", preflight.text);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("https://nist.example"));
    let foreign = app
        .call("OPTIONS", "/api/v1/auth/login")
        .header("origin", "https://nist.example")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(foreign.header("access-control-allow-origin"), None);
    // The app's OpenAPI document is the service's.
    let doc = app.get(&format!("/apps/{nist}/api/v1/openapi.json")).send().await;
    assert_eq!(doc.body["openapi"], "3.1.0");
    let at_nist =
        app.get(&format!("/apps/{nist}/api/v1/health")).header("origin", "https://nist.example").send().await;
    assert_eq!(at_nist.header("access-control-allow-origin"), Some("https://nist.example"));
    let at_default = app.get("/api/v1/health").header("origin", "https://nist.example").send().await;
    assert_eq!(at_default.header("access-control-allow-origin"), None);
    let at_closed = app
        .get(&format!("/apps/{closed}/api/v1/health"))
        .header("origin", "https://nist.example")
        .send()
        .await;
    assert_eq!(at_closed.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_changed_setting_takes_effect_and_a_warm_function_reads_no_settings_per_request() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({})).await;
    let health = format!("/apps/{id}/api/v1/health");
    // The first request of the container reads the app; the next ones do not.
    let (_, first) = app.counted(app.get(&health)).await;
    assert_eq!(first, vec!["GetItem"]);
    let (_, warm) = app.counted(app.get(&health)).await;
    assert!(warm.is_empty(), "{warm:?}");
    let r = app
        .call("PATCH", &format!("/api/v1/console/apps/{id}"))
        .json(json!({"signup_enabled": false}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.post(
        &format!("/apps/{id}/api/v1/auth/register"),
        json!({"email": unique_email("late"), "password": PASSWORD}),
    )
    .send()
    .await
    .assert_error(403, "forbidden");
}

#[tokio::test]
async fn unknown_and_malformed_app_ids_are_the_same_404() {
    let app = TestApp::spawn().await;
    for path in
        ["/apps/app_0000000000000000/api/v1/health", "/apps/APP_X/api/v1/health", "/apps/x%23y/api/v1/health"]
    {
        app.get(path).send().await.assert_error(404, "not_found");
    }
    // `/apps/default` is the root.
    assert_eq!(app.get("/apps/default/api/v1/health").send().await.status, 200);
}

// ----- isolation ---------------------------------------------------------------------------------

/// The same address registers in `default`, app A and app B as three accounts; every credential of
/// one app counts for nothing at another's paths.
#[tokio::test]
async fn nothing_of_one_app_is_usable_at_anothers_paths() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let a = format!("/apps/{}", app.create_app(&dev, json!({"name": "A"})).await);
    let b = format!("/apps/{}", app.create_app(&dev, json!({"name": "B"})).await);
    let email = unique_email("everywhere");
    let (root_access, root_refresh) = app.logged_in_at("", &email).await;
    let (a_access, a_refresh) = app.logged_in_at(&a, &email).await;
    let (b_access, _) = app.logged_in_at(&b, &email).await;
    let ids: Vec<_> =
        [&root_access, &a_access, &b_access].iter().map(|t| jwt_payload(t)["sub"].clone()).collect();
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2], "three unrelated accounts: {ids:?}");

    // Access tokens, refresh tokens: each works at home only.
    for (token, home, away) in
        [(&a_access, a.as_str(), b.as_str()), (&a_access, a.as_str(), ""), (&root_access, "", a.as_str())]
    {
        assert_eq!(app.get(&format!("{home}/api/v1/users/me")).bearer(token).send().await.status, 200);
        app.get(&format!("{away}/api/v1/users/me"))
            .bearer(token)
            .send()
            .await
            .assert_error(401, "unauthorized");
        let decision = functions::events::authorizer::handle(
            &app.app,
            authorizer_event_at(&format!("{away}/api/v1/users/me"), Some(&format!("Bearer {token}"))),
        )
        .await;
        assert_eq!(decision.context["auth_kind"], "none", "the authorizer identifies nobody at {away:?}");
    }
    let at_b =
        app.post(&format!("{b}/api/v1/auth/token/refresh"), json!({"refresh_token": a_refresh})).send().await;
    at_b.assert_error(401, "unauthorized");
    let at_root = app.post("/api/v1/auth/token/refresh", json!({"refresh_token": a_refresh})).send().await;
    at_root.assert_error(401, "unauthorized");
    let at_a = app
        .post(&format!("{a}/api/v1/auth/token/refresh"), json!({"refresh_token": root_refresh}))
        .send()
        .await;
    at_a.assert_error(401, "unauthorized");
    assert_eq!(
        app.post(&format!("{a}/api/v1/auth/token/refresh"), json!({"refresh_token": a_refresh}))
            .send()
            .await
            .status,
        200
    );

    // A session id of A, revoked with B's token at B: not B's session.
    let a_sid = jwt_payload(&a_access)["sid"].as_str().unwrap().to_owned();
    app.call("DELETE", &format!("{b}/api/v1/auth/sessions/{a_sid}"))
        .bearer(&b_access)
        .send()
        .await
        .assert_error(404, "not_found");

    // Single-use links: a reset link of A at B and at the root.
    app.post(&format!("{a}/api/v1/auth/password/reset"), json!({"email": email})).send().await;
    let reset = app.token_from_mail(&email, "reset-password").await;
    for away in [b.as_str(), ""] {
        app.post(
            &format!("{away}/api/v1/auth/password/reset/confirm"),
            json!({"token": reset, "new_password": "Another-pass-42x"}),
        )
        .send()
        .await
        .assert_error(400, "invalid_token");
    }
    // A magic link of B at A.
    app.post(&format!("{b}/api/v1/auth/magic-link"), json!({"email": email})).send().await;
    let magic = app.token_from_mail(&email, "magic-link").await;
    app.post(&format!("{a}/api/v1/auth/magic-link/verify"), json!({"token": magic}))
        .send()
        .await
        .assert_error(400, "invalid_token");
    // A verification link of a new account of A, at B.
    let fresh = unique_email("fresh");
    app.post(&format!("{a}/api/v1/auth/register"), json!({"email": fresh, "password": PASSWORD}))
        .send()
        .await;
    let verify = app.token_from_mail(&fresh, "verify-email").await;
    app.post(&format!("{b}/api/v1/auth/verify-email"), json!({"token": verify}))
        .send()
        .await
        .assert_error(400, "invalid_token");
    // And each works at home.
    assert_eq!(
        app.post(&format!("{a}/api/v1/auth/verify-email"), json!({"token": verify})).send().await.status,
        200
    );
    assert_eq!(
        app.post(&format!("{b}/api/v1/auth/magic-link/verify"), json!({"token": magic})).send().await.status,
        200
    );
    let r = app
        .post(
            &format!("{a}/api/v1/auth/password/reset/confirm"),
            json!({"token": reset, "new_password": "Another-pass-42x"}),
        )
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn deleting_an_app_erases_everything_of_it_and_nothing_of_another() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let doomed = app.create_app(&dev, json!({"name": "Doomed"})).await;
    let kept = app.create_app(&dev, json!({"name": "Kept"})).await;
    let (doomed_base, kept_base) = (format!("/apps/{doomed}"), format!("/apps/{kept}"));
    let email = unique_email("both");
    app.logged_in_at(&doomed_base, &email).await;
    app.logged_in_at(&kept_base, &email).await;
    let key =
        app.post(&format!("/api/v1/console/apps/{doomed}/secret-keys"), json!({})).bearer(&dev).send().await;
    let key = key.body["data"]["key"].as_str().unwrap().to_owned();
    // A user with a pending verification link, made by the app's backend.
    let r = app
        .post(&format!("{doomed_base}/api/v1/admin/users"), json!({"email": unique_email("pending")}))
        .bearer(&key)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    app.deliver_mail().await;

    let r = app.call("DELETE", &format!("/api/v1/console/apps/{doomed}")).bearer(&dev).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let out = functions::events::purge_accounts::handle(app.app.clone(), json!({})).await.unwrap();
    assert_eq!(out["apps_erased"], 1, "{out}");
    assert_eq!(out["app_users_erased"], 2, "{out}");

    let scan = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    let pk = |i: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
        i.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
    };
    let left: Vec<String> = scan
        .items()
        .iter()
        .map(pk)
        .filter(|pk| pk.starts_with(&format!("T#{doomed}#")) || pk.starts_with(&format!("APP#{doomed}")))
        // Rate-limit counters expire on their own within two minutes; decoys are born expired.
        .filter(|pk| !pk.contains("#RL#") && !pk.contains("#DECOY#"))
        .collect();
    assert_eq!(left, vec![format!("APP#{doomed}")], "only the tombstone is left");
    let key_hash = shared::crypto::token_hash(&key);
    assert!(!scan.items().iter().any(|i| pk(i).contains(&key_hash)), "the key's look-up is gone");
    // The other app and its user are untouched; the id stays taken.
    let r = app
        .post(&format!("{kept_base}/api/v1/auth/login"), json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get(&format!("{doomed_base}/api/v1/health")).send().await.assert_error(404, "not_found");
    let again = functions::events::purge_accounts::handle(app.app.clone(), json!({})).await.unwrap();
    assert_eq!(again["apps_erased"], 0, "finished apps leave the erasure index");
}

#[tokio::test]
async fn the_console_and_management_apis_are_rate_limited_per_caller() {
    let app =
        TestApp::spawn_with(&[("RATE_LIMITS", "on"), ("RATE_LIMIT_CONSOLE", "3"), ("RATE_LIMIT_ADMIN", "2")])
            .await;
    auth_tests::fresh_rate_window().await;
    let dev = app.developer(&unique_email("dev")).await;
    // The creation is the first console request of the minute, then two more pass.
    let id = app.create_app(&dev, json!({})).await;
    for _ in 0..2 {
        assert_eq!(app.get("/api/v1/console/apps").bearer(&dev).send().await.status, 200);
    }
    let over = app.get("/api/v1/console/apps").bearer(&dev).send().await;
    over.assert_error(429, "rate_limited");
    assert!(over.header("retry-after").is_some());
    let key = shared::console::issue_secret_key(&app.app, &shared::AppId::parse(&id).unwrap(), None, None)
        .await
        .unwrap();
    let users = format!("/apps/{id}/api/v1/admin/users");
    for _ in 0..2 {
        assert_eq!(app.get(&users).bearer(&key.key).send().await.status, 200);
    }
    app.get(&users).bearer(&key.key).send().await.assert_error(429, "rate_limited");
}

#[tokio::test]
async fn a_deletion_link_works_in_its_own_app_only() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let a = format!("/apps/{}", app.create_app(&dev, json!({})).await);
    let b = format!("/apps/{}", app.create_app(&dev, json!({})).await);
    let email = unique_email("leaving");
    let (access, _) = app.logged_in_at(&a, &email).await;
    let r = app
        .post(&format!("{a}/api/v1/account/deletion"), json!({"password": PASSWORD}))
        .bearer(&access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = app.token_from_mail(&email, "confirm-deletion").await;
    for away in ["", b.as_str()] {
        app.post(&format!("{away}/api/v1/account/deletion/confirm"), json!({"token": token}))
            .send()
            .await
            .assert_error(400, "invalid_token");
    }
    let r = app.post(&format!("{a}/api/v1/account/deletion/confirm"), json!({"token": token})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cancel = app.token_from_mail(&email, "cancel-deletion").await;
    app.post(&format!("{b}/api/v1/account/deletion/cancel"), json!({"token": cancel}))
        .send()
        .await
        .assert_error(400, "invalid_token");
    let r = app.post(&format!("{a}/api/v1/account/deletion/cancel"), json!({"token": cancel})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
}
