//! An app's OAuth clients: registered, edited, their secret rotated (shown once), deleted.

use lambda_http::http::StatusCode;
use serde_json::{Map, Value};
use shared::console::AppView;
use shared::error::Error;
use shared::ids::ClientId;
use shared::model::{ClientType, GrantType};
use shared::oauth::clients::{self, ClientView};
use shared::tokens::Identity;

use crate::dashboard::views::{self, Field, Form, Row, ShownOnce, Table};
use crate::dashboard::{Page, json_of};
use crate::edge::page::PageResult;

use super::*;

pub(super) const CLIENT_TYPES: [(&str, &str); 2] = [
    ("confidential", "Confidential: a server that keeps a secret"),
    ("public", "Public: a browser or mobile app (PKCE)"),
];

pub(super) fn client_fields(form: Option<&FormData>, current: Option<&ClientView>) -> Vec<Field> {
    let pick = |name: &str, stored: String| match form {
        Some(f) => value(Some(f), name),
        None => stored,
    };
    let flag = |name: &str, stored: bool| match form {
        Some(f) => f.contains_key(name),
        None => stored,
    };
    let grants = current
        .map(|c| c.settings.grant_types.clone())
        .unwrap_or(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]);
    let mut fields = vec![
        Field::new("name", "Name", "text")
            .value(pick("name", current.map(|c| c.settings.name.clone()).unwrap_or_default()))
            .required()
            .hint("Shown on the consent page."),
    ];
    if current.is_none() {
        fields.push(
            Field::new("type", "Type", "select")
                .value(pick("type", "confidential".into()))
                .options(&CLIENT_TYPES),
        );
    }
    fields.extend([
        Field::new("redirect_uris", "Redirect URIs", "textarea")
            .value(pick(
                "redirect_uris",
                current.map(|c| c.settings.redirect_uris.join("\n")).unwrap_or_default(),
            ))
            .hint("One per line, compared exactly: https://, or http:// on localhost."),
        Field::new("post_logout_redirect_uris", "Post-logout redirect URIs", "textarea")
            .value(pick(
                "post_logout_redirect_uris",
                current.map(|c| c.settings.post_logout_redirect_uris.join("\n")).unwrap_or_default(),
            ))
            .hint("One per line (optional)."),
        Field::new("scopes", "Scopes", "text")
            .value(pick(
                "scopes",
                current.map(|c| c.settings.scopes.join(" ")).unwrap_or("openid profile email".into()),
            ))
            .hint("Separated by spaces: openid, profile, email, offline_access and the app's own."),
        Field::new("grant_authorization_code", "Authorization code (users sign in)", "checkbox")
            .checked(flag("grant_authorization_code", grants.contains(&GrantType::AuthorizationCode))),
        Field::new("grant_refresh_token", "Refresh tokens", "checkbox")
            .checked(flag("grant_refresh_token", grants.contains(&GrantType::RefreshToken))),
        Field::new("grant_client_credentials", "Client credentials (the client acts for itself)", "checkbox")
            .checked(flag("grant_client_credentials", grants.contains(&GrantType::ClientCredentials))),
        Field::new("first_party", "First party: your own app, users are not asked to consent", "checkbox")
            .checked(flag("first_party", current.is_some_and(|c| c.settings.first_party))),
    ]);
    // A public client always uses PKCE and never introspects: only a confidential one chooses.
    if current.is_none_or(|c| c.client_type == ClientType::Confidential) {
        fields.extend([
            Field::new("require_pkce", "Require PKCE (RFC 9700; public clients always use it)", "checkbox")
                .checked(flag("require_pkce", current.is_none_or(|c| c.settings.require_pkce))),
            Field::new(
                "introspect_any",
                "Resource server: may introspect every token of the app, not only its own",
                "checkbox",
            )
            .checked(flag("introspect_any", current.is_some_and(|c| c.settings.introspect_any))),
        ]);
    }
    fields
}

/// The client form as the API's body; the grant checkboxes make `grant_types`, whose rule names
/// the mistake (shown next to the first of them).
pub(super) fn client_json(form: &FormData, creating: bool, client_type: ClientType) -> Map<String, Value> {
    let texts: &[&str] = if creating { &["name", "type"] } else { &["name"] };
    let flags: &[&str] = match client_type {
        ClientType::Confidential => &["first_party", "require_pkce", "introspect_any"],
        // Not on a public client's form (see client_fields): an absent box is not a "no" here.
        ClientType::Public => &["first_party"],
    };
    let mut map = json_of(form, texts, &["redirect_uris", "post_logout_redirect_uris", "scopes"], flags, &[]);
    let grants: Vec<Value> = [
        ("grant_authorization_code", "authorization_code"),
        ("grant_refresh_token", "refresh_token"),
        ("grant_client_credentials", "client_credentials"),
    ]
    .into_iter()
    .filter(|(field, _)| form.contains_key(*field))
    .map(|(_, grant)| Value::String(grant.into()))
    .collect();
    map.insert("grant_types".into(), Value::Array(grants));
    map
}

/// The API's `grant_types` rule goes next to the first grant checkbox.
pub(super) fn place_grant_errors(e: Error) -> Error {
    match e {
        Error::Validation(mut errors) => {
            if let Some(rules) = errors.remove("grant_types") {
                errors.insert("grant_authorization_code".into(), rules);
            }
            Error::Validation(errors)
        }
        e => e,
    }
}

