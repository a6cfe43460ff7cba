//! What the dashboard's pages show (askama templates under `templates/dash/`, every value
//! HTML-escaped), the form fields they are made of, and the words for the rules a field broke.

use askama::Template;
use lambda_http::http::StatusCode;
use shared::error::{Error, FieldErrors};

use crate::edge::http::Reply;

/// Nothing loads but the dashboard's own style sheet and script; forms post only to the service;
/// no framing (clickjacking); no referrer leaves a page whose URL holds a token.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What every page has around its content.
pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub signed_in: bool,
    /// The app whose pages these are, and the tab that is open.
    pub app: Option<AppNav>,
    pub notice: Option<String>,
    pub error: Option<String>,
    /// A secret shown this once (a secret key, a client secret), with a copy button.
    pub secret: Option<ShownOnce>,
}

pub struct AppNav {
    pub id: String,
    pub name: String,
    pub tab: &'static str,
}

impl AppNav {
    /// The app's tabs: link, words, and whether it is the open one.
    pub fn tabs(&self) -> Vec<(String, &'static str, bool)> {
        [
            ("overview", "Overview"),
            ("settings", "Settings"),
            ("secret-keys", "Secret keys"),
            ("oauth-clients", "OAuth clients"),
            ("providers", "Social providers"),
            ("users", "Users"),
            ("audit", "Audit log"),
        ]
        .into_iter()
        .map(|(tab, label)| {
            let path = if tab == "overview" { String::new() } else { format!("/{tab}") };
            (format!("/dashboard/apps/{}{path}", self.id), label, tab == self.tab)
        })
        .collect()
    }
}

pub struct ShownOnce {
    pub label: String,
    pub value: String,
}

/// One field of a form.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `email`, `password`, `url`, `number`, `textarea`, `checkbox`, `select` or `hidden`.
    pub kind: &'static str,
    pub value: String,
    pub hint: &'static str,
    pub error: Option<String>,
    pub options: Vec<(&'static str, &'static str)>,
    pub autocomplete: &'static str,
    pub required: bool,
}

impl Field {
    pub fn new(name: &'static str, label: &'static str, kind: &'static str) -> Field {
        Field {
            name,
            label,
            kind,
            value: String::new(),
            hint: "",
            error: None,
            options: Vec::new(),
            autocomplete: "off",
            required: false,
        }
    }

    pub fn value(mut self, value: impl Into<String>) -> Field {
        self.value = value.into();
        self
    }

    pub fn hint(mut self, hint: &'static str) -> Field {
        self.hint = hint;
        self
    }

    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub fn autocomplete(mut self, autocomplete: &'static str) -> Field {
        self.autocomplete = autocomplete;
        self
    }

    pub fn options(mut self, options: &[(&'static str, &'static str)]) -> Field {
        self.options = options.to_vec();
        self
    }

    /// A checkbox, ticked or not.
    pub fn checked(self, on: bool) -> Field {
        self.value(if on { "on" } else { "" })
    }

    pub fn is_checked(&self) -> bool {
        !self.value.is_empty()
    }

    /// The ids of what describes the field (its hint, its error), for `aria-describedby`.
    pub fn described_by(&self, id: &str) -> String {
        let hint = (!self.hint.is_empty()).then(|| format!("{id}-hint"));
        let error = self.error.is_some().then(|| format!("{id}-error"));
        hint.into_iter().chain(error).collect::<Vec<_>>().join(" ")
    }
}

/// Puts each broken rule next to its field; rules of fields the form does not show are returned
/// for the page's banner.
pub fn attach(fields: &mut [Field], errors: &FieldErrors) -> Option<String> {
    let mut unplaced = Vec::new();
    for (name, rules) in errors {
        let text = rules.iter().map(|r| rule_text(r)).collect::<Vec<_>>().join(" ");
        match fields.iter_mut().find(|f| f.name == name) {
            Some(f) => f.error = Some(text),
            None => unplaced.push(format!("{}: {text}", name.replace('_', " "))),
        }
    }
    (!unplaced.is_empty()).then(|| unplaced.join(" "))
}

