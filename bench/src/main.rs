//! `make bench`: what each release function costs on Lambda, measured on this machine.
//!
//! Every function's `bootstrap` (as `cargo lambda build --release` left it) is started the way
//! Lambda starts it: a fresh process, Lambda's environment, and the Runtime API served on loopback
//! by this harness (`runtime_api`). The AWS calls go to a local moto. For each function:
//!
//! - cold start: process start → first `GET next` (init) and → first response posted (first
//!   invoke), over repeated runs, beside the `hello_baseline` function built with the same profile;
//! - peak RSS (`VmHWM`) after the first invocation, and the artifact's size;
//! - DynamoDB calls of that invocation, from the function's own request log line (counted by the
//!   interceptor on its SDK client).
//!
//! Then warm handler times (many invocations in one process; wall time and CPU time per
//! invocation) for the hot paths, and, in this process, the Argon2id verification and a bare JWT
//! signature check alone, so that the overhead of login and of the authorizer is visible.
//!
//! Writes `bench/results.json` and `bench/results.md`.

mod runtime_api;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use auth_tests::{PASSWORD, TestApp, jwt_payload, unique_email};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use runtime_api::RuntimeApi;

const BASELINE: &str = "hello_baseline";
/// The authorizer's binary, presented an end-user's API key instead of an access token.
const AUTHORIZER_API_KEY: &str = "authorizer_api_key";
const LIMIT: Duration = Duration::from_secs(30);

// The placeholders of `events/*.json`, replaced by a real user's values before each run.
const EXAMPLE_ACCESS: &str =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImstZXhhbXBsZSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
const EXAMPLE_REFRESH: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImstZXhhbXBsZSJ9.eyJ0b2tlbl91c2UiOiJyZWZyZXNoIn0.c2lnbmF0dXJl";
const EXAMPLE_SESSION: &str = "01a20951-f9c3-7633-9ef6-7c0800e17cb3";
const EXAMPLE_EMAIL: &str = "new.user@example.com";

struct Options {
    bin_dir: PathBuf,
    out_dir: PathBuf,
    runs: usize,
    warm: usize,
}

fn options() -> Result<Options> {
    let root = authctl::repo_root();
    let mut o =
        Options { bin_dir: root.join("target/lambda"), out_dir: root.join("bench"), runs: 10, warm: 300 };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).context("every option takes a value")?;
        match pair[0].as_str() {
            "--bin-dir" => o.bin_dir = value.into(),
            "--out-dir" => o.out_dir = value.into(),
            "--runs" => o.runs = value.parse()?,
            "--warm" => o.warm = value.parse()?,
            other => bail!("unknown option {other} (--bin-dir, --out-dir, --runs, --warm)"),
        }
    }
    Ok(o)
}

#[tokio::main]
async fn main() -> Result<()> {
    let o = options()?;
    let started = Instant::now();
    // Rate limits on, as deployed, but high enough that repeated runs from one address pass.
    let mut overrides = vec![("RATE_LIMITS".to_owned(), "on".to_owned())];
    for route in shared::ratelimit::Route::all() {
        overrides.push((route.variable(), "1000000".to_owned()));
    }
    let overrides: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = TestApp::spawn_with(&overrides).await;
    let bench = Bench {
        env: lambda_env(&app),
        app,
        shared_user: Default::default(),
        api_key: Default::default(),
        bin_dir: o.bin_dir.clone(),
    };

    let mut functions = authctl::template::binaries(&authctl::template::stacks()?);
    functions.sort();
    functions.insert(0, BASELINE.to_owned());
    let authorizer = functions.iter().position(|f| f == "authorizer").context("the authorizer")?;
    functions.insert(authorizer + 1, AUTHORIZER_API_KEY.to_owned());
    for f in &functions {
        if !bench.binary(f).is_file() {
            bail!("{} is missing: run `make build` first", bench.binary(f).display());
        }
    }

    let mut cold = BTreeMap::new();
    for f in &functions {
        eprint!("cold start {f:<24}");
        let mut runs = Vec::new();
        for _ in 0..o.runs {
            runs.push(bench.cold(f).await.with_context(|| format!("cold start of {f}"))?);
        }
        let summary = ColdSummary::of(&runs, bench.binary(f).metadata()?.len());
        eprintln!(
            " init {:>6.2} ms  first {:>7.2} ms  rss {:>6} KiB  status {}  dynamodb {}",
            summary.init_ms.median,
            summary.first_ms.median,
            summary.peak_rss_kib,
            summary.status,
            summary.dynamodb_calls
        );
        cold.insert(f.clone(), summary);
    }

    let mut warm = BTreeMap::new();
    for (f, n) in [
        (BASELINE, o.warm),
        ("authorizer", o.warm),
        (AUTHORIZER_API_KEY, o.warm),
        ("users_me", o.warm),
        ("token_refresh", o.warm / 2),
        ("login", (o.warm / 10).max(5)),
        ("register", (o.warm / 10).max(5)),
    ] {
        eprint!("warm {f:<24}");
        let w = bench.warm(f, n).await.with_context(|| format!("warm runs of {f}"))?;
        eprintln!(
            " wall {:>7.3} ms  cpu {:>7.3} ms  faults {:>6.0}  dynamodb {}  ({n} invocations)",
            w.wall_ms.median,
            w.cpu_ms.median,
            w.faults_per_invocation,
            w.dynamodb_calls.map_or("–".to_owned(), |c| c.to_string())
        );
        warm.insert(f.to_owned(), w);
    }

    let alone = bench.alone().await?;
    let app_calls = bench.app_calls().await?;
    eprintln!(
        "users_me at an app's path: dynamodb {:?} on the first request, {:?} on the next",
        app_calls.first, app_calls.warm
    );
    let report = Report::new(cold, warm, alone, app_calls, o.runs, started.elapsed());
    report.write(&o.out_dir)?;
    eprintln!(
        "wrote {} and {}",
        o.out_dir.join("results.md").display(),
        o.out_dir.join("results.json").display()
    );
    Ok(())
}

