//! What each app chooses for itself (contract, "App settings"): plain data, read from the
//! environment for `default` (`config`) and stored for created apps, and the rules a value must
//! meet before it is stored.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::FieldErrors;

/// Which password rules apply (see `API.md`, "Password policy").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PasswordPolicyKind {
    /// 8 to 128 code points, lower case, upper case and a digit, not guessable.
    Default,
    /// NIST SP 800-63B: at least 15 code points, no composition rules, not guessable.
    Nist,
}

/// What each app chooses for itself (contract, "App settings"), under the contract's names: the
/// same shape is stored, shown by the console API and accepted by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSettings {
    /// Shown to the app's users: mails name it in their subject and text.
    pub name: String,
    /// The base of the links in the app's mails.
    pub frontend_url: String,
    /// The exact-match allow-list of social login's `redirect_to`.
    #[serde(default)]
    pub redirect_urls: Vec<String>,
    /// Browser origins that may call the app's routes (and use its refresh cookie).
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// The display name of the mails' sender (the address is the deployment's `MAIL_FROM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_from_name: Option<String>,
    /// False refuses self-service sign-up (403); the management API can still create users.
    pub signup_enabled: bool,
    pub password_policy: PasswordPolicyKind,
    #[serde(rename = "access_token_ttl_seconds", with = "seconds")]
    pub access_token_ttl: Duration,
    #[serde(rename = "refresh_token_ttl_seconds", with = "seconds")]
    pub refresh_token_ttl: Duration,
    pub max_sessions_per_user: u32,
    pub prevent_user_existence_errors: bool,
    /// The `scope` of a login's access token.
    pub session_scopes: Vec<String>,
    /// The scopes the app's users may give their API keys.
    #[serde(default = "default_api_key_scopes")]
    pub api_key_scopes: Vec<String>,
    /// Whether a new social identity joins the account that has its (provider-verified) address.
    #[serde(default)]
    pub link_social_by_email: LinkByEmail,
    /// The app's own OAuth scopes (it is an OAuth provider to third parties), each with the words
    /// the consent page shows for it.
    #[serde(default)]
    pub oauth_scopes: Vec<OAuthScope>,
    /// The resource servers (RFC 8707 `resource`, absolute URIs) a client of the app's OAuth
    /// provider may ask a token for: that token's `aud`. Without one a token's audience is
    /// `<issuer>/oauth`, never a session token's.
    #[serde(default)]
    pub oauth_resources: Vec<String>,
    /// Whether a native sign-in with a provider's ID token (`POST /oauth/{provider}/token`) must
    /// carry the `nonce` the app put in the token's request: without it a token taken from
    /// another app's sign-in could be replayed here.
    #[serde(default = "yes")]
    pub native_nonce_required: bool,
    /// Whether the app's users sign in with a second factor: `off`, `optional`, `required`.
    #[serde(default)]
    pub mfa: MfaMode,
    /// The second factors the app's users may enrol and use.
    #[serde(default = "MfaMethod::all")]
    pub mfa_methods: Vec<MfaMethod>,
    /// Passwordless sign-in with a discoverable WebAuthn credential.
    #[serde(default)]
    pub passkeys: Switch,
    /// The WebAuthn relying party id (a registrable domain, `localhost` locally); without it
    /// security keys and passkeys are unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webauthn_rp_id: Option<String>,
    /// The exact origins a WebAuthn ceremony may come from (each on the relying party id).
    #[serde(default)]
    pub webauthn_origins: Vec<String>,
}

/// `mfa`: `off` (the default), `optional` (users may enrol), `required` (every sign-in needs a
/// second factor, and a user without one enrols before the first token).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum MfaMode {
    #[default]
    Off,
    Optional,
    Required,
}

/// One of `mfa_methods`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::EnumString, strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MfaMethod {
    Totp,
    Webauthn,
    RecoveryCode,
}

