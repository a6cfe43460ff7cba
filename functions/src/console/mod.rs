//! The console API: developers managing their apps, secret keys, social providers and OAuth
//! clients.

pub mod app_delete;
pub mod app_get;
pub mod app_update;
pub mod apps_create;
pub mod apps_list;
pub mod oauth_client_delete;
pub mod oauth_client_get;
pub mod oauth_client_rotate_secret;
pub mod oauth_client_update;
pub mod oauth_clients_create;
pub mod oauth_clients_list;
pub mod provider_delete;
pub mod provider_put;
pub mod providers_list;
pub mod secret_key_revoke;
pub mod secret_keys_create;
pub mod secret_keys_list;
