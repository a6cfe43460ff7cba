//! Signing keys: the key ring kept in Secrets Manager, JWT signing and verification, and the JWKS.
//!
//! The secret is a JSON document:
//!
//! ```json
//! {"current_kid": "k-20261123-1a2b3c4d",
//!  "keys": [{"kid": "k-20261123-1a2b3c4d", "alg": "RS256", "created_at": "2026-11-23T16:00:00Z",
//!            "private_key_pem": "-----BEGIN PRIVATE KEY-----\n..."}]}
//! ```
//!
//! The current key signs; every key in the list verifies and is published in the JWKS, so that a
//! token signed before a rotation keeps working until it expires. Each key carries its algorithm,
//! and a token is verified with that algorithm only: the `alg` of a token's header is never trusted
//! to choose one (no `none`, no HS256 with a public key).
//!
//! The private ring is read only by the functions that sign (login, refresh, magic-link verify).
//! Its public half is published apart, as one item of the table (`PublicKeySet`) that rotation
//! writes in the same step as the secret; every function that only verifies (the authorizer, the
//! bearer routes, `jwks`, discovery) reads that item, with its first session read, and has no
//! permission on the secret at all.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_secretsmanager::Client;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm as JwkAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, RwLock};

use crate::aws::LazyClient;
use crate::error::{Error, Result};

/// The algorithms a signing key may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyAlgorithm {
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl KeyAlgorithm {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(KeyAlgorithm::Rs256),
            "EdDSA" => Some(KeyAlgorithm::EdDsa),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Rs256 => "RS256",
            KeyAlgorithm::EdDsa => "EdDSA",
        }
    }

    fn jwt(self) -> Algorithm {
        match self {
            KeyAlgorithm::Rs256 => Algorithm::RS256,
            KeyAlgorithm::EdDsa => Algorithm::EdDSA,
        }
    }
}

/// The secret's JSON document.
#[derive(Serialize, Deserialize)]
pub struct KeySetDocument {
    pub current_kid: String,
    pub keys: Vec<StoredKey>,
}

#[derive(Serialize, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    pub alg: KeyAlgorithm,
    pub created_at: DateTime<Utc>,
    /// When the key stopped signing; it keeps verifying until the longest-lived token it can have
    /// signed has expired, then rotation removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "expose", deserialize_with = "secret")]
    pub private_key_pem: SecretString,
}

impl KeySetDocument {
    /// Makes `new` the signing key. The previous current key retires now and keeps verifying;
    /// retired keys older than `keep_for` (the longest token lifetime) are removed. Returns the
    /// kids that were removed.
    pub fn rotate(
        &mut self,
        new: StoredKey,
        now: DateTime<Utc>,
        keep_for: std::time::Duration,
    ) -> Vec<String> {
        for k in &mut self.keys {
            if k.kid == self.current_kid && k.retired_at.is_none() {
                k.retired_at = Some(now);
            }
        }
        let keep_for = chrono::Duration::from_std(keep_for).unwrap_or(chrono::Duration::days(3650));
        let mut removed = Vec::new();
        self.keys.retain(|k| match k.retired_at {
            Some(at) if at + keep_for < now => {
                removed.push(k.kid.clone());
                false
            }
            _ => true,
        });
        self.current_kid = new.kid.clone();
        self.keys.push(new);
        removed
    }
}

