//! `POST /api/v1/auth/oauth/{provider}/token`: native clients. `{id_token, nonce?}` (Google,
//! Apple: an ID token the app obtained with the provider's SDK) or `{code, code_verifier,
//! redirect_uri}` (any provider: the app's own authorization code) → our token pair.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;
use shared::social::{self, NativeGrant};

use crate::edge::http::{self, Cx, Fields, Reply};
use crate::edge::signed_in::sign_in_reply;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let provider = http::provider_param(&req)?;
    // A sign-in: with the refresh token in a cookie, only from the app's own sites (login CSRF).
    crate::edge::cookies::guard_sign_in(&req, &app.config, &cx.tenant)?;
    let mut f = Fields::json(&req)?;
    let grant = if f.raw("id_token").is_some() {
        let id_token = f.required("id_token");
        let nonce = f.optional("nonce");
        f.finish()?;
        NativeGrant::IdToken { id_token: id_token.unwrap_or_default(), nonce }
    } else {
        let (code, code_verifier, redirect_uri) =
            (f.required("code"), f.required("code_verifier"), f.required("redirect_uri"));
        f.finish()?;
        NativeGrant::Code {
            code: code.unwrap_or_default(),
            code_verifier: code_verifier.unwrap_or_default(),
            redirect_uri: redirect_uri.unwrap_or_default(),
        }
    };
    let logged_in = social::native(&app, &cx.tenant, provider, grant, &cx.client).await?;
    sign_in_reply(&app, &cx.tenant, "Logged in.", &logged_in)
}
