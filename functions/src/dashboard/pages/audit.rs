//! An app's audit trail, paginated and filtered.

use lambda_http::http::StatusCode;
use serde_json::Value;
use shared::console::AppView;
use shared::error::Result;
use shared::ids::UserId;
use shared::tokens::Identity;

use crate::dashboard::Page;
use crate::dashboard::views::{self, Filter, Row, Table};
use crate::edge::http::Reply;

use super::*;

pub(super) async fn audit(p: &mut Page<'_>, who: &Identity, view: &AppView) -> Result<Reply> {
    let mut layout = app_layout(p, view, "audit", "Audit log");
    let mut status = StatusCode::OK;
    let tenant = management(p, who, view).await?;
    let filter = p.query("user_id").map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
    let user_id = match &filter {
        Some(raw) => match UserId::parse(raw) {
            Some(id) => Some(id),
            None => {
                layout.error = Some("That is not a user id.".into());
                status = StatusCode::BAD_REQUEST;
                None
            }
        },
        None => None,
    };
    let base = format!("/dashboard/apps/{}/audit", view.id);
    let (rows, next) = if filter.is_some() && user_id.is_none() {
        (Vec::new(), None)
    } else {
        match crate::admin::audit::events(
            p.app,
            &tenant,
            PAGE_SIZE,
            p.query("cursor").as_deref(),
            user_id.as_ref(),
        )
        .await
        {
            Ok(page) => {
                let rows = page
                    .items
                    .into_iter()
                    .map(|e| Row {
                        title: e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                        href: None,
                        cells: vec![
                            e.kind,
                            e.user_id.to_string(),
                            e.ip.unwrap_or_default(),
                            if e.details.is_empty() {
                                String::new()
                            } else {
                                Value::Object(e.details).to_string()
                            },
                        ],
                        actions: Vec::new(),
                    })
                    .collect();
                let next =
                    page.next_cursor.map(|c| next_page(&base, filter.as_deref().map(|u| ("user_id", u)), &c));
                (rows, next)
            }
            Err(e) => {
                status = refused(e, &mut [], &mut layout)?;
                (Vec::new(), None)
            }
        }
    };
    let mut page = section(&layout, "Audit log", "The app's security events, newest first.");
    page.table = Some(Table {
        heading: "Events",
        columns: vec!["When", "Event", "User", "IP address", "Details"],
        rows,
        empty: "No events yet.",
        filter: Some(Filter {
            name: "user_id",
            label: "Filter by user id",
            value: filter.clone().unwrap_or_default(),
            action: base,
        }),
        next,
    });
    views::page(status, &page)
}