impl MfaMethod {
    pub fn all() -> Vec<MfaMethod> {
        vec![MfaMethod::Totp, MfaMethod::Webauthn, MfaMethod::RecoveryCode]
    }
}

/// A setting that is `off` or `on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, strum::EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Switch {
    #[default]
    Off,
    On,
}

impl AppSettings {
    /// Whether the app lets its users enrol and use `method`.
    pub fn allows(&self, method: MfaMethod) -> bool {
        self.mfa != MfaMode::Off && self.mfa_methods.contains(&method)
    }
}

fn yes() -> bool {
    true
}

/// One of an app's own OAuth scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthScope {
    pub name: String,
    pub description: String,
}

/// The scopes of OpenID Connect that every app offers, and the words the consent page shows.
pub const STANDARD_SCOPES: [(&str, &str); 4] = [
    ("openid", "Know who you are (your user id)"),
    ("profile", "See your profile: your name"),
    ("email", "See your email address"),
    ("offline_access", "Stay connected when you are not using it"),
];

impl AppSettings {
    /// Every scope an OAuth client of the app may be given: the standard ones and the app's own.
    pub fn offered_scopes(&self) -> impl Iterator<Item = (&str, &str)> {
        STANDARD_SCOPES
            .into_iter()
            .chain(self.oauth_scopes.iter().map(|s| (s.name.as_str(), s.description.as_str())))
    }
}

/// `link_social_by_email`: `verified` (the default) links a new social identity to the account
/// with the address the provider vouches for; `off` answers 409 `identity_conflict` instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkByEmail {
    #[default]
    Verified,
    Off,
}

/// The contract's default of `api_key_scopes` (also for apps stored before the setting existed).
pub fn default_api_key_scopes() -> Vec<String> {
    ["read", "write", "tasks:read", "tasks:write"].map(str::to_owned).to_vec()
}

mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

/// Bounds of the numeric settings an app may choose.
const ACCESS_TTL: (u64, u64) = (60, 24 * 3600);
const REFRESH_TTL: (u64, u64) = (300, 365 * 24 * 3600);
const MAX_SESSIONS: (u64, u64) = (1, 100);
const MAX_URLS: usize = 20;

