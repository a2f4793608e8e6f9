import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, depositTo, key, payment, signUp, startApi, type Session, type TestApi } from '../helpers/api.ts';
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

async function balance(session: Session): Promise<string> {
  return (await api.app.inject({ url: `/v1/wallets/${session.walletId}`, headers: auth(session) })).json().balance;
}

function reverse(id: string, body: Record<string, unknown>, session = operator) {
  return api.app.inject({ method: 'POST', url: `/v1/transfers/${id}/reverse`, headers: auth(session, key()), payload: { reason: 'refund', ...body } });
}

test('a full reversal is a new transfer the other way, linked to the original; history is not edited', async () => {
  const { payer, payee, transfer } = await payment(api, operator, '40');
  const response = await reverse(transfer.id, {});
  assert.equal(response.statusCode, 201);
  const reversal = response.json();
  assert.equal(reversal.kind, 'reversal');
  assert.equal(reversal.reverses_transfer_id, transfer.id);
  assert.deepEqual([reversal.from_wallet_id, reversal.to_wallet_id, reversal.amount, reversal.description], [payee.walletId, payer.walletId, '40.00', 'refund']);
  assert.deepEqual([await balance(payer), await balance(payee)], ['100.00', '0.00']);
  const original = await api.app.inject({ url: `/v1/transfers/${transfer.id}`, headers: auth(payer) });
  assert.equal(original.json().status, 'posted', 'the original stays as it was');
  const entries = await api.app.inject({ url: `/v1/wallets/${payer.walletId}/entries`, headers: auth(payer) });
  assert.deepEqual(entries.json().data.map((entry: { amount: string }) => entry.amount), ['40.00', '-40.00', '100.00']);
});

test('partial reversals add up to the original and never past it', async () => {
  const { payer, transfer } = await payment(api, operator, '100');
  assert.equal((await reverse(transfer.id, { amount: '30' })).statusCode, 201);
  const tooMuch = await reverse(transfer.id, { amount: '70.01' });
  assert.equal(tooMuch.statusCode, 422);
  assert.equal(tooMuch.json().code, 'limit_exceeded');
  assert.equal((await reverse(transfer.id, {})).json().amount, '70.00', 'without an amount: all that is left');
  assert.equal((await reverse(transfer.id, { amount: '0.01' })).json().code, 'limit_exceeded');
  assert.equal(await balance(payer), '100.00');
  await assert.rejects(
    api.db.pool.query('update transfers set reversed_amount = captured_amount + 1 where id = $1', [transfer.id]),
    /check constraint/,
    'the database itself refuses reversing more than was posted',
  );
});

test('10 concurrent full reversals of one transfer: exactly one posts', async () => {
  const { payer, transfer } = await payment(api, operator, '25');
  const responses = await Promise.all(Array.from({ length: 10 }, () => reverse(transfer.id, {})));
  assert.equal(responses.filter((response) => response.statusCode === 201).length, 1);
  assert.ok(responses.every((response) => response.statusCode === 201 || response.json().code === 'limit_exceeded'));
  assert.equal(await balance(payer), '100.00');
});

test('the reversed side must hold the money; deposits reverse back to the system account', async () => {
  const { payee, transfer } = await payment(api, operator, '40');
  const third = await signUp(api);
  await api.app.inject({ method: 'POST', url: '/v1/transfers', headers: auth(payee, key()), payload: { from_wallet_id: payee.walletId, to_wallet_id: third.walletId, amount: '35', currency: 'USD' } });
  assert.equal((await reverse(transfer.id, {})).json().code, 'insufficient_funds');
  const customer = await signUp(api);
  const deposit = (await depositTo(api, operator, customer.walletId, '10')).json();
  const reversal = (await reverse(deposit.id, { amount: '4' })).json();
  assert.deepEqual([reversal.from_wallet_id, reversal.to_wallet_id], [customer.walletId, null]);
  assert.equal(await balance(customer), '6.00');
});

test('only posted transfers reverse; reversals themselves do not; customers cannot reverse', async () => {
  const { payer, payee, transfer } = await payment(api, operator, '10');
  const hold = await api.app.inject({
    method: 'POST',
    url: '/v1/transfers',
    headers: auth(payer, key()),
    payload: { from_wallet_id: payer.walletId, to_wallet_id: payee.walletId, amount: '5', currency: 'USD', hold: true },
  });
  assert.equal((await reverse(hold.json().id, {})).json().code, 'transfer_not_posted');
  const reversal = (await reverse(transfer.id, { amount: '1' })).json();
  assert.equal((await reverse(reversal.id, {})).json().code, 'transfer_not_found');
  assert.equal((await reverse(transfer.id, {}, payer)).statusCode, 403);
  assert.equal((await reverse('00000000-0000-4000-8000-000000000000', {})).json().code, 'transfer_not_found');
  assert.deepEqual((await verifyLedger(api.db.pool)).mismatches, []);
});
