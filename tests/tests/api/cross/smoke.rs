//! The main flow over real HTTP through `cargo lambda watch` and its router: each function runs as
//! its own process under the emulated Lambda runtime, exactly as `make dev` serves it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auth_tests::{PASSWORD, TestApp, unique_email};
use authctl::{moto::free_port, repo_root};
use serde_json::{Value, json};

/// `cargo lambda watch` in its own process group, stopped with everything it started.
pub(crate) struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let pgid = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--", &pgid])
            .stderr(std::process::Stdio::null())
            .status();
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &pgid])
            .stderr(std::process::Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

pub(crate) fn start_watch(app: &TestApp, port: u16) -> Watch {
    use std::os::unix::process::CommandExt;
    let venv_bin = repo_root().join(".venv/bin");
    assert!(
        venv_bin.join("cargo-lambda").exists(),
        "cargo-lambda is not installed in .venv: run the suite with `make test`, which installs it"
    );
    let mut cmd = Command::new("cargo");
    cmd.args(["lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port", &port.to_string()])
        .current_dir(repo_root())
        .env("PATH", format!("{}:{}", venv_bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env("AWS_ENDPOINT_URL", &app.moto)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    for (k, v) in &app.vars {
        cmd.env(k, v);
    }
    Watch(cmd.spawn().expect("cargo lambda watch starts"))
}

/// Waits for `cargo lambda watch` at `base` to answer: functions compile on their first request,
/// so the first one gets time.
pub(crate) async fn wait_until_up(base: &str) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(300)).build().unwrap();
    let started = Instant::now();
    loop {
        match http.get(format!("{base}/api/v1/health")).send().await {
            Ok(r) if r.status() == 200 => break,
            _ if started.elapsed() > Duration::from_secs(600) => panic!("cargo lambda watch never answered"),
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

#[tokio::test]
async fn main_flow_over_http_through_cargo_lambda_watch() {
    let app = TestApp::spawn().await;
    let port = free_port().unwrap();
    let _watch = start_watch(&app, port);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(300)).build().unwrap();
    wait_until_up(&base).await;

    let email = unique_email("smoke");
    let post = |path: &str, body: Value| http.post(format!("{base}{path}")).json(&body).send();
    let r = post("/api/v1/auth/register", json!({"email": email, "password": PASSWORD})).await.unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.headers().get("x-request-id").is_some());

    let token = app.token_from_mail(&email, "verify-email").await;
    let r = post("/api/v1/auth/verify-email", json!({"token": token})).await.unwrap();
    assert_eq!(r.status(), 200);

    let r = post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD})).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let login: Value = r.json().await.unwrap();
    let access = login["data"]["access_token"].as_str().unwrap().to_owned();

    // The form variant goes through the emulator's base64 body path.
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .form(&[("username", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let me: Value = http
        .get(format!("{base}/api/v1/users/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["email"], email.as_str());

    let r = http.get(format!("{base}/api/v1/auth/verify-token")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let r = http.get(format!("{base}/api/v1/users/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer error=\"invalid_token\"");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    // Rotation, session listing (a path with no parameter) and revocation through the router.
    let refresh = login["data"]["refresh_token"].as_str().unwrap();
    let r = post("/api/v1/auth/token/refresh", json!({"refresh_token": refresh})).await.unwrap();
    assert_eq!(r.status(), 200);
    let rotated: Value = r.json().await.unwrap();
    let access2 = rotated["data"]["access_token"].as_str().unwrap().to_owned();
    let sessions: Value = http
        .get(format!("{base}/api/v1/auth/sessions"))
        .bearer_auth(&access2)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = sessions["data"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r =
        http.delete(format!("{base}/api/v1/auth/sessions/{sid}")).bearer_auth(&access2).send().await.unwrap();
    assert_eq!(r.status(), 200, "DELETE /sessions/{{id}} routed with its parameter");
    let r = http.post(format!("{base}/api/v1/auth/logout")).bearer_auth(&access2).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http.get(format!("{base}/api/v1/users/me")).bearer_auth(&access2).send().await.unwrap();
    assert_eq!(r.status(), 401, "logged out");

    let jwks: Value =
        http.get(format!("{base}/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let kid = jsonwebtoken::decode_header(&access).unwrap().kid.unwrap();
    assert!(jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == kid.as_str()));
}