impl AppSettings {
    /// Applies the settings a request names (the contract's field names, at the top level of its
    /// body), each checked by its rule; fields it does not name keep their value. Every broken rule
    /// is reported under its field, and nothing is applied unless all hold.
    pub fn apply(&mut self, fields: &Map<String, Value>) -> Result<(), FieldErrors> {
        let mut next = self.clone();
        let mut errors = FieldErrors::new();
        let mut fail = |field: &str, rule: &str| {
            errors.entry(field.to_owned()).or_default().push(rule.to_owned());
        };
        for (field, value) in fields {
            match field.as_str() {
                "name" => match text(value, 1, 100) {
                    Ok(v) => next.name = v,
                    Err(rule) => fail(field, rule),
                },
                "mail_from_name" => match value {
                    Value::Null => next.mail_from_name = None,
                    v => match text(v, 1, 100) {
                        Ok(v) => next.mail_from_name = Some(v),
                        Err(rule) => fail(field, rule),
                    },
                },
                "frontend_url" => match value.as_str().ok_or("must_be_string").and_then(app_url) {
                    Ok(url) => next.frontend_url = url,
                    Err(rule) => fail(field, rule),
                },
                "redirect_urls" => match list(value, app_url) {
                    Ok(urls) => next.redirect_urls = urls,
                    Err(rule) => fail(field, rule),
                },
                "cors_origins" => match list(value, origin) {
                    Ok(origins) => next.cors_origins = origins,
                    Err(rule) => fail(field, rule),
                },
                "signup_enabled" => match value.as_bool() {
                    Some(b) => next.signup_enabled = b,
                    None => fail(field, "must_be_boolean"),
                },
                "prevent_user_existence_errors" => match value.as_bool() {
                    Some(b) => next.prevent_user_existence_errors = b,
                    None => fail(field, "must_be_boolean"),
                },
                "password_policy" => match value.as_str() {
                    Some("default") => next.password_policy = PasswordPolicyKind::Default,
                    Some("nist") => next.password_policy = PasswordPolicyKind::Nist,
                    _ => fail(field, "must_be_default_or_nist"),
                },
                "access_token_ttl_seconds" => match number(value, ACCESS_TTL) {
                    Ok(n) => next.access_token_ttl = Duration::from_secs(n),
                    Err(rule) => fail(field, rule),
                },
                "refresh_token_ttl_seconds" => match number(value, REFRESH_TTL) {
                    Ok(n) => next.refresh_token_ttl = Duration::from_secs(n),
                    Err(rule) => fail(field, rule),
                },
                "max_sessions_per_user" => match number(value, MAX_SESSIONS) {
                    Ok(n) => next.max_sessions_per_user = n as u32,
                    Err(rule) => fail(field, rule),
                },
                "session_scopes" => match list(value, scope) {
                    Ok(scopes) if !scopes.is_empty() => next.session_scopes = scopes,
                    Ok(_) => fail(field, "required"),
                    Err(rule) => fail(field, rule),
                },
                "link_social_by_email" => match value.as_str() {
                    Some("verified") => next.link_social_by_email = LinkByEmail::Verified,
                    Some("off") => next.link_social_by_email = LinkByEmail::Off,
                    _ => fail(field, "must_be_verified_or_off"),
                },
                "api_key_scopes" => match list(value, scope) {
                    Ok(scopes) => next.api_key_scopes = scopes,
                    Err(rule) => fail(field, rule),
                },
                "oauth_scopes" => match oauth_scopes(value) {
                    Ok(scopes) => next.oauth_scopes = scopes,
                    Err(rule) => fail(field, rule),
                },
                "oauth_resources" => match list(value, resource) {
                    Ok(resources) => next.oauth_resources = resources,
                    Err(rule) => fail(field, rule),
                },
                "native_nonce_required" => match value.as_bool() {
                    Some(b) => next.native_nonce_required = b,
                    None => fail(field, "must_be_boolean"),
                },
                "mfa" => match value.as_str().and_then(|v| v.parse().ok()) {
                    Some(mode) => next.mfa = mode,
                    None => fail(field, "must_be_off_optional_or_required"),
                },
                "mfa_methods" => match mfa_methods(value) {
                    Ok(methods) => next.mfa_methods = methods,
                    Err(rule) => fail(field, rule),
                },
                "passkeys" => match value.as_str().and_then(|v| v.parse().ok()) {
                    Some(switch) => next.passkeys = switch,
                    None => fail(field, "must_be_off_or_on"),
                },
                "webauthn_rp_id" => match value {
                    Value::Null => next.webauthn_rp_id = None,
                    v => match v.as_str().ok_or("must_be_string").and_then(rp_id) {
                        Ok(id) => next.webauthn_rp_id = Some(id),
                        Err(rule) => fail(field, rule),
                    },
                },
                "webauthn_origins" => match list(value, origin) {
                    Ok(origins) => next.webauthn_origins = origins,
                    Err(rule) => fail(field, rule),
                },
                _ => {}
            }
        }
        if let Err(rule) = webauthn_fits(next.webauthn_rp_id.as_deref(), &next.webauthn_origins) {
            fail("webauthn_origins", rule);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        *self = next;
        Ok(())
    }

    /// A resource server an app registers is its own: never one of the service's own URLs (its
    /// issuers, their OAuth and refresh audiences) nor the session audience, which a token for it
    /// would otherwise impersonate.
    pub fn check_resources(&self, issuer: &str, session_audience: &str) -> Result<(), FieldErrors> {
        let ours = |r: &str| r == issuer || r.starts_with(&format!("{issuer}/")) || r == session_audience;
        if self.oauth_resources.iter().any(|r| ours(r)) {
            let mut errors = FieldErrors::new();
            errors.insert("oauth_resources".into(), vec!["reserved_by_the_service".into()]);
            return Err(errors);
        }
        Ok(())
    }

    /// The refresh cookie and the idle timeout assume an access token never outlives its refresh
    /// token; a pair of settings that would is refused under both names.
    pub fn check_lifetimes(&self) -> Result<(), FieldErrors> {
        if self.access_token_ttl > self.refresh_token_ttl {
            let mut errors = FieldErrors::new();
            errors
                .insert("access_token_ttl_seconds".into(), vec!["must_not_exceed_refresh_token_ttl".into()]);
            return Err(errors);
        }
        Ok(())
    }
}

/// A name shown to people: trimmed, 1 to `max` characters, no control characters (a CR or LF in a
/// mail's display name would be a header injection).
fn text(value: &Value, min: usize, max: usize) -> Result<String, &'static str> {
    let s = value.as_str().ok_or("must_be_string")?.trim();
    let count = s.chars().count();
    if count < min {
        return Err("required");
    }
    if count > max {
        return Err("too_long");
    }
    if s.chars().any(char::is_control) {
        return Err("control_characters");
    }
    Ok(s.to_owned())
}

