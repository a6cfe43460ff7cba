//! The HTTP client of social login: one `reqwest` client per container, with deadlines and
//! without following redirects (a token endpoint that redirects must not send the code, the
//! verifier or the client secret elsewhere), through which the `oauth2` crate sends its requests.

use std::sync::OnceLock;
use std::time::Duration;

use oauth2::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::ProviderProfile;
use crate::error::{Error, Result};

const PROVIDER: &str = "the identity provider";

/// The container's client, as `oauth2` sends its requests.
pub struct HttpClient;

pub fn client() -> HttpClient {
    HttpClient
}

impl<'c> oauth2::AsyncHttpClient<'c> for HttpClient {
    type Error = reqwest::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<HttpResponse, reqwest::Error>> + Send + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(request))
    }
}

fn reqwest_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(8))
            .user_agent("auth-service")
            .build()
            .unwrap_or_default()
    })
}

/// `oauth2`'s request, sent; its error names no secret (the request's body is never in it).
async fn send(request: HttpRequest) -> std::result::Result<HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = reqwest_client()
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut out = HttpResponse::new(Vec::new());
    *out.status_mut() = response.status();
    *out.headers_mut() = response.headers().clone();
    *out.body_mut() = response.bytes().await?.to_vec();
    Ok(out)
}

/// A failed code exchange: the provider refused (400 `oauth_failed`) or could not be reached
/// (503).
pub fn token_error<RE, T>(e: oauth2::RequestTokenError<RE, T>) -> Error
where
    RE: std::error::Error + Send + Sync + 'static,
    T: oauth2::ErrorResponse,
{
    match e {
        oauth2::RequestTokenError::Request(source) => Error::dependency(PROVIDER, source),
        oauth2::RequestTokenError::ServerResponse(_) => {
            Error::OAuthFailed("the provider refused the authorization code".into())
        }
        oauth2::RequestTokenError::Parse(_, _) | oauth2::RequestTokenError::Other(_) => {
            Error::OAuthFailed("the provider's token response was not understood".into())
        }
    }
}

/// A JSON document (discovery, keys, GitHub's API), optionally with a bearer token.
pub async fn get_json<T: DeserializeOwned>(url: &str, bearer: Option<&str>) -> Result<T> {
    let mut request = reqwest_client().get(url).header("accept", "application/json");
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| Error::dependency(PROVIDER, e))?;
    if response.status().is_server_error() {
        return Err(Error::dependency(PROVIDER, format!("{url} answered {}", response.status())));
    }
    if !response.status().is_success() {
        return Err(Error::OAuthFailed(format!("the provider answered {}", response.status())));
    }
    response.json().await.map_err(|_| Error::OAuthFailed("the provider's answer was not understood".into()))
}

#[derive(Deserialize)]
struct GitHubUser {
    id: u64,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

/// GitHub is plain OAuth2: the person is `/user`, the address the primary, verified one of
/// `/user/emails` (none: the provider vouches for no address).
pub async fn github_profile(api: &str, token: &str) -> Result<ProviderProfile> {
    let api = api.trim_end_matches('/');
    let user: GitHubUser = get_json(&format!("{api}/user"), Some(token)).await?;
    let emails: Vec<GitHubEmail> = get_json(&format!("{api}/user/emails"), Some(token)).await?;
    let primary = emails.into_iter().find(|e| e.primary && e.verified);
    Ok(ProviderProfile {
        subject: user.id.to_string(),
        email_verified: primary.is_some(),
        email: primary.map(|e| e.email),
        name: user.name,
        hosted_domain: None,
    })
}
