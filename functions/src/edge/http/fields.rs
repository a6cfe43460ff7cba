//! Request bodies and path parameters: JSON objects (each key once) and forms, read field by field
//! into domain types.

use headers::HeaderMapExt;
use lambda_http::{Request, RequestExt};
use serde_json::{Map, Value};
use shared::AppId;
use shared::error::{Error, FieldErrors, Result};

/// A JSON object body, field by field. Unknown fields are ignored and never reach the store: each
/// handler picks the fields it knows.
pub struct Fields {
    map: Map<String, Value>,
    errors: FieldErrors,
}

impl Fields {
    /// Parses the body as a JSON object; anything else is `malformed_request`, a body declared as
    /// another media type (or as none) `unsupported_media_type`.
    pub fn json(req: &Request) -> Result<Fields> {
        let bytes: &[u8] = req.body().as_ref();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::MalformedRequest("The request body must be a JSON object".into()));
        }
        if media_type(req).is_none_or(|t| !is_json(&t)) {
            return Err(Error::UnsupportedMediaType);
        }
        match serde_json::from_slice::<UniqueKeys>(bytes) {
            Ok(UniqueKeys(Value::Object(map))) => Ok(Fields { map, errors: FieldErrors::new() }),
            Ok(_) => Err(Error::MalformedRequest("The request body must be a JSON object".into())),
            Err(e) if e.to_string().starts_with(DUPLICATE_KEY) => {
                Err(Error::MalformedRequest("The request body repeats a key".into()))
            }
            Err(_) => Err(Error::MalformedRequest("The request body is not valid JSON".into())),
        }
    }

    /// Fields a page's form was turned into (the dashboard's), read by the same rules as a body.
    pub fn from_map(map: Map<String, Value>) -> Fields {
        Fields { map, errors: FieldErrors::new() }
    }

    /// Fields from an `application/x-www-form-urlencoded` body (the OAuth2 password form).
    pub fn form(req: &Request) -> Result<Fields> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(req.body().as_ref())
            .map_err(|_| Error::MalformedRequest("The form body cannot be decoded".into()))?;
        let mut map = Map::new();
        for (k, v) in pairs {
            // As in JSON bodies: a repeated field would mean one thing here and another to a proxy.
            if map.insert(k, Value::String(v)).is_some() {
                return Err(Error::MalformedRequest("The form body repeats a field".into()));
            }
        }
        Ok(Fields { map, errors: FieldErrors::new() })
    }

    fn fail(&mut self, field: &str, rule: &str) {
        self.errors.entry(field.to_owned()).or_default().push(rule.to_owned());
    }

    /// A string field that must be present (and not blank).
    pub fn required(&mut self, field: &str) -> Option<String> {
        match self.map.get(field) {
            None | Some(Value::Null) => {
                self.fail(field, "required");
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.fail(field, "required");
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.fail(field, "must_be_string");
                None
            }
        }
    }

    /// The whole object as sent: for bodies whose fields a shared rule reads (app settings).
    pub fn object(&self) -> &Map<String, Value> {
        &self.map
    }

    /// A field as sent, whatever its type.
    pub fn raw(&self, field: &str) -> Option<&Value> {
        self.map.get(field)
    }

    /// A required email field, parsed.
    pub fn email(&mut self, field: &str) -> Option<shared::domain::Email> {
        let raw = self.required(field)?;
        shared::domain::Email::parse(&raw).map_err(|rule| self.reject(field, [rule])).ok()
    }

    /// A string field that may be absent or null.
    pub fn optional(&mut self, field: &str) -> Option<String> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.fail(field, "must_be_string");
                None
            }
        }
    }

    /// A boolean field that may be absent or null (false then).
    pub fn flag(&mut self, field: &str) -> bool {
        match self.map.get(field) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.fail(field, "must_be_boolean");
                false
            }
        }
    }

    /// Records a rule that a value failed after it was read.
    pub fn reject(&mut self, field: &str, rules: impl IntoIterator<Item = impl Into<String>>) {
        let entry = self.errors.entry(field.to_owned()).or_default();
        entry.extend(rules.into_iter().map(Into::into));
    }

    /// Hands over the collected errors, if any.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(Error::Validation(self.errors)) }
    }

    pub fn errors_mut(&mut self) -> &mut FieldErrors {
        &mut self.errors
    }
}