/// The environment Lambda gives a function, plus the service's configuration.
fn lambda_env(app: &TestApp) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = app.vars.clone();
    for (k, v) in [
        ("AWS_ENDPOINT_URL", app.moto.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/23/[$LATEST]bench"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        ("_HANDLER", "bootstrap"),
        ("TZ", ":UTC"),
        ("LANG", "en_US.UTF-8"),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        // The TLS client loads the system's root certificates at start. On Lambda's AL2023 that is
        // one bundle; this Debian host adds a directory of several hundred files that would be
        // read too, a cost Lambda does not have. Point it at the bundle alone, as Lambda would be.
        ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"),
    ] {
        env.insert(k.to_owned(), v.to_owned());
    }
    env
}

struct Bench {
    app: TestApp,
    shared_user: tokio::sync::OnceCell<String>,
    /// An API key of the shared user, for `AUTHORIZER_API_KEY`.
    api_key: tokio::sync::OnceCell<String>,
    env: HashMap<String, String>,
    bin_dir: PathBuf,
}

/// A started function: its process, its Runtime API, and its log lines.
struct Running {
    child: Child,
    api: RuntimeApi,
    logs: Arc<Mutex<Vec<String>>>,
    started: Instant,
}

impl Running {
    fn pid(&self) -> Result<u32> {
        self.child.id().context("the function exited")
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// `dynamodb_calls` of the last log line that has it (the request's line).
    fn dynamodb_calls(&self) -> Option<u64> {
        let logs = self.logs.lock().ok()?;
        logs.iter()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|v| v.get("dynamodb_calls").and_then(Value::as_u64))
    }
}

struct ColdRun {
    init_ms: f64,
    first_ms: f64,
    /// CPU time the process used up to its first response: the cold start without the waits on
    /// moto, which stand in for DynamoDB and Secrets Manager.
    first_cpu_ms: f64,
    peak_rss_kib: u64,
    status: String,
    dynamodb_calls: Option<u64>,
}

impl Bench {
    fn binary(&self, function: &str) -> PathBuf {
        let binary = if function == AUTHORIZER_API_KEY { "authorizer" } else { function };
        self.bin_dir.join(binary).join("bootstrap")
    }

