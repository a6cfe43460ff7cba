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
        let dir = directory();
        if !dir.join("node_modules").join("oidc-provider").is_dir() {
            bail!("{} has no node_modules: run `make stand-ins` (npm ci)", dir.display());
        }
        let mut cmd = Command::new("node");
        cmd.current_dir(&dir).arg("providers.mjs");
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
