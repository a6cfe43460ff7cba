//! The functions that answer no HTTP route: the Lambda authorizer, the outbox's mailer, the
//! scheduled purge of deleted accounts.

pub mod authorizer;
pub mod mailer;
pub mod purge_accounts;
