//! The apps list, creating an app, and an app's pages routed by their path.

use lambda_http::http::StatusCode;
use shared::console::{self, AppView};
use shared::error::Error;
use shared::ids::{AppId, ClientId, KeyId, UserId};
use shared::social::ProviderId;

use crate::dashboard::views::{
    self, AppNav, AppRow, AppsPage, Field, Form, Layout, OverviewPage, SectionPage,
};
use crate::dashboard::{Page, json_of};
use crate::edge::page::PageResult;

use super::*;

pub(super) async fn apps(p: &mut Page<'_>) -> PageResult {
    let who = p.developer().await?;
    let mut layout = p.layout("Apps");
    layout.notice = notice(p);
    let apps = console::list_apps(p.app, &who).await?;
    let apps = apps
        .into_iter()
        .map(|a| AppRow {
            id: a.id.to_string(),
            name: a.name,
            created: a.created_at.format("%Y-%m-%d").to_string(),
        })
        .collect();
    views::page(StatusCode::OK, &AppsPage { l: &layout, apps })
}

pub(super) async fn new_app(p: &mut Page<'_>, form: Option<FormData>) -> PageResult {
    let who = p.developer().await?;
    let mut layout = p.layout("Create an app");
    let mut fields = vec![
        Field::new("name", "Name", "text").value(value(form.as_ref(), "name")).required().hint("Shown to your users in mails and on sign-in pages."),
        Field::new("frontend_url", "Front-end URL (optional)", "url")
            .value(value(form.as_ref(), "frontend_url"))
            .hint("Where the links in your users' mails lead, e.g. https://app.example.com. You can set it later."),
    ];
    let mut status = StatusCode::OK;
    if let Some(form) = &form {
        let mut map = json_of(form, &["name", "frontend_url"], &[], &[], &[]);
        map.retain(|k, v| k != "frontend_url" || v.as_str().is_some_and(|s| !s.is_empty()));
        match console::create_app(p.app, &who, &map, &p.cx.client).await {
            Ok(created) => return to(format!("/dashboard/apps/{}?done=app_created", created.id)),
            Err(Error::Conflict) => {
                let max = p.app.config.max_apps_per_developer;
                layout.error = Some(format!("You have reached the limit of {max} apps: delete one first."));
                status = StatusCode::CONFLICT;
            }
            Err(e) => status = refused(e, &mut fields, &mut layout)?,
        }
    }
    let form =
        Form { id: "app", action: "/dashboard/apps/new".into(), fields, submit: "Create app", danger: false };
    card_form(
        status,
        &layout,
        "Create an app",
        "A pool of users with its own settings and keys.",
        form,
        Vec::new(),
    )
}

/// The pages of one of the developer's apps; another's, a deleted or an unknown app is 404.
pub(super) async fn app_page(
    p: &mut Page<'_>,
    id: &AppId,
    rest: &[&str],
    form: Option<FormData>,
) -> PageResult {
    let who = p.developer().await?;
    let view = console::get_app(p.app, &who, id).await?;
    let base = format!("/dashboard/apps/{id}");
    let post = form.is_some();
    match (post, rest) {
        (false, []) => overview(p, &view),
        (_, ["settings"]) => Box::pin(settings(p, &who, &view, form)).await,
        (true, ["delete"]) => Box::pin(delete_app(p, &who, &view, form.unwrap_or_default())).await,
        (_, ["secret-keys"]) => Box::pin(secret_keys(p, &who, &view, form)).await,
        (true, ["secret-keys", key, "revoke"]) => {
            let key = KeyId::parse(key).ok_or(Error::NotFound)?;
            console::revoke_secret_key(p.app, &who, id, &key, &p.cx.client).await?;
            to(format!("{base}/secret-keys?done=key_revoked"))
        }
        (_, ["oauth-clients"]) => Box::pin(oauth_clients(p, &who, &view, form)).await,
        (_, ["oauth-clients", client, action @ ..]) => {
            let client_id = ClientId::parse(client).ok_or(Error::NotFound)?;
            Box::pin(oauth_client(p, &who, &view, &client_id, action, form)).await
        }
        (false, ["providers"]) => Box::pin(providers(p, &who, &view, None)).await,
        (true, ["providers", provider]) => {
            let provider = ProviderId::parse(provider).ok_or(Error::NotFound)?;
            Box::pin(providers(p, &who, &view, Some((provider, form.unwrap_or_default())))).await
        }
        (true, ["providers", provider, "delete"]) => {
            let provider = ProviderId::parse(provider).ok_or(Error::NotFound)?;
            console::delete_provider(p.app, &who, id, provider, &p.cx.client).await?;
            to(format!("{base}/providers?done=provider_removed"))
        }
        (false, ["users"]) => Box::pin(users(p, &who, &view)).await,
        (_, ["users", user, action @ ..]) => {
            let user_id = UserId::parse(user).ok_or(Error::NotFound)?;
            Box::pin(user_page(p, &who, &view, &user_id, action, form)).await
        }
        (false, ["audit"]) => Box::pin(audit(p, &who, &view)).await,
        _ => Err(Error::NotFound.into()),
    }
}

pub(super) fn app_layout(p: &Page<'_>, view: &AppView, tab: &'static str, title: &str) -> Layout {
    let mut layout = p.layout(format!("{title} · {}", view.name));
    layout.app = Some(AppNav { id: view.id.to_string(), name: view.name.clone(), tab });
    layout.notice = notice(p);
    layout
}

pub(super) fn section<'a>(layout: &'a Layout, heading: &'a str, lead: &'a str) -> SectionPage<'a> {
    SectionPage {
        l: layout,
        heading,
        lead,
        facts: Vec::new(),
        links: Vec::new(),
        table: None,
        forms: Vec::new(),
    }
}

pub(super) fn overview(p: &Page<'_>, view: &AppView) -> PageResult {
    let layout = app_layout(p, view, "overview", "Overview");
    let issuer = &view.issuer;
    let facts = vec![
        ("App id", view.id.to_string()),
        ("Issuer", issuer.clone()),
        ("Discovery URL", format!("{issuer}/.well-known/openid-configuration")),
        ("JWKS URL", format!("{issuer}/.well-known/jwks.json")),
    ];
    let endpoints = vec![
        ("Sign up", format!("POST {issuer}/api/v1/auth/register")),
        ("Sign in", format!("POST {issuer}/api/v1/auth/login")),
        ("Refresh", format!("POST {issuer}/api/v1/auth/token/refresh")),
        ("Current user", format!("GET {issuer}/api/v1/users/me")),
        ("Management API", format!("{issuer}/api/v1/admin/users")),
        ("OAuth authorize", format!("GET {issuer}/oauth/authorize")),
        ("OAuth token", format!("POST {issuer}/oauth/token")),
    ];
    let curl_signup = format!(
        "curl -X POST '{issuer}/api/v1/auth/register' \\\n  -H 'content-type: application/json' \\\n  -d '{{\"email\": \"ada@example.com\", \"password\": \"a long Passphrase 1\"}}'"
    );
    let curl_admin = format!("curl '{issuer}/api/v1/admin/users' \\\n  -H 'authorization: Bearer sk_...'");
    let page =
        OverviewPage { l: &layout, facts, endpoints, app_id: view.id.to_string(), curl_signup, curl_admin };
    views::page(StatusCode::OK, &page)
}