fn number(value: &Value, (min, max): (u64, u64)) -> Result<u64, &'static str> {
    match value.as_u64() {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(_) => Err("out_of_range"),
        None => Err("must_be_whole_number"),
    }
}

fn list(value: &Value, each: fn(&str) -> Result<String, &'static str>) -> Result<Vec<String>, &'static str> {
    let items = value.as_array().ok_or("must_be_list")?;
    if items.len() > MAX_URLS {
        return Err("too_many");
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let v = each(item.as_str().ok_or("must_be_string")?)?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// An absolute URL an app's mails or redirects may point to: `https` (plain `http` only for
/// `localhost` and `127.0.0.1`), no `*`, no user name or password, no fragment. Returned without
/// a trailing slash.
pub fn app_url(raw: &str) -> Result<String, &'static str> {
    let raw = raw.trim();
    if raw.contains('*') {
        return Err("no_wildcards");
    }
    let url = url::Url::parse(raw).map_err(|_| "must_be_absolute_url")?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1"));
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => return Err("must_be_https"),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must_be_absolute_url");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("no_userinfo");
    }
    if url.fragment().is_some() {
        return Err("no_fragment");
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// An RFC 8707 resource indicator: an app URL without a query (section 2), kept as written but
/// for a trailing slash, so that a token request names it the same way.
pub fn resource(raw: &str) -> Result<String, &'static str> {
    let url = app_url(raw)?;
    if url.contains('?') {
        return Err("no_query");
    }
    Ok(url)
}

/// A browser origin: an app URL with no path, query or fragment (`https://app.example:8443`).
pub fn origin(raw: &str) -> Result<String, &'static str> {
    let url = app_url(raw)?;
    let parsed = url::Url::parse(&url).map_err(|_| "must_be_absolute_url")?;
    if parsed.path() != "/" || parsed.query().is_some() {
        return Err("must_be_origin");
    }
    Ok(parsed.origin().ascii_serialization())
}

/// The app's own OAuth scopes: at most `MAX_URLS` `{name, description}`, names unique and none of
/// the standard ones (whose words are ours).
fn oauth_scopes(value: &Value) -> Result<Vec<OAuthScope>, &'static str> {
    let items = value.as_array().ok_or("must_be_list")?;
    if items.len() > MAX_URLS {
        return Err("too_many");
    }
    let mut out: Vec<OAuthScope> = Vec::with_capacity(items.len());
    for item in items {
        let name = scope(item.get("name").and_then(Value::as_str).ok_or("each_needs_name_and_description")?)?;
        let description = text(item.get("description").ok_or("each_needs_name_and_description")?, 1, 200)?;
        if STANDARD_SCOPES.iter().any(|(s, _)| *s == name) {
            return Err("standard_scope_redefined");
        }
        if out.iter().any(|s| s.name == name) {
            return Err("duplicate_scope");
        }
        out.push(OAuthScope { name, description });
    }
    Ok(out)
}

