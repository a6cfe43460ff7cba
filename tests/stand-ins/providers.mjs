// Local identity providers for the tests and `make dev`: the real protocol, no credentials, no
// internet.
//
// - "Google" and "Apple" are panva's oidc-provider (a certified OpenID Provider), each on its own
//   port, with open dynamic client registration (RFC 7591) so that every test registers the
//   clients of its own apps, and the development login form (any password; the login names the
//   account: `ada@example.com`, or `unverified.ada@example.com` for an address the provider does
//   not vouch for; at "Google", `ada@workspace.acme.test` is a Workspace account whose ID token
//   names its hosted domain `hd`).
// - "Apple" adds what Apple does differently: the client secret is an ES256 JWT (issuer the team
//   id, subject the client id, audience Apple's issuer) checked against the key the client
//   registered (`jwks`), `email_verified` is a string, and the `form_post` answer carries the
//   `user` JSON (the name) on the account's first sign-in only.
// - Both sign with a key made at start and answer `POST /test/id-token` with an ID token of the
//   times a test asks for (expired, issued in the future), signed with that published key.
// - "GitHub" is a small stand-in for GitHub's OAuth app flow and its `/user` and `/user/emails`.
//
// Usage: node providers.mjs [--host 127.0.0.1] [--google PORT] [--apple PORT] [--github PORT]
//   [--apple-host localhost]. Prints one JSON line with the three base URLs once all listen.

import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (i % 2 === 0 ? [...pairs, [arg.replace(/^--/, ''), all[i + 1]]] : pairs), []),
);
const host = args.host ?? '127.0.0.1';
const ports = { google: Number(args.google ?? 0), apple: Number(args.apple ?? 0), github: Number(args.github ?? 0) };
// Apple's callback is a cross-site POST; a browser test serves "Apple" from another site name.
const appleHost = args['apple-host'] ?? host;

/// An account of the development login: the login is the address (or a bare name).
function account(id, { apple }) {
  const unverified = id.startsWith('unverified.');
  const email = id.includes('@') ? id : `${id}@example.com`;
  const verified = !unverified;
  return {
    accountId: id,
    async claims() {
      return {
        sub: `sub-${createHash('sha256').update(id).digest('hex').slice(0, 20)}`,
        email,
        email_verified: apple ? String(verified) : verified,
        // Apple's "Hide My Email": a relay address, flagged (as a string, like email_verified).
        ...(apple && email.endsWith('@privaterelay.appleid.com') ? { is_private_email: 'true' } : {}),
        // Google's hosted domain: an address at a `workspace.` domain is a Workspace account.
        ...(!apple && email.split('@')[1]?.startsWith('workspace.') ? { hd: email.split('@')[1] } : {}),
        name: `Stand-in ${id.split('@')[0]}`,
      };
    },
  };
}

/// The body of a request, as text.
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

