//! An app's audit trail, paginated and filtered.

use serde_json::Value;
use shared::console::AppView;
use shared::ids::UserId;
use shared::tokens::Identity;

use crate::dashboard::Page;
use crate::dashboard::views::Row;
use crate::edge::page::PageResult;

use super::*;

pub(super) async fn audit(p: &mut Page<'_>, who: &Identity, view: &AppView) -> PageResult {
    let list = List {
        tab: "audit",
        heading: "Audit log",
        lead: "The app's security events, newest first.",
        table: "Events",
        columns: vec!["When", "Event", "User", "IP address", "Details"],
        empty: ("No events yet.", "No events yet."),
        filter: ("user_id", "Filter by user id"),
    };
    let tenant = management(p, who, view).await?;
    let filter = ListFilter::read(p, &list, |typed| UserId::parse(typed).ok_or("That is not a user id."));
    let listed = match filter.usable() {
        Some(user) => {
            let cursor = p.query("cursor");
            Some(crate::admin::audit::events(p.app, &tenant, PAGE_SIZE, cursor.as_deref(), user).await)
        }
        None => None,
    };
    list.show(p, view, &filter, listed, |e, _| Row {
        title: e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        href: None,
        cells: vec![
            e.kind,
            e.user_id.to_string(),
            e.ip.unwrap_or_default(),
            if e.details.is_empty() { String::new() } else { Value::Object(e.details).to_string() },
        ],
        actions: Vec::new(),
    })
}