    async fn start(&self, function: &str) -> Result<Running> {
        let api = RuntimeApi::start().await?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        let started = Instant::now();
        let mut child = Command::new(self.binary(function))
            .env_clear()
            .envs(&self.env)
            .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.binary(function).display()))?;
        for stream in [
            child.stdout.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child.stderr.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let logs = logs.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Ok(mut l) = logs.lock() {
                        l.push(line);
                    }
                }
            });
        }
        Ok(Running { child, api, logs, started })
    }

    /// One cold start: a new process serves one realistic event.
    async fn cold(&self, function: &str) -> Result<ColdRun> {
        let event = self.event(function).await?;
        let mut run = self.start(function).await?;
        let polled = match run.api.polled(LIMIT).await {
            Ok(at) => at,
            Err(e) => {
                let logs = run.logs.lock().map(|l| l.join("\n")).unwrap_or_default();
                let init_error = run.api.init_error().map(|a| a.body.to_string()).unwrap_or_default();
                run.stop().await;
                bail!("{e}: {init_error}\n{logs}");
            }
        };
        let (_, answer) = run.api.invoke(&event, LIMIT).await?;
        // The log line is written before the response is posted; give the pipe a moment.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let result = ColdRun {
            init_ms: ms(polled - run.started),
            first_ms: ms(answer.at - run.started),
            first_cpu_ms: cpu_ns(run.pid()?)? as f64 / 1e6,
            peak_rss_kib: peak_rss_kib(run.pid()?)?,
            status: status_of(&answer),
            dynamodb_calls: run.dynamodb_calls(),
        };
        run.stop().await;
        Ok(result)
    }

    /// Many invocations in one process, after a first (cold) one that is not counted.
    async fn warm(&self, function: &str, n: usize) -> Result<WarmSummary> {
        let mut event = self.event(function).await?;
        let mut run = self.start(function).await?;
        run.api.polled(LIMIT).await?;
        let (_, mut answer) = run.api.invoke(&event, LIMIT).await?;
        let pid = run.pid()?;
        let mut walls = Vec::with_capacity(n);
        let mut statuses = BTreeMap::<String, usize>::new();
        // CPU per invocation, from one `next` to the following one (the function is idle at both),
        // and its median: this machine's neighbours add noise to single invocations, not work.
        let mut cpus = Vec::with_capacity(n);
        run.api.polled(LIMIT).await?;
        let mut mark = cpu_ns(pid)?;
        let faults_before = minor_faults(pid)?;
        for _ in 0..n {
            event = self.next_event(function, event, &answer)?;
            let (handed, a) = run.api.invoke(&event, LIMIT).await?;
            walls.push(ms(a.at - handed));
            run.api.polled(LIMIT).await?;
            let now = cpu_ns(pid)?;
            cpus.push((now - mark) as f64 / 1e6);
            mark = now;
            *statuses.entry(status_of(&a)).or_default() += 1;
            answer = a;
        }
        let faults = minor_faults(pid)? - faults_before;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let dynamodb_calls = run.dynamodb_calls();
        run.stop().await;
        Ok(WarmSummary {
            dynamodb_calls,
            invocations: n,
            wall_ms: Stats::of(&walls),
            cpu_ms: Stats::of(&cpus),
            faults_per_invocation: faults as f64 / n as f64,
            statuses,
        })
    }

    /// The function's event from `events/`, with a real user's values in place of the examples:
    /// a fresh account (and session) for every event that names one, a new address to register.
    async fn event(&self, function: &str) -> Result<Value> {
        if function == AUTHORIZER_API_KEY {
            let key = self.api_key().await?;
            let text = std::fs::read_to_string(authctl::repo_root().join("events/authorizer.json"))?;
            return Ok(serde_json::from_str(&text.replace(EXAMPLE_ACCESS, &key))?);
        }
        let name = if function == BASELINE { "health" } else { function };
        let path = authctl::repo_root().join("events").join(format!("{name}.json"));
        let mut text =
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        if function == "register" {
            text = text.replace(EXAMPLE_EMAIL, &unique_email("bench-register"));
        } else if [EXAMPLE_ACCESS, EXAMPLE_REFRESH, EXAMPLE_SESSION, EXAMPLE_EMAIL]
            .iter()
            .any(|p| text.contains(p))
        {
            // A new session for every run. Only the functions that end the account's use of its
            // password get an account of their own: creating one reads its verification mail back
            // from moto, which gets slower as moto fills up.
            let email = if ["password_change", "deletion_request"].contains(&function) {
                let email = unique_email("bench");
                self.app.verified_user(&email).await;
                email
            } else {
                self.shared_email().await
            };
            let login = self.app.login(&email, PASSWORD).await;
            if login.status != 200 {
                bail!("fixture login failed: {}", login.text);
            }
            let token = |name: &str| login.body["data"][name].as_str().unwrap_or_default().to_owned();
            let (access, refresh) = (token("access_token"), token("refresh_token"));
            let session = jwt_payload(&access)["sid"].as_str().unwrap_or_default().to_owned();
            text = text
                .replace(EXAMPLE_ACCESS, &access)
                .replace(EXAMPLE_REFRESH, &refresh)
                .replace(EXAMPLE_SESSION, &session)
                .replace(EXAMPLE_EMAIL, &email);
        }
        Ok(serde_json::from_str(&text)?)
    }

    /// The account most events act as (one, so that moto stays small).
    async fn shared_email(&self) -> String {
        self.shared_user
            .get_or_init(|| async {
                let email = unique_email("bench");
                self.app.verified_user(&email).await;
                email
            })
            .await
            .clone()
    }

    /// An API key of the shared user, used once already: its `last_used_at` is fresh, so a run
    /// within the minute shows the authorizer's cost of a key without the once-a-minute write.
    async fn api_key(&self) -> Result<String> {
        let key = self
            .api_key
            .get_or_try_init(|| async {
                let login = self.app.login(&self.shared_email().await, PASSWORD).await;
                let access = login.body["data"]["access_token"].as_str().context("an access token")?;
                let r = self
                    .app
                    .post("/api/v1/auth/api-keys", json!({"label": "bench", "scopes": ["read"]}))
                    .bearer(access)
                    .send()
                    .await;
                let key = r.body["data"]["raw_key"].as_str().context("an API key")?.to_owned();
                anyhow::Ok(key)
            })
            .await?
            .clone();
        let used = self.app.authorize(Some(&format!("Bearer {key}"))).await;
        if used.context["auth_kind"] != "api_key" {
            bail!("the bench's API key was refused: {}", used.context);
        }
        Ok(key)
    }

    /// The event of the next warm invocation: the same request, but a new address for register
    /// and the refresh token the previous answer handed out for refresh.
    fn next_event(&self, function: &str, mut event: Value, previous: &runtime_api::Answer) -> Result<Value> {
        match function {
            "register" => {
                let body =
                    json!({"email": unique_email("bench-register"), "password": PASSWORD, "name": "Bench"});
                event["body"] = Value::String(body.to_string());
            }
            "token_refresh" => {
                let body: Value = serde_json::from_str(previous.body["body"].as_str().unwrap_or("{}"))?;
                let token =
                    body["data"]["refresh_token"].as_str().context("refresh answered without a token")?;
                event["body"] = Value::String(json!({ "refresh_token": token }).to_string());
            }
            _ => {}
        }
        Ok(event)
    }

    /// `users_me` at a created app's path, in one container: the DynamoDB calls of its first
    /// request (which reads the app's settings) and of the next (which must not read them again).
    async fn app_calls(&self) -> Result<AppCalls> {
        let dev = self.app.developer(&unique_email("bench-dev")).await;
        let id = self.app.create_app(&dev, json!({"name": "Bench"})).await;
        let base = format!("/apps/{id}");
        let (access, _) = self.app.logged_in_at(&base, &unique_email("bench-app-user")).await;
        let path = authctl::repo_root().join("events").join("users_me.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut event: Value = serde_json::from_str(&text.replace(EXAMPLE_ACCESS, &access))?;
        let app_path = format!("{base}/api/v1/users/me");
        event["rawPath"] = json!(app_path);
        event["requestContext"]["http"]["path"] = json!(app_path);
        let mut run = self.start("users_me").await?;
        run.api.polled(LIMIT).await?;
        let mut calls = Vec::new();
        for _ in 0..2 {
            let (_, answer) = run.api.invoke(&event, LIMIT).await?;
            if status_of(&answer) != "200" {
                run.stop().await;
                bail!("users_me at {app_path} answered {}", answer.body);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            calls.push(run.dynamodb_calls());
            run.api.polled(LIMIT).await?;
        }
        run.stop().await;
        Ok(AppCalls { first: calls[0], warm: calls[1] })
    }

    /// The work login and the authorizer cannot avoid, measured alone in this process: one
    /// Argon2id verification, and one RS256 signature check of an access token.
    async fn alone(&self) -> Result<Alone> {
        let hash = shared::crypto::hash_password(PASSWORD).await?;
        let mut hashes = Vec::new();
        let faults_before = minor_faults(std::process::id())?;
        for _ in 0..20 {
            let t = Instant::now();
            let ok = shared::crypto::verify_password(PASSWORD, Some(&hash)).await?;
            hashes.push(ms(t.elapsed()));
            if !ok {
                bail!("the password did not verify");
            }
        }

        let argon2id_faults = (minor_faults(std::process::id())? - faults_before) as f64 / 20.0;

        let access = self.event("authorizer").await?["headers"]["authorization"]
            .as_str()
            .and_then(|h| h.strip_prefix("Bearer "))
            .context("an access token")?
            .to_owned();
        let jwks = self.app.get("/.well-known/jwks.json").send().await.body;
        let kid = jwt_header(&access)?["kid"].as_str().unwrap_or_default().to_owned();
        let jwk = jwks["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
            .context("the token's key is not in the JWKS")?;
        let key = aws_lc_rs::signature::RsaPublicKeyComponents {
            n: URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap_or_default())?,
            e: URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap_or_default())?,
        };
        let (message, signature) = access.rsplit_once('.').context("a JWT")?;
        let signature = URL_SAFE_NO_PAD.decode(signature)?;
        let rounds = 2000;
        let t = Instant::now();
        for _ in 0..rounds {
            key.verify(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256, message.as_bytes(), &signature)
                .map_err(|_| anyhow::anyhow!("the signature did not verify"))?;
        }
        let signature_ms = ms(t.elapsed()) / f64::from(rounds);

        // Signing is the private-key operation, far dearer than the check: login signs two tokens.
        let ring = self.app.stored_key_ring().await;
        let claims = json!({"sub": "bench", "iss": "bench", "aud": "bench", "exp": 4_102_444_800_i64});
        let mut signs = Vec::with_capacity(200);
        for _ in 0..200 {
            let t = Instant::now();
            ring.sign(&claims, shared::tokens::ACCESS_TOKEN_TYPE)?;
            signs.push(ms(t.elapsed()));
        }
        let sign_ms = Stats::of(&signs).median;

        // On a thread of its own with a single-threaded runtime, as the functions run, so that the
        // thread's CPU time is the SDK's alone.
        let endpoint = self.app.moto.clone();
        let table = self.app.config.table_name.clone();
        let get_item_cpu_ms = std::thread::spawn(move || -> Result<f64> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let dynamodb = aws_sdk_dynamodb::Client::new(&authctl::local_sdk_config(&endpoint).await);
                let get = || {
                    dynamodb
                        .get_item()
                        .table_name(&table)
                        .key("pk", AttributeValue::S("BENCH#absent".into()))
                        .key("sk", AttributeValue::S("BENCH#absent".into()))
                        .send()
                };
                get().await?;
                let mut samples = Vec::with_capacity(300);
                for _ in 0..300 {
                    let before = thread_cpu_ns()?;
                    get().await?;
                    samples.push((thread_cpu_ns()? - before) as f64 / 1e6);
                }
                Ok(Stats::of(&samples).median)
            })
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the GetItem thread panicked"))??;
        Ok(Alone {
            argon2id_verify_ms: Stats::of(&hashes),
            argon2id_faults,
            rs256_verify_ms: signature_ms,
            rs256_sign_ms: sign_ms,
            get_item_cpu_ms,
        })
    }
}

