//! A user's own account: the profile, the audit trail, deletion, API keys.

mod account_deletion;
mod api_keys;
mod audit_trail;
mod profile;
