//! The app's OAuth provider, token side (contract: "The OAuth2 / OpenID Connect provider"):
//! `client_credentials` at `/oauth/token` with both client authentication methods, RFC 9068
//! access tokens, introspection (RFC 7662), revocation (RFC 7009) and the RFC 8414 metadata;
//! every error in RFC 6749's shape.

use auth_tests::{TestApp, TestResponse, jwt_payload, unique_email};
use base64::Engine;
use serde_json::{Value, json};

struct Provider {
    app: TestApp,
    /// The app's owner (console token) and the app's id.
    dev: String,
    id: String,
    base: String,
    client_id: String,
    secret: String,
}

/// An app with its own scope and a confidential machine client allowed to use it.
async fn provider() -> Provider {
    let app = TestApp::spawn().await;
    let dev = app.developer(&unique_email("dev")).await;
    let id = app
        .create_app(&dev, json!({"oauth_scopes": [{"name": "tasks:read", "description": "Read your tasks"}]}))
        .await;
    let r = app
        .post(
            &format!("/api/v1/console/apps/{id}/oauth-clients"),
            json!({"name": "Nightly job", "grant_types": ["client_credentials"], "scopes": ["tasks:read"]}),
        )
        .bearer(&dev)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let client_id = r.body["data"]["client_id"].as_str().unwrap().to_owned();
    let secret = r.body["data"]["client_secret"].as_str().unwrap().to_owned();
    Provider { app, dev, base: format!("/apps/{id}"), id, client_id, secret }
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

impl Provider {
    async fn post(&self, path: &str, form: &[(&str, &str)], authorization: Option<&str>) -> TestResponse {
        let mut call = self.app.call("POST", &format!("{}{path}", self.base)).form(form);
        if let Some(a) = authorization {
            call = call.header("authorization", a);
        }
        call.send().await
    }

    async fn token(&self) -> String {
        let r = self
            .post(
                "/oauth/token",
                &[("grant_type", "client_credentials")],
                Some(&basic(&self.client_id, &self.secret)),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    async fn introspect(&self, token: &str) -> Value {
        let r = self
            .post("/oauth/introspect", &[("token", token)], Some(&basic(&self.client_id, &self.secret)))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }
}

fn assert_oauth_error(r: &TestResponse, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["error"], error, "{}", r.text);
    assert!(r.body["error_description"].is_string(), "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"), "every answer of the token endpoint");
}

#[tokio::test]
async fn a_machine_client_gets_an_rfc_9068_access_token_with_either_authentication_method() {
    let p = provider().await;
    let r = p
        .post("/oauth/token", &[("grant_type", "client_credentials")], Some(&basic(&p.client_id, &p.secret)))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scope"], "tasks:read");
    assert!(r.body["expires_in"].as_u64().is_some_and(|s| s > 0));
    assert!(r.body.get("refresh_token").is_none(), "no refresh token without a user");
    let token = r.body["access_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], "at+jwt");
    let claims = jwt_payload(token);
    assert_eq!(claims["sub"], p.client_id.as_str(), "a client acting for itself is the subject");
    assert_eq!(claims["client_id"], p.client_id.as_str());
    assert_eq!(claims["iss"], format!("https://auth.test{}", p.base));
    assert!(claims.get("token_use").is_none() && claims.get("sid").is_none());

    // client_secret_post, and a scope asked for explicitly.
    let r = p
        .post(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "tasks:read"),
                ("client_id", &p.client_id),
                ("client_secret", &p.secret),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The service's own session routes never take it for a session.
    let token = r.body["access_token"].as_str().unwrap();
    let r = p.app.get(&format!("{}/api/v1/auth/sessions", p.base)).bearer(token).send().await;
    r.assert_error(403, "forbidden");
    // The metadata names the endpoints.
    let meta = p.app.get(&format!("{}/.well-known/oauth-authorization-server", p.base)).send().await;
    assert_eq!(meta.status, 200, "{}", meta.text);
    assert_eq!(meta.body["issuer"], format!("https://auth.test{}", p.base));
    assert_eq!(meta.body["token_endpoint"], format!("https://auth.test{}/oauth/token", p.base));
    assert_eq!(
        meta.body["grant_types_supported"],
        json!(["authorization_code", "refresh_token", "client_credentials"])
    );
}

#[tokio::test]
async fn the_token_endpoint_refuses_in_rfc_6749s_words() {
    let p = provider().await;
    let good = basic(&p.client_id, &p.secret);
    let cc = [("grant_type", "client_credentials")];
    let r = p.post("/oauth/token", &cc, Some(&basic(&p.client_id, "ocs_wrong"))).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("Basic")));
    assert_oauth_error(&p.post("/oauth/token", &cc, None).await, 401, "invalid_client");
    assert_oauth_error(
        &p.post("/oauth/token", &cc, Some(&basic("oc_nosuchclientxxxxxxxxxxxxx", &p.secret))).await,
        401,
        "invalid_client",
    );
    let both = [
        ("grant_type", "client_credentials"),
        ("client_id", p.client_id.as_str()),
        ("client_secret", p.secret.as_str()),
    ];
    assert_oauth_error(&p.post("/oauth/token", &both, Some(&good)).await, 400, "invalid_request");
    assert_oauth_error(&p.post("/oauth/token", &[], Some(&good)).await, 400, "invalid_request");
    assert_oauth_error(
        &p.post("/oauth/token", &[("grant_type", "password")], Some(&good)).await,
        400,
        "unsupported_grant_type",
    );
    let r = p
        .post("/oauth/token", &[("grant_type", "client_credentials"), ("scope", "tasks:write")], Some(&good))
        .await;
    assert_oauth_error(&r, 400, "invalid_scope");
    let twice = p
        .app
        .call("POST", &format!("{}/oauth/token", p.base))
        .raw(
            "grant_type=client_credentials&grant_type=client_credentials",
            "application/x-www-form-urlencoded",
        )
        .header("authorization", &good)
        .send()
        .await;
    assert_oauth_error(&twice, 400, "invalid_request");
    let json_body = p
        .app
        .call("POST", &format!("{}/oauth/token", p.base))
        .json(json!({"grant_type": "client_credentials"}))
        .header("authorization", &good)
        .send()
        .await;
    assert_oauth_error(&json_body, 400, "invalid_request");

    // The client belongs to its app: at another app (or the default one) it does not exist.
    assert_oauth_error(
        &p.app.call("POST", "/oauth/token").form(&cc).header("authorization", &good).send().await,
        401,
        "invalid_client",
    );
}

