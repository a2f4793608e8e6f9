// Property-based hostile input: every endpoint is driven with malformed and boundary values in its
// body, path and query. Whatever arrives: never a 5xx, always problem+json on refusal, no money
// moved, and the server keeps answering.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { auth, depositTo, key, signUp, startApi, type Session, type TestApi } from '../helpers/api.ts';
import { verifyLedger } from '../../src/store/verify.ts';

let api: TestApi;
let alice: Session;
let operator: Session;
before(async () => {
  api = await startApi();
  operator = await signUp(api, { role: 'operator' });
  alice = await signUp(api);
  await depositTo(api, operator, alice.walletId, '100');
});
after(async () => {
  await api.close();
});

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    "'; drop table accounts; --",
    '../../../etc/passwd',
    '%00',
    '\u0000',
    '\r\nX-Injected: yes',
    '1e9',
    '-0',
    '0x10',
    'NaN',
    'Infinity',
    '１２',
    '9'.repeat(80),
    '0.' + '0'.repeat(30) + '1',
    '<script>alert(1)</script>',
    '{"$ne": null}',
  ),
);
const hostileNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -1, 0, 1e308, -1e308, 12.345));
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A body shaped like the real one, with any field replaced, dropped or added. */
function mangled(shape: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(shape);
  return fc.oneof(
    hostileValue,
    fc.record(Object.fromEntries(keys.map((name) => [name, fc.oneof(fc.constant(shape[name]), hostileValue)])), { requiredKeys: [] }),
    fc.tuple(fc.dictionary(hostileString, hostileValue, { maxKeys: 3 })).map(([extra]) => ({ ...shape, ...extra })),
  );
}

const hostileId = fc.oneof(fc.uuid(), hostileString.map((text) => encodeURIComponent(text)), fc.constant('%zz'));

test('no hostile request gets a 5xx, every refusal is problem+json, and no money moves', async () => {
  const before = await verifyLedger(api.db.pool);
  const { rows: transfersBefore } = await api.db.pool.query<{ count: bigint }>('select count(*) from transfers');
  const transfer = { from_wallet_id: alice.walletId, to_wallet_id: operator.walletId, amount: '1.00', currency: 'USD' };
  const endpoints: { method: 'GET' | 'POST' | 'PATCH'; path: fc.Arbitrary<string>; body?: fc.Arbitrary<unknown>; session: Session }[] = [
    { method: 'POST', path: fc.constant('/v1/users'), body: mangled({ username: 'fuzz_user', password: 'long enough password', name: 'F' }), session: alice },
    { method: 'POST', path: fc.constant('/v1/auth/login'), body: mangled({ username: 'x', password: 'y' }), session: alice },
    { method: 'POST', path: fc.constant('/v1/auth/refresh'), body: mangled({ refresh_token: 'rt_x' }), session: alice },
    { method: 'POST', path: fc.constant('/v1/wallets'), body: mangled({ currency: 'EUR' }), session: alice },
    { method: 'POST', path: fc.constant('/v1/transfers'), body: mangled({ ...transfer, amount: '1000.00' }), session: alice },
    { method: 'POST', path: fc.constant('/v1/transfers/batch'), body: mangled({ transfers: [{ ...transfer, amount: '1000.00' }] }), session: operator },
    { method: 'POST', path: fc.constant('/v1/deposits'), body: mangled({ wallet_id: 'x', amount: '1', currency: 'USD' }), session: alice },
    { method: 'POST', path: fc.constant('/v1/withdrawals'), body: mangled({ wallet_id: alice.walletId, amount: '1000.00', currency: 'USD' }), session: alice },
    { method: 'POST', path: hostileId.map((id) => `/v1/transfers/${id}/capture`), body: mangled({ amount: '1' }), session: alice },
    { method: 'POST', path: hostileId.map((id) => `/v1/transfers/${id}/void`), body: mangled({}), session: alice },
    { method: 'POST', path: hostileId.map((id) => `/v1/transfers/${id}/reverse`), body: mangled({ reason: 'r', amount: '1' }), session: operator },
    { method: 'PATCH', path: hostileId.map((id) => `/v1/users/${id}`), body: mangled({ role: 'customer' }), session: alice },
    { method: 'GET', path: hostileId.map((id) => `/v1/wallets/${id}`), session: alice },
    { method: 'GET', path: fc.tuple(hostileId, hostileString).map(([id, cursor]) => `/v1/wallets/${id}/entries?cursor=${encodeURIComponent(cursor)}&limit=${encodeURIComponent(cursor)}`), session: alice },
    { method: 'GET', path: fc.tuple(hostileId, hostileString).map(([id, at]) => `/v1/wallets/${id}/balance?at=${encodeURIComponent(at)}`), session: alice },
    { method: 'GET', path: fc.tuple(hostileId, hostileString).map(([id, cursor]) => `/v1/transfers?wallet_id=${id}&cursor=${encodeURIComponent(cursor)}`), session: alice },
    { method: 'GET', path: hostileId.map((id) => `/v1/transfers/${id}`), session: alice },
    { method: 'GET', path: hostileString.map((code) => `/v1/currencies/${encodeURIComponent(code)}`), session: alice },
    { method: 'GET', path: hostileString.map((hash) => `/v1/receipts/${encodeURIComponent(hash)}`), session: alice },
    { method: 'GET', path: fc.tuple(hostileString, hostileString).map(([after, limit]) => `/v1/events?after=${encodeURIComponent(after)}&limit=${encodeURIComponent(limit)}`), session: alice },
    { method: 'POST', path: fc.constant('/v1/webhooks'), body: mangled({ url: 'https://example.com/hooks', events: ['transfer.created'] }), session: operator },
    { method: 'PATCH', path: hostileId.map((id) => `/v1/webhooks/${id}`), body: mangled({ enabled: true }), session: operator },
    { method: 'GET', path: fc.tuple(hostileId, hostileString).map(([id, cursor]) => `/v1/webhooks/${id}/deliveries?cursor=${encodeURIComponent(cursor)}`), session: operator },
  ];
  for (const endpoint of endpoints) {
    await fc.assert(
      fc.asyncProperty(endpoint.path, endpoint.body ?? fc.constant(undefined), async (path, body) => {
        const response = await api.app.inject({
          method: endpoint.method,
          url: path,
          headers: { ...auth(endpoint.session, key()), 'content-type': 'application/json' },
          payload: body === undefined ? undefined : JSON.stringify(body),
        });
        assert.ok(response.statusCode < 500, `${endpoint.method} ${path} ${JSON.stringify(body)?.slice(0, 200)} → ${response.statusCode} ${response.body.slice(0, 200)}`);
        if (response.statusCode >= 400) assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', `${endpoint.method} ${path}`);
      }),
      { numRuns: 60 },
    );
  }
  const { rows: transfersAfter } = await api.db.pool.query<{ count: bigint }>('select count(*) from transfers');
  assert.equal(transfersAfter[0]!.count, transfersBefore[0]!.count, 'no hostile request moved money');
  const after = await verifyLedger(api.db.pool);
  assert.deepEqual(after.mismatches, []);
  assert.deepEqual(after.currencies, before.currencies);
  assert.equal((await api.app.inject({ url: '/health' })).statusCode, 200, 'still answering');
});
