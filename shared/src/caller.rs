//! Who is calling a protected route, as one typed value.
//!
//! The edge turns a request's credential into a `Caller` and hands it to the handler of a route
//! that declared it accepts that kind of caller (and holds the scopes the route names): a protected
//! handler receives its caller as an argument, so it cannot forget to authenticate.

use crate::error::{Error, Result};
use crate::ids::{AppId, ClientId, KeyId, UserId};
use crate::tokens::Identity;

/// The kinds of caller a route may accept (`auth_kind` in the authorizer's context).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum CallerKind {
    /// An access token of a login (password, magic link).
    Session,
    /// An app's secret key (`sk_...`): the app's own backend.
    AppSecret,
    /// An access token of the `console` app whose developer owns the route's app.
    AppOwner,
    /// A user's API key (`ak_...`): the user's own scripts and services.
    ApiKey,
    /// An access token of the app's OAuth provider: a third-party client, for a user or itself.
    #[strum(serialize = "oauth")]
    OAuth,
}

/// What a route accepts: the caller kinds, and the scopes each caller must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepts {
    pub kinds: &'static [CallerKind],
    pub scopes: &'static [&'static str],
    /// The scopes an OAuth client's token must also hold here (a third party reads a profile only
    /// with `profile`).
    pub oauth_scopes: &'static [&'static str],
}

impl Accepts {
    /// The default of every protected route: a user's own session, no scope beyond it.
    pub const SESSIONS: Accepts = Accepts { kinds: &[CallerKind::Session], scopes: &[], oauth_scopes: &[] };

    /// The management API: the app's backend (a secret key) or its owner (a console session).
    pub const ADMIN: Accepts =
        Accepts { kinds: &[CallerKind::AppSecret, CallerKind::AppOwner], scopes: &[], oauth_scopes: &[] };

    /// Reading one's own profile (`GET /users/me`): a session or an API key of the user, or an
    /// OAuth client's token for the user that holds `profile`.
    pub const PROFILE: Accepts = Accepts {
        kinds: &[CallerKind::Session, CallerKind::ApiKey, CallerKind::OAuth],
        scopes: &[],
        oauth_scopes: &["profile"],
    };

    /// Asking whether a credential is valid (`GET /auth/verify-token`), and a customer's own routes
    /// behind the authorizer: a session, an API key, or an OAuth access token of the app.
    pub const TOKEN_CHECK: Accepts = Accepts {
        kinds: &[CallerKind::Session, CallerKind::ApiKey, CallerKind::OAuth],
        scopes: &[],
        oauth_scopes: &[],
    };

    /// Operational reads (`GET /health/detailed`): a session or API key holding `system:read`.
    pub const SYSTEM_READ: Accepts = Accepts {
        kinds: &[CallerKind::Session, CallerKind::ApiKey],
        scopes: &["system:read"],
        oauth_scopes: &[],
    };

