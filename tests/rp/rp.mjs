// A real relying party of an app's OAuth provider: panva's certified openid-client does the
// discovery, the authorization URL (PKCE S256, state, nonce), the code exchange (checking the ID
// token and RFC 9207's `iss`), userinfo, refresh, introspection and revocation; playwright-core
// drives Debian's Chromium through the provider's login and consent pages.
//
// Run by the Rust test `relying_party` with the app's issuer, a registered client and a user in
// the environment; prints one JSON line with what it saw, exits non-zero on any failure.

import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import * as client from 'openid-client';
import { env, launch } from './chromium.mjs';

const issuer = env('RP_ISSUER');
const redirectUri = env('RP_REDIRECT_URI');
const postLogout = env('RP_POST_LOGOUT_URI');
const shots = process.env.RP_SCREENSHOTS;
// The user's TOTP secret (base32), when the app asks for a second factor.
const totpSecret = process.env.RP_TOTP_SECRET;

// RFC 6238 (SHA-1, 30 s, 6 digits) of our own, as an authenticator app computes it: the code of
// the next step, since the factor's confirmation spent the current one.
function totp(secret, at = Date.now() / 1000 + 30) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c.toUpperCase()).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// The relying party's own pages (its callback and where logout ends), on loopback as its server
// would serve them: each records the URL the browser arrived with.
const arrived = [];
const server = createServer((req, res) => {
  arrived.push(new URL(req.url, redirectUri).href);
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('back at the relying party');
});
await new Promise((resolve) => server.listen(Number(new URL(redirectUri).port), '127.0.0.1', resolve));
const arrivedAt = (prefix) => arrived.find((u) => u.startsWith(prefix));

// The service runs on plain http on loopback here: openid-client refuses that unless told.
const insecure = { execute: [client.allowInsecureRequests] };
const config = await client.discovery(
  new URL(issuer),
  env('RP_CLIENT_ID'),
  undefined,
  client.ClientSecretBasic(env('RP_CLIENT_SECRET')),
  insecure,
);

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
  login_hint: env('RP_EMAIL'),
});

const { context, close } = await launch({ width: 900, height: 760 });
const seen = {};
try {
  const page = context.pages()[0] ?? (await context.newPage());
  // Under `cargo lambda watch` each function starts on its first request: be patient.
  page.setDefaultTimeout(120000);
  page.setDefaultNavigationTimeout(120000);
  const login = await page.goto(authorizationUrl.href);
  seen.login_status = login.status();
  seen.login_csp = login.headers()['content-security-policy'];
  seen.login_frame_options = login.headers()['x-frame-options'];
  seen.email_prefilled = await page.inputValue('#email');
  seen.offers_github = await page.isVisible('text=Continue with GitHub');
  if (shots) await page.screenshot({ path: join(shots, 'oauth-login.png') });
  await page.fill('#password', env('RP_PASSWORD'));
  if (totpSecret) {
    // The second factor's page, between the password and the consent.
    await Promise.all([page.waitForSelector('#code'), page.click('#sign-in')]);
    seen.second_factor_text = await page.innerText('main');
    if (shots) await page.screenshot({ path: join(shots, 'oauth-second-factor.png') });
    await page.fill('#code', totp(totpSecret));
    await Promise.all([page.waitForSelector('#allow'), page.click('#verify')]);
  } else {
    await Promise.all([page.waitForSelector('#allow'), page.click('#sign-in')]);
  }
  seen.consent_text = await page.innerText('main');
  if (shots) await page.screenshot({ path: join(shots, 'oauth-consent.png') });
  await Promise.all([page.waitForURL((u) => u.href.startsWith(redirectUri)), page.click('#allow')]);
  const callback = arrivedAt(redirectUri);

  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  seen.sub = claims.sub;
  seen.id_token_aud = claims.aud;
  seen.id_token_nonce = claims.nonce;
  seen.id_token_acr = claims.acr;
  seen.id_token_amr = claims.amr;
  seen.callback_iss = new URL(callback).searchParams.get('iss');
  seen.scope = tokens.scope;
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  seen.userinfo_email = info.email;
  seen.userinfo_email_verified = info.email_verified;

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  seen.refresh_rotated = refreshed.refresh_token !== tokens.refresh_token;
  const live = await client.tokenIntrospection(config, refreshed.access_token);
  seen.introspection_active = live.active;
  seen.introspection_sub = live.sub;
  // The refresh token just rotated out: refused.
  try {
    await client.refreshTokenGrant(config, tokens.refresh_token);
    seen.old_refresh = 'accepted';
  } catch (e) {
    seen.old_refresh = e.error ?? e.code ?? String(e);
  }
  await client.tokenRevocation(config, refreshed.refresh_token);
  const dead = await client.tokenIntrospection(config, refreshed.access_token);
  seen.after_revocation_active = dead.active;

  // RP-initiated logout through the provider's end_session_endpoint.
  const logout = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: postLogout,
    state: 'bye',
  });
  await Promise.all([page.waitForURL((u) => u.href.startsWith(postLogout)), page.goto(logout.href)]);
  seen.logout_state = new URL(arrivedAt(postLogout)).searchParams.get('state');
  // Signed out at the provider: a new authorization asks for the password again.
  await page.goto(authorizationUrl.href);
  seen.login_again = await page.isVisible('#password');
} finally {
  await close();
  server.close();
}
console.log(JSON.stringify(seen));