fn expose<S: serde::Serializer>(s: &SecretString, ser: S) -> std::result::Result<S::Ok, S::Error> {
    ser.serialize_str(s.expose_secret())
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

impl StoredKey {
    /// A fresh key pair of the given algorithm (RSA 2048 or Ed25519), from aws-lc's generator.
    pub fn generate(alg: KeyAlgorithm, now: DateTime<Utc>) -> Result<StoredKey> {
        use aws_lc_rs::encoding::AsDer;
        let der: Vec<u8> = match alg {
            KeyAlgorithm::Rs256 => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(|_| Error::Internal("RSA key generation failed".into()))?;
                pair.as_der().map_err(|_| Error::Internal("RSA key export failed".into()))?.as_ref().to_vec()
            }
            KeyAlgorithm::EdDsa => {
                // PKCS#8 v1, the form `openssl genpkey -algorithm ED25519` writes.
                let pair = aws_lc_rs::signature::Ed25519KeyPair::generate()
                    .map_err(|_| Error::Internal("Ed25519 key generation failed".into()))?;
                pair.to_pkcs8v1()
                    .map_err(|_| Error::Internal("Ed25519 key export failed".into()))?
                    .as_ref()
                    .to_vec()
            }
        };
        let mut suffix = [0u8; 4];
        getrandom::fill(&mut suffix).map_err(|e| Error::Internal(e.to_string()))?;
        let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        Ok(StoredKey {
            kid: format!("k-{}-{suffix}", now.format("%Y%m%d")),
            alg,
            created_at: now,
            retired_at: None,
            private_key_pem: SecretString::from(pem("PRIVATE KEY", &der)),
        })
    }
}

/// RFC 7468 text of a DER key (the form jsonwebtoken reads back).
fn pem(label: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

struct VerifyingKey {
    alg: Algorithm,
    key: DecodingKey,
}

/// The loaded keys: the one that signs, and the public half of all of them.
pub struct KeyRing {
    signing_kid: String,
    signing_alg: Algorithm,
    signing_key: EncodingKey,
    verifier: Verifier,
}

/// The keys that verify, from public JWKs only: what a function that never signs holds.
pub struct Verifier {
    verifying: HashMap<String, VerifyingKey>,
    jwks: JwkSet,
}

/// The public half of the ring, as the table keeps it: the JWKS and the kid that signs now.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicKeySet {
    pub current_kid: String,
    pub jwks: JwkSet,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("the key set is not valid JSON of the expected shape")]
    Shape,
    #[error("key {0} cannot be read")]
    BadKey(String),
    #[error("the current key {0} is not in the key list")]
    NoCurrent(String),
    #[error("public key {0} is not an RS256 or EdDSA signing key")]
    BadPublicKey(String),
}

impl KeyRing {
    pub fn from_json(json: &str) -> std::result::Result<Self, KeyRingError> {
        let doc: KeySetDocument = serde_json::from_str(json).map_err(|_| KeyRingError::Shape)?;
        Self::from_document(&doc)
    }

    pub fn from_document(doc: &KeySetDocument) -> std::result::Result<Self, KeyRingError> {
        let mut public = Vec::new();
        let mut signing = None;
        for k in &doc.keys {
            let pem = k.private_key_pem.expose_secret().as_bytes();
            let encoding = match k.alg {
                KeyAlgorithm::Rs256 => EncodingKey::from_rsa_pem(pem),
                KeyAlgorithm::EdDsa => EncodingKey::from_ed_pem(pem),
            }
            .map_err(|_| KeyRingError::BadKey(k.kid.clone()))?;
            let mut jwk = Jwk::from_encoding_key(&encoding, k.alg.jwt())
                .map_err(|_| KeyRingError::BadKey(k.kid.clone()))?;
            jwk.common.key_id = Some(k.kid.clone());
            jwk.common.public_key_use = Some(PublicKeyUse::Signature);
            jwk.common.key_algorithm = Some(match k.alg {
                KeyAlgorithm::Rs256 => JwkAlgorithm::RS256,
                KeyAlgorithm::EdDsa => JwkAlgorithm::EdDSA,
            });
            public.push(jwk);
            if k.kid == doc.current_kid {
                signing = Some((k.alg.jwt(), encoding));
            }
        }
        let (signing_alg, signing_key) =
            signing.ok_or_else(|| KeyRingError::NoCurrent(doc.current_kid.clone()))?;
        Ok(KeyRing {
            signing_kid: doc.current_kid.clone(),
            signing_alg,
            signing_key,
            verifier: Verifier::from_jwks(JwkSet { keys: public })?,
        })
    }

    /// The public half, as verifying functions hold it.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The public half as the table keeps it.
    pub fn public_set(&self, now: DateTime<Utc>) -> PublicKeySet {
        PublicKeySet {
            current_kid: self.signing_kid.clone(),
            jwks: self.verifier.jwks.clone(),
            updated_at: now,
        }
    }

