//! An app's secret keys: created (shown once) and revoked.

use lambda_http::http::StatusCode;
use shared::console::{self, AppView};
use shared::error::Error;
use shared::tokens::Identity;

use crate::dashboard::Page;
use crate::dashboard::views::{self, Field, Form, Row, ShownOnce, Table};
use crate::edge::page::PageResult;

use super::*;

pub(super) async fn secret_keys(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    form: Option<FormData>,
) -> PageResult {
    let mut layout = app_layout(p, view, "secret-keys", "Secret keys");
    let mut fields =
        vec![Field::new("label", "Label", "text").hint("What the key is for, e.g. production backend.")];
    let mut status = StatusCode::OK;
    if let Some(form) = &form {
        let label = Some(value(Some(form), "label").trim().to_owned()).filter(|l| !l.is_empty());
        let label = match label {
            Some(l) if l.chars().count() > 100 || l.chars().any(char::is_control) => {
                Err(Error::field("label", "too_long_or_control_characters"))
            }
            l => Ok(l),
        };
        let created = match label {
            Ok(label) => console::create_secret_key(p.app, who, &view.id, label, &p.cx.client).await,
            Err(e) => Err(e),
        };
        match created {
            Ok(created) => {
                layout.secret = Some(ShownOnce {
                    label: format!("Secret key “{}”", created.label),
                    value: created.key,
                });
                status = StatusCode::CREATED;
            }
            Err(e) => status = refused(e, &mut fields, &mut layout)?,
        }
    }
    let keys = console::list_secret_keys(p.app, who, &view.id).await?;
    let base = format!("/dashboard/apps/{}/secret-keys", view.id);
    let rows = keys
        .into_iter()
        .map(|k| Row {
            title: if k.label.is_empty() { "(no label)".into() } else { k.label },
            href: None,
            cells: vec![k.hint, k.created_at.format("%Y-%m-%d %H:%M UTC").to_string()],
            actions: vec![(format!("{base}/{}/revoke", k.id), "Revoke", true)],
        })
        .collect();
    let mut page = section(
        &layout,
        "Secret keys",
        "Your backend's keys for the management API (Authorization: Bearer sk_...). Keep them on servers only.",
    );
    page.table = Some(Table {
        heading: "Keys",
        columns: vec!["Label", "Key", "Created"],
        rows,
        empty: "No secret keys yet. Create one to call the management API from your backend.",
        filter: None,
        next: None,
    });
    page.forms.push((
        "Create a secret key".into(),
        Form { id: "key", action: base, fields, submit: "Create secret key", danger: false },
    ));
    views::page(status, &page)
}
