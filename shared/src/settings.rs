//! What each app chooses for itself (contract, "App settings"): plain data, read from the
//! environment for `default` (`config`) and stored for created apps.

use std::time::Duration;

/// Which password rules apply (see `API.md`, "Password policy").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordPolicyKind {
    /// 8 to 128 code points, lower case, upper case and a digit, not guessable.
    Default,
    /// NIST SP 800-63B: at least 15 code points, no composition rules, not guessable.
    Nist,
}

/// What each app chooses for itself (contract, "App settings").
#[derive(Debug, Clone, PartialEq)]
pub struct AppSettings {
    /// The base of the links in the app's mails.
    pub frontend_url: String,
    /// Browser origins that may call the app's routes (and use its refresh cookie).
    pub cors_origins: Vec<String>,
    pub password_policy: PasswordPolicyKind,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub max_sessions_per_user: u32,
    pub prevent_user_existence_errors: bool,
}
