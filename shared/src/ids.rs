//! The ids the service hands out, as types of their own.
//!
//! An id is parsed once, where it enters (a path parameter, a token's claims, the authorizer's
//! context), and from then on travels as its type: a function that takes a `UserId` cannot be given
//! a session id or a tenant by mistake, and nothing that reaches a DynamoDB key can hold the key
//! separator `#` or anything else an id never has.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Characters every id is made of (uuids, `app_...`, `default`): nothing that could be confused
/// with a key separator or need escaping anywhere.
fn plausible(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        /// Read through `parse`, so that a token's claims or a stored item can never carry an id
        /// of the wrong shape past deserialisation.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).ok_or_else(|| serde::de::Error::custom(concat!("not a valid ", stringify!($name))))
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type! {
    /// A user of one app.
    UserId
}
id_type! {
    /// A login session; the `sid` of its tokens.
    SessionId
}
id_type! {
    /// An app's secret key (not the secret: its id, shown in lists and used to revoke it).
    KeyId
}
id_type! {
    /// A user's second factor (a TOTP app, a security key or passkey).
    FactorId
}
id_type! {
    /// An app (tenant): `default`, `console`, or `app_` and 16 characters of `[a-z0-9]`.
    AppId
}

impl UserId {
    /// A new, time-ordered id.
    pub fn generate() -> UserId {
        UserId(crate::crypto::new_id())
    }

    /// An id read from outside (a path, a token, a context); `None` for anything no id looks like.
    pub fn parse(value: &str) -> Option<UserId> {
        plausible(value).then(|| UserId(value.to_owned()))
    }
}

impl SessionId {
    pub fn generate() -> SessionId {
        SessionId(crate::crypto::new_id())
    }

    pub fn parse(value: &str) -> Option<SessionId> {
        plausible(value).then(|| SessionId(value.to_owned()))
    }
}

impl KeyId {
    pub fn generate() -> KeyId {
        KeyId(crate::crypto::new_id())
    }

    pub fn parse(value: &str) -> Option<KeyId> {
        plausible(value).then(|| KeyId(value.to_owned()))
    }
}

impl FactorId {
    pub fn generate() -> FactorId {
        FactorId(crate::crypto::new_id())
    }

    pub fn parse(value: &str) -> Option<FactorId> {
        plausible(value).then(|| FactorId(value.to_owned()))
    }
}

/// The id of a created app: `app_` and this many characters.
const APP_SUFFIX_LEN: usize = 16;

impl AppId {
    pub const DEFAULT: &'static str = "default";
    pub const CONSOLE: &'static str = "console";

    /// The app of single-tenant use, whose settings come from the environment.
    pub fn default_app() -> AppId {
        AppId(Self::DEFAULT.to_owned())
    }

    /// The app the developers themselves belong to.
    pub fn console() -> AppId {
        AppId(Self::CONSOLE.to_owned())
    }

    pub fn is_default(&self) -> bool {
        self.0 == Self::DEFAULT
    }

    /// `default`, `console`, or the exact shape of a created app's id; `None` for anything else,
    /// so that a malformed id is refused before it reaches the table.
    pub fn parse(value: &str) -> Option<AppId> {
        let created = value.strip_prefix("app_").is_some_and(|suffix| {
            suffix.len() == APP_SUFFIX_LEN
                && suffix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        (created || value == Self::DEFAULT || value == Self::CONSOLE).then(|| AppId(value.to_owned()))
    }

    /// A new random app id (about 82 bits from the OS random source).
    pub fn generate() -> AppId {
        AppId(format!("app_{}", random_alphanumeric(APP_SUFFIX_LEN)))
    }
}

/// The id of an end-user's API key: this many characters of `[a-z0-9]` (about 103 bits). Unlike
/// the time-ordered ids it says nothing of when the key was made, and it has no `_` or `-`, so
/// it is one unbroken word in `ak_<key id>_<secret>`.
const API_KEY_ID_LEN: usize = 20;

impl KeyId {
    /// A new random id for an end-user's API key.
    pub fn for_api_key() -> KeyId {
        KeyId(random_alphanumeric(API_KEY_ID_LEN))
    }

    /// The id part of a presented API key: exactly the shape `for_api_key` makes.
    pub fn parse_api_key_id(value: &str) -> Option<KeyId> {
        (value.len() == API_KEY_ID_LEN && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
            .then(|| KeyId(value.to_owned()))
    }
}

id_type! {
    /// An OAuth client of an app (the app is the provider): `oc_` and 24 characters of `[a-z0-9]`.
    ClientId
}

/// The random part of an OAuth client's id (about 124 bits).
const CLIENT_SUFFIX_LEN: usize = 24;

impl ClientId {
    pub fn generate() -> ClientId {
        ClientId(format!("oc_{}", random_alphanumeric(CLIENT_SUFFIX_LEN)))
    }

    /// Exactly the shape `generate` makes; `None` for anything else.
    pub fn parse(value: &str) -> Option<ClientId> {
        value
            .strip_prefix("oc_")
            .is_some_and(|s| {
                s.len() == CLIENT_SUFFIX_LEN
                    && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
            .then(|| ClientId(value.to_owned()))
    }
}

/// `len` characters of `[a-z0-9]`, uniformly from the OS random source.
fn random_alphanumeric(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    let mut pool = Vec::new();
    while out.len() < len {
        match pool.pop() {
            // 256 is not a multiple of 36: drawing by modulo would favour the first letters
            // slightly; rejecting the last four values keeps it exactly uniform.
            Some(b) if usize::from(b) < 252 => out.push(ALPHABET[usize::from(b) % 36] as char),
            Some(_) => {}
            None => {
                let mut more = vec![0u8; len];
                getrandom::fill(&mut more).expect("the OS random source is available");
                pool.extend_from_slice(&more);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids_have_one_shape() {
        for good in ["default", "console", "app_0123456789abcdef"] {
            assert!(AppId::parse(good).is_some(), "{good}");
        }
        for bad in [
            "",
            "Default",
            "app_",
            "app_0123456789ABCDEF",
            "app_0123456789abcde",
            "app_0123456789abcdef0",
            "x#y",
        ] {
            assert!(AppId::parse(bad).is_none(), "{bad}");
        }
        let id = AppId::generate();
        assert_eq!(AppId::parse(id.as_str()), Some(id.clone()));
        assert_ne!(AppId::generate(), id);
    }

    #[test]
    fn user_and_session_ids_never_hold_a_separator() {
        assert!(UserId::parse("0190a3b2-7c4e-7def-8123-456789abcdef").is_some());
        for bad in ["", "a#b", "a b", "é", &"x".repeat(129)] {
            assert!(UserId::parse(bad).is_none(), "{bad:?}");
            assert!(SessionId::parse(bad).is_none(), "{bad:?}");
        }
    }
}