#[tokio::test]
async fn introspection_and_revocation_follow_rfc_7662_and_7009() {
    let p = provider().await;
    let token = p.token().await;
    let live = p.introspect(&token).await;
    assert_eq!(live["active"], true, "{live}");
    assert_eq!(live["client_id"], p.client_id.as_str());
    assert_eq!(live["scope"], "tasks:read");
    assert_eq!(live["token_type"], "Bearer");
    for dead in ["", "garbage", "eyJhbGciOiJub25lIn0.e30."] {
        assert_eq!(p.introspect(dead).await, json!({"active": false}), "{dead:?}");
    }
    // A session token of the app is not one of its provider's tokens.
    let (session, _) = p.app.logged_in_at(&p.base, &unique_email("user")).await;
    assert_eq!(p.introspect(&session).await, json!({"active": false}));
    // Only an authenticated client may ask.
    let r = p.post("/oauth/introspect", &[("token", &token)], None).await;
    assert_oauth_error(&r, 401, "invalid_client");

    // Revocation: always 200 for the client, and the token is dead at once.
    let good = basic(&p.client_id, &p.secret);
    let r = p.post("/oauth/revoke", &[("token", "garbage")], Some(&good)).await;
    assert_eq!((r.status, r.header("cache-control")), (200, Some("no-store")), "{}", r.text);
    let r = p.post("/oauth/revoke", &[("token", &token)], Some(&good)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(p.introspect(&token).await, json!({"active": false}));
    assert_oauth_error(
        &p.post("/oauth/revoke", &[("token", &token)], Some(&basic(&p.client_id, "ocs_x"))).await,
        401,
        "invalid_client",
    );

    // A rotated secret: the old one is refused from the next request on; tokens stay live.
    let live_token = p.token().await;
    let rotate = format!("/api/v1/console/apps/{}/oauth-clients/{}/rotate-secret", p.id, p.client_id);
    let r = p.app.post(&rotate, json!({})).bearer(&p.dev).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new_secret = r.body["data"]["client_secret"].as_str().unwrap().to_owned();
    let cc = [("grant_type", "client_credentials")];
    assert_oauth_error(&p.post("/oauth/token", &cc, Some(&good)).await, 401, "invalid_client");
    assert_eq!(p.post("/oauth/token", &cc, Some(&basic(&p.client_id, &new_secret))).await.status, 200);
    let items = p.app.dynamodb().await.scan().table_name(&p.app.config.table_name).send().await.unwrap();
    let table = format!("{:?}", items.items());
    assert!(!table.contains(&p.secret) && !table.contains(&new_secret), "secrets are stored only hashed");
    let r =
        p.post("/oauth/introspect", &[("token", &live_token)], Some(&basic(&p.client_id, &new_secret))).await;
    assert_eq!(r.body["active"], true, "{}", r.text);
}

/// An OAuth access token is a caller of its own kind (`auth_kind: "oauth"`): `verify-token` and a
/// customer's routes behind the authorizer take it; every route that manages an account, a key
/// or a session answers 403, and a client acting for itself has no profile.
#[tokio::test]
async fn a_clients_token_is_taken_where_third_parties_are_and_refused_elsewhere() {
    let p = provider().await;
    let token = p.token().await;
    let r = p.app.get(&format!("{}/api/v1/auth/verify-token", p.base)).bearer(&token).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["auth_kind"], "oauth");
    assert_eq!(r.body["data"]["client_id"], p.client_id.as_str());
    assert_eq!(r.body["data"]["scopes"], json!(["tasks:read"]));
    // A profile needs `profile`, which a client acting for itself never holds.
    let r = p.app.get(&format!("{}/api/v1/users/me", p.base)).bearer(&token).send().await;
    r.assert_error(403, "insufficient_scope");
    assert!(r.header("www-authenticate").is_some_and(|h| h.contains("scope=\"profile\"")), "{:?}", r.headers);
    for (method, path) in [
        ("GET", "/api/v1/auth/sessions"),
        ("GET", "/api/v1/auth/api-keys"),
        ("POST", "/api/v1/auth/api-keys"),
        ("POST", "/api/v1/auth/api-keys/0190f7c2-1a2b-7c3d-8e4f-0123456789ab/rotate"),
        ("DELETE", "/api/v1/auth/api-keys/0190f7c2-1a2b-7c3d-8e4f-0123456789ab"),
        ("POST", "/api/v1/auth/logout"),
    ] {
        let r = p.app.call(method, &format!("{}{path}", p.base)).bearer(&token).json(json!({})).send().await;
        r.assert_error(403, "forbidden");
    }
    // The authorizer: on the app's own routes it passes the client on; on a customer's route of
    // the app it lets the token in with its client and scopes, and not at another app.
    let ours = functions::events::authorizer::handle(
        &p.app.app,
        auth_tests::authorizer_event_at(
            &format!("{}/api/v1/auth/verify-token", p.base),
            Some(&format!("Bearer {token}")),
        ),
    )
    .await;
    assert_eq!(ours.context["auth_kind"], "oauth", "{:?}", ours.context);
    assert_eq!(ours.context["client_id"], p.client_id.as_str());
    let customer = |app_id: &str| {
        let mut event = serde_json::to_value(auth_tests::authorizer_event_at(
            "/orders",
            Some(&format!("Bearer {token}")),
        ))
        .unwrap();
        event["stageVariables"] = json!({"auth_app_id": app_id});
        serde_json::from_value::<functions::events::authorizer::AuthorizerRequest>(event).unwrap()
    };
    let allowed = functions::events::authorizer::handle(&p.app.app, customer(&p.id)).await;
    assert!(allowed.is_authorized);
    assert_eq!(allowed.context["auth_kind"], "oauth");
    assert_eq!(allowed.context["scopes"], "tasks:read");
    assert_eq!(
        allowed.context["aud"],
        format!("https://auth.test{}/oauth", p.base),
        "the function checks it"
    );
    assert!(allowed.context.get("user_id").is_none(), "a client acting for itself");
    assert!(!functions::events::authorizer::handle(&p.app.app, customer("default")).await.is_authorized);
    // Revoked: refused everywhere from the next request on.
    let r = p.post("/oauth/revoke", &[("token", &token)], Some(&basic(&p.client_id, &p.secret))).await;
    assert_eq!(r.status, 200);
    assert!(!functions::events::authorizer::handle(&p.app.app, customer(&p.id)).await.is_authorized);
    p.app
        .get(&format!("{}/api/v1/auth/verify-token", p.base))
        .bearer(&token)
        .send()
        .await
        .assert_error(401, "unauthorized");
}

