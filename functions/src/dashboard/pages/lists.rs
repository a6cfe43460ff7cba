//! The app's paged lists (users, audit events): a filter from the query, a page of the management
//! API's list, its rows, and the link to the next page, made one way for both.

use lambda_http::http::StatusCode;
use shared::console::AppView;
use shared::error::Result;
use shared::store::Page as Listed;

use crate::dashboard::Page;
use crate::dashboard::views::{self, Filter, Row, Table};
use crate::edge::page::PageResult;

use super::*;

/// What one list page shows: its tab and words, its columns, and its one filter box.
pub(super) struct List {
    pub tab: &'static str,
    pub heading: &'static str,
    pub lead: &'static str,
    /// The table's own heading.
    pub table: &'static str,
    pub columns: Vec<&'static str>,
    /// The words of an empty list, unfiltered and filtered.
    pub empty: (&'static str, &'static str),
    /// The filter's query parameter and label.
    pub filter: (&'static str, &'static str),
}

/// A list's filter, read from the query: as typed (shown in the box again), and parsed; a value
/// that cannot be a filter is the words saying why.
pub(super) struct ListFilter<F> {
    typed: Option<String>,
    parsed: std::result::Result<Option<F>, &'static str>,
}

impl<F> ListFilter<F> {
    pub fn read(
        p: &Page<'_>,
        list: &List,
        parse: impl FnOnce(&str) -> std::result::Result<F, &'static str>,
    ) -> Self {
        let typed = p.query(list.filter.0).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let parsed = typed.as_deref().map(parse).transpose();
        ListFilter { typed, parsed }
    }

    /// The filter to list with (`None`: every row), or nothing to list: the filter is unusable.
    pub fn usable(&self) -> Option<Option<&F>> {
        self.parsed.as_ref().ok().map(Option::as_ref)
    }
}

impl List {
    /// The list page: the rows of `listed` (a list the filter kept from being asked for is empty
    /// and says why; the API's refusal is words on the page), the filter and the next page.
    pub fn show<T, F>(
        &self,
        p: &Page<'_>,
        view: &AppView,
        filter: &ListFilter<F>,
        listed: Option<Result<Listed<T>>>,
        row: impl Fn(T, &str) -> Row,
    ) -> PageResult {
        let mut layout = app_layout(p, view, self.tab, self.heading);
        let mut status = StatusCode::OK;
        let base = format!("/dashboard/apps/{}/{}", view.id, self.tab);
        let (rows, next) = match listed {
            Some(Ok(page)) => {
                let next = page
                    .next_cursor
                    .map(|c| next_page(&base, filter.typed.as_deref().map(|v| (self.filter.0, v)), &c));
                (page.items.into_iter().map(|item| row(item, &base)).collect(), next)
            }
            Some(Err(e)) => {
                status = refused(e, &mut [], &mut layout)?;
                (Vec::new(), None)
            }
            None => {
                layout.error = filter.parsed.as_ref().err().map(|words| (*words).to_owned());
                status = StatusCode::BAD_REQUEST;
                (Vec::new(), None)
            }
        };
        let mut page = section(&layout, self.heading, self.lead);
        page.table = Some(Table {
            heading: self.table,
            columns: self.columns.clone(),
            rows,
            empty: if filter.typed.is_some() { self.empty.1 } else { self.empty.0 },
            filter: Some(Filter {
                name: self.filter.0,
                label: self.filter.1,
                value: filter.typed.clone().unwrap_or_default(),
                action: base,
            }),
            next,
        });
        views::page(status, &page)
    }
}

/// The link to a list's next page: its filter kept, the cursor the API handed out.
fn next_page(base: &str, filter: Option<(&str, &str)>, cursor: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some((name, value)) = filter {
        query.append_pair(name, value);
    }
    format!("{base}?{}", query.append_pair("cursor", cursor).finish())
}