fn jwt_header(token: &str) -> Result<Value> {
    let header = token.split('.').next().context("a JWT")?;
    Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header)?)?)
}

/// The HTTP status of an API Gateway response, or what the authorizer decided.
fn status_of(answer: &runtime_api::Answer) -> String {
    if answer.kind != "response" {
        return answer.kind.to_owned();
    }
    if let Some(code) = answer.body.get("statusCode").and_then(Value::as_u64) {
        return code.to_string();
    }
    if let Some(kind) = answer.body.pointer("/context/auth_kind").and_then(Value::as_str) {
        return format!("auth_kind={kind}");
    }
    "ok".to_owned()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Peak resident set size of a live process (`VmHWM`), KiB.
fn peak_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmHWM missing from /proc status")
}

/// CPU time of the calling thread so far, in nanoseconds.
fn thread_cpu_ns() -> Result<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    Ok(stat.split_whitespace().next().context("schedstat")?.parse()?)
}

/// Minor page faults of a process so far (`/proc/<pid>/stat`, field 10).
fn minor_faults(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; count from the ')' that closes it.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).context("a /proc stat line")?;
    Ok(after.split_whitespace().nth(7).context("minflt")?.parse()?)
}

/// CPU time of every thread of a process so far, in nanoseconds (`schedstat`, which counts
/// nanoseconds rather than the clock ticks of `stat`).
fn cpu_ns(pid: u32) -> Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        if let Ok(text) = std::fs::read_to_string(path) {
            total += text.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    Ok(total)
}