    /// Whether a key with this id verifies here.
    pub fn knows(&self, kid: &str) -> bool {
        self.verifier.knows(kid)
    }

    pub fn jwks(&self) -> &JwkSet {
        self.verifier.jwks()
    }

    /// Signs `claims` under the current key, with `typ` in the header (RFC 8725 §3.11: each kind
    /// of token its own type, so that one kind can never be replayed as another).
    pub fn sign<T: Serialize>(&self, claims: &T, typ: &str) -> Result<String> {
        let mut header = Header::new(self.signing_alg);
        header.kid = Some(self.signing_kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.signing_key)
            .map_err(|e| Error::Internal(format!("token signing failed: {e}")))
    }

    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        issuer: &str,
        audience: &str,
    ) -> Option<T> {
        self.verifier.verify(token, typ, issuer, audience)
    }
}

impl Verifier {
    /// The verifier of a JWKS: every key must name its `kid` and an algorithm we sign with, and
    /// that algorithm is the only one its tokens are checked with.
    pub fn from_jwks(jwks: JwkSet) -> std::result::Result<Self, KeyRingError> {
        let mut verifying = HashMap::new();
        for jwk in &jwks.keys {
            let kid = jwk.common.key_id.clone().ok_or_else(|| KeyRingError::BadPublicKey(String::new()))?;
            let alg = match jwk.common.key_algorithm {
                Some(JwkAlgorithm::RS256) => Algorithm::RS256,
                Some(JwkAlgorithm::EdDSA) => Algorithm::EdDSA,
                _ => return Err(KeyRingError::BadPublicKey(kid)),
            };
            // `Jwk` models public parameters only (RSA `n`/`e`, OKP `x`): a private one could not
            // even be carried through here.
            let key = DecodingKey::from_jwk(jwk).map_err(|_| KeyRingError::BadPublicKey(kid.clone()))?;
            verifying.insert(kid, VerifyingKey { alg, key });
        }
        Ok(Verifier { verifying, jwks })
    }

    /// Whether a key with this id verifies here.
    pub fn knows(&self, kid: &str) -> bool {
        self.verifying.contains_key(kid)
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// The algorithms of the keys that verify, for the discovery document.
    pub fn algorithms(&self) -> Vec<&'static str> {
        let mut algs: Vec<&'static str> = self
            .verifying
            .values()
            .map(|v| if v.alg == Algorithm::EdDSA { "EdDSA" } else { "RS256" })
            .collect();
        algs.sort_unstable();
        algs.dedup();
        algs
    }

    /// Signs `claims` under the current key, with `typ` in the header (RFC 8725 §3.11: each kind
    /// of token its own type, so that one kind can never be replayed as another).
    /// Verifies the header's `typ`, the signature, `iss`, `aud`, `exp`, `nbf` (30 s leeway), and
    /// that `iat` is present, a number and not in the future. The key is chosen by `kid` alone and
    /// its own algorithm is the only one accepted; a missing or unknown `kid` is an invalid token.
    /// Headers that point at other keys (`jku`, `jwk`, `x5u`, `x5c`) are never looked at.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        issuer: &str,
        audience: &str,
    ) -> Option<T> {
        self.verify_for_any(token, typ, issuer, &[audience])
    }

    /// `verify` for a token whose `aud` may be any one of `audiences` (an OAuth access token: the
    /// provider's own audience or one of the app's resources).
    pub fn verify_for_any<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        issuer: &str,
        audiences: &[&str],
    ) -> Option<T> {
        let (key, mut validation) = self.validation(token, typ, issuer)?;
        validation.set_audience(audiences);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key.key, &validation).ok()?.claims;
        // The crate checks `iat` neither for presence nor for sense: a token issued in the future
        // was not issued by us (or our clock was wrong when it was), and is refused either way.
        let iat = claims.get("iat")?.as_i64()?;
        if iat > chrono::Utc::now().timestamp() + LEEWAY_SECONDS as i64 {
            return None;
        }
        serde_json::from_value(claims).ok()
    }

    /// An ID token this issuer signed, verified but for its times and audience: what OIDC's
    /// `id_token_hint` is (an expired one still names the user; the caller checks the audience).
    pub fn verify_id_token_hint(&self, token: &str, issuer: &str) -> Option<serde_json::Value> {
        let (key, mut validation) = self.validation(token, ID_TOKEN_TYPE, issuer)?;
        validation.validate_aud = false;
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["iss", "aud", "sub"]);
        Some(jsonwebtoken::decode::<serde_json::Value>(token, &key.key, &validation).ok()?.claims)
    }

    /// The key a token names and the checks every token of ours meets: its `typ`, the key's one
    /// algorithm, our issuer. The caller adds what its kind of token needs.
    fn validation(&self, token: &str, typ: &str, issuer: &str) -> Option<(&VerifyingKey, Validation)> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if !header.typ.as_deref().is_some_and(|t| same_type(t, typ)) {
            return None;
        }
        let key = self.verifying.get(header.kid.as_deref()?)?;
        let mut validation = Validation::new(key.alg);
        validation.algorithms = vec![key.alg];
        validation.set_issuer(&[issuer]);
        Some((key, validation))
    }
}

