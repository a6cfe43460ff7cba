//! An app's social providers: configured (secrets write-only) and removed.

use lambda_http::http::StatusCode;
use shared::console::{self, AppView};
use shared::error::Error;
use shared::social::ProviderId;
use shared::tokens::Identity;

use crate::dashboard::views::{self, Field, Form, Row, Table};
use crate::dashboard::{Page, json_of};
use crate::edge::http::Fields;
use crate::edge::page::PageResult;

use super::*;

/// A provider's form: what is stored shown again (ids), secrets write-only (never shown).
pub(super) fn provider_fields(
    provider: ProviderId,
    form: Option<&FormData>,
    current: Option<&console::ProviderView>,
) -> Vec<Field> {
    let pick = |name: &str, stored: Option<String>| match form {
        Some(f) => value(Some(f), name),
        None => stored.unwrap_or_default(),
    };
    let stored_client_id = current.and_then(|c| c.client_id.clone());
    let mut fields = vec![
        Field::new("client_id", "Client id", "text").value(pick("client_id", stored_client_id)).required(),
    ];
    match provider {
        ProviderId::Google | ProviderId::GitHub => fields.push(
            Field::new("client_secret", "Client secret", "password")
                .required()
                .autocomplete("off")
                .hint("Write-only: stored encrypted, never shown again."),
        ),
        ProviderId::Apple => fields.extend([
            Field::new("team_id", "Team id", "text")
                .value(pick("team_id", current.and_then(|c| c.team_id.clone())))
                .required(),
            Field::new("key_id", "Key id", "text")
                .value(pick("key_id", current.and_then(|c| c.key_id.clone())))
                .required(),
            Field::new("private_key", "Private key (.p8)", "textarea")
                .required()
                .hint("Write-only: stored encrypted, never shown again."),
        ]),
    }
    let extra = current.map(|c| c.extra_client_ids.join(" "));
    fields.push(
        Field::new("extra_client_ids", "Native apps' client ids (optional)", "text")
            .value(pick("extra_client_ids", extra))
            .hint("Separated by spaces: audiences accepted in ID tokens from your mobile apps."),
    );
    fields
}

pub(super) async fn providers(
    p: &mut Page<'_>,
    who: &Identity,
    view: &AppView,
    put: Option<(ProviderId, FormData)>,
) -> PageResult {
    let mut layout = app_layout(p, view, "providers", "Social providers");
    let mut status = StatusCode::OK;
    let mut refusal: Option<(ProviderId, FormData, Error)> = None;
    if let Some((provider, form)) = put {
        let mut map = json_of(
            &form,
            &["client_id", "client_secret", "team_id", "key_id", "private_key"],
            &[],
            &[],
            &[],
        );
        map.retain(|_, v| v.as_str().is_some_and(|s| !s.is_empty()));
        // The form shows the stored native client ids: as sent, an empty field clears them.
        map.extend(json_of(&form, &[], &["extra_client_ids"], &[], &[]));
        let outcome = match crate::console::provider_put::parse(Fields::from_map(map), provider) {
            Ok(input) => {
                console::put_provider(p.app, who, &view.id, provider, input, &p.cx.client).await.map(|_| ())
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => return to(format!("/dashboard/apps/{}/providers?done=provider_saved", view.id)),
            Err(e) => refusal = Some((provider, form, e)),
        }
    }
    let configured = console::list_providers(p.app, who, &view.id).await?;
    let base = format!("/dashboard/apps/{}/providers", view.id);
    let mut forms = Vec::new();
    let mut rows = Vec::new();
    for provider in ProviderId::ALL {
        let current = configured.iter().find(|c| c.provider == provider);
        let client_id = current.and_then(|c| c.client_id.clone()).unwrap_or_default();
        let is_configured = current.is_some_and(|c| c.configured);
        rows.push(Row {
            title: provider.name().into(),
            href: None,
            cells: vec![
                if is_configured { "Configured".into() } else { "Not configured".into() },
                if client_id.is_empty() { "—".into() } else { client_id.clone() },
            ],
            actions: if is_configured {
                vec![(format!("{base}/{}/delete", provider.as_str()), "Remove", true)]
            } else {
                Vec::new()
            },
        });
        // The refused form comes back as sent, with the words next to its fields.
        let fields = match refusal.take_if(|(refused_provider, ..)| *refused_provider == provider) {
            Some((_, form, e)) => {
                let mut fields = provider_fields(provider, Some(&form), current);
                status = refused(e, &mut fields, &mut layout)?;
                fields
            }
            None => provider_fields(provider, None, current),
        };
        forms.push((
            format!("{} sign-in", provider.name()),
            Form {
                id: provider.as_str(),
                action: format!("{base}/{}", provider.as_str()),
                fields,
                submit: if is_configured { "Replace credentials" } else { "Configure" },
                danger: false,
            },
        ));
    }
    let callback = format!("{}/api/v1/auth/oauth/<provider>/callback", view.issuer);
    let lead = format!(
        "Let your users sign in with Google, GitHub or Apple. Register this callback at the provider: {callback}"
    );
    let mut page = section(&layout, "Social providers", &lead);
    page.table = Some(Table {
        heading: "Providers",
        columns: vec!["Provider", "Status", "Client id"],
        rows,
        empty: "",
        filter: None,
        next: None,
    });
    page.forms = forms;
    views::page(status, &page)
}
