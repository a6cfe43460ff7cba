//! Every setting of the service, read from the environment once per cold start.
//!
//! Parsing is strict: a value that is present but malformed stops the cold start with a message that
//! names the variable, because a typo in `ACCESS_TOKEN_TTL_SECONDS` silently falling back to a default
//! would be a security bug that nobody notices.

use std::collections::HashMap;
use std::time::Duration;

use crate::keys::KeyAlgorithm;
use crate::settings::AppSettings;
pub use crate::settings::PasswordPolicyKind;

/// What the deployment sets: where things are, how tokens are signed, how long AWS calls may take.
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub signing_key_secret_id: String,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// Algorithm of newly generated signing keys; tokens are always verified with the algorithm
    /// recorded next to their key, never with the one a token header asks for.
    pub jwt_algorithm: KeyAlgorithm,
    /// The longest a session lives from its login, however often it is refreshed.
    pub session_max_lifetime: Duration,
    /// How long an OAuth grant lives from its consent, however often its refresh token rotates.
    pub oauth_grant_max_lifetime: Duration,
    /// A session unused (not refreshed) for this long ends; `None` when off.
    pub session_idle_timeout: Option<Duration>,
    /// How long a just-rotated refresh token may be presented again without counting as theft.
    pub refresh_reuse_grace: Duration,
    /// How long a container keeps the key ring before reading it again (a rotated-in key signs
    /// everywhere within this bound; an unknown `kid` triggers an earlier read).
    pub key_cache: Duration,
    pub verify_token_ttl: Duration,
    pub reset_token_ttl: Duration,
    pub magic_link_ttl: Duration,
    pub deletion_grace: Duration,
    pub deletion_token_ttl: Duration,
    /// Consecutive failed password checks after which an account's password sign-in is refused
    /// (429 before any hashing) until its owner signs in another way.
    pub login_max_consecutive_failures: u32,
    pub rate_limits: bool,
    /// Requests per minute of each rate-limited route (`RATE_LIMIT_<ROUTE>`).
    pub rate_limit_per_minute: Vec<(crate::limits::Route, u32)>,
    pub refresh_token_cookie: bool,
    pub mail_from: String,
    /// The KMS key (id, ARN or alias) that seals link tokens waiting in the mail outbox.
    pub outbox_key_id: String,
    pub audit_retention_days: u32,
    /// The `default` app's settings (the wave-1 variables); other apps store their own.
    pub default_app: AppSettings,
    /// Seconds an AWS call may take before it counts as a failed dependency.
    pub aws_timeout: Duration,
    /// How long a container keeps an app's settings before reading them again.
    pub app_cache: Duration,
    pub max_apps_per_developer: u32,
    /// Whether anyone may sign up as a developer (the `console` app).
    pub console_signup: bool,
    /// Live (unexpired) API keys one user may hold at a time: at most 45, so that a password
    /// reset deletes every one (an item and an entry each) in its one transaction.
    pub max_api_keys_per_user: u32,
    /// The longest an API key may live, and the lifetime of one created without `expires_at`.
    pub api_key_max_ttl: Duration,
    /// Where the identity providers are, and the `default` app's client ids.
    pub social: SocialConfig,
}

pub use crate::error::ConfigError;

/// What the deployment says about the providers: where they are (the real ones by default; the
/// tests and `make dev` point these at local stand-ins) and the `default` app's client ids. The
/// client secrets live in Secrets Manager (`SOCIAL_SECRET_ID`), never in the environment.
#[derive(Debug, Clone)]
pub struct SocialConfig {
    pub google_issuer: String,
    pub apple_issuer: String,
    pub github_oauth_url: String,
    pub github_api_url: String,
    pub google_client_id: Option<String>,
    pub github_client_id: Option<String>,
    pub apple_client_id: Option<String>,
    /// Apple's client secret is a JWT the service signs: its issuer is the team id, its `kid` the
    /// key's id (the private key is in the social secret).
    pub apple_team_id: Option<String>,
    pub apple_key_id: Option<String>,
    /// Audiences of the `default` app's native clients' ID tokens (an iOS or Android client id,
    /// an Apple bundle id), accepted beside the client id.
    pub google_extra_client_ids: Vec<String>,
    pub apple_extra_client_ids: Vec<String>,
    pub secret_id: Option<String>,
    /// The KMS key (id, ARN or alias) that seals the client secrets and keys apps configure
    /// through the console (`PROVIDER_KEY_ID`).
    pub provider_key_id: String,
    /// How long a started sign-in may take at the provider (`OAUTH_STATE_TTL_SECONDS`).
    pub state_lifetime: Duration,
    /// How long an authorization code of the apps' OAuth providers lives (`OAUTH_CODE_TTL_SECONDS`).
    pub code_lifetime: Duration,
    /// How long a browser stays signed in at the providers' login page
    /// (`OAUTH_BROWSER_SESSION_SECONDS`).
    pub browser_session_lifetime: Duration,
}

