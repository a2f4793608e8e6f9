// Every route × every role: anonymous callers get 401 where a token is needed, a role too low gets
// 403, and a permitted caller never sees either.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, key, signUp, startApi, testJwtSecret, type Session, type TestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

let api: TestApi;
const sessions: Record<string, Session> = {};
before(async () => {
  api = await startApi();
  sessions.customer = await signUp(api);
  sessions.operator = await signUp(api, { role: 'operator' });
  sessions.admin = await signUp(api, { role: 'admin' });
});
after(async () => {
  await api.close();
});

type Role = 'anonymous' | 'customer' | 'operator' | 'admin';
const rank: Record<Role, number> = { anonymous: 0, customer: 1, operator: 2, admin: 3 };

interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: (session: Session) => string;
  needs: Role;
  body?: (session: Session) => object | Promise<object>;
}

const password = 'correct horse battery'; // what signUp registers

async function freshRefreshToken(session: Session): Promise<string> {
  const login = await api.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: session.username, password } });
  return login.json().refresh_token;
}

const money = (session: Session) => ({ wallet_id: session.walletId, amount: '1', currency: 'USD' });
const transfer = (session: Session) => ({ from_wallet_id: session.walletId, to_wallet_id: session.walletId, amount: '1', currency: 'USD' });
const routes: Route[] = [
  { method: 'POST', url: () => '/v1/users', needs: 'anonymous', body: () => ({ username: `m_${key().slice(0, 8)}`, password: 'long enough password', name: 'M' }) },
  { method: 'POST', url: () => '/v1/auth/login', needs: 'anonymous', body: (s) => ({ username: s.username, password }) },
  { method: 'POST', url: () => '/v1/auth/refresh', needs: 'anonymous', body: async (s) => ({ refresh_token: await freshRefreshToken(s) }) },
  { method: 'POST', url: () => '/v1/auth/logout', needs: 'customer', body: () => ({ refresh_token: 'rt_x' }) },
  { method: 'GET', url: () => '/v1/me', needs: 'customer' },
  { method: 'GET', url: () => '/v1/currencies', needs: 'anonymous' },
  { method: 'GET', url: () => '/v1/currencies/USD', needs: 'anonymous' },
  { method: 'GET', url: () => '/v1/wallets', needs: 'customer' },
  { method: 'POST', url: () => '/v1/wallets', needs: 'customer', body: () => ({ currency: 'GBP' }) },
  { method: 'GET', url: (s) => `/v1/wallets/${s.walletId}`, needs: 'customer' },
  { method: 'GET', url: (s) => `/v1/wallets/${s.walletId}/entries`, needs: 'customer' },
  { method: 'GET', url: (s) => `/v1/wallets/${s.walletId}/balance`, needs: 'customer' },
  { method: 'POST', url: () => '/v1/transfers', needs: 'customer', body: transfer },
  { method: 'POST', url: () => '/v1/transfers/batch', needs: 'operator', body: (s) => ({ transfers: [transfer(s)] }) },
  { method: 'GET', url: () => '/v1/transfers', needs: 'customer' },
  { method: 'GET', url: () => '/v1/transfers/00000000-0000-4000-8000-000000000000', needs: 'customer' },
  { method: 'POST', url: () => '/v1/transfers/00000000-0000-4000-8000-000000000000/capture', needs: 'customer', body: () => ({}) },
  { method: 'POST', url: () => '/v1/transfers/00000000-0000-4000-8000-000000000000/void', needs: 'customer', body: () => ({}) },
  { method: 'POST', url: () => '/v1/deposits', needs: 'operator', body: money },
  { method: 'POST', url: () => '/v1/withdrawals', needs: 'customer', body: money },
  { method: 'PATCH', url: (s) => `/v1/users/${s.userId}`, needs: 'admin', body: () => ({ role: 'customer' }) },
  { method: 'GET', url: () => '/v1/ledger/verify', needs: 'operator' },
  { method: 'POST', url: () => '/v1/transfers/00000000-0000-4000-8000-000000000000/reverse', needs: 'operator', body: () => ({ reason: 'x' }) },
  { method: 'GET', url: () => `/v1/receipts/${'0'.repeat(64)}`, needs: 'anonymous' },
  { method: 'GET', url: () => '/v1/events', needs: 'customer' },
  { method: 'GET', url: () => '/v1/events/stream?after=x', needs: 'customer' },
  { method: 'GET', url: () => '/v1/events/status', needs: 'operator' }, // a 400 when allowed: a live stream would never end
  { method: 'POST', url: () => '/v1/webhooks', needs: 'operator', body: () => ({ url: 'https://example.com/hooks', events: ['*'] }) },
  { method: 'GET', url: () => '/v1/webhooks', needs: 'operator' },
  { method: 'GET', url: () => '/v1/webhooks/00000000-0000-4000-8000-000000000000', needs: 'operator' },
  { method: 'PATCH', url: () => '/v1/webhooks/00000000-0000-4000-8000-000000000000', needs: 'operator', body: () => ({ enabled: true }) },
  { method: 'DELETE', url: () => '/v1/webhooks/00000000-0000-4000-8000-000000000000', needs: 'operator' },
  { method: 'GET', url: () => '/v1/webhooks/00000000-0000-4000-8000-000000000000/deliveries', needs: 'operator' },
  { method: 'GET', url: () => '/health', needs: 'anonymous' },
  { method: 'GET', url: () => '/ready', needs: 'anonymous' },
  { method: 'GET', url: () => '/metrics', needs: 'anonymous' },
  { method: 'GET', url: () => '/openapi.json', needs: 'anonymous' },
  { method: 'GET', url: () => '/docs/', needs: 'anonymous' },
];

