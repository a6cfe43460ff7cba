//! The app (tenant) a request is for, resolved once at the edge from its path, and the settings of
//! that app that every flow honours.
//!
//! `Config` holds what the deployment sets (table, secrets, the public base URL, timeouts); an
//! app's `AppSettings` hold what the contract lets each app choose (links, CORS origins, password
//! policy, token lifetimes, session cap ...). The `default` app's settings come from the
//! environment, so single-tenant use works as it always did.

use crate::ids::AppId;
pub use crate::settings::{AppSettings, PasswordPolicyKind};

/// An app, resolved: who it is, what its tokens say, and its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: AppId,
    /// The `iss` of its tokens and the base URL of its routes: `JWT_ISSUER` for `default`,
    /// `JWT_ISSUER/apps/<id>` otherwise.
    pub issuer: String,
    /// The `aud` of its access tokens.
    pub audience: String,
    pub settings: AppSettings,
    /// The developer who owns it (created apps only): the management API also takes their console
    /// session.
    pub owner: Option<crate::ids::UserId>,
}

/// The one endpoint that accepts refresh tokens, under an app's issuer: their audience.
pub const REFRESH_PATH: &str = "/api/v1/auth/token/refresh";

impl Tenant {
    /// The `default` app: the environment's settings and the deployment's issuer and audience.
    pub fn default_app(config: &crate::config::Config) -> Tenant {
        Tenant {
            id: AppId::default_app(),
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            settings: config.default_app.clone(),
            owner: None,
        }
    }

    /// The `console` app, where the developers themselves sign up and log in: the `default`
    /// app's rules, with the dashboard's links.
    pub fn console(config: &crate::config::Config) -> Tenant {
        let id = AppId::console();
        Tenant {
            issuer: format!("{}/apps/{id}", config.jwt_issuer),
            audience: id.to_string(),
            settings: AppSettings {
                frontend_url: format!("{}/dashboard", config.jwt_issuer),
                // The dashboard is served from the API's own origin: no other origin is needed.
                cors_origins: Vec::new(),
                name: "Console".to_owned(),
                signup_enabled: config.console_signup,
                // The console is no resource server's provider.
                oauth_resources: Vec::new(),
                ..config.default_app.clone()
            },
            owner: None,
            id,
        }
    }

    /// A created app, as its record says.
    pub fn of_app(config: &crate::config::Config, app: crate::model::AppRecord) -> Tenant {
        Tenant {
            issuer: format!("{}/apps/{}", config.jwt_issuer, app.app_id),
            audience: app.app_id.to_string(),
            settings: app.settings,
            owner: Some(app.owner),
            id: app.app_id,
        }
    }

    /// The `aud` of an access token of the app's OAuth provider when the client named no
    /// registered resource: never `audience`, so that a resource server checking the audience
    /// cannot take a third party's token for a session (RFC 8725 section 3.11).
    pub fn oauth_audience(&self) -> String {
        format!("{}/oauth", self.issuer)
    }

    /// The path every route of the app is served under: empty for `default`, `/apps/<id>` else.
    pub fn base_path(&self) -> String {
        if self.id.is_default() { String::new() } else { format!("/apps/{}", self.id) }
    }

    /// The page of the app's OAuth provider where a sign-in started on its login page by a social
    /// provider or a magic link comes back to the authorization in progress. Social sign-ins may
    /// always end there, whatever the app's `redirect_urls`.
    pub fn provider_continue_page(&self) -> String {
        format!("{}/oauth/authorize/continue", self.issuer)
    }

    /// The audience of the app's refresh tokens: its own refresh endpoint, so that no resource
    /// server that checks only the signature and its audience takes one for an access token.
    pub fn refresh_audience(&self) -> String {
        format!("{}{REFRESH_PATH}", self.issuer)
    }
}