/// Every variable the service reads, with its default, in the order `docs/configuration.md` documents them.
/// That chapter's table and this list are checked against each other by a test.
pub const VARIABLES: &[(&str, &str)] = &[
    ("TABLE_NAME", "auth"),
    ("SIGNING_KEY_SECRET_ID", "auth/signing-keys"),
    ("JWT_ISSUER", "http://127.0.0.1:9000"),
    ("JWT_AUDIENCE", "auth-api"),
    ("JWT_ALGORITHM", "RS256"),
    ("ACCESS_TOKEN_TTL_SECONDS", "3600"),
    ("REFRESH_TOKEN_TTL_SECONDS", "2592000"),
    ("REFRESH_REUSE_GRACE_SECONDS", "10"),
    ("SESSION_MAX_LIFETIME_SECONDS", "7776000"),
    ("SESSION_IDLE_TIMEOUT_SECONDS", "0"),
    ("VERIFY_TOKEN_TTL_SECONDS", "86400"),
    ("RESET_TOKEN_TTL_SECONDS", "86400"),
    ("MAGIC_LINK_TTL_SECONDS", "600"),
    ("DELETION_GRACE_SECONDS", "2592000"),
    ("DELETION_TOKEN_TTL_SECONDS", "86400"),
    ("MAX_SESSIONS_PER_USER", "5"),
    ("LOGIN_MAX_CONSECUTIVE_FAILURES", "100"),
    ("PASSWORD_POLICY", "default"),
    ("PREVENT_USER_EXISTENCE_ERRORS", "false"),
    ("RATE_LIMITS", "on"),
    ("REFRESH_TOKEN_COOKIE", "false"),
    ("CORS_ALLOWED_ORIGINS", ""),
    ("MAIL_FROM", "no-reply@auth.local"),
    ("OUTBOX_KEY_ID", "alias/auth-outbox"),
    ("FRONTEND_URL", "http://localhost:3000"),
    ("APP_NAME", "Auth"),
    ("MAIL_FROM_NAME", ""),
    ("SIGNUP_ENABLED", "true"),
    ("SESSION_SCOPES", "read write"),
    ("API_KEY_SCOPES", "read write tasks:read tasks:write"),
    ("REDIRECT_URLS", ""),
    ("AUDIT_RETENTION_DAYS", "90"),
    ("AWS_TIMEOUT_SECONDS", "5"),
    ("KEY_CACHE_SECONDS", "300"),
    ("APP_CACHE_SECONDS", "30"),
    ("MAX_APPS_PER_DEVELOPER", "10"),
    ("CONSOLE_SIGNUP", "open"),
    ("MAX_API_KEYS_PER_USER", "25"),
    ("API_KEY_MAX_TTL_DAYS", "365"),
    ("LINK_SOCIAL_BY_EMAIL", "verified"),
    ("NATIVE_NONCE_REQUIRED", "true"),
    ("MFA", "off"),
    ("MFA_METHODS", "totp webauthn recovery_code"),
    ("PASSKEYS", "off"),
    ("WEBAUTHN_RP_ID", ""),
    ("WEBAUTHN_ORIGINS", ""),
    ("OAUTH_RESOURCES", ""),
    ("OAUTH_GRANT_MAX_LIFETIME_SECONDS", "7776000"),
    ("GOOGLE_ISSUER", "https://accounts.google.com"),
    ("APPLE_ISSUER", "https://appleid.apple.com"),
    ("GITHUB_OAUTH_URL", "https://github.com"),
    ("GITHUB_API_URL", "https://api.github.com"),
    ("GOOGLE_CLIENT_ID", ""),
    ("GITHUB_CLIENT_ID", ""),
    ("APPLE_CLIENT_ID", ""),
    ("APPLE_TEAM_ID", ""),
    ("APPLE_KEY_ID", ""),
    ("GOOGLE_EXTRA_CLIENT_IDS", ""),
    ("APPLE_EXTRA_CLIENT_IDS", ""),
    ("SOCIAL_SECRET_ID", ""),
    ("PROVIDER_KEY_ID", "alias/auth-providers"),
    ("OAUTH_STATE_TTL_SECONDS", "600"),
    ("OAUTH_CODE_TTL_SECONDS", "120"),
    ("OAUTH_BROWSER_SESSION_SECONDS", "86400"),
];

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads from a map: tests give each app its own settings without touching the process
    /// environment, which the parallel test threads share.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| vars.get(name).cloned())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let r = Reader { lookup: &lookup };
        let config = Config {
            table_name: r.string("TABLE_NAME")?,
            signing_key_secret_id: r.string("SIGNING_KEY_SECRET_ID")?,
            jwt_issuer: r.string("JWT_ISSUER")?.trim_end_matches('/').to_owned(),
            jwt_audience: r.string("JWT_AUDIENCE")?,
            jwt_algorithm: r.parse("JWT_ALGORITHM", |v| {
                KeyAlgorithm::parse(v).ok_or_else(|| "expected RS256 or EdDSA".to_owned())
            })?,
            session_max_lifetime: r.seconds("SESSION_MAX_LIFETIME_SECONDS")?,
            oauth_grant_max_lifetime: r.seconds("OAUTH_GRANT_MAX_LIFETIME_SECONDS")?,
            session_idle_timeout: r
                .number("SESSION_IDLE_TIMEOUT_SECONDS", 0)
                .map(|n| (n > 0).then(|| Duration::from_secs(n.into())))?,
            refresh_reuse_grace: r
                .number("REFRESH_REUSE_GRACE_SECONDS", 0)
                .map(|n| Duration::from_secs(n.into()))?,
            key_cache: r.number("KEY_CACHE_SECONDS", 0).map(|n| Duration::from_secs(n.into()))?,
            verify_token_ttl: r.seconds("VERIFY_TOKEN_TTL_SECONDS")?,
            reset_token_ttl: r.seconds("RESET_TOKEN_TTL_SECONDS")?,
            magic_link_ttl: r.seconds("MAGIC_LINK_TTL_SECONDS")?,
            deletion_grace: r.seconds("DELETION_GRACE_SECONDS")?,
            deletion_token_ttl: r.seconds("DELETION_TOKEN_TTL_SECONDS")?,
            login_max_consecutive_failures: r.number("LOGIN_MAX_CONSECUTIVE_FAILURES", 1)?,
            rate_limits: r.flag("RATE_LIMITS")?,
            rate_limit_per_minute: crate::limits::Route::all()
                .map(|route| {
                    let name = route.variable();
                    match lookup(&name) {
                        Some(v) if !v.trim().is_empty() => match v.trim().parse::<u32>() {
                            Ok(n) if n >= 1 => Ok((route, n)),
                            _ => Err(ConfigError {
                                name: "RATE_LIMIT_<ROUTE>",
                                problem: format!("{name} must be a whole number of at least 1 (got {v:?})"),
                            }),
                        },
                        _ => Ok((route, route.default_per_minute())),
                    }
                })
                .collect::<Result<_, _>>()?,
            refresh_token_cookie: r.flag("REFRESH_TOKEN_COOKIE")?,
            mail_from: r.string("MAIL_FROM")?,
            outbox_key_id: r.string("OUTBOX_KEY_ID")?,
            audit_retention_days: r.number("AUDIT_RETENTION_DAYS", 1)?,
            aws_timeout: r.seconds("AWS_TIMEOUT_SECONDS")?,
            app_cache: r.number("APP_CACHE_SECONDS", 0).map(|n| Duration::from_secs(n.into()))?,
            max_apps_per_developer: r.number("MAX_APPS_PER_DEVELOPER", 1)?,
            console_signup: r.parse("CONSOLE_SIGNUP", |v| match v.to_ascii_lowercase().as_str() {
                "open" => Ok(true),
                "closed" => Ok(false),
                _ => Err("expected open or closed".to_owned()),
            })?,
            // A status change of a user writes onto each live key in one transaction (at most 100
            // items, beside the user, the token, the audit event, the mail and sessions).
            max_api_keys_per_user: r.bounded("MAX_API_KEYS_PER_USER", 1, 45)?,
            api_key_max_ttl: r
                .bounded("API_KEY_MAX_TTL_DAYS", 1, 3650)
                .map(|days| Duration::from_secs(u64::from(days) * 86_400))?,
            social: SocialConfig {
                google_issuer: r.url("GOOGLE_ISSUER")?,
                apple_issuer: r.url("APPLE_ISSUER")?,
                github_oauth_url: r.url("GITHUB_OAUTH_URL")?,
                github_api_url: r.url("GITHUB_API_URL")?,
                google_client_id: r.optional("GOOGLE_CLIENT_ID")?,
                github_client_id: r.optional("GITHUB_CLIENT_ID")?,
                apple_client_id: r.optional("APPLE_CLIENT_ID")?,
                apple_team_id: r.optional("APPLE_TEAM_ID")?,
                apple_key_id: r.optional("APPLE_KEY_ID")?,
                google_extra_client_ids: list(&r.string("GOOGLE_EXTRA_CLIENT_IDS")?),
                apple_extra_client_ids: list(&r.string("APPLE_EXTRA_CLIENT_IDS")?),
                secret_id: r.optional("SOCIAL_SECRET_ID")?,
                provider_key_id: r.string("PROVIDER_KEY_ID")?,
                state_lifetime: r
                    .bounded("OAUTH_STATE_TTL_SECONDS", 1, 3600)
                    .map(|s| Duration::from_secs(u64::from(s)))?,
                code_lifetime: r
                    .bounded("OAUTH_CODE_TTL_SECONDS", 1, 600)
                    .map(|s| Duration::from_secs(u64::from(s)))?,
                browser_session_lifetime: r
                    .bounded("OAUTH_BROWSER_SESSION_SECONDS", 60, 30 * 86_400)
                    .map(|s| Duration::from_secs(u64::from(s)))?,
            },
            default_app: AppSettings {
                name: r.string("APP_NAME")?,
                mail_from_name: Some(r.string("MAIL_FROM_NAME")?).filter(|n| !n.is_empty()),
                signup_enabled: r.flag("SIGNUP_ENABLED")?,
                session_scopes: r.string("SESSION_SCOPES")?.split_whitespace().map(str::to_owned).collect(),
                api_key_scopes: r.string("API_KEY_SCOPES")?.split_whitespace().map(str::to_owned).collect(),
                link_social_by_email: r.parse("LINK_SOCIAL_BY_EMAIL", |v| {
                    match v.to_ascii_lowercase().as_str() {
                        "verified" => Ok(crate::settings::LinkByEmail::Verified),
                        "off" => Ok(crate::settings::LinkByEmail::Off),
                        _ => Err("expected verified or off".to_owned()),
                    }
                })?,
                // The `default` app's own OAuth scopes are not set from the environment: it has
                // the standard ones.
                oauth_scopes: Vec::new(),
                oauth_resources: r.parse("OAUTH_RESOURCES", |v| {
                    list(v)
                        .iter()
                        .map(|u| {
                            crate::settings::resource(u)
                                .map_err(|rule| format!("{u}: {rule} (an absolute https URI without query)"))
                        })
                        .collect()
                })?,
                native_nonce_required: r.flag("NATIVE_NONCE_REQUIRED")?,
                redirect_urls: r
                    .string("REDIRECT_URLS")?
                    .split(',')
                    .map(|u| u.trim().trim_end_matches('/').to_owned())
                    .filter(|u| !u.is_empty())
                    .collect(),
                frontend_url: r.string("FRONTEND_URL")?.trim_end_matches('/').to_owned(),
                cors_origins: r
                    .string("CORS_ALLOWED_ORIGINS")?
                    .split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect(),
                password_policy: r.parse("PASSWORD_POLICY", |v| match v.to_ascii_lowercase().as_str() {
                    "default" => Ok(PasswordPolicyKind::Default),
                    "nist" => Ok(PasswordPolicyKind::Nist),
                    _ => Err("expected default or nist".to_owned()),
                })?,
                prevent_user_existence_errors: r.flag("PREVENT_USER_EXISTENCE_ERRORS")?,
                access_token_ttl: r.seconds("ACCESS_TOKEN_TTL_SECONDS")?,
                refresh_token_ttl: r.seconds("REFRESH_TOKEN_TTL_SECONDS")?,
                max_sessions_per_user: r.number("MAX_SESSIONS_PER_USER", 1)?,
                mfa: Default::default(),
                mfa_methods: crate::settings::MfaMethod::all(),
                passkeys: Default::default(),
                webauthn_rp_id: None,
                webauthn_origins: Vec::new(),
            },
        };
        // The `default` app's second-factor settings, under the rules the console applies to
        // every other app's.
        let mfa = serde_json::json!({
            "mfa": r.string("MFA")?.trim().to_ascii_lowercase(),
            "mfa_methods": r.string("MFA_METHODS")?.split([' ', ',']).filter(|m| !m.is_empty()).collect::<Vec<_>>(),
            "passkeys": r.string("PASSKEYS")?.trim().to_ascii_lowercase(),
            "webauthn_rp_id": r.optional("WEBAUTHN_RP_ID")?,
            "webauthn_origins": list(&r.string("WEBAUTHN_ORIGINS")?),
        });
        let mut config = config;
        if let Err(errors) = config.default_app.apply(mfa.as_object().expect("an object")) {
            let (field, rules) = errors.into_iter().next().unwrap_or_default();
            let name =
                VARIABLES.iter().map(|(n, _)| *n).find(|n| n.eq_ignore_ascii_case(&field)).unwrap_or("MFA");
            return Err(ConfigError { name, problem: rules.join(", ") });
        }
        if config.session_idle_timeout.is_some_and(|idle| idle < config.default_app.access_token_ttl) {
            // The idle clock restarts at a refresh, and a client refreshes when its access token
            // runs out: a shorter idle timeout would end the sessions of users busy with the API.
            return Err(ConfigError {
                name: "SESSION_IDLE_TIMEOUT_SECONDS",
                problem: "must be 0 (off) or at least ACCESS_TOKEN_TTL_SECONDS".to_owned(),
            });
        }
        if config.default_app.check_resources(&config.jwt_issuer, &config.jwt_audience).is_err() {
            return Err(ConfigError {
                name: "OAUTH_RESOURCES",
                problem: "must not name the service's own URLs (JWT_ISSUER) or JWT_AUDIENCE".to_owned(),
            });
        }
        if config.default_app.mail_from_name.as_deref().is_some_and(|n| n.chars().any(char::is_control)) {
            // A line break in the sender's display name would be a header injection.
            return Err(ConfigError {
                name: "MAIL_FROM_NAME",
                problem: "must not hold control characters".to_owned(),
            });
        }
        if config.default_app.cors_origins.iter().any(|o| o == "*") {
            // Credentials (the refresh cookie) must never be offered to any origin at all.
            return Err(ConfigError {
                name: "CORS_ALLOWED_ORIGINS",
                problem: "'*' is not allowed; list the origins".to_owned(),
            });
        }
        Ok(config)
    }

    /// The limit of a rate-limited route.
    pub fn rate_limit(&self, route: crate::limits::Route) -> u32 {
        self.rate_limit_per_minute
            .iter()
            .find(|(r, _)| *r == route)
            .map_or(route.default_per_minute(), |(_, n)| *n)
    }

    /// The defaults, as a deployment without any variable set would see them.
    pub fn defaults() -> Self {
        Self::from_lookup(|_| None).expect("the built-in defaults are valid")
    }
}

struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Reader<'_> {
    fn raw(&self, name: &'static str) -> String {
        match (self.lookup)(name) {
            Some(v) if !v.trim().is_empty() => v.trim().to_owned(),
            _ => default_of(name).to_owned(),
        }
    }

    fn string(&self, name: &'static str) -> Result<String, ConfigError> {
        Ok(self.raw(name))
    }

    fn parse<T>(
        &self,
        name: &'static str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let raw = self.raw(name);
        f(&raw).map_err(|problem| ConfigError { name, problem: format!("{problem} (got {raw:?})") })
    }

    fn number(&self, name: &'static str, min: u32) -> Result<u32, ConfigError> {
        self.parse(name, |v| match v.parse::<u32>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(format!("expected a whole number of at least {min}")),
        })
    }

    /// A provider's base URL (an issuer must match its discovery document exactly: kept as given,
    /// without a trailing slash).
    fn url(&self, name: &'static str) -> Result<String, ConfigError> {
        self.parse(name, |v| match url::Url::parse(v) {
            Ok(u) if matches!(u.scheme(), "https" | "http") => Ok(v.trim_end_matches('/').to_owned()),
            _ => Err("expected an absolute http(s) URL".to_owned()),
        })
    }

    /// A value that may be left empty (not configured).
    fn optional(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        Ok(Some(self.string(name)?.trim().to_owned()).filter(|v| !v.is_empty()))
    }

    fn bounded(&self, name: &'static str, min: u32, max: u32) -> Result<u32, ConfigError> {
        self.parse(name, |v| match v.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!("expected a whole number from {min} to {max}")),
        })
    }

    fn seconds(&self, name: &'static str) -> Result<Duration, ConfigError> {
        self.number(name, 1).map(|n| Duration::from_secs(u64::from(n)))
    }

    fn flag(&self, name: &'static str) -> Result<bool, ConfigError> {
        self.parse(name, |v| match v.to_ascii_lowercase().as_str() {
            "true" | "on" | "1" | "yes" => Ok(true),
            "false" | "off" | "0" | "no" => Ok(false),
            _ => Err("expected true/false or on/off".to_owned()),
        })
    }
}