/// The words for a rule the API names in `error.details` (`must_be_https`).
pub fn rule_text(rule: &str) -> String {
    let known = match rule {
        "required" => "This field is required.",
        "invalid_email" | "invalid_format" => "Enter a valid email address.",
        "must_be_https" => "Use an https:// address (http only for localhost and 127.0.0.1).",
        "must_be_whole_number" => "Enter a whole number.",
        "out_of_range" => "This value is out of the allowed range.",
        "too_long" => "This is too long.",
        "too_many" => "There are too many entries.",
        "control_characters" => "Remove the line breaks and control characters.",
        "min_length_8" => "Use at least 8 characters.",
        "min_length_15" => "Use at least 15 characters.",
        "max_length_128" => "Use at most 128 characters.",
        "lowercase" => "Add a lower-case letter.",
        "uppercase" => "Add an upper-case letter.",
        "digit" => "Add a digit.",
        "not_common" => "This password is too easy to guess.",
        "must_not_exceed_refresh_token_ttl" => "The access token cannot outlive the refresh token.",
        "not_offered_by_the_app" => {
            "Use scopes the app offers: openid, profile, email, offline_access or its own."
        }
        "each_needs_name_and_description" => "Write each scope as name: description, one per line.",
        "invalid_scope" => "A scope is one word without spaces or quotes.",
        "no_ip_address" => "Use a domain name: browsers take no IP address as a relying party id.",
        "must_be_domain" => {
            "Use a domain name such as example.com (localhost locally), without https:// or a path."
        }
        "must_be_on_webauthn_rp_id" => {
            "Each origin must be on the relying party id (the domain or a subdomain of it)."
        }
        "needs_webauthn_rp_id" => "Set the relying party id first.",
        "each_must_be_totp_webauthn_or_recovery_code" => "Use totp, webauthn or recovery_code.",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    // Any other rule reads well enough as words ("refresh_token_needs_authorization_code").
    let words = rule.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// A page as the response: the dashboard's policy, no framing, never cached (pages carry CSRF
/// tokens, some a secret). Its one failure, rendering, is the service's: as a page handler's
/// `Stop` or as the edge's `Error`.
pub fn page<E: From<Error>>(status: StatusCode, template: &impl Template) -> std::result::Result<Reply, E> {
    let body = template.render().map_err(|e| Error::Internal(format!("page rendering failed: {e}")))?;
    Ok(Reply::html(status, body, CSP.to_owned()).header("x-frame-options", "DENY"))
}

// ----- the templates --------------------------------------------------------------------------------

/// A card with a heading, words, and at most one form: sign-in, sign-up, password pages, the
/// mailed links' buttons, confirmations and messages.
#[derive(Template)]
#[template(path = "dash/card.html")]
pub struct Card<'a> {
    pub l: &'a Layout,
    pub heading: &'a str,
    pub lead: String,
    pub form: Option<Form>,
    pub links: Vec<(String, &'static str)>,
}

/// A form: where it posts, its fields and its button (red for what cannot be undone).
pub struct Form {
    /// Makes the fields' ids unique on a page of several forms.
    pub id: &'static str,
    pub action: String,
    pub fields: Vec<Field>,
    pub submit: &'static str,
    pub danger: bool,
}

#[derive(Template)]
#[template(path = "dash/apps.html")]
pub struct AppsPage<'a> {
    pub l: &'a Layout,
    pub apps: Vec<AppRow>,
}

pub struct AppRow {
    pub id: String,
    pub name: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "dash/overview.html")]
pub struct OverviewPage<'a> {
    pub l: &'a Layout,
    pub facts: Vec<(&'static str, String)>,
    pub endpoints: Vec<(&'static str, String)>,
    pub app_id: String,
    pub curl_signup: String,
    pub curl_admin: String,
}

/// An app's page made of sections: a list (table) and a form, or a form alone (settings).
#[derive(Template)]
#[template(path = "dash/section.html")]
pub struct SectionPage<'a> {
    pub l: &'a Layout,
    pub heading: &'a str,
    pub lead: &'a str,
    /// A definition list (a user's or a client's details).
    pub facts: Vec<(&'static str, String)>,
    pub links: Vec<(String, &'static str)>,
    pub table: Option<Table>,
    pub forms: Vec<(String, Form)>,
}

/// A list shown as a table: its heading, columns, rows and the words for none.
pub struct Table {
    pub heading: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Row>,
    pub empty: &'static str,
    /// A filter above the table (`?email=`), with its current value.
    pub filter: Option<Filter>,
    /// The next page's link.
    pub next: Option<String>,
}

impl Table {
    pub fn has_actions(&self) -> bool {
        self.rows.iter().any(|r| !r.actions.is_empty())
    }
}

pub struct Filter {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub action: String,
}

pub struct Row {
    /// The first cell, a link when there is a page for the row.
    pub title: String,
    pub href: Option<String>,
    pub cells: Vec<String>,
    /// Buttons: each a form of its own that posts to `action`.
    pub actions: Vec<(String, &'static str, bool)>,
}