// ----- results --------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Stats {
    median: f64,
    p90: f64,
    min: f64,
}

impl Stats {
    fn of(values: &[f64]) -> Stats {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v.get(((v.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
        Stats { median: at(0.5), p90: at(0.9), min: v.first().copied().unwrap_or(f64::NAN) }
    }

    fn json(&self) -> Value {
        json!({"median": round(self.median), "p90": round(self.p90), "min": round(self.min)})
    }
}

fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

struct ColdSummary {
    init_ms: Stats,
    first_ms: Stats,
    first_cpu_ms: Stats,
    peak_rss_kib: u64,
    artifact_bytes: u64,
    status: String,
    dynamodb_calls: String,
}

impl ColdSummary {
    fn of(runs: &[ColdRun], artifact_bytes: u64) -> ColdSummary {
        let init: Vec<f64> = runs.iter().map(|r| r.init_ms).collect();
        let first: Vec<f64> = runs.iter().map(|r| r.first_ms).collect();
        let first_cpu: Vec<f64> = runs.iter().map(|r| r.first_cpu_ms).collect();
        let mut statuses: Vec<String> = runs.iter().map(|r| r.status.clone()).collect();
        statuses.dedup();
        let mut calls: Vec<String> =
            runs.iter().map(|r| r.dynamodb_calls.map_or("–".to_owned(), |c| c.to_string())).collect();
        calls.sort();
        calls.dedup();
        ColdSummary {
            init_ms: Stats::of(&init),
            first_ms: Stats::of(&first),
            first_cpu_ms: Stats::of(&first_cpu),
            peak_rss_kib: runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0),
            artifact_bytes,
            status: statuses.join("/"),
            dynamodb_calls: calls.join("/"),
        }
    }
}

struct WarmSummary {
    invocations: usize,
    wall_ms: Stats,
    cpu_ms: Stats,
    /// Minor page faults: memory the kernel had to map in, each one CPU time the process pays.
    faults_per_invocation: f64,
    statuses: BTreeMap<String, usize>,
    /// DynamoDB calls of the last invocation (for the functions that log them).
    dynamodb_calls: Option<u64>,
}

struct Alone {
    argon2id_verify_ms: Stats,
    argon2id_faults: f64,
    rs256_verify_ms: f64,
    rs256_sign_ms: f64,
    /// CPU of one DynamoDB `GetItem` through the SDK (signing, HTTP, parsing), moto's side excluded
    /// (median).
    get_item_cpu_ms: f64,
}

/// DynamoDB calls of `users_me` at an app's path: the container's first request, and the next.
struct AppCalls {
    first: Option<u64>,
    warm: Option<u64>,
}

struct Report {
    cold: BTreeMap<String, ColdSummary>,
    warm: BTreeMap<String, WarmSummary>,
    alone: Alone,
    app_calls: AppCalls,
    runs: usize,
    took: Duration,
}

impl Report {
    fn new(
        cold: BTreeMap<String, ColdSummary>,
        warm: BTreeMap<String, WarmSummary>,
        alone: Alone,
        app_calls: AppCalls,
        runs: usize,
        took: Duration,
    ) -> Report {
        Report { cold, warm, alone, app_calls, runs, took }
    }

    fn baseline(&self) -> &ColdSummary {
        &self.cold[BASELINE]
    }

    fn machine() -> String {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines().find_map(|l| {
                    l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
                })
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let mem_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines().find_map(|l| {
                    l.strip_prefix("MemTotal:")
                        .map(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().unwrap_or(0.0))
                })
            })
            .map(|kb| kb / 1024.0 / 1024.0)
            .unwrap_or(0.0);
        format!("{cpu}, {cores} cores, {mem_gib:.0} GiB, Linux x86_64")
    }

