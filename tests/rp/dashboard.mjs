// A developer's whole journey through the dashboard in Debian's Chromium, driven by
// playwright-core: sign up, verify the address from the mail moto holds, sign in (by keyboard),
// create an app, create a secret key and use it with an HTTP client to create a user through the
// management API, find that user, disable them (their sign-in is then refused), register an OAuth
// client, configure a provider, read the audit log, sign out (the old cookie is then dead).
//
// Run by the Rust test `dashboard_browser` with the service's base URL, moto's URL and two fresh
// addresses in the environment; prints one JSON line with what it saw and exits non-zero on any
// failure. With DASH_SCREENSHOTS=<dir>, each page is saved there at desktop and phone width.

import { join } from 'node:path';
import { env, launch } from './chromium.mjs';

const base = env('DASH_BASE');
const moto = env('DASH_MOTO');
const email = env('DASH_EMAIL');
const userEmail = env('DASH_USER_EMAIL');
const password = env('DASH_PASSWORD');
const shots = process.env.DASH_SCREENSHOTS;
const seen = { pages: {} };

const desktop = { width: 1200, height: 820 };
const phone = { width: 390, height: 844 };

/// The newest mail moto holds for an address, as its inbox would show it.
async function mailTo(address, marker) {
  for (let i = 0; i < 100; i += 1) {
    const data = await (await fetch(`${moto}/moto-api/data.json`)).json().catch(() => null);
    const mails = (data?.ses?.Message ?? []).filter(
      (m) => (m.destinations?.ToAddresses ?? []).includes(address) && m.body?.includes(marker),
    );
    if (mails.length) return mails[mails.length - 1].body;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`no mail with ${marker} reached ${address}`);
}

