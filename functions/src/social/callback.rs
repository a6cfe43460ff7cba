//! `GET /api/v1/auth/oauth/{provider}/callback`: the provider's redirect back. The state must be
//! the one this browser's cookie holds; the code is exchanged with the PKCE verifier; the person
//! is signed in (200 with our token pair, like login) or, when the flow named a `redirect_to`,
//! sent there with a one-time code (302).

use std::sync::Arc;

use lambda_http::{Request, RequestExt};
use shared::App;
use shared::error::{Error, Result};
use shared::social::{self, Finished, ProviderAnswer, ProviderId};

use crate::edge::cookies;
use crate::edge::http::{self, Cx, Reply};
use crate::edge::signed_in::sign_in_reply;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let query = req.query_string_parameters();
    let field = |name: &str| query.first(name).map(str::to_owned);
    finish(
        app,
        &req,
        cx,
        Answer { code: field("code"), state: field("state"), error: field("error"), user: None },
    )
    .await
}

/// What the provider sent back (in the query, or Apple's `form_post` body).
pub struct Answer {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    /// Apple's `user` JSON (the name, on the first sign-in only).
    pub user: Option<String>,
}

pub async fn finish(app: Arc<App>, req: &Request, cx: Cx, answer: Answer) -> Result<Reply> {
    let provider =
        http::path_param(req, "provider").and_then(|p| ProviderId::parse(&p)).ok_or(Error::NotFound)?;
    // Denied consent, or any refusal at the provider: its code, never more.
    let refusal: Option<String> =
        answer.error.map(|e| e.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect());
    let provider_answer = match (&refusal, &answer.code) {
        (Some(why), _) => ProviderAnswer::Refused(why),
        (None, Some(code)) => ProviderAnswer::Code { code, apple_user: answer.user.as_deref() },
        (None, None) => return Err(Error::OAuthFailed("the provider's answer has no code".into())),
    };
    let Some(state) = answer.state else {
        return Err(Error::OAuthFailed("the provider's answer has no state".into()));
    };
    let browser_state = cookies::read(req, &cookies::oauth_state_name(&cx.tenant, provider));
    let finished = social::callback(
        &app,
        &cx.tenant,
        provider,
        provider_answer,
        &state,
        browser_state.as_deref(),
        &cx.client,
    )
    .await?;
    let reply = match finished {
        Finished::SignedIn(signed_in) => sign_in_reply(&app, &cx.tenant, "Logged in.", &signed_in)?,
        Finished::Redirect(location) => Reply::redirect(location),
        Finished::Linked(provider) => {
            Reply::ok("Identity linked.", serde_json::json!({ "provider": provider.as_str() }))?.no_store()
        }
    };
    Ok(reply.cookie(cookies::oauth_state_cleared(&cx.tenant, provider)))
}
