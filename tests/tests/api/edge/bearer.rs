//! Protected routes without an authorizer in front (as under `cargo lambda watch`): the function
//! verifies the bearer itself, with the authorizer's code. Every forgery must be a 401.

use auth_tests::{TestApp, b64url, jwt_payload, unique_email};
use chrono::Utc;
use serde_json::{Value, json};
use shared::keys::{KeyAlgorithm, KeyRing, KeySetDocument, StoredKey};
use shared::tokens::ACCESS_TOKEN_TYPE as AT;

const ME: &str = "/api/v1/users/me";

#[tokio::test]
async fn me_and_verify_token_answer_for_a_valid_access_token() {
    let app = TestApp::spawn().await;
    let email = unique_email("me");
    let (access, _) = app.logged_in(&email).await;

    let me = app.get(ME).bearer(&access).send().await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["data"]["email"], email.as_str());
    assert_eq!(me.body["data"]["email_verified"], true);
    assert_eq!(me.body["data"]["providers"], json!(["password"]));
    for field in ["id", "name", "username", "first_name", "last_name", "created_at"] {
        assert!(me.body["data"].get(field).is_some(), "{field}");
    }

    let v = app.get("/api/v1/auth/verify-token").bearer(&access).send().await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.body["data"]["user"]["email"], email.as_str());
    assert_eq!(v.body["data"]["session_id"], jwt_payload(&access)["sid"]);
    assert_eq!(v.body["data"]["scopes"], json!(["read", "write"]), "the app's session scopes");
    assert!(v.body["data"]["expires_at"].as_str().is_some_and(|t| t.ends_with('Z') || t.contains("+00:00")));
}

#[tokio::test]
async fn missing_or_garbage_bearer_is_unauthorized() {
    let app = TestApp::spawn().await;
    let r = app.get(ME).send().await;
    r.assert_error(401, "unauthorized");
    assert_eq!(r.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
    for header in ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer a.b.c", "Token abc"]
    {
        app.get(ME).header("authorization", header).send().await.assert_error(401, "unauthorized");
    }
}

/// Valid claims for the app's user, to be signed by whatever the test wants.
fn claims(app: &TestApp, from: &Value, exp_offset: i64) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "iss": app.config.jwt_issuer, "aud": app.config.jwt_audience,
        "sub": from["sub"], "tid": from["tid"], "sid": from["sid"], "jti": "forged",
        "iat": now, "nbf": now, "exp": now + exp_offset, "scope": "openid", "token_use": "access",
        "email_verified": true,
    })
}

async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let r = app.get(ME).bearer(token).send().await;
    assert_eq!(r.status, 401, "{what}: {}", r.text);
    assert_eq!(r.code(), "unauthorized", "{what}");
    // Behind API Gateway: the authorizer passes no identity, and the function behind it refuses.
    let decision = app.authorize(Some(&format!("Bearer {token}"))).await;
    assert_eq!(decision.context, json!({"auth_kind": "none"}), "the authorizer identifies no one for {what}");
    let behind = app.get(ME).bearer(token).authorizer_context(decision.context).send().await;
    assert_eq!((behind.status, behind.code()), (401, "unauthorized"), "{what} behind the authorizer");
}

