//! DynamoDB calls, counted where they leave the process: an interceptor on the SDK client sees
//! every attempt it transmits (retries included, since each one is billed), so the counts the
//! request log, the benchmark and the cost test report are measured, not estimated.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The operations a client has sent, in order, since it was built. A Lambda container serves one
/// request at a time, so the calls of a request are the difference of two snapshots. Only the
/// latest `KEPT` names are kept: a warm container lives for hours, and the count is what matters.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Calls>>);

#[derive(Debug, Default)]
struct Calls {
    total: usize,
    recent: VecDeque<&'static str>,
}

const KEPT: usize = 256;

impl CallLog {
    /// How many calls have been sent so far.
    pub fn count(&self) -> usize {
        self.0.lock().map(|c| c.total).unwrap_or(0)
    }

    /// The operations sent since the log had `from` calls (`TransactWriteItems`, `GetItem`, ...),
    /// as far as they are still kept.
    pub fn since(&self, from: usize) -> Vec<&'static str> {
        self.0
            .lock()
            .map(|c| {
                let first_kept = c.total - c.recent.len();
                c.recent.iter().skip(from.saturating_sub(first_kept)).copied().collect()
            })
            .unwrap_or_default()
    }

    /// The interceptor to install on a client whose calls this log counts.
    pub fn interceptor(&self) -> CountCalls {
        CountCalls(self.clone())
    }

    fn push(&self, operation: &'static str) {
        if let Ok(mut c) = self.0.lock() {
            c.total += 1;
            if c.recent.len() == KEPT {
                c.recent.pop_front();
            }
            c.recent.push_back(operation);
        }
    }
}

#[derive(Debug)]
pub struct CountCalls(CallLog);

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.push(cfg.load::<Metadata>().map(|m| operation_name(m.name())).unwrap_or("unknown"));
        Ok(())
    }
}

/// Operation names as `&'static str`, so that counting allocates nothing per call.
fn operation_name(name: &str) -> &'static str {
    const KNOWN: [&str; 12] = [
        "Encrypt",
        "Decrypt",
        "GetItem",
        "BatchGetItem",
        "Query",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
        "Scan",
    ];
    KNOWN.into_iter().find(|k| *k == name).unwrap_or("other")
}
