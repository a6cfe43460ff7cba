//! The table's two global secondary indexes, read one way: a page of an index partition (newest
//! first or oldest first, from a start key, optionally filtered), or all of it. `gsi1` holds the
//! pending deletions and the apps being erased, `gsi2` each app's users and audit events by time.

use super::items::s;
use super::transact::unavailable;
use super::{Item, Store};
use crate::error::Result;

#[derive(Clone, Copy)]
pub(super) enum Index {
    Gsi1,
    Gsi2,
}

impl Index {
    fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1",
            Index::Gsi2 => "gsi2",
        }
    }
}

/// A query of one partition of an index.
pub(super) struct IndexQuery {
    index: Index,
    pk: String,
    sk_at_most: Option<String>,
    /// Keeps items whose attribute starts with the prefix (applied to the page read: a page may
    /// then hold fewer than `limit`, and its start key still moves on).
    begins_with: Option<(&'static str, String)>,
    newest_first: bool,
    limit: Option<i32>,
}

impl IndexQuery {
    pub fn new(index: Index, pk: impl Into<String>) -> Self {
        IndexQuery {
            index,
            pk: pk.into(),
            sk_at_most: None,
            begins_with: None,
            newest_first: false,
            limit: None,
        }
    }

    pub fn sk_at_most(self, sk: impl Into<String>) -> Self {
        IndexQuery { sk_at_most: Some(sk.into()), ..self }
    }

    pub fn begins_with(self, attribute: &'static str, prefix: Option<&str>) -> Self {
        IndexQuery { begins_with: prefix.map(|p| (attribute, p.to_owned())), ..self }
    }

    pub fn newest_first(self) -> Self {
        IndexQuery { newest_first: true, ..self }
    }

    pub fn limit(self, limit: i32) -> Self {
        IndexQuery { limit: Some(limit), ..self }
    }
}

impl Store {
    /// One page of `query` from `start`: its items, and the key the next page starts after.
    pub(super) async fn index_page(
        &self,
        query: &IndexQuery,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>)> {
        let (sk, sk_condition) = match &query.sk_at_most {
            Some(sk) => (Some(sk), " AND #sk <= :sk"),
            None => (None, ""),
        };
        let mut q = self
            .client()
            .query()
            .table_name(&self.table)
            .index_name(query.index.name())
            .key_condition_expression(format!("#pk = :pk{sk_condition}"))
            .expression_attribute_names("#pk", format!("{}pk", query.index.name()))
            .expression_attribute_values(":pk", s(query.pk.clone()))
            .scan_index_forward(!query.newest_first)
            .set_limit(query.limit)
            .set_exclusive_start_key(start);
        if let Some(sk) = sk {
            q = q
                .expression_attribute_names("#sk", format!("{}sk", query.index.name()))
                .expression_attribute_values(":sk", s(sk.clone()));
        }
        if let Some((attribute, prefix)) = &query.begins_with {
            q = q
                .filter_expression("begins_with(#attr, :prefix)")
                .expression_attribute_names("#attr", *attribute)
                .expression_attribute_values(":prefix", s(prefix.clone()));
        }
        let out = q.send().await.map_err(unavailable)?;
        let next = out.last_evaluated_key.filter(|k| !k.is_empty());
        Ok((out.items.unwrap_or_default(), next))
    }

    /// Every item of `query`, page after page.
    pub(super) async fn index_all(&self, query: &IndexQuery) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let (page, next) = self.index_page(query, start).await?;
            items.extend(page);
            match next {
                Some(key) => start = Some(key),
                None => return Ok(items),
            }
        }
    }
}
