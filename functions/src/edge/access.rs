//! Who may call a route, as data (`Access`), checked by one function (`check`) wherever a caller is
//! decided: in the function in front of its handler, and in the authorizer (`credential`), which
//! resolves the same credential by the same rules.
//!
//! A handler says what its access gives it by the type of its last argument: none (a public
//! route), a `Caller`, or an `Option<Caller>` (`Given`). A protected route's handler that forgot to
//! take its caller does not run: `()` is given only on a public route.

use std::future::Future;
use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::caller::{Accepts, Caller};
use shared::error::{Error, Result};
use shared::ratelimit::Route as Limited;

use crate::edge::http::{Cx, Reply};
use crate::edge::identity;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The callers the route admits (kinds and scopes); `None` for a public route, served without
    /// the authorizer (`Auth: {Authorizer: NONE}` in the template).
    pub accepts: Option<Accepts>,
    /// One request against the caller's quota of this route (per IP and per caller), taken as soon
    /// as the caller is known: the console and management APIs, whose callers are known before
    /// any work.
    pub limit: Option<Limited>,
    /// A caller is optional: the handler also takes another proof (the cancel link of
    /// `GET /account/deletion`). A credential that is sent must be valid.
    pub optional: bool,
}

impl Access {
    /// Anyone.
    pub const PUBLIC: Access = Access { accepts: None, limit: None, optional: false };
    /// A user's own session: the default of a protected route.
    pub const SESSIONS: Access = Access::of(Accepts::SESSIONS);
    /// A user's own session, or no credential at all.
    pub const OPTIONAL_SESSION: Access = Access { optional: true, ..Access::SESSIONS };
    /// The management API: the app's backend or its owner, limited per caller.
    pub const ADMIN: Access = Access { limit: Some(Limited::Admin), ..Access::of(Accepts::ADMIN) };
    /// The console API: a developer's session of the `console` app, limited per caller.
    pub const CONSOLE: Access = Access { limit: Some(Limited::Console), ..Access::SESSIONS };
    /// Reading one's profile: a session, an API key, or an OAuth token holding `profile`.
    pub const PROFILE: Access = Access::of(Accepts::PROFILE);
    /// Asking whether a credential is valid.
    pub const TOKEN_CHECK: Access = Access::of(Accepts::TOKEN_CHECK);
    /// Operational reads: each request asks every dependency, so a caller's count keeps that from
    /// being a lever.
    pub const SYSTEM_READ: Access =
        Access { limit: Some(Limited::HealthDetailed), ..Access::of(Accepts::SYSTEM_READ) };

    pub const fn of(accepts: Accepts) -> Access {
        Access { accepts: Some(accepts), limit: None, optional: false }
    }

    /// Served without the authorizer.
    pub fn is_public(&self) -> bool {
        self.accepts.is_none()
    }

    /// What the route's credential is resolved against where it has to be resolved at all (a
    /// console session stands for its app's owner only where the route takes owners).
    pub fn resolving(&self) -> Accepts {
        self.accepts.unwrap_or(Accepts::SESSIONS)
    }
}

/// The caller a request brings to a route of `access`: `None` on a public route and where an
/// optional credential was not sent; the caller, admitted and counted against the route's limit,
/// otherwise; 401 or 403 when it cannot be admitted.
pub async fn check(app: &App, cx: &Cx, req: &Request, access: &Access) -> Result<Option<Caller>> {
    let Some(accepts) = access.accepts else { return Ok(None) };
    if access.optional && !identity::presents_credential(req, &cx.tenant) {
        return Ok(None);
    }
    let caller = identity::caller(app, cx, req, accepts).await?;
    if let Some(route) = access.limit {
        shared::ratelimit::hit(app, &cx.tenant.id, route, &cx.client, Some(&caller.actor())).await?;
    }
    Ok(Some(caller))
}

