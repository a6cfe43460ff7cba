//! The Lambda Runtime API on loopback, as much of it as a function uses: `GET next` is held until
//! the harness hands out an event, `POST response` / `POST error` / `POST init/error` are recorded
//! with the instant they arrived. One server per function process, so nothing is shared between
//! measurements.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc};

const PREFIX: &str = "/2018-06-01/runtime";

/// What the function sent back for one invocation.
pub struct Answer {
    pub at: Instant,
    /// `response`, `error` or `init_error`.
    pub kind: &'static str,
    pub body: serde_json::Value,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    polled: mpsc::UnboundedReceiver<Instant>,
    events: mpsc::UnboundedSender<(String, Bytes)>,
    answers: mpsc::UnboundedReceiver<Answer>,
    server: tokio::task::JoinHandle<()>,
}

struct Channels {
    polled: mpsc::UnboundedSender<Instant>,
    events: Mutex<mpsc::UnboundedReceiver<(String, Bytes)>>,
    answers: mpsc::UnboundedSender<Answer>,
}

impl RuntimeApi {
    pub async fn start() -> Result<RuntimeApi> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (polled_tx, polled) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let (answers_tx, answers) = mpsc::unbounded_channel();
        let channels =
            Arc::new(Channels { polled: polled_tx, events: Mutex::new(events_rx), answers: answers_tx });
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let channels = channels.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(channels.clone(), req));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(RuntimeApi { addr, polled, events, answers, server })
    }

    /// Waits for the function's next `GET next` (the end of its init, the first time).
    pub async fn polled(&mut self, limit: Duration) -> Result<Instant> {
        match tokio::time::timeout(limit, self.polled.recv()).await {
            Ok(Some(at)) => Ok(at),
            Ok(None) => bail!("runtime API server stopped"),
            Err(_) => bail!("the function did not ask for an event within {limit:?}"),
        }
    }

    /// Hands an event to the waiting `GET next` and waits for the function's answer. Returns the
    /// instant the event was handed over and the answer.
    pub async fn invoke(&mut self, event: &serde_json::Value, limit: Duration) -> Result<(Instant, Answer)> {
        let id = uuid::Uuid::new_v4().to_string();
        let handed = Instant::now();
        self.events.send((id, Bytes::from(event.to_string()))).context("runtime API server stopped")?;
        match tokio::time::timeout(limit, self.answers.recv()).await {
            Ok(Some(answer)) => Ok((handed, answer)),
            Ok(None) => bail!("runtime API server stopped"),
            Err(_) => bail!("the function did not answer within {limit:?}"),
        }
    }

    /// An init error reported before any `GET next`, if there was one.
    pub fn init_error(&mut self) -> Option<Answer> {
        self.answers.try_recv().ok()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(
    channels: Arc<Channels>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(status(404));
    };
    if rest == "/invocation/next" {
        let _ = channels.polled.send(Instant::now());
        let next = channels.events.lock().await.recv().await;
        let Some((id, event)) = next else {
            return Ok(status(410));
        };
        let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
        let response = Response::builder()
            .header("lambda-runtime-aws-request-id", id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            )
            .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
            .header("content-type", "application/json")
            .body(Full::new(event))
            .unwrap_or_else(|_| status(500));
        return Ok(response);
    }
    let kind = if rest == "/init/error" {
        "init_error"
    } else if rest.ends_with("/response") {
        "response"
    } else if rest.ends_with("/error") {
        "error"
    } else {
        return Ok(status(404));
    };
    let at = Instant::now();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let body = serde_json::from_slice(&body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into_owned()));
    let _ = channels.answers.send(Answer { at, kind, body });
    Ok(status(202))
}

fn status(code: u16) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r
}
