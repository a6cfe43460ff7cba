//! A moto server (PyPI `moto[server]`, installed into `.venv` by the Makefile) as a child process,
//! started through `tools/moto_serve.py`, which makes each DynamoDB request atomic as DynamoDB's
//! are (moto alone applies conditional writes and transactions without a lock).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub struct Moto {
    child: Option<Child>,
    pub port: u16,
}

impl Moto {
    /// Starts moto on 127.0.0.1 (a free port when `port` is `None`) and waits until it answers.
    pub fn start(port: Option<u16>) -> Result<Moto> {
        let port = match port {
            Some(p) => p,
            None => free_port()?,
        };
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            bail!("port {port} on 127.0.0.1 is already in use (is another moto or `make dev` running?)");
        }
        let server = python_path();
        let mut cmd = Command::new(&server);
        cmd.arg(crate::repo_root().join("tools").join("moto_serve.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Ends with whoever started it, even if that process is killed without cleaning up.
        #[cfg(target_os = "linux")]
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                die_with_parent();
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {} (run `make venv` to install moto)", server.display()))?;
        let mut moto = Moto { child: Some(child), port };
        moto.wait_ready(Duration::from_secs(60))?;
        Ok(moto)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("moto exited during start-up ({status})");
            }
            if http_ok(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("moto did not answer on port {} within {limit:?}", self.port)
    }

    /// Stops moto and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Leaves the server running after this handle is gone (the caller owns its lifetime).
    pub fn detach(mut self) -> u16 {
        self.child.take();
        self.port
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The Python that has moto: `.venv/bin/python` of the repository, or `MOTO_PYTHON` when set.
pub fn python_path() -> PathBuf {
    std::env::var_os("MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join(".venv").join("bin").join("python"))
}

pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// Whether moto answers its own API on this port.
fn http_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req =
        format!("GET /moto-api/reset-auth HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.")
}

/// Asks the kernel to send SIGTERM to the child when its parent thread dies.
#[cfg(target_os = "linux")]
pub(crate) fn die_with_parent() {
    unsafe extern "C" {
        fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    }
    const PR_SET_PDEATHSIG: i32 = 1;
    const SIGTERM: u64 = 15;
    unsafe {
        prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    }
}