/// Which client may do what: a public client cannot introspect (its id proves nothing) or use
/// `client_credentials`, a confidential one without the grant is `unauthorized_client`, a client of
/// another app does not exist here and that app's tokens are inactive here, and a deleted
/// client's tokens die with it.
#[tokio::test]
async fn clients_are_held_to_their_type_grants_app_and_existence() {
    let p = provider().await;
    let clients = format!("/api/v1/console/apps/{}/oauth-clients", p.id);
    let create = |body: Value| p.app.post(&clients, body).bearer(&p.dev);
    let public =
        create(json!({"name": "SPA", "type": "public", "redirect_uris": ["https://spa.example/cb"]}))
            .send()
            .await;
    let public_id = public.body["data"]["client_id"].as_str().unwrap().to_owned();
    let web = create(json!({"name": "Web", "redirect_uris": ["https://web.example/cb"]})).send().await;
    let (web_id, web_secret) = (
        web.body["data"]["client_id"].as_str().unwrap().to_owned(),
        web.body["data"]["client_secret"].as_str().unwrap().to_owned(),
    );
    let token = p.token().await;

    let r = p.post("/oauth/introspect", &[("token", &token), ("client_id", &public_id)], None).await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = p
        .post("/oauth/token", &[("grant_type", "client_credentials"), ("client_id", &public_id)], None)
        .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    let r = p
        .post("/oauth/token", &[("grant_type", "client_credentials")], Some(&basic(&web_id, &web_secret)))
        .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    // The web client learns nothing of the machine client's token (RFC 7662 section 4), though
    // both are the app's.
    let r = p.post("/oauth/introspect", &[("token", &token)], Some(&basic(&web_id, &web_secret))).await;
    assert_eq!(r.body, json!({"active": false}), "{}", r.text);

    // Another created app: the client is unknown there, and this app's token is nothing to it.
    let other = p.app.create_app(&p.dev, json!({"name": "Other"})).await;
    let r = p
        .app
        .call("POST", &format!("/apps/{other}/oauth/token"))
        .form(&[("grant_type", "client_credentials")])
        .header("authorization", &basic(&p.client_id, &p.secret))
        .send()
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = p
        .app
        .post(
            &format!("/api/v1/console/apps/{other}/oauth-clients"),
            json!({"name": "Its web", "redirect_uris": ["https://o.example/cb"]}),
        )
        .bearer(&p.dev)
        .send()
        .await;
    let (o_id, o_secret) = (
        r.body["data"]["client_id"].as_str().unwrap().to_owned(),
        r.body["data"]["client_secret"].as_str().unwrap().to_owned(),
    );
    let r = p
        .app
        .call("POST", &format!("/apps/{other}/oauth/introspect"))
        .form(&[("token", &token)])
        .header("authorization", &basic(&o_id, &o_secret))
        .send()
        .await;
    assert_eq!(r.body, json!({"active": false}), "{}", r.text);

    // Deleted: its tokens are dead at once.
    assert_eq!(
        p.app.call("DELETE", &format!("{clients}/{}", p.client_id)).bearer(&p.dev).send().await.status,
        200
    );
    let r = p.post("/oauth/introspect", &[("token", &token)], Some(&basic(&web_id, &web_secret))).await;
    assert_eq!(r.body, json!({"active": false}), "{}", r.text);
    p.app
        .get(&format!("{}/api/v1/auth/verify-token", p.base))
        .bearer(&token)
        .send()
        .await
        .assert_error(401, "unauthorized");
}