test('every route answers every role as its access level says', async () => {
  const failures: string[] = [];
  for (const route of routes) {
    for (const role of ['anonymous', 'customer', 'operator', 'admin'] as Role[]) {
      const session = role === 'anonymous' ? sessions.customer! : sessions[role]!;
      const headers: Record<string, string> = role === 'anonymous' ? { 'idempotency-key': key() } : auth(session, key());
      const response = await api.app.inject({ method: route.method, url: route.url(session), headers, payload: await route.body?.(session) });
      const expected = rank[role] >= rank[route.needs] ? 'allowed' : role === 'anonymous' ? 401 : 403;
      const ok = expected === 'allowed' ? response.statusCode !== 401 && response.statusCode !== 403 : response.statusCode === expected;
      if (!ok) failures.push(`${role} ${route.method} ${route.url(session)}: expected ${expected}, got ${response.statusCode} ${response.body.slice(0, 120)}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('the matrix covers every documented operation', async () => {
  const document = api.app.swagger() as unknown as { paths: Record<string, Record<string, unknown>> };
  const session = sessions.customer!;
  const missing = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations)
      .map((method) => method.toUpperCase())
      .filter((method) => {
        const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?.*)?$`);
        return !routes.some((route) => route.method === method && pattern.test(route.url(session)));
      })
      .map((method) => `${method} ${path}`),
  );
  assert.deepEqual(missing, []);
});

test('a route that declares no access level is admin-only', async () => {
  const db = await createTestDatabase();
  const app = await buildApp({ config: loadConfig({}), pool: db.pool, jwtSecret: testJwtSecret });
  app.get('/v1/forgotten', async () => ({ secret: true })); // no config.access, as a careless new route would be
  await app.ready();
  const bearer = async (role: 'customer' | 'operator' | 'admin') => {
    const token = await new SignJWT({ role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(randomUUID())
      .setIssuer('kassa')
      .setAudience('kassa-api')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(testJwtSecret));
    return { authorization: `Bearer ${token}` };
  };
  assert.equal((await app.inject({ url: '/v1/forgotten' })).statusCode, 401);
  assert.equal((await app.inject({ url: '/v1/forgotten', headers: await bearer('customer') })).statusCode, 403);
  assert.equal((await app.inject({ url: '/v1/forgotten', headers: await bearer('operator') })).statusCode, 403);
  assert.equal((await app.inject({ url: '/v1/forgotten', headers: await bearer('admin') })).statusCode, 200);
  await app.close();
  await db.drop();
});
