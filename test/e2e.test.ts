// The README flow over a real socket against the real entry point, the way a new user runs it
// with curl; then a graceful shutdown under load that loses no acknowledged transfer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { findFreePort } from '../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';

let db: TestDatabase;
let server: ChildProcess;
let baseUrl: string;
let output = '';

before(async () => {
  db = await createTestDatabase();
  const port = await findFreePort();
  baseUrl = `http://127.0.0.1:${port}`;
  // The production build that `npm start` runs (npm test builds it first).
  server = spawn(process.execPath, ['--enable-source-maps', 'dist/main.js'], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: 'e2e-secret-e2e-secret-e2e-secret-e2e-secret',
      ADMIN_USERNAME: 'root_admin',
      ADMIN_PASSWORD: 'a very long admin password',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (chunk) => (output += chunk));
  server.stderr!.on('data', (chunk) => (output += chunk));
  for (let attempt = 0; attempt < 100; attempt++) {
    const ready = await fetch(`${baseUrl}/ready`).catch(() => undefined);
    if (ready?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`server did not become ready:\n${output}`);
});

after(async () => {
  if (server.exitCode === null) server.kill('SIGKILL');
  await db.drop();
});

async function call(method: string, path: string, options: { token?: string; body?: unknown; idempotencyKey?: string } = {}) {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

test('the README walkthrough: register, deposit, pay by username, read history', async () => {
  const alice = await call('POST', '/v1/users', { body: { username: 'alice', password: 'alice password 1', name: 'Alice' } });
  assert.equal(alice.status, 201);
  const bob = await call('POST', '/v1/users', { body: { username: 'bob', password: 'bob password 12', name: 'Bob' } });
  assert.equal(bob.status, 201);

  const admin = await call('POST', '/v1/auth/login', { body: { username: 'root_admin', password: 'a very long admin password' } });
  assert.equal(admin.status, 200, 'ADMIN_USERNAME/ADMIN_PASSWORD created the admin at start');
  const deposit = await call('POST', '/v1/deposits', {
    token: admin.body.access_token,
    idempotencyKey: randomUUID(),
    body: { wallet_id: alice.body.wallet.id, amount: '100.00', currency: 'USD' },
  });
  assert.equal(deposit.status, 201);

  const login = await call('POST', '/v1/auth/login', { body: { username: 'alice', password: 'alice password 1' } });
  const token = login.body.access_token;
  const payment = await call('POST', '/v1/transfers', {
    token,
    idempotencyKey: 'coffee-2026-11-22',
    body: { from_wallet_id: alice.body.wallet.id, to_username: 'bob', amount: '4.50', currency: 'USD', description: 'coffee' },
  });
  assert.equal(payment.status, 201);
  assert.ok(payment.headers.get('x-request-id'));

  const wallet = await call('GET', `/v1/wallets/${alice.body.wallet.id}`, { token });
  assert.equal(wallet.body.balance, '95.50');
  const entries = await call('GET', `/v1/wallets/${alice.body.wallet.id}/entries`, { token });
  assert.deepEqual(entries.body.data.map((entry: { amount: string }) => entry.amount), ['-4.50', '100.00']);
  const bobLogin = await call('POST', '/v1/auth/login', { body: { username: 'bob', password: 'bob password 12' } });
  const history = await call('GET', '/v1/transfers', { token: bobLogin.body.access_token });
  assert.equal(history.body.data[0].description, 'coffee');
});

test('SIGTERM under load finishes in-flight requests and loses no acknowledged transfer', async () => {
  const admin = await call('POST', '/v1/auth/login', { body: { username: 'root_admin', password: 'a very long admin password' } });
  const users = await call('GET', '/v1/wallets', { token: admin.body.access_token });
  const walletId = users.body.data[0].id;
  const requests = Array.from({ length: 60 }, () =>
    call('POST', '/v1/deposits', { token: admin.body.access_token, idempotencyKey: randomUUID(), body: { wallet_id: walletId, amount: '1', currency: 'USD' } }).catch(() => ({ status: 0 })),
  );
  await Promise.race(requests); // the first acknowledgement is back; the rest are in flight
  server.kill('SIGTERM');
  const responses = await Promise.all(requests);
  const exitCode = await new Promise<number | null>((resolve) => (server.exitCode !== null ? resolve(server.exitCode) : server.on('exit', resolve)));
  assert.equal(exitCode, 0, output);
  const acknowledged = responses.filter((response) => response.status === 201).length;
  assert.ok(responses.every((response) => [0, 201, 503].includes(response.status)), responses.map((r) => r.status).join(','));
  const { rows } = await db.pool.query<{ count: bigint }>(`select count(*) from transfers where kind = 'deposit' and to_account_id = $1 and amount = 100`, [walletId]);
  assert.ok(Number(rows[0]!.count) >= acknowledged && acknowledged > 0, `${rows[0]!.count} stored, ${acknowledged} acknowledged`);
});
