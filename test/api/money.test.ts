import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, depositTo, key, signUp, startApi, type Session, type TestApi } from '../helpers/api.ts';
import { verifyLedger } from '../../src/store/verify.ts';

let api: TestApi;
let operator: Session;
before(async () => {
  api = await startApi();
  operator = await signUp(api, { role: 'operator' });
});
after(async () => {
  await api.close();
});

async function balanceOf(session: Session, walletId = session.walletId): Promise<string> {
  return (await api.app.inject({ url: `/v1/wallets/${walletId}`, headers: auth(session) })).json().balance;
}

function send(session: Session, payload: unknown, idempotencyKey: string | null = key()) {
  return api.app.inject({ method: 'POST', url: '/v1/transfers', headers: auth(session, idempotencyKey ?? undefined), payload: payload as object });
}

describe('transfers', () => {
  test('moves money by wallet id or by username and answers 201 with the transfer', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    await depositTo(api, operator, alice.walletId, '100');
    const byId = await send(alice, { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '12.5', currency: 'USD', description: 'lunch', metadata: { order: 'A-1' } });
    assert.equal(byId.statusCode, 201);
    const transfer = byId.json();
    assert.equal(transfer.amount, '12.50');
    assert.equal(transfer.status, 'posted');
    assert.equal(transfer.kind, 'transfer');
    assert.deepEqual(transfer.metadata, { order: 'A-1' });
    const byName = await send(alice, { from_wallet_id: alice.walletId, to_username: bob.username.toUpperCase(), amount: '0.50', currency: 'USD' });
    assert.equal(byName.statusCode, 201);
    assert.equal(byName.json().to_wallet_id, bob.walletId);
    assert.equal(await balanceOf(alice), '87.00');
    assert.equal(await balanceOf(bob), '13.00');
    const read = await api.app.inject({ url: `/v1/transfers/${transfer.id}`, headers: auth(bob) });
    assert.deepEqual(read.json(), transfer, 'the recipient reads the same transfer');
  });

  test('text and metadata that JSON must escape come back exactly: response, replay, read and event', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    await depositTo(api, operator, alice.walletId, '5');
    const awkward = 'quote " backslash \\ slash / newline \n tab \t bell \u0007 line separator \u2028 emoji 💸 é';
    const body = {
      from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '1', currency: 'USD',
      description: awkward, reference: `ref ${awkward}`, metadata: { 'key "\\ \n 💸': [awkward, { nested: '"\\' }], n: 1.5, ok: true, none: null },
    };
    const idempotencyKey = key();
    const first = await send(alice, body, idempotencyKey);
    assert.equal(first.statusCode, 201);
    const transfer = first.json();
    assert.equal(transfer.description, body.description);
    assert.equal(transfer.reference, body.reference);
    assert.deepEqual(transfer.metadata, body.metadata);
    const replay = await send(alice, body, idempotencyKey);
    assert.equal(replay.body, first.body, 'the replay is byte for byte the first answer');
    const read = await api.app.inject({ url: `/v1/transfers/${transfer.id}`, headers: auth(alice) });
    assert.deepEqual(read.json(), transfer);
    const { rows } = await api.db.pool.query<{ data: Record<string, unknown> }>(`select data from outbox where data->>'id' = $1`, [transfer.id]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.data.description, body.description);
    assert.deepEqual(rows[0]!.data.metadata, body.metadata);
    const longKey = await send(alice, { ...body, metadata: { ['k'.repeat(41)]: 1 } });
    assert.equal(longKey.statusCode, 400, 'metadata keys are at most 40 characters');
    assert.equal(longKey.json().errors[0].pointer, '/metadata');
  });

  test('business failures answer their code and change nothing', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    const euro = await api.app.inject({ method: 'POST', url: '/v1/wallets', headers: auth(bob), payload: { currency: 'EUR' } });
    await depositTo(api, operator, alice.walletId, '10.00');
    const cases: [Record<string, unknown>, number, string][] = [
      [{ to_wallet_id: bob.walletId, amount: '10.01' }, 422, 'insufficient_funds'],
      [{ to_wallet_id: euro.json().id, amount: '1' }, 422, 'currency_mismatch'],
      [{ to_wallet_id: alice.walletId, amount: '1' }, 422, 'same_wallet'],
      [{ to_wallet_id: '00000000-0000-4000-8000-000000000000', amount: '1' }, 404, 'wallet_not_found'],
      [{ to_username: 'nobody_by_that_name', amount: '1' }, 404, 'user_not_found'],
      [{ to_wallet_id: bob.walletId, amount: '1', currency: 'EUR' }, 422, 'currency_mismatch'],
    ];
    for (const [overrides, status, code] of cases) {
      const response = await send(alice, { from_wallet_id: alice.walletId, currency: 'USD', ...overrides });
      assert.equal(response.statusCode, status, JSON.stringify(overrides));
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(response.json().code, code);
    }
    assert.equal(await balanceOf(alice), '10.00');
    assert.equal(await balanceOf(bob), '0.00');
  });

  test("sending from someone else's wallet is wallet_not_found, exactly like a missing one", async () => {
    const alice = await signUp(api);
    const mallory = await signUp(api);
    await depositTo(api, operator, alice.walletId, '50');
    const theft = await send(mallory, { from_wallet_id: alice.walletId, to_wallet_id: mallory.walletId, amount: '50', currency: 'USD' });
    const missing = await send(mallory, { from_wallet_id: '00000000-0000-4000-8000-000000000001', to_wallet_id: mallory.walletId, amount: '50', currency: 'USD' });
    assert.equal(theft.statusCode, 404);
    assert.equal(theft.json().code, 'wallet_not_found');
    assert.equal(missing.json().code, 'wallet_not_found');
    assert.equal(theft.json().title, missing.json().title);
    assert.equal(await balanceOf(alice), '50.00');
  });

  test('money amounts keep their exact scale: BTC to 8 places, JPY with none, ETH past 64 bits', async () => {
    const alice = await signUp(api, { currency: 'BTC' });
    const bob = await signUp(api, { currency: 'BTC' });
    await depositTo(api, operator, alice.walletId, '1.5', 'BTC');
    const sent = await send(alice, { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '0.0001', currency: 'BTC' });
    assert.equal(sent.json().amount, '0.00010000');
    const yen = await signUp(api, { currency: 'JPY' });
    const deposit = await depositTo(api, operator, yen.walletId, '1200', 'JPY');
    assert.equal(deposit.json().amount, '1200');
    const eth = await signUp(api, { currency: 'ETH' });
    const big = await depositTo(api, operator, eth.walletId, '123456789.123456789012345678', 'ETH');
    assert.equal(big.json().amount, '123456789.123456789012345678');
    assert.equal(await balanceOf(eth), '123456789.123456789012345678');
  });
});

