//! An app's users: listed newest first, searched, created, edited, their sessions ended, deleted.

use lambda_http::http::StatusCode;
use shared::admin::{self, UserChanges};
use shared::caller::Caller;
use shared::console::AppView;
use shared::domain::Email;
use shared::error::{Error, Result};
use shared::ids::UserId;
use shared::model::UserStatus;
use shared::ratelimit::{self, Route};
use shared::tokens::Identity;

use crate::dashboard::Page;
use crate::dashboard::views::{self, Field, Filter, Form, Layout, Row, Table};
use crate::edge::http::Reply;

use super::*;

/// The app, for a page of the management API's calls: counted against the management API's
/// quota of the app (per owner), as its routes count a console caller.
pub(super) async fn management(
    p: &Page<'_>,
    who: &Identity,
    view: &AppView,
) -> Result<std::sync::Arc<shared::Tenant>> {
    let actor = Caller::AppOwner(who.clone()).actor();
    ratelimit::hit(p.app, &view.id, Route::Admin, &p.cx.client, Some(&actor)).await?;
    p.app.tenant(&view.id).await
}

pub(super) async fn users(p: &mut Page<'_>, who: &Identity, view: &AppView) -> Result<Reply> {
    let mut layout = app_layout(p, view, "users", "Users");
    let mut status = StatusCode::OK;
    let tenant = management(p, who, view).await?;
    let search = p.query("email").map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
    let cursor = p.query("cursor");
    let prefix = match &search {
        Some(e) if e.len() <= 320 => Some(Email::normalize_prefix(e)),
        Some(_) => {
            layout.error = Some("That search is too long.".into());
            status = StatusCode::BAD_REQUEST;
            None
        }
        None => None,
    };
    let base = format!("/dashboard/apps/{}/users", view.id);
    let (rows, next) =
        match admin::list_users(p.app, &tenant, PAGE_SIZE, cursor.as_deref(), prefix.as_deref()).await {
            Ok(page) => {
                let rows = page
                    .items
                    .into_iter()
                    .map(|u| Row {
                        href: Some(format!("{base}/{}", u.user.id)),
                        title: u.user.email.clone(),
                        cells: vec![
                            u.user.name.clone().unwrap_or_default(),
                            status_name(u.status).into(),
                            if u.user.email_verified { "Yes".into() } else { "No".into() },
                            u.user.created_at.format("%Y-%m-%d").to_string(),
                        ],
                        actions: Vec::new(),
                    })
                    .collect();
                let next =
                    page.next_cursor.map(|c| next_page(&base, search.as_deref().map(|s| ("email", s)), &c));
                (rows, next)
            }
            Err(e) => {
                status = refused(e, &mut [], &mut layout)?;
                (Vec::new(), None)
            }
        };
    let mut page = section(&layout, "Users", "The people who signed up to this app, newest first.");
    page.table = Some(Table {
        heading: "Users",
        columns: vec!["Email", "Name", "Status", "Verified", "Created"],
        rows,
        empty: if search.is_some() {
            "No user's email starts with that."
        } else {
            "No users yet. They appear here when they sign up, or when your backend creates them."
        },
        filter: Some(Filter {
            name: "email",
            label: "Search by email",
            value: search.clone().unwrap_or_default(),
            action: base,
        }),
        next,
    });
    views::page(status, &page)
}

/// The link to a list's next page: its filter kept, the cursor the API handed out.
pub(super) fn next_page(base: &str, filter: Option<(&str, &str)>, cursor: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some((name, value)) = filter {
        query.append_pair(name, value);
    }
    format!("{base}?{}", query.append_pair("cursor", cursor).finish())
}

pub(super) fn status_name(status: UserStatus) -> &'static str {
    match status {
        UserStatus::Active => "Active",
        UserStatus::Disabled => "Disabled",
        UserStatus::PendingDeletion => "Pending deletion",
    }
}