/// The credential the authorizer resolves for a protected route of `access`: the same resolution
/// the function runs where no authorizer stood in front of it (`identity::resolve`). The
/// authorizer only identifies; the function admits (kinds, scopes) and counts (`check`).
pub async fn credential(
    app: &App,
    tenant: &shared::Tenant,
    token: Option<&str>,
    access: &Access,
) -> Result<Caller> {
    identity::resolve(app, tenant, token, access.resolving()).await
}

/// What a handler receives from its route's access, by the type it asks for.
pub trait Given: Sized + Send {
    fn given(access: &Access, caller: Option<Caller>) -> Result<Self>;
}

/// A public route's handler: nothing. Given only on a public route, so that a protected route
/// whose handler takes no caller fails closed instead of serving anyone.
impl Given for () {
    fn given(access: &Access, _: Option<Caller>) -> Result<Self> {
        if access.is_public() {
            Ok(())
        } else {
            Err(Error::Internal("a protected route's handler takes no caller".into()))
        }
    }
}

impl Given for Caller {
    fn given(_: &Access, caller: Option<Caller>) -> Result<Self> {
        caller.ok_or(Error::Unauthorized)
    }
}

impl Given for Option<Caller> {
    fn given(access: &Access, caller: Option<Caller>) -> Result<Self> {
        if access.optional || caller.is_some() { Ok(caller) } else { Err(Error::Unauthorized) }
    }
}

/// A handler: `handle(app, req, cx)` on a public route, `handle(app, req, cx, caller)` behind a
/// caller check. `M` only tells the two shapes apart.
pub trait Handler<M>: Copy + Send + 'static {
    type Given: Given;
    fn call(
        self,
        app: Arc<App>,
        req: Request,
        cx: Cx,
        given: Self::Given,
    ) -> impl Future<Output = Result<Reply>> + Send;
}

/// The shape of a handler without a caller.
pub struct NoCaller;
/// The shape of a handler that receives `G`.
pub struct WithCaller<G>(std::marker::PhantomData<G>);

impl<F, Fut> Handler<NoCaller> for F
where
    F: FnOnce(Arc<App>, Request, Cx) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<Reply>> + Send,
{
    type Given = ();
    fn call(self, app: Arc<App>, req: Request, cx: Cx, _: ()) -> impl Future<Output = Result<Reply>> + Send {
        self(app, req, cx)
    }
}

impl<F, Fut, G> Handler<WithCaller<G>> for F
where
    F: FnOnce(Arc<App>, Request, Cx, G) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<Reply>> + Send,
    G: Given,
{
    type Given = G;
    fn call(
        self,
        app: Arc<App>,
        req: Request,
        cx: Cx,
        given: G,
    ) -> impl Future<Output = Result<Reply>> + Send {
        self(app, req, cx, given)
    }
}

/// Runs `handler` behind its route's access: the one caller check in front of every handler.
pub async fn guarded<M, H: Handler<M>>(
    access: Access,
    handler: H,
    app: Arc<App>,
    req: Request,
    cx: Cx,
) -> Result<Reply> {
    let caller = check(&app, &cx, &req, &access).await?;
    let given = H::Given::given(&access, caller)?;
    // Boxed: the largest handlers' futures (the dashboard's) would otherwise sit on the stack of
    // whoever awaits this, and a test thread has 2 MiB of it.
    Box::pin(handler.call(app, req, cx, given)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_each_access_gives_its_handler() {
        assert!(<()>::given(&Access::PUBLIC, None).is_ok());
        assert!(matches!(<()>::given(&Access::SESSIONS, None), Err(Error::Internal(_))));
        assert!(matches!(Caller::given(&Access::SESSIONS, None), Err(Error::Unauthorized)));
        assert!(matches!(<Option<Caller>>::given(&Access::OPTIONAL_SESSION, None), Ok(None)));
        assert!(matches!(<Option<Caller>>::given(&Access::SESSIONS, None), Err(Error::Unauthorized)));
        assert_eq!(Access::CONSOLE.accepts, Some(Accepts::SESSIONS));
        assert_eq!(Access::ADMIN.limit, Some(Limited::Admin));
        assert!(Access::PUBLIC.is_public() && !Access::OPTIONAL_SESSION.is_public());
    }
}
