//! What each function asks of AWS, recorded the way IAM authorizes it, so that a check after the
//! test suite (`authctl iam-check`, part of `make test`) can hold every function's policy in
//! `infra/template.yaml` to the calls the code really makes. moto enforces no IAM: without this a
//! missing grant (login's `BatchGetItem` once) only shows on a deployed stack, as a 503 for every
//! request.
//!
//! IAM does not authorize API operations one to one: a `TransactWriteItems` is authorized item by
//! item as `PutItem`, `UpdateItem`, `DeleteItem` or `ConditionCheckItem` (there is no IAM action
//! for the transaction itself), a `TransactGetItems` as `GetItem`s, and a `Query` on an index
//! against the index's ARN. The interceptors below translate each request into those pairs from
//! the typed input, before it is serialised, so a retried or failed call counts too: the code
//! needed the permission either way.
//!
//! Recording is off unless `AUTH_IAM_RECORD_DIR` is set; then every process appends each distinct
//! (function, action, resource, condition) it sees, once, as a JSON line to `<dir>/<pid>.jsonl`.
//! Tests run in many processes (nextest, `cargo lambda watch`), so the union is taken by the check.

use std::collections::HashSet;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, Input,
};
use aws_smithy_types::config_bag::ConfigBag;

/// The environment variable naming the folder the records go to.
pub const RECORD_DIR_VAR: &str = "AUTH_IAM_RECORD_DIR";

/// The template's names for the resources a policy grants on. The check maps the template's
/// `!GetAtt Table.Arn`, `!Sub "${Table.Arn}/index/gsi1"` and `!Ref SigningKeys` to the same names.
pub mod resource {
    pub const TABLE: &str = "Table";
    pub const SIGNING_KEYS: &str = "SigningKeys";
    /// The identity providers' client secrets of the `default` app (`SOCIAL_SECRET_ID`).
    pub const SOCIAL_SECRET: &str = "SocialSecret";
    /// The KMS key that seals the outbox's link tokens.
    pub const OUTBOX_KEY: &str = "OutboxKey";
    /// The KMS key that seals the apps' identity-provider secrets.
    pub const PROVIDER_KEY: &str = "ProviderKey";
    /// SES identities: the template grants `*` with a condition on the sender.
    pub const MAIL_IDENTITY: &str = "*";
    /// The value of `ses:FromAddress` when the sender is the deployment's `MAIL_FROM` (the
    /// template's `MailFrom` parameter).
    pub const MAIL_FROM: &str = "MailFrom";

    pub fn table_index(index: &str) -> String {
        format!("{TABLE}/index/{index}")
    }
}

tokio::task_local! {
    /// The function a request is served by, when several share one process (the tests drive
    /// every handler in-process).
    static FUNCTION: &'static str;
}

static PROCESS_FUNCTION: OnceLock<&'static str> = OnceLock::new();

/// Names the function this process is (a Lambda binary is exactly one).
pub fn set_process_function(name: &'static str) {
    let _ = PROCESS_FUNCTION.set(name);
}

/// Runs `fut` as the function `name`: the AWS calls it makes are recorded for that function.
pub async fn as_function<F: Future>(name: &'static str, fut: F) -> F::Output {
    FUNCTION.scope(name, fut).await
}

fn current_function() -> Option<&'static str> {
    FUNCTION.try_with(|f| *f).ok().or_else(|| PROCESS_FUNCTION.get().copied())
}

/// One thing IAM must allow for a call to go through.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Need {
    pub action: String,
    pub resource: String,
    /// A condition key and the value the request gives it (`ses:FromAddress`, `MailFrom`).
    pub condition: Option<(&'static str, String)>,
}

impl Need {
    fn new(action: impl Into<String>, resource: impl Into<String>) -> Need {
        Need { action: action.into(), resource: resource.into(), condition: None }
    }
}

struct Recorder {
    dir: Option<PathBuf>,
    seen: Mutex<HashSet<(&'static str, Need)>>,
}

fn recorder() -> &'static Recorder {
    static RECORDER: OnceLock<Recorder> = OnceLock::new();
    RECORDER.get_or_init(|| Recorder {
        dir: std::env::var_os(RECORD_DIR_VAR).filter(|d| !d.is_empty()).map(PathBuf::from),
        seen: Mutex::new(HashSet::new()),
    })
}

/// Whether records are being written (so interceptors skip the work when not).
fn enabled() -> bool {
    recorder().dir.is_some()
}

fn record(needs: Vec<Need>) {
    let rec = recorder();
    let (Some(dir), Some(function)) = (rec.dir.as_ref(), current_function()) else { return };
    let mut lines = String::new();
    if let Ok(mut seen) = rec.seen.lock() {
        for need in needs {
            if seen.insert((function, need.clone())) {
                let line = serde_json::json!({
                    "function": function,
                    "action": need.action,
                    "resource": need.resource,
                    "condition": need.condition.map(|(k, v)| serde_json::json!({"key": k, "value": v})),
                });
                lines.push_str(&line.to_string());
                lines.push('\n');
            }
        }
    }
    if lines.is_empty() {
        return;
    }
    // Best effort: a record that cannot be written makes the check fail for want of it, which
    // points at the problem; it must never fail the request itself.
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(format!("{}.jsonl", std::process::id()));
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(lines.as_bytes());
    }
}

