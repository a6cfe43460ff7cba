//! The black-box test harness: a moto on a free port, and a `TestApp` per test with its own table
//! and signing-key secret in that moto, driving the functions' handlers through the route table the
//! way API Gateway would (an HTTP API payload 2.0 event in, the function's response out).
//!
//! Tests are isolated by construction (own table, own secret, own email addresses), so they run in
//! parallel against one moto.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use authctl::{bootstrap, local_sdk_config, moto::Moto};
use base64::Engine;
use functions::routes;
use lambda_http::http::HeaderMap;
use serde_json::{Value, json};
use shared::App;
use shared::config::Config;
use shared::keys::KeyAlgorithm;

pub mod browser;

/// A password that passes the default policy.
pub const PASSWORD: &str = "Vermilion-Kettle-42-Drift";

/// The moto every test of this process uses: `AUTH_TEST_MOTO_ENDPOINT` when the runner started one
/// (`make test` does, through `authctl with-moto`), otherwise one started here on a free port.
pub fn moto_endpoint() -> String {
    static STARTED: OnceLock<String> = OnceLock::new();
    if let Ok(endpoint) = std::env::var("AUTH_TEST_MOTO_ENDPOINT") {
        return endpoint;
    }
    STARTED
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            // A thread that lives as long as the process owns moto: the server is bound to its
            // parent thread's life (PR_SET_PDEATHSIG), not to whichever test started it.
            std::thread::spawn(move || match Moto::start(None) {
                Ok(moto) => {
                    let _ = tx.send(Ok(moto.endpoint()));
                    loop {
                        std::thread::park();
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("{e:#}")));
                }
            });
            rx.recv().expect("moto thread answers").expect("moto starts")
        })
        .clone()
}

/// The local identity providers every test of this process uses: `AUTH_TEST_STAND_INS` when the
/// runner started them (`authctl with-moto`), otherwise started here.
pub fn stand_ins() -> authctl::standins::Endpoints {
    static STARTED: OnceLock<authctl::standins::Endpoints> = OnceLock::new();
    if let Some(endpoints) =
        std::env::var("AUTH_TEST_STAND_INS").ok().and_then(|v| serde_json::from_str(&v).ok())
    {
        return endpoints;
    }
    STARTED
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            // Owned by a thread that lives as long as the process, as moto is.
            std::thread::spawn(move || match authctl::standins::StandIns::start(None) {
                Ok(s) => {
                    let _ = tx.send(Ok(s.endpoints.clone()));
                    loop {
                        std::thread::park();
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("{e:#}")));
                }
            });
            rx.recv().expect("stand-ins thread answers").expect("the stand-ins start")
        })
        .clone()
}

/// A unique, valid email address for one test.
/// Rate-limit counts live in fixed 60-second windows: a test that would straddle a boundary waits
/// for the next window instead of seeing its counts reset halfway.
pub async fn fresh_rate_window() {
    let into = chrono::Utc::now().timestamp() % 60;
    if into > 40 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - into) as u64)).await;
    }
}