pub(super) async fn oauth_clients(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    form: Option<FormData>,
) -> PageResult {
    let mut layout = app_layout(p, view, "oauth-clients", "OAuth clients");
    let mut fields = client_fields(form.as_ref(), None);
    let mut status = StatusCode::OK;
    if let Some(form) = &form {
        let client_type =
            if value(Some(form), "type") == "public" { ClientType::Public } else { ClientType::Confidential };
        match clients::create(p.app, who, &view.id, &client_json(form, true, client_type), &p.cx.client).await
        {
            Ok(created) => {
                let secret =
                    created.client_secret.map(|value| ShownOnce { label: "Client secret".into(), value });
                return client_page(p, view, created.client, secret, StatusCode::CREATED, None);
            }
            Err(e) => status = refused(place_grant_errors(e), &mut fields, &mut layout)?,
        }
    }
    let list = clients::list(p.app, who, &view.id).await?;
    let base = format!("/dashboard/apps/{}/oauth-clients", view.id);
    let rows = list
        .into_iter()
        .map(|c| Row {
            href: Some(format!("{base}/{}", c.client_id)),
            title: c.settings.name.clone(),
            cells: vec![
                c.client_id.to_string(),
                type_name(c.client_type).into(),
                c.settings.grant_types.iter().map(|g| <&str>::from(*g)).collect::<Vec<_>>().join(", "),
            ],
            actions: Vec::new(),
        })
        .collect();
    let mut page = section(
        &layout,
        "OAuth clients",
        "Third-party and your own apps that sign your users in through this app's OAuth 2.0 / OpenID Connect provider.",
    );
    page.table = Some(Table {
        heading: "Clients",
        columns: vec!["Name", "Client id", "Type", "Grants"],
        rows,
        empty: "No OAuth clients yet. Register one to let an application sign your users in.",
        filter: None,
        next: None,
    });
    page.forms.push((
        "Register an OAuth client".into(),
        Form { id: "client", action: base, fields, submit: "Register client", danger: false },
    ));
    views::page(status, &page)
}

pub(super) fn type_name(t: ClientType) -> &'static str {
    match t {
        ClientType::Confidential => "Confidential",
        ClientType::Public => "Public",
    }
}

pub(super) async fn oauth_client(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    client_id: &ClientId,
    action: &[&str],
    form: Option<FormData>,
) -> PageResult {
    let base = format!("/dashboard/apps/{}/oauth-clients", view.id);
    match (form, action) {
        (None, []) => {
            let client = clients::get(p.app, who, &view.id, client_id).await?;
            client_page(p, view, client, None, StatusCode::OK, None)
        }
        (Some(form), []) => {
            let client = clients::get(p.app, who, &view.id, client_id).await?;
            let fields = client_json(&form, false, client.client_type);
            match clients::update(p.app, who, &view.id, client_id, &fields, &p.cx.client).await {
                Ok(_) => to(format!("{base}/{client_id}?done=client_saved")),
                Err(e) => {
                    client_page(p, view, client, None, StatusCode::OK, Some((form, place_grant_errors(e))))
                }
            }
        }
        (Some(_), ["rotate-secret"]) => {
            let rotated = clients::rotate_secret(p.app, who, &view.id, client_id, &p.cx.client).await?;
            let secret =
                rotated.client_secret.map(|value| ShownOnce { label: "New client secret".into(), value });
            client_page(p, view, rotated.client, secret, StatusCode::OK, None)
        }
        (Some(_), ["delete"]) => {
            clients::delete(p.app, who, &view.id, client_id, &p.cx.client).await?;
            to(format!("{base}?done=client_deleted"))
        }
        _ => Err(Error::NotFound.into()),
    }
}

/// A client's page: its ids, the edit form (with a refused edit's words), the secret's rotation
/// and the deletion.
pub(super) fn client_page(
    p: &Page<'_>,
    view: &AppView,
    client: ClientView,
    secret: Option<ShownOnce>,
    status: StatusCode,
    refusal: Option<(FormData, Error)>,
) -> PageResult {
    let mut layout = app_layout(p, view, "oauth-clients", &client.settings.name);
    layout.secret = secret;
    let (mut fields, mut status) = (client_fields(None, Some(&client)), status);
    if let Some((form, e)) = refusal {
        fields = client_fields(Some(&form), Some(&client));
        status = refused(e, &mut fields, &mut layout)?;
    }
    let base = format!("/dashboard/apps/{}/oauth-clients/{}", view.id, client.client_id);
    let mut page = section(&layout, &client.settings.name, "");
    page.facts = vec![
        ("Client id", client.client_id.to_string()),
        ("Type", type_name(client.client_type).into()),
        ("Secret", client.secret_hint.clone().unwrap_or_else(|| "None (public client)".into())),
        ("Created", client.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
    ];
    page.links = vec![(format!("/dashboard/apps/{}/oauth-clients", view.id), "All clients")];
    page.forms.push((
        "Edit".into(),
        Form { id: "edit", action: base.clone(), fields, submit: "Save client", danger: false },
    ));
    if client.client_type == ClientType::Confidential {
        page.forms.push((
            "Rotate the secret".into(),
            Form {
                id: "rotate",
                action: format!("{base}/rotate-secret"),
                fields: Vec::new(),
                submit: "Rotate secret (the old one stops at once)",
                danger: false,
            },
        ));
    }
    page.forms.push((
        "Delete this client".into(),
        Form {
            id: "delete",
            action: format!("{base}/delete"),
            fields: Vec::new(),
            submit: "Delete client",
            danger: true,
        },
    ));
    views::page(status, &page)
}