/// `mfa_methods`: a non-empty list of known methods, each once.
fn mfa_methods(value: &Value) -> Result<Vec<MfaMethod>, &'static str> {
    let items = value.as_array().ok_or("must_be_list")?;
    let mut out = Vec::new();
    for item in items {
        let method: MfaMethod = item
            .as_str()
            .and_then(|v| v.parse().ok())
            .ok_or("each_must_be_totp_webauthn_or_recovery_code")?;
        if !out.contains(&method) {
            out.push(method);
        }
    }
    if out.is_empty() {
        return Err("required");
    }
    Ok(out)
}

/// A WebAuthn relying party id: a lower-case DNS name of at least two labels, or `localhost`
/// (never an IP address, which browsers refuse as an RP id), without scheme, port or path.
pub fn rp_id(raw: &str) -> Result<String, &'static str> {
    let id = raw.trim().to_ascii_lowercase();
    if id == "localhost" {
        return Ok(id);
    }
    if id.parse::<std::net::IpAddr>().is_ok()
        || id.trim_matches(['[', ']']).parse::<std::net::Ipv6Addr>().is_ok()
    {
        return Err("no_ip_address");
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let labels: Vec<&str> = id.split('.').collect();
    if id.len() > 253 || labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) {
        return Err("must_be_domain");
    }
    Ok(id)
}

/// Every WebAuthn origin is on the relying party id (the id itself or a subdomain of it), as the
/// browser demands; origins without an id are refused.
fn webauthn_fits(rp_id: Option<&str>, origins: &[String]) -> Result<(), &'static str> {
    let Some(rp_id) = rp_id else {
        return if origins.is_empty() { Ok(()) } else { Err("needs_webauthn_rp_id") };
    };
    for o in origins {
        let host = url::Url::parse(o).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
            return Err("must_be_on_webauthn_rp_id");
        }
    }
    Ok(())
}

