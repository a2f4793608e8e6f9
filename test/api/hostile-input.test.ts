import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, depositTo, key, signUp, startApi, type Session, type TestApi } from '../helpers/api.ts';

let api: TestApi;
let alice: Session;
before(async () => {
  api = await startApi();
  alice = await signUp(api);
  await depositTo(api, await signUp(api, { role: 'operator' }), alice.walletId, '10');
});
after(async () => {
  await api.close();
});

test('no request, however malformed, gets a 5xx or changes anything', async () => {
  const transfer = (extra: Record<string, unknown>) => JSON.stringify({ from_wallet_id: alice.walletId, to_username: 'x', amount: '1', currency: 'USD', ...extra });
  const cases: [string, string, string | Buffer | undefined][] = [
    ['GET', '/v1/wallets/%zz', undefined],
    ['GET', '/v1/wallets/%00', undefined],
    ['GET', `/v1/wallets/${alice.walletId}/entries?limit=abc`, undefined],
    ['GET', `/v1/wallets/${alice.walletId}/entries?limit=1&limit=2`, undefined],
    ['GET', `/v1/wallets/${alice.walletId}/entries?from=2020-13-45T00:00:00Z`, undefined],
    ['GET', `/v1/transfers?cursor=${'A'.repeat(199)}`, undefined],
    ['GET', `/v1/transfers?cursor=%00`, undefined],
    ['GET', '/v1/currencies/%F0%9F%92%B0', undefined],
    ['POST', '/v1/transfers', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
    ['POST', '/v1/transfers', '['.repeat(5_000) + ']'.repeat(5_000)],
    ['POST', '/v1/transfers', transfer({}).replace('}', ',"__proto__":{"role":"admin"}}')],
    ['POST', '/v1/transfers', transfer({ to_username: "x'; drop table users; --" })],
    ['POST', '/v1/transfers', transfer({ amount: '9'.repeat(60) })],
    ['POST', '/v1/transfers', transfer({ metadata: { deep: JSON.parse('['.repeat(500) + ']'.repeat(500)) } })],
    ['POST', '/v1/transfers', transfer({ to_username: 'x\u0000y' })],
    ['POST', '/v1/transfers', transfer({ description: 'a\u0000b' })],
    ['POST', '/v1/transfers', transfer({ metadata: { 'k\u0000': 'v' } })],
    ['POST', '/v1/users', JSON.stringify({ username: 'nul_user', password: 'password\u0000password', name: 'N\u0000' })],
    ['POST', '/v1/auth/login', JSON.stringify({ username: 'a\u0000', password: 'b' })],
  ];
  for (const [method, url, payload] of cases) {
    const response = await api.app.inject({
      method: method as 'GET' | 'POST',
      url,
      headers: { ...auth(alice, key()), 'content-type': 'application/json' },
      payload,
    });
    assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${method} ${url.slice(0, 60)} → ${response.statusCode} ${response.body.slice(0, 200)}`);
    assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', `${method} ${url.slice(0, 60)}`);
  }
  const tenMegabytes = await api.app.inject({
    method: 'POST',
    url: '/v1/transfers',
    headers: { ...auth(alice, key()), 'content-type': 'application/json' },
    payload: `{"description":"${'x'.repeat(10 * 1024 * 1024)}"}`,
  });
  assert.equal(tenMegabytes.statusCode, 413);
  assert.equal(tenMegabytes.json().code, 'payload_too_large');
  const wallet = await api.app.inject({ url: `/v1/wallets/${alice.walletId}`, headers: auth(alice) });
  assert.equal(wallet.json().balance, '10.00');
  const { rows } = await api.db.pool.query<{ count: bigint }>(`select count(*) from users where username = 'nul_user'`);
  assert.equal(rows[0]!.count, 0n);
});