/// The `typ` of the ID tokens of the apps' OAuth providers (OIDC Core: plain `JWT`).
pub const ID_TOKEN_TYPE: &str = "JWT";

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECONDS: u64 = 30;

/// Whether a header's `typ` names the expected type: media types compare case-insensitively, and
/// RFC 7515 §4.1.9 lets `application/` be left out.
fn same_type(found: &str, expected: &str) -> bool {
    let bare = |t: &str| {
        let t = t.trim();
        match t.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("application/") => t[12..].to_owned(),
            _ => t.to_owned(),
        }
    };
    bare(found).eq_ignore_ascii_case(&bare(expected))
}

/// The key ring, fetched from Secrets Manager at cold start and kept for `KEY_CACHE_SECONDS`. A
/// token whose `kid` the cached ring does not know makes the container read the secret again (at
/// most every few seconds), so a key rotated in elsewhere verifies at once.
pub struct Keys {
    client: LazyClient<Client>,
    secret_id: String,
    max_age: Duration,
    cached: RwLock<Option<(Arc<KeyRing>, Instant)>>,
    /// One read of the secret at a time; the others wait for its result.
    loading: Mutex<()>,
    /// When an unknown `kid` last forced a read: a stream of tokens with made-up kids must not
    /// turn into a stream of Secrets Manager calls.
    unknown_kid_read: Mutex<Option<Instant>>,
}

/// How soon an unknown `kid` may trigger another read of the secret.
const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(5);

impl Keys {
    pub fn new(sdk: &aws_config::SdkConfig, secret_id: impl Into<String>, max_age: Duration) -> Self {
        Keys {
            client: LazyClient::new(sdk),
            secret_id: secret_id.into(),
            max_age,
            cached: RwLock::new(None),
            loading: Mutex::new(()),
            unknown_kid_read: Mutex::new(None),
        }
    }

