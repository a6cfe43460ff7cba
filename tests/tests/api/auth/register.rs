use auth_tests::{PASSWORD, TestApp, unique_email};
use serde_json::json;

const REGISTER: &str = "/api/v1/auth/register";

#[tokio::test]
async fn register_creates_an_unverified_account_and_mails_a_link() {
    let app = TestApp::spawn().await;
    let email = unique_email("Reg");
    let r = app
        .post(
            REGISTER,
            json!({"email": email, "password": PASSWORD, "name": "Ada Lovelace", "username": "ada_l"}),
        )
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["success"], true);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(r.body["data"]["email"], email.as_str());
    assert_eq!(r.body["data"]["email_verified"], false);
    assert!(r.body["data"]["user_id"].as_str().is_some_and(|id| !id.is_empty()));

    let mails = app.mails_to(&email).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].from, "no-reply@auth.test");
    assert_eq!(mails[0].subject, "Auth: Verify your email address");
    assert!(mails[0].body.contains("https://app.test/verify-email?token="));
    assert!(mails[0].link_token("verify-email").is_some_and(|t| t.len() >= 43), "256-bit token");
}

#[tokio::test]
async fn malformed_bodies_are_refused() {
    let app = TestApp::spawn().await;
    for body in ["{not json", "[1,2]", "\"text\"", "", "null"] {
        let r = app.call("POST", REGISTER).raw(body, "application/json").send().await;
        r.assert_error(400, "malformed_request");
    }
    // Bytes that are not UTF-8 at all (API Gateway hands them over base64-encoded).
    let r = app.call("POST", REGISTER).raw("/xl5bFBkWw==", "application/json").base64().send().await;
    r.assert_error(400, "malformed_request");
}