describe('bad input is refused with problem+json and changes nothing', () => {
  test('every malformed transfer request gets a 4xx problem', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    await depositTo(api, operator, alice.walletId, '100');
    const valid = { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '1.00', currency: 'USD' };
    const cases: [unknown, number, string, string?][] = [
      [{ ...valid, amount: 1 }, 400, 'validation_failed', '/amount'],
      [{ ...valid, amount: 12.5 }, 400, 'validation_failed', '/amount'],
      [{ ...valid, amount: '12.505' }, 400, 'invalid_amount', '/amount'],
      [{ ...valid, amount: '-1.00' }, 400, 'invalid_amount', '/amount'],
      [{ ...valid, amount: '0' }, 400, 'invalid_amount', '/amount'],
      [{ ...valid, amount: '0.00' }, 400, 'invalid_amount', '/amount'],
      [{ ...valid, amount: '1e3' }, 400, 'invalid_amount', '/amount'],
      [{ ...valid, amount: ' 1' }, 400, 'invalid_amount', '/amount'],
      [{ ...valid, amount: '' }, 400, 'validation_failed', '/amount'],
      [{ ...valid, currency: 'usd' }, 400, 'validation_failed', '/currency'],
      [{ ...valid, currency: 'XYZ' }, 404, 'currency_not_found'],
      [{ ...valid, from_wallet_id: 'not-a-uuid' }, 400, 'validation_failed', '/from_wallet_id'],
      [{ ...valid, from_wallet_id: '../../etc/passwd' }, 400, 'validation_failed', '/from_wallet_id'],
      [{ ...valid, surprise: true }, 400, 'validation_failed', '/surprise'],
      [{ ...valid, to_username: bob.username }, 400, 'validation_failed', '/to_wallet_id'],
      [{ from_wallet_id: alice.walletId, amount: '1', currency: 'USD' }, 400, 'validation_failed', '/to_wallet_id'],
      [[valid], 400, 'validation_failed'],
      ['"just a string"', 400, 'validation_failed'],
    ];
    for (const [payload, status, code, pointer] of cases) {
      const response = await send(alice, payload);
      assert.equal(response.statusCode, status, JSON.stringify(payload));
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
      const body = response.json();
      assert.equal(body.code, code, JSON.stringify(payload));
      if (pointer) assert.ok(body.errors?.some((error: { pointer: string }) => error.pointer === pointer), `${JSON.stringify(body.errors)} points at ${pointer}`);
    }
    const raw = [
      ['{"amount": "1.00",', 'application/json', 'validation_failed'],
      ['amount=1', 'application/x-www-form-urlencoded', 'validation_failed'],
    ];
    for (const [payload, contentType, code] of raw) {
      const response = await api.app.inject({ method: 'POST', url: '/v1/transfers', headers: { ...auth(alice, key()), 'content-type': contentType! }, payload });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().code, code);
    }
    const huge = await api.app.inject({
      method: 'POST',
      url: '/v1/transfers',
      headers: { ...auth(alice, key()), 'content-type': 'application/json' },
      payload: JSON.stringify({ ...valid, description: 'x'.repeat(2 * 1024 * 1024) }),
    });
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json().code, 'payload_too_large');
    assert.equal(await balanceOf(alice), '100.00');
    assert.equal(await balanceOf(bob), '0.00');
  });

  test('a transfer without an Idempotency-Key is refused', async () => {
    const alice = await signUp(api);
    const response = await send(alice, { from_wallet_id: alice.walletId, to_wallet_id: alice.walletId, amount: '1.001', currency: 'USD' }, null);
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().code, 'idempotency_key_required');
    const long = await send(alice, { from_wallet_id: alice.walletId, to_wallet_id: alice.walletId, amount: '1', currency: 'USD' }, 'k'.repeat(256));
    assert.equal(long.json().code, 'validation_failed');
  });
});