    fn goals(&self) -> Vec<(String, String, bool)> {
        let base = self.baseline();
        let authz = &self.cold["authorizer"];
        let authz_warm = &self.warm["authorizer"];
        let login = &self.warm["login"];
        let hash = self.alone.argon2id_verify_ms.median;
        let max_artifact = self
            .cold
            .iter()
            .filter(|(f, _)| *f != BASELINE)
            .map(|(f, c)| (f, c.artifact_bytes))
            .max_by_key(|(_, b)| *b);
        let ratio = |a: f64, b: f64| a / b;
        // A goal of the form "value ≤ limit × against".
        let times = |goal: &str, value: f64, against: f64, limit: f64| {
            let decimals = if against < 0.1 { 3 } else { 2 };
            (
                goal.to_owned(),
                format!("{:.2}× ({value:.decimals$} ms vs {against:.decimals$} ms)", ratio(value, against)),
                ratio(value, against) <= limit,
            )
        };
        let mut goals = vec![
            times(
                "authorizer cold start ≤ 1.5× hello-world (first invoke, median)",
                authz.first_ms.median,
                base.first_ms.median,
                1.5,
            ),
            times(
                "the same, CPU to the first response (the waits on moto left out)",
                authz.first_cpu_ms.median,
                base.first_cpu_ms.median,
                1.5,
            ),
            times(
                "authorizer warm CPU ≤ 2× a bare RS256 signature check",
                authz_warm.cpu_ms.median,
                self.alone.rs256_verify_ms,
                2.0,
            ),
            {
                // What any authorizer that checks revocation must spend: the runtime's own loop
                // (the hello-world function's warm CPU), the signature check and one GetItem.
                let floor = self.warm[BASELINE].cpu_ms.median
                    + self.alone.rs256_verify_ms
                    + self.alone.get_item_cpu_ms;
                (
                    "the same, against runtime loop + signature check + one SDK GetItem".to_owned(),
                    format!(
                        "{:.2}× ({:.3} ms vs {:.3} + {:.3} + {:.3} ms)",
                        ratio(authz_warm.cpu_ms.median, floor),
                        authz_warm.cpu_ms.median,
                        self.warm[BASELINE].cpu_ms.median,
                        self.alone.rs256_verify_ms,
                        self.alone.get_item_cpu_ms
                    ),
                    ratio(authz_warm.cpu_ms.median, floor) <= 2.0,
                )
            },
            (
                "login CPU beyond the Argon2id hash ≤ 10%".to_owned(),
                format!(
                    "{:+.1}% ({:.2} ms CPU vs {:.2} ms hash; wall {:.2} ms incl. 4 moto round trips)",
                    (login.cpu_ms.median / hash - 1.0) * 100.0,
                    login.cpu_ms.median,
                    hash,
                    login.wall_ms.median
                ),
                login.cpu_ms.median <= hash * 1.10,
            ),
            {
                // What any login must spend beyond the hash: the runtime's loop, the four calls
                // and the two token signatures (access and refresh).
                let floor = hash
                    + self.warm[BASELINE].cpu_ms.median
                    + 4.0 * self.alone.get_item_cpu_ms
                    + 2.0 * self.alone.rs256_sign_ms;
                (
                    "the same, against hash + runtime loop + 4 SDK calls + 2 RS256 signatures".to_owned(),
                    format!(
                        "{:+.1}% ({:.2} ms vs {:.2} + {:.3} + 4 × {:.3} + 2 × {:.3} ms)",
                        (login.cpu_ms.median / floor - 1.0) * 100.0,
                        login.cpu_ms.median,
                        hash,
                        self.warm[BASELINE].cpu_ms.median,
                        self.alone.get_item_cpu_ms,
                        self.alone.rs256_sign_ms
                    ),
                    login.cpu_ms.median <= floor * 1.10,
                )
            },
            (
                "authorizer fits a 128 MB function (peak RSS)".to_owned(),
                format!("{:.1} MiB", authz.peak_rss_kib as f64 / 1024.0),
                authz.peak_rss_kib < 128 * 1024,
            ),
        ];
        if let Some((f, bytes)) = max_artifact {
            goals.push((
                "each artifact ≤ 3× the hello-world artifact".to_owned(),
                format!(
                    "largest {f}: {:.2}× ({:.1} MiB vs {:.1} MiB)",
                    bytes as f64 / base.artifact_bytes as f64,
                    mib(bytes),
                    mib(base.artifact_bytes)
                ),
                bytes <= 3 * base.artifact_bytes,
            ));
        }
        for (f, limit) in
            [("authorizer", 1), (AUTHORIZER_API_KEY, 1), ("login", 4), ("token_refresh", 2), ("register", 2)]
        {
            let calls = &self.cold[f].dynamodb_calls;
            let ok = calls.split('/').all(|c| c.parse::<u64>().is_ok_and(|c| c <= limit));
            goals.push((format!("DynamoDB calls: {f} ≤ {limit}"), calls.clone(), ok));
        }
        let key_warm = self.warm[AUTHORIZER_API_KEY].dynamodb_calls;
        goals.push((
            format!("DynamoDB calls: {AUTHORIZER_API_KEY} warm = 1 (one GetItem by key id)"),
            key_warm.map_or("–".to_owned(), |c| c.to_string()),
            key_warm == Some(1),
        ));
        // A warm function of a created app reads the app's settings once per container, not per
        // request: its warm request costs what the `default` app's request does.
        let (first, warm) = (self.app_calls.first, self.app_calls.warm);
        let default_calls =
            self.cold["users_me"].dynamodb_calls.split('/').next().and_then(|c| c.parse::<u64>().ok());
        let shown = |c: Option<u64>| c.map_or("–".to_owned(), |c| c.to_string());
        goals.push((
            "DynamoDB calls: users_me at an app's path, warm = at the default app's path (no settings read)"
                .to_owned(),
            format!(
                "{} first, {} warm; {} at the default app",
                shown(first),
                shown(warm),
                shown(default_calls)
            ),
            warm.is_some() && warm == default_calls,
        ));
        goals
    }

    fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
        let machine = Report::machine();
        let base = self.baseline();
        let json = json!({
            "date": date,
            "machine": machine,
            "cold_runs_per_function": self.runs,
            "took_seconds": self.took.as_secs(),
            "functions": self.cold.iter().map(|(f, c)| (f.clone(), json!({
                "init_ms": c.init_ms.json(),
                "first_invoke_ms": c.first_ms.json(),
                "first_invoke_vs_baseline": round(c.first_ms.median / base.first_ms.median),
                "first_invoke_cpu_ms": c.first_cpu_ms.json(),
                "peak_rss_kib": c.peak_rss_kib,
                "artifact_bytes": c.artifact_bytes,
                "artifact_vs_baseline": round(c.artifact_bytes as f64 / base.artifact_bytes as f64),
                "status": c.status,
                "dynamodb_calls": c.dynamodb_calls,
            }))).collect::<serde_json::Map<_, _>>(),
            "warm": self.warm.iter().map(|(f, w)| (f.clone(), json!({
                "invocations": w.invocations,
                "wall_ms": w.wall_ms.json(),
                "cpu_ms": w.cpu_ms.json(),
                "minor_faults_per_invocation": round(w.faults_per_invocation),
                "statuses": w.statuses,
                "dynamodb_calls_last_invocation": w.dynamodb_calls,
            }))).collect::<serde_json::Map<_, _>>(),
            "alone": {
                "argon2id_verify_ms": self.alone.argon2id_verify_ms.json(),
                "argon2id_verify_page_faults": round(self.alone.argon2id_faults),
                "rs256_verify_ms": round(self.alone.rs256_verify_ms),
                "rs256_sign_ms": round(self.alone.rs256_sign_ms),
                "dynamodb_get_item_cpu_ms": round(self.alone.get_item_cpu_ms),
            },
            "goals": self.goals().iter().map(|(g, v, ok)| json!({"goal": g, "measured": v, "met": ok})).collect::<Vec<_>>(),
        });
        std::fs::write(dir.join("results.json"), serde_json::to_string_pretty(&json)? + "\n")?;