    fn client(&self) -> &Client {
        self.client.get(|sdk| {
            Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(sdk)
                    .interceptor(crate::iam::secrets_manager())
                    .build(),
            )
        })
    }

    /// Whether Secrets Manager answers for the key ring's secret, by its metadata alone: a health
    /// check never reads the private keys.
    pub async fn check(&self) -> Result<()> {
        self.client()
            .describe_secret()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::dependency("Secrets Manager", e))
    }

    /// The ring, reading the secret when none is cached or the cached one is older than the
    /// cache age. A failed read keeps serving a ring it already has; with none, it is an error
    /// (503) and the next request tries again.
    pub async fn ring(&self) -> Result<Arc<KeyRing>> {
        // Every container of a function that asks for the ring reads the secret at least once.
        crate::iam::need("secretsmanager:GetSecretValue", crate::iam::resource::SIGNING_KEYS);
        self.ring_newer_than(self.max_age).await
    }

    /// The ring that should know `kid`: when the cached one does not, the secret is read again,
    /// at most once per few seconds (an unknown `kid` is otherwise just an invalid token).
    pub async fn ring_for(&self, kid: Option<&str>) -> Result<Arc<KeyRing>> {
        let ring = self.ring().await?;
        if kid.is_none_or(|k| ring.knows(k)) {
            return Ok(ring);
        }
        {
            let mut last = self.unknown_kid_read.lock().await;
            if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_RELOAD) {
                return Ok(ring);
            }
            *last = Some(Instant::now());
        }
        self.ring_newer_than(Duration::ZERO).await
    }

    async fn ring_newer_than(&self, age: Duration) -> Result<Arc<KeyRing>> {
        if let Some((ring, at)) = self.cached.read().await.as_ref()
            && at.elapsed() < age
        {
            return Ok(ring.clone());
        }
        let _one_at_a_time = self.loading.lock().await;
        // Another task may have loaded it while this one waited.
        let stale = match self.cached.read().await.as_ref() {
            Some((ring, at)) if at.elapsed() < age => return Ok(ring.clone()),
            Some((ring, _)) => Some(ring.clone()),
            None => None,
        };
        match self.load().await {
            Ok(ring) => {
                *self.cached.write().await = Some((ring.clone(), Instant::now()));
                Ok(ring)
            }
            Err(e) => match stale {
                Some(ring) => {
                    tracing::warn!(error = %e, "signing keys could not be re-read; keeping the cached ones");
                    Ok(ring)
                }
                None => Err(e),
            },
        }
    }

    async fn load(&self) -> Result<Arc<KeyRing>> {
        let out = self
            .client()
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| Error::dependency("Secrets Manager", e))?;
        let json = out
            .secret_string()
            .ok_or_else(|| Error::Internal("the signing-key secret has no string value".into()))?;
        // A malformed key set is an operator error: logged in full at the edge, shown to clients
        // as an internal error.
        KeyRing::from_json(json).map(Arc::new).map_err(|e| Error::Internal(e.to_string()))
    }
}

/// The public keys, read from the table (`PublicKeySet`) and kept for `KEY_CACHE_SECONDS`, by the
/// functions that only verify. A token whose `kid` the cached set does not know makes the
/// container read the item again, at most every few seconds. It never touches Secrets Manager.
pub struct PublicKeys {
    max_age: Duration,
    cached: RwLock<Option<(Arc<Verifier>, Instant)>>,
    /// When an unknown `kid` last forced a read (made-up kids must not become a stream of reads).
    unknown_kid_read: Mutex<Option<Instant>>,
}

impl PublicKeys {
    pub fn new(max_age: Duration) -> Self {
        PublicKeys { max_age, cached: RwLock::new(None), unknown_kid_read: Mutex::new(None) }
    }

