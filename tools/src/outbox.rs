//! Feeds a table's DynamoDB stream to the mailer, as Lambda's event source mapping does on AWS:
//! `make dev` runs it in the background, and the tests before they read a mailbox. Records reach
//! the mailer as the JSON event Lambda would deliver (the same filter, `OUTBOX_FILTER`, decides
//! which), so the local path exercises the deployed one's decoding too.

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow};
use aws_config::SdkConfig;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine;
use serde_json::{Map, Value, json};
use shared::App;
use shared::outbox::matches_filter;
use tokio::sync::Mutex;

pub struct Pump {
    dynamodb: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
    table: String,
    /// Per shard, the sequence number of the last record handed over (or passed over).
    positions: Mutex<HashMap<String, String>>,
}

impl Pump {
    pub fn new(sdk: &SdkConfig, table: impl Into<String>) -> Pump {
        Pump {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            streams: aws_sdk_dynamodbstreams::Client::new(sdk),
            table: table.into(),
            positions: Mutex::new(HashMap::new()),
        }
    }

    /// Hands every record written since the last run to the mailer, in order, shard by shard;
    /// returns how many mails it was asked to send. A record the mailer reports as failed stops
    /// its shard there, so that the next run retries it (as Lambda retries a failed record).
    pub async fn run(&self, app: &App) -> Result<usize> {
        let mut positions = self.positions.lock().await;
        let table = self
            .dynamodb
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .context("describing the table")?;
        let Some(arn) = table.table().and_then(|t| t.latest_stream_arn()).map(str::to_owned) else {
            return Err(anyhow!(
                "table {} has no stream (StreamSpecification in infra/template.yaml)",
                self.table
            ));
        };
        let stream =
            self.streams.describe_stream().stream_arn(&arn).send().await.context("describing the stream")?;
        let shards: Vec<String> = stream
            .stream_description()
            .map(|d| d.shards().iter().filter_map(|s| s.shard_id().map(str::to_owned)).collect())
            .unwrap_or_default();
        let mut handed = 0;
        for shard in shards {
            let iterator = match positions.get(&shard) {
                Some(seq) => self
                    .streams
                    .get_shard_iterator()
                    .stream_arn(&arn)
                    .shard_id(&shard)
                    .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                    .sequence_number(seq),
                None => self
                    .streams
                    .get_shard_iterator()
                    .stream_arn(&arn)
                    .shard_id(&shard)
                    .shard_iterator_type(ShardIteratorType::TrimHorizon),
            }
            .send()
            .await
            .context("opening the shard")?
            .shard_iterator;
            let mut iterator = iterator;
            while let Some(it) = iterator.take() {
                let out = self
                    .streams
                    .get_records()
                    .shard_iterator(it)
                    .send()
                    .await
                    .context("reading the stream")?;
                if out.records().is_empty() {
                    break;
                }
                for record in out.records() {
                    let Some(seq) = record.dynamodb().and_then(|d| d.sequence_number()).map(str::to_owned)
                    else {
                        continue;
                    };
                    let event = lambda_event(record, &arn);
                    if matches_filter(&event["Records"][0]) {
                        handed += 1;
                        let event: aws_lambda_events::event::dynamodb::Event =
                            serde_json::from_value(event).context("building the event")?;
                        let response = functions::events::mailer::handle(app, event).await;
                        if !response.batch_item_failures.is_empty() {
                            return Ok(handed);
                        }
                    }
                    positions.insert(shard.clone(), seq);
                }
                iterator = out.next_shard_iterator;
            }
        }
        Ok(handed)
    }
}

/// One stream record as the JSON event Lambda hands a function subscribed to the stream.
fn lambda_event(record: &Record, stream_arn: &str) -> Value {
    let change = record.dynamodb();
    let image = |m: Option<&HashMap<String, AttributeValue>>| {
        Value::Object(m.into_iter().flatten().map(|(k, v)| (k.clone(), attribute(v))).collect::<Map<_, _>>())
    };
    json!({"Records": [{
        "eventID": record.event_id().unwrap_or_default(),
        "eventName": record.event_name().map(|n| n.as_str()).unwrap_or_default(),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region().unwrap_or("us-east-1"),
        "eventSourceARN": stream_arn,
        "dynamodb": {
            "ApproximateCreationDateTime": change.and_then(|c| c.approximate_creation_date_time()).map(|t| t.secs()).unwrap_or_default(),
            "Keys": image(change.and_then(|c| c.keys.as_ref())),
            "NewImage": image(change.and_then(|c| c.new_image.as_ref())),
            "SequenceNumber": change.and_then(|c| c.sequence_number()).unwrap_or_default(),
            "SizeBytes": change.and_then(|c| c.size_bytes()).unwrap_or_default(),
            "StreamViewType": "NEW_IMAGE",
        },
    }]})
}

/// An attribute in DynamoDB's JSON form (`{"S": "..."}`, `{"N": "1"}`, `{"M": {...}}` ...).
fn attribute(v: &AttributeValue) -> Value {
    let b64 = |b: &aws_sdk_dynamodbstreams::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    match v {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(_) => json!({"NULL": true}),
        AttributeValue::B(b) => json!({"B": b64(b)}),
        AttributeValue::Ss(ss) => json!({"SS": ss}),
        AttributeValue::Ns(ns) => json!({"NS": ns}),
        AttributeValue::Bs(bs) => json!({"BS": bs.iter().map(b64).collect::<Vec<_>>()}),
        AttributeValue::L(l) => json!({"L": l.iter().map(attribute).collect::<Vec<_>>()}),
        AttributeValue::M(m) => {
            json!({"M": m.iter().map(|(k, v)| (k.clone(), attribute(v))).collect::<Map<_, _>>()})
        }
        _ => json!({"NULL": true}),
    }
}
