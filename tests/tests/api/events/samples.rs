//! Each sample in `events/` (for `cargo lambda invoke --data-file`) run through its handler, so the
//! samples never rot.

use std::collections::BTreeMap;

use auth_tests::{TestApp, TestResponse};
use authctl::repo_root;
use functions::routes::{AUTHORIZER, MAILER, dispatch, routes};

/// The authorizer on a customer's own route (`apiKeys.rs` runs it with a key, too).
pub const CUSTOMER_ROUTE_SAMPLE: &str = "authorizer_customer_route";

/// What each sample gets from a fresh deployment.
fn expected(function: &str) -> u16 {
    match function {
        "register" => 201,
        "verify_email"
        | "password_reset_confirm"
        | "magic_link_verify"
        | "deletion_confirm"
        | "deletion_cancel" => 400,
        "password_change" | "deletion_request" | "deletion_status" | "users_me_audit" => 401,
        // No provider is configured in a fresh deployment.
        "oauth_start" | "oauth_token" => 404,
        // No browser state (callback), no such code (exchange).
        "oauth_callback" | "oauth_callback_form" | "oauth_exchange" => 400,
        // The sample's origin is not among a fresh deployment's allowed origins.
        "cors_preflight" => 403,
        "login"
        | "verify_token"
        | "users_me"
        | "token_refresh"
        | "logout"
        | "sessions_list"
        | "sessions_revoke_all"
        | "session_revoke"
        | "users_me_update"
        | "console_apps_create"
        | "console_apps_list"
        | "console_app_get"
        | "console_app_update"
        | "console_app_delete"
        | "secret_keys_create"
        | "secret_keys_list"
        | "secret_key_revoke"
        | "console_providers_list"
        | "console_provider_put"
        | "console_provider_delete"
        | "oauth_clients_create"
        | "oauth_clients_list"
        | "oauth_client_get"
        | "oauth_client_update"
        | "oauth_client_delete"
        | "oauth_client_rotate_secret"
        | "admin_users_create"
        | "admin_users_list"
        | "admin_user_get"
        | "admin_user_update"
        | "admin_user_delete"
        | "admin_user_sessions_revoke"
        | "admin_user_password_reset"
        | "admin_audit"
        | "health_detailed"
        | "api_keys_create"
        | "api_keys_list"
        | "api_key_revoke"
        | "api_key_rotate"
        | "identities_list"
        | "oauth_link"
        | "identity_unlink"
        | "mfa_factors_list"
        | "mfa_totp_create"
        | "mfa_totp_confirm"
        | "mfa_recovery_codes"
        | "mfa_factor_delete"
        | "admin_user_mfa_reset" => 401,
        // A second step whose `mfa_token` names no pending sign-in.
        "mfa_challenge" | "mfa_verify" => 400,
        // An OAuth client the sample's deployment does not know: RFC 6749's invalid_client.
        "op_token" | "op_introspect" | "op_revoke" => 401,
        // A bearer that is no token of the provider; no session for the user's connected apps.
        "op_userinfo" | "op_userinfo_form" | "consents_list" | "consent_revoke" => 401,
        // An unknown client: the error page, never a redirect.
        "op_authorize" | "op_authorize_form" => 400,
        // No authorization in progress in this browser.
        "op_authorize_continue" => 400,
        // A form whose request was not sealed for this browser.
        "op_authorize_login" | "op_authorize_consent" | "op_logout_confirm" => 403,
        _ => 200,
    }
}

#[tokio::test]
async fn every_sample_event_runs_through_its_handler() {
    let app = TestApp::spawn().await;
    let dir = repo_root().join("events");
    let mut seen = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        if name == "purge_accounts" {
            let event = serde_json::from_str(&text).expect("a scheduled event");
            let out =
                functions::events::purge_accounts::handle(app.app.clone(), event).await.expect("a purge run");
            assert_eq!(out["purged"], 0);
        } else if name == MAILER {
            // An outbox insert whose item is not in this table: there is nothing to claim, so
            // nothing is sent and nothing is reported as failed.
            let event = serde_json::from_str(&text).expect("a DynamoDB stream event");
            let response = functions::events::mailer::handle(&app.app, event).await;
            assert!(response.batch_item_failures.is_empty());
            assert!(app.sent_mails_to("ada@example.com").await.is_empty());
        } else if name == AUTHORIZER {
            let event = serde_json::from_str(&text).expect("an authorizer event");
            let decision = functions::events::authorizer::handle(&app.app, event).await;
            assert_eq!(decision.context["auth_kind"], "none", "the sample's bearer is not valid");
            assert!(decision.context.get("user_id").is_none());
            assert!(decision.is_authorized, "our own routes are never refused at the gateway");
        } else if name == CUSTOMER_ROUTE_SAMPLE {
            // A customer's route (stage variable `auth_app_id`) without a credential: refused.
            let event = serde_json::from_str(&text).expect("an authorizer event");
            let decision = functions::events::authorizer::handle(&app.app, event).await;
            assert!(!decision.is_authorized, "an anonymous request to a customer's route is denied");
        } else {
            let route = routes()
                .iter()
                .find(|r| r.function == name)
                .unwrap_or_else(|| panic!("{name}.json names no function"));
            let req = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}.json: {e}"));
            let resp =
                TestResponse::from_response(dispatch(app.app.clone(), route.function, req).await.unwrap());
            assert_eq!(resp.status, expected(&name), "{name}.json: {}", resp.text);
            assert_eq!(
                resp.header("x-request-id"),
                Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef"),
                "API Gateway's request id"
            );
        }
        seen.insert(name, ());
    }
    for r in routes() {
        assert!(seen.contains_key(r.function), "events/{}.json is missing", r.function);
    }
    assert!(seen.contains_key(AUTHORIZER), "events/authorizer.json is missing");
    assert!(seen.contains_key(MAILER), "events/mailer.json is missing");
}
