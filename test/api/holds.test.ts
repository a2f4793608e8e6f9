import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, depositTo, key, signUp, startApi, type Session, type TestApi } from '../helpers/api.ts';
import { expireDueHolds } from '../../src/services/holdExpiry.ts';
import { postTransfers } from '../../src/store/transfers.ts';
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

async function wallet(session: Session) {
  return (await api.app.inject({ url: `/v1/wallets/${session.walletId}`, headers: auth(session) })).json();
}

async function hold(from: Session, to: Session, amount: string, extra: Record<string, unknown> = {}) {
  return api.app.inject({
    method: 'POST',
    url: '/v1/transfers',
    headers: auth(from, key()),
    payload: { from_wallet_id: from.walletId, to_wallet_id: to.walletId, amount, currency: 'USD', hold: true, ...extra },
  });
}

function resolve(session: Session, id: string, action: 'capture' | 'void', body?: object, idempotencyKey = key()) {
  return api.app.inject({ method: 'POST', url: `/v1/transfers/${id}/${action}`, headers: auth(session, idempotencyKey), payload: body });
}

async function pair(funds = '100'): Promise<[Session, Session]> {
  const payer = await signUp(api);
  const payee = await signUp(api);
  await depositTo(api, operator, payer.walletId, funds);
  return [payer, payee];
}