/// Records a need at the place that makes it certain, not at the SDK call: the key ring is read
/// once per container, so in a process that serves many functions (the tests) only the first
/// function to ask would be seen reading it, though each function's own container reads it.
pub fn need(action: &str, resource: &str) {
    if enabled() {
        record(vec![Need::new(action, resource)]);
    }
}

/// Records that the current function reads app items (`APP#*`) of the table: where the app cache
/// is, since in a process that serves many functions (the tests) only the first to resolve an app
/// would be seen reading it, though each function's own container reads it.
/// A read of a secret named with `name_secret`, also when a container serves it from its cache:
/// another container of the function reads it.
pub fn need_secret(secret_id: &str) {
    let named =
        NAMED_SECRETS.lock().ok().and_then(|n| n.iter().find(|(s, _)| s == secret_id).map(|(_, r)| *r));
    if let Some(resource) = named {
        need("secretsmanager:GetSecretValue", resource);
    }
}

pub fn need_app_read() {
    if enabled() {
        let need = Need::new("dynamodb:GetItem", resource::TABLE);
        record(vec![Need { condition: Some(("dynamodb:LeadingKeys", "APP#*".to_owned())), ..need }]);
    }
}

/// What a DynamoDB request needs, from its typed input.
fn dynamodb_needs(input: &Input) -> Vec<Need> {
    use aws_sdk_dynamodb::operation as op;
    let table = |action: &str| Need::new(format!("dynamodb:{action}"), resource::TABLE);
    if let Some(i) = input.downcast_ref::<op::transact_write_items::TransactWriteItemsInput>() {
        return i
            .transact_items()
            .iter()
            .filter_map(|item| {
                if item.put().is_some() {
                    Some(table("PutItem"))
                } else if item.update().is_some() {
                    Some(table("UpdateItem"))
                } else if item.delete().is_some() {
                    Some(table("DeleteItem"))
                } else if item.condition_check().is_some() {
                    Some(table("ConditionCheckItem"))
                } else {
                    None
                }
            })
            .collect();
    }
    if input.downcast_ref::<op::transact_get_items::TransactGetItemsInput>().is_some() {
        return vec![table("GetItem")];
    }
    if let Some(i) = input.downcast_ref::<op::query::QueryInput>() {
        return vec![match i.index_name() {
            Some(index) => Need::new("dynamodb:Query", resource::table_index(index)),
            None => table("Query"),
        }];
    }
    if let Some(i) = input.downcast_ref::<op::scan::ScanInput>() {
        return vec![match i.index_name() {
            Some(index) => Need::new("dynamodb:Scan", resource::table_index(index)),
            None => table("Scan"),
        }];
    }
    if let Some(i) = input.downcast_ref::<op::get_item::GetItemInput>() {
        // The partition read, by its class (`APP#*`, `T#*` ...): a policy may narrow a function's
        // reads with `dynamodb:LeadingKeys` (the ones that only resolve apps read nothing else).
        let pk = i.key().and_then(|k| k.get("pk")).and_then(|v| v.as_s().ok()).map_or("", String::as_str);
        let class = match pk.split_once('#') {
            Some((head, _)) => format!("{head}#*"),
            None => pk.to_owned(),
        };
        return vec![Need { condition: Some(("dynamodb:LeadingKeys", class)), ..table("GetItem") }];
    }
    let simple: [(bool, &str); 7] = [
        (input.downcast_ref::<op::get_item::GetItemInput>().is_some(), "GetItem"),
        (input.downcast_ref::<op::put_item::PutItemInput>().is_some(), "PutItem"),
        (input.downcast_ref::<op::update_item::UpdateItemInput>().is_some(), "UpdateItem"),
        (input.downcast_ref::<op::delete_item::DeleteItemInput>().is_some(), "DeleteItem"),
        (input.downcast_ref::<op::batch_get_item::BatchGetItemInput>().is_some(), "BatchGetItem"),
        (input.downcast_ref::<op::batch_write_item::BatchWriteItemInput>().is_some(), "BatchWriteItem"),
        (input.downcast_ref::<op::describe_table::DescribeTableInput>().is_some(), "DescribeTable"),
    ];
    match simple.iter().find(|(hit, _)| *hit) {
        Some((_, action)) => vec![table(action)],
        // An operation this list does not know still has to show up in the check.
        None => vec![Need::new("dynamodb:<unknown operation>", resource::TABLE)],
    }
}

