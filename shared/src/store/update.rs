//! `UserUpdate`: a change of a user item built from parts (sets, removes, adds, conditions), and
//! the API keys that follow a status change.

use super::Guard;
use super::items::{API_KEYS_VERSION, CREDENTIAL_VERSION, delete_item, internal, key_status_item, n, s};
use super::keys;
use crate::error::{Error, Result};
use crate::ids::AppId;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use std::collections::HashMap;

/// An update of a user item built up from named changes and conditions. Every attribute name goes
/// through a placeholder (`status`, `name` and `ttl` are DynamoDB reserved words).
///
/// An update that sets `status` also writes the new status onto every API key of the user, in the
/// same transaction (`Store::follow_keys`): the authorizer's one read of a key sees its owner's
/// state.
#[derive(Clone)]
pub struct UserUpdate {
    pub(super) sets: Vec<(String, AttributeValue)>,
    pub(super) removes: Vec<String>,
    pub(super) adds: Vec<(String, AttributeValue)>,
    pub(super) conditions: Vec<(String, Option<AttributeValue>)>,
    /// The status this update sets, if it sets one.
    pub(super) status: Option<String>,
    /// The user's keys that take that status (or end), read at `api_keys_version`.
    pub(super) keys: Option<KeysFollowing>,
    /// Whether every live API key of the user ends with this update (a credential reset).
    pub(super) end_keys: bool,
}

/// The API keys a status change writes its status onto.
#[derive(Clone)]
pub(super) struct KeysFollowing {
    pub(super) tenant: AppId,
    pub(super) version: u64,
    pub(super) key_ids: Vec<crate::ids::KeyId>,
}

impl UserUpdate {
    pub fn new(guard: Guard) -> Self {
        let mut u = UserUpdate {
            sets: Vec::new(),
            removes: Vec::new(),
            adds: Vec::new(),
            conditions: Vec::new(),
            status: None,
            keys: None,
            end_keys: false,
        };
        match guard {
            Guard::Exists => {}
            Guard::Active => {
                u.require_equal("status", s("active"));
            }
            Guard::Unverified => {
                u.require_equal("status", s("active"));
                u.require_equal("email_verified", AttributeValue::Bool(false));
            }
            Guard::PendingDeletion => {
                u.require_equal("status", s("pending_deletion"));
            }
            Guard::Disabled => {
                u.require_equal("status", s("disabled"));
            }
        }
        u
    }

    pub(super) fn set(&mut self, attribute: &str, value: AttributeValue) -> &mut Self {
        if attribute == "status" {
            self.status = value.as_s().ok().cloned();
        }
        self.sets.push((attribute.to_owned(), value));
        self
    }

    pub fn set_str(&mut self, attribute: &str, value: impl Into<String>) -> &mut Self {
        self.set(attribute, s(value))
    }

    pub fn set_bool(&mut self, attribute: &str, value: bool) -> &mut Self {
        self.set(attribute, AttributeValue::Bool(value))
    }

    pub fn set_num(&mut self, attribute: &str, value: i64) -> &mut Self {
        self.set(attribute, n(value))
    }

    pub fn remove(&mut self, attribute: &str) -> &mut Self {
        self.removes.push(attribute.to_owned());
        self
    }

    /// Ends every session of the credential as it was: no session started or rotated under the
    /// previous version can commit after this update (`UserRecord::credential_version`).
    pub fn bump_credential_version(&mut self) -> &mut Self {
        self.adds.push((CREDENTIAL_VERSION.to_owned(), n(1)));
        self
    }

    /// Ends every live API key of the user in the same transaction (`Store::follow_keys` reads
    /// them): a key created meanwhile fails the write, which is tried again with it.
    pub fn end_api_keys(&mut self) -> &mut Self {
        self.end_keys = true;
        self
    }

    /// Whether the write must carry the user's keys: a status change, or their end.
    pub(super) fn needs_keys(&self) -> bool {
        self.status.is_some() || self.end_keys
    }

    /// Only while the user is still at the credential version this request read.
    pub fn require_credential_version(&mut self, version: u64) -> &mut Self {
        match version {
            // Never bumped: the attribute may be missing on accounts older than it.
            0 => self.conditions.push((CREDENTIAL_VERSION.to_owned(), None)),
            v => self.conditions.push((CREDENTIAL_VERSION.to_owned(), Some(n(v as i64)))),
        }
        self
    }

    /// Only while the user's keys are still at the version this request read.
    pub(super) fn require_api_keys_version(&mut self, version: u64) -> &mut Self {
        match version {
            0 => self.conditions.push((API_KEYS_VERSION.to_owned(), None)),
            v => self.conditions.push((API_KEYS_VERSION.to_owned(), Some(n(v as i64)))),
        }
        self
    }

    /// A key of the user came or went.
    pub(super) fn bump_api_keys_version(&mut self) -> &mut Self {
        self.adds.push((API_KEYS_VERSION.to_owned(), n(1)));
        self
    }