async function openIdProvider(issuer, { apple }) {
  const seen = new Set();
  // The provider's signing key, made here rather than oidc-provider's development keys, so that
  // the test hook below can sign with it too.
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await jose.exportJWK(privateKey)), kid: `sig-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    jwks: { keys: [signingKey] },
    features: {
      devInteractions: { enabled: true },
      registration: { enabled: true },
    },
    findAccount: async (_ctx, id) => account(id, { apple }),
    claims: { openid: ['sub', 'hd'], email: ['email', 'email_verified', 'is_private_email'], profile: ['name'] },
    // The email claims in the ID token itself, as Google and Apple put them there.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    extraClientMetadata: { properties: ['team_id'] },
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  // Test hook: an ID token as this provider would sign it, with the times a test asks for (an
  // expired one, one issued in the future), which the real flow never hands out on demand.
  // POST /test/id-token {aud (one or a list), email, nonce?, azp?, iat, exp}.
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/test/id-token') return next();
    const { aud, email, nonce, azp, iat, exp } = JSON.parse(await readBody(ctx.req));
    const claims = {
      ...(await account(email, { apple }).claims()),
      ...(nonce ? { nonce } : {}),
      ...(azp ? { azp } : {}),
    };
    const token = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid })
      .setIssuer(issuer)
      .setAudience(aud)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(privateKey);
    ctx.type = 'json';
    ctx.body = { id_token: token };
  });
  if (apple) {
    // Apple's form_post adds `user` (the name, as JSON) on the first sign-in of an account only:
    // added to oidc-provider's own form_post page on its way out.
    provider.use(async (ctx, next) => {
      await next();
      const accountId = ctx.oidc?.session?.accountId;
      if (typeof ctx.body === 'string' && ctx.body.includes('<form method="post"') && ctx.body.includes('name="code"')
          && accountId && !seen.has(accountId)) {
        seen.add(accountId);
        const claims = await account(accountId, { apple }).claims();
        const [firstName, ...rest] = claims.name.split(' ');
        const user = JSON.stringify({ name: { firstName, lastName: rest.join(' ') }, email: claims.email })
          .replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
        ctx.body = ctx.body.replace('<noscript>', `<input type="hidden" name="user" value="${user}"/>\n    <noscript>`);
      }
    });
    // Apple's client secret is an ES256 JWT that the client signs with its key; oidc-provider
    // compares a client secret with a fixed string. Verify the JWT here against the key the client
    // registered, then hand oidc-provider the client's registered secret.
    provider.use(async (ctx, next) => {
      if (ctx.method === 'POST' && ctx.path === '/token') {
        const raw = await readBody(ctx.req);
        const form = new URLSearchParams(raw);
        const clientId = form.get('client_id');
        const client = clientId ? await provider.Client.find(clientId) : undefined;
        const assertion = form.get('client_secret');
        if (client && assertion && assertion.split('.').length === 3) {
          try {
            const keys = jose.createLocalJWKSet(client.jwks ?? { keys: [] });
            await jose.jwtVerify(assertion, keys, {
              algorithms: ['ES256'],
              issuer: client.team_id,
              subject: clientId,
              audience: issuer,
            });
            form.set('client_secret', client.clientSecret);
          } catch {
            form.set('client_secret', 'invalid');
          }
        }
        const body = form.toString();
        const replacement = Readable.from([Buffer.from(body)]);
        Object.assign(replacement, { headers: { ...ctx.req.headers, 'content-length': String(Buffer.byteLength(body)) } });
        for (const key of ['method', 'url', 'httpVersion', 'socket', 'connection']) replacement[key] = ctx.req[key];
        ctx.req = replacement;
        ctx.request.req = replacement;
      }
      await next();
    });
  }
  return provider;
}

/// GitHub's OAuth app flow, its token endpoint and its `/user` and `/user/emails`, as GitHub answers.
/// The login is `?login=` on the authorize URL (GitHub's own "suggest an account" parameter): a
/// login starting with `noverified.` has no verified address.
function github(base) {
  const codes = new Map();
  const tokens = new Map();
  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  return async (req, res) => {
    const url = new URL(req.url, base);
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize' && !url.searchParams.get('login')) {
      // A person in a browser (`make dev SOCIAL=local`): GitHub's sign-in, as a one-field form.
      const escape = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
      const hidden = [...url.searchParams].map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(`<!doctype html><title>GitHub stand-in</title><form method="get">${hidden.join('')}
        <label>Sign in to the GitHub stand-in as <input name="login" required autofocus placeholder="octocat"></label>
        <button type="submit">Authorize</button></form>`);
    }
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const redirect = url.searchParams.get('redirect_uri');
      const login = url.searchParams.get('login');
      const code = randomBytes(16).toString('hex');
      codes.set(code, {
        login,
        clientId: url.searchParams.get('client_id'),
        redirect,
        challenge: url.searchParams.get('code_challenge'),
      });
      const to = new URL(redirect);
      to.searchParams.set('code', code);
      if (url.searchParams.get('state')) to.searchParams.set('state', url.searchParams.get('state'));
      res.writeHead(302, { location: to.toString() });
      return res.end();
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const grant = codes.get(form.get('code'));
      codes.delete(form.get('code'));
      const basic = req.headers.authorization?.startsWith('Basic ')
        ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString().split(':')
        : [form.get('client_id'), form.get('client_secret')];
      const verifier = form.get('code_verifier');
      const pkceOk = !grant?.challenge
        || (verifier && createHash('sha256').update(verifier).digest('base64url') === grant.challenge);
      // GitHub answers errors with 200 and an `error` field.
      if (!grant || grant.clientId !== basic[0] || !basic[1] || !pkceOk) {
        return json(res, 200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
      }
      const token = `gho_${randomBytes(18).toString('hex')}`;
      tokens.set(token, grant.login);
      if ((req.headers.accept ?? '').includes('application/json')) {
        return json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
      }
      res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
      return res.end(`access_token=${token}&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer`);
    }
    const login = tokens.get((req.headers.authorization ?? '').replace(/^(Bearer|token) /, ''));
    if (req.method === 'GET' && (url.pathname === '/user' || url.pathname === '/user/emails')) {
      if (!login) return json(res, 401, { message: 'Bad credentials' });
      const id = Number.parseInt(createHash('sha256').update(login).digest('hex').slice(0, 8), 16);
      const address = login.includes('@') ? login.replace(/^noverified\./, '') : `${login}@example.com`;
      if (url.pathname === '/user') {
        return json(res, 200, { login: login.split('@')[0], id, name: `Stand-in ${login.split('@')[0]}`, email: null });
      }
      const verified = !login.startsWith('noverified.');
      return json(res, 200, [
        { email: `other.${address}`, primary: false, verified: true, visibility: null },
        { email: address, primary: true, verified, visibility: 'private' },
      ]);
    }
    json(res, 404, { message: 'Not Found' });
  };
}

function listen(server, port, name) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address().port));
  }).catch((e) => {
    throw new Error(`${name}: ${e.message}`);
  });
}

// Bind first (port 0 picks a free one), then build each provider with its exact issuer URL.
const googleServer = createServer();
const appleServer = createServer();
const googlePort = await listen(googleServer, ports.google, 'google');
const applePort = await listen(appleServer, ports.apple, 'apple');
const google = `http://${host}:${googlePort}`;
const apple = `http://${appleHost}:${applePort}`;
googleServer.on('request', (await openIdProvider(google, { apple: false })).callback());
appleServer.on('request', (await openIdProvider(apple, { apple: true })).callback());
const githubServer = createServer();
const githubPort = await listen(githubServer, ports.github, 'github');
const githubBase = `http://${host}:${githubPort}`;
githubServer.on('request', github(githubBase));
console.log(JSON.stringify({ google, apple, github: githubBase }));