#[tokio::test]
async fn forged_and_misused_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (access, refresh) = app.logged_in(&unique_email("forge")).await;
    let real = jwt_payload(&access);
    let kid = jsonwebtoken::decode_header(&access).unwrap().kid.unwrap();
    let ring = app.stored_key_ring().await;

    // The control: the same claims, signed by the real key, pass.
    let genuine = ring.sign(&claims(&app, &real, 600), AT).unwrap();
    assert_eq!(app.get(ME).bearer(&genuine).send().await.status, 200);

    // Expired beyond the leeway, signed by the real key.
    assert_refused(&app, &ring.sign(&claims(&app, &real, -120), AT).unwrap(), "an expired token").await;

    // Not yet valid.
    let mut early = claims(&app, &real, 600);
    early["nbf"] = json!(Utc::now().timestamp() + 300);
    assert_refused(&app, &ring.sign(&early, AT).unwrap(), "a token not yet valid").await;

    // Wrong issuer, wrong audience, missing token_use.
    for (field, value) in
        [("iss", json!("https://evil.example")), ("aud", json!("other-api")), ("token_use", Value::Null)]
    {
        let mut c = claims(&app, &real, 600);
        if value.is_null() {
            c.as_object_mut().unwrap().remove(field);
        } else {
            c[field] = value;
        }
        assert_refused(&app, &ring.sign(&c, AT).unwrap(), &format!("a token with a bad {field}")).await;
    }

    // alg none.
    let header = b64url(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string().as_bytes());
    let payload = b64url(claims(&app, &real, 600).to_string().as_bytes());
    assert_refused(&app, &format!("{header}.{payload}."), "alg none").await;

    // HS256 keyed with the public key (algorithm confusion).
    let jwks = app.get("/.well-known/jwks.json").send().await.text;
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = Some(kid.clone());
    let confused = jsonwebtoken::encode(
        &hs,
        &claims(&app, &real, 600),
        &jsonwebtoken::EncodingKey::from_secret(jwks.as_bytes()),
    )
    .unwrap();
    assert_refused(&app, &confused, "HS256 with the public key").await;

    // A tampered payload under a genuine signature.
    let parts: Vec<&str> = access.split('.').collect();
    let mut tampered_claims = real.clone();
    tampered_claims["sub"] = json!(uuid::Uuid::now_v7().to_string());
    let tampered = format!("{}.{}.{}", parts[0], b64url(tampered_claims.to_string().as_bytes()), parts[2]);
    assert_refused(&app, &tampered, "a tampered payload").await;

    // A key we never published, under its own kid and under ours.
    let rogue = StoredKey::generate(KeyAlgorithm::Rs256, Utc::now()).unwrap();
    let rogue_kid = rogue.kid.clone();
    let rogue_ring =
        KeyRing::from_document(&KeySetDocument { current_kid: rogue_kid, keys: vec![rogue] }).unwrap();
    assert_refused(&app, &rogue_ring.sign(&claims(&app, &real, 600), AT).unwrap(), "an unknown kid").await;
    let mut rogue_doc = StoredKey::generate(KeyAlgorithm::Rs256, Utc::now()).unwrap();
    rogue_doc.kid = kid.clone();
    let same_kid =
        KeyRing::from_document(&KeySetDocument { current_kid: kid.clone(), keys: vec![rogue_doc] }).unwrap();
    assert_refused(&app, &same_kid.sign(&claims(&app, &real, 600), AT).unwrap(), "another key under our kid")
        .await;

    // No kid at all.
    let signed = ring.sign(&claims(&app, &real, 600), AT).unwrap();
    let mut header: Value =
        serde_json::from_slice(&base64_decode(signed.split('.').next().unwrap())).unwrap();
    header.as_object_mut().unwrap().remove("kid");
    let rest: Vec<&str> = signed.splitn(2, '.').collect();
    assert_refused(
        &app,
        &format!("{}.{}", b64url(header.to_string().as_bytes()), rest[1]),
        "a token without kid",
    )
    .await;

    // The refresh token is not an access token.
    assert_refused(&app, &refresh, "a refresh token used as access token").await;
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()
}

#[tokio::test]
async fn a_token_whose_session_is_gone_is_refused() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("gone")).await;
    assert_eq!(app.get(ME).bearer(&access).send().await.status, 200);
    let c = jwt_payload(&access);
    app.dynamodb()
        .await
        .delete_item()
        .table_name(&app.config.table_name)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!(
                "T#default#USER#{}",
                c["sub"].as_str().unwrap()
            )),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("SESSION#{}", c["sid"].as_str().unwrap())),
        )
        .send()
        .await
        .unwrap();
    app.get(ME).bearer(&access).send().await.assert_error(401, "unauthorized");
}

/// Signed by the real key with valid claims, but of the wrong type or with a missing or future
/// `iat`: refused, and so is the refresh token at the refresh endpoint when re-typed as access.
#[tokio::test]
async fn type_and_issued_at_are_checked() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("typ")).await;
    let real = jwt_payload(&access);
    let ring = app.stored_key_ring().await;
    assert_eq!(
        app.get(ME).bearer(&ring.sign(&claims(&app, &real, 600), AT).unwrap()).send().await.status,
        200
    );

    for typ in ["JWT", "refresh+jwt", "id+jwt"] {
        let token = ring.sign(&claims(&app, &real, 600), typ).unwrap();
        assert_refused(&app, &token, &format!("an access token typed {typ}")).await;
    }
    let mut no_iat = claims(&app, &real, 600);
    no_iat.as_object_mut().unwrap().remove("iat");
    assert_refused(&app, &ring.sign(&no_iat, AT).unwrap(), "a token without iat").await;
    let mut future = claims(&app, &real, 600);
    future["iat"] = json!(Utc::now().timestamp() + 3600);
    assert_refused(&app, &ring.sign(&future, AT).unwrap(), "a token issued in the future").await;
}

/// A container that has not read the public keys yet (a cold start that could not warm them)
/// reads them with the caller's session, in one `BatchGetItem`, and serves the request.
#[tokio::test]
async fn a_cold_container_reads_the_keys_with_the_session_and_serves() {
    let app = TestApp::spawn().await;
    let (access, _) = app.logged_in(&unique_email("cold")).await;
    for (method, path) in [
        ("GET", "/api/v1/auth/verify-token"),
        ("GET", ME),
        ("GET", "/api/v1/auth/sessions"),
        ("DELETE", "/api/v1/auth/sessions"),
    ] {
        let cold = app.with_config(&[]).await;
        let r = app.send_to(&cold, app.call(method, path).bearer(&access)).await;
        assert_eq!(r.status, 200, "{method} {path}: {}", r.text);
        assert_eq!(cold.store.calls().since(0).first(), Some(&"BatchGetItem"), "{method} {path}");
    }
}
