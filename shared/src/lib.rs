//! The common crate of every function: configuration, the error type, domain rules, crypto, the
//! DynamoDB store, the SES mailer, signing keys and audit. It knows nothing of HTTP or Lambda.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod app;
pub mod audit;
pub mod aws;
pub mod caller;
pub mod config;
pub mod console;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod iam;
pub mod ids;
pub mod keys;
pub mod limits;
pub mod mailer;
pub mod metrics;
pub mod mfa;
pub mod model;
pub mod oauth;
pub mod outbox;
pub mod ratelimit;
pub mod recovery;
pub mod seal;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod social;
pub mod store;
pub mod tenant;
pub mod tokens;

pub use app::App;
pub use error::{Error, Result};
pub use ids::{AppId, SessionId, UserId};
pub use tenant::Tenant;