/// `serde_json` would keep the last of two equal keys; a proxy in front may keep the first. The
/// body is refused rather than read differently by the two.
#[tokio::test]
async fn a_repeated_key_is_refused_at_any_depth() {
    let app = TestApp::spawn().await;
    let email = unique_email("dupkey");
    for body in [
        format!(r#"{{"email": "{email}", "password": "{PASSWORD}", "email": "other@example.com"}}"#),
        format!(r#"{{"email": "{email}", "password": "{PASSWORD}", "name": "a", "name": "a"}}"#),
        format!(r#"{{"email": "{email}", "password": "{PASSWORD}", "extra": [{{"k": 1, "k": 2}}]}}"#),
    ] {
        let r = app.call("POST", REGISTER).raw(&body, "application/json").send().await;
        r.assert_error(400, "malformed_request");
    }
    assert!(app.mails_to(&email).await.is_empty(), "no account was made");
    let ok = format!(r#"{{"email": "{email}", "password": "{PASSWORD}", "extra": {{"email": 1}}}}"#);
    assert_eq!(app.call("POST", REGISTER).raw(&ok, "application/json").send().await.status, 201);
}

/// A non-empty body of a media type a route does not declare is 415; JSON with parameters or a
/// `+json` type is JSON, and login keeps its form encoding.
#[tokio::test]
async fn undeclared_media_types_are_415() {
    let app = TestApp::spawn().await;
    let email = unique_email("media");
    let body = json!({"email": email, "password": PASSWORD}).to_string();
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
    {
        let r = app.call("POST", REGISTER).raw(&body, content_type).send().await;
        r.assert_error(415, "unsupported_media_type");
    }
    let r = app.call("POST", REGISTER).raw(&body, "application/json").send().await;
    let mut no_type = app.call("POST", "/api/v1/auth/login");
    no_type = no_type.raw(&body, "").header("content-type", "");
    no_type.send().await.assert_error(415, "unsupported_media_type");
    assert_eq!(r.status, 201, "{}", r.text);
    for content_type in ["Application/JSON; charset=utf-8", "application/vnd.api+json"] {
        let login = app.call("POST", "/api/v1/auth/login").raw(&body, content_type).send().await;
        assert_eq!(login.code(), "email_not_verified", "{content_type}: {}", login.text);
    }
    app.call("POST", "/api/v1/auth/login")
        .raw(&body, "text/plain")
        .send()
        .await
        .assert_error(415, "unsupported_media_type");
    let form = app.call("POST", "/api/v1/auth/login").form(&[("username", &email), ("password", PASSWORD)]);
    assert_eq!(form.send().await.code(), "email_not_verified");
    // The refresh route reads an optional body: a token sent as text is refused, not ignored.
    let r = app.call("POST", "/api/v1/auth/token/refresh").raw("refresh_token=x", "text/plain").send().await;
    r.assert_error(415, "unsupported_media_type");
}

#[tokio::test]
async fn missing_and_mistyped_fields_are_named() {
    let app = TestApp::spawn().await;
    let r = app.post(REGISTER, json!({})).send().await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["email"], json!(["required"]));
    assert_eq!(r.body["error"]["fields"]["password"], json!(["required"]));

    let r = app.post(REGISTER, json!({"email": 42, "password": PASSWORD, "name": ["x"]})).send().await;
    r.assert_error(400, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["email"], json!(["must_be_string"]));
    assert_eq!(r.body["error"]["fields"]["name"], json!(["must_be_string"]));
}

#[tokio::test]
async fn weak_passwords_list_each_failed_rule() {
    let app = TestApp::spawn().await;
    let email = unique_email("weak");
    let r = app.post(REGISTER, json!({"email": email, "password": "abc"})).send().await;
    r.assert_error(400, "validation_failed");
    assert_eq!(
        r.body["error"]["fields"]["password"],
        json!(["min_length_8", "uppercase", "digit", "not_common"])
    );

    let r = app.post(REGISTER, json!({"email": email, "password": "Password1"})).send().await;
    assert_eq!(r.body["error"]["fields"]["password"], json!(["not_common"]));

    let long = "aB3-".repeat(40);
    let r = app.post(REGISTER, json!({"email": email, "password": long})).send().await;
    assert_eq!(r.body["error"]["fields"]["password"], json!(["max_length_128"]));
    assert!(app.mails_to(&email).await.is_empty(), "no account, no mail");
}

#[tokio::test]
async fn the_nist_preset_asks_for_length_instead_of_composition() {
    let app = TestApp::spawn_with(&[("PASSWORD_POLICY", "nist")]).await;
    let r = app.post(REGISTER, json!({"email": unique_email("nist"), "password": "Qz7$kW9!vR"})).send().await;
    assert_eq!(r.body["error"]["fields"]["password"], json!(["min_length_15"]), "{}", r.text);
    let r = app
        .post(REGISTER, json!({"email": unique_email("nist"), "password": "violet tractor umbrella"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // 15 code points, 30 bytes: length is counted in characters.
    let r = app
        .post(REGISTER, json!({"email": unique_email("nist"), "password": "ÉéÖöÜüÄäÅåØøÆæÐ"}))
        .send()
        .await;
    assert!(!r.text.contains("min_length_15"), "{}", r.text);
}

#[tokio::test]
async fn invalid_emails_are_refused_including_header_injection() {
    let app = TestApp::spawn().await;
    for email in ["not-an-email", "a@b", "victim@example.com\r\nBcc: x@evil.example", "Name <a@example.com>"]
    {
        let r = app.post(REGISTER, json!({"email": email, "password": PASSWORD})).send().await;
        r.assert_error(400, "validation_failed");
        assert!(r.body["error"]["fields"]["email"].is_array(), "{email:?}: {}", r.text);
    }
}

#[tokio::test]
async fn a_duplicate_email_in_any_letter_case_is_a_conflict() {
    let app = TestApp::spawn().await;
    let email = unique_email("dup");
    assert_eq!(app.register(&email, PASSWORD).await.status, 201);
    let shouted = format!("  {}  ", email.to_uppercase());
    let r = app.register(&shouted, PASSWORD).await;
    r.assert_error(409, "email_taken");
    assert_eq!(app.mails_to(&email).await.len(), 1, "no second verification mail");
}

#[tokio::test]
async fn hidden_existence_answers_like_a_new_account_and_notifies_the_owner() {
    let app = TestApp::spawn_with(&[("PREVENT_USER_EXISTENCE_ERRORS", "true")]).await;
    let email = unique_email("hidden");
    let first = app.register(&email, PASSWORD).await;
    let second = app.register(&email, PASSWORD).await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(second.body["message"], first.body["message"]);
    assert_eq!(second.body["data"]["email_verified"], false);
    assert_ne!(second.body["data"]["user_id"], first.body["data"]["user_id"]);
    let mails = app.mails_to(&email).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].subject, "Auth: Someone tried to sign up with your email");
    assert!(mails[1].link_token("verify-email").is_none());
}

#[tokio::test]
async fn the_notice_goes_to_the_address_as_stored_not_as_typed() {
    let app = TestApp::spawn_with(&[("PREVENT_USER_EXISTENCE_ERRORS", "true")]).await;
    let stored = format!("Owner.{}", unique_email("case"));
    assert_eq!(app.register(&stored, PASSWORD).await.status, 201);
    let typed = stored.to_lowercase().replace("example.com", "EXAMPLE.com");
    assert_eq!(app.register(&typed, PASSWORD).await.status, 201);
    assert!(app.mails_to(&typed).await.is_empty(), "nothing to the typed spelling");
    let mails = app.mails_to(&stored).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(mails[1].subject, "Auth: Someone tried to sign up with your email");
}

/// Only ASCII letters are folded: U+212A KELVIN SIGN is not `k`, so the two addresses are two
/// accounts (a Unicode fold would hand the second the first's account).
#[tokio::test]
async fn non_ascii_letters_are_never_folded_into_ascii_ones() {
    let app = TestApp::spawn().await;
    let ascii = unique_email("kim");
    let kelvin = format!("\u{212A}{}", &ascii[1..]);
    assert_eq!(app.register(&ascii, PASSWORD).await.status, 201);
    let r = app.register(&kelvin, PASSWORD).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["data"]["email"], kelvin.as_str());
    assert_eq!(app.mails_to(&kelvin).await.len(), 1);
    assert_eq!(app.mails_to(&ascii).await.len(), 1);
}

#[tokio::test]
async fn ten_concurrent_registrations_of_one_email_make_one_account() {
    let app = TestApp::spawn().await;
    let email = unique_email("race");
    let variants: Vec<String> =
        (0..10).map(|i| if i % 2 == 0 { email.clone() } else { email.to_uppercase() }).collect();
    let calls = variants.iter().map(|v| app.register(v, PASSWORD));
    let results = futures::future::join_all(calls).await;
    let created = results.iter().filter(|r| r.status == 201).count();
    let conflicts = results.iter().filter(|r| r.status == 409 && r.code() == "email_taken").count();
    assert_eq!(created, 1, "{:?}", results.iter().map(|r| &r.text).collect::<Vec<_>>());
    assert_eq!(conflicts, 9);
    let mails = app.mails_to(&email).await.len() + app.mails_to(&email.to_uppercase()).await.len();
    assert_eq!(mails, 1, "one verification mail, to the address of the winning request");
}

#[tokio::test]
async fn unknown_fields_are_never_stored() {
    let app = TestApp::spawn().await;
    let email = unique_email("mass");
    let r = app
        .post(REGISTER, json!({"email": email, "password": PASSWORD, "email_verified": true, "tenant_id": "other", "roles": ["admin"]}))
        .send()
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["data"]["email_verified"], false);
    // Still unverified: login says so (after the correct password).
    app.login(&email, PASSWORD).await.assert_error(401, "email_not_verified");
}

#[tokio::test]
async fn bodies_over_16_kib_are_refused_before_parsing() {
    let app = TestApp::spawn().await;
    let big = format!("{{\"email\":\"a@example.com\",\"password\":\"{}\"}}", "x".repeat(17 * 1024));
    app.call("POST", REGISTER)
        .raw(&big, "application/json")
        .send()
        .await
        .assert_error(413, "payload_too_large");
}