fn default_of(name: &str) -> &'static str {
    VARIABLES.iter().find(|(n, _)| *n == name).map(|(_, d)| *d).unwrap_or_default()
}

/// A comma-separated list, its items trimmed, empty ones dropped.
fn list(raw: &str) -> Vec<String> {
    raw.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_map(&map)
    }

    #[test]
    fn defaults_are_those_documented() {
        let c = Config::defaults();
        assert_eq!(c.default_app.access_token_ttl, Duration::from_secs(3600));
        assert_eq!(c.default_app.refresh_token_ttl, Duration::from_secs(30 * 24 * 3600));
        assert_eq!(c.magic_link_ttl, Duration::from_secs(600));
        assert_eq!(c.default_app.max_sessions_per_user, 5);
        assert_eq!(c.default_app.password_policy, PasswordPolicyKind::Default);
        assert!(c.rate_limits);
        assert!(!c.default_app.prevent_user_existence_errors);
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let err = with(&[("ACCESS_TOKEN_TTL_SECONDS", "soon")]).unwrap_err();
        assert_eq!(err.name, "ACCESS_TOKEN_TTL_SECONDS");
        assert!(with(&[("RATE_LIMITS", "maybe")]).is_err());
        assert!(with(&[("JWT_ALGORITHM", "HS256")]).is_err());
        assert!(with(&[("MAX_SESSIONS_PER_USER", "0")]).is_err());
    }

    #[test]
    fn wildcard_cors_is_refused() {
        assert!(with(&[("CORS_ALLOWED_ORIGINS", "https://a.example, *")]).is_err());
        let c = with(&[("CORS_ALLOWED_ORIGINS", "https://a.example/, https://b.example")]).unwrap();
        assert_eq!(c.default_app.cors_origins, vec!["https://a.example", "https://b.example"]);
    }

    #[test]
    fn overrides_apply() {
        let c =
            with(&[("RATE_LIMITS", "off"), ("JWT_ALGORITHM", "EdDSA"), ("PASSWORD_POLICY", "nist")]).unwrap();
        assert!(!c.rate_limits);
        assert_eq!(c.jwt_algorithm, KeyAlgorithm::EdDsa);
        assert_eq!(c.default_app.password_policy, PasswordPolicyKind::Nist);
    }
}
