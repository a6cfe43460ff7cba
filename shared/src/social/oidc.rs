//! OpenID Connect providers (Google, Apple): discovery and the JWKS, cached per container (an
//! unknown `kid` refetches the keys, at most every few seconds), and the verification of an ID
//! token: signature by a key of the provider's JWKS with the algorithm that key declares, `iss`,
//! `aud` (the app's client ids), `exp`, `iat` and `nonce`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::{ProviderId, ProviderProfile, SocialConfig};
use crate::error::{Error, Result};

/// How long a container keeps a provider's discovery document and keys.
const CACHE: Duration = Duration::from_secs(3600);
/// The soonest an unknown `kid` may make the container fetch the keys again.
const REFETCH_AFTER: Duration = Duration::from_secs(5);
/// Google's issuer, which its ID tokens may also name without `https://`.
const GOOGLE_HOST: &str = "accounts.google.com";

/// Clock skew allowed on `exp` and `iat`.
const LEEWAY_SECONDS: u64 = 60;

/// The parts of a provider's discovery document the service uses, and its keys.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub keys: Arc<JwkSet>,
    fetched: Instant,
    keys_fetched: Instant,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

pub fn issuer_of(config: &SocialConfig, provider: ProviderId) -> String {
    match provider {
        ProviderId::Apple => config.apple_issuer.clone(),
        _ => config.google_issuer.clone(),
    }
}

fn cache() -> &'static Mutex<HashMap<String, Discovery>> {
    static CACHE: std::sync::OnceLock<Mutex<HashMap<String, Discovery>>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The provider's discovery document and keys, from the container's cache when fresh. The
/// document's `issuer` must be exactly the configured one (OpenID Connect Discovery, 4.3).
pub async fn discover(issuer: &str) -> Result<Discovery> {
    if let Some(d) = cache().lock().ok().and_then(|c| c.get(issuer).cloned())
        && d.fetched.elapsed() < CACHE
    {
        return Ok(d);
    }
    let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let doc: Document = super::http::get_json(&url, None).await?;
    if doc.issuer != issuer {
        return Err(Error::Internal(format!("the provider at {issuer} names another issuer")));
    }
    let keys: JwkSet = super::http::get_json(&doc.jwks_uri, None).await?;
    let now = Instant::now();
    let d = Discovery {
        issuer: doc.issuer,
        authorization_endpoint: doc.authorization_endpoint,
        token_endpoint: doc.token_endpoint,
        jwks_uri: doc.jwks_uri,
        keys: Arc::new(keys),
        fetched: now,
        keys_fetched: now,
    };
    if let Ok(mut c) = cache().lock() {
        c.insert(issuer.to_owned(), d.clone());
    }
    Ok(d)
}

/// The provider's keys again, for a `kid` the cached set does not have (a key rotation).
async fn refetch_keys(d: &Discovery) -> Result<Option<Arc<JwkSet>>> {
    if d.keys_fetched.elapsed() < REFETCH_AFTER {
        return Ok(None);
    }
    let keys: JwkSet = super::http::get_json(&d.jwks_uri, None).await?;
    let keys = Arc::new(keys);
    if let Ok(mut c) = cache().lock()
        && let Some(entry) = c.get_mut(&d.issuer)
    {
        entry.keys = keys.clone();
        entry.keys_fetched = Instant::now();
    }
    Ok(Some(keys))
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    #[serde(default)]
    email: Option<String>,
    /// A boolean (Google), or the string `"true"` / `"false"` (Apple).
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    /// One audience or several (OIDC Core 2).
    aud: serde_json::Value,
    /// The party the token was issued to; required to be one of ours when `aud` has several.
    #[serde(default)]
    azp: Option<String>,
    /// Google's hosted domain: the Workspace domain that manages the account.
    #[serde(default)]
    hd: Option<String>,
}

/// Verifies an ID token from the provider `d` describes, for one of `audiences` (the app's client
/// ids), whose `nonce` claim is `nonce` when one is expected (the one of a web sign-in's state,
/// the hash of a native app's).
pub async fn verify(
    d: &Discovery,
    id_token: &str,
    audiences: &[&str],
    nonce: Option<&str>,
) -> Result<ProviderProfile> {
    let refused = |why: &str| Error::OAuthFailed(format!("the ID token was refused: {why}"));
    let header = jsonwebtoken::decode_header(id_token).map_err(|_| refused("not a JWT"))?;
    let kid = header.kid.clone().ok_or_else(|| refused("no key id"))?;
    let jwk = match d.keys.find(&kid) {
        Some(jwk) => jwk.clone(),
        None => match refetch_keys(d).await? {
            Some(keys) => keys.find(&kid).cloned().ok_or_else(|| refused("signed by an unknown key"))?,
            None => return Err(refused("signed by an unknown key")),
        },
    };
    // The algorithm is the key's, never the token header's choice.
    let algorithm = match jwk.common.key_algorithm {
        Some(alg) => {
            Algorithm::from_str_opt(&alg.to_string()).ok_or_else(|| refused("an unsupported algorithm"))?
        }
        None => match &jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
            jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
            _ => return Err(refused("an unsupported key type")),
        },
    };
    if header.alg != algorithm {
        return Err(refused("the algorithm does not match the key"));
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| refused("an unusable key"))?;
    let mut validation = Validation::new(algorithm);
    // Google documents that its ID tokens name their issuer with or without the scheme.
    let bare = d.issuer.strip_prefix("https://").filter(|host| *host == GOOGLE_HOST);
    validation.set_issuer(&std::iter::once(d.issuer.as_str()).chain(bare).collect::<Vec<_>>());
    validation.set_audience(audiences);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    let data = jsonwebtoken::decode::<Claims>(id_token, &key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        refused(match e.kind() {
            ErrorKind::ExpiredSignature => "expired",
            ErrorKind::InvalidIssuer => "another issuer",
            ErrorKind::InvalidAudience => "another audience",
            ErrorKind::InvalidSignature => "a bad signature",
            _ => "malformed",
        })
    })?;
    let claims = data.claims;
    if claims.iat > chrono::Utc::now().timestamp() + LEEWAY_SECONDS as i64 {
        return Err(refused("issued in the future"));
    }
    if let Some(expected) = nonce {
        let matches = claims.nonce.as_deref().is_some_and(|n| {
            use subtle::ConstantTimeEq;
            bool::from(n.as_bytes().ct_eq(expected.as_bytes()))
        });
        if !matches {
            return Err(refused("a wrong nonce"));
        }
    }
    // OIDC Core 3.1.3.7 (3-5): a token for several audiences was issued to its `azp`, which must
    // be one of this app's clients; otherwise it is another party's token that names us too.
    if let serde_json::Value::Array(all) = &claims.aud
        && all.len() > 1
        && !claims.azp.as_deref().is_some_and(|azp| audiences.contains(&azp))
    {
        return Err(refused("several audiences, and the authorized party is not this app"));
    }
    let email_verified = match &claims.email_verified {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s == "true",
        _ => false,
    };
    Ok(ProviderProfile {
        subject: claims.sub,
        email: claims.email,
        email_verified,
        name: claims.name,
        hosted_domain: claims.hd,
    })
}

trait FromStrOpt: Sized {
    fn from_str_opt(raw: &str) -> Option<Self>;
}

impl FromStrOpt for Algorithm {
    fn from_str_opt(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}