describe('idempotency', () => {
  test('a replay returns the first response byte for byte, marked as replayed', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    await depositTo(api, operator, alice.walletId, '100');
    const idempotencyKey = key();
    const payload = { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '30', currency: 'USD', metadata: { b: 1, a: 2 } };
    const first = await send(alice, payload, idempotencyKey);
    const replay = await send(alice, { currency: 'USD', amount: '30', to_wallet_id: bob.walletId, from_wallet_id: alice.walletId, metadata: { a: 2, b: 1 } }, idempotencyKey);
    assert.equal(first.statusCode, 201);
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.body, first.body);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(first.headers['idempotent-replayed'], undefined);
    assert.equal(await balanceOf(alice), '70.00');
  });

  test('a failed first attempt is replayed as the same problem, with its request id', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    const idempotencyKey = key();
    const payload = { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '5', currency: 'USD' };
    const first = await send(alice, payload, idempotencyKey);
    assert.equal(first.json().code, 'insufficient_funds');
    await depositTo(api, operator, alice.walletId, '100');
    const replay = await send(alice, payload, idempotencyKey);
    assert.equal(replay.statusCode, 422);
    assert.equal(replay.body, first.body);
    assert.equal(await balanceOf(alice), '100.00');
  });

  test('the same key with a different body is 422, and keys are scoped per caller', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    await depositTo(api, operator, alice.walletId, '100');
    await depositTo(api, operator, bob.walletId, '100');
    const idempotencyKey = key();
    await send(alice, { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '1', currency: 'USD' }, idempotencyKey);
    const reused = await send(alice, { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '2', currency: 'USD' }, idempotencyKey);
    assert.equal(reused.statusCode, 422);
    assert.equal(reused.json().code, 'idempotency_key_reused');
    const bobsOwn = await send(bob, { from_wallet_id: bob.walletId, to_wallet_id: alice.walletId, amount: '3', currency: 'USD' }, idempotencyKey);
    assert.equal(bobsOwn.statusCode, 201, "another caller's identical key is a different key");
  });

  test('20 concurrent identical requests move the money exactly once', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    await depositTo(api, operator, alice.walletId, '100');
    const idempotencyKey = key();
    const payload = { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '7', currency: 'USD' };
    const responses = await Promise.all(Array.from({ length: 20 }, () => send(alice, payload, idempotencyKey)));
    const statuses = responses.map((response) => response.statusCode);
    assert.ok(statuses.every((status) => status === 201 || status === 409), statuses.join(','));
    assert.ok(statuses.includes(201));
    for (const response of responses.filter((r) => r.statusCode === 409)) assert.equal(response.json().code, 'idempotency_key_in_use');
    const ids = new Set(responses.filter((r) => r.statusCode === 201).map((r) => r.json().id));
    assert.equal(ids.size, 1, 'every success names the same transfer');
    assert.equal(await balanceOf(alice), '93.00');
    assert.equal(await balanceOf(bob), '7.00');
  });
});

