//! Browser tests: the API served over real HTTP on loopback (an in-process front that turns each
//! request into the HTTP API's payload 2.0 event, as API Gateway does, and runs the route's
//! function), and Debian's Chromium driven through chromedriver (WebDriver). `make test` installs
//! both packages.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use fantoccini::{Client, ClientBuilder, Locator};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use shared::App;

use crate::Call;

/// The API of one test, listening on a loopback port of its own.
pub struct Served {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback port for the API, taken before the app is made: the app's issuer (its callback
/// URLs, its cookies' origin) is the URL it is served at.
pub async fn listener() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    (listener, base)
}

/// Serves `app`'s routes on `listener` until the returned handle is dropped.
pub fn serve(app: Arc<App>, listener: tokio::net::TcpListener) -> Served {
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let app = app.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| answer(app.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Served { task }
}

/// One request as API Gateway hands it to the route's function: the query string as sent, the
/// body base64-encoded unless it is JSON or text, and 404 for a path no route matches.
async fn answer(
    app: Arc<App>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path().to_owned();
    if functions::routes::find(parts.method.as_str(), &path).is_none() {
        let mut not_found =
            hyper::Response::new(Full::new(Bytes::from_static(br#"{"message":"Not Found"}"#)));
        *not_found.status_mut() = hyper::StatusCode::NOT_FOUND;
        return Ok(not_found);
    }
    let mut call = Call::new(app, parts.method.as_str(), &path).source_ip("127.0.0.1");
    call = call.query(parts.uri.query().unwrap_or_default());
    for (name, value) in &parts.headers {
        if let Ok(v) = value.to_str() {
            call = call.header(name.as_str(), v);
        }
    }
    if !body.is_empty() {
        let content_type =
            parts.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let text = content_type.starts_with("application/json") || content_type.starts_with("text/");
        call = if text {
            call.raw(&String::from_utf8_lossy(&body), &content_type)
        } else {
            call.raw(&base64::engine::general_purpose::STANDARD.encode(&body), &content_type).base64()
        };
    }
    let answered = call.send().await;
    let mut response = hyper::Response::new(Full::new(Bytes::from(answered.text.into_bytes())));
    *response.status_mut() =
        hyper::StatusCode::from_u16(answered.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    *response.headers_mut() = answered.headers;
    Ok(response)
}

/// Headless Chromium under its own chromedriver, with an empty profile; both stop when it drops.
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: std::path::PathBuf,
}

/// Where Debian's packages put them (`make test` installs `chromium` and `chromium-driver`).
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

impl Browser {
    pub async fn start() -> Browser {
        assert!(
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists(),
            "Chromium is not installed: run the suite with `make test`, which installs chromium and chromium-driver"
        );
        let port = authctl::moto::free_port().expect("a free port");
        // Its own process group, with the Chromium it starts: dropping the browser ends them all.
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let profile = std::env::temp_dir().join(format!("auth-browser-{}", uuid::Uuid::new_v4().simple()));
        // As root in a container: no sandbox. The network flags keep Chromium from calling home
        // (this machine's network is closed; its attempts would only slow it down).
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".to_owned(), serde_json::json!({"binary": CHROMIUM, "args": args}));
        let webdriver = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&webdriver).await {
                Ok(c) => break c,
                Err(e) if started.elapsed() > Duration::from_secs(30) => {
                    let _ = driver.kill();
                    panic!("Chromium did not start under chromedriver: {e}");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Browser { client, driver, profile }
    }

    /// Waits until the page's URL starts with `prefix` (a navigation the page started itself:
    /// a redirect, a form the page posts).
    pub async fn wait_for_url(&self, prefix: &str) -> url::Url {
        let started = Instant::now();
        loop {
            let at = self.client.current_url().await.expect("the current URL");
            if at.as_str().starts_with(prefix) {
                return at;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the browser never reached {prefix}: at {at}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the page's body (a JSON answer shows as text).
    pub async fn body_text(&self) -> String {
        self.client.find(Locator::Css("body")).await.expect("a body").text().await.expect("its text")
    }

    /// The development login of an OpenID Provider stand-in (`oidc-provider`): the account's login,
    /// any password, then consent.
    pub async fn sign_in_at_provider(&self, login: &str) {
        let field =
            self.client.wait().for_element(Locator::Css("input[name=login]")).await.expect("the login form");
        field.send_keys(login).await.expect("the login typed");
        self.client
            .find(Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys("anything")
            .await
            .unwrap();
        self.client.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
        let consent = self
            .client
            .wait()
            .for_element(Locator::XPath(
                "//input[@name='prompt' and @value='consent']/ancestor::form//button",
            ))
            .await
            .expect("the consent form");
        consent.click().await.expect("consent given");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
