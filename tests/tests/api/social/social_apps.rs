//! Social login per app: a developer configures an app's own provider credentials in the console
//! (contract: "Console API", providers), and those serve that app's sign-ins and no other's.

use auth_tests::{Social, TestApp, stand_ins, unique_email};
use serde_json::json;

/// An app's callback of a provider, as the developer registers it at the provider.
fn callback(id: &str, provider: &str) -> String {
    format!("https://auth.test/apps/{id}/api/v1/auth/oauth/{provider}/callback")
}

#[tokio::test]
async fn an_apps_own_google_credentials_serve_that_app_and_never_another() {
    let logs = auth_tests::Captured::install();
    let app = TestApp::spawn_with(&[("GOOGLE_ISSUER", stand_ins().google.as_str())]).await;
    let dev = app.developer(&unique_email("dev")).await;
    let a = app.create_app(&dev, json!({"name": "A"})).await;
    let b = app.create_app(&dev, json!({"name": "B"})).await;
    let endpoints = stand_ins();
    let (client_id, client_secret) =
        auth_tests::register_client_at(&endpoints.google, &callback(&a, "google")).await;
    // A second client of the same Google project: the app's iOS client, say.
    let (ios_id, ios_secret) = auth_tests::register_client(&endpoints.google).await;

    let providers = format!("/api/v1/console/apps/{a}/providers");
    let put = app
        .call("PUT", &format!("{providers}/google"))
        .json(json!({"client_id": client_id, "client_secret": client_secret, "extra_client_ids": [ios_id]}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.body["data"]["configured"], true);
    assert_eq!(put.body["data"]["client_id"], client_id.as_str());
    assert!(!put.text.contains(&client_secret), "the secret is write-only");
    let listed = app.get(&providers).bearer(&dev).send().await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let rows = listed.body["data"]["providers"].as_array().unwrap().clone();
    let summary: Vec<_> = rows.iter().map(|p| (p["provider"].clone(), p["configured"].clone())).collect();
    assert_eq!(
        summary,
        [(json!("google"), json!(true)), (json!("apple"), json!(false)), (json!("github"), json!(false))]
    );
    assert_eq!(rows[0]["extra_client_ids"], json!([ios_id]));
    assert!(!listed.text.contains(&client_secret));

    // The app's own routes offer Google and sign in through the app's client.
    let at_a = format!("/apps/{a}");
    let offered = app.get(&format!("{at_a}/api/v1/auth/oauth/providers")).send().await;
    assert_eq!(offered.body["data"]["providers"], json!([{"id": "google", "name": "Google"}]));
    let google = Social { endpoints: endpoints.clone(), client_id: client_id.clone(), client_secret };
    let email = unique_email("per-app");
    let back = google.sign_in(&app, &format!("{at_a}/api/v1/auth/oauth/google"), &email).await;
    let r = back.callback(&app).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let access = r.body["data"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(auth_tests::jwt_payload(&access)["iss"], format!("https://auth.test/apps/{a}"));
    // Linking from a session also goes through the app's client.
    let link =
        app.post(&format!("{at_a}/api/v1/auth/oauth/google/link"), json!({})).bearer(&access).send().await;
    assert_eq!(link.status, 200, "{}", link.text);
    let authorize = url::Url::parse(link.body["data"]["authorization_url"].as_str().unwrap()).unwrap();
    assert!(authorize.query_pairs().any(|(k, v)| k == "client_id" && v == client_id.as_str()));

    // A native app: an ID token for one of the extra client ids, and a code of its own.
    let ios = Social { endpoints: endpoints.clone(), client_id: ios_id.clone(), client_secret: ios_secret };
    let token = ios.id_token(&email, "n").await;
    let native = format!("{at_a}/api/v1/auth/oauth/google/token");
    let r = app.post(&native, json!({"id_token": token, "nonce": "n"})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (code, verifier) =
        auth_tests::code_at(&endpoints.google, &client_id, &callback(&a, "google"), &email, "n").await;
    let r = app
        .post(
            &native,
            json!({"code": code, "code_verifier": verifier, "redirect_uri": callback(&a, "google")}),
        )
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email"], email);

    // App B has none of it: no provider, no sign-in, and A's token is nothing to it.
    let at_b = format!("/apps/{b}");
    let offered = app.get(&format!("{at_b}/api/v1/auth/oauth/providers")).send().await;
    assert_eq!(offered.body["data"]["providers"], json!([]));
    app.get(&format!("{at_b}/api/v1/auth/oauth/google")).send().await.assert_error(404, "not_found");
    let token = ios.id_token(&email, "n").await;
    app.post(&format!("{at_b}/api/v1/auth/oauth/google/token"), json!({"id_token": token, "nonce": "n"}))
        .send()
        .await
        .assert_error(404, "not_found");
    // B with a Google client of its own still refuses A's ID tokens (another audience).
    let (b_id, b_secret) = auth_tests::register_client_at(&endpoints.google, &callback(&b, "google")).await;
    let put = app
        .call("PUT", &format!("/api/v1/console/apps/{b}/providers/google"))
        .json(json!({"client_id": b_id, "client_secret": b_secret}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    let r = app
        .post(&format!("{at_b}/api/v1/auth/oauth/google/token"), json!({"id_token": token, "nonce": "n"}))
        .send()
        .await;
    r.assert_error(400, "oauth_failed");
    assert!(r.text.contains("audience"), "{}", r.text);

    // Neither secret is in the table, its stream or the logs; the sealed one is bound to A.
    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    let table = format!("{:?}{}", items.items(), app.stream_text().await);
    assert!(table.contains("PROVIDER#google"), "the provider items are in the table");
    for secret in [&google.client_secret, &b_secret] {
        assert!(!table.contains(secret.as_str()), "a client secret is stored in clear");
        assert!(!logs.text().contains(secret.as_str()), "a client secret is in the logs");
    }

    // Removed: A's sign-ins stop at once; removing again is 404.
    let gone = app.call("DELETE", &format!("{providers}/google")).bearer(&dev).send().await;
    assert_eq!(gone.status, 200, "{}", gone.text);
    app.get(&format!("{at_a}/api/v1/auth/oauth/google")).send().await.assert_error(404, "not_found");
    let listed = app.get(&providers).bearer(&dev).send().await;
    assert_eq!(listed.body["data"]["providers"][0]["configured"], false);
    app.call("DELETE", &format!("{providers}/google"))
        .bearer(&dev)
        .send()
        .await
        .assert_error(404, "not_found");
}

/// Sign in with Apple for an app: its own Services ID, team, key id and `.p8` key, the client
/// secret signed with that key for each exchange.
#[tokio::test]
async fn an_app_configures_sign_in_with_apple_with_its_own_key() {
    let endpoints = stand_ins();
    let app = TestApp::spawn_with(&[("APPLE_ISSUER", endpoints.apple.as_str())]).await;
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({"name": "Apple app"})).await;
    let (client_id, pem) = auth_tests::apple_client(&endpoints.apple, &callback(&id, "apple")).await;
    let put = app
        .call("PUT", &format!("/api/v1/console/apps/{id}/providers/apple"))
        .json(json!({"client_id": client_id, "team_id": auth_tests::APPLE_TEAM_ID,
                     "key_id": auth_tests::APPLE_KEY_ID, "private_key": pem}))
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.body["data"]["team_id"], auth_tests::APPLE_TEAM_ID);
    assert!(!put.text.contains("PRIVATE KEY"), "the key is write-only");

    let apple = auth_tests::Apple { endpoints, client_id };
    let email = unique_email("apple-app");
    let r = app.apple_sign_in_at(&format!("/apps/{id}"), &apple, &email).await.send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["user"]["email"], email);
    let items = app.dynamodb().await.scan().table_name(&app.config.table_name).send().await.unwrap();
    let body = pem.lines().nth(1).unwrap();
    assert!(!format!("{:?}", items.items()).contains(body), "the key is stored in clear");
}

/// What the console takes for a provider, field by field; another developer's app is 404.
#[tokio::test]
async fn provider_settings_are_checked_and_only_the_owner_reaches_them() {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let id = app.create_app(&dev, json!({})).await;
    let at = |p: &str| format!("/api/v1/console/apps/{id}/providers/{p}");
    let put = |p: &str, body: serde_json::Value| app.call("PUT", &at(p)).json(body).bearer(&dev);

    let r = put("google", json!({"client_id": "c"})).send().await;
    r.assert_error(400, "validation_failed");
    assert!(r.body["error"]["fields"]["client_secret"].is_array(), "{}", r.text);
    let r = put("github", json!({"client_id": "has space", "client_secret": "s", "private_key": "x"}))
        .send()
        .await;
    r.assert_error(400, "validation_failed");
    assert!(
        r.body["error"]["fields"]["client_id"].is_array()
            && r.body["error"]["fields"]["private_key"].is_array()
    );
    let r =
        put("google", json!({"client_id": "c", "client_secret": "s", "extra_client_ids": "x"})).send().await;
    r.assert_error(400, "validation_failed");
    let too_many: Vec<String> = (0..11).map(|i| format!("c{i}")).collect();
    put("google", json!({"client_id": "c", "client_secret": "s", "extra_client_ids": too_many}))
        .send()
        .await
        .assert_error(400, "validation_failed");
    let r = put("apple", json!({"client_id": "com.example.web", "team_id": "team", "key_id": "KEY0000001",
                                "private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"}))
    .send()
    .await;
    r.assert_error(400, "validation_failed");
    let fields = &r.body["error"]["fields"];
    assert!(
        fields["team_id"].is_array() && fields["private_key"].is_array() && fields["key_id"].is_null(),
        "{r:?}",
        r = r.text
    );
    put("nope", json!({"client_id": "c", "client_secret": "s"})).send().await.assert_error(404, "not_found");
    app.call("PUT", &at("google"))
        .raw("{", "application/json")
        .bearer(&dev)
        .send()
        .await
        .assert_error(400, "malformed_request");

    // Another developer sees no such app.
    let other = app.developer(&unique_email("other")).await;
    app.get(&format!("/api/v1/console/apps/{id}/providers"))
        .bearer(&other)
        .send()
        .await
        .assert_error(404, "not_found");
    app.call("PUT", &at("google"))
        .json(json!({"client_id": "c", "client_secret": "s"}))
        .bearer(&other)
        .send()
        .await
        .assert_error(404, "not_found");
    app.call("DELETE", &at("google")).bearer(&other).send().await.assert_error(404, "not_found");
    // Without a console session: 401.
    app.get(&format!("/api/v1/console/apps/{id}/providers")).send().await.assert_error(401, "unauthorized");
}