    pub(super) fn require_equal(&mut self, attribute: &str, value: AttributeValue) -> &mut Self {
        self.conditions.push((attribute.to_owned(), Some(value)));
        self
    }

    pub(super) fn require_absent(&mut self, attribute: &str) -> &mut Self {
        self.conditions.push((attribute.to_owned(), None));
        self
    }

    /// A status change is only ever written with its keys (`Store::follow_keys`).
    pub(super) fn check_keys_follow(&self) -> Result<()> {
        if self.needs_keys() && self.keys.is_none() {
            return Err(Error::Internal("a status change without its API keys".into()));
        }
        Ok(())
    }

    /// The update expression, condition, and their names and values.
    pub(super) fn parts(mut self) -> UpdateParts {
        if let Some(following) = self.keys.take() {
            // Only while the user's keys are still the ones the key items beside it were read for.
            self.require_api_keys_version(following.version).bump_api_keys_version();
        }
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let name = |attribute: &str, names: &mut HashMap<String, String>| {
            let placeholder = format!("#a{}", names.len());
            names.insert(placeholder.clone(), attribute.to_owned());
            placeholder
        };
        let mut sets = Vec::new();
        for (i, (attribute, value)) in self.sets.into_iter().enumerate() {
            let n = name(&attribute, &mut names);
            sets.push(format!("{n} = :s{i}"));
            values.insert(format!(":s{i}"), value);
        }
        let removes: Vec<String> = self.removes.iter().map(|a| name(a, &mut names)).collect();
        let mut adds = Vec::new();
        for (i, (attribute, value)) in self.adds.into_iter().enumerate() {
            let n = name(&attribute, &mut names);
            adds.push(format!("{n} :d{i}"));
            values.insert(format!(":d{i}"), value);
        }
        let mut conditions = vec!["attribute_exists(pk)".to_owned()];
        for (i, (attribute, value)) in self.conditions.into_iter().enumerate() {
            let n = name(&attribute, &mut names);
            match value {
                // A version 0 condition holds while the attribute was never written or is 0.
                None if attribute == CREDENTIAL_VERSION || attribute == API_KEYS_VERSION => {
                    conditions.push(format!("(attribute_not_exists({n}) OR {n} = :c{i})"));
                    values.insert(format!(":c{i}"), self::n(0));
                }
                Some(v) => {
                    conditions.push(format!("{n} = :c{i}"));
                    values.insert(format!(":c{i}"), v);
                }
                None => conditions.push(format!("attribute_not_exists({n})")),
            }
        }
        let mut expression = String::new();
        if !sets.is_empty() {
            expression.push_str(&format!("SET {}", sets.join(", ")));
        }
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        if !adds.is_empty() {
            expression.push_str(&format!(" ADD {}", adds.join(", ")));
        }
        UpdateParts {
            expression: expression.trim().to_owned(),
            condition: conditions.join(" AND "),
            names,
            values: (!values.is_empty()).then_some(values),
        }
    }

    /// The update as transaction items: the user's, then (a status change) each key's.
    pub(super) fn transact_items(self, table: &str, pk: String) -> Result<Vec<TransactWriteItem>> {
        let key_items = match (&self.keys, &self.status) {
            // Each key item and its entry in the user's partition: two items a key, within the
            // transaction's 100 since a user holds at most 45 live keys (`MAX_API_KEYS_PER_USER`).
            (Some(following), _) if self.end_keys => {
                let mut items = Vec::with_capacity(following.key_ids.len() * 2);
                for key_id in &following.key_ids {
                    items.push(delete_item(
                        table,
                        keys::api_key(&following.tenant, key_id),
                        keys::API_KEY,
                        None,
                    )?);
                    items.push(delete_item(table, pk.clone(), &keys::api_key_ref(key_id), None)?);
                }
                items
            }
            (Some(following), Some(status)) => following
                .key_ids
                .iter()
                .map(|key_id| key_status_item(table, &following.tenant, key_id, status))
                .collect::<Result<Vec<_>>>()?,
            _ => Vec::new(),
        };
        let mut items = vec![self.transact_item(table, pk)?];
        items.extend(key_items);
        Ok(items)
    }

    pub(super) fn transact_item(self, table: &str, pk: String) -> Result<TransactWriteItem> {
        self.check_keys_follow()?;
        let p = self.parts();
        let update = Update::builder()
            .table_name(table)
            .key("pk", s(pk))
            .key("sk", s(keys::PROFILE))
            .update_expression(p.expression)
            .condition_expression(p.condition)
            .set_expression_attribute_names(Some(p.names))
            .set_expression_attribute_values(p.values)
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

pub(super) struct UpdateParts {
    pub(super) expression: String,
    pub(super) condition: String,
    pub(super) names: HashMap<String, String>,
    pub(super) values: Option<HashMap<String, AttributeValue>>,
}