describe('deposits and withdrawals', () => {
  test('operators deposit into any wallet; customers may not by default', async () => {
    const alice = await signUp(api);
    const own = await api.app.inject({ method: 'POST', url: '/v1/deposits', headers: auth(alice, key()), payload: { wallet_id: alice.walletId, amount: '5', currency: 'USD' } });
    assert.equal(own.statusCode, 403);
    assert.equal(own.json().code, 'forbidden');
    const deposit = await depositTo(api, operator, alice.walletId, '5');
    assert.equal(deposit.json().kind, 'deposit');
    assert.equal(deposit.json().from_wallet_id, null);
    assert.equal(await balanceOf(alice), '5.00');
  });

  test('owners withdraw from their own wallets only; operators from any', async () => {
    const alice = await signUp(api);
    const mallory = await signUp(api);
    await depositTo(api, operator, alice.walletId, '20');
    const withdraw = (session: Session, amount: string) =>
      api.app.inject({ method: 'POST', url: '/v1/withdrawals', headers: auth(session, key()), payload: { wallet_id: alice.walletId, amount, currency: 'USD', reference: 'bank-42' } });
    const stolen = await withdraw(mallory, '1');
    assert.equal(stolen.json().code, 'wallet_not_found');
    const mine = await withdraw(alice, '15');
    assert.equal(mine.statusCode, 201);
    assert.equal(mine.json().to_wallet_id, null);
    assert.equal(mine.json().reference, 'bank-42');
    const tooMuch = await withdraw(operator, '5.01');
    assert.equal(tooMuch.json().code, 'insufficient_funds');
    assert.equal((await withdraw(operator, '5')).statusCode, 201);
    assert.equal(await balanceOf(alice), '0.00');
  });

  test('ALLOW_SELF_DEPOSIT lets owners deposit into their own wallets only', async () => {
    const selfService = await startApi({ ALLOW_SELF_DEPOSIT: 'true' });
    try {
      const alice = await signUp(selfService);
      const bob = await signUp(selfService);
      const deposit = (walletId: string) =>
        selfService.app.inject({ method: 'POST', url: '/v1/deposits', headers: auth(alice, key()), payload: { wallet_id: walletId, amount: '5', currency: 'USD' } });
      assert.equal((await deposit(alice.walletId)).statusCode, 201);
      assert.equal((await deposit(bob.walletId)).json().code, 'wallet_not_found');
    } finally {
      await selfService.close();
    }
  });
});

