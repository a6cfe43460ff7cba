//! OAuth clients of an app, registered by its developer in the console (contract: "Console API",
//! oauth-clients): confidential ones with a secret shown once, public ones without, exact redirect
//! URIs, the scopes the app offers, and the grants each type may use.

use auth_tests::{TestApp, unique_email};
use serde_json::json;

#[tokio::test]
async fn a_developer_registers_lists_changes_rotates_and_deletes_oauth_clients() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let id = app
        .create_app(&dev, json!({"oauth_scopes": [{"name": "tasks:read", "description": "Read your tasks"}]}))
        .await;
    let clients = format!("/api/v1/console/apps/{id}/oauth-clients");

    let r = app
        .post(
            &clients,
            json!({"name": "Acme CRM", "type": "confidential", "redirect_uris": ["https://crm.example/cb/"],
                                "scopes": ["openid", "email", "tasks:read", "offline_access"]}),
        )
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let created = &r.body["data"];
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(client_id.starts_with("oc_") && secret.starts_with("ocs_"), "{created}");
    assert_eq!(created["redirect_uris"], json!(["https://crm.example/cb/"]), "kept exactly as given");
    assert_eq!(created["grant_types"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(created["first_party"], false);

    let spa = app
        .post(&clients, json!({"name": "Acme SPA", "type": "public", "redirect_uris": ["http://localhost:5173/cb", "com.acme.app:/cb"]}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(spa.status, 201, "{}", spa.text);
    assert!(spa.body["data"].get("client_secret").is_none(), "a public client has no secret");
    assert_eq!(spa.body["data"]["scopes"], json!(["openid", "profile", "email"]));

    let listed = app.get(&clients).bearer(&dev).send().await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let names: Vec<_> =
        listed.body["data"]["oauth_clients"].as_array().unwrap().iter().map(|c| c["name"].clone()).collect();
    assert_eq!(names, [json!("Acme CRM"), json!("Acme SPA")]);
    assert!(!listed.text.contains(&secret), "no secret in lists");

    let one = format!("{clients}/{client_id}");
    let r = app
        .call("PATCH", &one)
        .json(json!({"name": "Acme CRM (prod)", "first_party": true}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["name"], "Acme CRM (prod)");
    assert_eq!(r.body["data"]["redirect_uris"], json!(["https://crm.example/cb/"]), "the rest stays");
    app.call("PATCH", &one)
        .json(json!({"type": "public"}))
        .bearer(&dev)
        .send()
        .await
        .assert_error(400, "validation_failed");
    let got = app.get(&one).bearer(&dev).send().await;
    assert_eq!(got.body["data"]["first_party"], true);

    let rotated = app.post(&format!("{one}/rotate-secret"), json!({})).bearer(&dev).send().await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let new_secret = rotated.body["data"]["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let spa_id = spa.body["data"]["client_id"].as_str().unwrap();
    app.post(&format!("{clients}/{spa_id}/rotate-secret"), json!({}))
        .bearer(&dev)
        .send()
        .await
        .assert_error(409, "conflict");

    // Only hashes in the table.
    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    let table = format!("{:?}", items.items());
    assert!(!table.contains(&secret) && !table.contains(new_secret), "a client secret is stored in clear");

    assert_eq!(app.call("DELETE", &one).bearer(&dev).send().await.status, 200);
    app.get(&one).bearer(&dev).send().await.assert_error(404, "not_found");
    app.call("DELETE", &one).bearer(&dev).send().await.assert_error(404, "not_found");
    app.get(&format!("{clients}/not-a-client")).bearer(&dev).send().await.assert_error(404, "not_found");
}

#[tokio::test]
async fn client_settings_are_checked_and_only_the_apps_owner_reaches_them() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({})).await;
    let clients = format!("/api/v1/console/apps/{id}/oauth-clients");
    let refused = |body: serde_json::Value, field: &'static str, rule: &'static str| {
        let call = app.post(&clients, body).bearer(&dev);
        async move {
            let r = call.send().await;
            r.assert_error(400, "validation_failed");
            let rules = r.body["error"]["fields"][field].as_array().cloned().unwrap_or_default();
            assert!(rules.contains(&json!(rule)), "{field}: {rule} in {}", r.text);
        }
    };
    let cb = json!(["https://rp.example/cb"]);
    refused(json!({"redirect_uris": cb}), "name", "required").await;
    refused(json!({"name": "X"}), "redirect_uris", "required").await;
    refused(
        json!({"name": "X", "redirect_uris": ["http://rp.example/cb"]}),
        "redirect_uris",
        "must_be_https",
    )
    .await;
    refused(
        json!({"name": "X", "redirect_uris": ["https://rp.example/cb#f"]}),
        "redirect_uris",
        "no_fragment",
    )
    .await;
    refused(
        json!({"name": "X", "redirect_uris": ["https://*.rp.example/cb"]}),
        "redirect_uris",
        "no_wildcards",
    )
    .await;
    refused(
        json!({"name": "X", "redirect_uris": ["com.rp.app:/cb"]}),
        "redirect_uris",
        "must_be_https_or_private_use_scheme",
    )
    .await;
    refused(
        json!({"name": "X", "redirect_uris": cb, "scopes": ["admin"]}),
        "scopes",
        "not_offered_by_the_app",
    )
    .await;
    refused(
        json!({"name": "X", "redirect_uris": cb, "grant_types": ["password"]}),
        "grant_types",
        "unknown_grant_type",
    )
    .await;
    refused(
        json!({"name": "X", "type": "public", "redirect_uris": cb, "grant_types": ["client_credentials"]}),
        "grant_types",
        "client_credentials_needs_a_confidential_client",
    )
    .await;
    refused(
        json!({"name": "X", "type": "other", "redirect_uris": cb}),
        "type",
        "must_be_confidential_or_public",
    )
    .await;
    // A machine client needs no redirect URI.
    let r = app
        .post(&clients, json!({"name": "Cron", "grant_types": ["client_credentials"]}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let client_id = r.body["data"]["client_id"].as_str().unwrap().to_owned();

    // Another developer: no such app, no such client.
    let other = app.developer(&unique_email("other")).await;
    app.get(&clients).bearer(&other).send().await.assert_error(404, "not_found");
    app.post(&clients, json!({"name": "X", "redirect_uris": cb}))
        .bearer(&other)
        .send()
        .await
        .assert_error(404, "not_found");
    app.get(&format!("{clients}/{client_id}")).bearer(&other).send().await.assert_error(404, "not_found");
    app.call("DELETE", &format!("{clients}/{client_id}"))
        .bearer(&other)
        .send()
        .await
        .assert_error(404, "not_found");
    app.call("PATCH", &format!("{clients}/{client_id}"))
        .json(json!({"name": "Mine now"}))
        .bearer(&other)
        .send()
        .await
        .assert_error(404, "not_found");
    app.post(&format!("{clients}/{client_id}/rotate-secret"), json!({}))
        .bearer(&other)
        .send()
        .await
        .assert_error(404, "not_found");
    // A redirect URI a parser would silently change is refused.
    refused(
        json!({"name": "X", "redirect_uris": ["https://rp.example/c\tb"]}),
        "redirect_uris",
        "invalid_redirect_uri",
    )
    .await;
    app.get(&clients).send().await.assert_error(401, "unauthorized");
    // The app's own scopes are checked too.
    let r = app
        .call("PATCH", &format!("/api/v1/console/apps/{id}"))
        .json(json!({"oauth_scopes": [{"name": "openid", "description": "x"}]}))
        .bearer(&dev)
        .send()
        .await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["oauth_scopes"], json!(["standard_scope_redefined"]));
}
