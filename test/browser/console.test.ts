// The web console in headless Chromium, driven as a person would: sign up, get a deposit from an
// operator, send money with a confirmation, see the payee's history update live, read errors in
// words, and the operator's view of the ledger. Screenshots land in test-results/.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { signUp, startApi, type TestApi } from '../helpers/api.ts';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshots = 'test-results';
let api: TestApi;
let baseUrl: string;
let browser: Browser | undefined;

before(async () => {
  api = await startApi({}, { relayEvents: true });
  baseUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
  mkdirSync(screenshots, { recursive: true });
});
after(async () => {
  await browser?.close();
  await api.close();
});

async function launch(t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(chromiumPath)) {
    if (process.env.CI === 'true') throw new Error(`Chromium is not installed at ${chromiumPath}; CI installs it (.ci/run)`);
    t.skip(`Chromium is not installed at ${chromiumPath} (apt-get install chromium)`);
    return undefined;
  }
  browser ??= await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return browser;
}

async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000); // a hang guard, not a speed check
  await page.goto(baseUrl);
  return page;
}

async function signUpInBrowser(page: Page, username: string): Promise<void> {
  await page.getByRole('link', { name: 'Create account' }).first().click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Full name').fill(`${username} Example`);
  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Your wallets' }).waitFor();
}

test('a person signs up, is paid, sends money with a confirmation, and the payee sees it live', async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  const alice = await newPage(browser);
  await signUpInBrowser(alice, 'alice_ui');
  assert.equal(await alice.getByTestId('available').first().textContent(), '$0.00');
  const bob = await newPage(browser);
  await signUpInBrowser(bob, 'bob_ui');

  // An operator deposits into Alice's wallet from the console.
  const operator = await signUp(api, { role: 'operator', username: 'ops_ui' });
  const { rows } = await api.db.pool.query<{ id: string }>("select a.id from accounts a join users u on u.id = a.user_id where u.username = 'alice_ui'");
  const aliceWallet = rows[0]!.id;
  const ops = await newPage(browser);
  await ops.getByLabel('Username').fill(operator.username);
  await ops.getByLabel('Password').fill('correct horse battery');
  await ops.getByRole('button', { name: 'Sign in' }).click();
  await ops.getByRole('link', { name: 'Operator' }).waitFor();
  await ops.goto(`${baseUrl}/#/wallets/${aliceWallet}`);
  await ops.getByLabel('Deposit (USD)').fill('100.00');
  await ops.getByRole('button', { name: 'Deposit' }).click();
  await ops.getByTestId('available').filter({ hasText: '$100.00' }).waitFor(); // the wallet shown updates live

  await alice.getByTestId('available').filter({ hasText: '$100.00' }).waitFor(); // live, no reload

  // Bob watches his wallet's history while Alice pays him.
  await bob.getByRole('link', { name: 'History' }).click();
  await bob.getByText('No movements yet.').waitFor();

  await alice.getByRole('navigation').getByRole('link', { name: 'Send money' }).click();
  await alice.getByLabel('To (username)').fill('bob_ui');
  await alice.getByLabel('Amount').fill('12.505');
  await alice.getByRole('button', { name: 'Review' }).click();
  await alice.getByText('Enter an amount like 12.50, with at most 2 decimals.').waitFor();
  await alice.getByLabel('Amount').fill('12.50');
  await alice.getByLabel('Note (optional)').fill('lunch');
  await alice.getByRole('button', { name: 'Review' }).click();
  await alice.getByText('Send $12.50 to bob_ui').waitFor();
  await alice.screenshot({ path: `${screenshots}/console-confirm.png` });
  await alice.getByRole('button', { name: 'Confirm and send' }).click();
  await alice.getByRole('heading', { name: 'USD wallet' }).waitFor();
  await alice.getByTestId('available').filter({ hasText: '$87.50' }).waitFor();

  await bob.getByRole('cell', { name: '+ $12.50' }).waitFor(); // arrived over the event stream
  await bob.getByTestId('available').filter({ hasText: '$12.50' }).waitFor();
  await bob.screenshot({ path: `${screenshots}/console-history-live.png` });

  // Refusals read as sentences.
  await alice.getByRole('navigation').getByRole('link', { name: 'Send money' }).click();
  await alice.getByLabel('To (username)').fill('bob_ui');
  await alice.getByLabel('Amount').fill('1000.00');
  await alice.getByRole('button', { name: 'Review' }).click();
  await alice.getByRole('button', { name: 'Confirm and send' }).click();
  await alice.getByRole('alert').filter({ hasText: "There isn't enough available money in this wallet for that." }).waitFor();
  await alice.getByRole('button', { name: 'Change' }).click();
  await alice.getByLabel('To (username)').fill('nobody_here');
  await alice.getByLabel('Amount').fill('1.00');
  await alice.getByRole('button', { name: 'Review' }).click();
  await alice.getByRole('button', { name: 'Confirm and send' }).click();
  await alice.getByRole('alert').filter({ hasText: "There's no user with that username." }).waitFor();
  await alice.screenshot({ path: `${screenshots}/console-error.png` });

  const { rows: balances } = await api.db.pool.query<{ balance: string }>("select balance::text from accounts a join users u on u.id = a.user_id where u.username in ('alice_ui', 'bob_ui') order by u.username");
  assert.deepEqual(balances.map((row) => row.balance), ['8750', '1250'], 'exactly one payment moved money');

  // The operator's view: verification, event health, recent transfers.
  await ops.getByRole('link', { name: 'Operator' }).click();
  await ops.getByTestId('verification').filter({ hasText: 'Verified: every cent accounted for.' }).waitFor();
  await ops.getByRole('cell', { name: '$12.50' }).first().waitFor();
  await ops.getByText('Waiting deliveries').waitFor();
  await ops.screenshot({ path: `${screenshots}/console-operator.png`, fullPage: true });
});