describe('batch', () => {
  test('each item gets its own result; failures do not stop the others', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    await depositTo(api, operator, alice.walletId, '10');
    const response = await api.app.inject({
      method: 'POST',
      url: '/v1/transfers/batch',
      headers: auth(operator, key()),
      payload: {
        transfers: [
          { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '6', currency: 'USD' },
          { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '6', currency: 'USD' },
          { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '1.001', currency: 'USD' },
          { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '4', currency: 'USD' },
        ],
      },
    });
    assert.equal(response.statusCode, 200);
    const results = response.json().results;
    assert.deepEqual(results.map((result: { status: number }) => result.status), [201, 422, 400, 201]);
    assert.equal(results[1].error.code, 'insufficient_funds');
    assert.equal(results[2].error.code, 'invalid_amount');
    assert.equal(await balanceOf(alice), '0.00');
  });

  test('an atomic batch posts everything or nothing', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    await depositTo(api, operator, alice.walletId, '10');
    const batch = (transfers: unknown[]) =>
      api.app.inject({ method: 'POST', url: '/v1/transfers/batch', headers: auth(operator, key()), payload: { atomic: true, transfers } });
    const failed = await batch([
      { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '6', currency: 'USD' },
      { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '6', currency: 'USD' },
    ]);
    assert.deepEqual(failed.json().results.map((result: { error: { code: string } }) => result.error.code), ['batch_aborted', 'insufficient_funds']);
    const invalid = await batch([
      { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '1', currency: 'USD' },
      { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '1', currency: 'XYZ' },
    ]);
    assert.deepEqual(invalid.json().results.map((result: { error: { code: string } }) => result.error.code), ['batch_aborted', 'currency_not_found']);
    assert.equal(await balanceOf(alice), '10.00');
    const posted = await batch([
      { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '6', currency: 'USD' },
      { from_wallet_id: bob.walletId, to_wallet_id: alice.walletId, amount: '1', currency: 'USD' },
    ]);
    assert.ok(posted.json().results.every((result: { status: number }) => result.status === 201));
    assert.equal(await balanceOf(alice), '5.00');
  });

  test('batches are for operators, at most 1,000 items, and idempotent as a whole', async () => {
    const alice = await signUp(api);
    const item = { from_wallet_id: alice.walletId, to_wallet_id: operator.walletId, amount: '1', currency: 'USD' };
    const customer = await api.app.inject({ method: 'POST', url: '/v1/transfers/batch', headers: auth(alice, key()), payload: { transfers: [item] } });
    assert.equal(customer.statusCode, 403);
    const tooMany = await api.app.inject({ method: 'POST', url: '/v1/transfers/batch', headers: auth(operator, key()), payload: { transfers: Array(1_001).fill(item) } });
    assert.equal(tooMany.statusCode, 400);
    await depositTo(api, operator, alice.walletId, '3');
    const idempotencyKey = key();
    const first = await api.app.inject({ method: 'POST', url: '/v1/transfers/batch', headers: auth(operator, idempotencyKey), payload: { transfers: [item, item] } });
    const replay = await api.app.inject({ method: 'POST', url: '/v1/transfers/batch', headers: auth(operator, idempotencyKey), payload: { transfers: [item, item] } });
    assert.equal(replay.body, first.body);
    assert.equal(await balanceOf(alice), '1.00');
  });
});

test('after all of the above the ledger still proves itself', async () => {
  const verification = await verifyLedger(api.db.pool);
  assert.deepEqual(verification.mismatches, []);
});