pub fn unique_email(tag: &str) -> String {
    format!("{tag}.{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

pub struct TestApp {
    pub app: Arc<App>,
    pub config: Config,
    pub moto: String,
    pub vars: HashMap<String, String>,
    http: reqwest::Client,
    /// The table's stream into the mailer, as Lambda's event source mapping would feed it.
    pub outbox: authctl::outbox::Pump,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    /// A fresh app with its own table and key secret; `overrides` are configuration variables.
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> TestApp {
        let moto = moto_endpoint();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut vars: HashMap<String, String> = [
            ("TABLE_NAME", format!("auth-test-{id}")),
            ("SIGNING_KEY_SECRET_ID", format!("auth-test/{id}")),
            ("JWT_ISSUER", "https://auth.test".to_owned()),
            ("JWT_AUDIENCE", "auth-test-api".to_owned()),
            ("MAIL_FROM", "no-reply@auth.test".to_owned()),
            ("FRONTEND_URL", "https://app.test".to_owned()),
            // Most tests send many requests from one address; the rate-limit tests turn this on.
            ("RATE_LIMITS", "off".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in overrides {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let config = Config::from_map(&vars).expect("test configuration is valid");
        let sdk = local_sdk_config(&moto).await;
        bootstrap::local(&sdk, &config).await.expect("bootstrap of moto");
        let app = Arc::new(App::new(config.clone(), &sdk));
        let outbox = authctl::outbox::Pump::new(&sdk, config.table_name.clone());
        TestApp { app, config, moto, vars, http: reqwest::Client::new(), outbox }
    }

    /// The same deployment (table, keys) seen by a function with other settings, as another
    /// Lambda function of the stack with its own environment would.
    pub async fn with_config(&self, overrides: &[(&str, &str)]) -> Arc<App> {
        let mut vars = self.vars.clone();
        for (k, v) in overrides {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let config = Config::from_map(&vars).expect("test configuration is valid");
        Arc::new(App::new(config, &local_sdk_config(&self.moto).await))
    }

    pub fn key_algorithm(&self) -> KeyAlgorithm {
        self.config.jwt_algorithm
    }

    pub fn call(&self, method: &str, path: &str) -> Call {
        Call::new(self.app.clone(), method, path)
    }

    pub fn post(&self, path: &str, body: Value) -> Call {
        self.call("POST", path).json(body)
    }

    pub fn get(&self, path: &str) -> Call {
        self.call("GET", path)
    }

    // ----- mail, read back from moto as a user reads their inbox --------------------------------

    /// Runs the mailer on what the table's stream holds (the outbox's pending mails).
    pub async fn deliver_mail(&self) -> usize {
        self.outbox.run(&self.app).await.expect("the outbox's stream is readable")
    }

    /// Every mail sent to `to`, oldest first, after the mailer has run on the outbox.
    pub async fn mails_to(&self, to: &str) -> Vec<SentMail> {
        self.deliver_mail().await;
        self.sent_mails_to(to).await
    }

    /// Every record the table's stream holds, as text: what a reader of the stream could see.
    pub async fn stream_text(&self) -> String {
        let sdk = local_sdk_config(&self.moto).await;
        let table = aws_sdk_dynamodb::Client::new(&sdk)
            .describe_table()
            .table_name(&self.config.table_name)
            .send()
            .await
            .expect("the table");
        let arn = table.table().and_then(|t| t.latest_stream_arn()).expect("a stream").to_owned();
        let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
        let description = streams.describe_stream().stream_arn(&arn).send().await.expect("the stream");
        let mut text = String::new();
        for shard in description.stream_description().map(|d| d.shards()).unwrap_or_default() {
            let mut iterator = streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(shard.shard_id().unwrap_or_default())
                .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
                .send()
                .await
                .expect("a shard iterator")
                .shard_iterator;
            while let Some(it) = iterator.take() {
                let out = streams.get_records().shard_iterator(it).send().await.expect("records");
                if out.records().is_empty() {
                    break;
                }
                text.push_str(&format!("{:?}", out.records()));
                iterator = out.next_shard_iterator;
            }
        }
        text
    }

    /// Every mail SES has taken for `to`, oldest first, without running the mailer.
    pub async fn sent_mails_to(&self, to: &str) -> Vec<SentMail> {
        let data = self.moto_data().await;
        data["ses"]["Message"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| {
                m["destinations"]["ToAddresses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|a| a.as_str() == Some(to))
            })
            .map(|m| SentMail {
                from: m["source"].as_str().unwrap_or_default().to_owned(),
                subject: m["subject"].as_str().unwrap_or_default().to_owned(),
                body: m["body"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }

    /// moto's model dump. It is built by iterating live dictionaries, so under concurrent writes it
    /// sometimes answers 500 ("dictionary changed size during iteration"): ask again.
    async fn moto_data(&self) -> Value {
        for _ in 0..20 {
            if let Ok(resp) = self.http.get(format!("{}/moto-api/data.json", self.moto)).send().await
                && resp.status().is_success()
                && let Ok(v) = resp.json::<Value>().await
            {
                return v;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("moto's data.json did not answer with JSON")
    }

    /// The token of the newest link to `page` mailed to `to`.
    pub async fn token_from_mail(&self, to: &str, page: &str) -> String {
        let mails = self.mails_to(to).await;
        let mail = mails
            .iter()
            .rev()
            .find(|m| m.link_token(page).is_some())
            .unwrap_or_else(|| panic!("no mail with a {page} link was sent to {to}: {mails:?}"));
        mail.link_token(page).expect("checked above")
    }

    // ----- flows ---------------------------------------------------------------------------------

    pub async fn register(&self, email: &str, password: &str) -> TestResponse {
        self.post("/api/v1/auth/register", json!({"email": email, "password": password})).send().await
    }

    /// Registers and verifies `email`, returning the user id.
    pub async fn verified_user(&self, email: &str) -> String {
        self.verified_user_at("", email).await
    }

    /// A verified user of the app whose routes are under `base` (`""` for `default`,
    /// `/apps/<id>` for any app): its id.
    pub async fn verified_user_at(&self, base: &str, email: &str) -> String {
        let r = self
            .post(&format!("{base}/api/v1/auth/register"), json!({"email": email, "password": PASSWORD}))
            .send()
            .await;
        assert_eq!(r.status, 201, "register at {base:?}: {}", r.body);
        let token = self.token_from_mail(email, "verify-email").await;
        let v = self.post(&format!("{base}/api/v1/auth/verify-email"), json!({"token": token})).send().await;
        assert_eq!(v.status, 200, "verify at {base:?}: {}", v.body);
        r.body["data"]["user_id"].as_str().expect("user id").to_owned()
    }

    /// A verified user of the app under `base`, logged in there: (access, refresh).
    pub async fn logged_in_at(&self, base: &str, email: &str) -> (String, String) {
        self.verified_user_at(base, email).await;
        let r = self
            .post(&format!("{base}/api/v1/auth/login"), json!({"email": email, "password": PASSWORD}))
            .send()
            .await;
        assert_eq!(r.status, 200, "login at {base:?}: {}", r.body);
        (
            r.body["data"]["access_token"].as_str().expect("access").to_owned(),
            r.body["data"]["refresh_token"].as_str().expect("refresh").to_owned(),
        )
    }

    /// A developer: a verified user of the `console` app, logged in. Their access token.
    pub async fn developer(&self, email: &str) -> String {
        self.logged_in_at("/apps/console", email).await.0
    }

    /// A new app of the developer holding `console_token`, with the settings of `body` (`name`
    /// added when missing): its id.
    pub async fn create_app(&self, console_token: &str, mut body: Value) -> String {
        if body.get("name").is_none() {
            body["name"] = json!("Test app");
        }
        let r = self.post("/api/v1/console/apps", body).bearer(console_token).send().await;
        assert_eq!(r.status, 201, "create app: {}", r.body);
        r.body["data"]["id"].as_str().expect("app id").to_owned()
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post("/api/v1/auth/login", json!({"email": email, "password": password})).send().await
    }

    /// A verified user's fresh token pair: (access, refresh).
    pub async fn logged_in(&self, email: &str) -> (String, String) {
        self.verified_user(email).await;
        let r = self.login(email, PASSWORD).await;
        assert_eq!(r.status, 200, "login: {}", r.body);
        (
            r.body["data"]["access_token"].as_str().expect("access").to_owned(),
            r.body["data"]["refresh_token"].as_str().expect("refresh").to_owned(),
        )
    }

    /// Sends a request and returns, with the answer, the DynamoDB operations it sent (as counted by
    /// the interceptor on the store's client; calls must not overlap with other requests).
    pub async fn counted(&self, call: Call) -> (TestResponse, Vec<&'static str>) {
        let before = self.app.store.calls().count();
        let r = call.send().await;
        (r, self.app.store.calls().since(before))
    }

    /// `authorize`, with the DynamoDB operations it sent.
    pub async fn authorize_counted(
        &self,
        authorization: Option<&str>,
    ) -> (functions::events::authorizer::AuthorizerResponse, Vec<&'static str>) {
        let before = self.app.store.calls().count();
        let r = self.authorize(authorization).await;
        (r, self.app.store.calls().since(before))
    }

    /// Runs the authorizer on an `Authorization` header value, as API Gateway would.
    pub async fn authorize(
        &self,
        authorization: Option<&str>,
    ) -> functions::events::authorizer::AuthorizerResponse {
        functions::events::authorizer::handle(&self.app, authorizer_event(authorization)).await
    }
}

/// The authorizer's event for a request with this `Authorization` header, as API Gateway sends it.
pub fn authorizer_event(authorization: Option<&str>) -> functions::events::authorizer::AuthorizerRequest {
    authorizer_event_at("/api/v1/users/me", authorization)
}

/// The authorizer's event for `GET <path>` with this `Authorization` header.
pub fn authorizer_event_at(
    path: &str,
    authorization: Option<&str>,
) -> functions::events::authorizer::AuthorizerRequest {
    let mut headers = serde_json::Map::new();
    if let Some(a) = authorization {
        headers.insert("authorization".into(), json!(a));
    }
    serde_json::from_value(json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": format!("arn:aws:execute-api:us-east-1:123456789012:api/$default/GET{path}"),
        "identitySource": authorization.map(|a| vec![a]).unwrap_or_default(),
        // The route key API Gateway matched: our route's pattern, or the path of a route not ours.
        "routeKey": functions::routes::find("GET", path)
            .map(|(route, _)| format!("{} {}", route.method, route.path))
            .unwrap_or_else(|| format!("GET {path}")),
        "rawPath": path,
        "headers": headers,
        "requestContext": {"requestId": uuid::Uuid::new_v4().to_string(), "http": {"method": "GET", "path": path, "sourceIp": "203.0.113.10"}},
    }))
    .expect("authorizer event")
}

#[derive(Debug, Clone)]
pub struct SentMail {
    pub from: String,
    pub subject: String,
    /// The HTML part (moto keeps the HTML part of a mail that has both).
    pub body: String,
}

impl SentMail {
    /// The token of a `<FRONTEND_URL>/<page>?token=<t>` link in the mail.
    pub fn link_token(&self, page: &str) -> Option<String> {
        let marker = format!("/{page}?token=");
        let start = self.body.find(&marker)? + marker.len();
        let token: String = self.body[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        (!token.is_empty()).then_some(token)
    }
}

/// One request, built like API Gateway's HTTP API payload 2.0 event.
pub struct Call {
    app: Arc<App>,
    pub method: String,
    pub path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    base64: bool,
    source_ip: String,
    authorizer: Option<Value>,
}

impl Call {
    /// A request to `app`'s routes, from a test client's address.
    pub fn new(app: Arc<App>, method: &str, path: &str) -> Call {
        Call {
            app,
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: String::new(),
            headers: vec![("user-agent".to_owned(), "auth-tests/1.0".to_owned())],
            body: None,
            base64: false,
            source_ip: "203.0.113.10".to_owned(),
            authorizer: None,
        }
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string());
        self.header("content-type", "application/json")
    }

    /// A body sent as is, with a content type.
    pub fn raw(mut self, body: &str, content_type: &str) -> Self {
        self.body = Some(body.to_owned());
        self.header("content-type", content_type)
    }

    /// A form body, base64-encoded as API Gateway delivers non-text bodies.
    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let encoded = serde_urlencoded::to_string(pairs).expect("form");
        self.body = Some(base64::engine::general_purpose::STANDARD.encode(encoded));
        self.base64 = true;
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    /// Marks the body as base64, as API Gateway delivers bodies that are not text.
    pub fn base64(mut self) -> Self {
        self.base64 = true;
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn query(mut self, q: &str) -> Self {
        self.query = q.to_owned();
        self
    }

    pub fn source_ip(mut self, ip: &str) -> Self {
        self.source_ip = ip.to_owned();
        self
    }

    /// The context a Lambda authorizer passed (`requestContext.authorizer.lambda`).
    pub fn authorizer_context(mut self, context: Value) -> Self {
        self.authorizer = Some(context);
        self
    }

    /// The API Gateway event this call becomes.
    pub fn event(&self) -> Value {
        let headers: serde_json::Map<String, Value> =
            self.headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let mut ctx = json!({
            "accountId": "123456789012",
            "apiId": "testapi",
            "domainName": "api.test",
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": format!("{} {}", self.method, self.path),
            "stage": "$default",
            "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1", "sourceIp": self.source_ip, "userAgent": "auth-tests/1.0"},
        });
        if let Some(a) = &self.authorizer {
            ctx["authorizer"] = json!({"lambda": a});
        }
        let mut event = json!({
            "version": "2.0",
            "routeKey": format!("{} {}", self.method, self.path),
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": headers,
            "requestContext": ctx,
            "isBase64Encoded": self.base64,
        });
        if let Some(b) = &self.body {
            event["body"] = json!(b);
        }
        // API Gateway binds `{id}` and friends of the matched route.
        if let Some((route, params)) = routes::find(&self.method, &self.path) {
            event["routeKey"] = json!(format!("{} {}", route.method, route.path));
            let params: serde_json::Map<String, Value> =
                params.into_iter().map(|(k, v)| (k, json!(v))).collect();
            if !params.is_empty() {
                event["pathParameters"] = Value::Object(params);
            }
        }
        event
    }

    pub async fn send(self) -> TestResponse {
        let (route, _) = routes::find(&self.method, &self.path)
            .unwrap_or_else(|| panic!("no route {} {} in the route table", self.method, self.path));
        let req =
            lambda_http::request::from_str(&self.event().to_string()).expect("a valid API Gateway event");
        let resp = routes::dispatch(self.app.clone(), route.function, req)
            .await
            .expect("the route's function exists");
        TestResponse::from_response(resp)
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl TestResponse {
    pub fn from_response(resp: lambda_http::Response<lambda_http::Body>) -> TestResponse {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = String::from_utf8_lossy(resp.body().as_ref()).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        TestResponse { status, headers, text, body }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `error.code` of an error envelope.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// Asserts the error envelope of the contract and returns its code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status of {}", self.text);
        assert_eq!(self.body["success"], json!(false), "{}", self.text);
        assert_eq!(self.code(), code, "{}", self.text);
        assert!(self.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", self.text);
        assert!(self.body["request_id"].as_str().is_some_and(|m| !m.is_empty()), "{}", self.text);
        assert_eq!(self.header("x-request-id"), self.body["request_id"].as_str());
    }
}

impl TestApp {
    /// The key ring as stored in this app's secret: what an attacker who stole the signing key
    /// would hold, used to forge tokens that only the claims checks can refuse.
    pub async fn stored_key_ring(&self) -> shared::keys::KeyRing {
        let sdk = local_sdk_config(&self.moto).await;
        let out = aws_sdk_secretsmanager::Client::new(&sdk)
            .get_secret_value()
            .secret_id(&self.config.signing_key_secret_id)
            .send()
            .await
            .expect("secret");
        shared::keys::KeyRing::from_json(out.secret_string().expect("string")).expect("key ring")
    }

    /// A DynamoDB client on this app's moto, for the few checks that look at what was stored.
    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&local_sdk_config(&self.moto).await)
    }
}

/// Base64url without padding, as JWTs use.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a JWT's payload without checking anything.
pub fn jwt_payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON payload")
}

impl TestApp {
    pub async fn refresh(&self, refresh_token: &str) -> TestResponse {
        self.post("/api/v1/auth/token/refresh", json!({ "refresh_token": refresh_token })).send().await
    }

    /// The types of the audit events stored for a user, newest first.
    pub async fn audit_types(&self, user_id: &str) -> Vec<String> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let out = self
            .dynamodb()
            .await
            .query()
            .table_name(&self.config.table_name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(format!("T#default#AUDIT#{user_id}")))
            .scan_index_forward(false)
            .consistent_read(true)
            .send()
            .await
            .expect("audit query");
        out.items().iter().filter_map(|i| i.get("type").and_then(|v| v.as_s().ok()).cloned()).collect()
    }

    /// `make rotate-key` against this app's secret.
    pub async fn rotate_key(&self, keep_for: std::time::Duration) -> String {
        let sdk = local_sdk_config(&self.moto).await;
        let (kid, _) = bootstrap::rotate_signing_key(
            &sdk,
            &self.config.signing_key_secret_id,
            &self.config.table_name,
            self.config.jwt_algorithm,
            keep_for,
        )
        .await
        .expect("rotation");
        kid
    }
}

/// A browser's cookie jar, for black-box tests of pages: what each response sets is sent with the
/// next request.
#[derive(Default, Clone)]
pub struct Jar {
    pub jar: std::collections::BTreeMap<String, String>,
}

impl Jar {
    pub fn absorb(&mut self, r: &TestResponse) {
        for c in set_cookies(r) {
            let pair = c.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || c.to_ascii_lowercase().contains("max-age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub fn cookie(&self) -> String {
        self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub async fn get(&mut self, app: &TestApp, path: &str, query: &str) -> TestResponse {
        let r = app.get(path).query(query).header("cookie", &self.cookie()).send().await;
        self.absorb(&r);
        r
    }

    pub async fn post(&mut self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> TestResponse {
        let r = app.call("POST", path).form(form).header("cookie", &self.cookie()).send().await;
        self.absorb(&r);
        r
    }
}

/// The `Set-Cookie` headers of a response.
pub fn set_cookies(r: &TestResponse) -> Vec<String> {
    r.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
}

/// Which dependency a failure-injection test breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    DynamoDb,
    Ses,
    SecretsManager,
    /// SES takes the connection and never answers (the SDK's own timeout set far away).
    SesHanging,
}

impl TestApp {
    /// This app's deployment seen by a function whose `broken` dependency answers nothing: its
    /// endpoint is a closed port on loopback.
    pub async fn with_broken(&self, broken: Broken) -> Arc<App> {
        let mut vars = self.vars.clone();
        let timeout = if broken == Broken::SesHanging { "600" } else { "2" };
        vars.insert("AWS_TIMEOUT_SECONDS".into(), timeout.into());
        let config = Config::from_map(&vars).expect("test configuration is valid");
        let good = local_sdk_config(&self.moto).await;
        let dead = match broken {
            Broken::SesHanging => local_sdk_config(&hanging_endpoint().await).await,
            _ => {
                let dead_port = authctl::moto::free_port().expect("a free port");
                local_sdk_config(&format!("http://127.0.0.1:{dead_port}")).await
            }
        };
        let pick = |b: Broken| {
            let hit = b == broken || (b == Broken::Ses && broken == Broken::SesHanging);
            if hit { &dead } else { &good }
        };
        Arc::new(App::with_sdk_configs(
            config,
            pick(Broken::DynamoDb),
            pick(Broken::Ses),
            pick(Broken::SecretsManager),
        ))
    }

    /// Runs a call against another app of the same deployment.
    pub async fn send_to(&self, app: &Arc<App>, call: Call) -> TestResponse {
        let (route, _) = routes::find(&call.method, &call.path).expect("a route");
        let req =
            lambda_http::request::from_str(&call.event().to_string()).expect("a valid API Gateway event");
        TestResponse::from_response(
            routes::dispatch(app.clone(), route.function, req).await.expect("a function"),
        )
    }
}

/// A loopback endpoint that accepts connections and never answers: a dependency that hangs.
async fn hanging_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    format!("http://{address}")
}

/// An app of this deployment whose `default` app signs in with "Google" (the local OpenID
/// Provider): a client registered there for its callback, its secret in Secrets Manager.
pub struct Social {
    pub endpoints: authctl::standins::Endpoints,
    pub client_id: String,
    pub client_secret: String,
}

/// The callback every test registers at the "Google" stand-in.
const GOOGLE_CALLBACK: &str = "https://auth.test/api/v1/auth/oauth/google/callback";

/// A client registered at an OpenID Provider stand-in (`issuer`): (client id, secret).
pub async fn register_client(issuer: &str) -> (String, String) {
    register_client_at(issuer, GOOGLE_CALLBACK).await
}

/// A client registered at an OpenID Provider stand-in with its redirect URI (an app's callback
/// besides the `default` one's): (client id, secret).
pub async fn register_client_at(issuer: &str, redirect_uri: &str) -> (String, String) {
    authctl::standins::register_client(issuer, redirect_uri).await.expect("the stand-in registers a client")
}

impl TestApp {
    /// A fresh deployment whose `default` app has Google sign-in, against the stand-in.
    pub async fn with_google(overrides: &[(&str, &str)]) -> (TestApp, Social) {
        let endpoints = stand_ins();
        let (client_id, secret) = register_client(&endpoints.google).await;
        let secret_id = social_secret(json!({ "google_client_secret": secret })).await;
        let mut all: Vec<(&str, &str)> = vec![
            ("GOOGLE_ISSUER", endpoints.google.as_str()),
            ("GOOGLE_CLIENT_ID", client_id.as_str()),
            ("SOCIAL_SECRET_ID", secret_id.as_str()),
        ];
        all.extend_from_slice(overrides);
        let app = TestApp::spawn_with(&all).await;
        (app, Social { endpoints, client_id, client_secret: secret })
    }
}

impl TestApp {
    /// A fresh deployment whose `default` app has GitHub sign-in, against the GitHub stand-in.
    pub async fn with_github(overrides: &[(&str, &str)]) -> (TestApp, authctl::standins::Endpoints) {
        let endpoints = stand_ins();
        let secret_id = social_secret(json!({ "github_client_secret": "stand-in-secret" })).await;
        let mut all: Vec<(&str, &str)> = vec![
            ("GITHUB_OAUTH_URL", endpoints.github.as_str()),
            ("GITHUB_API_URL", endpoints.github.as_str()),
            ("GITHUB_CLIENT_ID", "stand-in-client"),
            ("SOCIAL_SECRET_ID", secret_id.as_str()),
        ];
        all.extend_from_slice(overrides);
        (TestApp::spawn_with(&all).await, endpoints)
    }

    /// A GitHub sign-in up to the redirect back to our callback (the stand-in signs in the account
    /// `login` names at once, as GitHub does for a user who authorized the app before).
    pub async fn github_sign_in(&self, login: &str) -> ProviderReturn {
        let started = self.get("/api/v1/auth/oauth/github").send().await;
        assert_eq!(started.status, 302, "start: {}", started.text);
        let authorize = started.header("location").expect("a redirect to GitHub").to_owned();
        let state_cookie = state_cookie(&started);
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut url = url::Url::parse(&authorize).unwrap();
        url.query_pairs_mut().append_pair("login", login);
        let response = browser.get(url).send().await.expect("GitHub's authorize");
        let back = response.headers().get("location").and_then(|v| v.to_str().ok()).expect("location");
        let back = url::Url::parse(back).expect("a callback URL");
        ProviderReturn {
            path: back.path().to_owned(),
            query: back.query().unwrap_or_default().to_owned(),
            state_cookie,
        }
    }
}

/// A deployment's social secret (`SOCIAL_SECRET_ID`) in moto, holding `secrets`: its id.
pub async fn social_secret(secrets: Value) -> String {
    let secret_id = format!("auth-test/{}/social", uuid::Uuid::new_v4().simple());
    let sdk = local_sdk_config(&moto_endpoint()).await;
    bootstrap::put_secret(&sdk, &secret_id, &secrets.to_string()).await.expect("the social secret");
    secret_id
}

/// The name prefix of a social sign-in's state cookie (`__Host-oauth-state-<app>-<provider>`).
pub const STATE_COOKIE: &str = "__Host-oauth-state-";

/// The state cookie's `name=value` pair a social sign-in's start set, as the browser sends it back.
pub fn state_cookie(started: &TestResponse) -> String {
    set_cookies(started)
        .into_iter()
        .find(|c| c.starts_with(STATE_COOKIE))
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .expect("the state cookie")
}

/// What a browser brings back from the provider: the callback's path and query, and the state
/// cookie the start set.
pub struct ProviderReturn {
    pub path: String,
    pub query: String,
    pub state_cookie: String,
}

impl ProviderReturn {
    /// The browser's request to our callback, with its state cookie.
    pub fn callback(&self, app: &TestApp) -> Call {
        app.get(&self.path).query(&self.query).header("cookie", &self.state_cookie)
    }

    /// The same request from a browser without the cookie.
    pub fn callback_without_cookie(&self, app: &TestApp) -> Call {
        app.get(&self.path).query(&self.query)
    }
}

impl Social {
    /// An ID token of this client for the account `login`, obtained as a native app would: the
    /// code flow at the provider with the app's own PKCE pair and nonce, then its token endpoint.
    pub async fn id_token(&self, login: &str, nonce: &str) -> String {
        id_token_at(&self.endpoints.google, &self.client_id, &self.client_secret, login, nonce).await
    }

    /// A person signing in at the provider, as a browser does: our start (302 and the state
    /// cookie), the provider's login form (`login` names the account) and consent, up to the
    /// redirect back to our callback, which is returned rather than followed.
    pub async fn sign_in(&self, app: &TestApp, start: &str, login: &str) -> ProviderReturn {
        let (path, query) = start.split_once('?').unwrap_or((start, ""));
        let started = app.get(path).query(query).send().await;
        assert_eq!(started.status, 302, "start: {}", started.text);
        let authorize = started.header("location").expect("a redirect to the provider").to_owned();
        let state_cookie = state_cookie(&started);
        let back = drive_provider(&self.endpoints.google, &authorize, login).await;
        ProviderReturn {
            path: back.path().to_owned(),
            query: back.query().unwrap_or_default().to_owned(),
            state_cookie,
        }
    }
}

/// A browser at an OpenID Provider stand-in: the authorize URL, its login form (`login` names the
/// account) and consent, up to the provider's last answer (a redirect away from it, or Apple's
/// `form_post` page).
pub async fn provider_answer(issuer: &str, authorize: &str, login: &str) -> reqwest::Response {
    let origin = url::Url::parse(issuer).unwrap().origin();
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            // Follow the provider's own redirects; stop at the one back to the client.
            if attempt.url().origin() == origin { attempt.follow() } else { attempt.stop() }
        }))
        .build()
        .unwrap();
    let mut response = browser.get(authorize).send().await.expect("the authorize page");
    for prompt in ["login", "consent"] {
        let at = response.url().clone();
        if response.status().is_redirection() || !at.path().starts_with("/interaction/") {
            break;
        }
        let mut form = vec![("prompt", prompt)];
        if prompt == "login" {
            form.extend([("login", login), ("password", "anything")]);
        }
        response = browser.post(at).form(&form).send().await.expect("the interaction");
    }
    response
}

/// `provider_answer` that must be a redirect back to the client: where to.
pub async fn drive_provider(issuer: &str, authorize: &str, login: &str) -> url::Url {
    let response = provider_answer(issuer, authorize, login).await;
    if !response.status().is_redirection() {
        let status = response.status();
        panic!(
            "the provider did not send the browser back: {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    let back = response.headers().get("location").and_then(|v| v.to_str().ok()).expect("location");
    url::Url::parse(back).expect("a redirect URL")
}

/// A `form_post` page (Apple's answer): the form's action and its hidden fields.
pub async fn form_post(response: reqwest::Response) -> (url::Url, Vec<(String, String)>) {
    let html = response.text().await.expect("the form_post page");
    let unescape = |v: &str| v.replace("&quot;", "\"").replace("&lt;", "<").replace("&amp;", "&");
    let attribute = |tag: &str, name: &str| {
        let key = format!("{name}=\"");
        tag.find(&key).map(|i| &tag[i + key.len()..]).and_then(|rest| rest.split('"').next()).map(unescape)
    };
    let action = attribute(&html[html.find("<form").expect("a form")..], "action").expect("an action");
    let fields = html
        .split("<input")
        .skip(1)
        .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
        .collect();
    (url::Url::parse(&action).expect("an absolute action"), fields)
}

/// What a native app puts in its provider request for its `nonce`: the SHA-256 in hex (Apple's
/// documented pattern), so that the ID token carries the hash and only the app knows the nonce.
pub fn native_nonce(nonce: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, nonce.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// An ID token from the stand-in at `issuer` for a client, as a native app gets one: for the
/// sign-in's `nonce`, whose hash (`native_nonce`) the token carries.
pub async fn id_token_at(issuer: &str, client_id: &str, secret: &str, login: &str, nonce: &str) -> String {
    let (code, verifier) = code_at(issuer, client_id, GOOGLE_CALLBACK, login, &native_nonce(nonce)).await;
    let token: Value = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", GOOGLE_CALLBACK),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("the token endpoint")
        .json()
        .await
        .expect("a token response");
    token["id_token"].as_str().unwrap_or_else(|| panic!("an ID token: {token}")).to_owned()
}

/// An authorization code of the stand-in at `issuer` for a client and its redirect URI, with the
/// PKCE verifier it is bound to, as a native app's own flow ends: (code, verifier).
pub async fn code_at(
    issuer: &str,
    client_id: &str,
    redirect_uri: &str,
    login: &str,
    nonce: &str,
) -> (String, String) {
    let verifier = b64url(uuid::Uuid::new_v4().as_bytes()).repeat(3);
    let challenge =
        b64url(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref());
    let mut authorize = url::Url::parse(&format!("{issuer}/auth")).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid email profile")
        .append_pair("nonce", nonce)
        .append_pair("state", "native")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let back = drive_provider(issuer, authorize.as_str(), login).await;
    let code = back.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("a code");
    (code, verifier)
}

/// An ID token the stand-in at `issuer` signs with its published key for `aud`, for a native
/// sign-in's `nonce` (the token carries its hash), issued at `iat` and expiring at `exp` (epoch
/// seconds): what no live flow hands out on demand.
pub async fn minted_id_token(
    issuer: &str,
    aud: &str,
    email: &str,
    nonce: &str,
    iat: i64,
    exp: i64,
) -> String {
    let nonce = native_nonce(nonce);
    minted_id_token_of(issuer, json!({"aud": aud, "email": email, "nonce": nonce, "iat": iat, "exp": exp}))
        .await
}

/// An ID token the stand-in at `issuer` signs for these fields: `aud` (one or a list), `email`,
/// `nonce`, `azp`, `iat`, `exp`.
pub async fn minted_id_token_of(issuer: &str, fields: Value) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{issuer}/test/id-token"))
        .json(&fields)
        .send()
        .await
        .expect("the stand-in's test hook")
        .json()
        .await
        .expect("a minted ID token");
    answer["id_token"].as_str().unwrap_or_else(|| panic!("an ID token: {answer}")).to_owned()
}

/// Everything the process logs, as one buffer: a test of a process of its own (nextest runs each
/// test so) installs it once and scans it for secrets.
#[derive(Clone, Default)]
pub struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Every log line of this process, at every level, from now on.
    pub fn install() -> Captured {
        let logs = Captured::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .init();
        logs
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|b| b.clone()).unwrap_or_default()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The team and key id of every Apple client the tests register.
pub const APPLE_TEAM_ID: &str = "TEAM000001";
pub const APPLE_KEY_ID: &str = "KEY0000001";

/// A Services ID registered at the "Apple" stand-in with the public half of a key pair made here,
/// as Apple keeps it: (client id, the private key as PKCS#8 PEM, Apple's `.p8`).
pub async fn apple_client(issuer: &str, redirect_uri: &str) -> (String, String) {
    authctl::standins::register_apple_client(issuer, redirect_uri, APPLE_TEAM_ID, APPLE_KEY_ID)
        .await
        .expect("the Apple stand-in registers a client")
}

/// The "Apple" stand-in's client of a deployment: its Services ID.
pub struct Apple {
    pub endpoints: authctl::standins::Endpoints,
    pub client_id: String,
}

impl TestApp {
    /// A fresh deployment whose `default` app has Sign in with Apple, against the stand-in: a key
    /// pair made here (the private key in the social secret, the public one registered with the
    /// client, as Apple keeps it), client secrets signed by the service.
    pub async fn with_apple(overrides: &[(&str, &str)]) -> (TestApp, Apple) {
        let endpoints = stand_ins();
        let (client_id, pem) =
            apple_client(&endpoints.apple, "https://auth.test/api/v1/auth/oauth/apple/callback").await;
        let secret_id = social_secret(json!({ "apple_private_key": pem })).await;
        let mut all: Vec<(&str, &str)> = vec![
            ("APPLE_ISSUER", endpoints.apple.as_str()),
            ("APPLE_CLIENT_ID", client_id.as_str()),
            ("APPLE_TEAM_ID", APPLE_TEAM_ID),
            ("APPLE_KEY_ID", APPLE_KEY_ID),
            ("SOCIAL_SECRET_ID", secret_id.as_str()),
        ];
        all.extend_from_slice(overrides);
        (TestApp::spawn_with(&all).await, Apple { endpoints, client_id })
    }

    /// A Sign in with Apple up to Apple's `form_post`: the browser's POST to our callback, with the
    /// state cookie.
    pub async fn apple_sign_in(&self, apple: &Apple, login: &str) -> Call {
        self.apple_sign_in_at("", apple, login).await
    }

    /// `apple_sign_in` at an app's routes (`base`: `/apps/<id>`, or empty for `default`).
    pub async fn apple_sign_in_at(&self, base: &str, apple: &Apple, login: &str) -> Call {
        let started = self.get(&format!("{base}/api/v1/auth/oauth/apple")).send().await;
        assert_eq!(started.status, 302, "start: {}", started.text);
        let cookie =
            set_cookies(&started).into_iter().find(|c| c.starts_with(STATE_COOKIE)).expect("a state cookie");
        assert!(cookie.contains("SameSite=None") && cookie.contains("-apple="), "{cookie}");
        let authorize = started.header("location").expect("a redirect to Apple").to_owned();
        let answer = provider_answer(&apple.endpoints.apple, &authorize, login).await;
        let (action, fields) = form_post(answer).await;
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.call("POST", action.path()).form(&pairs).header("cookie", &state_cookie(&started))
    }
}