        let mut md = String::new();
        md.push_str(&format!("# Benchmark results\n\n{date} · {machine} · `make bench` ({} cold starts per function, AWS calls to a local moto; took {} s)\n\n", self.runs, self.took.as_secs()));
        md.push_str("## Cold start, memory, size, DynamoDB calls\n\n");
        md.push_str("| function | init ms (median / p90) | first invoke ms (median / p90) | × baseline | CPU ms to first response | × baseline | peak RSS MiB | artifact MiB | × baseline | status | DynamoDB calls |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
        for (f, c) in &self.cold {
            md.push_str(&format!(
                "| {f} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} | {:.2} | {} | {} |\n",
                c.init_ms.median,
                c.init_ms.p90,
                c.first_ms.median,
                c.first_ms.p90,
                c.first_ms.median / base.first_ms.median,
                c.first_cpu_ms.median,
                c.first_cpu_ms.median / base.first_cpu_ms.median,
                c.peak_rss_kib as f64 / 1024.0,
                mib(c.artifact_bytes),
                c.artifact_bytes as f64 / base.artifact_bytes as f64,
                c.status,
                c.dynamodb_calls
            ));
        }
        md.push_str("\n## Warm invocations\n\n| function | invocations | wall ms (median / p90) | CPU ms (median / p90) | page faults per invocation | statuses | DynamoDB calls (last) |\n|---|---:|---:|---:|---:|---|---:|\n");
        for (f, w) in &self.warm {
            let statuses: Vec<String> = w.statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
            md.push_str(&format!(
                "| {f} | {} | {:.3} / {:.3} | {:.3} / {:.3} | {:.0} | {} | {} |\n",
                w.invocations,
                w.wall_ms.median,
                w.wall_ms.p90,
                w.cpu_ms.median,
                w.cpu_ms.p90,
                w.faults_per_invocation,
                statuses.join(", "),
                w.dynamodb_calls.map_or("–".to_owned(), |c| c.to_string())
            ));
        }
        md.push_str(&format!(
            "\nAlone, in the harness: one Argon2id verification {:.2} ms (median, p90 {:.2}; {:.0} page faults); one RS256 signature check {:.3} ms, one RS256 signature {:.3} ms; one DynamoDB GetItem through the SDK {:.3} ms of CPU (median, single-threaded runtime; moto's side not counted).\n",
            self.alone.argon2id_verify_ms.median,
            self.alone.argon2id_verify_ms.p90,
            self.alone.argon2id_faults,
            self.alone.rs256_verify_ms,
            self.alone.rs256_sign_ms,
            self.alone.get_item_cpu_ms
        ));
        md.push_str("\n## Goals\n\n| goal | measured | met |\n|---|---|---|\n");
        for (g, v, ok) in self.goals() {
            md.push_str(&format!("| {g} | {v} | {} |\n", if ok { "yes" } else { "**no**" }));
        }
        std::fs::write(dir.join("results.md"), md)?;
        Ok(())
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}
