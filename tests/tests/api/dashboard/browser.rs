//! The dashboard in a real browser: `tests/rp/dashboard.mjs` drives Debian's Chromium with
//! playwright-core through a developer's whole journey, against the API served over HTTP (in-process,
//! and by `cargo lambda watch` as `make dev` serves it), with the mailer running as the table's
//! stream would run it. `DASH_SCREENSHOTS=<dir>` saves each page at
//! desktop and phone width there (`docs/` keeps them).

use auth_tests::browser;
use auth_tests::{PASSWORD, TestApp, unique_email};
use authctl::repo_root;
use serde_json::Value;

#[tokio::test]
async fn a_developer_does_everything_by_clicking_in_chromium() {
    let (listener, base) = browser::listener().await;
    let app = TestApp::spawn_with(&[("JWT_ISSUER", base.as_str())]).await;
    let _served = browser::serve(app.app.clone(), listener);
    journey(&app, &base).await;
}

/// The same journey as a newcomer makes it: `make dev`'s way of serving, `cargo lambda watch`
/// with the dashboard its own process under the emulated Lambda runtime.
#[tokio::test]
async fn a_developer_does_everything_by_clicking_through_cargo_lambda_watch() {
    let port = authctl::moto::free_port().expect("a free port");
    let base = format!("http://127.0.0.1:{port}");
    let app = TestApp::spawn_with(&[("JWT_ISSUER", base.as_str())]).await;
    let _watch = crate::cross::smoke::start_watch(&app, port);
    crate::cross::smoke::wait_until_up(&base).await;
    journey(&app, &base).await;
}

async fn journey(app: &TestApp, base: &str) {
    let (email, user_email) = (unique_email("alice"), unique_email("grace"));

    let rp = repo_root().join("tests/rp");
    let mut node = tokio::process::Command::new("node");
    node.arg(rp.join("dashboard.mjs"))
        .current_dir(&rp)
        .env("DASH_BASE", base)
        .env("DASH_MOTO", &app.moto)
        .env("DASH_EMAIL", &email)
        .env("DASH_USER_EMAIL", &user_email)
        .env("DASH_PASSWORD", PASSWORD);
    let run = tokio::time::timeout(std::time::Duration::from_secs(300), node.output());
    // The mailer, fed as the table's stream feeds it, while the browser waits for the mail.
    let mailer = async {
        loop {
            app.deliver_mail().await;
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    };
    let out = tokio::select! {
        out = run => out.expect("the journey ends within five minutes").expect("node runs (make test installs tests/rp's packages)"),
        _ = mailer => unreachable!("the mailer loop never ends"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "dashboard.mjs failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("one JSON line");

    assert_eq!(seen["verify_link_is_the_dashboards"], true, "{seen}");
    assert_eq!(seen["app_id_shape"], true, "{seen}");
    assert_eq!(seen["discovery_shown"], true, "{seen}");
    assert_eq!(seen["key_prefix"], "sk_");
    assert_eq!(seen["copy_button"], true);
    assert_eq!(seen["key_shown_again"], false, "a secret is shown once");
    assert_eq!(seen["keys_listed"], 1);
    assert_eq!(seen["user_created_status"], 201);
    assert_eq!(seen["user_login_before"], 200);
    assert_eq!(seen["user_status"], true);
    assert_eq!(seen["user_login_after"], 403);
    assert_eq!(seen["user_login_after_code"], "account_disabled");
    assert_eq!(seen["client_secret_prefix"], "ocs_");
    assert_eq!(seen["github_configured"], true);
    assert_eq!(seen["provider_secret_shown"], false, "provider secrets are write-only");
    assert!(seen["settings_error"].as_str().unwrap().contains("https://"), "{seen}");
    assert_eq!(seen["audit_has_disable"], true);
    assert_eq!(seen["cookie"]["httpOnly"], true);
    assert_eq!(seen["cookie"]["secure"], true);
    assert_eq!(seen["cookie"]["sameSite"], "Lax");
    assert_eq!(seen["cookie_status_before"], 200, "the cookie worked until the sign-out");
    assert_eq!(seen["old_cookie_status"], 302);
    assert_eq!(seen["old_cookie_location"], "/dashboard/login");
    let pages = seen["pages"].as_object().unwrap();
    for page in [
        "login",
        "signup",
        "verify-email",
        "apps-empty",
        "new-app",
        "overview",
        "secret-key-created",
        "users",
        "user",
        "oauth-clients",
        "oauth-client",
        "providers",
        "settings",
        "audit",
    ] {
        assert!(pages.contains_key(page), "{page} was checked: {seen}");
    }
}