/// The JSON object body, or `None` when the request has no body at all.
pub fn optional_json(req: &Request) -> Result<Option<Fields>> {
    if req.body().as_ref().iter().all(u8::is_ascii_whitespace) {
        Ok(None)
    } else {
        Fields::json(req).map(Some)
    }
}

/// A path parameter (`{id}` in the route).
pub fn path_param(req: &Request, name: &str) -> Option<String> {
    req.path_parameters_ref().and_then(|p| p.first(name)).map(str::to_owned)
}

/// An identity provider in the path (`{provider}`); one the service does not know is 404.
pub fn provider_param(req: &Request) -> Result<shared::social::ProviderId> {
    path_param(req, "provider").and_then(|p| shared::social::ProviderId::parse(&p)).ok_or(Error::NotFound)
}

/// An OAuth client id in the path (`{client_id}`); a malformed one names no client (404).
pub fn client_id_param(req: &Request) -> Result<shared::ids::ClientId> {
    path_param(req, "client_id").and_then(|id| shared::ids::ClientId::parse(&id)).ok_or(Error::NotFound)
}

/// An app id in the path (`{app_id}`); a malformed one names no app (404, like an unknown one).
pub fn app_id_param(req: &Request) -> Result<AppId> {
    path_param(req, "app_id").and_then(|id| AppId::parse(&id)).ok_or(Error::NotFound)
}

/// A user id in the path (`{user_id}`); a malformed one names no user (404).
pub fn user_id_param(req: &Request) -> Result<shared::UserId> {
    path_param(req, "user_id").and_then(|id| shared::UserId::parse(&id)).ok_or(Error::NotFound)
}

/// Whether the request declares a form body.
pub fn is_form(req: &Request) -> bool {
    media_type(req).is_some_and(|t| t == "application/x-www-form-urlencoded")
}

/// The body's media type as declared by `Content-Type` (its essence: type and subtype, lower-cased,
/// without parameters); `None` when absent or unreadable.
fn media_type(req: &Request) -> Option<String> {
    let content_type: headers::ContentType = req.headers().typed_get()?;
    Some(mime::Mime::from(content_type).essence_str().to_ascii_lowercase())
}

/// `application/json` and its structured-syntax relatives (`application/merge-patch+json` ...).
fn is_json(media_type: &str) -> bool {
    media_type == "application/json"
        || media_type.starts_with("application/") && media_type.ends_with("+json")
}

/// The start of the message of a duplicate-key error, as `UniqueKeys` raises it.
const DUPLICATE_KEY: &str = "duplicate key";

/// A JSON value whose objects never repeat a key. serde_json keeps the last of two equal keys
/// silently; a body like `{"email": "a@x.com", "email": "b@x.com"}` would then mean different
/// things to us and to a proxy or WAF in front that keeps the first, so it is refused instead.
struct UniqueKeys(Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor).map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("{DUPLICATE_KEY} {key:?}")));
            }
            let UniqueKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A page form's fields, each at most once; `None` for a body that is not one.
pub fn page_form(req: &Request) -> Option<std::collections::HashMap<String, String>> {
    if !is_form(req) {
        return None;
    }
    let fields = Fields::form(req).ok()?;
    Some(fields.object().iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect())
}

/// `?limit=` of a paged list: 1 to 100, 20 when absent.
pub fn page_limit(raw: Option<&str>) -> Result<i32> {
    const DEFAULT: i32 = 20;
    const MAX: i32 = 100;
    match raw {
        None => Ok(DEFAULT),
        Some(l) => match l.parse::<i32>() {
            Ok(n) if (1..=MAX).contains(&n) => Ok(n),
            _ => Err(Error::field("limit", "between_1_and_100")),
        },
    }
}
