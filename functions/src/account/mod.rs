//! A signed-in user's own account: the profile, its audit trail, deletion with its grace period,
//! API keys, and the OAuth clients the user consented to.

pub mod api_key_revoke;
pub mod api_key_rotate;
pub mod api_keys_create;
pub mod api_keys_list;
pub mod consent_revoke;
pub mod consents_list;
pub mod deletion_cancel;
pub mod deletion_confirm;
pub mod deletion_request;
pub mod deletion_status;
pub mod me;
pub mod me_audit;
pub mod me_update;
