//! authctl: local AWS for development and tests, bootstrap, and signing keys.
//!
//! ```text
//! authctl dev                       moto on 127.0.0.1:5000, bootstrap, the mailer on the outbox's
//!                                   stream, cargo lambda watch on :9000 (AUTH_DEV_SOCIAL=local:
//!                                   also the identity stand-ins on :9101-9103)
//! authctl bootstrap                 create table, secret and mail identity where AWS_* points
//! authctl keys ensure               put a first signing key into SIGNING_KEY_SECRET_ID if it has none
//! authctl keys rotate               make a new key current; older keys verify until their tokens expire
//! authctl secret-key create [LABEL] a secret key of the `default` app, for its management API
//! authctl secret-key list           the `default` app's secret keys (never a secret)
//! authctl secret-key revoke ID      revoke one of them at once
//! authctl with-moto -- CMD ARGS...  run CMD with a fresh moto (AUTH_TEST_MOTO_ENDPOINT) and the
//!                                   identity stand-ins (AUTH_TEST_STAND_INS), and stop them after
//! authctl iam-check DIR             hold the template's policies to the AWS calls recorded in DIR
//! ```

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use authctl::{bootstrap, local_sdk_config, moto::Moto, repo_root};
use shared::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => dev().await,
        Some("bootstrap") => bootstrap_here().await,
        Some("keys") if args.get(1).map(String::as_str) == Some("ensure") => keys_ensure().await,
        Some("keys") if args.get(1).map(String::as_str) == Some("rotate") => keys_rotate().await,
        Some("secret-key") if args.get(1).map(String::as_str) == Some("create") => {
            secret_key_create(args.get(2).cloned()).await
        }
        Some("secret-key") if args.get(1).map(String::as_str) == Some("list") => secret_key_list().await,
        Some("secret-key") if args.get(1).map(String::as_str) == Some("revoke") && args.len() == 3 => {
            secret_key_revoke(&args[2]).await
        }
        Some("with-moto") => return with_moto(&args[1..]).await,
        Some("iam-check") if args.len() == 2 => iam_check(std::path::Path::new(&args[1])),
        Some("docs-check") => docs_check(),
        _ => {
            eprintln!(
                "usage: authctl dev | bootstrap | keys ensure | keys rotate | secret-key create [LABEL] | secret-key list | secret-key revoke ID | with-moto -- CMD [ARGS...] | iam-check DIR | docs-check"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authctl: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The links of the README and the book (`make docs`), checked offline.
fn docs_check() -> Result<()> {
    let problems = authctl::docs::check(&repo_root());
    if problems.is_empty() {
        println!("docs: every link of README.md and docs/ resolves");
        return Ok(());
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    bail!("{} broken links in the documentation", problems.len())
}

fn config() -> Result<Config> {
    Config::from_env().context("reading the configuration from the environment")
}

async fn bootstrap_here() -> Result<()> {
    let config = config()?;
    let sdk = aws_config::load_from_env().await;
    bootstrap::local(&sdk, &config).await?;
    println!(
        "table {}, secret {} and identity {} are ready",
        config.table_name, config.signing_key_secret_id, config.mail_from
    );
    Ok(())
}

/// A secret key of the `default` app for the operator's backend (`/api/v1/admin/...`); printed
/// once, stored only as its hash.
async fn secret_key_create(label: Option<String>) -> Result<()> {
    let config = config()?;
    let sdk = aws_config::load_from_env().await;
    let app = shared::App::new(config, &sdk);
    let key = shared::console::issue_secret_key(&app, &shared::AppId::default_app(), label, None).await?;
    println!("secret key {} of the default app (shown once; keep it secret):", key.id);
    println!("{}", key.key);
    Ok(())
}

/// The `default` app's secret keys: id, label, hint and creation time.
async fn secret_key_list() -> Result<()> {
    let config = config()?;
    let sdk = aws_config::load_from_env().await;
    let app = shared::App::new(config, &sdk);
    for key in app.store.secret_keys(&shared::AppId::default_app()).await? {
        println!("{}  {}  {}  {}", key.key_id, key.hint, key.created_at.to_rfc3339(), key.label);
    }
    Ok(())
}

/// Revokes a secret key of the `default` app: refused from the next request on.
async fn secret_key_revoke(id: &str) -> Result<()> {
    let config = config()?;
    let sdk = aws_config::load_from_env().await;
    let app = shared::App::new(config, &sdk);
    let Some(key_id) = shared::ids::KeyId::parse(id) else { bail!("{id:?} is not a key id") };
    if !app.store.revoke_secret_key(&shared::AppId::default_app(), &key_id).await? {
        bail!("the default app has no secret key {id}");
    }
    println!("revoked {id}");
    Ok(())
}

/// `make rotate-key`: a new current key; previous keys verify until their tokens have expired.
async fn keys_rotate() -> Result<()> {
    let config = config()?;
    let sdk = aws_config::load_from_env().await;
    // Each app chooses its token lifetimes, but no token outlives its session, whose lifetime is
    // the deployment's: that bounds every token any app's key can have signed.
    let keep_for = config
        .session_max_lifetime
        .max(config.default_app.access_token_ttl)
        .max(config.default_app.refresh_token_ttl)
        + std::time::Duration::from_secs(60);
    let (kid, removed) = bootstrap::rotate_signing_key(
        &sdk,
        &config.signing_key_secret_id,
        &config.table_name,
        config.jwt_algorithm,
        keep_for,
    )
    .await?;
    println!(
        "{kid} ({}) signs from now on in {}",
        config.jwt_algorithm.as_str(),
        config.signing_key_secret_id
    );
    if !removed.is_empty() {
        println!("removed keys whose tokens have all expired: {}", removed.join(", "));
    }
    Ok(())
}

async fn keys_ensure() -> Result<()> {
    let config = config()?;
    let sdk = aws_config::load_from_env().await;
    if bootstrap::ensure_signing_key(
        &sdk,
        &config.signing_key_secret_id,
        &config.table_name,
        config.jwt_algorithm,
    )
    .await?
    {
        println!(
            "put a new {} signing key into {}",
            config.jwt_algorithm.as_str(),
            config.signing_key_secret_id
        );
    } else {
        println!("{} already holds signing keys; nothing changed", config.signing_key_secret_id);
    }
    Ok(())
}

/// `make test`, after the suite: each function's policy against what its code asked of AWS.
fn iam_check(dir: &std::path::Path) -> Result<()> {
    let mut policies = std::collections::BTreeMap::new();
    for stack in authctl::template::stacks()? {
        policies.extend(authctl::iam::policies(&stack)?);
    }
    let needs = authctl::iam::read_records(dir)?;
    if needs.is_empty() {
        bail!("no IAM records in {} (was the suite run with AUTH_IAM_RECORD_DIR set?)", dir.display());
    }
    let problems = authctl::iam::check(&policies, &needs);
    let functions: std::collections::BTreeSet<&str> = needs.iter().map(|n| n.function.as_str()).collect();
    if problems.is_empty() {
        println!(
            "iam-check: {} needs of {} functions, each allowed by its policy; every grant exercised or waived",
            needs.len(),
            functions.len()
        );
        return Ok(());
    }
    for p in &problems {
        eprintln!("iam-check: {p}");
    }
    bail!(
        "{} problem(s) between the stacks' policies (infra/template.yaml, infra/areas/) and the code's AWS calls",
        problems.len()
    )
}

/// Variables that `cargo run` sets for the program it runs. A cargo started from here must not see
/// them, or it may fingerprint builds differently and compile everything again.
fn without_cargo_run_env(cmd: &mut tokio::process::Command) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || matches!(key.as_ref(), "CARGO_BIN_NAME" | "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE")
        {
            cmd.env_remove(key.as_ref());
        }
    }
}

async fn with_moto(args: &[String]) -> ExitCode {
    let cmd: Vec<&String> = args.iter().skip_while(|a| *a == "--").collect();
    let Some((program, rest)) = cmd.split_first() else {
        eprintln!("usage: authctl with-moto -- CMD [ARGS...]");
        return ExitCode::from(2);
    };
    let moto = match Moto::start(None) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("authctl: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("authctl: moto is serving on {}", moto.endpoint());
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest).env("AUTH_TEST_MOTO_ENDPOINT", moto.endpoint());
    // The local identity providers, shared by the whole run like moto.
    let stand_ins = match authctl::standins::StandIns::start(None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("authctl: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("authctl: identity stand-ins on {:?}", stand_ins.endpoints);
    cmd.env("AUTH_TEST_STAND_INS", serde_json::to_string(&stand_ins.endpoints).unwrap_or_default());
    without_cargo_run_env(&mut cmd);
    let status = cmd.status().await;
    drop(stand_ins);
    drop(moto);
    match status {
        Ok(s) => ExitCode::from(s.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("authctl: running {program}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The ports of `make dev SOCIAL=local`'s stand-ins: Google, Apple, GitHub.
const DEV_STAND_IN_PORTS: [u16; 3] = [9101, 9102, 9103];

/// The identity stand-ins for `make dev`, with the `default` app's clients registered at them (its
/// callbacks under `JWT_ISSUER`), their secrets in moto's Secrets Manager, and the variables that
/// point the functions at them.
async fn local_social(
    sdk: &aws_config::SdkConfig,
    config: &Config,
) -> Result<(authctl::standins::StandIns, Vec<(String, String)>)> {
    use authctl::standins::{StandIns, register_apple_client, register_client};
    let stand_ins = StandIns::start(Some(DEV_STAND_IN_PORTS))?;
    let e = stand_ins.endpoints.clone();
    let callback =
        |p: &str| format!("{}/api/v1/auth/oauth/{p}/callback", config.jwt_issuer.trim_end_matches('/'));
    let (google_id, google_secret) = register_client(&e.google, &callback("google")).await?;
    let (team, key) = ("DEVTEAM001", "DEVKEY0001");
    let (apple_id, apple_key) = register_apple_client(&e.apple, &callback("apple"), team, key).await?;
    let secret_id = "auth/dev-social";
    let secrets = serde_json::json!({"google_client_secret": google_secret, "github_client_secret": "stand-in-secret",
                                     "apple_private_key": apple_key});
    bootstrap::put_secret(sdk, secret_id, &secrets.to_string()).await?;
    let vars = [
        ("GOOGLE_ISSUER", e.google.as_str()),
        ("GOOGLE_CLIENT_ID", google_id.as_str()),
        ("APPLE_ISSUER", e.apple.as_str()),
        ("APPLE_CLIENT_ID", apple_id.as_str()),
        ("APPLE_TEAM_ID", team),
        ("APPLE_KEY_ID", key),
        ("GITHUB_OAUTH_URL", e.github.as_str()),
        ("GITHUB_API_URL", e.github.as_str()),
        ("GITHUB_CLIENT_ID", "stand-in-client"),
        ("SOCIAL_SECRET_ID", secret_id),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Ok((stand_ins, vars))
}

/// `make dev`: local AWS, bootstrap, and every route of the template under `cargo lambda watch`.
async fn dev() -> Result<()> {
    let moto_port: u16 = std::env::var("MOTO_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(5000);
    let api_port: u16 = std::env::var("API_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(9000);
    let venv_bin = repo_root().join(".venv").join("bin");
    if !venv_bin.join("cargo-lambda").exists() {
        bail!("cargo-lambda is not installed in .venv; run `make dev` (it installs it) or `make venv`");
    }
    let config = config()?;
    let mut moto = Moto::start(Some(moto_port))?;
    let endpoint = moto.endpoint();
    let sdk = local_sdk_config(&endpoint).await;
    bootstrap::local(&sdk, &config).await.context("bootstrapping moto")?;
    // The mailer, fed by the table's stream as Lambda's event source mapping feeds it on AWS
    // (`cargo lambda watch` runs HTTP functions only): every half second, in this process.
    let mailer = std::sync::Arc::new(shared::App::new(config.clone(), &sdk));
    let pump = authctl::outbox::Pump::new(&sdk, config.table_name.clone());
    tokio::spawn(async move {
        loop {
            if let Err(e) = pump.run(&mailer).await {
                eprintln!("authctl: mailer: {e:#}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    });

    // `make dev SOCIAL=local`: the identity stand-ins, with the `default` app's clients at them.
    let social = match std::env::var("AUTH_DEV_SOCIAL").ok().filter(|v| !v.is_empty()).as_deref() {
        None => None,
        Some("local") => Some(local_social(&sdk, &config).await.context("starting the identity stand-ins")?),
        Some(other) => {
            bail!("SOCIAL={other:?}: the one choice is SOCIAL=local (the local identity stand-ins)")
        }
    };

    let path = format!("{}:{}", venv_bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut watch = tokio::process::Command::new("cargo");
    watch
        .args(["lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port", &api_port.to_string()])
        .current_dir(repo_root())
        // The caller's environment passes through; only the AWS endpoint and dummy credentials
        // are forced, so that nothing local ever reaches a real account.
        .env("PATH", path)
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .process_group(0)
        .kill_on_drop(true);
    if let Some((_, vars)) = &social {
        watch.envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    without_cargo_run_env(&mut watch);
    let mut child = watch.spawn().context("starting cargo lambda watch")?;
    let api = format!("http://127.0.0.1:{api_port}");
    println!();
    println!("  API            {api}  (e.g. curl {api}/api/v1/health)");
    println!(
        "  local AWS      {endpoint}  (moto; table {}, secret {})",
        config.table_name, config.signing_key_secret_id
    );
    println!("  sent mail      {endpoint}/moto-api/data.json  (sesv2 messages; see docs/getting-started.md)");
    println!("  JWKS           {api}/.well-known/jwks.json");
    println!("  Ctrl-C stops everything started here. Functions compile on their first request.");
    println!();
    println!("  Your own app: sign up as a developer (the console app), verify, log in, create an app:");
    println!(
        "    curl -s -X POST {api}/apps/console/api/v1/auth/register -H 'content-type: application/json' \\"
    );
    println!("      -d '{{\"email\":\"dev@example.com\",\"password\":\"Vermilion-Kettle-42-Drift\"}}'");
    println!("    (the verification token is in {endpoint}/moto-api/data.json; POST it to");
    println!(
        "     {api}/apps/console/api/v1/auth/verify-email, then log in at .../apps/console/api/v1/auth/login)"
    );
    println!("    curl -s -X POST {api}/api/v1/console/apps -H 'authorization: Bearer <access_token>' \\");
    println!("      -H 'content-type: application/json' -d '{{\"name\":\"Acme\"}}'");
    println!("  Its users then sign up and log in at {api}/apps/<app_id>/api/v1/auth/... (docs/apps.md).");
    println!();
    match &social {
        Some((stand_ins, _)) => {
            let e = &stand_ins.endpoints;
            println!(
                "  Social login against the local stand-ins (Google {}, Apple {}, GitHub {}):",
                e.google, e.apple, e.github
            );
            println!(
                "    open {api}/api/v1/auth/oauth/google in a browser (or .../apple, .../github), sign in"
            );
            println!("    with any address and any password, continue: the page shows your token pair.");
        }
        None => {
            println!("  Social login: `make dev SOCIAL=local` adds local Google, Apple and GitHub stand-ins.")
        }
    }
    println!();

    let outcome = tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        status = child.wait() => match status {
            Ok(s) => Err(anyhow::anyhow!("cargo lambda watch exited ({s})")),
            Err(e) => Err(e.into()),
        },
    };
    if let Some(pid) = child.id() {
        // The whole group: watch and the function processes it started.
        let _ = std::process::Command::new("kill")
            .args(["-s", "TERM", "--", &format!("-{pid}")])
            .stderr(std::process::Stdio::null())
            .status();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), child.wait()).await;
        let _ = std::process::Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{pid}")])
            .stderr(std::process::Stdio::null())
            .status();
    }
    moto.stop();
    drop(social);
    println!("stopped moto and cargo lambda watch");
    outcome
}