/// The secrets other than the key ring, by id, with their template resource: a read of one of them
/// is checked against the grant on that resource, not on the key ring.
static NAMED_SECRETS: std::sync::Mutex<Vec<(String, &'static str)>> = std::sync::Mutex::new(Vec::new());

/// Names the template resource of a secret the service reads by id (the social secret).
pub fn name_secret(secret_id: &str, resource: &'static str) {
    if let Ok(mut named) = NAMED_SECRETS.lock()
        && !named.iter().any(|(id, _)| id == secret_id)
    {
        named.push((secret_id.to_owned(), resource));
    }
}

/// What a Secrets Manager request needs: functions read the key ring (or a secret named with
/// `name_secret`), and anything else has to show up in the check.
fn secrets_manager_needs(input: &Input) -> Vec<Need> {
    use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretInput;
    use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueInput;
    let action = if input.downcast_ref::<GetSecretValueInput>().is_some() {
        "secretsmanager:GetSecretValue"
    } else if input.downcast_ref::<DescribeSecretInput>().is_some() {
        "secretsmanager:DescribeSecret"
    } else {
        "secretsmanager:<unknown operation>"
    };
    let secret_id = input
        .downcast_ref::<GetSecretValueInput>()
        .and_then(|i| i.secret_id())
        .or_else(|| input.downcast_ref::<DescribeSecretInput>().and_then(|i| i.secret_id()));
    let named = secret_id.and_then(|id| {
        NAMED_SECRETS.lock().ok().and_then(|n| n.iter().find(|(s, _)| s == id).map(|(_, r)| *r))
    });
    vec![Need::new(action, named.unwrap_or(resource::SIGNING_KEYS))]
}

/// The condition key that holds each KMS grant to the use it is for (the `purpose` pair of the
/// encryption context every sealed value carries).
pub const KMS_PURPOSE: &str = "kms:EncryptionContext:purpose";

/// What a KMS request on the key `key` (its template name) needs: `kms:Encrypt` to seal,
/// `kms:Decrypt` to open (the outbox key: flows seal, only the mailer opens), with the request's
/// `purpose` as the template's condition sees it (none when the request names no purpose).
fn kms_needs(input: &Input, key: &'static str) -> Vec<Need> {
    use aws_sdk_kms::operation::{decrypt::DecryptInput, encrypt::EncryptInput};
    let (action, context) = if let Some(i) = input.downcast_ref::<EncryptInput>() {
        ("kms:Encrypt", i.encryption_context())
    } else if let Some(i) = input.downcast_ref::<DecryptInput>() {
        ("kms:Decrypt", i.encryption_context())
    } else {
        ("kms:<unknown operation>", None)
    };
    let purpose = context.and_then(|c| c.get("purpose")).cloned();
    vec![Need { condition: purpose.map(|p| (KMS_PURPOSE, p)), ..Need::new(action, key) }]
}

/// What an SES v2 request needs: `ses:SendEmail`, with the sender as the template's condition sees
/// it (`ses:FromAddress`; `MailFrom` when it is the deployment's `MAIL_FROM`).
fn ses_needs(input: &Input, mail_from: &str) -> Vec<Need> {
    use aws_sdk_sesv2::operation::send_email::SendEmailInput;
    vec![match input.downcast_ref::<SendEmailInput>() {
        Some(i) => {
            let from = i.from_email_address().unwrap_or_default();
            // `"Display Name" <address>`: SES's `ses:FromAddress` is the address; the display
            // name is a key of its own (`ses:FromDisplayName`).
            let from = match (from.rfind('<'), from.ends_with('>')) {
                (Some(start), true) => &from[start + 1..from.len() - 1],
                _ => from,
            };
            let value = if from == mail_from { resource::MAIL_FROM.to_owned() } else { from.to_owned() };
            Need {
                action: "ses:SendEmail".into(),
                resource: resource::MAIL_IDENTITY.into(),
                condition: Some(("ses:FromAddress", value)),
            }
        }
        None if input
            .downcast_ref::<aws_sdk_sesv2::operation::get_email_identity::GetEmailIdentityInput>()
            .is_some() =>
        {
            Need::new("ses:GetEmailIdentity", resource::MAIL_IDENTITY)
        }
        None => Need::new("ses:<unknown operation>", resource::MAIL_IDENTITY),
    }]
}

/// The interceptor that records a client's needs, by the rule of its service.
pub struct Record<F>(F);

impl<F> std::fmt::Debug for Record<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("iam::Record")
    }
}

impl<F: Fn(&Input) -> Vec<Need> + Send + Sync> Intercept for Record<F> {
    fn name(&self) -> &'static str {
        "RecordIamNeeds"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if enabled() {
            record((self.0)(context.input()));
        }
        Ok(())
    }
}

/// For the DynamoDB client.
pub fn dynamodb() -> impl Intercept + 'static {
    Record(dynamodb_needs)
}

/// For the Secrets Manager client of the key ring.
pub fn secrets_manager() -> impl Intercept + 'static {
    Record(secrets_manager_needs)
}

/// For a KMS client of the key the template names `key`.
pub fn kms(key: &'static str) -> impl Intercept + 'static {
    Record(move |input: &Input| kms_needs(input, key))
}

/// For the SES v2 client sending from `mail_from` (the deployment's `MAIL_FROM`).
pub fn ses(mail_from: String) -> impl Intercept + 'static {
    Record(move |input: &Input| ses_needs(input, &mail_from))
}