const { context, close } = await launch(desktop);
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(60000);

  /// What every page must be: titled, every field labelled, no horizontal scroll on a phone;
  /// then its screenshots.
  async function check(name) {
    // Titled by what the page is: "<page> · Auth console".
    const title = await page.title();
    const parts = title.split(' · ');
    if (parts.length < 2 || parts.at(-1) !== 'Auth console' || !parts[0].trim()) {
      throw new Error(`${name}: not titled by its page (${title})`);
    }
    const unlabelled = await page.$$eval(
      'input:not([type=hidden]), select, textarea',
      (els) => els.filter((e) => !e.labels || e.labels.length === 0).map((e) => e.name),
    );
    if (unlabelled.length) throw new Error(`${name}: fields without a label: ${unlabelled}`);
    await page.setViewportSize(phone);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) {
      const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .filter((e) => !e.parentElement.closest('.scroll, nav.tabs'))
        .map((e) => `${e.tagName}.${e.className}`).slice(-5));
      throw new Error(`${name}: ${overflow}px wider than a phone (${wide})`);
    }
    if (shots) await page.screenshot({ path: join(shots, `${name}-phone.png`), fullPage: true });
    await page.setViewportSize(desktop);
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    seen.pages[name] = title;
  }

  // Signed out, the dashboard is its sign-in page; from there, sign up.
  await page.goto(`${base}/dashboard`);
  await page.waitForSelector('#login-email');
  await check('login');
  await page.click('text=Create an account');
  await page.fill('#signup-email', email);
  await page.fill('#signup-password', password);
  await page.fill('#signup-name', 'Alice');
  await check('signup');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Check your inbox');

  // The mailed link opens a page; only its button verifies.
  const mail = await mailTo(email, '/dashboard/verify-email?token=');
  const link = mail.match(/https?:\/\/\S*\/dashboard\/verify-email\?token=[A-Za-z0-9_-]+/)[0];
  seen.verify_link_is_the_dashboards = link.startsWith(`${base}/dashboard/verify-email`);
  await page.goto(link);
  await page.waitForSelector('text=Verify my email address');
  await check('verify-email');
  await page.click('text=Verify my email address');
  await page.waitForSelector('text=Your email address is verified');

  // Signing in by keyboard alone.
  await page.focus('#login-email');
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.waitForSelector('text=No apps yet');
  await check('apps-empty');

  // An app.
  await page.click('#new-app');
  await page.fill('#app-name', 'Acme Photos');
  await check('new-app');
  await page.click('text=Create app');
  await page.waitForSelector('text=App created');
  const appId = (await page.innerText('#fact-1')).trim();
  seen.app_id_shape = /^app_[a-z0-9]{16}$/.test(appId);
  seen.discovery_shown = (await page.innerText('main')).includes(`${base}/apps/${appId}/.well-known/openid-configuration`);
  await check('overview');

  // A secret key, shown once, used by an HTTP client at the management API.
  await page.click('nav.tabs >> text=Secret keys');
  await page.waitForSelector('text=No secret keys yet');
  await page.fill('#key-label', 'backend');
  await page.click('text=Create secret key');
  const key = (await page.innerText('#shown-secret')).trim();
  seen.key_prefix = key.slice(0, 3);
  seen.copy_button = await page.isVisible('button[data-copy=shown-secret]');
  await check('secret-key-created');
  const created = await fetch(`${base}/apps/${appId}/api/v1/admin/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: userEmail, password, email_verified: true, name: 'Grace' }),
  });
  seen.user_created_status = created.status;
  const userLogin = () => fetch(`${base}/apps/${appId}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: userEmail, password }),
  });
  seen.user_login_before = (await userLogin()).status;
  // A later visit of the page lists the key without its secret.
  await page.click('nav.tabs >> text=Overview');
  await page.click('nav.tabs >> text=Secret keys');
  await page.waitForSelector('text=backend');
  seen.keys_listed = await page.locator('tbody tr').count();
  seen.key_shown_again = (await page.content()).includes(key);

  // The user in the list, by search; disabled from their page.
  await page.click('nav.tabs >> text=Users');
  await page.waitForSelector(`text=${userEmail}`);
  await check('users');
  await page.fill('#filter-email', userEmail.slice(0, 6));
  await page.click('form.filter button');
  await page.click(`text=${userEmail}`);
  await page.waitForSelector('text=Disable user');
  await check('user');
  await page.click('text=Disable user');
  await page.waitForSelector('text=User disabled');
  seen.user_status = (await page.innerText('dl.facts')).includes('Disabled');
  const refused = await userLogin();
  seen.user_login_after = refused.status;
  seen.user_login_after_code = (await refused.json()).error?.code;

  // An OAuth client; its secret once.
  await page.click('nav.tabs >> text=OAuth clients');
  await page.waitForSelector('text=No OAuth clients yet');
  await page.fill('#client-name', 'Print Studio');
  await page.fill('#client-redirect_uris', 'https://print.example/callback');
  await check('oauth-clients');
  await page.click('text=Register client');
  await page.waitForSelector('#shown-secret');
  seen.client_secret_prefix = (await page.innerText('#shown-secret')).trim().slice(0, 4);
  await check('oauth-client');

  // A provider: its secret write-only, then "Configured".
  await page.click('nav.tabs >> text=Social providers');
  await page.fill('#github-client_id', 'Iv1.0123456789abcdef');
  await page.fill('#github-client_secret', 'github-secret-0123456789');
  await page.click('#github-client_secret >> xpath=ancestor::form >> button[type=submit]');
  await page.waitForSelector('text=Provider configured');
  const providers = await page.content();
  seen.github_configured = providers.includes('Configured') && providers.includes('Iv1.0123456789abcdef');
  seen.provider_secret_shown = providers.includes('github-secret-0123456789');
  await check('providers');

  // Settings: a mistake is shown next to its field.
  await page.click('nav.tabs >> text=Settings');
  await page.fill('#settings-frontend_url', 'http://photos.example');
  await page.click('text=Save settings');
  await page.waitForSelector('#settings-frontend_url-error');
  seen.settings_error = await page.innerText('#settings-frontend_url-error');
  await check('settings');
  await page.fill('#settings-frontend_url', 'https://photos.example');
  await page.click('text=Save settings');
  await page.waitForSelector('text=Settings saved');

  // The audit log, filtered by nothing.
  await page.click('nav.tabs >> text=Audit log');
  await page.waitForSelector('table');
  seen.audit_has_disable = (await page.innerText('table')).includes('user_disabled');
  await check('audit');

  // Signing out: the cookie from before is dead.
  const before = (await context.cookies()).find((c) => c.name === '__Host-console-session');
  seen.cookie = { httpOnly: before.httpOnly, secure: before.secure, sameSite: before.sameSite };
  const withOldCookie = () => fetch(`${base}/dashboard`, {
    headers: { cookie: `__Host-console-session=${before.value}` },
    redirect: 'manual',
  });
  seen.cookie_status_before = (await withOldCookie()).status;
  await page.click('#sign-out');
  await page.waitForSelector('text=You are signed out');
  const replay = await withOldCookie();
  seen.old_cookie_status = replay.status;
  seen.old_cookie_location = replay.headers.get('location');
} finally {
  await close();
}
console.log(JSON.stringify(seen));
