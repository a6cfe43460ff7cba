//! OAuth clients, registered by an app's developer through the console: confidential ones (a
//! server that keeps a secret, shown once and stored as its SHA-256) and public ones (browser and
//! native apps, held to PKCE instead), each with exact redirect URIs, the scopes and grants it may
//! use, and whether it is the developer's own (`first_party`: its users are not asked to consent).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::audit::{ClientInfo, EventType};
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{AppId, ClientId};
use crate::model::{ClientSettings, ClientType, GrantType, OAuthClientRecord};
use crate::settings::AppSettings;
use crate::tokens::Identity;

/// The prefix that makes a client secret recognisable (in logs, in code review, to scanners).
pub const SECRET_PREFIX: &str = "ocs_";

const MAX_REDIRECT_URIS: usize = 10;
const MAX_URI_CHARS: usize = 2000;

/// A client as the console shows it: never its secret.
#[derive(Debug, Serialize)]
pub struct ClientView {
    pub client_id: ClientId,
    #[serde(rename = "type")]
    pub client_type: ClientType,
    #[serde(flatten)]
    pub settings: ClientSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_hint: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<OAuthClientRecord> for ClientView {
    fn from(c: OAuthClientRecord) -> Self {
        ClientView {
            client_id: c.client_id,
            client_type: c.client_type,
            settings: c.settings,
            secret_hint: c.secret_hint,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A client with its secret: the answer of its creation and of a rotation, the only times the
/// secret is shown.
#[derive(Debug, Serialize)]
pub struct WithSecret {
    #[serde(flatten)]
    pub client: ClientView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// A redirect URI a client may register (RFC 6749 section 3.1.2, RFC 8252 for native apps): an
/// absolute URI without fragment, wildcard or user info; `https`, plain `http` only on loopback
/// (`localhost`, `127.0.0.1`, `[::1]`), or, for public clients, a private-use scheme in reverse
/// domain form (`com.example.app:/callback`). Kept exactly as given: it is compared as a string.
pub fn redirect_uri(raw: &str, client_type: ClientType) -> std::result::Result<String, &'static str> {
    // Stored as given and compared as a string: nothing a parser would silently drop or a header
    // could not carry.
    if raw.is_empty() || raw.len() > MAX_URI_CHARS || raw.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err("invalid_redirect_uri");
    }
    if raw.contains('*') {
        return Err("no_wildcards");
    }
    let url = url::Url::parse(raw).map_err(|_| "must_be_absolute_uri")?;
    if url.fragment().is_some() || raw.contains('#') {
        return Err("no_fragment");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("no_userinfo");
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(raw.to_owned()),
        "http" if loopback => Ok(raw.to_owned()),
        "http" | "https" => Err("must_be_https"),
        scheme if client_type == ClientType::Public && scheme.contains('.') => Ok(raw.to_owned()),
        _ => Err("must_be_https_or_private_use_scheme"),
    }
}

/// The settings of a new client: the defaults, then the request's fields.
fn new_settings() -> ClientSettings {
    ClientSettings {
        name: String::new(),
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        scopes: ["openid", "profile", "email"].map(str::to_owned).to_vec(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        first_party: false,
        introspect_any: false,
        require_pkce: true,
    }
}

/// Applies the fields a request names to a client's settings, each by its rule, then the rules
/// between fields; nothing is applied unless all hold. `type` is fixed at creation.
pub fn apply(
    settings: &mut ClientSettings,
    client_type: ClientType,
    fields: &Map<String, Value>,
    app: &AppSettings,
) -> std::result::Result<(), FieldErrors> {
    let mut next = settings.clone();
    let mut errors = FieldErrors::new();
    fn push(errors: &mut FieldErrors, field: &str, rule: &str) {
        errors.entry(field.to_owned()).or_default().push(rule.to_owned());
    }
    let uris = |value: &Value| -> std::result::Result<Vec<String>, &'static str> {
        let items = value.as_array().ok_or("must_be_list")?;
        if items.len() > MAX_REDIRECT_URIS {
            return Err("too_many");
        }
        let mut out: Vec<String> = Vec::new();
        for item in items {
            let uri = redirect_uri(item.as_str().ok_or("must_be_string")?, client_type)?;
            if !out.contains(&uri) {
                out.push(uri);
            }
        }
        Ok(out)
    };
    for (field, value) in fields {
        match field.as_str() {
            "name" => match value.as_str().map(str::trim) {
                Some("") => push(&mut errors, field, "required"),
                Some(n) if n.chars().count() > 100 => push(&mut errors, field, "too_long"),
                Some(n) if n.chars().any(char::is_control) => push(&mut errors, field, "control_characters"),
                Some(n) => next.name = n.to_owned(),
                None => push(&mut errors, field, "must_be_string"),
            },
            "redirect_uris" => match uris(value) {
                Ok(v) => next.redirect_uris = v,
                Err(rule) => push(&mut errors, field, rule),
            },
            "post_logout_redirect_uris" => match uris(value) {
                Ok(v) => next.post_logout_redirect_uris = v,
                Err(rule) => push(&mut errors, field, rule),
            },
            "scopes" => {
                let offered: Vec<&str> = app.offered_scopes().map(|(name, _)| name).collect();
                let parse = |v: &str| offered.contains(&v).then(|| v.to_owned());
                match each(value, parse, "not_offered_by_the_app") {
                    Ok(scopes) => next.scopes = scopes,
                    Err(rule) => push(&mut errors, field, rule),
                }
            }
            "grant_types" => match each(value, |g| g.parse::<GrantType>().ok(), "unknown_grant_type") {
                Ok(grants) => next.grant_types = grants,
                Err(rule) => push(&mut errors, field, rule),
            },
            "first_party" => match value.as_bool() {
                Some(b) => next.first_party = b,
                None => push(&mut errors, field, "must_be_boolean"),
            },
            "introspect_any" => match value.as_bool() {
                Some(b) => next.introspect_any = b,
                None => push(&mut errors, field, "must_be_boolean"),
            },
            "require_pkce" => match value.as_bool() {
                // A public client has no secret: PKCE is all that binds its code to it.
                Some(false) if client_type == ClientType::Public => {
                    push(&mut errors, field, "public_clients_always_use_pkce")
                }
                Some(b) => next.require_pkce = b,
                None => push(&mut errors, field, "must_be_boolean"),
            },
            "type" => push(&mut errors, field, "cannot_change"),
            _ => {}
        }
    }
    if errors.is_empty() {
        if next.name.is_empty() {
            push(&mut errors, "name", "required");
        }
        if next.scopes.is_empty() {
            push(&mut errors, "scopes", "required");
        }
        if next.grant_types.is_empty() {
            push(&mut errors, "grant_types", "required");
        }
        if client_type == ClientType::Public {
            // As it is enforced, whatever was stored before the setting existed.
            next.require_pkce = true;
        }
        if client_type == ClientType::Public && next.introspect_any {
            push(&mut errors, "introspect_any", "needs_a_confidential_client");
        }
        if client_type == ClientType::Public && next.grant_types.contains(&GrantType::ClientCredentials) {
            push(&mut errors, "grant_types", "client_credentials_needs_a_confidential_client");
        }
        if next.grant_types == [GrantType::RefreshToken] {
            push(&mut errors, "grant_types", "refresh_token_needs_authorization_code");
        }
        if next.grant_types.contains(&GrantType::AuthorizationCode) && next.redirect_uris.is_empty() {
            push(&mut errors, "redirect_uris", "required");
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    *settings = next;
    Ok(())
}

/// A JSON list of strings, each read by `parse` (`refused` for one it refuses), repeats dropped.
fn each<T: PartialEq>(
    value: &Value,
    parse: impl Fn(&str) -> Option<T>,
    refused: &'static str,
) -> std::result::Result<Vec<T>, &'static str> {
    let mut out: Vec<T> = Vec::new();
    for item in value.as_array().ok_or("must_be_list")? {
        let parsed = parse(item.as_str().ok_or("must_be_list_of_strings")?).ok_or(refused)?;
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    Ok(out)
}

/// A new client secret: 256 random bits behind `ocs_`, and what is stored of it (its SHA-256 and
/// its last characters).
fn new_secret() -> (String, String, String) {
    let (random, _) = crate::crypto::new_token();
    let secret = format!("{SECRET_PREFIX}{random}");
    let hint = format!("{SECRET_PREFIX}...{}", &random[random.len() - 4..]);
    let hash = crate::crypto::token_hash(&secret);
    (secret, hash, hint)
}

/// Registers a client of the caller's app.
pub async fn create(
    app: &App,
    developer: &Identity,
    id: &AppId,
    fields: &Map<String, Value>,
    client: &ClientInfo,
) -> Result<WithSecret> {
    let record = crate::console::owned(app, developer, id).await?;
    let client_type = match fields.get("type") {
        None | Some(Value::Null) => ClientType::Confidential,
        Some(Value::String(t)) if t == "confidential" => ClientType::Confidential,
        Some(Value::String(t)) if t == "public" => ClientType::Public,
        Some(_) => return Err(Error::field("type", "must_be_confidential_or_public")),
    };
    let mut settings = new_settings();
    let without_type: Map<String, Value> =
        fields.iter().filter(|(k, _)| *k != "type").map(|(k, v)| (k.clone(), v.clone())).collect();
    apply(&mut settings, client_type, &without_type, &record.settings).map_err(Error::Validation)?;
    let secret = (client_type == ClientType::Confidential).then(new_secret);
    let now = Utc::now();
    let stored = OAuthClientRecord {
        app_id: id.clone(),
        client_id: ClientId::generate(),
        client_type,
        settings,
        secret_hash: secret.as_ref().map(|(_, hash, _)| hash.clone()),
        secret_hint: secret.as_ref().map(|(_, _, hint)| hint.clone()),
        created_at: now,
        updated_at: now,
    };
    if !app.store.create_oauth_client(&stored, &developer.user_id).await? {
        return Err(Error::NotFound);
    }
    trail(app, developer, EventType::OAuthClientCreated, id, &stored.client_id, client).await;
    Ok(WithSecret { client: stored.into(), client_secret: secret.map(|(s, _, _)| s) })
}

pub async fn list(app: &App, developer: &Identity, id: &AppId) -> Result<Vec<ClientView>> {
    crate::console::owned(app, developer, id).await?;
    Ok(app.store.oauth_clients(id).await?.into_iter().map(ClientView::from).collect())
}

async fn owned_client(
    app: &App,
    developer: &Identity,
    id: &AppId,
    client_id: &ClientId,
) -> Result<(AppSettings, OAuthClientRecord)> {
    let record = crate::console::owned(app, developer, id).await?;
    let client = app.store.oauth_client(id, client_id).await?.ok_or(Error::NotFound)?;
    Ok((record.settings, client))
}

pub async fn get(app: &App, developer: &Identity, id: &AppId, client_id: &ClientId) -> Result<ClientView> {
    Ok(owned_client(app, developer, id, client_id).await?.1.into())
}

/// Changes the settings a request names; the others stay.
pub async fn update(
    app: &App,
    developer: &Identity,
    id: &AppId,
    client_id: &ClientId,
    fields: &Map<String, Value>,
    client: &ClientInfo,
) -> Result<ClientView> {
    let (app_settings, mut stored) = owned_client(app, developer, id, client_id).await?;
    apply(&mut stored.settings, stored.client_type, fields, &app_settings).map_err(Error::Validation)?;
    let read_at = stored.updated_at;
    stored.updated_at = Utc::now();
    if !app.store.replace_oauth_client(&stored, read_at, &developer.user_id).await? {
        return Err(changed_meanwhile(app, id, client_id).await);
    }
    trail(app, developer, EventType::OAuthClientUpdated, id, client_id, client).await;
    Ok(stored.into())
}

/// Why a write over a client as read did not happen: the client changed meanwhile (409, try again
/// on what it is now), or it (or its app) is gone (404).
async fn changed_meanwhile(app: &App, id: &AppId, client_id: &ClientId) -> Error {
    match app.store.oauth_client(id, client_id).await {
        Ok(Some(_)) => Error::Conflict,
        Ok(None) => Error::NotFound,
        Err(e) => e,
    }
}

/// Deletes a client: it can no longer start or finish an authorization, or use its secret.
pub async fn delete(
    app: &App,
    developer: &Identity,
    id: &AppId,
    client_id: &ClientId,
    client: &ClientInfo,
) -> Result<()> {
    owned_client(app, developer, id, client_id).await?;
    if !app.store.delete_oauth_client(id, client_id).await? {
        return Err(Error::NotFound);
    }
    trail(app, developer, EventType::OAuthClientDeleted, id, client_id, client).await;
    Ok(())
}

/// A new secret for a confidential client, shown once; the old one is refused from the next
/// request on. A public client has none (409).
pub async fn rotate_secret(
    app: &App,
    developer: &Identity,
    id: &AppId,
    client_id: &ClientId,
    client: &ClientInfo,
) -> Result<WithSecret> {
    let (_, mut stored) = owned_client(app, developer, id, client_id).await?;
    if stored.client_type == ClientType::Public {
        return Err(Error::Conflict);
    }
    let (secret, hash, hint) = new_secret();
    stored.secret_hash = Some(hash);
    stored.secret_hint = Some(hint);
    let read_at = stored.updated_at;
    stored.updated_at = Utc::now();
    if !app.store.replace_oauth_client(&stored, read_at, &developer.user_id).await? {
        return Err(changed_meanwhile(app, id, client_id).await);
    }
    trail(app, developer, EventType::OAuthClientSecretRotated, id, client_id, client).await;
    Ok(WithSecret { client: stored.into(), client_secret: Some(secret) })
}

async fn trail(
    app: &App,
    developer: &Identity,
    event: EventType,
    id: &AppId,
    client_id: &ClientId,
    client: &ClientInfo,
) {
    let details = crate::audit::details([("app_id", json!(id)), ("client_id", json!(client_id))]);
    crate::console::write_trail(app, developer, event, details, client).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_loopback_http_or_a_native_apps_own_scheme_kept_as_given() {
        let c = ClientType::Confidential;
        let p = ClientType::Public;
        assert_eq!(redirect_uri("https://rp.example/cb/", c), Ok("https://rp.example/cb/".into()));
        assert_eq!(redirect_uri("http://127.0.0.1:8080/cb", c), Ok("http://127.0.0.1:8080/cb".into()));
        assert_eq!(redirect_uri("http://rp.example/cb", c), Err("must_be_https"));
        assert_eq!(redirect_uri("https://rp.example/cb#x", c), Err("no_fragment"));
        assert_eq!(redirect_uri("https://*.rp.example/cb", c), Err("no_wildcards"));
        assert_eq!(redirect_uri("https://u:p@rp.example/cb", c), Err("no_userinfo"));
        assert_eq!(redirect_uri("com.example.app:/cb", p), Ok("com.example.app:/cb".into()));
        assert_eq!(redirect_uri("com.example.app:/cb", c), Err("must_be_https_or_private_use_scheme"));
        assert_eq!(redirect_uri("javascript:alert(1)", p), Err("must_be_https_or_private_use_scheme"));
        assert_eq!(redirect_uri(" https://rp.example/cb", c), Err("invalid_redirect_uri"));
    }

    #[test]
    fn grants_scopes_and_redirects_are_checked_together() {
        let app = AppSettings {
            oauth_scopes: vec![crate::settings::OAuthScope {
                name: "tasks:read".into(),
                description: "Read your tasks".into(),
            }],
            ..crate::config::Config::from_map(&Default::default()).unwrap().default_app
        };
        let mut s = new_settings();
        let fields = |v: Value| v.as_object().unwrap().clone();
        let e = apply(
            &mut s,
            ClientType::Public,
            &fields(json!({"name": "X", "grant_types": ["client_credentials"]})),
            &app,
        )
        .unwrap_err();
        assert!(e["grant_types"].contains(&"client_credentials_needs_a_confidential_client".to_owned()));
        let e = apply(&mut s, ClientType::Confidential, &fields(json!({"name": "X"})), &app).unwrap_err();
        assert_eq!(e["redirect_uris"], ["required"]);
        let e = apply(&mut s, ClientType::Confidential, &fields(json!({"name": "X", "redirect_uris": ["https://a.example/cb"], "scopes": ["openid", "admin"]})), &app).unwrap_err();
        assert_eq!(e["scopes"], ["not_offered_by_the_app"]);
        apply(&mut s, ClientType::Confidential, &fields(json!({"name": "X", "redirect_uris": ["https://a.example/cb"], "scopes": ["openid", "tasks:read"]})), &app).unwrap();
        assert_eq!(s.scopes, ["openid", "tasks:read"]);
        apply(
            &mut s,
            ClientType::Confidential,
            &fields(json!({"grant_types": ["client_credentials"], "redirect_uris": []})),
            &app,
        )
        .unwrap();
        assert!(s.redirect_uris.is_empty(), "a machine client needs no redirect URI");
    }
}
