//! The dashboard's pages over HTTP, as a browser meets them: the session cookie and its end, CSRF
//! on every form, another developer's app, the pages' headers, a secret shown once, the mailed
//! link that only its page's button uses, and the API's refusals as words on the page. The whole
//! journey in Chromium is `dashboard_browser.rs`.

use auth_tests::{Jar, PASSWORD, TestApp, TestResponse, set_cookies, unique_email};
use serde_json::json;

/// A hidden field of the page's first form that has it.
pub(crate) fn field(page: &TestResponse, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start =
        page.text.find(&marker).unwrap_or_else(|| panic!("no {name} in {}", page.text)) + marker.len();
    page.text[start..].split('"').next().unwrap().to_owned()
}

/// The secret a page shows once.
fn shown_secret(page: &TestResponse) -> String {
    let marker = "<code id=\"shown-secret\">";
    let start = page.text.find(marker).unwrap_or_else(|| panic!("no secret in {}", page.text)) + marker.len();
    page.text[start..].split('<').next().unwrap().to_owned()
}

/// Where the keys page's first "Revoke" button posts.
fn revoke_action(keys: &TestResponse) -> String {
    let form = keys.text.split("action=\"").find(|a| a.contains("/revoke\"")).expect("a revoke button");
    form.split('"').next().unwrap().to_owned()
}

/// The CSRF token of this browser's forms (from any page: this one has a form signed in or not).
async fn csrf(app: &TestApp, jar: &mut Jar) -> String {
    let page = jar.get(app, "/dashboard/forgot-password", "").await;
    field(&page, "csrf_token")
}

