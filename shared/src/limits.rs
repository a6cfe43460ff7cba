//! The rate-limited routes, their names and default limits: plain data that the configuration
//! reads (`RATE_LIMIT_<ROUTE>`) and `ratelimit` counts.

/// The rate-limited routes and their default limits per minute (`API.md`); each can be changed
/// with `RATE_LIMIT_<NAME>` (for example `RATE_LIMIT_LOGIN=10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Route {
    Login,
    Register,
    ResendVerification,
    PasswordReset,
    MagicLink,
    Deletion,
    Refresh,
    VerifyEmail,
    /// Routes that take a mailed token and name no account: per IP only.
    PasswordResetConfirm,
    DeletionConfirm,
    DeletionCancel,
    DeletionStatus,
    /// The console API, per IP and per developer.
    Console,
    /// The management API, per IP and per caller (a secret key, or the owner).
    Admin,
    /// Creating and rotating API keys, per IP and per user.
    ApiKeys,
    /// Social login's start, callback and code exchange, per IP.
    Social,
    /// The OAuth provider's token endpoint, per IP and per client.
    #[strum(serialize = "oauth_token")]
    OAuthToken,
    /// The OAuth provider's pages (authorize, continue, consent, logout), per IP.
    #[strum(serialize = "oauth_pages")]
    OAuthPages,
    /// `GET /health/detailed`, per IP and per caller: each request asks every dependency.
    HealthDetailed,
}

impl Route {
    /// Every rate-limited route.
    pub fn all() -> impl Iterator<Item = Route> {
        <Route as strum::IntoEnumIterator>::iter()
    }

    /// The route's name in counters, logs and its variable (`resend_verification` ...).
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn default_per_minute(self) -> u32 {
        match self {
            Route::Login => 5,
            Route::Register
            | Route::ResendVerification
            | Route::PasswordReset
            | Route::MagicLink
            | Route::Deletion => 3,
            Route::Refresh => 30,
            Route::VerifyEmail
            | Route::PasswordResetConfirm
            | Route::DeletionConfirm
            | Route::DeletionCancel
            | Route::DeletionStatus => 10,
            Route::Console => 60,
            Route::Admin => 600,
            Route::ApiKeys => 10,
            Route::Social => 30,
            Route::OAuthToken => 60,
            Route::OAuthPages => 60,
            Route::HealthDetailed => 30,
        }
    }

    /// The variable that overrides the limit.
    pub fn variable(self) -> String {
        format!("RATE_LIMIT_{}", self.name().to_ascii_uppercase())
    }
}
