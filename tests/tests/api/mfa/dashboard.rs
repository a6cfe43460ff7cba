//! The dashboard: an app's second-factor settings on its settings page, a user's factors on their
//! page, and removing them for a user who lost the device.

use auth_tests::TestApp;
use serde_json::json;

use super::{totp_factor, user};
use crate::dashboard::pages::{field, new_app, signed_in};

#[tokio::test]
async fn the_settings_page_sets_the_second_factor_and_a_users_page_removes_their_factors() {
    let t = TestApp::spawn().await;
    let (mut jar, _) = signed_in(&t).await;
    let id = new_app(&t, &mut jar, "Two-step app").await;
    let page = jar.get(&t, &format!("/dashboard/apps/{id}/settings"), "").await;
    assert_eq!(page.status, 200);
    for name in ["mfa", "mfa_methods", "passkeys", "webauthn_rp_id", "webauthn_origins"] {
        assert!(page.text.contains(&format!("name=\"{name}\"")), "{name}: {}", page.text);
    }
    let token = field(&page, "csrf_token");
    let settings = |mfa: &'static str, rp_id: &'static str| {
        vec![
            ("csrf_token", token.clone()),
            ("name", "Two-step app".to_owned()),
            ("signup_enabled", "on".to_owned()),
            ("frontend_url", "https://app.example".to_owned()),
            ("password_policy", "default".to_owned()),
            ("link_social_by_email", "verified".to_owned()),
            ("session_scopes", "read write".to_owned()),
            ("api_key_scopes", "read".to_owned()),
            ("access_token_ttl_seconds", "3600".to_owned()),
            ("refresh_token_ttl_seconds", "2592000".to_owned()),
            ("max_sessions_per_user", "5".to_owned()),
            ("mfa", mfa.to_owned()),
            ("mfa_methods", "totp recovery_code".to_owned()),
            ("passkeys", "off".to_owned()),
            ("webauthn_rp_id", rp_id.to_owned()),
            ("webauthn_origins", "".to_owned()),
        ]
    };
    let path = format!("/dashboard/apps/{id}/settings");
    let pairs =
        |form: &[(&'static str, String)]| form.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    // The API's rule, next to its field.
    let form = pairs(&settings("optional", "10.0.0.1"));
    let refused = jar.post(&t, &path, &form.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(refused.text.contains("id=\"settings-webauthn_rp_id-error\""), "{}", refused.text);
    assert!(refused.text.contains("browsers take no IP address"), "{}", refused.text);
    let form = pairs(&settings("optional", ""));
    let saved = jar.post(&t, &path, &form.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(saved.status, 302, "{}", saved.text);
    let page = jar.get(&t, &format!("/dashboard/apps/{id}/settings"), "").await;
    assert!(page.text.contains("<option value=\"optional\" selected"), "{}", page.text);

    // A user of the app with a TOTP app: shown on their page, and removed from it.
    let base = format!("/apps/{id}");
    let (_, access, _) = user(&t, &base).await;
    totp_factor(&t, &base, &access).await;
    let me = t.get(&format!("{base}/api/v1/users/me")).bearer(&access).send().await;
    let user_id = me.body["data"]["id"].as_str().unwrap().to_owned();
    let user_page = jar.get(&t, &format!("/dashboard/apps/{id}/users/{user_id}"), "").await;
    assert_eq!(user_page.status, 200);
    assert!(user_page.text.contains("Phone (authenticator app, last used"), "{}", user_page.text);
    let r = jar
        .post(&t, &format!("/dashboard/apps/{id}/users/{user_id}/remove-factors"), &[("csrf_token", &token)])
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    let after = jar.get(&t, &format!("/dashboard/apps/{id}/users/{user_id}"), "done=factors_removed").await;
    assert!(
        after.text.contains("Every second factor and recovery code of the user is removed"),
        "{}",
        after.text
    );
    assert!(!after.text.contains("Remove every second factor"), "no factor left");
    let list = t.get(&format!("{base}/api/v1/auth/mfa/factors")).bearer(&access).send().await;
    assert_eq!(list.body["data"]["factors"], json!([]));
}
