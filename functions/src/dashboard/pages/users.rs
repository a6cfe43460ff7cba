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
use crate::dashboard::views::{self, Field, Form, Layout, Row};
use crate::edge::page::PageResult;

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

pub(super) async fn users(p: &mut Page<'_>, who: &Identity, view: &AppView) -> PageResult {
    let list = List {
        tab: "users",
        heading: "Users",
        lead: "The people who signed up to this app, newest first.",
        table: "Users",
        columns: vec!["Email", "Name", "Status", "Verified", "Created"],
        empty: (
            "No users yet. They appear here when they sign up, or when your backend creates them.",
            "No user's email starts with that.",
        ),
        filter: ("email", "Search by email"),
    };
    let tenant = management(p, who, view).await?;
    let filter = ListFilter::read(p, &list, |typed| match typed.len() {
        ..=320 => Ok(Email::normalize_prefix(typed)),
        _ => Err("That search is too long."),
    });
    let listed = match filter.usable() {
        Some(prefix) => {
            let cursor = p.query("cursor");
            let prefix = prefix.map(String::as_str);
            Some(admin::list_users(p.app, &tenant, PAGE_SIZE, cursor.as_deref(), prefix).await)
        }
        None => None,
    };
    list.show(p, view, &filter, listed, |u, base| Row {
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
) -> PageResult {
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
            ["remove-factors"] => shared::mfa::remove_all(p.app, &tenant, user_id, &owner.actor(), client)
                .await
                .map(|_| "factors_removed"),
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
            _ => return Err(Error::NotFound.into()),
        };
        return match done {
            Ok(done) => to(format!("{base}?done={done}")),
            Err(e) => {
                let user = admin::user(p.app, &tenant, user_id).await?;
                let factors = shared::mfa::factors(p.app, &tenant.id, user_id).await?;
                let mut layout = app_layout(p, view, "users", &user.email);
                let status = refused(e, &mut [], &mut layout)?;
                user_view(&layout, view, &user, &factors, status)
            }
        };
    }
    if !action.is_empty() {
        return Err(Error::NotFound.into());
    }
    let user = admin::user(p.app, &tenant, user_id).await?;
    let factors = shared::mfa::factors(p.app, &tenant.id, user_id).await?;
    let layout = app_layout(p, view, "users", &user.email);
    user_view(&layout, view, &user, &factors, StatusCode::OK)
}

pub(super) fn user_view(
    layout: &Layout,
    view: &AppView,
    user: &shared::model::UserRecord,
    factors: &[shared::mfa::FactorView],
    status: StatusCode,
) -> PageResult {
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
        ("Second factors", factor_list(factors)),
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
    if !factors.is_empty() {
        page.forms.push((
            "Second factors".into(),
            button("factors", "remove-factors", "Remove every second factor (a lost device)", true),
        ));
    }
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

/// A user's factors as one line: each one's name, kind and last use.
fn factor_list(factors: &[shared::mfa::FactorView]) -> String {
    if factors.is_empty() {
        return "None".into();
    }
    factors
        .iter()
        .map(|f| {
            let kind = match f.kind {
                shared::model::FactorKind::Totp => "authenticator app",
                shared::model::FactorKind::Webauthn => "security key",
            };
            let used = f
                .last_used_at
                .map_or("never used".to_owned(), |t| format!("last used {}", t.format("%Y-%m-%d")));
            format!("{} ({kind}, {used})", f.name)
        })
        .collect::<Vec<_>>()
        .join("; ")
}