/// A verified developer signed in to the dashboard through its sign-in form: the browser and the
/// developer's email.
pub(crate) async fn signed_in(app: &TestApp) -> (Jar, String) {
    let email = unique_email("dev");
    app.verified_user_at("/apps/console", &email).await;
    let mut jar = Jar::default();
    let token = csrf(app, &mut jar).await;
    let r = jar
        .post(app, "/dashboard/login", &[("csrf_token", &token), ("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(r.header("location"), Some("/dashboard"));
    (jar, email)
}

/// An app made through the dashboard's form: its id.
pub(crate) async fn new_app(app: &TestApp, jar: &mut Jar, name: &str) -> String {
    let token = csrf(app, jar).await;
    let r = jar.post(app, "/dashboard/apps/new", &[("csrf_token", &token), ("name", name)]).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let location = r.header("location").unwrap();
    location.trim_start_matches("/dashboard/apps/").split('?').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_session_cookie_is_host_only_httponly_lax_and_dies_with_signing_out() {
    let app = TestApp::spawn().await;
    let email = unique_email("dev");
    app.verified_user_at("/apps/console", &email).await;
    let mut jar = Jar::default();
    let token = csrf(&app, &mut jar).await;
    let r = jar
        .post(&app, "/dashboard/login", &[("csrf_token", &token), ("email", &email), ("password", PASSWORD)])
        .await;
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("__Host-console-session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");

    let home = jar.get(&app, "/dashboard", "").await;
    assert_eq!(home.status, 200, "{}", home.text);
    assert!(home.text.contains("No apps yet"), "the empty state: {}", home.text);
    let old = jar.clone();

    let token = field(&home, "csrf_token");
    let out = jar.post(&app, "/dashboard/logout", &[("csrf_token", &token)]).await;
    assert_eq!(out.status, 302);
    assert_eq!(out.header("location"), Some("/dashboard/login?done=signed_out"));
    assert!(!jar.jar.contains_key("__Host-console-session"), "the cookie is cleared");

    // The cookie as it was before signing out: its session is revoked, its refresh token too.
    let mut replayed = old;
    let r = replayed.get(&app, "/dashboard", "").await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(r.header("location"), Some("/dashboard/login"));
    // Wrong password: the page says so, with no cookie.
    let token = csrf(&app, &mut jar).await;
    let r = jar
        .post(
            &app,
            "/dashboard/login",
            &[("csrf_token", &token), ("email", &email), ("password", "Wrong-pass-1")],
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.text.contains("The email or password is incorrect."), "{}", r.text);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(set_cookies(&r).iter().all(|c| !c.starts_with("__Host-console-session=")), "no session");
}

#[tokio::test]
async fn a_form_without_or_with_another_csrf_token_is_refused_and_does_nothing() {
    let app = TestApp::spawn().await;
    let (mut jar, email) = signed_in(&app).await;
    for form in [vec![("name", "Sneaky")], vec![("csrf_token", "forged-token-value"), ("name", "Sneaky")]] {
        let r = jar.post(&app, "/dashboard/apps/new", &form).await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(r.text.contains("This form has expired"), "{}", r.text);
    }
    // A sign-in form posted from another site carries no token either (login CSRF).
    let r = Jar::default().post(&app, "/dashboard/login", &[("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 403);
    assert!(set_cookies(&r).iter().all(|c| !c.starts_with("__Host-console-session=")));
    // Nothing was made.
    let home = jar.get(&app, "/dashboard", "").await;
    assert!(home.text.contains("No apps yet"), "{}", home.text);
}

#[tokio::test]
async fn another_developers_app_is_not_found_on_any_of_its_pages() {
    let app = TestApp::spawn().await;
    let (mut alice, _) = signed_in(&app).await;
    let id = new_app(&app, &mut alice, "Alice Photos").await;
    let own = alice.get(&app, &format!("/dashboard/apps/{id}"), "").await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert!(own.text.contains(&format!("/apps/{id}/.well-known/openid-configuration")), "the discovery URL");

    let (mut mallory, _) = signed_in(&app).await;
    for page in ["", "/settings", "/secret-keys", "/oauth-clients", "/providers", "/users", "/audit"] {
        let r = mallory.get(&app, &format!("/dashboard/apps/{id}{page}"), "").await;
        assert_eq!(r.status, 404, "{page}: {}", r.text);
        assert!(!r.text.contains("Alice Photos"), "{page}");
        assert!(r.text.contains("id=\"sign-out\""), "a signed-in developer keeps the navigation: {page}");
    }
    let token = csrf(&app, &mut mallory).await;
    let r = mallory
        .post(&app, &format!("/dashboard/apps/{id}/secret-keys"), &[("csrf_token", &token), ("label", "x")])
        .await;
    assert_eq!(r.status, 404);
    let r = mallory.get(&app, "/dashboard/apps/app_notanid", "").await;
    assert_eq!(r.status, 404);
    let r = mallory.get(&app, "/dashboard/nowhere", "").await;
    assert_eq!(r.status, 404);
    assert!(r.header("content-type").unwrap().starts_with("text/html"), "a page, never JSON");
}

#[tokio::test]
async fn pages_forbid_framing_and_caching_and_load_only_their_own_assets() {
    let app = TestApp::spawn().await;
    let mut jar = Jar::default();
    let r = jar.get(&app, "/dashboard/login", "").await;
    assert_eq!(r.status, 200);
    let csp = r.header("content-security-policy").unwrap();
    for directive in
        ["default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "script-src 'self'"]
    {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let csrf_cookie = set_cookies(&r).into_iter().find(|c| c.starts_with("__Host-console-csrf=")).unwrap();
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("Secure"), "{csrf_cookie}");
    assert!(r.text.contains("<label for=\"login-email\">Email</label>"), "labelled fields");
    // Signed out, any page of the console leads to the sign-in page.
    let home = Jar::default().get(&app, "/dashboard", "").await;
    assert_eq!(home.header("location"), Some("/dashboard/login"));
    let css = jar.get(&app, "/dashboard/assets/dashboard.css", "").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
}

#[tokio::test]
async fn a_secret_key_is_shown_once_uncached_and_works_at_the_management_api() {
    let app = TestApp::spawn().await;
    let (mut jar, _) = signed_in(&app).await;
    let id = new_app(&app, &mut jar, "Keys app").await;
    let token = csrf(&app, &mut jar).await;
    let r = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/secret-keys"),
            &[("csrf_token", &token), ("label", "backend")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let key = shown_secret(&r);
    assert!(key.starts_with("sk_"), "{key}");

    let users = app.get(&format!("/apps/{id}/api/v1/admin/users")).bearer(&key).send().await;
    assert_eq!(users.status, 200, "{}", users.text);
    for page in ["/secret-keys", "", "/settings"] {
        let later = jar.get(&app, &format!("/dashboard/apps/{id}{page}"), "").await;
        assert_eq!(later.status, 200);
        assert!(!later.text.contains(&key), "the secret is not on {page:?}");
    }
    // Revoked from its row: dead at once.
    let keys = jar.get(&app, &format!("/dashboard/apps/{id}/secret-keys"), "").await;
    let action = revoke_action(&keys);
    let r = jar.post(&app, &action, &[("csrf_token", &field(&keys, "csrf_token"))]).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let users = app.get(&format!("/apps/{id}/api/v1/admin/users")).bearer(&key).send().await;
    users.assert_error(401, "unauthorized");
}

#[tokio::test]
async fn the_mailed_link_opens_a_page_and_only_its_button_verifies() {
    let app = TestApp::spawn().await;
    let email = unique_email("newdev");
    let mut jar = Jar::default();
    let token = field(&jar.get(&app, "/dashboard/signup", "").await, "csrf_token");
    let weak = jar
        .post(&app, "/dashboard/signup", &[("csrf_token", &token), ("email", &email), ("password", "short")])
        .await;
    assert_eq!(weak.status, 400);
    assert!(weak.text.contains("Use at least 8 characters."), "the rule next to the field: {}", weak.text);
    assert!(weak.text.contains("aria-invalid=\"true\""));
    let r = jar
        .post(&app, "/dashboard/signup", &[("csrf_token", &token), ("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Check your inbox"));

    let mail = app.mails_to(&email).await.pop().expect("the verification mail");
    assert!(mail.body.contains("/dashboard/verify-email?token="), "{}", mail.body);
    let link_token = app.token_from_mail(&email, "verify-email").await;
    // A scanner follows the link: the page only shows a button.
    let page = Jar::default().get(&app, "/dashboard/verify-email", &format!("token={link_token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Verify my email address"));
    let login = app
        .post("/apps/console/api/v1/auth/login", json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    login.assert_error(401, "email_not_verified");
    // The button.
    let page = jar.get(&app, "/dashboard/verify-email", &format!("token={link_token}")).await;
    let r = jar
        .post(
            &app,
            "/dashboard/verify-email",
            &[("csrf_token", &field(&page, "csrf_token")), ("token", &link_token)],
        )
        .await;
    assert_eq!(r.header("location"), Some("/dashboard/login?done=verified"), "{}", r.text);
    let login = app
        .post("/apps/console/api/v1/auth/login", json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
    // Used: a second press says so on the page.
    let again = jar
        .post(
            &app,
            "/dashboard/verify-email",
            &[("csrf_token", &field(&page, "csrf_token")), ("token", &link_token)],
        )
        .await;
    assert_eq!(again.status, 400);
    assert!(again.text.contains("This link is invalid"), "{}", again.text);
}

#[tokio::test]
async fn the_apis_refusals_are_words_next_to_their_fields_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let (mut jar, _) = signed_in(&app).await;
    let id = new_app(&app, &mut jar, "Rules app").await;
    let page = jar.get(&app, &format!("/dashboard/apps/{id}/settings"), "").await;
    assert_eq!(page.status, 200);
    let token = field(&page, "csrf_token");
    let r = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/settings"),
            &[
                ("csrf_token", &token),
                ("name", "Renamed"),
                ("frontend_url", "http://shop.example"),
                ("access_token_ttl_seconds", "ten"),
                ("password_policy", "default"),
                ("link_social_by_email", "verified"),
                ("session_scopes", "read write"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text.contains("Use an https:// address"), "{}", r.text);
    assert!(r.text.contains("Enter a whole number."), "{}", r.text);
    assert!(r.text.contains("value=\"http://shop.example\""), "the form as sent");
    let overview = jar.get(&app, &format!("/dashboard/apps/{id}"), "").await;
    assert!(overview.text.contains("Rules app") && !overview.text.contains("Renamed"), "nothing applied");

    // A provider's credentials by the API's own rules (Apple's team id is ten capitals/digits).
    let r = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/providers/apple"),
            &[
                ("csrf_token", &token),
                ("client_id", "com.example.web"),
                ("team_id", "nope"),
                ("key_id", "ABCDEFGHIJ"),
                ("private_key", "PRIVATE-KEY-MATERIAL-0123"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("id=\"apple-team_id-error\""), "the rule next to the team id: {}", r.text);
    assert!(!r.text.contains("PRIVATE-KEY-MATERIAL-0123"), "a refused form does not send the key back");
    let providers = jar.get(&app, &format!("/dashboard/apps/{id}/providers"), "").await;
    assert!(!providers.text.contains(">Configured<"), "nothing configured");
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_mailed_page() {
    let app = TestApp::spawn().await;
    let email = unique_email("forgetful");
    app.verified_user_at("/apps/console", &email).await;
    let mut jar = Jar::default();
    let token = field(&jar.get(&app, "/dashboard/forgot-password", "").await, "csrf_token");
    let r = jar.post(&app, "/dashboard/forgot-password", &[("csrf_token", &token), ("email", &email)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Check your inbox"));
    let link_token = app.token_from_mail(&email, "reset-password").await;
    let page = jar.get(&app, "/dashboard/reset-password", &format!("token={link_token}")).await;
    assert_eq!(page.status, 200);
    let weak = jar
        .post(
            &app,
            "/dashboard/reset-password",
            &[("csrf_token", &token), ("token", &link_token), ("new_password", "abc")],
        )
        .await;
    assert_eq!(weak.status, 400);
    assert!(weak.text.contains("aria-invalid=\"true\""), "{}", weak.text);
    let new_password = "Quartz-Lantern-93-Ferry";
    let r = jar
        .post(
            &app,
            "/dashboard/reset-password",
            &[("csrf_token", &token), ("token", &link_token), ("new_password", new_password)],
        )
        .await;
    assert_eq!(r.header("location"), Some("/dashboard/login?done=password_reset"), "{}", r.text);
    let login = jar.get(&app, "/dashboard/login", "done=password_reset").await;
    assert!(login.text.contains("Your password is changed."), "{}", login.text);
    let r = jar
        .post(
            &app,
            "/dashboard/login",
            &[("csrf_token", &token), ("email", &email), ("password", new_password)],
        )
        .await;
    assert_eq!(r.header("location"), Some("/dashboard"), "{}", r.text);
}

#[tokio::test]
async fn users_are_paginated_searched_and_managed_from_their_pages() {
    let app = TestApp::spawn().await;
    let (mut jar, _) = signed_in(&app).await;
    let id = new_app(&app, &mut jar, "People app").await;
    let base = format!("/apps/{id}");
    // 27 users: more than a page of 25.
    let (mut emails, mut ids) = (Vec::new(), Vec::new());
    for i in 0..27 {
        let email = unique_email(&format!("member{i:02}"));
        ids.push(app.verified_user_at(&base, &email).await);
        emails.push(email);
    }
    let first = jar.get(&app, &format!("/dashboard/apps/{id}/users"), "").await;
    assert_eq!(first.status, 200);
    let next = first
        .text
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let next = next.replace("&amp;", "&");
    let (path, query) = next.split_once('?').unwrap();
    let second = jar.get(&app, path, query).await;
    let listed =
        emails.iter().filter(|e| first.text.contains(e.as_str()) || second.text.contains(e.as_str())).count();
    assert_eq!(listed, 27, "every user on one of the two pages");
    assert!(!second.text.contains("rel=\"next\""), "the last page has no next");
    let found = jar.get(&app, &format!("/dashboard/apps/{id}/users"), &format!("email={}", &emails[3])).await;
    let row = |user: &str| format!("/users/{user}\"");
    assert!(found.text.contains(&row(&ids[3])) && !found.text.contains(&row(&ids[4])), "{}", found.text);
    let none = jar.get(&app, &format!("/dashboard/apps/{id}/users"), "email=nobody-at-all").await;
    assert!(
        none.text.contains("No user&#39;s email starts with that.")
            || none.text.contains("No user's email starts with that."),
        "{}",
        none.text
    );

    // A user's page: sign out everywhere ends their session; delete asks for their email.
    let (access, _) = app.logged_in_at(&base, &unique_email("target")).await;
    let me = app.get(&format!("{base}/api/v1/users/me")).bearer(&access).send().await;
    let user_id = me.body["data"]["id"].as_str().unwrap().to_owned();
    let target_email = me.body["data"]["email"].as_str().unwrap().to_owned();
    let page = jar.get(&app, &format!("/dashboard/apps/{id}/users/{user_id}"), "").await;
    assert_eq!(page.status, 200);
    let token = field(&page, "csrf_token");
    let r = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/users/{user_id}/revoke-sessions"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status, 302);
    app.get(&format!("{base}/api/v1/users/me"))
        .bearer(&access)
        .send()
        .await
        .assert_error(401, "unauthorized");
    let wrong = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/users/{user_id}/delete"),
            &[("csrf_token", &token), ("confirm", "someone@else.example")],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(
        jar.get(&app, &format!("/dashboard/apps/{id}/users/{user_id}"), "").await.status,
        200,
        "still there"
    );
    let r = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/users/{user_id}/delete"),
            &[("csrf_token", &token), ("confirm", &target_email)],
        )
        .await;
    assert_eq!(r.header("location"), Some(format!("/dashboard/apps/{id}/users?done=user_deleted").as_str()));
    assert_eq!(jar.get(&app, &format!("/dashboard/apps/{id}/users/{user_id}"), "").await.status, 404);

    // The audit log: a page of the newest events and a next page; filtered by a user, only theirs.
    let audit = jar.get(&app, &format!("/dashboard/apps/{id}/audit"), "").await;
    assert!(audit.text.contains("email_verified") && audit.text.contains("rel=\"next\""), "{}", audit.text);
    let theirs = jar.get(&app, &format!("/dashboard/apps/{id}/audit"), &format!("user_id={}", ids[0])).await;
    let cell = |user: &str| format!("<td>{user}</td>");
    assert!(
        theirs.text.contains(&cell(&ids[0])) && theirs.text.contains("<td>register</td>"),
        "{}",
        theirs.text
    );
    assert!(ids[1..].iter().all(|other| !theirs.text.contains(&cell(other))), "only that user's events");
    let bad = jar.get(&app, &format!("/dashboard/apps/{id}/audit"), "user_id=not%20an%20id!").await;
    assert!(bad.text.contains("That is not a user id"), "{}", bad.text);
}

#[tokio::test]
async fn a_clients_secret_rotates_on_its_page_and_an_app_is_deleted_after_its_name() {
    let app = TestApp::spawn().await;
    let (mut jar, _) = signed_in(&app).await;
    let id = new_app(&app, &mut jar, "Client app").await;
    let token = csrf(&app, &mut jar).await;
    let r = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/oauth-clients"),
            &[
                ("csrf_token", &token),
                ("name", "Print Studio"),
                ("type", "confidential"),
                ("redirect_uris", "https://print.example/callback"),
                ("scopes", "openid email"),
                ("grant_authorization_code", "on"),
                ("grant_client_credentials", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let first = shown_secret(&r);
    let client_id = r.text.split("Client id</dt><dd>").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let grant = |secret: String| {
        let client_id = client_id.clone();
        let app = &app;
        let id = id.clone();
        async move {
            app.call("POST", &format!("/apps/{id}/oauth/token"))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", &client_id),
                    ("client_secret", &secret),
                ])
                .send()
                .await
                .status
        }
    };
    assert_eq!(grant(first.clone()).await, 200);
    // A grant rule of the API, next to the grants.
    let page = jar.get(&app, &format!("/dashboard/apps/{id}/oauth-clients/{client_id}"), "").await;
    assert!(!page.text.contains(&first), "the secret is not shown again");
    let r = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/oauth-clients/{client_id}"),
            &[
                ("csrf_token", &token),
                ("name", "Print Studio"),
                ("redirect_uris", ""),
                ("scopes", "openid"),
                ("grant_authorization_code", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("edit-redirect_uris-error"), "{}", r.text);
    let r = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/oauth-clients/{client_id}/rotate-secret"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let second = shown_secret(&r);
    assert_ne!(first, second);
    assert_eq!(grant(first).await, 401, "the old secret died at once");
    assert_eq!(grant(second).await, 200);

    let wrong = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/delete"),
            &[("csrf_token", &token), ("confirm", "Another name")],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(jar.get(&app, &format!("/dashboard/apps/{id}"), "").await.status, 200, "still there");
    let r = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/delete"),
            &[("csrf_token", &token), ("confirm", "Client app")],
        )
        .await;
    assert_eq!(r.header("location"), Some("/dashboard?done=app_deleted"));
    assert_eq!(jar.get(&app, &format!("/dashboard/apps/{id}"), "").await.status, 404);
}

#[tokio::test]
async fn the_consoles_other_mailed_links_open_pages_of_the_dashboard() {
    let app = TestApp::spawn().await;
    let email = unique_email("linked");
    let mut jar = Jar::default();
    let token = csrf(&app, &mut jar).await;
    // Signed up through the API, the mail lost: a new one from the page.
    let r = app
        .post("/apps/console/api/v1/auth/register", json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(r.status, 201);
    let r =
        jar.post(&app, "/dashboard/resend-verification", &[("csrf_token", &token), ("email", &email)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        app.mails_to(&email).await.iter().filter(|m| m.link_token("verify-email").is_some()).count(),
        2
    );

    // A sign-in link: the page's button signs in.
    let r = jar.post(&app, "/dashboard/sign-in-link", &[("csrf_token", &token), ("email", &email)]).await;
    assert!(r.text.contains("Check your inbox"), "{}", r.text);
    let link = app.token_from_mail(&email, "magic-link").await;
    let page = jar.get(&app, "/dashboard/magic-link", &format!("token={link}")).await;
    assert_eq!(page.status, 200);
    assert!(!jar.jar.contains_key("__Host-console-session"), "following the link signs nobody in");
    let r = jar.post(&app, "/dashboard/magic-link", &[("csrf_token", &token), ("token", &link)]).await;
    assert_eq!(r.header("location"), Some("/dashboard"), "{}", r.text);
    assert!(jar.jar.contains_key("__Host-console-session"));
    assert_eq!(jar.get(&app, "/dashboard", "").await.status, 200);

    // A deletion the developer asked for through the API, confirmed and then cancelled by pages.
    // (A magic link on an unverified account drops its password, as the API's rule has it: the
    // session the link started, from the cookie that holds its pair, asks instead.)
    let pair = jar.jar["__Host-console-session"].clone();
    let access = pair.split('~').next().unwrap().to_owned();
    let r = app
        .post("/apps/console/api/v1/account/deletion", json!({"password": "none-set"}))
        .bearer(&access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let confirm = app.token_from_mail(&email, "confirm-deletion").await;
    let page = jar.get(&app, "/dashboard/confirm-deletion", &format!("token={confirm}")).await;
    assert!(page.text.contains("Delete my account"), "{}", page.text);
    let r =
        jar.post(&app, "/dashboard/confirm-deletion", &[("csrf_token", &token), ("token", &confirm)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("scheduled for deletion"), "{}", r.text);
    let cancel = app.token_from_mail(&email, "cancel-deletion").await;
    let r = jar.post(&app, "/dashboard/cancel-deletion", &[("csrf_token", &token), ("token", &cancel)]).await;
    assert_eq!(r.header("location"), Some("/dashboard/login?done=deletion_cancelled"), "{}", r.text);
}

#[tokio::test]
async fn a_form_too_large_gets_a_page() {
    let app = TestApp::spawn().await;
    let (mut jar, _) = signed_in(&app).await;
    let token = csrf(&app, &mut jar).await;
    let huge = "x".repeat(20 * 1024);
    let r = jar.post(&app, "/dashboard/apps/new", &[("csrf_token", &token), ("name", &huge)]).await;
    assert_eq!(r.status, 413);
    assert!(r.header("content-type").unwrap().starts_with("text/html"), "{}", r.text);
    assert!(r.text.contains("This form is too large"));
}

#[tokio::test]
async fn an_expired_access_token_rotates_the_pair_and_the_replaced_cookie_is_refused() {
    let app = TestApp::spawn().await;
    let (mut jar, _) = signed_in(&app).await;
    let pair = jar.jar["__Host-console-session"].clone();
    let (_, refresh) = pair.split_once('~').unwrap();
    // The access token no longer verifies (as once it has expired); the refresh token is live.
    let expired = format!("expired.access.token~{refresh}");
    jar.jar.insert("__Host-console-session".into(), expired.clone());
    let home = jar.get(&app, "/dashboard", "").await;
    assert_eq!(home.status, 200, "{}", home.text);
    let renewed = jar.jar["__Host-console-session"].clone();
    assert_ne!(renewed, expired, "a new pair is set");
    assert!(!renewed.ends_with(refresh), "with a new refresh token");
    assert_eq!(jar.get(&app, "/dashboard", "").await.status, 200, "the new pair works");

    // The replaced cookie: refused, sent to sign in, and the browser's cookie is left alone (a
    // request that lost the race to rotate must not erase the winner's pair).
    let mut stale = Jar::default();
    stale.jar.insert("__Host-console-session".into(), expired);
    let r = stale.get(&app, "/dashboard/apps/new", "").await;
    assert_eq!(r.header("location"), Some("/dashboard/login"), "{}", r.text);
    assert!(
        set_cookies(&r).iter().all(|c| !c.starts_with("__Host-console-session=")),
        "{:?}",
        set_cookies(&r)
    );

    // The sign-in page with a cookie whose access token expired: home, with the rotated pair.
    let mut tab = Jar::default();
    let (_, refresh) = renewed.split_once('~').unwrap();
    tab.jar.insert("__Host-console-session".into(), format!("expired.access.token~{refresh}"));
    let r = tab.get(&app, "/dashboard/login", "").await;
    assert_eq!(r.header("location"), Some("/dashboard"), "{}", r.text);
    assert!(!tab.jar["__Host-console-session"].starts_with("expired."), "the rotated pair is kept");
    assert_eq!(tab.get(&app, "/dashboard", "").await.status, 200);
}

#[tokio::test]
async fn an_apps_action_forms_need_the_csrf_token_too() {
    let app = TestApp::spawn().await;
    let (mut jar, _) = signed_in(&app).await;
    let id = new_app(&app, &mut jar, "Guarded app").await;
    let token = csrf(&app, &mut jar).await;
    let r = jar
        .post(&app, &format!("/dashboard/apps/{id}/secret-keys"), &[("csrf_token", &token), ("label", "ci")])
        .await;
    let key = shown_secret(&r);
    let keys = jar.get(&app, &format!("/dashboard/apps/{id}/secret-keys"), "").await;
    let action = revoke_action(&keys);
    let r = jar.post(&app, &action, &[("csrf_token", "another-token")]).await;
    assert_eq!(r.status, 403);
    let r = jar.post(&app, &format!("/dashboard/apps/{id}/delete"), &[("confirm", "Guarded app")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        app.get(&format!("/apps/{id}/api/v1/admin/users")).bearer(&key).send().await.status,
        200,
        "the key lives"
    );
    assert_eq!(jar.get(&app, &format!("/dashboard/apps/{id}"), "").await.status, 200, "the app lives");
}

/// Login CSRF: a sign-in link works only in the browser that asked for it (its `__Host-` binding
/// cookie), never in another one; a link asked for through the API signs no browser in, and
/// still works for the API client that asked.
#[tokio::test]
async fn a_sign_in_link_signs_in_only_the_browser_that_asked_for_it() {
    let app = TestApp::spawn().await;
    let email = unique_email("bound");
    app.verified_user_at("/apps/console", &email).await;
    let mut asking = Jar::default();
    let token = csrf(&app, &mut asking).await;
    let r = asking.post(&app, "/dashboard/sign-in-link", &[("csrf_token", &token), ("email", &email)]).await;
    assert!(r.text.contains("Check your inbox"), "{}", r.text);
    let binding = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-console-link="));
    let binding = binding.unwrap_or_else(|| panic!("a binding cookie: {:?}", r.headers));
    assert!(
        binding.contains("Secure") && binding.contains("HttpOnly") && binding.contains("Path=/"),
        "{binding}"
    );
    let link = app.token_from_mail(&email, "magic-link").await;
    // Another browser (the victim of a link sent on): refused, and the link is not used up.
    let mut other = Jar::default();
    let other_token = csrf(&app, &mut other).await;
    let r =
        other.post(&app, "/dashboard/magic-link", &[("csrf_token", &other_token), ("token", &link)]).await;
    assert_ne!(r.header("location"), Some("/dashboard"), "{}", r.text);
    assert!(!other.jar.contains_key("__Host-console-session"));
    // The browser that asked.
    let r = asking.post(&app, "/dashboard/magic-link", &[("csrf_token", &token), ("token", &link)]).await;
    assert_eq!(r.header("location"), Some("/dashboard"), "{}", r.text);

    // A link from the API: no browser takes it, the API does.
    let r = app.post("/apps/console/api/v1/auth/magic-link", json!({"email": email})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let api_link = app.token_from_mail(&email, "magic-link").await;
    let r = asking.post(&app, "/dashboard/magic-link", &[("csrf_token", &token), ("token", &api_link)]).await;
    assert_ne!(r.header("location"), Some("/dashboard"), "{}", r.text);
    let r = app.post("/apps/console/api/v1/auth/magic-link/verify", json!({"token": api_link})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// The client page shows `require_pkce` (on for a new client) and `introspect_any`, and saves
/// them; a public client's page offers neither (PKCE is always on for it).
#[tokio::test]
async fn a_clients_page_shows_and_saves_require_pkce_and_introspect_any() {
    let app = TestApp::spawn().await;
    let (mut jar, _) = signed_in(&app).await;
    let id = new_app(&app, &mut jar, "Pkce app").await;
    let token = csrf(&app, &mut jar).await;
    let checked = |page: &str, name: &str| {
        let input =
            page.split(&format!("name=\"{name}\"")).nth(1).unwrap_or_else(|| panic!("no {name}: {page}"));
        input.split('>').next().unwrap().contains("checked")
    };
    // The new client's form, on the list page.
    let list = jar.get(&app, &format!("/dashboard/apps/{id}/oauth-clients"), "").await;
    assert!(checked(&list.text, "require_pkce"), "on for a new client");
    assert!(!checked(&list.text, "introspect_any"));
    let r = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/oauth-clients"),
            &[
                ("csrf_token", &token),
                ("name", "Resource server"),
                ("type", "confidential"),
                ("redirect_uris", "https://rs.example/callback"),
                ("scopes", "openid"),
                ("grant_authorization_code", "on"),
                ("require_pkce", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let client_id = r.text.split("Client id</dt><dd>").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let path = format!("/dashboard/apps/{id}/oauth-clients/{client_id}");
    let page = jar.get(&app, &path, "").await;
    assert!(checked(&page.text, "require_pkce") && !checked(&page.text, "introspect_any"), "{}", page.text);
    let form = [
        ("csrf_token", token.as_str()),
        ("name", "Resource server"),
        ("redirect_uris", "https://rs.example/callback"),
        ("scopes", "openid"),
        ("grant_authorization_code", "on"),
        ("introspect_any", "on"),
    ];
    let r = jar.post(&app, &path, &form).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let page = jar.get(&app, &path, "").await;
    assert!(!checked(&page.text, "require_pkce") && checked(&page.text, "introspect_any"), "{}", page.text);

    let r = jar
        .post(
            &app,
            &format!("/dashboard/apps/{id}/oauth-clients"),
            &[
                ("csrf_token", &token),
                ("name", "Phone app"),
                ("type", "public"),
                ("redirect_uris", "com.example.app:/cb"),
                ("scopes", "openid"),
                ("grant_authorization_code", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let public_id = r.text.split("Client id</dt><dd>").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let page = jar.get(&app, &format!("/dashboard/apps/{id}/oauth-clients/{public_id}"), "").await;
    assert!(!page.text.contains("name=\"require_pkce\"") && !page.text.contains("name=\"introspect_any\""));
}