/// An OAuth scope token (RFC 6749 section 3.3): printable ASCII without space, `"` or `\`.
pub fn scope(raw: &str) -> Result<String, &'static str> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
    if ok { Ok(raw.to_owned()) } else { Err("invalid_scope") }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings() -> AppSettings {
        AppSettings {
            name: "Demo".into(),
            frontend_url: "https://demo.example".into(),
            redirect_urls: vec![],
            cors_origins: vec![],
            mail_from_name: None,
            signup_enabled: true,
            password_policy: PasswordPolicyKind::Default,
            access_token_ttl: Duration::from_secs(3600),
            refresh_token_ttl: Duration::from_secs(86400),
            max_sessions_per_user: 5,
            prevent_user_existence_errors: false,
            session_scopes: vec!["read".into(), "write".into()],
            api_key_scopes: default_api_key_scopes(),
            link_social_by_email: LinkByEmail::Verified,
            oauth_scopes: Vec::new(),
            oauth_resources: Vec::new(),
            native_nonce_required: true,
            mfa: MfaMode::Off,
            mfa_methods: MfaMethod::all(),
            passkeys: Switch::Off,
            webauthn_rp_id: None,
            webauthn_origins: Vec::new(),
        }
    }

    #[test]
    fn mfa_settings_are_checked_and_webauthn_origins_sit_on_the_rp_id() {
        let mut s = settings();
        let bad =
            json!({"mfa": "sometimes", "mfa_methods": [], "passkeys": true, "webauthn_rp_id": "127.0.0.1"});
        let errors = s.apply(bad.as_object().unwrap()).unwrap_err();
        assert_eq!(errors["mfa"], vec!["must_be_off_optional_or_required"]);
        assert_eq!(errors["mfa_methods"], vec!["required"]);
        assert_eq!(errors["passkeys"], vec!["must_be_off_or_on"]);
        assert_eq!(errors["webauthn_rp_id"], vec!["no_ip_address"]);
        let off_site = json!({"webauthn_rp_id": "app.example", "webauthn_origins": ["https://evil.example"]});
        let errors = s.apply(off_site.as_object().unwrap()).unwrap_err();
        assert_eq!(errors["webauthn_origins"], vec!["must_be_on_webauthn_rp_id"]);
        let good = json!({"mfa": "required", "mfa_methods": ["totp", "totp", "recovery_code"], "passkeys": "on",
                          "webauthn_rp_id": "App.Example", "webauthn_origins": ["https://login.app.example"]});
        s.apply(good.as_object().unwrap()).unwrap();
        assert_eq!(s.mfa, MfaMode::Required);
        assert_eq!(s.mfa_methods, vec![MfaMethod::Totp, MfaMethod::RecoveryCode]);
        assert!(s.allows(MfaMethod::Totp) && !s.allows(MfaMethod::Webauthn));
        assert_eq!(s.webauthn_rp_id.as_deref(), Some("app.example"));
        assert_eq!(rp_id("localhost"), Ok("localhost".into()));
        assert_eq!(rp_id("https://app.example"), Err("must_be_domain"));
        assert_eq!(rp_id("example"), Err("must_be_domain"));
    }

    #[test]
    fn urls_are_absolute_https_without_wildcards_userinfo_or_fragments() {
        assert_eq!(app_url("https://app.example/"), Ok("https://app.example".into()));
        assert_eq!(app_url("http://localhost:3000/cb"), Ok("http://localhost:3000/cb".into()));
        assert!(app_url("http://127.0.0.1:8080").is_ok());
        assert_eq!(app_url("http://app.example"), Err("must_be_https"));
        assert_eq!(app_url("https://*.app.example"), Err("no_wildcards"));
        assert_eq!(app_url("https://user:pw@app.example"), Err("no_userinfo"));
        assert_eq!(app_url("https://app.example/#x"), Err("no_fragment"));
        assert_eq!(app_url("/relative"), Err("must_be_absolute_url"));
        assert_eq!(app_url("javascript:alert(1)"), Err("must_be_https"));
        assert_eq!(origin("https://app.example:8443/"), Ok("https://app.example:8443".into()));
        assert_eq!(origin("https://app.example/path"), Err("must_be_origin"));
    }

    #[test]
    fn a_patch_applies_all_or_nothing_and_names_each_broken_rule() {
        let mut s = settings();
        let bad = json!({"name": "New", "frontend_url": "http://x.example", "max_sessions_per_user": 0,
                         "mail_from_name": "Evil\r\nBcc: x@y"});
        let errors = s.apply(bad.as_object().unwrap()).unwrap_err();
        assert_eq!(errors["frontend_url"], vec!["must_be_https"]);
        assert_eq!(errors["max_sessions_per_user"], vec!["out_of_range"]);
        assert_eq!(errors["mail_from_name"], vec!["control_characters"]);
        assert_eq!(s, settings(), "nothing applied");
        let good = json!({"name": " New ", "cors_origins": ["https://a.example/"], "password_policy": "nist",
                          "access_token_ttl_seconds": 300, "session_scopes": ["read"]});
        s.apply(good.as_object().unwrap()).unwrap();
        assert_eq!(s.name, "New");
        assert_eq!(s.cors_origins, vec!["https://a.example"]);
        assert_eq!(s.password_policy, PasswordPolicyKind::Nist);
        assert_eq!(s.access_token_ttl, Duration::from_secs(300));
        assert_eq!(s.session_scopes, vec!["read"]);
    }

    #[test]
    fn settings_are_stored_and_shown_under_the_contracts_names() {
        let v = serde_json::to_value(settings()).unwrap();
        assert_eq!(v["access_token_ttl_seconds"], 3600);
        assert_eq!(v["password_policy"], "default");
        let back: AppSettings = serde_json::from_value(v).unwrap();
        assert_eq!(back, settings());
    }
}