pub(super) async fn user_page(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    user_id: &UserId,
    action: &[&str],
    form: Option<FormData>,
) -> Result<Reply> {
    let tenant = management(p, who, view).await?;
    let owner = Caller::AppOwner(who.clone());
    let client = &p.cx.client;
    let base = format!("/dashboard/apps/{}/users/{user_id}", view.id);
    if let Some(form) = form {
        let disable = |on: bool| UserChanges { disabled: Some(on), ..Default::default() };
        let done = match action {
            ["disable"] => admin::update_user(p.app, &tenant, &owner, user_id, disable(true), client)
                .await
                .map(|_| "user_disabled"),
            ["enable"] => admin::update_user(p.app, &tenant, &owner, user_id, disable(false), client)
                .await
                .map(|_| "user_enabled"),
            ["revoke-sessions"] => {
                admin::revoke_sessions(p.app, &tenant, user_id, client).await.map(|_| "sessions_revoked")
            }
            ["password-reset"] => {
                admin::send_password_reset(p.app, &tenant, user_id, client).await.map(|_| "reset_sent")
            }
            ["delete"] => {
                let user = admin::user(p.app, &tenant, user_id).await?;
                if value(Some(&form), "confirm").trim() != user.email {
                    let layout = app_layout(p, view, "users", "Delete");
                    return p.card(
                        StatusCode::BAD_REQUEST,
                        &layout,
                        "The email does not match",
                        "Nothing was deleted. Go back and type the user's email exactly.",
                    );
                }
                admin::delete_user(p.app, &tenant, &owner, user_id, client).await?;
                return to(format!("/dashboard/apps/{}/users?done=user_deleted", view.id));
            }
            _ => return Err(Error::NotFound),
        };
        return match done {
            Ok(done) => to(format!("{base}?done={done}")),
            Err(e) => {
                let user = admin::user(p.app, &tenant, user_id).await?;
                let mut layout = app_layout(p, view, "users", &user.email);
                let status = refused(e, &mut [], &mut layout)?;
                user_view(&layout, view, &user, status)
            }
        };
    }
    if !action.is_empty() {
        return Err(Error::NotFound);
    }
    let user = admin::user(p.app, &tenant, user_id).await?;
    let layout = app_layout(p, view, "users", &user.email);
    user_view(&layout, view, &user, StatusCode::OK)
}

pub(super) fn user_view(
    layout: &Layout,
    view: &AppView,
    user: &shared::model::UserRecord,
    status: StatusCode,
) -> Result<Reply> {
    let shown = admin::AdminUserView::from(user);
    let base = format!("/dashboard/apps/{}/users/{}", view.id, user.user_id);
    let mut page = section(layout, &user.email, "");
    page.links = vec![
        (format!("/dashboard/apps/{}/users", view.id), "All users"),
        (format!("/dashboard/apps/{}/audit?user_id={}", view.id, user.user_id), "This user's audit events"),
    ];
    page.facts = vec![
        ("User id", user.user_id.to_string()),
        ("Email", user.email.clone()),
        ("Name", shown.user.name.clone().unwrap_or_else(|| "—".into())),
        ("Status", status_name(user.status).into()),
        ("Email verified", if user.email_verified { "Yes".into() } else { "No".into() }),
        ("Sign-in methods", shown.user.providers.join(", ")),
        ("Created", user.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
    ];
    let button = |id: &'static str, path: &str, submit: &'static str, danger: bool| Form {
        id,
        action: format!("{base}/{path}"),
        fields: Vec::new(),
        submit,
        danger,
    };
    match user.status {
        UserStatus::Active => page.forms.push((
            "Disable".into(),
            button("disable", "disable", "Disable user (ends their sessions and API keys)", true),
        )),
        UserStatus::Disabled => {
            page.forms.push(("Enable".into(), button("enable", "enable", "Enable user", false)))
        }
        UserStatus::PendingDeletion => {}
    }
    page.forms.push(("Sessions".into(), button("sessions", "revoke-sessions", "Sign out everywhere", false)));
    if user.status == UserStatus::Active {
        page.forms.push((
            "Password".into(),
            button("reset", "password-reset", "Send a password reset mail", false),
        ));
    }
    let mut delete = button("delete", "delete", "Delete user", true);
    delete.fields = vec![
        Field::new("confirm", "Type the user's email to confirm", "text")
            .required()
            .hint("Erases the account, its sessions, keys and audit trail at once. This cannot be undone."),
    ];
    page.forms.push(("Delete".into(), delete));
    views::page(status, &page)
}