test('history scrolls in more pages from the cursor API', async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  const operator = await signUp(api, { role: 'operator', username: 'ops_scroll' });
  const user = await signUp(api, { username: 'scroll_ui' });
  for (let index = 0; index < 45; index++) {
    await api.app.inject({ method: 'POST', url: '/v1/deposits', headers: { authorization: `Bearer ${operator.token}`, 'idempotency-key': `scroll-${index}` },
      payload: { wallet_id: user.walletId, amount: '1.00', currency: 'USD' } });
  }
  const page = await newPage(browser);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.setViewportSize({ width: 1100, height: 500 });
  await page.getByRole('link', { name: 'History' }).click();
  const rows = page.locator('table.history tbody tr');
  await rows.nth(19).waitFor();
  assert.equal(await rows.count(), 20, 'one page of 20 first');
  const everything = page.getByText('That is everything.');
  for (let attempt = 0; attempt < 100 && !(await everything.isVisible()); attempt++) {
    await page.evaluate('window.scrollTo(0, document.body.scrollHeight)');
    await page.waitForTimeout(100);
  }
  assert.equal(await rows.count(), 45, 'the rest arrived as the reader scrolled');
  await page.screenshot({ path: `${screenshots}/console-history-scrolled.png` });
});

test('a page still loading when the reader moves on never draws over the page they went to, live updates included', async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  const operator = await signUp(api, { role: 'operator', username: 'ops_race' });
  const user = await signUp(api, { username: 'race_ui' });
  const page = await newPage(browser);
  // Hold back the wallet list that signing in shows, as a slow network would.
  let releaseList!: () => void;
  const listHeld = new Promise<void>((resolve) => (releaseList = resolve));
  let held = 0;
  await page.route('**/v1/wallets?limit=100', async (route) => {
    if (held++ === 0) await listHeld; // only the first; later ones pass at once
    await route.continue();
  });
  await page.getByLabel('Username').fill(operator.username);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Operator' }).waitFor();
  await page.goto(`${baseUrl}/#/wallets/${user.walletId}`);
  await page.getByLabel('Deposit (USD)').waitFor();
  assert.equal(held, 1, 'the wallet list is still loading');
  // The late list arrives, then a live event for this wallet: the wallet page stays and updates.
  const lateList = page.waitForResponse('**/v1/wallets?limit=100');
  releaseList();
  await lateList;
  await api.app.inject({ method: 'POST', url: '/v1/deposits', headers: { authorization: `Bearer ${operator.token}`, 'idempotency-key': 'race-1' },
    payload: { wallet_id: user.walletId, amount: '7.00', currency: 'USD' } });
  await page.getByTestId('available').filter({ hasText: '$7.00' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Your wallets' }).count(), 0, 'the late wallet list was not drawn');
  await page.getByLabel('Deposit (USD)').fill('1.00');
});