    pub fn takes(&self, kind: CallerKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// Admits a caller or says why not: another kind of caller is 403 `forbidden`, a caller
    /// without one of the scopes 403 `insufficient_scope`.
    pub fn admit(&self, caller: Caller) -> Result<Caller> {
        if !self.kinds.contains(&caller.kind()) {
            return Err(Error::Forbidden);
        }
        let oauth: &[&'static str] = if caller.kind() == CallerKind::OAuth { self.oauth_scopes } else { &[] };
        if let Some(needed) =
            self.scopes.iter().chain(oauth).find(|needed| !caller.scopes().iter().any(|held| held == *needed))
        {
            return Err(Error::InsufficientScope { needed });
        }
        Ok(caller)
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A user signed in to the route's app, by a live session's access token.
    Session(Identity),
    /// The backend of the route's app, by one of its secret keys.
    AppSecret { app_id: AppId, key_id: KeyId },
    /// The developer who owns the route's app, by a session of the `console` app.
    AppOwner(Identity),
    /// A user of the route's app, by one of their live API keys.
    ApiKey(KeyHolder),
    /// A third-party client of the app's OAuth provider, by one of its live access tokens.
    OAuth(OAuthHolder),
}

/// The client behind a verified OAuth access token, the user it acts for (none for a client
/// acting for itself), and what the token allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthHolder {
    pub tenant_id: AppId,
    pub client_id: ClientId,
    pub user_id: Option<UserId>,
    /// The token's `aud`: the provider's own (`<issuer>/oauth`) or a resource server of the app.
    pub audience: String,
    pub scopes: Vec<String>,
    /// Epoch seconds at which the token expires.
    pub expires_at: i64,
}

/// The user behind a verified API key, and what the key allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    pub user_id: UserId,
    pub tenant_id: AppId,
    pub key_id: KeyId,
    pub scopes: Vec<String>,
    /// Epoch seconds at which the key expires.
    pub expires_at: i64,
}

impl Caller {
    pub fn kind(&self) -> CallerKind {
        match self {
            Caller::Session(_) => CallerKind::Session,
            Caller::AppSecret { .. } => CallerKind::AppSecret,
            Caller::AppOwner(_) => CallerKind::AppOwner,
            Caller::ApiKey(_) => CallerKind::ApiKey,
            Caller::OAuth(_) => CallerKind::OAuth,
        }
    }

    pub fn scopes(&self) -> &[String] {
        match self {
            Caller::Session(who) | Caller::AppOwner(who) => &who.scopes,
            Caller::ApiKey(holder) => &holder.scopes,
            Caller::OAuth(holder) => &holder.scopes,
            Caller::AppSecret { .. } => &[],
        }
    }

    /// The user and session behind a session caller; any other caller is not allowed here.
    pub fn session(&self) -> Result<&Identity> {
        match self {
            Caller::Session(who) => Ok(who),
            Caller::AppSecret { .. } | Caller::AppOwner(_) | Caller::ApiKey(_) | Caller::OAuth(_) => {
                Err(Error::Forbidden)
            }
        }
    }

    /// The user acting on their own account (a session or an API key), as (app, user).
    pub fn user(&self) -> Result<(&AppId, &UserId)> {
        match self {
            Caller::Session(who) => Ok((&who.tenant_id, &who.user_id)),
            Caller::ApiKey(holder) => Ok((&holder.tenant_id, &holder.user_id)),
            // A client acting for itself has no user.
            Caller::OAuth(holder) => {
                holder.user_id.as_ref().map(|u| (&holder.tenant_id, u)).ok_or(Error::Forbidden)
            }
            Caller::AppSecret { .. } | Caller::AppOwner(_) => Err(Error::Forbidden),
        }
    }

    /// Who is acting, for audit details: the user, or the secret key.
    pub fn actor(&self) -> String {
        match self {
            Caller::Session(who) | Caller::AppOwner(who) => format!("user:{}", who.user_id),
            Caller::AppSecret { key_id, .. } => format!("secret_key:{key_id}"),
            Caller::ApiKey(holder) => format!("user:{}", holder.user_id),
            Caller::OAuth(holder) => format!("oauth_client:{}", holder.client_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AppId, SessionId, UserId};

    fn session(scopes: &[&str]) -> Caller {
        Caller::Session(Identity {
            user_id: UserId::generate(),
            tenant_id: AppId::default_app(),
            session_id: SessionId::generate(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            expires_at: 0,
            authn: Default::default(),
        })
    }

    #[test]
    fn a_route_admits_only_its_kinds_with_its_scopes() {
        assert!(Accepts::SESSIONS.admit(session(&[])).is_ok());
        let writers = Accepts { kinds: &[CallerKind::Session], scopes: &["write"], oauth_scopes: &[] };
        assert!(writers.admit(session(&["read", "write"])).is_ok());
        assert!(matches!(
            writers.admit(session(&["read"])),
            Err(Error::InsufficientScope { needed: "write" })
        ));
        let nobody = Accepts { kinds: &[], scopes: &[], oauth_scopes: &[] };
        assert!(matches!(nobody.admit(session(&["write"])), Err(Error::Forbidden)));
    }
}
