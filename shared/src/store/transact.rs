//! Transaction and conditional-write helpers: conditions on the user, single-use tokens, the
//! outcome of a conditional write, and DynamoDB failing as `Error::Dependency`.

use super::items::{CREDENTIAL_VERSION, delete_item, internal, n, s};
use super::keys;
use crate::error::{Error, Result};
use crate::ids::{AppId, UserId};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};
use chrono::{DateTime, Utc};

pub(super) const DYNAMODB: &str = "DynamoDB";

/// A single-use token's deletion, only while it exists and has not expired: what consuming one is.
pub(super) fn consume_live_token(
    table: &str,
    tenant: &AppId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<TransactWriteItem> {
    let live = ("attribute_exists(pk) AND expires_at > :now", ":now", n(now.timestamp()));
    delete_item(table, keys::token(tenant, token_hash), keys::TOKEN, Some(live))
}

/// A condition on the user item, as a transaction item: it exists, is active and, with a
/// `version`, is still at that credential version. Session starts and rotations, and the OAuth
/// grants' codes and refreshes, carry it, so that none commits after the credential it was checked
/// against has changed or the account was disabled.
pub(super) fn user_state_check(
    table: &str,
    tenant: &AppId,
    user_id: &UserId,
    version: Option<u64>,
) -> Result<TransactWriteItem> {
    let mut check = ConditionCheck::builder()
        .table_name(table)
        .key("pk", s(keys::user(tenant, user_id)))
        .key("sk", s(keys::PROFILE))
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":active", s("active"));
    check = match version {
        // Accounts stored before credential versions existed have none: version 0.
        Some(0) => check.condition_expression(
            "attribute_exists(pk) AND #status = :active AND (attribute_not_exists(#cv) OR #cv = :cv)",
        ),
        Some(_) => check.condition_expression("attribute_exists(pk) AND #status = :active AND #cv = :cv"),
        None => check.condition_expression("attribute_exists(pk) AND #status = :active"),
    };
    if let Some(version) = version {
        check = check
            .expression_attribute_names("#cv", CREDENTIAL_VERSION)
            .expression_attribute_values(":cv", n(version as i64));
    }
    Ok(TransactWriteItem::builder().condition_check(check.build().map_err(internal)?).build())
}

/// A transaction holds at most 100 items.
pub(super) const MAX_TRANSACTION_ITEMS: usize = 100;

/// The outcome of a single conditional write: `false` when its condition did not hold (an
/// outcome, not an error), the store unavailable for anything else.
pub(super) fn condition_held<O, E, R>(result: std::result::Result<O, SdkError<E, R>>) -> Result<bool>
where
    E: std::error::Error + Send + Sync + 'static + ConditionalFailure,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(ConditionalFailure::is_condition_failed) => Ok(false),
        Err(e) => Err(unavailable(e)),
    }
}

/// The service errors of DynamoDB's single-item writes that say the condition did not hold.
pub(super) trait ConditionalFailure {
    fn is_condition_failed(&self) -> bool;
}

impl ConditionalFailure for aws_sdk_dynamodb::operation::update_item::UpdateItemError {
    fn is_condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionalFailure for aws_sdk_dynamodb::operation::delete_item::DeleteItemError {
    fn is_condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionalFailure for aws_sdk_dynamodb::operation::put_item::PutItemError {
    fn is_condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

/// Any SDK failure (throttling, timeout, network, 5xx) makes the store unavailable for this
/// request. The SDK's error, kept as the source, goes to the log line only.
pub(super) fn unavailable<E, R>(e: SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Error::dependency(DYNAMODB, e)
}