describe('holds', () => {
  test('a hold reserves at once: available drops, balances and history do not move', async () => {
    const [payer, payee] = await pair();
    const response = await hold(payer, payee, '30');
    assert.equal(response.statusCode, 201);
    const held = response.json();
    assert.equal(held.status, 'pending');
    assert.equal(held.captured_amount, '0.00');
    assert.ok(held.expires_at, 'every hold has a deadline');
    assert.deepEqual(
      (({ balance, available, pending_out }) => ({ balance, available, pending_out }))(await wallet(payer)),
      { balance: '100.00', available: '70.00', pending_out: '30.00' },
    );
    assert.equal((await wallet(payee)).pending_in, '30.00');
    const entries = await api.app.inject({ url: `/v1/wallets/${payer.walletId}/entries`, headers: auth(payer) });
    assert.equal(entries.json().data.length, 1, 'only the deposit: a hold is not a posting');
    const overdraw = await hold(payer, payee, '70.01');
    assert.equal(overdraw.json().code, 'insufficient_funds', 'held money is not available twice');
  });

  test('a full capture posts the transfer', async () => {
    const [payer, payee] = await pair();
    const held = (await hold(payer, payee, '30')).json();
    const captured = await resolve(payer, held.id, 'capture');
    assert.equal(captured.statusCode, 200);
    assert.equal(captured.json().status, 'posted');
    assert.equal(captured.json().captured_amount, '30.00');
    assert.deepEqual([(await wallet(payer)).balance, (await wallet(payer)).pending_out], ['70.00', '0.00']);
    assert.deepEqual([(await wallet(payee)).balance, (await wallet(payee)).pending_in], ['30.00', '0.00']);
    const entries = await api.app.inject({ url: `/v1/wallets/${payee.walletId}/entries`, headers: auth(payee) });
    assert.deepEqual(entries.json().data.map((entry: { amount: string; transfer_id: string }) => [entry.amount, entry.transfer_id]), [['30.00', held.id]]);
  });

  test('a partial capture posts part and releases the rest', async () => {
    const [payer, payee] = await pair();
    const held = (await hold(payer, payee, '30')).json();
    const captured = await resolve(operator, held.id, 'capture', { amount: '12.5' });
    assert.equal(captured.json().captured_amount, '12.50');
    assert.equal(captured.json().amount, '30.00');
    const payerWallet = await wallet(payer);
    assert.deepEqual([payerWallet.balance, payerWallet.available, payerWallet.pending_out], ['87.50', '87.50', '0.00']);
    assert.equal((await wallet(payee)).balance, '12.50');
  });

  test('void releases the hold; a resolved hold cannot be resolved again', async () => {
    const [payer, payee] = await pair();
    const held = (await hold(payer, payee, '30')).json();
    const voided = await resolve(payer, held.id, 'void');
    assert.equal(voided.json().status, 'voided');
    assert.equal((await wallet(payer)).available, '100.00');
    for (const action of ['capture', 'void'] as const) {
      const again = await resolve(payer, held.id, action);
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().code, 'transfer_not_pending');
    }
  });

  test('a capture above the hold is refused; a replayed capture answers the same', async () => {
    const [payer, payee] = await pair();
    const held = (await hold(payer, payee, '30')).json();
    const tooMuch = await resolve(payer, held.id, 'capture', { amount: '30.01' });
    assert.equal(tooMuch.json().code, 'amount_exceeds_hold');
    const idempotencyKey = key();
    const first = await resolve(payer, held.id, 'capture', { amount: '10' }, idempotencyKey);
    const replay = await resolve(payer, held.id, 'capture', { amount: '10' }, idempotencyKey);
    assert.equal(replay.body, first.body);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal((await wallet(payee)).balance, '10.00');
  });

  test('only the source owner or an operator resolves a hold; to anyone else it does not exist', async () => {
    const [payer, payee] = await pair();
    const stranger = await signUp(api);
    const held = (await hold(payer, payee, '30')).json();
    for (const session of [payee, stranger]) {
      const response = await resolve(session, held.id, 'capture');
      assert.equal(response.statusCode, 404);
      assert.equal(response.json().code, 'transfer_not_found');
    }
    assert.equal((await wallet(payer)).pending_out, '30.00');
  });

  test('an expired hold cannot be captured and is voided from its row', async () => {
    const [payer, payee] = await pair();
    const held = (await hold(payer, payee, '30', { hold_expires_in: 1 })).json();
    await new Promise((resolveTimer) => setTimeout(resolveTimer, 1_200));
    const late = await resolve(payer, held.id, 'capture');
    assert.equal(late.json().code, 'hold_expired');
    // The sweeper finds due holds in the database, so it works the same after any restart.
    const write = (request: Parameters<typeof postTransfers>[1][number]) => postTransfers(api.db.pool, [request]).then((outcomes) => outcomes[0]!);
    assert.ok((await expireDueHolds(api.db.pool, write)) >= 1);
    const read = await api.app.inject({ url: `/v1/transfers/${held.id}`, headers: auth(payer) });
    assert.equal(read.json().status, 'voided');
    assert.equal((await wallet(payer)).available, '100.00');
    assert.equal(await expireDueHolds(api.db.pool, write), 0, 'nothing left to expire');
  });

  test('hold_expires_in needs hold: true', async () => {
    const [payer, payee] = await pair();
    const response = await api.app.inject({
      method: 'POST',
      url: '/v1/transfers',
      headers: auth(payer, key()),
      payload: { from_wallet_id: payer.walletId, to_wallet_id: payee.walletId, amount: '1', currency: 'USD', hold_expires_in: 60 },
    });
    assert.equal(response.json().code, 'validation_failed');
  });

  test('20 concurrent captures and voids of one hold: exactly one wins', async () => {
    const [payer, payee] = await pair();
    const held = (await hold(payer, payee, '30')).json();
    const responses = await Promise.all(Array.from({ length: 20 }, (_, index) => resolve(index % 2 ? payer : operator, held.id, index % 3 ? 'capture' : 'void')));
    const winners = responses.filter((response) => response.statusCode === 200);
    assert.equal(winners.length, 1, responses.map((response) => response.statusCode).join(','));
    assert.ok(responses.every((response) => response.statusCode === 200 || response.json().code === 'transfer_not_pending'));
    const payerWallet = await wallet(payer);
    assert.equal(payerWallet.pending_out, '0.00');
    assert.equal(payerWallet.balance, winners[0]!.json().status === 'posted' ? '70.00' : '100.00');
    assert.deepEqual((await verifyLedger(api.db.pool)).mismatches, []);
  });
});

test('verification proves pending amounts equal the open holds, and names the account when not', async () => {
  const [payer, payee] = await pair();
  await hold(payer, payee, '5');
  assert.deepEqual((await verifyLedger(api.db.pool)).mismatches, []);
  await api.db.pool.query('update accounts set pending_out = pending_out + 1 where id = $1', [payer.walletId]);
  const verification = await verifyLedger(api.db.pool);
  assert.equal(verification.ok, false);
  assert.ok(verification.mismatches.some((mismatch) => mismatch.kind === 'pending_not_open_holds' && mismatch.account_id === payer.walletId));
  await api.db.pool.query('update accounts set pending_out = pending_out - 1 where id = $1', [payer.walletId]);
});
