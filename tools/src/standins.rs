//! The local identity providers (`tests/stand-ins/providers.mjs`): panva's `oidc-provider` as
//! Google and Apple, and a GitHub stand-in, as one Node child process on loopback ports. The tests
//! and `make dev` point the service's provider URLs at them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The base URLs of the three stand-ins.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Endpoints {
    /// `GOOGLE_ISSUER`.
    pub google: String,
    /// `APPLE_ISSUER`.
    pub apple: String,
    /// `GITHUB_OAUTH_URL` and `GITHUB_API_URL`.
    pub github: String,
}

pub struct StandIns {
    child: Option<Child>,
    pub endpoints: Endpoints,
}

/// Where `npm ci` (a step of `make test` and `make dev`) installs `oidc-provider`.
pub fn directory() -> PathBuf {
    crate::repo_root().join("tests").join("stand-ins")
}

impl StandIns {
    /// Starts the stand-ins on free ports (or the given ones) and waits until all three listen.
    pub fn start(ports: Option<[u16; 3]>) -> Result<StandIns> {
        StandIns::start_with(ports, None)
    }

    /// `start`, with "Apple" named by another host than 127.0.0.1 (`localhost`): another site to
    /// a browser, as Apple is to the service, so that its `form_post` is a cross-site POST.
    pub fn start_with(ports: Option<[u16; 3]>, apple_host: Option<&str>) -> Result<StandIns> {
        let dir = directory();
        if !dir.join("node_modules").join("oidc-provider").is_dir() {
            bail!("{} has no node_modules: run `make stand-ins` (npm ci)", dir.display());
        }
        let mut cmd = Command::new("node");
        cmd.current_dir(&dir).arg("providers.mjs");
        if let Some(host) = apple_host {
            cmd.args(["--apple-host", host]);
        }
        if let Some([google, apple, github]) = ports {
            for (flag, port) in [("--google", google), ("--apple", apple), ("--github", github)] {
                cmd.args([flag, &port.to_string()]);
            }
        }
        // Their warnings and errors go to a file beside the build, for whoever debugs a test.
        let log = std::fs::File::create(std::env::temp_dir().join("auth-stand-ins.log"))
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null());
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(log);
        #[cfg(target_os = "linux")]
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                crate::moto::die_with_parent();
                Ok(())
            });
        }
        let mut child = cmd.spawn().context("starting node (Node.js 20 or later) for the stand-ins")?;
        let stdout = child.stdout.take().context("the stand-ins' output")?;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).context("reading the stand-ins' endpoints")?;
        // oidc-provider logs to stdout as it serves: keep the pipe drained (a closed pipe would
        // kill the process at its next line).
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let endpoints: Endpoints = match serde_json::from_str(line.trim()) {
            Ok(e) => e,
            Err(_) => {
                let _ = child.kill();
                bail!("the stand-ins did not start (printed {line:?})");
            }
        };
        Ok(StandIns { child: Some(child), endpoints })
    }

    /// Leaves them running after this handle is gone (the caller owns their lifetime).
    pub fn detach(mut self) -> Endpoints {
        self.child.take();
        self.endpoints.clone()
    }
}

impl Drop for StandIns {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Dynamic registration (RFC 7591) of a code-flow client at an OpenID Provider stand-in
/// (`issuer`), with `metadata` added to the usual fields: the provider's answer.
async fn register(
    issuer: &str,
    redirect_uri: &str,
    metadata: serde_json::Value,
) -> Result<serde_json::Value> {
    let mut body = serde_json::json!({
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), metadata.as_object()) {
        body.extend(extra.clone());
    }
    let registered: serde_json::Value = reqwest::Client::new()
        .post(format!("{issuer}/reg"))
        .json(&body)
        .send()
        .await
        .with_context(|| format!("registering a client at {issuer}"))?
        .json()
        .await
        .context("the registration's answer")?;
    if !registered["client_id"].is_string() {
        bail!("{issuer} registered no client: {registered}");
    }
    Ok(registered)
}

/// A client of "Google" (or any OpenID Provider stand-in) with one redirect URI and a client
/// secret: (client id, client secret).
pub async fn register_client(issuer: &str, redirect_uri: &str) -> Result<(String, String)> {
    let registered = register(
        issuer,
        redirect_uri,
        serde_json::json!({"token_endpoint_auth_method": "client_secret_basic"}),
    )
    .await?;
    let field = |k: &str| registered[k].as_str().map(str::to_owned).context("a client id and secret");
    Ok((field("client_id")?, field("client_secret")?))
}

/// A Services ID at the "Apple" stand-in, as a developer sets one up at Apple: a P-256 key pair
/// made here, its public half registered with the client (as Apple keeps it) under `key_id` and
/// `team_id`: (client id, the private key as PKCS#8 PEM, Apple's `.p8` file).
pub async fn register_apple_client(
    issuer: &str,
    redirect_uri: &str,
    team_id: &str,
    key_id: &str,
) -> Result<(String, String)> {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| anyhow::anyhow!("making a P-256 key"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| anyhow::anyhow!("reading the P-256 key"))?;
    // The public key is the uncompressed point: 0x04, x, y.
    let point = pair.public_key().as_ref();
    let jwk = serde_json::json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                                 "y": URL_SAFE_NO_PAD.encode(&point[33..65]), "kid": key_id, "alg": "ES256", "use": "sig"});
    let body = STANDARD.encode(pkcs8.as_ref());
    let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"));
    let metadata = serde_json::json!({"token_endpoint_auth_method": "client_secret_post",
                                      "jwks": {"keys": [jwk]}, "team_id": team_id});
    let registered = register(issuer, redirect_uri, metadata).await?;
    Ok((registered["client_id"].as_str().unwrap_or_default().to_owned(), pem))
}