/// The token, introspection and revocation endpoints share one per-address limit, counted before
/// the client is authenticated (guessed secrets count).
#[tokio::test]
async fn guessing_secrets_is_rate_limited_per_address() {
    let p = provider().await;
    let limited = p.app.with_config(&[("RATE_LIMITS", "on"), ("RATE_LIMIT_OAUTH_TOKEN", "3")]).await;
    // All four in one 60-second window: a fourth past a window's end would start a new count.
    auth_tests::fresh_rate_window().await;
    let call = || {
        p.app
            .call("POST", &format!("{}/oauth/token", p.base))
            .form(&[("grant_type", "client_credentials")])
            .header("authorization", &basic(&p.client_id, "ocs_guess"))
            .source_ip("198.51.100.99")
    };
    for _ in 0..3 {
        assert_oauth_error(&p.app.send_to(&limited, call()).await, 401, "invalid_client");
    }
    let r = p.app.send_to(&limited, call()).await;
    assert_oauth_error(&r, 429, "temporarily_unavailable");
    assert!(r.header("retry-after").is_some());
}

/// RFC 8725 3.11, RFC 9068 4: an OAuth access token's audience is the provider's own
/// (`<issuer>/oauth`) or a resource the app registered (RFC 8707), never a session token's, so a
/// resource server that checks signature and audience cannot take one for the other.
#[tokio::test]
async fn an_oauth_token_has_its_own_audience_or_a_registered_resource() {
    let p = provider().await;
    let session_aud = {
        let email = unique_email("aud");
        p.app.verified_user_at(&p.base, &email).await;
        let r = p
            .app
            .post(
                &format!("{}/api/v1/auth/login", p.base),
                json!({"email": email, "password": auth_tests::PASSWORD}),
            )
            .send()
            .await;
        jwt_payload(r.body["data"]["access_token"].as_str().unwrap())["aud"].clone()
    };
    let token = p.token().await;
    let claims = jwt_payload(&token);
    assert_eq!(claims["aud"], format!("https://auth.test{}/oauth", p.base));
    assert_ne!(claims["aud"], session_aud, "never a session token's audience");
    assert_eq!(p.introspect(&token).await["aud"], claims["aud"]);
    // Our routes that take OAuth callers take it.
    let r = p.app.get(&format!("{}/api/v1/auth/verify-token", p.base)).bearer(&token).send().await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A resource the app registers is the audience of the token asked for it.
    let r = p
        .app
        .call("PATCH", &format!("/api/v1/console/apps/{}", p.id))
        .json(json!({"oauth_resources": ["https://api.acme.example/"]}))
        .bearer(&p.dev)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let auth = basic(&p.client_id, &p.secret);
    let p = &p;
    let ask = |resource: &'static str| {
        let auth = auth.clone();
        async move {
            let form = [("grant_type", "client_credentials"), ("resource", resource)];
            p.post("/oauth/token", &form, Some(&auth)).await
        }
    };
    let r = ask("https://api.acme.example").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let for_api = r.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_payload(&for_api)["aud"], "https://api.acme.example");
    let r = p.app.get(&format!("{}/api/v1/auth/verify-token", p.base)).bearer(&for_api).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    // One it did not register, or not a URI: RFC 8707's invalid_target.
    assert_oauth_error(&ask("https://evil.example").await, 400, "invalid_target");
    assert_oauth_error(&ask("not a uri").await, 400, "invalid_target");
    let r = p
        .app
        .call("PATCH", &format!("/api/v1/console/apps/{}", p.id))
        .json(json!({"oauth_resources": ["http://api.acme.example"]}))
        .bearer(&p.dev)
        .send()
        .await;
    r.assert_error(400, "validation_failed");
    // The service's own URLs are no app's resource server: a token for one would pass for ours.
    for ours in [
        "https://auth.test",
        "https://auth.test/apps/other/oauth",
        "https://auth.test/api/v1/auth/token/refresh",
    ] {
        let r = p
            .app
            .call("PATCH", &format!("/api/v1/console/apps/{}", p.id))
            .json(json!({"oauth_resources": [ours]}))
            .bearer(&p.dev)
            .send()
            .await;
        r.assert_error(400, "validation_failed");
        assert_eq!(
            r.body["error"]["fields"]["oauth_resources"],
            json!(["reserved_by_the_service"]),
            "{ours}"
        );
    }
}