    /// The cached keys when they are fresh and know `kid` (or when `kid` is unknown but was looked
    /// for a moment ago: the token is then simply invalid). `None`: the item must be read.
    pub async fn cached_for(&self, kid: Option<&str>) -> Option<Arc<Verifier>> {
        let (verifier, at) = self.cached.read().await.clone()?;
        if at.elapsed() >= self.max_age {
            return None;
        }
        if kid.is_none_or(|k| verifier.knows(k)) {
            return Some(verifier);
        }
        let mut last = self.unknown_kid_read.lock().await;
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_RELOAD) {
            return Some(verifier);
        }
        *last = Some(Instant::now());
        None
    }

    /// The keys as last read, however old: what to keep serving when a re-read fails.
    pub async fn stale(&self) -> Option<Arc<Verifier>> {
        self.cached.read().await.as_ref().map(|(v, _)| v.clone())
    }

    /// Keeps a freshly read set. A missing or unreadable item is an operator error (the key was
    /// never published: `authctl keys ensure`): an internal error, logged at the edge.
    pub async fn install(&self, set: Option<PublicKeySet>) -> Result<Arc<Verifier>> {
        // Not a bug but a deployment step not yet run (`make deploy` runs it): the service cannot
        // verify anything until it has, which is an outage (503), not a 500.
        let set = set.ok_or_else(|| {
            Error::dependency("DynamoDB", "no public signing keys in the table (run `authctl keys ensure`)")
        })?;
        let verifier = Arc::new(Verifier::from_jwks(set.jwks).map_err(|e| Error::Internal(e.to_string()))?);
        *self.cached.write().await = Some((verifier.clone(), Instant::now()));
        Ok(verifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(alg: KeyAlgorithm) -> (KeyRing, String) {
        let key = StoredKey::generate(alg, Utc::now()).unwrap();
        let kid = key.kid.clone();
        let doc = KeySetDocument { current_kid: kid.clone(), keys: vec![key] };
        (KeyRing::from_document(&doc).unwrap(), kid)
    }

    #[derive(Serialize, Deserialize)]
    struct C {
        iss: String,
        aud: String,
        sub: String,
        iat: i64,
        nbf: i64,
        exp: i64,
    }

    fn claims(exp_in: i64) -> C {
        let now = Utc::now().timestamp();
        C { iss: "i".into(), aud: "a".into(), sub: "s".into(), iat: now, nbf: now, exp: now + exp_in }
    }

    #[test]
    fn both_algorithms_sign_and_verify_and_publish_a_jwk() {
        for alg in [KeyAlgorithm::Rs256, KeyAlgorithm::EdDsa] {
            let (ring, kid) = ring(alg);
            let t = ring.sign(&claims(60), "at+jwt").unwrap();
            assert!(ring.verify::<C>(&t, "at+jwt", "i", "a").is_some());
            assert!(ring.verify::<C>(&t, "application/AT+JWT", "i", "a").is_some());
            assert!(ring.verify::<C>(&t, "refresh+jwt", "i", "a").is_none());
            assert!(ring.verify::<C>(&t, "at+jwt", "other", "a").is_none());
            assert!(ring.verify::<C>(&t, "at+jwt", "i", "other").is_none());
            let jwks = serde_json::to_value(ring.jwks()).unwrap();
            assert_eq!(jwks["keys"][0]["kid"], kid.as_str());
            assert_eq!(jwks["keys"][0]["alg"], alg.as_str());
            assert!(jwks["keys"][0].get("d").is_none(), "no private part in the JWKS");
        }
    }

    #[test]
    fn expired_beyond_leeway_is_refused() {
        let (ring, _) = ring(KeyAlgorithm::Rs256);
        let t = ring.sign(&claims(-31), "at+jwt").unwrap();
        assert!(ring.verify::<C>(&t, "at+jwt", "i", "a").is_none());
        let t = ring.sign(&claims(-5), "at+jwt").unwrap();
        assert!(ring.verify::<C>(&t, "at+jwt", "i", "a").is_some(), "within the 30 s leeway");
    }

    #[test]
    fn iat_must_be_present_and_not_in_the_future() {
        let (ring, _) = ring(KeyAlgorithm::EdDsa);
        let mut c = serde_json::to_value(claims(60)).unwrap();
        c.as_object_mut().unwrap().remove("iat");
        let t = ring.sign(&c, "at+jwt").unwrap();
        assert!(ring.verify::<serde_json::Value>(&t, "at+jwt", "i", "a").is_none(), "no iat");
        c["iat"] = serde_json::json!(Utc::now().timestamp() + 600);
        let t = ring.sign(&c, "at+jwt").unwrap();
        assert!(ring.verify::<serde_json::Value>(&t, "at+jwt", "i", "a").is_none(), "iat in the future");
        c["iat"] = serde_json::json!("yesterday");
        let t = ring.sign(&c, "at+jwt").unwrap();
        assert!(ring.verify::<serde_json::Value>(&t, "at+jwt", "i", "a").is_none(), "iat not a number");
    }

    #[test]
    fn a_key_from_another_ring_does_not_verify() {
        let (a, _) = ring(KeyAlgorithm::Rs256);
        let (b, _) = ring(KeyAlgorithm::Rs256);
        let t = a.sign(&claims(60), "at+jwt").unwrap();
        assert!(b.verify::<C>(&t, "at+jwt", "i", "a").is_none());
    }
}
