use auth_tests::{TestApp, unique_email};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;

#[tokio::test]
async fn health_answers_ok() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/health").send().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["success"], true);
    assert_eq!(r.body["data"]["status"], "ok");
}

#[tokio::test]
async fn jwks_verifies_an_access_token_from_login() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("jwks")).await;

    let r = app.get("/.well-known/jwks.json").send().await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("success").is_none(), "the JWKS keeps its standard shape");
    assert!(r.header("cache-control").is_some_and(|c| c.contains("max-age")));
    let jwks: JwkSet = serde_json::from_value(r.body.clone()).expect("a JWK set");
    for key in &r.body["keys"].as_array().unwrap()[..] {
        assert!(key.get("d").is_none() && key.get("p").is_none(), "no private parameters published");
    }

    // A relying party: pick the key by kid, verify with the published key only.
    let header = jsonwebtoken::decode_header(&access).unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("the token's kid is published");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[&app.config.jwt_audience]);
    validation.set_issuer(&[&app.config.jwt_issuer]);
    let claims = jsonwebtoken::decode::<Value>(&access, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("the access token verifies against the JWKS")
        .claims;
    assert_eq!(claims["token_use"], "access");
    for claim in ["iss", "aud", "sub", "tid", "sid", "jti", "iat", "nbf", "exp", "scope", "email_verified"] {
        assert!(claims.get(claim).is_some(), "claim {claim} present");
    }
    assert_eq!(claims["tid"], "default");
}

#[tokio::test]
async fn discovery_document_points_at_the_jwks() {
    let app = TestApp::spawn().await;
    let r = app.get("/.well-known/openid-configuration").send().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["issuer"], "https://auth.test");
    assert_eq!(r.body["jwks_uri"], "https://auth.test/.well-known/jwks.json");
    assert_eq!(r.body["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));
    assert_eq!(r.body["authorization_endpoint"], "https://auth.test/oauth/authorize");
    assert_eq!(r.body["end_session_endpoint"], "https://auth.test/oauth/logout");
    assert_eq!(r.body["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(r.body["authorization_response_iss_parameter_supported"], true);
}

#[tokio::test]
async fn eddsa_keys_sign_and_publish() {
    let app = TestApp::spawn_with(&[("JWT_ALGORITHM", "EdDSA")]).await;
    let (access, _) = app.logged_in(&unique_email("eddsa")).await;
    assert_eq!(jsonwebtoken::decode_header(&access).unwrap().alg, jsonwebtoken::Algorithm::EdDSA);
    let jwks = app.get("/.well-known/jwks.json").send().await;
    assert_eq!(jwks.body["keys"][0]["kty"], "OKP");
    assert_eq!(jwks.body["keys"][0]["crv"], "Ed25519");
    let me = app.get("/api/v1/users/me").bearer(&access).send().await;
    assert_eq!(me.status, 200, "{}", me.text);
}

/// RFC 9068 and RFC 8725 §3.11: the two kinds of token differ in header `typ` and in audience, so
/// that a resource server checking only the signature and its audience (with the published keys)
/// can never accept a refresh token as a bearer.
#[tokio::test]
async fn access_and_refresh_tokens_are_typed_and_have_their_own_audiences() {
    let app = TestApp::spawn().await;
    let (access, refresh) = app.logged_in(&unique_email("typed")).await;
    let access_header = jsonwebtoken::decode_header(&access).unwrap();
    let refresh_header = jsonwebtoken::decode_header(&refresh).unwrap();
    assert_eq!(access_header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(refresh_header.typ.as_deref(), Some("refresh+jwt"));

    let jwks: JwkSet = serde_json::from_value(app.get("/.well-known/jwks.json").send().await.body).unwrap();
    let key = DecodingKey::from_jwk(jwks.find(access_header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let mut resource_server = Validation::new(access_header.alg);
    resource_server.set_audience(&[&app.config.jwt_audience]);
    assert!(jsonwebtoken::decode::<Value>(&access, &key, &resource_server).is_ok());
    assert!(
        jsonwebtoken::decode::<Value>(&refresh, &key, &resource_server).is_err(),
        "a refresh token is not for the API's audience"
    );
    let refresh_claims = auth_tests::jwt_payload(&refresh);
    assert_eq!(refresh_claims["aud"], "https://auth.test/api/v1/auth/token/refresh");
}

/// `GET /health/detailed` needs `system:read`: refused with RFC 6750's header without it; with it,
/// each dependency's state, and a dependency that is down is named, not a failed request.
#[tokio::test]
async fn the_detailed_health_needs_system_read_and_names_a_dependency_that_is_down() {
    let app = auth_tests::TestApp::spawn().await;
    let (plain, _) = app.logged_in(&auth_tests::unique_email("no-scope")).await;
    let r = app.get("/api/v1/health/detailed").bearer(&plain).send().await;
    r.assert_error(403, "insufficient_scope");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\", scope=\"system:read\"")
    );

    let dev = app.developer(&auth_tests::unique_email("dev")).await;
    let id = app.create_app(&dev, serde_json::json!({"session_scopes": ["read", "system:read"]})).await;
    let base = format!("/apps/{id}");
    let (ops, _) = app.logged_in_at(&base, &auth_tests::unique_email("ops")).await;
    let r = app.get(&format!("{base}/api/v1/health/detailed")).bearer(&ops).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["status"], "ok");
    assert_eq!(r.body["data"]["dependencies"]["ses"], "ok");
    assert_eq!(r.body["data"]["dependencies"]["secrets_manager"], "ok");
    assert_eq!(r.body["data"]["dependencies"]["dynamodb"], "ok");

    let broken = app.with_broken(auth_tests::Broken::Ses).await;
    let call = app.get(&format!("{base}/api/v1/health/detailed")).bearer(&ops);
    let r = app.send_to(&broken, call).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["status"], "degraded");
    assert_eq!(r.body["data"]["dependencies"]["ses"], "unavailable");
    assert_eq!(r.body["data"]["dependencies"]["dynamodb"], "ok");

    // SES takes the connection and never answers, and the SDK would wait ten minutes: the check's
    // own deadline answers (the guard only keeps a broken deadline from hanging the suite).
    let hanging = app.with_broken(auth_tests::Broken::SesHanging).await;
    let call = app.get(&format!("{base}/api/v1/health/detailed")).bearer(&ops);
    let r = tokio::time::timeout(std::time::Duration::from_secs(60), app.send_to(&hanging, call))
        .await
        .expect("the detailed health answers although SES hangs");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["status"], "degraded");
    assert_eq!(r.body["data"]["dependencies"]["ses"], "unavailable");
    assert_eq!(r.body["data"]["dependencies"]["secrets_manager"], "ok");
}
